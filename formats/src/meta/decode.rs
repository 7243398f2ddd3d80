//! [`MetaReader`]: turns a packet's options back into a [`PacketMeta`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::comment::parse_comments;
use super::record::{split_pen, Definition, Entity, MetaRecord};
use super::{ContainerInfo, PacketMeta, PodInfo, ProcessInfo};
use crate::pcapng::{code, RawOptions};

/// Entity tables keyed by (scope, id). Our writer numbers a file's entities 1, 2, 3, ... in one
/// scope, so the first scope seen gets a plain vector indexed by id (a lookup per packet costs
/// an index, not a hash); other scopes (merged files) and absurd ids go to a hash map with a
/// multiply-shift hash (an adversarial file can only slow its own reading).
#[derive(Debug, Clone)]
struct IdMap<V> {
    dense_scope: Option<u32>,
    dense: Vec<Option<V>>,
    other: HashMap<(u32, u32), V, BuildHasherDefault<IdHasher>>,
}

/// Ids below this go to the vector (entities of one file: processes, containers, pods).
const DENSE_IDS: u32 = 1 << 16;

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap {
            dense_scope: None,
            dense: Vec::new(),
            other: HashMap::default(),
        }
    }
}

impl<T: Clone> IdMap<Arc<T>> {
    /// A copy whose values are new allocations (see [`MetaReader::fork`]).
    fn deep_clone(&self) -> Self {
        let fresh = |v: &Arc<T>| Arc::new((**v).clone());
        IdMap {
            dense_scope: self.dense_scope,
            dense: self.dense.iter().map(|v| v.as_ref().map(fresh)).collect(),
            other: self.other.iter().map(|(k, v)| (*k, fresh(v))).collect(),
        }
    }
}

impl<V> IdMap<V> {
    fn values(&self) -> impl Iterator<Item = &V> {
        self.dense.iter().flatten().chain(self.other.values())
    }

    fn get(&self, key: &(u32, u32)) -> Option<&V> {
        let (scope, id) = *key;
        if self.dense_scope == Some(scope) && id < DENSE_IDS {
            return self.dense.get(id as usize).and_then(Option::as_ref);
        }
        self.other.get(key)
    }

    fn insert(&mut self, key: (u32, u32), value: V) {
        let (scope, id) = key;
        if self.dense_scope.is_none() {
            self.dense_scope = Some(scope);
        }
        if self.dense_scope == Some(scope) && id < DENSE_IDS {
            // Grows only as far as the ids a file really defines (each definition is an option).
            let i = id as usize;
            if self.dense.len() <= i {
                self.dense.resize_with(i + 1, || None);
            }
            self.dense[i] = Some(value);
        } else {
            self.other.insert(key, value);
        }
    }
}

#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Counters of what [`MetaReader`] met, for a reader's summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaStats {
    /// Definitions learned (a repeated identical definition counts once per occurrence).
    pub definitions: u64,
    /// Malformed definitions, reference records or JSON values in comments.
    pub malformed: u64,
    /// References to an id no definition seen so far defines (left empty).
    pub unresolved: u64,
    /// Packets whose metadata came from the structured record.
    pub from_record: u64,
    /// Packets whose metadata came from ptcpdump-layout comments.
    pub from_comments: u64,
}

/// Keeps the entity definitions seen so far in a file and decodes packets' metadata:
/// the structured record when present (ours), else ptcpdump-layout comments, else nothing.
///
/// A parallel reader first calls [`MetaReader::learn_definitions`] on every packet of earlier
/// chunks (or on all packets), then [`MetaReader::decode`] in any order.
///
/// ```
/// use formats::meta::MetaReader;
/// use formats::pcapng::RawOptions;
/// let mut reader = MetaReader::new();
/// let meta = reader.decode(&RawOptions::default());
/// assert!(meta.is_empty());
/// ```
#[derive(Debug, Default, Clone)]
pub struct MetaReader {
    processes: IdMap<Arc<ProcessInfo>>,
    containers: IdMap<Arc<ContainerInfo>>,
    pods: IdMap<Arc<PodInfo>>,
    stats: MetaStats,
}

impl MetaReader {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stats(&self) -> MetaStats {
        self.stats
    }

    /// A copy for another thread: the same definitions in new allocations, so packets decoded
    /// by the copy share no reference counts with packets decoded by this reader (two threads
    /// counting references to the same `Arc`s fight over its cache line on every packet).
    pub fn fork(&self) -> MetaReader {
        MetaReader {
            processes: self.processes.deep_clone(),
            containers: self.containers.deep_clone(),
            pods: self.pods.deep_clone(),
            stats: self.stats,
        }
    }

    /// The containers defined so far (in the structured copy; comment-only files define none).
    pub fn containers(&self) -> impl Iterator<Item = &ContainerInfo> {
        self.containers.values().map(|c| &**c)
    }

    /// Records the definitions (2988 options with our PEN) among `options`.
    pub fn learn_definitions(&mut self, options: &RawOptions<'_>) {
        for (c, value) in options.iter() {
            if c == code::OPT_CUSTOM_UTF8 {
                self.learn_definition(value);
            }
        }
    }

    /// Learns one 2988 option's definition, if it is ours.
    fn learn_definition(&mut self, value: &[u8]) {
        let Some((true, data)) = split_pen(value) else {
            return;
        };
        let Some(def) = Definition::from_json(data) else {
            self.stats.malformed += 1;
            return;
        };
        self.stats.definitions += 1;
        let key = (def.scope, def.id);
        match def.entity {
            Entity::Process(p) => self.insert_process(key, p),
            Entity::Container(c) => {
                if self.containers.get(&key).map(|x| **x != c).unwrap_or(true) {
                    self.containers.insert(key, Arc::new(c));
                }
            }
            Entity::Pod(p) => {
                if self.pods.get(&key).map(|x| **x != p).unwrap_or(true) {
                    self.pods.insert(key, Arc::new(p));
                }
            }
        }
    }

    fn insert_process(&mut self, key: (u32, u32), p: ProcessInfo) {
        if self.processes.get(&key).map(|x| **x != p).unwrap_or(true) {
            self.processes.insert(key, Arc::new(p));
        }
    }

    /// The packet's metadata. Learns the packet's own definitions first.
    pub fn decode(&mut self, options: &RawOptions<'_>) -> PacketMeta {
        let mut record = None;
        let mut has_comment = false;
        // One pass: a packet's definitions precede its record in the writer's order, and
        // resolution happens after the loop anyway.
        for (c, value) in options.iter() {
            match c {
                code::OPT_CUSTOM_UTF8 => self.learn_definition(value),
                code::OPT_CUSTOM_BINARY => {
                    if let Some((true, data)) = split_pen(value) {
                        record = Some(data);
                    }
                }
                code::OPT_COMMENT => has_comment = true,
                _ => {}
            }
        }
        if let Some(data) = record {
            let Some(r) = MetaRecord::decode(data) else {
                self.stats.malformed += 1;
                return PacketMeta::default();
            };
            self.stats.from_record += 1;
            return self.resolve(&r);
        }
        if has_comment {
            let comments = options
                .iter()
                .filter(|(c, _)| *c == code::OPT_COMMENT)
                .filter_map(|(_, v)| std::str::from_utf8(v).ok());
            if let Some((meta, bad_json)) = parse_comments(comments) {
                self.stats.from_comments += 1;
                if bad_json {
                    self.stats.malformed += 1;
                }
                return meta;
            }
        }
        PacketMeta::default()
    }

    fn lookup<T>(map: &IdMap<Arc<T>>, scope: u32, id: u32, unresolved: &mut u64) -> Option<Arc<T>> {
        if id == 0 {
            return None;
        }
        let found = map.get(&(scope, id)).cloned();
        if found.is_none() {
            *unresolved += 1;
        }
        found
    }

    fn resolve(&mut self, r: &MetaRecord) -> PacketMeta {
        let u = &mut self.stats.unresolved;
        PacketMeta {
            process: Self::lookup(&self.processes, r.scope, r.process, u),
            parent: Self::lookup(&self.processes, r.scope, r.parent, u),
            container: Self::lookup(&self.containers, r.scope, r.container, u),
            pod: Self::lookup(&self.pods, r.scope, r.pod, u),
            tid: (r.tid != 0).then_some(r.tid),
            provenance: r.provenance,
            role: r.role,
        }
    }
}

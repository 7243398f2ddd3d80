//! [`MetaReader`]: turns a packet's options back into a [`PacketMeta`].

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use super::comment::parse_comments;
use super::record::{split_pen, Definition, Entity, MetaRecord};
use super::{ContainerInfo, NatInfo, PacketMeta, Peer, PodInfo, ProcessInfo, ThreadInfo};
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
    fn is_empty(&self) -> bool {
        self.dense_scope.is_none() && self.other.is_empty()
    }

    /// Every entry with its key, mutably.
    fn for_each_mut(&mut self, mut f: impl FnMut((u32, u32), &mut V)) {
        if let Some(scope) = self.dense_scope {
            for (id, v) in self.dense.iter_mut().enumerate() {
                if let Some(v) = v {
                    f((scope, id as u32), v);
                }
            }
        }
        for (k, v) in &mut self.other {
            f(*k, v);
        }
    }

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
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.write_u64(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59));
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

/// Comment sets already parsed, and the entities they named, so that each distinct set is
/// parsed once (a process writes the same comments on thousands of packets) and every packet
/// of one owner gets the same `Arc`s. Keyed by the comments' exact bytes: two sets that differ
/// in any byte are parsed apart. Bounded: past [`COMMENT_SETS_MAX`] sets everything is
/// forgotten at once and rebuilt from the next packets. Only an optimisation: a reader that
/// forgets gives the same metadata (equal values, other allocations).
#[derive(Default)]
struct CommentCache {
    /// The current packet's comments, each as `u32 length | bytes`: the lookup key.
    scratch: Vec<u8>,
    sets: HashMap<Box<[u8]>, Option<Decoded>, BuildHasherDefault<IdHasher>>,
    processes: HashSet<Arc<ProcessInfo>>,
    containers: HashSet<Arc<ContainerInfo>>,
    pods: HashSet<Arc<PodInfo>>,
    threads: HashSet<Arc<ThreadInfo>>,
}

/// A comment set's metadata and whether some JSON value in it did not parse.
type Decoded = (PacketMeta, bool);

/// Distinct comment sets remembered per reader.
const COMMENT_SETS_MAX: usize = 8192;

/// One shared allocation per distinct value.
fn intern<T: Eq + Hash>(set: &mut HashSet<Arc<T>>, v: Option<Arc<T>>) -> Option<Arc<T>> {
    let v = v?;
    if let Some(known) = set.get(&v) {
        return Some(known.clone());
    }
    set.insert(v.clone());
    Some(v)
}

impl CommentCache {
    /// The metadata the packet's comments give, parsed once per distinct set. `None` when
    /// no comment holds a key of ptcpdump's layout.
    fn decode(&mut self, options: &RawOptions<'_>) -> Option<Decoded> {
        let comments = || {
            options
                .iter()
                .filter(|(c, _)| *c == code::OPT_COMMENT)
                .map(|(_, v)| v)
        };
        self.scratch.clear();
        for c in comments() {
            self.scratch
                .extend_from_slice(&(c.len() as u32).to_le_bytes());
            self.scratch.extend_from_slice(c);
        }
        if let Some(known) = self.sets.get(&self.scratch[..]) {
            return known.clone();
        }
        if self.sets.len() >= COMMENT_SETS_MAX {
            *self = CommentCache {
                scratch: std::mem::take(&mut self.scratch),
                ..CommentCache::default()
            };
        }
        let parsed = parse_comments(comments().filter_map(|v| std::str::from_utf8(v).ok()));
        // A set without our keys is remembered too: foreign comments cost one lookup.
        let found = parsed.map(|(m, bad)| {
            let meta = PacketMeta {
                process: intern(&mut self.processes, m.process),
                parent: intern(&mut self.processes, m.parent),
                container: intern(&mut self.containers, m.container),
                pod: intern(&mut self.pods, m.pod),
                thread: intern(&mut self.threads, m.thread),
                ..m
            };
            (meta, bad)
        });
        let key: Box<[u8]> = self.scratch[..].into();
        self.sets.insert(key, found.clone());
        found
    }
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
#[derive(Debug, Default)]
pub struct MetaReader {
    processes: IdMap<Arc<ProcessInfo>>,
    containers: IdMap<Arc<ContainerInfo>>,
    pods: IdMap<Arc<PodInfo>>,
    threads: IdMap<Arc<ThreadInfo>>,
    nats: IdMap<Arc<NatInfo>>,
    /// Threads known by id only (records without a thread definition), one `Arc` each.
    bare_threads: HashMap<u32, Arc<ThreadInfo>, BuildHasherDefault<IdHasher>>,
    comments: CommentCache,
    /// Late resolutions: the fullest definition of each container (by container id) and the
    /// pods by (name, namespace), from the whole input (see [`MetaReader::late_resolutions`]).
    late: Arc<LateResolutions>,
    /// The pods of containers a late resolution replaced, by the id-only container's key:
    /// for packets that name the container and no pod.
    late_pods: IdMap<Arc<PodInfo>>,
    stats: MetaStats,
}

/// What the whole input says of containers that some packets knew by id only.
///
/// ptcap writes a packet of a container's process as soon as it sees it; when the runtime had
/// not reported the container yet, the packet carries the container's id alone (from the
/// process's cgroup), and the name, image, labels and pod come in later definitions. Readers
/// that see the whole input first (ptanalyze's first pass) give such packets the fuller
/// definition of the same container id, so `--container-name` finds a container's first
/// packets too. Only id-only definitions are replaced: a container that changed later
/// (relabelled) keeps the definition each packet was written with.
#[derive(Debug, Default)]
pub struct LateResolutions {
    containers: HashMap<String, Arc<ContainerInfo>>,
    pods: HashMap<(String, String), Arc<PodInfo>>,
}

impl LateResolutions {
    fn learn_container(&mut self, c: &Arc<ContainerInfo>) {
        if !c.id.is_empty() && !is_id_only(c) {
            self.containers.insert(c.id.clone(), Arc::clone(c));
        }
    }

    fn learn_pod(&mut self, p: &Arc<PodInfo>) {
        self.pods
            .insert((p.name.clone(), p.namespace.clone()), Arc::clone(p));
    }

    /// The fuller definition of an id-only container, and the pod its labels name.
    fn resolve(&self, c: &ContainerInfo) -> Option<(Arc<ContainerInfo>, Option<Arc<PodInfo>>)> {
        if self.containers.is_empty() || !is_id_only(c) {
            return None;
        }
        let full = self.containers.get(&c.id)?;
        Some((Arc::clone(full), self.pod_of(full)))
    }

    /// The pod a container's kubelet labels name, if the input defines it.
    fn pod_of(&self, c: &ContainerInfo) -> Option<Arc<PodInfo>> {
        let name = c.labels.get("io.kubernetes.pod.name")?;
        let ns = c.labels.get("io.kubernetes.pod.namespace")?;
        self.pods.get(&(name.clone(), ns.clone())).cloned()
    }

    /// Adds what `other` (a later input of the same capture) says; it wins where both do.
    pub fn merge(&mut self, other: &LateResolutions) {
        for (k, v) in &other.containers {
            self.containers.insert(k.clone(), Arc::clone(v));
        }
        for (k, v) in &other.pods {
            self.pods.insert(k.clone(), Arc::clone(v));
        }
    }

    fn deep_clone(&self) -> LateResolutions {
        LateResolutions {
            containers: self
                .containers
                .iter()
                .map(|(k, v)| (k.clone(), Arc::new((**v).clone())))
                .collect(),
            pods: self
                .pods
                .iter()
                .map(|(k, v)| (k.clone(), Arc::new((**v).clone())))
                .collect(),
        }
    }
}

/// A container known by its id alone (the runtime had not reported it when it was written).
fn is_id_only(c: &ContainerInfo) -> bool {
    c.name.is_empty() && c.image.is_empty() && c.labels.is_empty()
}

impl Clone for MetaReader {
    /// The same definitions (sharing their `Arc`s) and counters; caches start empty.
    fn clone(&self) -> Self {
        MetaReader {
            processes: self.processes.clone(),
            containers: self.containers.clone(),
            pods: self.pods.clone(),
            threads: self.threads.clone(),
            nats: self.nats.clone(),
            bare_threads: HashMap::default(),
            comments: CommentCache::default(),
            late: Arc::clone(&self.late),
            late_pods: self.late_pods.clone(),
            stats: self.stats,
        }
    }
}

impl std::fmt::Debug for CommentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CommentCache({} sets)", self.sets.len())
    }
}

/// Bound on threads known by id only.
const BARE_THREADS_MAX: usize = 4096;

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
            threads: self.threads.deep_clone(),
            nats: self.nats.deep_clone(),
            bare_threads: HashMap::default(),
            comments: CommentCache::default(),
            late: Arc::new(self.late.deep_clone()),
            late_pods: self.late_pods.deep_clone(),
            stats: self.stats,
        }
    }

    /// What every definition learnt so far says of containers and pods, to resolve packets
    /// that knew a container by id only (see [`LateResolutions`]). A parallel reader takes it
    /// from the reader that learnt the whole input and gives it to each chunk's reader with
    /// [`MetaReader::set_late_resolutions`].
    pub fn late_resolutions(&self) -> Arc<LateResolutions> {
        let mut late = LateResolutions::default();
        for c in self.containers.values() {
            late.learn_container(c);
        }
        for p in self.pods.values() {
            late.learn_pod(p);
        }
        Arc::new(late)
    }

    /// Resolution happens here, in the tables, not per packet: every id-only container
    /// defined so far (and later, as definitions are learnt) is replaced by the fuller one.
    pub fn set_late_resolutions(&mut self, late: Arc<LateResolutions>) {
        self.late = late;
        let mut pods = Vec::new();
        let late = &self.late;
        self.containers.for_each_mut(|key, c| {
            if let Some((full, pod)) = late.resolve(c) {
                *c = full;
                pods.extend(pod.map(|p| (key, p)));
            }
        });
        for (key, pod) in pods {
            self.late_pods.insert(key, pod);
        }
    }

    /// Whether some container of the tables is known by id only (no fuller definition, late
    /// resolutions included, replaced it): a streaming reader then needs the whole input's.
    pub fn has_id_only_containers(&self) -> bool {
        self.containers.values().any(|c| is_id_only(c))
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
                    let c = Arc::new(c);
                    match self.late.resolve(&c) {
                        Some((full, pod)) => {
                            if let Some(pod) = pod {
                                self.late_pods.insert(key, pod);
                            }
                            self.containers.insert(key, full);
                        }
                        None => self.containers.insert(key, c),
                    }
                }
            }
            Entity::Pod(p) => {
                if self.pods.get(&key).map(|x| **x != p).unwrap_or(true) {
                    self.pods.insert(key, Arc::new(p));
                }
            }
            Entity::Thread(t) => {
                if self.threads.get(&key).map(|x| **x != t).unwrap_or(true) {
                    self.threads.insert(key, Arc::new(t));
                }
            }
            Entity::Nat(n) => {
                if self.nats.get(&key).map(|x| **x != n).unwrap_or(true) {
                    self.nats.insert(key, Arc::new(n));
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
            if let Some((meta, bad_json)) = self.comments.decode(options) {
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
        let mut thread = Self::lookup(&self.threads, r.scope, r.thread, u);
        if thread.is_none() && r.tid != 0 {
            if self.bare_threads.len() >= BARE_THREADS_MAX {
                self.bare_threads.clear();
            }
            let t = self.bare_threads.entry(r.tid).or_insert_with(|| {
                Arc::new(ThreadInfo {
                    tid: r.tid,
                    name: String::new(),
                })
            });
            thread = Some(t.clone());
        }
        // A packet naming a late-resolved container and no pod gets the container's pod.
        let late_pods = &self.late_pods;
        let pod_of = |pod: Option<Arc<PodInfo>>, pod_id: u32, container_id: u32| {
            if pod_id == 0 && container_id != 0 && !late_pods.is_empty() {
                late_pods.get(&(r.scope, container_id)).cloned()
            } else {
                pod
            }
        };
        let pod = pod_of(
            Self::lookup(&self.pods, r.scope, r.pod, u),
            r.pod,
            r.container,
        );
        // Most packets have no local peer: skip its four lookups.
        let peer = if r.peer == [0; 4] {
            Peer::default()
        } else {
            Peer {
                process: Self::lookup(&self.processes, r.scope, r.peer[0], u),
                parent: Self::lookup(&self.processes, r.scope, r.peer[1], u),
                container: Self::lookup(&self.containers, r.scope, r.peer[2], u),
                pod: pod_of(
                    Self::lookup(&self.pods, r.scope, r.peer[3], u),
                    r.peer[3],
                    r.peer[2],
                ),
            }
        };
        PacketMeta {
            process: Self::lookup(&self.processes, r.scope, r.process, u),
            parent: Self::lookup(&self.processes, r.scope, r.parent, u),
            container: Self::lookup(&self.containers, r.scope, r.container, u),
            pod,
            thread,
            provenance: r.provenance,
            role: r.role,
            peer,
            drop: r.drop.clone(),
            nat: Self::lookup(&self.nats, r.scope, r.nat, u),
            nat_reply: r.nat_reply,
        }
    }
}

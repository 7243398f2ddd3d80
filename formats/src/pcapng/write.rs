//! The pcapng writer ptcap and ptanalyze share: one section, interfaces with nanosecond
//! timestamps, Enhanced Packet Blocks carrying direction and process/container metadata, and
//! Interface Statistics Blocks.
//!
//! Why blocks are encoded here and not with pcap-file's `PcapNgWriter` (pcap-file stays the
//! independent oracle of the tests): its blocks own a `Vec` of options per packet (an allocation
//! and a copy of every comment per packet), it encodes each block twice (a counting pass, then
//! the real one) in many small writes, and it cannot reuse buffers. Here each block is built in
//! one reused buffer and handed to the inner writer in a single `write_all`, after every option
//! was checked, so a block is either complete and valid or (after an I/O error) the last thing
//! in the file; [`crate::pcapng::CaptureReader`] returns every packet before such a cut.
//!
//! Metadata rides in two carriers (see [`crate::meta::comment`] and [`crate::meta::record`]):
//! ptcpdump-layout comments per [`CommentMode`], and the structured copy (definitions once per
//! file, a small reference record per packet). Pass a buffered writer (`BufWriter<File>`).
//!
//! ```
//! use formats::meta::PacketMeta;
//! use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
//! use formats::pcapng::{linktype, CaptureReader, Direction};
//! let cfg = WriterConfig::new("ptcap", "0.1.0");
//! let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
//! let eth0 = w
//!     .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
//!     .unwrap();
//! w.write_packet(eth0, 1_700_000_000_000_000_001, 60, &[0; 60], Some(Direction::Out), &PacketMeta::default())
//!     .unwrap();
//! let file = w.finish().unwrap();
//! let mut r = CaptureReader::new(&file).unwrap();
//! assert_eq!(r.next_packet().unwrap().unwrap().ts_ns, 1_700_000_000_000_000_001);
//! ```

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::io::{self, Write};
use std::sync::Arc;

use super::{code, Direction, InterfaceStats, PTCAP_PEN};
use crate::meta::comment::{
    container_comment, drop_comment, nat_comment, parent_comment, pod_comment, process_comment,
    short_comment, thread_comment, user_comment,
};
use crate::meta::record::{Definition, Entity, MetaRecord, RECORD_VERSION};
use crate::meta::{
    CommentMode, ContainerInfo, NatInfo, PacketMeta, PodInfo, ProcessInfo, Provenance, Role,
    ThreadInfo,
};
use crate::table::{EarlyGrowth, IdMap};

/// Largest option value pcapng can frame.
pub const MAX_OPTION_LEN: usize = 65535;

/// `shb_os` text from the kernel's `/proc/sys/kernel/ostype` and `osrelease` contents
/// (the caller reads them): `Linux 6.1.0-18-amd64`.
pub fn os_description(ostype: &str, osrelease: &str) -> String {
    format!("{} {}", ostype.trim(), osrelease.trim())
}

/// Where [`os_description`]'s inputs live.
pub const OSTYPE_PATH: &str = "/proc/sys/kernel/ostype";
pub const OSRELEASE_PATH: &str = "/proc/sys/kernel/osrelease";

/// Settings of one written file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterConfig {
    /// `shb_userappl`, e.g. `ptcap 0.1.0`.
    pub user_appl: String,
    /// `shb_os`, e.g. from [`os_description`].
    pub os: Option<String>,
    /// `shb_hardware`: the machine architecture.
    pub hardware: Option<String>,
    /// The capturing machine's name, written as a [`super::SectionInfo`] option.
    pub node: Option<String>,
    pub comments: CommentMode,
    /// Write the structured copy (definitions and reference records). Always `true` for
    /// ptcap; `false` writes only ptcpdump's comment layout (compatibility and tests).
    pub structured: bool,
    /// Accept interfaces whose link type or snaplen differ from the first one's. tcpdump
    /// (libpcap 1.10) stops reading at such an interface, so this is off by default.
    pub allow_mixed_interfaces: bool,
    /// Write a big-endian section (default: little endian).
    pub big_endian: bool,
    /// The scope of this file's entity ids (see [`crate::meta::record`]); random when `None`.
    pub scope: Option<u32>,
    /// The file format: pcapng (default) or classic pcap (one link type, no metadata).
    pub format: FileFormat,
    /// Entities per table the writer remembers (least recently used forgotten beyond it; a
    /// forgotten entity that comes back is defined again under a new id). A live capture
    /// bounds its memory so; a writer that prepares many packets before taking their
    /// [`PcapngWriter::snapshot`] (ptanalyze's parallel `-w`) must not forget entities in
    /// between, and sets `usize::MAX` (its input already holds every entity anyway).
    pub max_entities: usize,
    /// Bytes of blocks the writer gathers before it hands them to the inner writer in one
    /// `write_all` (0: each block in its own). A writer over an unbuffered file sets it: the
    /// blocks are then encoded straight into the one buffer that is written, where a
    /// `BufWriter` would copy each block once more. [`PcapngWriter::flush`] and
    /// [`PcapngWriter::finish`] write what is held; so does dropping the writer.
    pub buffer: usize,
}

/// What a writer writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileFormat {
    /// pcapng with the metadata carriers.
    #[default]
    Pcapng,
    /// Classic pcap (libpcap's format), microsecond timestamps: what `tcpdump -w` writes. It
    /// holds one link type and no per-packet options, so no metadata and no direction.
    Pcap,
    /// Classic pcap with nanosecond timestamps (`tcpdump --time-stamp-precision=nano -w`).
    PcapNano,
}

impl FileFormat {
    /// Classic pcap for a name ending in `.pcap` (any case), pcapng otherwise: what the file
    /// name promises to Wireshark and tcpdump users.
    pub fn for_path(path: &str, nano: bool) -> FileFormat {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".pcap") {
            if nano {
                FileFormat::PcapNano
            } else {
                FileFormat::Pcap
            }
        } else {
            FileFormat::Pcapng
        }
    }

    pub fn is_classic(self) -> bool {
        self != FileFormat::Pcapng
    }
}

/// The line both binaries print once when `-w` writes classic pcap.
pub const PCAP_NO_METADATA: &str = "classic pcap (the name ends in .pcap) holds no process or \
     container metadata and no direction: name the file .pcapng to keep them";

impl WriterConfig {
    /// The same settings, written as `format`.
    pub fn with_format(mut self, format: FileFormat) -> Self {
        self.format = format;
        self
    }

    /// `shb_userappl` = `<app> <version>`, `shb_hardware` = this build's architecture.
    pub fn new(app: &str, version: &str) -> Self {
        WriterConfig {
            user_appl: format!("{app} {version}"),
            os: None,
            hardware: Some(std::env::consts::ARCH.to_string()),
            node: None,
            comments: CommentMode::Full,
            structured: true,
            allow_mixed_interfaces: false,
            big_endian: false,
            scope: None,
            format: FileFormat::Pcapng,
            max_entities: ENTITY_MAX,
            buffer: 0,
        }
    }
}

/// One capture interface to describe in an IDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceSpec {
    pub name: String,
    /// Free text; say the interface's network namespace here (names repeat across them).
    pub description: Option<String>,
    pub link_type: u16,
    pub snaplen: u32,
    /// The libpcap filter expression the capture used.
    pub filter: Option<String>,
}

impl InterfaceSpec {
    pub fn new(name: &str, link_type: u16, snaplen: u32) -> Self {
        InterfaceSpec {
            name: name.to_string(),
            description: None,
            link_type,
            snaplen,
            filter: None,
        }
    }
}

/// Entities already given an id in this file: by pointer (fast path, the capture shares `Arc`s)
/// then by content. Bounded: above [`ENTITY_MAX`] entities the least recently used eighth is
/// forgotten (a live capture sees an endless stream of short-lived processes; one that exited
/// long ago is referred to by no packet any more). A forgotten entity that comes back gets a
/// new id, and its definition is written again with its next packet, so every id a packet
/// refers to is defined earlier in the file.
struct EntityTable<T> {
    by_ptr: IdMap<usize, (Arc<T>, u32)>,
    by_content: HashMap<Arc<T>, u32>,
    /// The last pointer looked up and its id (consecutive packets mostly share entities); its
    /// `Arc` is held by `by_ptr`, so the address cannot be reused while it is here.
    last: Option<(usize, u32)>,
    /// Comment texts (built once; shared with [`TextSnapshot`]s) and last use, per live id.
    texts: IdMap<u32, (Arc<[String]>, u64)>,
    next_id: u32,
    /// Use counter (the last-use clock).
    tick: u64,
    max: usize,
    /// `by_content` and `texts`, when bounded (their size is then steady under churn).
    growth: [EarlyGrowth; 2],
    /// Bumped whenever `by_ptr` loses entries (then an address it held may be reused by
    /// another entity): [`Entities`]' last-packet shortcut is valid only while this stays.
    epoch: u64,
}

/// Bound on the pointer cache: a caller that builds a fresh `Arc` per packet must not grow it.
const PTR_CACHE_MAX: usize = 4096;

/// Entities per table kept in a file's tables (see [`EntityTable`]).
const ENTITY_MAX: usize = 4096;

impl<T: Hash + Eq> EntityTable<T> {
    fn with_max(max: usize) -> Self {
        EntityTable {
            by_ptr: IdMap::default(),
            by_content: HashMap::new(),
            last: None,
            texts: IdMap::default(),
            next_id: 1,
            tick: 0,
            max: max.max(32),
            growth: Default::default(),
            epoch: 0,
        }
    }

    /// The entity's id and whether this is its first use in the file (since it was last
    /// forgotten).
    fn id(&mut self, e: &Arc<T>, texts: impl FnOnce(&T) -> Vec<String>) -> (u32, bool) {
        let ptr = Arc::as_ptr(e) as usize;
        self.tick += 1;
        if let Some((p, id)) = self.last {
            if p == ptr {
                self.touch(id);
                return (id, false);
            }
        }
        if let Some((_, id)) = self.by_ptr.get(&ptr) {
            let id = *id;
            self.touch(id);
            self.last = Some((ptr, id));
            return (id, false);
        }
        if self.by_ptr.len() >= PTR_CACHE_MAX {
            self.by_ptr.clear();
            self.epoch += 1;
        }
        let (id, new) = match self.by_content.get(&**e) {
            Some(&id) => {
                self.touch(id);
                (id, false)
            }
            None => {
                if self.by_content.len() >= self.max {
                    self.forget_oldest();
                }
                let id = self.next_id;
                self.next_id += 1;
                self.by_content.insert(e.clone(), id);
                self.texts.insert(id, (texts(e).into(), self.tick));
                if self.max != usize::MAX {
                    self.growth[0].check(&mut self.by_content);
                    self.growth[1].check(&mut self.texts);
                }
                (id, true)
            }
        };
        self.by_ptr.insert(ptr, (e.clone(), id));
        self.last = Some((ptr, id));
        (id, new)
    }

    fn touch(&mut self, id: u32) {
        if let Some(t) = self.texts.get_mut(&id) {
            t.1 = self.tick;
        }
    }

    /// Drops the least recently used eighth (amortised O(1) per new entity). The entities of
    /// the packet being prepared were used last, so they stay. An eighth, not a half: what is
    /// dropped at once is freed at once, and a live capture's heap has to hold the table's
    /// swing on top of everything else (with a half, glibc's heap kept creeping under process
    /// churn; docs/ARCHITECTURE.md, "Resident memory under process churn").
    fn forget_oldest(&mut self) {
        let mut ticks: Vec<u64> = self.texts.values().map(|(_, t)| *t).collect();
        let cut_at = ticks.len() / 8;
        let (_, &mut cut, _) = ticks.select_nth_unstable(cut_at);
        self.texts.retain(|_, (_, t)| *t >= cut);
        let texts = &self.texts;
        self.by_content.retain(|_, id| texts.contains_key(id));
        self.by_ptr.retain(|_, (_, id)| texts.contains_key(id));
        self.last = None;
        self.epoch += 1;
    }

    fn texts_of(&self, id: u32) -> Option<&Arc<[String]>> {
        self.texts.get(&id).map(|(t, _)| t)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_content.len()
    }
}

/// The entity ids of one packet's metadata in a file, and which of them the packet uses first
/// (its block then carries their definitions). Made by [`PcapngWriter::prepare`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prepared {
    /// Process, parent, container, pod, thread, then the peer's process, parent, container,
    /// pod, then the NAT connection ([`SLOT_TABLES`]); 0 = none.
    ids: [u32; 10],
    first_use: [bool; 10],
}

/// The options of an Enhanced Packet Block: encoded from the metadata, or the bytes (with
/// the end-of-options marker) and skipped-option count of an earlier block with the same
/// [`OptionsKey`].
enum Options<'a> {
    Encode(&'a PacketMeta, &'a Prepared),
    Raw(&'a [u8], u64),
}

/// See [`Encoder::options_key`].
#[derive(Debug, Clone, Copy, Eq)]
struct OptionsKey {
    ids: [u32; 10],
    direction: Option<Direction>,
    has_metadata: bool,
    provenance: Provenance,
    role: Role,
    tid: u32,
    nat_reply: bool,
}

/// Compared once or twice per packet: the derived comparison called `memcmp` for the ids.
/// Every field is named (a field added to the key and left out here would not compile: two
/// packets with different options would share one encoding).
impl PartialEq for OptionsKey {
    fn eq(&self, o: &Self) -> bool {
        let OptionsKey {
            ids,
            direction,
            has_metadata,
            provenance,
            role,
            tid,
            nat_reply,
        } = self;
        same_words(ids, &o.ids)
            && *direction == o.direction
            && *has_metadata == o.has_metadata
            && *provenance == o.provenance
            && *role == o.role
            && *tid == o.tid
            && *nat_reply == o.nat_reply
    }
}

/// `a == b` without a call to `memcmp` (which the arrays' `==` makes: a function call and its
/// set-up for 40 or 80 bytes, per packet).
#[inline(always)]
fn same_words<
    T: Copy + std::ops::BitXor<Output = T> + std::ops::BitOr<Output = T> + Default + PartialEq,
    const N: usize,
>(
    a: &[T; N],
    b: &[T; N],
) -> bool {
    a.iter()
        .zip(b)
        .fold(T::default(), |acc, (&x, &y)| acc | (x ^ y))
        == T::default()
}

/// Which entity table each slot of [`Prepared`] uses: 0 processes, 1 containers, 2 pods,
/// 3 threads, 4 NAT connections.
const SLOT_TABLES: [u8; 10] = [0, 0, 1, 2, 3, 0, 0, 1, 2, 4];

/// Encodes packet blocks for one file: its settings and interfaces. A cheap clone, so several
/// threads can encode packets of one file at once ([`PcapngWriter::encoder`],
/// [`PcapngWriter::snapshot`], [`Encoder::encode_packet`], [`PcapngWriter::write_encoded`]).
#[derive(Debug, Clone)]
pub struct Encoder {
    cfg: Arc<WriterConfig>,
    scope: u32,
    interfaces: Vec<(u16, u32)>,
}

/// One packet for [`Encoder::encode_packet`]: its interface (id in the file), time (ns since
/// the epoch), length on the wire, captured bytes and direction.
#[derive(Debug, Clone, Copy)]
pub struct PacketFields<'p> {
    pub iface: u32,
    pub ts_ns: u64,
    pub orig_len: u32,
    pub data: &'p [u8],
    pub direction: Option<Direction>,
}

/// The file's entities and their comment texts.
struct Entities {
    processes: EntityTable<ProcessInfo>,
    containers: EntityTable<ContainerInfo>,
    pods: EntityTable<PodInfo>,
    threads: EntityTable<ThreadInfo>,
    nats: EntityTable<NatInfo>,
    /// The last packet's entities (their addresses, in [`Prepared`]'s slot order), the tables'
    /// epochs then, and its ids: a packet with the same entities (a flow's packets come in
    /// runs) gets the same ids without a table lookup. The addresses are those of `Arc`s the
    /// tables' `by_ptr` holds, so they cannot be another entity's while the epochs stay.
    /// Skipping the tables' last-use ticks is exact: nothing else was used in between.
    last: Option<([usize; 10], u64, Prepared)>,
}

/// The comment texts of the entities some packets use (see [`PcapngWriter::snapshot`]): what
/// encoding them needs from the writer, owned, so it can move to another thread.
#[derive(Debug, Clone, Default)]
pub struct TextSnapshot {
    /// Sorted by (table, id).
    texts: Vec<SnapshotEntry>,
}

/// ((table, id), the entity's comment texts).
type SnapshotEntry = ((u8, u32), Arc<[String]>);

/// Where encoding finds the comment texts of entities: a [`TextSnapshot`] (the writer's own
/// table is the other implementation). Tables: 0 processes, 1 containers, 2 pods.
pub trait CommentTexts {
    fn text(&self, table: u8, id: u32, i: usize) -> Option<&str>;
}

impl CommentTexts for Entities {
    fn text(&self, table: u8, id: u32, i: usize) -> Option<&str> {
        let t = match table {
            0 => self.processes.texts_of(id),
            1 => self.containers.texts_of(id),
            2 => self.pods.texts_of(id),
            3 => self.threads.texts_of(id),
            _ => self.nats.texts_of(id),
        };
        t.and_then(|t| t.get(i)).map(String::as_str)
    }
}

impl CommentTexts for TextSnapshot {
    fn text(&self, table: u8, id: u32, i: usize) -> Option<&str> {
        let at = self
            .texts
            .binary_search_by_key(&(table, id), |(k, _)| *k)
            .ok()?;
        self.texts[at].1.get(i).map(String::as_str)
    }
}

/// Writes one pcapng section. See the module documentation.
pub struct PcapngWriter<W: Write> {
    /// `None` only once [`PcapngWriter::finish`] took it.
    out: Option<W>,
    enc: Encoder,
    entities: Entities,
    /// The blocks not yet handed to `out` (up to [`WriterConfig::buffer`] bytes), the one
    /// being built last; reused.
    buf: Vec<u8>,
    /// [`WriterConfig::buffer`].
    hold: usize,
    bytes_written: u64,
    packets: u64,
    skipped_options: u64,
    /// Set after an I/O error: the file ends with a possibly partial block.
    failed: bool,
    /// The last two packet blocks' options, for the next packets with the same keys: two,
    /// because with `-i any` a flow's packets alternate between two interfaces (a veth's
    /// ingress, the bridge port's egress), each with its own direction.
    last_options: [(Option<OptionsKey>, Vec<u8>, u64); 2],
    /// The slot of `last_options` to fill next.
    last_options_next: usize,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn check_text(what: &str, s: &str) -> io::Result<()> {
    if s.len() > MAX_OPTION_LEN - 1 {
        return Err(invalid(format!(
            "{what} is {} bytes; a pcapng option holds at most {MAX_OPTION_LEN}",
            s.len()
        )));
    }
    if s.contains('\0') {
        return Err(invalid(format!(
            "{what} contains a NUL character, which readers take for its end"
        )));
    }
    Ok(())
}

fn random_scope() -> u32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    // RandomState is seeded from the OS; 21 bits keep the varint at 3 bytes.
    let h = std::collections::hash_map::RandomState::new()
        .hash_one(now ^ u64::from(std::process::id()));
    ((h as u32) & 0x1f_ffff).max(1)
}

/// Cuts every string of an entity to `max_str` bytes and every list or map to `max_items`
/// entries: used only when a definition would not fit one option.
fn clip_str(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

fn clip_map(m: &mut std::collections::BTreeMap<String, String>, max_str: usize, max_items: usize) {
    let kept: std::collections::BTreeMap<String, String> = std::mem::take(m)
        .into_iter()
        .take(max_items)
        .map(|(mut k, mut v)| {
            clip_str(&mut k, max_str);
            clip_str(&mut v, max_str);
            (k, v)
        })
        .collect();
    *m = kept;
}

fn clip_entity(e: &mut Entity, max_str: usize, max_items: usize) {
    match e {
        Entity::Process(p) => {
            clip_str(&mut p.comm, max_str);
            clip_str(&mut p.exe, max_str);
            p.argv.truncate(max_items);
            for a in &mut p.argv {
                clip_str(a, max_str);
            }
        }
        Entity::Container(c) => {
            for s in [
                &mut c.id,
                &mut c.name,
                &mut c.image,
                &mut c.runtime,
                &mut c.namespace,
            ] {
                clip_str(s, max_str);
            }
            clip_map(&mut c.labels, max_str, max_items);
        }
        Entity::Pod(p) => {
            for s in [&mut p.name, &mut p.namespace, &mut p.uid] {
                clip_str(s, max_str);
            }
            clip_map(&mut p.labels, max_str, max_items);
            clip_map(&mut p.annotations, max_str, max_items);
        }
        Entity::Thread(t) => clip_str(&mut t.name, max_str),
        Entity::Nat(_) => {}
    }
}

/// The definition's JSON, shrunk until it fits one option (after the 4-byte PEN).
fn definition_json(scope: u32, id: u32, entity: Entity) -> Option<String> {
    let mut def = Definition {
        ptcap: RECORD_VERSION,
        scope,
        id,
        entity,
    };
    for (max_str, max_items) in [(usize::MAX, usize::MAX), (1024, 64), (128, 16), (32, 4)] {
        if max_str != usize::MAX {
            clip_entity(&mut def.entity, max_str, max_items);
        }
        let json = def.to_json();
        if json.len() <= MAX_OPTION_LEN - 4 && !json.contains('\0') {
            return Some(json);
        }
    }
    None
}

/// One block appended to a byte vector; lengths are patched by [`BlockBuilder::finish`].
struct BlockBuilder<'b> {
    buf: &'b mut Vec<u8>,
    start: usize,
    big: bool,
    options: usize,
}

impl<'b> BlockBuilder<'b> {
    fn begin(buf: &'b mut Vec<u8>, big: bool, block_type: u32) -> Self {
        let start = buf.len();
        let mut b = BlockBuilder {
            buf,
            start,
            big,
            options: 0,
        };
        b.u32(block_type);
        b.u32(0); // total length, patched by finish
        b
    }

    fn u16(&mut self, v: u16) {
        let b = ordered(self.big, v.to_le_bytes(), v.to_be_bytes());
        self.buf.extend_from_slice(&b);
    }

    fn u32(&mut self, v: u32) {
        let b = ordered(self.big, v.to_le_bytes(), v.to_be_bytes());
        self.buf.extend_from_slice(&b);
    }

    /// Several `u32`s in one copy (a block's fixed fields).
    #[inline]
    fn u32s<const N: usize>(&mut self, v: [u32; N]) {
        let mut b = [0u8; 64];
        for (i, v) in v.into_iter().enumerate() {
            b[i * 4..i * 4 + 4].copy_from_slice(&ordered(
                self.big,
                v.to_le_bytes(),
                v.to_be_bytes(),
            ));
        }
        self.buf.extend_from_slice(&b[..N * 4]);
    }

    fn u64(&mut self, v: u64) {
        let b = ordered(self.big, v.to_le_bytes(), v.to_be_bytes());
        self.buf.extend_from_slice(&b);
    }

    fn bytes(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        pad4(self.buf);
    }

    /// One option from value parts. Callers checked the total length (≤ 65535).
    fn option(&mut self, code: u16, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        debug_assert!(len <= MAX_OPTION_LEN);
        put_option_header(self.buf, self.big, code, len);
        self.options += 1;
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        pad4(self.buf);
    }

    /// A comment, unless it cannot be written validly (counted in `skipped`).
    fn comment(&mut self, text: &str, skipped: &mut u64) {
        if text.len() > MAX_OPTION_LEN || text.contains('\0') {
            *skipped += 1;
            return;
        }
        self.option(code::OPT_COMMENT, &[text.as_bytes()]);
    }

    /// A custom option under ptcap's PEN, unless too long (counted in `skipped`).
    fn custom(&mut self, code: u16, data: &[u8], skipped: &mut u64) {
        if data.len() + 4 > MAX_OPTION_LEN {
            *skipped += 1;
            return;
        }
        let pen = ordered(self.big, PTCAP_PEN.to_le_bytes(), PTCAP_PEN.to_be_bytes());
        self.option(code, &[&pen, data]);
    }

    /// The packet's reference record, encoded in place (a few bytes; no allocation).
    fn custom_record(&mut self, record: &MetaRecord) {
        let at = self.buf.len();
        put_option_header(self.buf, self.big, code::OPT_CUSTOM_BINARY, 0);
        let pen = ordered(self.big, PTCAP_PEN.to_le_bytes(), PTCAP_PEN.to_be_bytes());
        self.buf.extend_from_slice(&pen);
        record.encode(self.buf);
        let len = (self.buf.len() - at - 4) as u16;
        let len = ordered(self.big, len.to_le_bytes(), len.to_be_bytes());
        self.buf[at + 2..at + 4].copy_from_slice(&len);
        self.options += 1;
        pad4(self.buf);
    }

    /// `opt_endofopt` when some option was written (a block without options ends right after
    /// its fixed part), then the lengths. A block too large for pcapng is taken back out.
    fn finish(self, what: &str) -> io::Result<()> {
        if self.options > 0 {
            self.buf.extend_from_slice(&[0, 0, 0, 0]);
        }
        let total = self.buf.len() - self.start + 4;
        debug_assert!(total % 4 == 0);
        let Ok(total32) = u32::try_from(total) else {
            self.buf.truncate(self.start);
            return Err(invalid(format!(
                "{what} of {total} bytes is too large for pcapng"
            )));
        };
        let b = ordered(self.big, total32.to_le_bytes(), total32.to_be_bytes());
        self.buf[self.start + 4..self.start + 8].copy_from_slice(&b);
        self.buf.extend_from_slice(&b);
        Ok(())
    }
}

/// Whether a packet's metadata has anything to write.
fn has_metadata(meta: &PacketMeta) -> bool {
    !meta.is_empty()
        || meta.parent.is_some()
        || !meta.peer.is_empty()
        || meta.drop.is_some()
        || meta.nat.is_some()
}

impl Entities {
    fn epochs(&self) -> u64 {
        self.processes.epoch
            + self.containers.epoch
            + self.pods.epoch
            + self.threads.epoch
            + self.nats.epoch
    }

    fn prepare(&mut self, meta: &PacketMeta) -> Prepared {
        if !has_metadata(meta) {
            return Prepared::default();
        }
        fn addr<T>(e: &Option<Arc<T>>) -> usize {
            e.as_ref().map_or(0, |a| Arc::as_ptr(a) as usize)
        }
        let sig = [
            addr(&meta.process),
            addr(&meta.parent),
            addr(&meta.container),
            addr(&meta.pod),
            addr(&meta.thread),
            addr(&meta.peer.process),
            addr(&meta.peer.parent),
            addr(&meta.peer.container),
            addr(&meta.peer.pod),
            addr(&meta.nat),
        ];
        if let Some((s, epochs, p)) = &self.last {
            if same_words(s, &sig) && *epochs == self.epochs() {
                return Prepared {
                    ids: p.ids,
                    first_use: [false; 10],
                };
            }
        }
        let p = self.prepare_slow(meta);
        self.last = Some((sig, self.epochs(), p));
        p
    }

    fn prepare_slow(&mut self, meta: &PacketMeta) -> Prepared {
        let mut p = Prepared::default();
        let processes = [
            &meta.process,
            &meta.parent,
            &meta.peer.process,
            &meta.peer.parent,
        ];
        for (slot, e) in [0, 1, 5, 6].into_iter().zip(processes) {
            if let Some(e) = e {
                (p.ids[slot], p.first_use[slot]) = self.processes.id(e, process_texts);
            }
        }
        for (slot, e) in [(2, &meta.container), (7, &meta.peer.container)] {
            if let Some(e) = e {
                (p.ids[slot], p.first_use[slot]) =
                    self.containers.id(e, |c| vec![container_comment(c)]);
            }
        }
        for (slot, e) in [(3, &meta.pod), (8, &meta.peer.pod)] {
            if let Some(e) = e {
                (p.ids[slot], p.first_use[slot]) = self.pods.id(e, |p| vec![pod_comment(p)]);
            }
        }
        if let Some(e) = &meta.thread {
            (p.ids[4], p.first_use[4]) = self.threads.id(e, |t| vec![thread_comment(t)]);
        }
        if let Some(e) = &meta.nat {
            (p.ids[9], p.first_use[9]) = self.nats.id(e, |n| vec![nat_comment(n)]);
        }
        p
    }
}

impl Encoder {
    /// The scope of this file's entity ids.
    pub fn scope(&self) -> u32 {
        self.scope
    }

    /// Appends one Enhanced Packet Block to `out`. `prep` is what [`PcapngWriter::prepare`]
    /// returned for `meta`, `texts` a [`PcapngWriter::snapshot`] taken after it; blocks must
    /// reach the file in the order of their `prepare` calls (the first use of an entity
    /// carries its definition). `data` longer than the interface's snaplen is cut to it;
    /// `orig_len` is raised to `data.len()` if smaller. Returns how many metadata options were
    /// left out because they could not be written validly (should stay 0). On error nothing
    /// is appended.
    pub fn encode_packet<T: CommentTexts>(
        &self,
        texts: &T,
        out: &mut Vec<u8>,
        packet: PacketFields<'_>,
        meta: &PacketMeta,
        prep: &Prepared,
    ) -> io::Result<u64> {
        self.encode_epb(texts, out, packet, Options::Encode(meta, prep))
            .map(|(skipped, _)| skipped)
    }

    /// What identifies the options [`Self::encode_packet`] writes for `meta` and `prep`, when
    /// another packet with the same key gets the very same option bytes: the entity ids (an id
    /// names one entity, and its texts, for the whole file), the record's own fields and the
    /// direction. None when the options depend on more: a definition (an entity's first use),
    /// a drop, short comments (made from the metadata itself), classic pcap (no options).
    fn options_key(
        &self,
        meta: &PacketMeta,
        prep: &Prepared,
        direction: Option<Direction>,
    ) -> Option<OptionsKey> {
        if self.cfg.format.is_classic()
            || prep.first_use.iter().any(|&f| f)
            || meta.drop.is_some()
            || self.cfg.comments == CommentMode::Short
        {
            return None;
        }
        Some(OptionsKey {
            ids: prep.ids,
            direction,
            has_metadata: has_metadata(meta),
            provenance: meta.provenance,
            role: meta.role,
            tid: meta.tid().unwrap_or(0),
            nat_reply: meta.nat_reply,
        })
    }

    /// An Enhanced Packet Block with `options` encoded, or copied from an earlier block's;
    /// the options skipped and where the options start in `out`.
    fn encode_epb<T: CommentTexts>(
        &self,
        texts: &T,
        out: &mut Vec<u8>,
        packet: PacketFields<'_>,
        options: Options<'_>,
    ) -> io::Result<(u64, usize)> {
        let PacketFields {
            iface,
            ts_ns,
            orig_len,
            data,
            direction,
        } = packet;
        let Some(&(_, snaplen)) = self.interfaces.get(iface as usize) else {
            return Err(invalid(format!(
                "packet for interface {iface}, but only {} interfaces were added",
                self.interfaces.len()
            )));
        };
        let mut data = data;
        if snaplen != 0 && data.len() > snaplen as usize {
            data = &data[..snaplen as usize];
        }
        let caplen = data.len() as u32;
        if self.cfg.format.is_classic() {
            let secs = (ts_ns / 1_000_000_000) as u32;
            let frac = match self.cfg.format {
                FileFormat::PcapNano => (ts_ns % 1_000_000_000) as u32,
                _ => (ts_ns % 1_000_000_000 / 1000) as u32,
            };
            for v in [secs, frac, caplen, orig_len.max(caplen)] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(data);
            let at = out.len();
            return Ok((0, at));
        }
        let mut skipped = 0;
        let mut b = BlockBuilder::begin(out, self.cfg.big_endian, code::BLOCK_EPB);
        b.u32s([
            iface,
            (ts_ns >> 32) as u32,
            ts_ns as u32,
            caplen,
            orig_len.max(caplen),
        ]);
        b.bytes(data);
        let at = b.buf.len();
        let (meta, prep) = match options {
            Options::Encode(meta, prep) => (meta, prep),
            Options::Raw(bytes, skipped) => {
                // The end-of-options marker is part of the copied bytes.
                b.buf.extend_from_slice(bytes);
                b.finish("enhanced packet block")?;
                return Ok((skipped, at));
            }
        };
        if let Some(d) = direction {
            let flags: u32 = match d {
                Direction::In => 1,
                Direction::Out => 2,
            };
            let v = ordered(
                self.cfg.big_endian,
                flags.to_le_bytes(),
                flags.to_be_bytes(),
            );
            b.option(code::EPB_FLAGS, &[&v]);
        }
        self.metadata(&mut b, texts, meta, prep, &mut skipped);
        b.finish("enhanced packet block")?;
        Ok((skipped, at))
    }

    fn metadata<T: CommentTexts>(
        &self,
        b: &mut BlockBuilder<'_>,
        texts: &T,
        meta: &PacketMeta,
        prep: &Prepared,
        skipped: &mut u64,
    ) {
        let [proc_id, parent_id, cont_id, pod_id, thread_id, .., nat_id] = prep.ids;
        if !has_metadata(meta) {
            return;
        }
        match self.cfg.comments {
            CommentMode::Full => {
                let lines = [
                    texts.text(0, proc_id, 0),
                    texts.text(3, thread_id, 0),
                    texts.text(0, proc_id, 1).filter(|t| !t.is_empty()),
                    texts.text(0, parent_id, 2),
                    texts.text(1, cont_id, 0),
                    texts.text(2, pod_id, 0),
                    texts.text(4, nat_id, 0),
                ];
                for t in lines.into_iter().flatten() {
                    b.comment(t, skipped);
                }
            }
            CommentMode::Short => {
                if let Some(s) = short_comment(meta) {
                    b.comment(&s, skipped);
                }
            }
            CommentMode::None => {}
        }
        // Its own comment (Wireshark shows and filters it: `frame.comment contains "Drop:"`).
        if let (Some(d), CommentMode::Full | CommentMode::Short) = (&meta.drop, self.cfg.comments) {
            b.comment(&drop_comment(d), skipped);
        }
        if !self.cfg.structured {
            return;
        }
        for k in 0..prep.ids.len() {
            // An entity is defined at its first use only (`id` says so once per entity).
            if !prep.first_use[k] {
                continue;
            }
            let process = |p: &Option<Arc<ProcessInfo>>| p.as_deref().cloned().map(Entity::Process);
            let entity = match k {
                0 => process(&meta.process),
                1 => process(&meta.parent),
                2 => meta.container.as_deref().cloned().map(Entity::Container),
                3 => meta.pod.as_deref().cloned().map(Entity::Pod),
                4 => meta.thread.as_deref().cloned().map(Entity::Thread),
                5 => process(&meta.peer.process),
                6 => process(&meta.peer.parent),
                7 => meta
                    .peer
                    .container
                    .as_deref()
                    .cloned()
                    .map(Entity::Container),
                8 => meta.peer.pod.as_deref().cloned().map(Entity::Pod),
                _ => meta.nat.as_deref().cloned().map(Entity::Nat),
            };
            let Some(entity) = entity else { continue };
            match definition_json(self.scope, prep.ids[k], entity) {
                Some(json) => b.custom(code::OPT_CUSTOM_UTF8, json.as_bytes(), skipped),
                None => *skipped += 1,
            }
        }
        let record = MetaRecord {
            provenance: meta.provenance,
            scope: self.scope,
            process: proc_id,
            parent: parent_id,
            container: cont_id,
            pod: pod_id,
            tid: meta.tid().unwrap_or(0),
            role: meta.role,
            thread: thread_id,
            peer: [prep.ids[5], prep.ids[6], prep.ids[7], prep.ids[8]],
            drop: meta.drop.clone(),
            nat: nat_id,
            nat_reply: meta.nat_reply,
        };
        b.custom_record(&record);
    }
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the Section Header Block.
    pub fn new(out: W, cfg: WriterConfig) -> io::Result<Self> {
        check_text("shb_userappl", &cfg.user_appl)?;
        if let Some(os) = &cfg.os {
            check_text("shb_os", os)?;
        }
        if let Some(hw) = &cfg.hardware {
            check_text("shb_hardware", hw)?;
        }
        let scope = cfg.scope.unwrap_or_else(random_scope);
        let max = cfg.max_entities;
        let hold = cfg.buffer;
        let mut w = PcapngWriter {
            out: Some(out),
            enc: Encoder {
                cfg: Arc::new(cfg),
                scope,
                interfaces: Vec::new(),
            },
            entities: Entities {
                processes: EntityTable::with_max(max),
                containers: EntityTable::with_max(max),
                pods: EntityTable::with_max(max),
                threads: EntityTable::with_max(max),
                nats: EntityTable::with_max(max),
                last: None,
            },
            buf: Vec::with_capacity(hold + 4096),
            hold,
            bytes_written: 0,
            packets: 0,
            skipped_options: 0,
            failed: false,
            last_options: Default::default(),
            last_options_next: 0,
        };
        let cfg = &w.enc.cfg;
        if cfg.format.is_classic() {
            // The file header needs the link type: written with the first interface.
            return Ok(w);
        }
        let start = w.buf.len();
        let mut b = BlockBuilder::begin(&mut w.buf, cfg.big_endian, code::BLOCK_SHB);
        b.u32(0x1a2b_3c4d);
        b.u16(1);
        b.u16(0);
        b.u64(u64::MAX); // section length unknown (-1)
        if let Some(hw) = &cfg.hardware {
            b.option(code::SHB_HARDWARE, &[hw.as_bytes()]);
        }
        if let Some(os) = &cfg.os {
            b.option(code::SHB_OS, &[os.as_bytes()]);
        }
        b.option(code::SHB_USERAPPL, &[cfg.user_appl.as_bytes()]);
        if let Some(node) = cfg.node.as_deref().filter(|n| !n.is_empty()) {
            let info = super::SectionInfo {
                ptcap: 1,
                node: node.to_string(),
            };
            let json = serde_json::to_vec(&info).unwrap_or_default();
            let mut skipped = 0;
            b.custom(code::OPT_CUSTOM_UTF8, &json, &mut skipped);
        }
        b.finish("section header block")?;
        w.emit(start, "section header block")?;
        Ok(w)
    }

    /// The scope of this file's entity ids.
    pub fn scope(&self) -> u32 {
        self.enc.scope
    }

    /// Bytes of the blocks written so far (those the writer still holds included).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    pub fn packets_written(&self) -> u64 {
        self.packets
    }

    /// Metadata options left out because they could not be written validly (should stay 0).
    pub fn skipped_options(&self) -> u64 {
        self.skipped_options
    }

    /// Writes an Interface Description Block and returns the interface's id.
    pub fn add_interface(&mut self, spec: &InterfaceSpec) -> io::Result<u32> {
        check_text("interface name", &spec.name)?;
        if let Some(d) = &spec.description {
            check_text("interface description", d)?;
        }
        if let Some(f) = &spec.filter {
            check_text("interface filter", f)?;
        }
        if self.enc.cfg.format.is_classic() {
            self.check_usable()?;
            return self.add_pcap_interface(spec);
        }
        if let Some(&(link, snap)) = self.enc.interfaces.first() {
            if !self.enc.cfg.allow_mixed_interfaces
                && (link != spec.link_type || snap != spec.snaplen)
            {
                return Err(invalid(format!(
                    "interface {} has link type {} and snaplen {}, the first interface {} and {}: \
                     tcpdump stops reading at such an interface (allow_mixed_interfaces overrides)",
                    spec.name, spec.link_type, spec.snaplen, link, snap
                )));
            }
        }
        self.check_usable()?;
        let start = self.buf.len();
        let mut b = BlockBuilder::begin(&mut self.buf, self.enc.cfg.big_endian, code::BLOCK_IDB);
        b.u16(spec.link_type);
        b.u16(0);
        b.u32(spec.snaplen);
        b.option(code::IF_NAME, &[spec.name.as_bytes()]);
        if let Some(d) = &spec.description {
            b.option(code::IF_DESCRIPTION, &[d.as_bytes()]);
        }
        b.option(code::IF_TSRESOL, &[&[9]]);
        if let Some(f) = &spec.filter {
            b.option(code::IF_FILTER, &[&[0], f.as_bytes()]);
        }
        b.finish("interface description block")?;
        self.emit(start, "interface description block")?;
        self.enc.interfaces.push((spec.link_type, spec.snaplen));
        Ok(self.enc.interfaces.len() as u32 - 1)
    }

    /// Classic pcap: the first interface writes the file header; later ones must share its
    /// link type (the format has one) and get their own id for the same header.
    fn add_pcap_interface(&mut self, spec: &InterfaceSpec) -> io::Result<u32> {
        if let Some(&(link, _)) = self.enc.interfaces.first() {
            if link != spec.link_type {
                return Err(invalid(format!(
                    "interface {} has link type {}, the first interface {}: a classic pcap file \
                     holds one link type (name the file .pcapng)",
                    spec.name, spec.link_type, link
                )));
            }
        } else {
            let magic: u32 = if self.enc.cfg.format == FileFormat::PcapNano {
                0xa1b2_3c4d
            } else {
                0xa1b2_c3d4
            };
            let start = self.buf.len();
            self.buf.extend_from_slice(&magic.to_le_bytes());
            self.buf.extend_from_slice(&2u16.to_le_bytes());
            self.buf.extend_from_slice(&4u16.to_le_bytes());
            self.buf.extend_from_slice(&0u32.to_le_bytes()); // thiszone
            self.buf.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
            let snap = if spec.snaplen == 0 {
                262_144
            } else {
                spec.snaplen
            };
            self.buf.extend_from_slice(&snap.to_le_bytes());
            self.buf
                .extend_from_slice(&u32::from(spec.link_type).to_le_bytes());
            self.emit(start, "pcap file header")?;
        }
        let snap = self.enc.interfaces.first().map_or(spec.snaplen, |i| i.1);
        self.enc.interfaces.push((spec.link_type, snap));
        Ok(self.enc.interfaces.len() as u32 - 1)
    }

    /// Writes one Enhanced Packet Block. `data` longer than the interface's snaplen is cut to
    /// it; `orig_len` is raised to `data.len()` if smaller.
    pub fn write_packet(
        &mut self,
        iface: u32,
        ts_ns: u64,
        orig_len: u32,
        data: &[u8],
        direction: Option<Direction>,
        meta: &PacketMeta,
    ) -> io::Result<()> {
        self.check_usable()?;
        if iface as usize >= self.enc.interfaces.len() {
            // Checked before ids are given, so a refused packet uses none.
            return Err(invalid(format!(
                "packet for interface {iface}, but only {} interfaces were added",
                self.enc.interfaces.len()
            )));
        }
        let prep = self.prepare(meta);
        let start = self.buf.len();
        let packet = PacketFields {
            iface,
            ts_ns,
            orig_len,
            data,
            direction,
        };
        // A run of packets of one flow has the same options: encoded once, then copied.
        let key = self.enc.options_key(meta, &prep, direction);
        // Compared in place: `l.0 == Some(k)` copied the key into a temporary with wide loads
        // of its fields just written byte by byte, a store-forwarding stall per packet (a
        // third of this function's time at 100k packets/s).
        let hit = key.as_ref().and_then(|k| {
            self.last_options
                .iter()
                .position(|l| l.0.as_ref() == Some(k))
        });
        let skipped = match hit {
            Some(i) => {
                let (_, bytes, skipped) = &self.last_options[i];
                let options = Options::Raw(bytes, *skipped);
                self.enc
                    .encode_epb(&self.entities, &mut self.buf, packet, options)?
                    .0
            }
            None => {
                let options = Options::Encode(meta, &prep);
                let (skipped, at) =
                    self.enc
                        .encode_epb(&self.entities, &mut self.buf, packet, options)?;
                // A key's bytes never change in a file (its ids are never reused), so a packet
                // that could not use them (a definition, a drop) leaves them for the next.
                if let Some(k) = key {
                    let i = self.last_options_next;
                    self.last_options_next ^= 1;
                    let (last, bytes, last_skipped) = &mut self.last_options[i];
                    bytes.clear();
                    bytes.extend_from_slice(&self.buf[at..self.buf.len() - 4]);
                    *last = Some(k);
                    *last_skipped = skipped;
                }
                skipped
            }
        };
        self.emit(start, "enhanced packet block")?;
        self.skipped_options += skipped;
        self.packets += 1;
        Ok(())
    }

    /// Gives the entities of one packet's metadata their ids in this file, for
    /// [`Encoder::encode_packet`]. Call it in the order the packets will be written.
    pub fn prepare(&mut self, meta: &PacketMeta) -> Prepared {
        if self.enc.cfg.format.is_classic() {
            // No metadata rides in classic pcap: nothing to remember.
            return Prepared::default();
        }
        self.entities.prepare(meta)
    }

    /// The encoder, to encode packets (possibly on other threads) between `prepare` and
    /// `write_encoded`.
    pub fn encoder(&self) -> Encoder {
        self.enc.clone()
    }

    /// The comment texts of the entities `preps` refer to, for [`Encoder::encode_packet`].
    pub fn snapshot<'p>(&self, preps: impl IntoIterator<Item = &'p Prepared>) -> TextSnapshot {
        let mut want: Vec<(u8, u32)> = Vec::new();
        // Consecutive packets mostly share their entities: note only changes.
        let mut last = [0u32; 10];
        for p in preps {
            for (k, &id) in p.ids.iter().enumerate() {
                if id != 0 && id != last[k] {
                    want.push((SLOT_TABLES[k], id));
                    last[k] = id;
                }
            }
        }
        want.sort_unstable();
        want.dedup();
        let e = &self.entities;
        let texts = want
            .into_iter()
            .filter_map(|(t, id)| {
                let texts = match t {
                    0 => e.processes.texts_of(id),
                    1 => e.containers.texts_of(id),
                    2 => e.pods.texts_of(id),
                    3 => e.threads.texts_of(id),
                    _ => e.nats.texts_of(id),
                }?;
                Some(((t, id), Arc::clone(texts)))
            })
            .collect();
        TextSnapshot { texts }
    }

    /// Writes blocks made by [`Encoder::encode_packet`] of this writer: `packets` packets
    /// whose encoding skipped `skipped_options` options, in one `write_all`.
    pub fn write_encoded(
        &mut self,
        blocks: &[u8],
        packets: u64,
        skipped_options: u64,
    ) -> io::Result<()> {
        self.check_usable()?;
        if self.buf.len() + blocks.len() < self.hold {
            let start = self.buf.len();
            self.buf.extend_from_slice(blocks);
            self.emit(start, "enhanced packet blocks")?;
        } else {
            self.write_held("blocks")?;
            self.write_out(blocks, "enhanced packet blocks")?;
        }
        self.packets += packets;
        self.skipped_options += skipped_options;
        Ok(())
    }

    /// Writes an Interface Statistics Block for `iface`, with the capture's start and end
    /// times (ns since the epoch) when known. The block's own timestamp is `end_ns` (else
    /// `start_ns`, else 0).
    pub fn write_stats(
        &mut self,
        iface: u32,
        stats: &InterfaceStats,
        start_ns: Option<u64>,
        end_ns: Option<u64>,
    ) -> io::Result<()> {
        if iface as usize >= self.enc.interfaces.len() {
            return Err(invalid(format!(
                "statistics for interface {iface}, but only {} interfaces were added",
                self.enc.interfaces.len()
            )));
        }
        self.check_usable()?;
        if self.enc.cfg.format.is_classic() {
            // Classic pcap has no statistics record.
            return Ok(());
        }
        let ts = end_ns.or(start_ns).unwrap_or(0);
        let big = self.enc.cfg.big_endian;
        let start = self.buf.len();
        let mut b = BlockBuilder::begin(&mut self.buf, big, code::BLOCK_ISB);
        b.u32(iface);
        b.u32((ts >> 32) as u32);
        b.u32(ts as u32);
        let ts_bytes = |t: u64| -> [u8; 8] {
            let (hi, lo) = ((t >> 32) as u32, t as u32);
            let mut v = [0; 8];
            if big {
                v[..4].copy_from_slice(&hi.to_be_bytes());
                v[4..].copy_from_slice(&lo.to_be_bytes());
            } else {
                v[..4].copy_from_slice(&hi.to_le_bytes());
                v[4..].copy_from_slice(&lo.to_le_bytes());
            }
            v
        };
        if let Some(t) = start_ns {
            b.option(code::ISB_STARTTIME, &[&ts_bytes(t)]);
        }
        if let Some(t) = end_ns {
            b.option(code::ISB_ENDTIME, &[&ts_bytes(t)]);
        }
        for (c, v) in [
            (code::ISB_IFRECV, stats.received),
            (code::ISB_IFDROP, stats.dropped),
            (code::ISB_FILTERACCEPT, stats.filter_accepted),
            (code::ISB_OSDROP, stats.os_dropped),
            (code::ISB_USRDELIV, stats.delivered),
        ] {
            if let Some(v) = v {
                let bytes = ordered(big, v.to_le_bytes(), v.to_be_bytes());
                b.option(c, &[&bytes]);
            }
        }
        b.finish("interface statistics block")?;
        self.emit(start, "interface statistics block")
    }

    /// Writes the blocks held ([`WriterConfig::buffer`]) and flushes the inner writer.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.failed {
            self.write_held("blocks")?;
        }
        self.out_mut().flush().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "flushing the pcapng file at byte offset {}: {e}",
                    self.bytes_written
                ),
            )
        })
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self
            .out
            .take()
            .expect("the inner writer is taken only here"))
    }

    fn out_mut(&mut self) -> &mut W {
        self.out
            .as_mut()
            .expect("the inner writer is taken only by finish")
    }

    fn check_usable(&self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other(
                "an earlier write to this pcapng file failed; start a new file",
            ));
        }
        Ok(())
    }

    /// The block from `start` to the end of `buf` is complete: counted, and written (with the
    /// blocks held before it, in one call) once [`WriterConfig::buffer`] bytes are held.
    fn emit(&mut self, start: usize, what: &str) -> io::Result<()> {
        self.bytes_written += (self.buf.len() - start) as u64;
        if self.buf.len() < self.hold {
            return Ok(());
        }
        // A failure names the block when it was written alone.
        let what = if start == 0 { what } else { "blocks" };
        self.write_held(what)
    }

    /// Hands the blocks held to the inner writer.
    fn write_held(&mut self, what: &str) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut buf = std::mem::take(&mut self.buf);
        // Counted again by write_out once written; after a failure the count is what was.
        self.bytes_written -= buf.len() as u64;
        let r = self.write_out(&buf, what);
        buf.clear();
        self.buf = buf;
        r
    }

    fn write_out(&mut self, bytes: &[u8], what: &str) -> io::Result<()> {
        if let Err(e) = self.out_mut().write_all(bytes) {
            self.failed = true;
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "writing the {what} at byte offset {} of the pcapng file: {e}",
                    self.bytes_written
                ),
            ));
        }
        self.bytes_written += bytes.len() as u64;
        Ok(())
    }
}

/// A writer dropped without [`PcapngWriter::finish`] still writes the blocks it holds, as a
/// `BufWriter` would (errors are lost then: call `finish` or `flush` to see them).
impl<W: Write> Drop for PcapngWriter<W> {
    fn drop(&mut self) {
        if !self.failed && self.out.is_some() {
            let _ = self.write_held("blocks");
        }
    }
}

/// Comment texts of a process: [as the packet's process, its user line, as a parent].
fn process_texts(p: &ProcessInfo) -> Vec<String> {
    vec![
        process_comment(p),
        user_comment(p).unwrap_or_default(),
        parent_comment(p),
    ]
}

/// `le` or `be`, as the section's byte order says.
fn ordered<const N: usize>(big: bool, le: [u8; N], be: [u8; N]) -> [u8; N] {
    if big {
        be
    } else {
        le
    }
}

fn put_option_header(buf: &mut Vec<u8>, big: bool, code: u16, len: usize) {
    let len = len as u16;
    buf.extend_from_slice(&ordered(big, code.to_le_bytes(), code.to_be_bytes()));
    buf.extend_from_slice(&ordered(big, len.to_le_bytes(), len.to_be_bytes()));
}

fn pad4(buf: &mut Vec<u8>) {
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

#[cfg(test)]
mod entity_table_tests {
    use super::EntityTable;
    use std::sync::Arc;

    #[test]
    fn bounded_and_a_forgotten_entity_is_defined_again() {
        let mut t: EntityTable<u64> = EntityTable::with_max(64);
        let keep = Arc::new(u64::MAX);
        let (kept_id, first) = t.id(&keep, |_| vec!["kept".into()]);
        assert!(first);
        for n in 0..100_000u64 {
            let (_, first) = t.id(&Arc::new(n), |n| vec![n.to_string()]);
            assert!(first);
            // One entity in constant use is never forgotten, whatever the churn.
            if n % 16 == 0 {
                assert_eq!(t.id(&keep, |_| unreachable!()), (kept_id, false));
            }
            assert!(t.len() <= 64);
        }
        assert_eq!(t.texts_of(kept_id).unwrap()[0], "kept");
        // A long-forgotten one comes back: a new id, defined again.
        let (id, first) = t.id(&Arc::new(0), |n| vec![n.to_string()]);
        assert!(first && id > kept_id);
        assert_eq!(t.texts_of(id).unwrap()[0], "0");
    }
}

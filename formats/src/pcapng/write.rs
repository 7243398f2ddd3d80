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
    container_comment, parent_comment, pod_comment, process_comment, short_comment, thread_comment,
    user_comment,
};
use crate::meta::record::{Definition, Entity, MetaRecord, RECORD_VERSION};
use crate::meta::{CommentMode, ContainerInfo, PacketMeta, PodInfo, ProcessInfo};

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
}

impl WriterConfig {
    /// `shb_userappl` = `<app> <version>`, `shb_hardware` = this build's architecture.
    pub fn new(app: &str, version: &str) -> Self {
        WriterConfig {
            user_appl: format!("{app} {version}"),
            os: None,
            hardware: Some(std::env::consts::ARCH.to_string()),
            comments: CommentMode::Full,
            structured: true,
            allow_mixed_interfaces: false,
            big_endian: false,
            scope: None,
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
/// then by content.
struct EntityTable<T> {
    by_ptr: HashMap<usize, (Arc<T>, u32)>,
    by_content: HashMap<Arc<T>, u32>,
    /// Comment texts per id (index id - 1), built once.
    texts: Vec<Vec<String>>,
}

/// Bound on the pointer cache: a caller that builds a fresh `Arc` per packet must not grow it.
const PTR_CACHE_MAX: usize = 4096;

impl<T: Hash + Eq> EntityTable<T> {
    fn new() -> Self {
        EntityTable {
            by_ptr: HashMap::new(),
            by_content: HashMap::new(),
            texts: Vec::new(),
        }
    }

    /// The entity's id and whether this is its first use in the file.
    fn id(&mut self, e: &Arc<T>, texts: impl FnOnce(&T) -> Vec<String>) -> (u32, bool) {
        let ptr = Arc::as_ptr(e) as usize;
        if let Some((_, id)) = self.by_ptr.get(&ptr) {
            return (*id, false);
        }
        if self.by_ptr.len() >= PTR_CACHE_MAX {
            self.by_ptr.clear();
        }
        if let Some(&id) = self.by_content.get(&**e) {
            self.by_ptr.insert(ptr, (e.clone(), id));
            return (id, false);
        }
        let id = self.texts.len() as u32 + 1;
        self.by_content.insert(e.clone(), id);
        self.by_ptr.insert(ptr, (e.clone(), id));
        self.texts.push(texts(e));
        (id, true)
    }

    fn text(&self, id: u32, i: usize) -> &str {
        self.texts[id as usize - 1][i].as_str()
    }
}

/// Writes one pcapng section. See the module documentation.
pub struct PcapngWriter<W: Write> {
    out: W,
    cfg: WriterConfig,
    scope: u32,
    /// The block being built; reused.
    buf: Vec<u8>,
    /// Scratch for the reference record and definitions; reused.
    scratch: Vec<u8>,
    interfaces: Vec<(u16, u32)>,
    bytes_written: u64,
    packets: u64,
    skipped_options: u64,
    processes: EntityTable<ProcessInfo>,
    containers: EntityTable<ContainerInfo>,
    pods: EntityTable<PodInfo>,
    /// Options written in the block being built.
    block_options: usize,
    /// Set after an I/O error: the file ends with a possibly partial block.
    failed: bool,
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
        let mut w = PcapngWriter {
            out,
            cfg,
            scope,
            buf: Vec::with_capacity(4096),
            scratch: Vec::with_capacity(256),
            interfaces: Vec::new(),
            bytes_written: 0,
            packets: 0,
            skipped_options: 0,
            processes: EntityTable::new(),
            containers: EntityTable::new(),
            pods: EntityTable::new(),
            block_options: 0,
            failed: false,
        };
        w.begin(code::BLOCK_SHB);
        w.u32(0x1a2b_3c4d);
        w.u16(1);
        w.u16(0);
        w.u64(u64::MAX); // section length unknown (-1)
        let hardware = w.cfg.hardware.clone();
        let os = w.cfg.os.clone();
        let appl = w.cfg.user_appl.clone();
        if let Some(hw) = hardware {
            w.option(code::SHB_HARDWARE, &[hw.as_bytes()]);
        }
        if let Some(os) = os {
            w.option(code::SHB_OS, &[os.as_bytes()]);
        }
        w.option(code::SHB_USERAPPL, &[appl.as_bytes()]);
        w.end_options();
        w.emit("section header block")?;
        Ok(w)
    }

    /// The scope of this file's entity ids.
    pub fn scope(&self) -> u32 {
        self.scope
    }

    /// Bytes handed to the inner writer so far.
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
        if let Some(&(link, snap)) = self.interfaces.first() {
            if !self.cfg.allow_mixed_interfaces && (link != spec.link_type || snap != spec.snaplen)
            {
                return Err(invalid(format!(
                    "interface {} has link type {} and snaplen {}, the first interface {} and {}: \
                     tcpdump stops reading at such an interface (allow_mixed_interfaces overrides)",
                    spec.name, spec.link_type, spec.snaplen, link, snap
                )));
            }
        }
        self.check_usable()?;
        self.begin(code::BLOCK_IDB);
        self.u16(spec.link_type);
        self.u16(0);
        self.u32(spec.snaplen);
        self.option(code::IF_NAME, &[spec.name.as_bytes()]);
        if let Some(d) = &spec.description {
            self.option(code::IF_DESCRIPTION, &[d.as_bytes()]);
        }
        self.option(code::IF_TSRESOL, &[&[9]]);
        if let Some(f) = &spec.filter {
            self.option(code::IF_FILTER, &[&[0], f.as_bytes()]);
        }
        self.end_options();
        self.emit("interface description block")?;
        self.interfaces.push((spec.link_type, spec.snaplen));
        Ok(self.interfaces.len() as u32 - 1)
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
        let Some(&(_, snaplen)) = self.interfaces.get(iface as usize) else {
            return Err(invalid(format!(
                "packet for interface {iface}, but only {} interfaces were added",
                self.interfaces.len()
            )));
        };
        self.check_usable()?;
        let mut data = data;
        if snaplen != 0 && data.len() > snaplen as usize {
            data = &data[..snaplen as usize];
        }
        let caplen = data.len() as u32;
        self.begin(code::BLOCK_EPB);
        self.u32(iface);
        self.u32((ts_ns >> 32) as u32);
        self.u32(ts_ns as u32);
        self.u32(caplen);
        self.u32(orig_len.max(caplen));
        self.buf.extend_from_slice(data);
        self.pad();
        if let Some(d) = direction {
            let flags: u32 = match d {
                Direction::In => 1,
                Direction::Out => 2,
            };
            let b = if self.cfg.big_endian {
                flags.to_be_bytes()
            } else {
                flags.to_le_bytes()
            };
            self.option(code::EPB_FLAGS, &[&b]);
        }
        self.metadata(meta);
        self.end_options();
        self.emit("enhanced packet block")?;
        self.packets += 1;
        Ok(())
    }

    fn metadata(&mut self, meta: &PacketMeta) {
        if meta.is_empty() && meta.parent.is_none() {
            return;
        }
        // Ids (and first uses) of this packet's entities.
        let (proc_id, proc_new) = match &meta.process {
            Some(p) => self.processes.id(p, process_texts),
            None => (0, false),
        };
        let (parent_id, parent_new) = match &meta.parent {
            Some(p) => self.processes.id(p, process_texts),
            None => (0, false),
        };
        let (cont_id, cont_new) = match &meta.container {
            Some(c) => self.containers.id(c, |c| vec![container_comment(c)]),
            None => (0, false),
        };
        let (pod_id, pod_new) = match &meta.pod {
            Some(p) => self.pods.id(p, |p| vec![pod_comment(p)]),
            None => (0, false),
        };

        match self.cfg.comments {
            CommentMode::Full => {
                if proc_id != 0 {
                    self.comment_from_table(Table::Process, proc_id, 0);
                }
                let comm = meta.process.as_deref().map_or("", |p| p.comm.as_str());
                if let Some(t) = thread_comment(meta.tid, comm) {
                    self.comment(&t);
                }
                if proc_id != 0 && !self.processes.text(proc_id, 1).is_empty() {
                    self.comment_from_table(Table::Process, proc_id, 1);
                }
                if parent_id != 0 {
                    self.comment_from_table(Table::Process, parent_id, 2);
                }
                if cont_id != 0 {
                    self.comment_from_table(Table::Container, cont_id, 0);
                }
                if pod_id != 0 {
                    self.comment_from_table(Table::Pod, pod_id, 0);
                }
            }
            CommentMode::Short => {
                if let Some(s) = short_comment(meta) {
                    self.comment(&s);
                }
            }
            CommentMode::None => {}
        }

        if !self.cfg.structured {
            return;
        }
        let scope = self.scope;
        let mut defs: [Option<Entity>; 4] = [None, None, None, None];
        let ids = [proc_id, parent_id, cont_id, pod_id];
        if proc_new {
            defs[0] = meta.process.as_deref().cloned().map(Entity::Process);
        }
        if parent_new && parent_id != proc_id {
            defs[1] = meta.parent.as_deref().cloned().map(Entity::Process);
        }
        if cont_new {
            defs[2] = meta.container.as_deref().cloned().map(Entity::Container);
        }
        if pod_new {
            defs[3] = meta.pod.as_deref().cloned().map(Entity::Pod);
        }
        for (def, id) in defs.into_iter().zip(ids) {
            let Some(entity) = def else { continue };
            match definition_json(scope, id, entity) {
                Some(json) => self.custom_option(code::OPT_CUSTOM_UTF8, json.as_bytes()),
                None => self.skipped_options += 1,
            }
        }
        let record = MetaRecord {
            provenance: meta.provenance,
            scope,
            process: proc_id,
            parent: parent_id,
            container: cont_id,
            pod: pod_id,
            tid: meta.tid.unwrap_or(0),
            role: meta.role,
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        record.encode(&mut scratch);
        self.custom_option(code::OPT_CUSTOM_BINARY, &scratch);
        self.scratch = scratch;
    }

    fn comment_from_table(&mut self, t: Table, id: u32, i: usize) {
        // Moved out and back so the block buffer can be borrowed meanwhile; no allocation.
        let text = std::mem::take(self.text_slot(t, id, i));
        self.comment(&text);
        *self.text_slot(t, id, i) = text;
    }

    fn text_slot(&mut self, t: Table, id: u32, i: usize) -> &mut String {
        let texts = match t {
            Table::Process => &mut self.processes.texts,
            Table::Container => &mut self.containers.texts,
            Table::Pod => &mut self.pods.texts,
        };
        &mut texts[id as usize - 1][i]
    }

    fn comment(&mut self, text: &str) {
        if text.len() > MAX_OPTION_LEN || text.contains('\0') {
            self.skipped_options += 1;
            return;
        }
        self.option(code::OPT_COMMENT, &[text.as_bytes()]);
    }

    fn custom_option(&mut self, code: u16, data: &[u8]) {
        if data.len() + 4 > MAX_OPTION_LEN {
            self.skipped_options += 1;
            return;
        }
        let pen = if self.cfg.big_endian {
            PTCAP_PEN.to_be_bytes()
        } else {
            PTCAP_PEN.to_le_bytes()
        };
        self.option(code, &[&pen, data]);
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
        if iface as usize >= self.interfaces.len() {
            return Err(invalid(format!(
                "statistics for interface {iface}, but only {} interfaces were added",
                self.interfaces.len()
            )));
        }
        self.check_usable()?;
        let ts = end_ns.or(start_ns).unwrap_or(0);
        self.begin(code::BLOCK_ISB);
        self.u32(iface);
        self.u32((ts >> 32) as u32);
        self.u32(ts as u32);
        let big = self.cfg.big_endian;
        let ts_bytes = |t: u64| -> [u8; 8] {
            let (hi, lo) = ((t >> 32) as u32, t as u32);
            let mut b = [0; 8];
            if big {
                b[..4].copy_from_slice(&hi.to_be_bytes());
                b[4..].copy_from_slice(&lo.to_be_bytes());
            } else {
                b[..4].copy_from_slice(&hi.to_le_bytes());
                b[4..].copy_from_slice(&lo.to_le_bytes());
            }
            b
        };
        if let Some(t) = start_ns {
            self.option(code::ISB_STARTTIME, &[&ts_bytes(t)]);
        }
        if let Some(t) = end_ns {
            self.option(code::ISB_ENDTIME, &[&ts_bytes(t)]);
        }
        for (c, v) in [
            (code::ISB_IFRECV, stats.received),
            (code::ISB_IFDROP, stats.dropped),
            (code::ISB_FILTERACCEPT, stats.filter_accepted),
            (code::ISB_OSDROP, stats.os_dropped),
            (code::ISB_USRDELIV, stats.delivered),
        ] {
            if let Some(v) = v {
                let b = if big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                self.option(c, &[&b]);
            }
        }
        self.end_options();
        self.emit("interface statistics block")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush().map_err(|e| {
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
        Ok(self.out)
    }

    // ---- block building ----

    fn check_usable(&self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other(
                "an earlier write to this pcapng file failed; start a new file",
            ));
        }
        Ok(())
    }

    fn begin(&mut self, block_type: u32) {
        self.buf.clear();
        self.block_options = 0;
        self.u32(block_type);
        self.u32(0); // total length, patched by emit
    }

    fn u16(&mut self, v: u16) {
        let b = if self.cfg.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }

    fn u32(&mut self, v: u32) {
        let b = if self.cfg.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }

    fn u64(&mut self, v: u64) {
        let b = if self.cfg.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }

    fn pad(&mut self) {
        pad4(&mut self.buf);
    }

    /// One option from value parts. Callers checked the total length (≤ 65535).
    fn option(&mut self, code: u16, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        debug_assert!(len <= MAX_OPTION_LEN);
        put_option_header(&mut self.buf, self.cfg.big_endian, code, len);
        self.block_options += 1;
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        self.pad();
    }

    /// `opt_endofopt`, only when some option was written (the body then has more than the
    /// fixed part; a block without options ends right after its fixed part).
    fn end_options(&mut self) {
        if self.block_options > 0 {
            self.buf.extend_from_slice(&[0, 0, 0, 0]);
        }
    }

    /// Patches the lengths, appends the trailer and writes the block in one call.
    fn emit(&mut self, what: &str) -> io::Result<()> {
        let total = self.buf.len() + 4;
        debug_assert!(total % 4 == 0);
        let Ok(total32) = u32::try_from(total) else {
            return Err(invalid(format!(
                "{what} of {total} bytes is too large for pcapng"
            )));
        };
        let b = if self.cfg.big_endian {
            total32.to_be_bytes()
        } else {
            total32.to_le_bytes()
        };
        self.buf[4..8].copy_from_slice(&b);
        self.buf.extend_from_slice(&b);
        if let Err(e) = self.out.write_all(&self.buf) {
            self.failed = true;
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "writing the {what} at byte offset {} of the pcapng file: {e}",
                    self.bytes_written
                ),
            ));
        }
        self.bytes_written += total as u64;
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Table {
    Process,
    Container,
    Pod,
}

/// Comment texts of a process: [as the packet's process, its user line, as a parent].
fn process_texts(p: &ProcessInfo) -> Vec<String> {
    vec![
        process_comment(p),
        user_comment(p).unwrap_or_default(),
        parent_comment(p),
    ]
}

fn put_option_header(buf: &mut Vec<u8>, big: bool, code: u16, len: usize) {
    let len = len as u16;
    if big {
        buf.extend_from_slice(&code.to_be_bytes());
        buf.extend_from_slice(&len.to_be_bytes());
    } else {
        buf.extend_from_slice(&code.to_le_bytes());
        buf.extend_from_slice(&len.to_le_bytes());
    }
}

fn pad4(buf: &mut Vec<u8>) {
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

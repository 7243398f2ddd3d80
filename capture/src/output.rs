//! Where captured packets go: pcapng files (`-w`, with rotation in [`crate::rotate`]) and/or
//! tcpdump-style text (`--print`, the default; formats' renderer).
//!
//! Link types: one interface keeps its own link type (Ethernet or raw IP). `-i any` and
//! several interfaces are written as LINUX_SLL2 on every IDB with one snaplen (libpcap stops
//! reading at an IDB whose link type or snaplen differs from the first one's), like
//! `tcpdump -i any`: each packet gets a 20-byte SLL2 header with the real interface index and
//! packet type, built here from the frame the hook saw. Interfaces can be added while the
//! capture runs (the netlink watcher): each gets an IDB in the open file, and in every file
//! opened after it until it is removed.

use std::collections::BTreeMap;
use std::io::{self, Write};

use formats::meta::{CommentMode, PacketMeta};
use formats::names::LiveNames;
use formats::pcapng::linktype;
use formats::pcapng::write::{FileFormat, InterfaceSpec, WriterConfig};
use formats::pcapng::{Direction, InterfaceStats};
use formats::render::{PacketRef, RemoteNames, RenderOptions, Renderer};
use formats::wire::flow::summarize;

use crate::rotate::{FileError, FileSink, InterfaceTable, Rotation};

/// How packets are framed in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// As the hook saw them (one interface): Ethernet or raw IP.
    Native(u16),
    /// LINUX_SLL2 (`-i any`, several interfaces).
    Sll2,
}

impl LinkMode {
    pub fn linktype(self) -> u16 {
        match self {
            LinkMode::Native(l) => l,
            LinkMode::Sll2 => linktype::LINUX_SLL2,
        }
    }

    /// tcpdump's name, for the "capturing on" line.
    pub fn name(self) -> &'static str {
        match self {
            LinkMode::Native(linktype::ETHERNET) => "EN10MB (Ethernet)",
            LinkMode::Native(_) => "RAW (Raw IP)",
            LinkMode::Sll2 => "LINUX_SLL2 (Linux cooked v2)",
        }
    }
}

/// One packet as the ring delivered it.
pub struct OutPacket<'a> {
    pub ifindex: u32,
    pub ts_unix_ns: u64,
    pub wire_len: u32,
    pub inbound: bool,
    /// The frame as the hook saw it (Ethernet or IP, per the interface's kind).
    pub data: &'a [u8],
    /// Process/container context (attribution); `None` writes an empty record.
    pub meta: Option<&'a PacketMeta>,
    /// A packet the kernel dropped (`--drops`): written like the others, counted apart
    /// (`drops_written`), not in `captured` nor in the interface's delivered count.
    pub kernel_drop: bool,
}

/// An interface as it goes into an IDB.
#[derive(Debug, Clone)]
pub struct OutInterface {
    pub ifindex: u32,
    pub name: String,
    /// ARPHRD_* of the device (for the SLL2 header).
    pub arphrd: u16,
    /// LINKTYPE of the frames the hook delivers (ETHERNET or RAW).
    pub native_linktype: u16,
    /// Free text for the IDB (the network namespace).
    pub description: Option<String>,
    /// The network namespace's cookie, when known (scopes the `-v` names: see [`TextOut`]).
    pub netns: Option<u64>,
}

/// Per-interface counters for the ISBs.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutStats {
    /// Packets the hooks saw.
    pub seen: u64,
    /// Packets the filter accepted.
    pub accepted: u64,
    /// Accepted packets lost (ring full, reserve/copy failures, user-space queue).
    pub dropped: u64,
    /// Packets written/printed by us.
    pub delivered: u64,
}

/// Settings of the whole output path.
pub struct OutputConfig {
    pub link: LinkMode,
    pub snaplen: u32,
    pub filter: Option<String>,
    pub comments: CommentMode,
    pub render: RenderOptions,
    /// Print text (to stdout, or stderr when the pcapng goes to stdout).
    pub print: bool,
    /// `-w`: file name or `-`.
    pub write: Option<String>,
    pub rotation: Rotation,
}

pub(crate) struct IfaceEntry {
    pub iface: OutInterface,
    pub stats: OutStats,
}

/// Everything the output needs to know about interfaces, lent to the [`FileSink`] as its
/// [`InterfaceTable`] so a new file can describe the interfaces again. Only attached
/// interfaces are here (a deleted one's entry goes, its counters move to `retired`), so memory
/// does not grow with interface churn and a reused ifindex starts afresh.
pub(crate) struct Interfaces {
    /// Attached interfaces by ifindex (IDBs of a new file follow this order).
    pub active: BTreeMap<u32, IfaceEntry>,
    /// Counters of the interfaces removed so far, summed.
    pub retired: OutStats,
    pub link: LinkMode,
    pub snaplen: u32,
    pub filter: Option<String>,
}

impl InterfaceTable for Interfaces {
    fn ifindexes(&self) -> Vec<u32> {
        self.active.keys().copied().collect()
    }

    fn spec(&self, ifindex: u32) -> Option<InterfaceSpec> {
        let i = &self.active.get(&ifindex)?.iface;
        let mut spec = InterfaceSpec::new(&i.name, self.link.linktype(), self.snaplen);
        spec.filter = self.filter.clone();
        spec.description = i.description.clone();
        Some(spec)
    }

    fn stats(&self, ifindex: u32) -> Option<InterfaceStats> {
        let s = self.active.get(&ifindex)?.stats;
        Some(InterfaceStats {
            received: Some(s.seen),
            filter_accepted: Some(s.accepted),
            os_dropped: Some(s.dropped),
            delivered: Some(s.delivered),
            ..Default::default()
        })
    }
}

pub fn writer_config(comments: CommentMode) -> WriterConfig {
    let mut cfg = WriterConfig::new("ptcap", env!("CARGO_PKG_VERSION"));
    let os = |p: &str| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    cfg.os = Some(formats::pcapng::write::os_description(
        &os(formats::pcapng::write::OSTYPE_PATH),
        &os(formats::pcapng::write::OSRELEASE_PATH),
    ));
    cfg.comments = comments;
    // The host name of ptcap's UTS namespace: what tells a fleet's captures apart.
    cfg.node = Some(os("/proc/sys/kernel/hostname")).filter(|n| !n.is_empty());
    cfg
}

/// An output failure, with the file it concerns.
#[derive(Debug)]
pub struct OutputError {
    pub what: String,
    pub error: io::Error,
    /// The reader went away (closed pipe): stop quietly.
    pub quiet: bool,
    /// The text output failed (not the pcapng file or stream).
    pub text: bool,
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The OS's wording ("No space left on device (os error 28)") without our wrappers.
        let code = self.error.raw_os_error().or(match self.error.kind() {
            io::ErrorKind::StorageFull => Some(libc::ENOSPC),
            io::ErrorKind::QuotaExceeded => Some(libc::EDQUOT),
            _ => None,
        });
        match code {
            Some(code) => write!(f, "{}: {}", self.what, io::Error::from_raw_os_error(code)),
            None => write!(f, "{}: {}", self.what, self.error),
        }
    }
}

impl From<FileError> for OutputError {
    fn from(e: FileError) -> Self {
        OutputError {
            what: e.what,
            error: e.error,
            quiet: e.quiet,
            text: false,
        }
    }
}

/// The writing and printing path.
pub struct Output {
    pub(crate) ifs: Interfaces,
    file: Option<FileSink>,
    text: Option<TextOut>,
    frame: Vec<u8>,
    empty: PacketMeta,
    /// Packets written or printed (written: in the file as it is on disk; packets a write
    /// error cut off move to `not_captured.output_failed` when the file is closed).
    pub captured: u64,
    /// Packets that reached user space and are not in the output, by reason.
    pub not_captured: NotCaptured,
    /// Packets the kernel dropped written or printed (not in `captured`).
    pub drops_written: u64,
}

/// Why packets that reached user space (received by filter, not dropped by the kernel) are
/// not in the output. With `captured` these add up to every packet read from the ring.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotCaptured {
    /// Left out by the process/container selection (`--pid`, `--pname`, `--uid`,
    /// `--container-*`, `--pod-name`, `-- CMD`).
    pub selected_out: u64,
    /// Lost to an output error (the write that failed, those after it, and those the file
    /// was cut back to its last complete block for).
    pub output_failed: u64,
    /// Arrived after the capture had ended (`-c N` reached, the last `-G` `-W` file closed)
    /// and before the hooks were detached.
    pub after_end: u64,
    /// Of an interface that was no longer attached (none expected: the ring is drained
    /// before an interface is forgotten).
    pub unknown_interface: u64,
}

impl NotCaptured {
    pub fn total(&self) -> u64 {
        self.selected_out + self.output_failed + self.after_end + self.unknown_interface
    }
}

impl OutStats {
    fn add(&mut self, o: &OutStats) {
        self.seen += o.seen;
        self.accepted += o.accepted;
        self.dropped += o.dropped;
        self.delivered += o.delivered;
    }
}

impl Output {
    /// Opens the first file (it needs root when the directory is root's: call before dropping
    /// privileges) and prepares the text output.
    pub fn new(
        cfg: OutputConfig,
        interfaces: Vec<OutInterface>,
        start_ns: u64,
    ) -> Result<Output, OutputError> {
        let mut ifs = Interfaces {
            active: BTreeMap::new(),
            retired: OutStats::default(),
            link: cfg.link,
            snaplen: cfg.snaplen,
            filter: cfg.filter.clone(),
        };
        for i in interfaces {
            ifs.active.insert(
                i.ifindex,
                IfaceEntry {
                    iface: i,
                    stats: OutStats::default(),
                },
            );
        }
        let file = match &cfg.write {
            Some(path) => Some(FileSink::open(
                path,
                cfg.rotation.clone(),
                writer_config(cfg.comments)
                    .with_format(FileFormat::for_path(path, cfg.render.nano)),
                &ifs,
                start_ns,
            )?),
            None => None,
        };
        let text = cfg.print.then(|| {
            let to_stderr = cfg.write.as_deref() == Some("-");
            let mut t = TextOut::new(
                if to_stderr {
                    Box::new(io::BufWriter::new(io::stderr())) as Box<dyn Write>
                } else {
                    Box::new(io::BufWriter::with_capacity(1 << 16, io::stdout())) as Box<dyn Write>
                },
                cfg.render,
            );
            t.to_stderr = to_stderr;
            t
        });
        Ok(Output {
            ifs,
            file,
            text,
            frame: Vec::with_capacity(2048),
            empty: PacketMeta::default(),
            captured: 0,
            not_captured: NotCaptured::default(),
            drops_written: 0,
        })
    }

    /// How packets are framed (the "capturing on" line names it).
    pub fn link(&self) -> LinkMode {
        self.ifs.link
    }

    pub fn is_known(&self, ifindex: u32) -> bool {
        self.ifs.active.contains_key(&ifindex)
    }

    /// A new interface: an IDB in the open file (and in later ones).
    pub fn add_interface(&mut self, i: OutInterface) -> Result<(), OutputError> {
        let ix = i.ifindex;
        if let Some(f) = &mut self.file {
            // An interface reusing a removed one's ifindex gets an IDB of its own.
            f.remove_interface(&self.ifs, ix, None)?;
        }
        if let Some(old) = self.ifs.active.remove(&ix) {
            self.ifs.retired.add(&old.stats);
        }
        self.ifs.active.insert(
            ix,
            IfaceEntry {
                iface: i,
                stats: OutStats::default(),
            },
        );
        if let Some(f) = &mut self.file {
            f.add_interface(&self.ifs, ix)?;
        }
        Ok(())
    }

    /// The interface is gone (give its final counters first): its ISB is written to the open
    /// file now, later files have no IDB for it, and its counters stay in the totals.
    pub fn remove_interface(&mut self, ifindex: u32, now_ns: u64) -> Result<(), OutputError> {
        let r = match &mut self.file {
            Some(f) => f.remove_interface(&self.ifs, ifindex, Some(now_ns)),
            None => Ok(()),
        }
        .map_err(OutputError::from);
        if let Some(old) = self.ifs.active.remove(&ifindex) {
            self.ifs.retired.add(&old.stats);
        }
        r
    }

    /// Latest kernel counters of an interface (for the ISBs).
    pub fn set_counters(&mut self, ifindex: u32, seen: u64, accepted: u64, dropped: u64) {
        if let Some(e) = self.ifs.active.get_mut(&ifindex) {
            let s = &mut e.stats;
            s.seen = seen;
            s.accepted = accepted;
            s.dropped = dropped;
        }
    }

    /// The attached interfaces.
    pub fn interfaces(&self) -> impl Iterator<Item = (&OutInterface, &OutStats)> {
        self.ifs.active.values().map(|e| (&e.iface, &e.stats))
    }

    /// Counters of every interface of the capture, removed ones included.
    pub fn totals(&self) -> OutStats {
        let mut t = self.ifs.retired;
        for e in self.ifs.active.values() {
            t.add(&e.stats);
        }
        t
    }

    /// Writes and/or prints one packet; every call counts the packet once: in `captured`, or
    /// in `not_captured` with the reason. `Ok(false)`: not written (reason counted).
    pub fn packet(&mut self, p: &OutPacket<'_>) -> Result<bool, OutputError> {
        let Some(entry) = self.ifs.active.get(&p.ifindex) else {
            self.not_captured.unknown_interface += 1;
            return Ok(false);
        };
        let (data, wire_len) = match self.ifs.link {
            LinkMode::Native(_) => (p.data, p.wire_len),
            LinkMode::Sll2 => {
                let added = sll2_frame(&mut self.frame, &entry.iface, p.inbound, p.data);
                (
                    &self.frame[..],
                    (p.wire_len as i64 + added as i64).max(0) as u32,
                )
            }
        };
        let direction = if p.inbound {
            Direction::In
        } else {
            Direction::Out
        };
        let meta = p.meta.unwrap_or(&self.empty);
        if let Some(f) = &mut self.file {
            match f.write_packet(
                &self.ifs,
                p.ifindex,
                p.ts_unix_ns,
                wire_len,
                data,
                direction,
                meta,
            ) {
                Ok(true) => {}
                Ok(false) => {
                    self.not_captured.after_end += 1;
                    return Ok(false);
                }
                Err(e) => {
                    self.not_captured.output_failed += 1;
                    return Err(e.into());
                }
            }
        }
        let mut text_error = None;
        if let Some(t) = &mut self.text {
            let entry = &self.ifs.active[&p.ifindex];
            let pkt = PacketRef {
                ts_ns: p.ts_unix_ns,
                link_type: self.ifs.link.linktype(),
                data,
                orig_len: wire_len,
                interface: Some(&entry.iface.name),
                direction: Some(direction),
            };
            text_error = t.write_packet(&pkt, p.meta, entry.iface.netns).err();
        }
        if let Some(e) = text_error {
            if let Err(e) = self.text_failed(e) {
                self.not_captured.output_failed += 1;
                return Err(e);
            }
        }
        if p.kernel_drop {
            self.drops_written += 1;
            return Ok(true);
        }
        self.captured += 1;
        if let Some(e) = self.ifs.active.get_mut(&p.ifindex) {
            e.stats.delivered += 1;
        }
        Ok(true)
    }

    /// End of a batch of packets: make what was written visible (file, pipe, terminal).
    pub fn flush(&mut self) -> Result<(), OutputError> {
        if let Some(f) = &mut self.file {
            f.flush()?;
        }
        if let Some(e) = self.text.as_mut().and_then(|t| t.flush().err()) {
            self.text_failed(e)?;
        }
        Ok(())
    }

    /// The text output failed. On stdout that ends the capture (tcpdump: "Unable to write
    /// output", status 14); on stderr (beside `-w -`) the text is given up and the capture
    /// goes on, as tcpdump ignores a closed stderr.
    fn text_failed(&mut self, e: io::Error) -> Result<(), OutputError> {
        if self.text.as_ref().is_some_and(|t| t.to_stderr) {
            self.text = None;
            return Ok(());
        }
        self.text = None;
        Err(OutputError {
            what: "standard output".into(),
            quiet: e.kind() == io::ErrorKind::BrokenPipe,
            text: true,
            error: e,
        })
    }

    /// `-G` with `-W`: the last file is complete; the capture is over.
    pub fn done(&self) -> bool {
        self.file.as_ref().is_some_and(|f| f.done())
    }

    /// Time-based rotation (`-G`) happens even without packets. `Ok(false)`: `-W` files were
    /// written with `-G`, the capture is over.
    pub fn tick(&mut self, now_ns: u64) -> Result<bool, OutputError> {
        match &mut self.file {
            Some(f) => Ok(f.tick(&self.ifs, now_ns)?),
            None => Ok(true),
        }
    }

    /// Writes the ISBs and closes the file (valid up to its last complete block even after a
    /// write error).
    /// Packets a write error cut off the file are moved from `captured` to
    /// `not_captured.output_failed`, so `captured` is what the files hold.
    pub fn finish(&mut self, end_ns: u64) -> Result<(), OutputError> {
        let mut result = Ok(());
        if let Some(t) = &mut self.text {
            let _ = t.flush();
        }
        if let Some(mut f) = self.file.take() {
            result = f.finish(&self.ifs, end_ns).map_err(OutputError::from);
            let lost = f.lost.min(self.captured);
            self.captured -= lost;
            self.not_captured.output_failed += lost;
        }
        result
    }
}

/// Builds `frame` = SLL2 header + network-layer payload; returns how many bytes longer the
/// frame is than the hook's (20 - link header length).
fn sll2_frame(frame: &mut Vec<u8>, i: &OutInterface, inbound: bool, data: &[u8]) -> i32 {
    frame.clear();
    let (proto, payload, addr, hdr): (u16, &[u8], &[u8], i32) =
        if i.native_linktype == linktype::ETHERNET {
            if data.len() < 14 {
                (0, &[][..], &[][..], 0)
            } else {
                (
                    u16::from_be_bytes([data[12], data[13]]),
                    &data[14..],
                    &data[6..12],
                    14,
                )
            }
        } else {
            let proto = match data.first().map(|b| b >> 4) {
                Some(6) => 0x86dd,
                _ => 0x0800,
            };
            (proto, data, &[][..], 0)
        };
    // PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OUTGOING 4 (libpcap's SLL2 packet types).
    let pkttype: u8 = if !inbound {
        4
    } else if i.native_linktype == linktype::ETHERNET && data.len() >= 6 {
        if data[..6] == [0xff; 6] {
            1
        } else if data[0] & 1 != 0 {
            2
        } else {
            0
        }
    } else {
        0
    };
    frame.extend_from_slice(&proto.to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(&i.ifindex.to_be_bytes());
    frame.extend_from_slice(&i.arphrd.to_be_bytes());
    frame.push(pkttype);
    frame.push(addr.len() as u8);
    let mut a = [0u8; 8];
    a[..addr.len()].copy_from_slice(addr);
    frame.extend_from_slice(&a);
    frame.extend_from_slice(payload);
    20 - hdr
}

/// tcpdump-style text, one packet at a time. With `-v`, the names the DNS answers seen so far
/// give the packet's remote address are shown in its context (`    Remote ADDR (NAMES)`);
/// without `-v` there is no table and no look at any packet beyond rendering it.
pub struct TextOut {
    renderer: Renderer,
    buf: Vec<u8>,
    out: Box<dyn Write>,
    /// The text goes to stderr (the pcapng stream has stdout).
    pub to_stderr: bool,
    /// `-v`: what DNS answers named, per client (bounded).
    names: Option<LiveNames>,
}

impl TextOut {
    pub fn new(out: Box<dyn Write>, opts: RenderOptions) -> Self {
        TextOut {
            renderer: Renderer::new(opts),
            buf: Vec::new(),
            out,
            to_stderr: false,
            names: (opts.verbose > 0).then(LiveNames::new),
        }
    }

    /// Prints one packet seen in network namespace `netns` (a cookie), then learns from it.
    pub fn write_packet(
        &mut self,
        pkt: &PacketRef<'_>,
        meta: Option<&PacketMeta>,
        netns: Option<u64>,
    ) -> io::Result<()> {
        self.buf.clear();
        let summary = self
            .names
            .as_ref()
            .and_then(|_| summarize(pkt.link_type, pkt.data));
        match (&mut self.names, summary) {
            (Some(names), Some(s)) => {
                let found = names.remote(pkt, &s, meta, netns);
                let remote = found.as_ref().map(|(addr, of_addr)| RemoteNames {
                    addr: *addr,
                    names: of_addr,
                });
                self.renderer.render_named(&mut self.buf, pkt, meta, remote);
                // After the answer's own line: a name shows from the next packet on.
                names.observe(pkt, &s, meta, netns);
            }
            _ => self.renderer.render(&mut self.buf, pkt, meta),
        }
        self.out.write_all(&self.buf)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sll2_from_ethernet_and_raw() {
        let i = OutInterface {
            ifindex: 7,
            name: "veth0".into(),
            arphrd: 1,
            native_linktype: linktype::ETHERNET,
            description: None,
            netns: None,
        };
        let mut eth = vec![0xff; 6];
        eth.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06, 0xaa]);
        let mut f = Vec::new();
        assert_eq!(sll2_frame(&mut f, &i, true, &eth), 6);
        assert_eq!(
            &f[..20],
            &[8, 6, 0, 0, 0, 0, 0, 7, 0, 1, 1, 6, 2, 0, 0, 0, 0, 1, 0, 0]
        );
        assert_eq!(&f[20..], &[0xaa]);
        let raw = OutInterface {
            native_linktype: linktype::RAW,
            arphrd: 65534,
            ..i
        };
        assert_eq!(sll2_frame(&mut f, &raw, false, &[0x60, 0]), 20);
        assert_eq!(&f[..2], &[0x86, 0xdd]);
        assert_eq!(f[10], 4);
        assert_eq!(f[11], 0);
        assert_eq!(&f[20..], &[0x60, 0]);
    }
}

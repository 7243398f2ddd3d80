//! tcpdump-style text (`-nn` always: names and ports are never resolved), plus the process
//! context in ptcpdump's layout.
//!
//! A [`Renderer`] is stateful like tcpdump: it remembers TCP connections (relative sequence
//! numbers) and the first/previous timestamps (`-ttt`, `-ttttt`). It writes into a caller's
//! reused `Vec<u8>`.
//!
//! ```
//! use formats::render::{PacketRef, RenderOptions, Renderer, TimestampMode};
//! let mut r = Renderer::new(RenderOptions { timestamp: TimestampMode::Epoch, ..Default::default() });
//! // An IPv4 UDP datagram on a RAW link.
//! let pkt = [0x45, 0, 0, 29, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
//!            0x30, 0x39, 0x27, 0x0f, 0, 9, 0, 0, b'x'];
//! let mut out = Vec::new();
//! r.render(&mut out, &PacketRef { ts_ns: 1_500_000_000, link_type: 101, data: &pkt,
//!     orig_len: 29, interface: None, direction: None }, None);
//! assert_eq!(out, b"1.500000 IP 198.18.0.1.12345 > 198.18.0.2.9999: UDP, length 1\n");
//! ```

mod proto;
mod text;

use crate::meta::PacketMeta;
use crate::pcapng::{linktype, Direction};
use proto::{ascii_dump, hex_ascii_dump, hex_dump, Printer, TcpSeqTable};
use text::Out;

/// How to print the timestamp (tcpdump's `-t` count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimestampMode {
    /// Local time of day, `HH:MM:SS.ffffff`.
    #[default]
    Default,
    /// `-t`: none.
    None,
    /// `-tt`: seconds since the epoch.
    Epoch,
    /// `-ttt`: time since the previous packet.
    Delta,
    /// `-tttt`: local date and time.
    Date,
    /// `-ttttt`: time since the first packet.
    SinceFirst,
}

impl TimestampMode {
    /// From the number of `-t` flags.
    pub fn from_count(n: u8) -> TimestampMode {
        match n {
            0 => TimestampMode::Default,
            1 => TimestampMode::None,
            2 => TimestampMode::Epoch,
            3 => TimestampMode::Delta,
            4 => TimestampMode::Date,
            _ => TimestampMode::SinceFirst,
        }
    }
}

/// Packet bytes after the text (`-x`, `-xx`, `-X`, `-XX`, `-A`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DumpMode {
    #[default]
    None,
    /// `-x`: hex of the packet after the link-layer header.
    Hex,
    /// `-xx`: hex including the link-layer header.
    HexWithLink,
    /// `-X`: hex and ASCII after the link-layer header.
    HexAscii,
    /// `-XX`: hex and ASCII including the link-layer header.
    HexAsciiWithLink,
    /// `-A`: ASCII after the link-layer header.
    Ascii,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Number of `-v`.
    pub verbose: u8,
    /// `-q`.
    pub quiet: bool,
    /// `-S`: absolute TCP sequence numbers.
    pub absolute_seq: bool,
    pub timestamp: TimestampMode,
    /// `--nano`: nine fraction digits.
    pub nano: bool,
    pub dump: DumpMode,
    /// `--oneline`: all lines of a packet joined with ", ".
    pub oneline: bool,
    /// `-e`: the link-level header (MAC addresses, EtherType; SLL/SLL2 fields).
    pub link_header: bool,
    /// `-#`: each line starts with the packet's number (from 1).
    pub number: bool,
    /// `--context`: which context the text shows (all by default).
    pub context: Context,
}

/// Which parts of the process and container context the text shows (ptcpdump's `--context
/// process,thread,parentproc,user,container,pod`; all by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    pub process: bool,
    pub thread: bool,
    pub parent: bool,
    pub user: bool,
    pub container: bool,
    pub pod: bool,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            process: true,
            thread: true,
            parent: true,
            user: true,
            container: true,
            pod: true,
        }
    }
}

impl Context {
    /// The names ptcpdump's `--context` takes.
    pub const NAMES: [&'static str; 6] = [
        "process",
        "thread",
        "parentproc",
        "user",
        "container",
        "pod",
    ];

    /// From a comma-separated list of [`Context::NAMES`] (repeatable: the lists are joined).
    pub fn parse(lists: &[String]) -> Result<Context, String> {
        let mut c = Context {
            process: false,
            thread: false,
            parent: false,
            user: false,
            container: false,
            pod: false,
        };
        for name in lists.iter().flat_map(|l| l.split(',')).map(str::trim) {
            match name {
                "process" => c.process = true,
                "thread" => c.thread = true,
                "parentproc" => c.parent = true,
                "user" => c.user = true,
                "container" => c.container = true,
                "pod" => c.pod = true,
                "" => {}
                other => {
                    return Err(format!(
                        "--context {other}: the context names are {}",
                        Context::NAMES.join(", ")
                    ))
                }
            }
        }
        Ok(c)
    }
}

/// The names of a packet's remote address, for its `-v` context (see
/// [`Renderer::render_named`]).
#[derive(Debug, Clone, Copy)]
pub struct RemoteNames<'a> {
    pub addr: std::net::IpAddr,
    /// Newest first; never empty when printed.
    pub names: &'a [std::sync::Arc<str>],
}

/// One packet to print.
#[derive(Debug, Clone, Copy)]
pub struct PacketRef<'a> {
    pub ts_ns: u64,
    pub link_type: u16,
    pub data: &'a [u8],
    pub orig_len: u32,
    /// The interface name from a pcapng IDB, when there is one.
    pub interface: Option<&'a str>,
    pub direction: Option<Direction>,
}

/// The protocol part of one packet's tcpdump line, as `tcpdump -nn -S -t` prints it (no
/// timestamp, no link-level prefix, absolute TCP sequence numbers, so it needs no state), on
/// one line: what follows the first line (dumps, `-v` continuation) is left out.
pub fn protocol_line(out: &mut Vec<u8>, link_type: u16, data: &[u8], orig_len: u32) {
    let opts = RenderOptions {
        absolute_seq: true,
        ..RenderOptions::default()
    };
    let mut tcp = TcpSeqTable::default();
    let start = out.len();
    let mut p = Printer {
        out,
        opts: &opts,
        tcp: &mut tcp,
        sll2_prefix: false,
    };
    p.link(link_type, data, orig_len);
    if let Some(nl) = out[start..].iter().position(|&c| c == b'\n') {
        out.truncate(start + nl);
    }
    while out.len() > start && out[out.len() - 1].is_ascii_whitespace() {
        out.pop();
    }
}

/// Prints packets like `tcpdump -nn`; keeps tcpdump's state between packets.
pub struct Renderer {
    opts: RenderOptions,
    tcp: TcpSeqTable,
    first_ts: Option<u64>,
    prev_ts: Option<u64>,
    /// Cache of the local UTC offset: (15-minute bucket, offset in seconds).
    tz_cache: Option<(i64, i64)>,
    scratch: Vec<u8>,
    /// Packets rendered (`-#`).
    count: u64,
}

impl Renderer {
    pub fn new(opts: RenderOptions) -> Renderer {
        Renderer {
            opts,
            tcp: TcpSeqTable::default(),
            first_ts: None,
            prev_ts: None,
            tz_cache: None,
            scratch: Vec::new(),
            count: 0,
        }
    }

    pub fn options(&self) -> &RenderOptions {
        &self.opts
    }

    /// Appends the text of one packet (ending in a newline) to `out`.
    pub fn render(&mut self, out: &mut Vec<u8>, pkt: &PacketRef<'_>, meta: Option<&PacketMeta>) {
        self.render_named(out, pkt, meta, None)
    }

    /// [`Renderer::render`], and with `-v` in ptcpdump's layout a context line naming the
    /// packet's remote address (`    Remote 198.18.3.7 (www.shop.test,edge.cdn.test)`): ptcap
    /// passes what its live table ([`crate::names::LiveNames`]) knows. The tcpdump lines stay
    /// as they are.
    pub fn render_named(
        &mut self,
        out: &mut Vec<u8>,
        pkt: &PacketRef<'_>,
        meta: Option<&PacketMeta>,
        remote: Option<RemoteNames<'_>>,
    ) {
        if self.opts.oneline {
            let mut buf = std::mem::take(&mut self.scratch);
            buf.clear();
            self.render_lines(&mut buf, pkt, meta, remote);
            let mut first = true;
            for line in buf.split(|&c| c == b'\n') {
                // The first line keeps its start (`-#` pads the number).
                let line = if first {
                    line.trim_ascii_end()
                } else {
                    line.trim_ascii()
                };
                if line.is_empty() {
                    continue;
                }
                if !first {
                    out.extend_from_slice(b", ");
                }
                first = false;
                out.extend_from_slice(line);
            }
            out.push(b'\n');
            self.scratch = buf;
        } else {
            self.render_lines(out, pkt, meta, remote);
        }
    }

    fn render_lines(
        &mut self,
        out: &mut Vec<u8>,
        pkt: &PacketRef<'_>,
        meta: Option<&PacketMeta>,
        remote: Option<RemoteNames<'_>>,
    ) {
        self.count += 1;
        if self.opts.number {
            // tcpdump: "%5u  ".
            let mut buf = itoa::Buffer::new();
            let n = buf.format(self.count);
            for _ in n.len()..5 {
                out.c(b' ');
            }
            out.s(n);
            out.s("  ");
        }
        self.timestamp(out, pkt.ts_ns);
        let meta = meta.filter(|m| !m.is_empty() || m.drop.is_some() || m.nat.is_some());
        let ptcpdump = meta.is_some() || pkt.interface.is_some();
        let v = self.opts.verbose > 0;
        if ptcpdump {
            if let Some(name) = pkt.interface {
                out.escaped(name);
                out.c(b' ');
            }
            if !v && self.opts.context.process {
                if let Some(p) = meta.and_then(|m| m.process.as_deref()) {
                    out.escaped(p.short_name());
                    out.c(b'.');
                    out.n(p.pid);
                    out.c(b' ');
                }
            }
            let dir = pkt.direction.or_else(|| sll_direction(pkt));
            if let Some(d) = dir {
                out.s(d.as_str());
                out.c(b' ');
            }
        }
        let mut p = Printer {
            out,
            opts: &self.opts,
            tcp: &mut self.tcp,
            sll2_prefix: !ptcpdump,
        };
        let hdrlen = p
            .link(pkt.link_type, pkt.data, pkt.orig_len)
            .min(pkt.data.len());
        if let Some(m) = meta {
            if v {
                context_lines(out, m, &self.opts.context);
            } else {
                context_suffix(out, m, &self.opts.context);
            }
        }
        if let Some(r) = remote.filter(|r| v && ptcpdump && !r.names.is_empty()) {
            remote_line(out, &r);
        }
        let data = pkt.data;
        match self.opts.dump {
            DumpMode::None => {}
            DumpMode::Hex => hex_dump(out, &data[hdrlen..], "\n\t"),
            DumpMode::HexWithLink => hex_dump(out, data, "\n\t"),
            DumpMode::HexAscii => hex_ascii_dump(out, &data[hdrlen..], "\n\t"),
            DumpMode::HexAsciiWithLink => hex_ascii_dump(out, data, "\n\t"),
            DumpMode::Ascii => ascii_dump(out, &data[hdrlen..]),
        }
        out.c(b'\n');
    }

    fn timestamp(&mut self, out: &mut Vec<u8>, ts: u64) {
        match self.opts.timestamp {
            TimestampMode::None => {}
            TimestampMode::Default => {
                let local = ts as i128 + i128::from(self.utc_offset(ts)) * 1_000_000_000;
                self.hms(out, local.max(0) as u64, true);
                out.c(b' ');
            }
            TimestampMode::Date => {
                let off = self.utc_offset(ts);
                let local = ts as i128 + i128::from(off) * 1_000_000_000;
                let local = local.max(0) as u64;
                let days = (local / 1_000_000_000 / 86400) as i64;
                let (y, m, d) = civil_from_days(days);
                out.n(y);
                out.c(b'-');
                two(out, m as u64);
                out.c(b'-');
                two(out, d as u64);
                out.c(b' ');
                self.hms(out, local, true);
                out.c(b' ');
            }
            TimestampMode::Epoch => {
                out.n(ts / 1_000_000_000);
                out.c(b'.');
                self.frac(out, ts % 1_000_000_000);
                out.c(b' ');
            }
            TimestampMode::Delta | TimestampMode::SinceFirst => {
                let base = if self.opts.timestamp == TimestampMode::Delta {
                    self.prev_ts.unwrap_or(ts)
                } else {
                    *self.first_ts.get_or_insert(ts)
                };
                // Each timestamp is first cut to the printed precision, as libpcap does.
                let (t, b) = (self.trunc_ts(ts), self.trunc_ts(base));
                let (sign, d) = if t >= b { (b' ', t - b) } else { (b'-', b - t) };
                out.c(sign);
                self.hms(out, d, false);
                out.c(b' ');
            }
        }
        self.prev_ts = Some(ts);
        self.first_ts.get_or_insert(ts);
    }

    fn trunc_ts(&self, ts: u64) -> u64 {
        if self.opts.nano {
            ts
        } else {
            ts - ts % 1000
        }
    }

    fn frac(&self, out: &mut Vec<u8>, ns: u64) {
        if self.opts.nano {
            pad_num(out, ns, 9);
        } else {
            pad_num(out, ns / 1000, 6);
        }
    }

    /// `HH:MM:SS.frac` of a time of day (or a duration, hours taken modulo a day).
    fn hms(&self, out: &mut Vec<u8>, ns: u64, _day: bool) {
        let secs = ns / 1_000_000_000;
        two(out, (secs / 3600) % 24);
        out.c(b':');
        two(out, (secs / 60) % 60);
        out.c(b':');
        two(out, secs % 60);
        out.c(b'.');
        self.frac(out, ns % 1_000_000_000);
    }

    /// The local UTC offset at `ts`, from the C library (so it matches tcpdump exactly).
    fn utc_offset(&mut self, ts_ns: u64) -> i64 {
        let secs = (ts_ns / 1_000_000_000) as i64;
        let bucket = secs / 900;
        if let Some((b, off)) = self.tz_cache {
            if b == bucket {
                return off;
            }
        }
        let off = local_offset(secs);
        self.tz_cache = Some((bucket, off));
        off
    }
}

fn local_offset(secs: i64) -> i64 {
    let t = secs as libc::time_t;
    // SAFETY: tm is plain data; localtime_r only writes into it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() {
        0
    } else {
        tm.tm_gmtoff as i64
    }
}

fn sll_direction(pkt: &PacketRef<'_>) -> Option<Direction> {
    if pkt.link_type != linktype::LINUX_SLL2 {
        return None;
    }
    match pkt.data.get(10) {
        Some(4) => Some(Direction::Out),
        Some(_) => Some(Direction::In),
        None => None,
    }
}

fn two(out: &mut Vec<u8>, v: u64) {
    pad_num(out, v, 2)
}

fn pad_num(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = itoa::Buffer::new();
    let s = buf.format(v);
    for _ in s.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(s.as_bytes());
}

/// `ts_ns` (ns since the epoch) as RFC 3339 in UTC with nine fraction digits:
/// `2026-11-29T18:45:47.134988180Z`.
pub fn rfc3339_utc(ts_ns: u64) -> String {
    let secs = ts_ns / 1_000_000_000;
    let (y, m, d) = civil_from_days((secs / 86400) as i64);
    let t = secs % 86400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        t / 3600,
        t / 60 % 60,
        t % 60,
        ts_ns % 1_000_000_000
    )
}

/// `ts_ns` as `tcpdump -tttt` prints it, in local time: `2026-11-29 18:45:47.134988`
/// (nine fraction digits with `nano`).
pub fn local_date_time(ts_ns: u64, nano: bool) -> String {
    let mut r = Renderer::new(RenderOptions {
        timestamp: TimestampMode::Date,
        nano,
        ..RenderOptions::default()
    });
    let mut out = Vec::with_capacity(32);
    r.timestamp(&mut out, ts_ns);
    String::from_utf8_lossy(out.trim_ascii_end()).into_owned()
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Non-verbose, as ptcpdump prints it:
/// `, Thread [name.tid], ParentProc [comm.pid], Container [name], Pod [name.ns]`.
fn context_suffix(out: &mut Vec<u8>, m: &PacketMeta, c: &Context) {
    if let Some(t) = m.thread.as_deref().filter(|t| t.tid != 0 && c.thread) {
        out.s(", Thread [");
        out.escaped(&t.name);
        out.c(b'.');
        out.n(t.tid);
        out.s("]");
    }
    if let Some(p) = m.parent.as_deref().filter(|_| c.parent) {
        out.s(", ParentProc [");
        out.escaped(p.short_name());
        out.c(b'.');
        out.n(p.pid);
        out.s("]");
    }
    if let Some(k) = m.container.as_deref().filter(|_| c.container) {
        out.s(", Container [");
        out.escaped(&k.name);
        out.s("]");
    }
    if let Some(p) = m.pod.as_deref().filter(|_| c.pod) {
        out.s(", Pod [");
        out.escaped(&p.name);
        out.c(b'.');
        out.escaped(&p.namespace);
        out.s("]");
    }
    if let Some(d) = m.drop.as_deref() {
        out.s(", Dropped [");
        out.escaped(&d.reason);
        out.s("]");
    }
}

fn json(out: &mut Vec<u8>, map: &std::collections::BTreeMap<String, String>) {
    let s = serde_json::to_string(map).unwrap_or_else(|_| "{}".to_string());
    out.escaped(&s);
}

/// Verbose: one indented line per known entity.
fn context_lines(out: &mut Vec<u8>, m: &PacketMeta, c: &Context) {
    let proc_line = |out: &mut Vec<u8>, tag: &str, p: &crate::meta::ProcessInfo| {
        out.s("\n    ");
        out.s(tag);
        out.s(" (pid ");
        out.n(p.pid);
        out.s(", cmd ");
        out.escaped(&p.exe);
        out.s(", args ");
        for (i, a) in p.argv.iter().enumerate() {
            if i > 0 {
                out.c(b' ');
            }
            out.escaped(a);
        }
        out.s(")");
    };
    if let Some(p) = m.process.as_deref() {
        if c.process {
            proc_line(out, "Process", p);
        }
        // ptcpdump: `Thread (tid N, name NAME)` right after the process, when the tid is known.
        if let Some(t) = m.thread.as_deref().filter(|t| t.tid != 0 && c.thread) {
            out.s("\n    Thread (tid ");
            out.n(t.tid);
            out.s(", name ");
            out.escaped(&t.name);
            out.s(")");
        }
        if let Some(uid) = p.uid.filter(|_| c.user) {
            out.s("\n    User (uid ");
            out.n(uid);
            out.s(")");
        }
    }
    if let Some(p) = m.parent.as_deref().filter(|_| c.parent) {
        proc_line(out, "ParentProc", p);
    }
    if let Some(c) = m.container.as_deref().filter(|_| c.container) {
        out.s("\n    Container (name ");
        out.escaped(&c.name);
        out.s(", id ");
        out.escaped(&c.id);
        out.s(", image ");
        out.escaped(&c.image);
        out.s(", labels ");
        json(out, &c.labels);
        out.s(")");
    }
    if let Some(p) = m.pod.as_deref().filter(|_| c.pod) {
        out.s("\n    Pod (name ");
        out.escaped(&p.name);
        out.s(", namespace ");
        out.escaped(&p.namespace);
        out.s(", UID ");
        out.escaped(&p.uid);
        out.s(", labels ");
        json(out, &p.labels);
        out.s(", annotations ");
        json(out, &p.annotations);
        out.s(")");
    }
    if let Some(d) = m.drop.as_deref() {
        out.s("\n    Drop (reason ");
        out.escaped(&d.reason);
        out.s(", location ");
        out.escaped(&d.location);
        out.s(")");
    }
    if let Some(n) = m.nat.as_deref() {
        nat_line(out, n, m.nat_reply);
    }
}

/// `    Remote ADDR (NAME,NAME)`: the address as tcpdump prints it, its names beside it (as
/// ptanalyze's `--flows` text writes an endpoint's names).
fn remote_line(out: &mut Vec<u8>, r: &RemoteNames<'_>) {
    out.s("\n    Remote ");
    out.addr(r.addr);
    out.s(" (");
    for (i, n) in r.names.iter().enumerate() {
        if i > 0 {
            out.c(b',');
        }
        out.escaped(n);
    }
    out.c(b')');
}

/// `    NAT (original A.p > B.q)`: the packet's addresses and ports before netfilter rewrote
/// them, in the packet's direction (tcpdump's `addr.port` notation).
fn nat_line(out: &mut Vec<u8>, n: &crate::meta::NatInfo, reply: bool) {
    let t = n.untranslated(reply);
    let end = |out: &mut Vec<u8>, a: std::net::IpAddr, p: u16| {
        out.addr(a);
        out.c(b'.');
        out.n(p);
    };
    out.s("\n    NAT (original ");
    end(out, t.src, t.sport);
    out.s(" > ");
    end(out, t.dst, t.dport);
    out.s(")");
}

#[cfg(test)]
mod tests;

/// What the printers' unit tests share.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::{PacketRef, RenderOptions, Renderer, TimestampMode};

    /// The text `tcpdump -nn -t` (with `verbose` `-v`) prints for an IP packet on a RAW
    /// link, without the final newline.
    pub(crate) fn line_v(data: &[u8], verbose: u8) -> String {
        line_on(crate::pcapng::linktype::RAW, data, verbose)
    }

    /// An IPv4 packet 198.18.0.1 > 198.18.0.2 (TTL 64, DF, id 0) with a correct header
    /// checksum.
    pub(crate) fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2]);
        let c = crate::wire::checksum::expected(0, &p, 10);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    /// A UDP header (checksum 0) and `payload`.
    /// An IPv6 packet fd00::1 -> fd00::2 (hop limit 64) with next header `next`.
    pub(crate) fn ipv6(next: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0, 0, body.len() as u8, next, 64];
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(body);
        p
    }

    pub(crate) fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut u = Vec::new();
        u.extend_from_slice(&sport.to_be_bytes());
        u.extend_from_slice(&dport.to_be_bytes());
        u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        u
    }

    /// [`line_v`] for a packet of any link type.
    pub(crate) fn line_on(link_type: u16, data: &[u8], verbose: u8) -> String {
        let mut r = Renderer::new(RenderOptions {
            verbose,
            timestamp: TimestampMode::None,
            ..RenderOptions::default()
        });
        let mut out = Vec::new();
        let pkt = PacketRef {
            ts_ns: 0,
            link_type,
            data,
            orig_len: data.len() as u32,
            interface: None,
            direction: None,
        };
        r.render(&mut out, &pkt, None);
        String::from_utf8(out)
            .unwrap()
            .trim_end_matches('\n')
            .to_string()
    }
}

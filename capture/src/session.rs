//! One live capture: resolve interfaces, compile the filter, load and attach the BPF side,
//! read the ring until -c, SIGINT or SIGTERM, then detach, drain and report.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bpf::{filter, CaptureOptions, Direction, Event, LinkKind, PacketCapture, WallClock};

use crate::attribution::{Attributor, Selection};
use crate::iface::{self, NetInterface};
use crate::output::{OutInterface, OutPacket, OutStats, PcapngOut, TextOut};

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Interface names; empty or "any": every interface of the network namespace.
    pub interfaces: Vec<String>,
    pub count: Option<u64>,
    pub snaplen: u32,
    pub directions: Vec<Direction>,
    /// `-w`: a file name, or "-" for stdout.
    pub write: Option<String>,
    pub print: bool,
    pub verbose: u8,
    pub expression: String,
    /// Deliver rejected packets too and compare the kernel's verdict with libpcap's.
    pub check_filter: bool,
    /// `--pid`, `--pname`, `--uid` (attribution).
    pub selection: Selection,
    /// Runtime sockets and `--container-id/--container-name/--pod-name` (containers/).
    pub containers: crate::containers::Config,
}

/// An error for people: one line, no backtrace.
#[derive(Debug)]
pub struct CaptureError(pub String);

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<bpf::Error> for CaptureError {
    fn from(e: bpf::Error) -> Self {
        CaptureError(e.message)
    }
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// CAP_NET_ADMIN (12) and CAP_BPF (39), or CAP_SYS_ADMIN (21) on kernels without CAP_BPF.
fn check_privileges() -> Result<(), CaptureError> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok());
    let Some(eff) = eff else { return Ok(()) };
    let has = |bit: u32| eff & (1u64 << bit) != 0;
    if has(12) && (has(39) || has(21)) {
        return Ok(());
    }
    Err(CaptureError(
        "ptcap needs root, or the capabilities CAP_BPF and CAP_NET_ADMIN (try: sudo ptcap ...)".into(),
    ))
}

/// `-D`: tcpdump's format ("1.eth0 [Up, Running]").
pub fn list_interfaces(out: &mut impl Write) -> Result<(), CaptureError> {
    let list = iface::list().map_err(|e| CaptureError(format!("listing interfaces: {e}")))?;
    for i in &list {
        let mut flags = Vec::new();
        if i.up {
            flags.push("Up");
        }
        if i.running {
            flags.push("Running");
        }
        if i.loopback {
            flags.push("Loopback");
        }
        let note = if LinkKind::from_arphrd(i.arphrd).is_none() { " (not capturable: device type)" } else { "" };
        let _ = writeln!(out, "{}.{} [{}]{note}", i.index, i.name, flags.join(", "));
    }
    Ok(())
}

fn resolve_interfaces(s: &Settings) -> Result<Vec<(NetInterface, LinkKind)>, CaptureError> {
    let names: Vec<&str> = s.interfaces.iter().flat_map(|n| n.split(',')).map(str::trim).filter(|n| !n.is_empty()).collect();
    let mut out: Vec<(NetInterface, LinkKind)> = Vec::new();
    if names.is_empty() || names.contains(&"any") {
        let all = iface::list().map_err(|e| CaptureError(format!("listing interfaces: {e}")))?;
        for i in all {
            match LinkKind::from_arphrd(i.arphrd) {
                Some(k) => out.push((i, k)),
                None if s.verbose > 0 => eprintln!("ptcap: skipping {}: device type {} is not supported", i.name, i.arphrd),
                None => {}
            }
        }
        if out.is_empty() {
            return Err(CaptureError("no capturable interface in this network namespace".into()));
        }
        return Ok(out);
    }
    for name in names {
        let i = iface::by_name(name).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENODEV) {
                CaptureError(format!("{name}: No such device exists (ptcap -D lists the interfaces)"))
            } else {
                CaptureError(format!("{name}: {e}"))
            }
        })?;
        let kind = LinkKind::from_arphrd(i.arphrd).ok_or_else(|| {
            CaptureError(format!("{name}: device type {} is not supported (only Ethernet-like and IP-only devices)", i.arphrd))
        })?;
        if !out.iter().any(|(o, _)| o.index == i.index) {
            out.push((i, kind));
        }
    }
    Ok(out)
}

/// Counts of the filter check (`--check-filter`).
#[derive(Debug, Default)]
struct CheckCounts {
    packets: u64,
    kernel_accepted: u64,
    mismatches: u64,
    skipped: u64,
}

enum Sink {
    Pcapng(Box<PcapngOut<Box<dyn Write>>>),
    Nothing,
}

fn unix_now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// Runs a capture; returns the process exit code.
pub fn run(s: &Settings) -> Result<i32, CaptureError> {
    let started = Instant::now();
    check_privileges()?;
    // Container runtimes: watchers start now, on their own threads (never awaited).
    let containers = crate::containers::Tracker::start(&s.containers);
    let targets = resolve_interfaces(s)?;

    // One compiled filter per link kind in use.
    let mut filters: HashMap<LinkKind, (u32, filter::CompiledFilter)> = HashMap::new();
    if !s.expression.trim().is_empty() {
        for (_, kind) in &targets {
            if !filters.contains_key(kind) {
                let f = filter::compile(&s.expression, *kind, s.snaplen)?;
                if s.verbose > 1 {
                    for (pc, i) in f.instructions().iter().enumerate() {
                        eprintln!("({pc:03}) {i}");
                    }
                }
                filters.insert(*kind, (filters.len() as u32, f));
            }
        }
    }

    bpf::set_libbpf_messages(s.verbose > 0);
    let opts = CaptureOptions { snaplen: s.snaplen, deliver_rejected: s.check_filter, ..Default::default() };
    let mut cap = PacketCapture::load(&opts)?;
    for (index, f) in filters.values() {
        cap.set_filter(*index, f)?;
    }
    install_signal_handlers();
    let mut method = bpf::AttachMethod::Tcx;
    for (i, kind) in &targets {
        let fi = filters.get(kind).map(|(n, _)| *n);
        match cap.attach(i.index, *kind, fi, &s.directions) {
            Ok(m) => {
                if m != bpf::AttachMethod::Tcx {
                    method = m;
                }
            }
            Err(e) => return Err(CaptureError(format!("{}: {}", i.name, e.message))),
        }
    }
    let clock = WallClock::new();

    // ---- attribution (capture/src/attribution.rs) ----
    let attributor = RefCell::new(start_attribution(&mut cap, &s.selection, s.verbose));
    attributor.borrow_mut().set_containers(containers);
    // ---- end attribution ----

    let mut kinds: Vec<&str> = Vec::new();
    for (_, k) in &targets {
        if !kinds.contains(&k.name()) {
            kinds.push(k.name());
        }
    }
    let names: Vec<&str> = targets.iter().map(|(i, _)| i.name.as_str()).collect();
    eprintln!(
        "capturing on {}, link-type {}, snapshot length {} bytes, {}",
        names.join(", "),
        kinds.join(" and "),
        s.snaplen,
        method.name()
    );
    if s.verbose > 0 {
        eprintln!("ptcap: ready in {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
    }

    let sink = match s.write.as_deref() {
        Some(path) => {
            let w: Box<dyn Write> = if path == "-" {
                Box::new(io::BufWriter::with_capacity(1 << 16, io::stdout()))
            } else {
                let f = std::fs::File::create(path).map_err(|e| CaptureError(format!("{path}: {e}")))?;
                Box::new(io::BufWriter::with_capacity(1 << 20, f))
            };
            let netns = iface::netns_cookie();
            let ifs: Vec<OutInterface> = targets
                .iter()
                .map(|(i, k)| OutInterface {
                    name: i.name.clone(),
                    linktype: k.linktype(),
                    snaplen: s.snaplen,
                    filter: (!s.expression.is_empty()).then(|| s.expression.clone()),
                    description: netns.map(|c| format!("network namespace cookie {c}")),
                })
                .collect();
            Sink::Pcapng(Box::new(PcapngOut::new(w, &ifs, unix_now_ns()).map_err(|e| CaptureError(format!("{path}: {e}")))?))
        }
        None => Sink::Nothing,
    };
    let print = s.print || s.write.is_none();
    let text: Option<TextOut> = print.then(|| {
        TextOut::new(if s.write.as_deref() == Some("-") {
            Box::new(io::stderr()) as Box<dyn Write>
        } else {
            Box::new(io::LineWriter::new(io::stdout())) as Box<dyn Write>
        })
    });
    let position: HashMap<u32, (u32, &NetInterface, LinkKind)> =
        targets.iter().enumerate().map(|(n, (i, k))| (i.index, (n as u32, i, *k))).collect();

    struct State<'a> {
        sink: Sink,
        text: Option<TextOut>,
        captured: u64,
        delivered: HashMap<u32, u64>,
        check: CheckCounts,
        write_error: Option<String>,
        _p: std::marker::PhantomData<&'a ()>,
    }
    let state = RefCell::new(State {
        sink,
        text,
        captured: 0,
        delivered: HashMap::new(),
        check: CheckCounts::default(),
        write_error: None,
        _p: Default::default(),
    });
    let limit = s.count.unwrap_or(u64::MAX);

    let ring = cap.ring_buffer(|bytes| {
        let mut st = state.borrow_mut();
        if st.captured >= limit || st.write_error.is_some() {
            return 0;
        }
        // ---- attribution: socket/process events update the tables; packets get their owner ----
        let p = match bpf::parse_event(bytes) {
            Some(Event::Packet(p)) => p,
            Some(Event::Sock(ev)) => {
                attributor.borrow_mut().on_sock_event(&ev);
                return 0;
            }
            Some(Event::Proc(ev)) => {
                attributor.borrow_mut().on_proc_event(&ev);
                return 0;
            }
            _ => return 0,
        };
        let Some(&(pos, ni, kind)) = position.get(&p.ifindex) else { return 0 };
        if s.check_filter {
            if let Some((_, f)) = filters.get(&kind) {
                if p.data.len() as u32 != p.wire_len {
                    st.check.skipped += 1;
                } else {
                    st.check.packets += 1;
                    let libpcap = f.matches(p.data);
                    if !p.rejected {
                        st.check.kernel_accepted += 1;
                    }
                    if libpcap == p.rejected {
                        st.check.mismatches += 1;
                        if st.check.mismatches <= 5 {
                            let hex: String = p.data.iter().map(|b| format!("{b:02x}")).collect();
                            eprintln!(
                                "filter check: MISMATCH kernel {} libpcap {} on {}: {hex}",
                                if p.rejected { "reject" } else { "accept" },
                                if libpcap { "accept" } else { "reject" },
                                ni.name
                            );
                        }
                    }
                }
            }
            if p.rejected {
                return 0;
            }
        }
        let (meta, keep) = attributor.borrow_mut().meta_for(&p, kind == LinkKind::Ethernet);
        if !keep {
            return 0;
        }
        // ---- end attribution ----
        let out = OutPacket {
            interface: pos,
            interface_name: &ni.name,
            linktype: kind.linktype(),
            ts_unix_ns: clock.to_unix_ns(p.ts_mono_ns),
            wire_len: p.wire_len,
            inbound: p.direction == Direction::In,
            data: p.data,
            meta: Some(&meta),
        };
        st.captured += 1;
        *st.delivered.entry(p.ifindex).or_default() += 1;
        let st = &mut *st;
        let mut result = Ok(());
        if let Sink::Pcapng(w) = &mut st.sink {
            result = w.write_packet(&out);
        }
        if let (Some(t), Ok(())) = (&mut st.text, &result) {
            result = t.write_packet(&out);
        }
        if let Err(e) = result {
            st.write_error = Some(e.to_string());
            STOP.store(true, Ordering::SeqCst);
        }
        if st.captured >= limit {
            STOP.store(true, Ordering::SeqCst);
        }
        0
    })?;

    while !STOP.load(Ordering::SeqCst) {
        let rc = ring.poll_raw(Duration::from_millis(100));
        if rc < 0 && rc != -libc::EINTR {
            return Err(CaptureError(format!("reading the ring buffer: {}", io::Error::from_raw_os_error(-rc))));
        }
    }
    // Detach first so no packet arrives after the counters are read, then drain the ring.
    let counters: Vec<_> = targets.iter().map(|(i, _)| (i.index, cap.counters(i.index).unwrap_or_default())).collect();
    cap.detach_all();
    let _ = ring.consume_raw();
    drop(ring);

    let mut st = state.into_inner();
    let received: u64 = counters.iter().map(|(_, c)| c.accepted).sum();
    let dropped: u64 = counters.iter().map(|(_, c)| c.ring_drops).sum();
    let now_ns = unix_now_ns();
    if let Sink::Pcapng(w) = std::mem::replace(&mut st.sink, Sink::Nothing) {
        let stats: Vec<OutStats> = counters
            .iter()
            .map(|(ix, c)| OutStats { received: c.accepted, dropped: c.ring_drops, delivered: *st.delivered.get(ix).unwrap_or(&0) })
            .collect();
        if let Err(e) = w.finish(now_ns, &stats) {
            st.write_error.get_or_insert(e.to_string());
        }
    }
    if let Some(t) = st.text.as_mut() {
        let _ = t.flush();
    }
    eprintln!();
    eprintln!("{} packet{} captured", st.captured, if st.captured == 1 { "" } else { "s" });
    eprintln!("{} packet{} received by filter", received, if received == 1 { "" } else { "s" });
    eprintln!("{} packet{} dropped by kernel", dropped, if dropped == 1 { "" } else { "s" });
    eprintln!("{}", attributor.borrow().summary());
    if s.check_filter {
        let c = &st.check;
        eprintln!(
            "filter check: {} packets, {} accepted by the kernel, {} mismatches with libpcap, {} skipped (truncated)",
            c.packets, c.kernel_accepted, c.mismatches, c.skipped
        );
    }
    if let Some(e) = st.write_error {
        return Err(CaptureError(format!("writing output: {e}")));
    }
    Ok(if s.check_filter && st.check.mismatches > 0 { 1 } else { 0 })
}

/// Attaches the attribution hooks at the cgroup v2 root, then builds the tables (/proc scan,
/// sock_diag snapshot) so nothing falls between the two. Without the hooks (no cgroup v2, an
/// older kernel) packets are still attributed from the snapshot, with a warning.
fn start_attribution(cap: &mut PacketCapture, selection: &Selection, verbose: u8) -> Attributor {
    let t = Instant::now();
    match bpf::cgroup2_root() {
        Some(root) => {
            if let Err(e) = cap.attach_attribution(&root) {
                eprintln!("ptcap: warning: process attribution is limited to sockets open at start: {}", e.message);
            }
        }
        None => eprintln!("ptcap: warning: no cgroup v2 hierarchy is mounted: process attribution is limited to sockets open at start"),
    }
    let a = Attributor::new(iface::netns_cookie().unwrap_or(0), selection.clone());
    if verbose > 0 {
        eprintln!("ptcap: attribution ready in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    }
    a
}

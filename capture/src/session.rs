//! One live capture, as a sequence of phases; [`run`] reads as their list:
//!
//! 1. [`resolve_interfaces`]: the interfaces `-i` names, or every one (`any`) → [`Targets`].
//! 2. [`compile_filters`]: the expression, once per link kind → [`Filters`] (`-d` prints them).
//! 3. [`load_programs`]: the BPF object, loaded and verified, its filter table filled; then
//!    [`start_scans`]: the process/socket hooks, and the /proc and sock_diag scans started.
//! 4. [`attach_interfaces`]: the programs on every target → [`Hooks`] and the attached list.
//! 5. [`start_attribution`]: the scans' tables → the [`Attributor`]; then
//!    [`start_drops`]: the `skb:kfree_skb` program (`--drops`) → a [`DropTracker`].
//! 6. [`open_outputs`]: the first file and the text output → the [`Output`]; then privileges
//!    are dropped (`-Z`) and [`announce`] prints the "capturing on" line.
//! 7. [`start_command`]: `-- CMD`, forked and selected before it runs.
//! 8. [`poll_loop`]: ring records ([`on_record`]) and interface changes
//!    ([`Hooks::on_link_events`]) until -c, SIGINT or SIGTERM, or the end of `-- CMD`.
//! 9. [`drain`]: detach, take the final counters, read what is left in the ring.
//! 10. [`report`]: close the output, tcpdump's closing counts, the exit code.
//!
//! With `-i any`, interfaces created during the capture are attached as they appear
//! ([`crate::netwatch`]).
//!
//! One thread does everything: it polls the ring buffer's epoll descriptor and the netlink
//! socket together, so a new interface is attached (and its IDB written) between two packets,
//! the output is flushed per batch of packets (at most every ~50 ms, ~5 ms with `-l`, `-U` or
//! `--immediate-mode`, so a killed ptcap leaves a file readable up to its last batch and `-w -`
//! readers see packets live), and nothing needs a lock.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bpf::{
    filter, AttachMethod, CaptureOptions, Direction, DropEvent, DropsMode, Event, FilterEngine,
    LinkKind, PacketCapture, PacketEvent, Ring, WallClock,
};
use formats::meta::CommentMode;
use formats::render::RenderOptions;
use formats::table::IdMap;

use crate::attribution::Attributor;
use crate::drops::DropTracker;
use crate::iface::{self, NetInterface};
use crate::netns::Namespaces;
use crate::netwatch::LinkEvent;
use crate::output::{LinkMode, OutInterface, OutPacket, Output, OutputConfig, OutputError};
use crate::privdrop::User;
use crate::rotate::Rotation;
use crate::run_cmd::Child;

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
    /// `--attach`: tcx, tc clsact, or tcx falling back to tc.
    pub attach: bpf::AttachPreference,
    /// Runtime sockets and `--container-id/--container-name/--pod-name` (containers/).
    pub containers: crate::containers::Config,
    /// `-d`: print the compiled filter and exit.
    pub dump_filter: bool,
    /// Text output (tcpdump's -v, -q, -S, -t.., --nano, -x/-X/-A, --oneline).
    pub render: RenderOptions,
    /// `--comments`: the per-packet comment text in pcapng.
    pub comments: CommentMode,
    /// `-C`, `-W`, `-G`.
    pub rotation: Rotation,
    /// `-Z`: the user to become once the capture is set up.
    pub user: Option<User>,
    /// `-- CMD ARGS`: a command to run and capture.
    pub command: Option<Vec<String>>,
    /// Process selection (`--pid`, `--pname`, `--uid`); the pid of `-- CMD` is added to `pids`
    /// before the command runs.
    pub select: Selection,
    /// `-B`: the ring buffer's size in bytes (`None`: the default).
    pub ring_bytes: Option<u32>,
    /// `-l`, `-U`, `--immediate-mode`: packets handled and flushed every ~5 ms instead of ~50.
    pub immediate: bool,
    /// `--drops`: packets the kernel dropped, on the captured interfaces.
    pub drops: DropsMode,
    /// `--nat`: how a NATed packet's conntrack entry is found.
    pub nat: NatMode,
    /// `--netns`: network namespaces (names under /var/run/netns, or paths) whose interfaces
    /// are captured; empty = ptcap's own.
    pub netns: Vec<String>,
}

/// `--nat`: where the conntrack entry of a NATed packet comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NatMode {
    /// The packet programs' lookup (`bpf_skb_ct_lookup`), else ctnetlink from user space.
    #[default]
    Auto,
    /// The packet programs' lookup only.
    Kernel,
    /// ctnetlink only (what a kernel without the kfuncs gets).
    Netlink,
    Off,
}

/// Which processes' packets to keep (attribution applies it; empty = every packet).
#[allow(dead_code)] // read by attribution
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub pids: Vec<u32>,
    pub pnames: Vec<String>,
    pub uids: Vec<u32>,
    /// Also the descendants of the selected pids (`-- CMD`: the command's children).
    pub follow_children: bool,
}

#[allow(dead_code)]
impl Selection {
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty() && self.pnames.is_empty() && self.uids.is_empty()
    }
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

static CHILD_EXITED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

extern "C" fn on_child(_: libc::c_int) {
    CHILD_EXITED.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    // SIGCHLD only wakes the loop (poll returns EINTR) when `-- CMD` ends.
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_child as *const () as usize;
        sa.sa_flags = libc::SA_NOCLDSTOP;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGCHLD, &sa, std::ptr::null_mut());
    }
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
        "ptcap needs root, or the capabilities CAP_BPF and CAP_NET_ADMIN (try: sudo ptcap ...)"
            .into(),
    ))
}

/// Runs a capture; returns the process exit code.
pub fn run(s: &Settings) -> Result<i32, CaptureError> {
    let started = Instant::now();
    check_privileges()?;
    // `--netns`: this thread (and every thread and socket it makes from here on) lives in the
    // first captured namespace; mounts, /proc and the cgroup hierarchy stay ptcap's own. Each
    // namespace's netlink watcher subscribes before its interfaces are listed: an interface
    // created in between is then seen twice, not never. Also for `-i IFACE`: its deletion
    // ends the capture, as tcpdump's does.
    let spaces = Namespaces::open(&s.netns)?;
    let targets = resolve_interfaces(s, &spaces)?;
    let filters = compile_filters(s, &targets)?;
    if s.dump_filter && filters.expression {
        filters.dump();
        return Ok(0);
    }
    if targets.any && targets.interfaces.is_empty() {
        return Err(CaptureError(
            "no capturable interface in this network namespace".into(),
        ));
    }
    // Container runtimes: watchers start now, on their own threads (never awaited), so they
    // connect while the BPF object loads; after the arguments are checked, so a bad expression
    // or interface is the one line printed.
    let containers = crate::containers::Tracker::start(&s.containers);
    let mut cap = load_programs(s, &filters, &spaces)?;
    install_signal_handlers();
    // The /proc and sock_diag scans run on their own threads while the interfaces attach
    // (issue 12's start-up); after the process and socket hooks, so that what the scans miss
    // the hooks report.
    let scan = start_scans(&mut cap);
    let (mut hooks, attached) = attach_interfaces(cap, spaces, s, &filters, targets)?;
    let clock = WallClock::new();
    let attributor = start_attribution(&mut hooks.cap, s, &hooks.spaces, containers, scan);
    let drops = start_drops(&mut hooks.cap, &filters);
    let output = open_outputs(s, &hooks, &attached)?;
    // Everything that needs root is open: the BPF object, the attachments, the first file.
    if let Some(u) = &s.user {
        crate::privdrop::drop_to(u).map_err(CaptureError)?;
    }
    announce(s, &hooks, &attached, output.link(), started);

    let state = RefCell::new(State::new(s, output, attributor, drops, &attached));
    let mut child = start_command(s, &mut state.borrow_mut())?;
    let mut reader = Reader {
        ring: hooks.cap.ring().map_err(|e| CaptureError(e.to_string()))?,
        s,
        filters: &filters,
        clock: &clock,
    };
    poll_loop(&mut reader, &mut hooks, &state, &mut child)?;
    drain(reader, &mut hooks, &state);
    report(s, state.into_inner(), child)
}

/// The interface names of `-i` (repeatable, comma-separated).
fn interface_names(s: &Settings) -> Vec<&str> {
    s.interfaces
        .iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect()
}

/// No `-i`, or `any`: every interface, also later ones.
fn wants_any(names: &[&str]) -> bool {
    names.is_empty() || names.contains(&"any")
}

/// What the capture is on: phase 1's answer, for the filters (their link kinds) and the attach.
struct Targets {
    /// The interfaces there are now, each with the link kind its hook sees.
    interfaces: Vec<(NetInterface, LinkKind)>,
    /// `-i any` (or no `-i`): every interface, also those created during the capture.
    any: bool,
}

/// Phase 1: the interfaces asked for (`-i`, or every capturable one with `any`), in every
/// captured namespace; an unknown or unsupported named interface is an error. Each is named
/// and keyed as the capture knows it ([`Namespaces::display`], [`Namespaces::key`]). Hands
/// the [`Targets`] to the filter compiler.
fn resolve_interfaces(s: &Settings, spaces: &Namespaces) -> Result<Targets, CaptureError> {
    let names = interface_names(s);
    let mut out: Vec<(NetInterface, LinkKind)> = Vec::new();
    let as_captured = |no: usize, mut i: NetInterface| -> Option<NetInterface> {
        let key = spaces.key(no, i.index);
        if key.is_none() {
            eprintln!(
                "ptcap: skipping {}: its index {} is too large to capture beside other namespaces",
                spaces.display(no, &i.name),
                i.index
            );
        }
        i.index = key?;
        i.name = spaces.display(no, &i.name);
        Some(i)
    };
    if wants_any(&names) {
        for (no, _) in spaces.iter() {
            let all = spaces
                .within(no, iface::list)
                .unwrap_or_else(|| Err(io::Error::other("cannot enter the namespace")))
                .map_err(|e| CaptureError(format!("listing interfaces: {e}")))?;
            for i in all {
                match LinkKind::from_arphrd(i.arphrd) {
                    Some(k) => out.extend(as_captured(no, i).map(|i| (i, k))),
                    None if s.verbose > 0 => eprintln!(
                        "ptcap: skipping {}: device type {} is not supported",
                        spaces.display(no, &i.name),
                        i.arphrd
                    ),
                    None => {}
                }
            }
        }
        return Ok(Targets {
            interfaces: out,
            any: true,
        });
    }
    for name in names {
        let mut found = 0;
        let mut first_err = None;
        for (no, ifname) in spaces.resolve_name(name) {
            let got = spaces
                .within(no, || iface::by_name(&ifname))
                .unwrap_or_else(|| Err(io::Error::other("cannot enter the namespace")));
            let i = match got {
                Ok(i) => i,
                Err(e) => {
                    first_err.get_or_insert(e);
                    continue;
                }
            };
            found += 1;
            let kind = LinkKind::from_arphrd(i.arphrd).ok_or_else(|| {
                CaptureError(format!(
                    "{name}: device type {} is not supported (only Ethernet-like and IP-only devices)",
                    i.arphrd
                ))
            })?;
            if let Some(i) = as_captured(no, i) {
                if !out.iter().any(|(o, _)| o.index == i.index) {
                    out.push((i, kind));
                }
            }
        }
        if found == 0 {
            let e = first_err.unwrap_or_else(|| io::Error::from_raw_os_error(libc::ENODEV));
            return Err(if e.raw_os_error() == Some(libc::ENODEV) {
                CaptureError(format!(
                    "{name}: No such device exists (ptcap -D lists the interfaces)"
                ))
            } else {
                CaptureError(format!("{name}: {e}"))
            });
        }
    }
    Ok(Targets {
        interfaces: out,
        any: false,
    })
}

/// The filter expression compiled for each link kind, each with its slot in the BPF filter
/// table.
struct Filters {
    by_kind: HashMap<LinkKind, (u32, filter::CompiledFilter)>,
    /// What `--drops` records (off when the expression does not compile for raw IP, the
    /// link type dropped packets are seen as).
    drops: DropsMode,
    /// An expression was given: a link kind it does not compile for is not captured (without
    /// one, every packet of every kind is).
    expression: bool,
}

impl Filters {
    /// The filter table slot for interfaces of `kind` (`None`: no filter for it).
    fn slot(&self, kind: LinkKind) -> Option<u32> {
        self.by_kind.get(&kind).map(|(n, _)| *n)
    }

    fn get(&self, kind: LinkKind) -> Option<&filter::CompiledFilter> {
        self.by_kind.get(&kind).map(|(_, f)| f)
    }

    /// `-d`: the compiled programs on stdout.
    fn dump(&self) {
        // SIGPIPE (main restores its default) ends a listing to a closed pipe; other
        // write errors end it too, without a panic.
        let mut out = io::BufWriter::new(io::stdout().lock());
        let _ = (|| -> io::Result<()> {
            for (k, (_, f)) in &self.by_kind {
                writeln!(out, "; {}", k.name())?;
                for (pc, i) in f.instructions().iter().enumerate() {
                    writeln!(out, "({pc:03}) {i}")?;
                }
            }
            out.flush()
        })();
    }
}

/// Phase 2: compiles the expression once per link kind of the targets (with `any`, both
/// kinds: a tunnel may appear later); a compile error for a target's kind is the error. Hands
/// the [`Filters`] to the loader (the BPF filter table) and the packet path (`--check-filter`).
fn compile_filters(s: &Settings, targets: &Targets) -> Result<Filters, CaptureError> {
    let mut filters = Filters {
        by_kind: HashMap::new(),
        drops: s.drops,
        expression: !s.expression.trim().is_empty(),
    };
    if !filters.expression {
        return Ok(filters);
    }
    let by_kind = &mut filters.by_kind;
    let mut kinds: Vec<LinkKind> = Vec::new();
    for (_, k) in &targets.interfaces {
        if !kinds.contains(k) {
            kinds.push(*k);
        }
    }
    for k in &kinds {
        let f = filter::compile(&s.expression, *k, s.snaplen)?;
        by_kind.insert(*k, (by_kind.len() as u32, f));
    }
    if targets.any {
        for k in [LinkKind::Ethernet, LinkKind::RawIp] {
            if !by_kind.contains_key(&k) {
                if let Ok(f) = filter::compile(&s.expression, k, s.snaplen) {
                    by_kind.insert(k, (by_kind.len() as u32, f));
                }
            }
        }
    }
    // Dropped packets are seen from their network header: they need the expression compiled
    // for raw IP, whatever the interfaces are (after the targets' kinds: an invalid expression
    // is their error).
    if filters.drops != DropsMode::Off && !s.dump_filter && !by_kind.contains_key(&LinkKind::RawIp)
    {
        match filter::compile(&s.expression, LinkKind::RawIp, s.snaplen) {
            Ok(f) => {
                by_kind.insert(LinkKind::RawIp, (by_kind.len() as u32, f));
            }
            Err(e) => {
                eprintln!(
                    "ptcap: warning: --drops: the expression does not apply to raw IP packets ({}); dropped packets are not recorded",
                    e.message
                );
                filters.drops = DropsMode::Off;
            }
        }
    }
    Ok(filters)
}

/// Phase 3: opens and loads the BPF object (snaplen, ring size, check mode) and puts the
/// compiled filters in its table. Nothing is attached yet; hands the [`PacketCapture`] to the
/// attach phase.
fn load_programs(
    s: &Settings,
    filters: &Filters,
    spaces: &Namespaces,
) -> Result<PacketCapture, CaptureError> {
    bpf::set_libbpf_messages(s.verbose > 2);
    let opts = CaptureOptions {
        snaplen: s.snaplen,
        deliver_rejected: s.check_filter,
        attach: s.attach,
        ring_bytes: s.ring_bytes.unwrap_or(CaptureOptions::default().ring_bytes),
        drops: filters.drops,
        netns: spaces.inodes(),
        drops_filter: filters
            .expression
            .then(|| filters.slot(LinkKind::RawIp))
            .flatten(),
        nat_lookup: matches!(s.nat, NatMode::Auto | NatMode::Kernel),
        // No expression: the packet programs are loaded without filter code (the verifier
        // then skips it; issue 12's start-up).
        filters: filters
            .by_kind
            .values()
            .map(|(n, f)| (*n, f.instructions().to_vec()))
            .collect(),
        // The interpreter on request, for comparing the two (tests, bench/capture.sh).
        filter_engine: match std::env::var("PTCAP_FILTER_ENGINE").as_deref() {
            Ok("interpreted") => FilterEngine::Interpreted,
            _ => FilterEngine::Translated,
        },
    };
    let cap = match PacketCapture::load(&opts) {
        // The drop program is the one a kernel may refuse alone (no tp_btf, another
        // sk_buff): capture without it rather than not at all.
        Err(e) if opts.drops != DropsMode::Off => {
            eprintln!(
                "ptcap: warning: dropped packets are not recorded: the skb:kfree_skb program does not load here: {}",
                e.message
            );
            PacketCapture::load(&CaptureOptions {
                drops: DropsMode::Off,
                ..opts
            })?
        }
        r => r?,
    };
    if s.verbose > 0 && filters.expression {
        match cap.filter_engine() {
            (FilterEngine::Translated, _) => eprintln!("ptcap: filter: translated to eBPF"),
            (_, Some(why)) => eprintln!("ptcap: filter: interpreted ({why})"),
            (_, None) => eprintln!("ptcap: filter: interpreted"),
        }
    }
    Ok(cap)
}

/// The loaded programs and their attachments, with what attaching and detaching interfaces
/// while the capture runs needs (the namespaces and their netlink watchers, the final detach).
struct Hooks<'a> {
    cap: PacketCapture,
    /// The captured network namespaces (interface keys and names, their watchers).
    spaces: Namespaces,
    s: &'a Settings,
    filters: &'a Filters,
    /// `-i any`: interfaces that appear are attached; one that goes does not end the capture.
    any: bool,
    /// How the initial interfaces were attached (tc clsact if any one needed it).
    method: AttachMethod,
    /// The stale tc filters line was printed (once per run).
    said_stale: bool,
    /// An attach failure of a new interface was printed (without -v, only the first).
    warned_attach: bool,
}

/// The hooks an interface gets for `-Q`'s directions. A loopback device hands every packet
/// it sends straight back to itself, so both hooks would see each packet twice; libpcap
/// drops the outgoing copy on loopback (tcpdump `-i lo` and `-i any` show each packet once,
/// inbound), and so do we: with both directions asked, loopback gets its ingress hook only.
/// `-Q out` alone still gets the outgoing copy (once as well).
fn hook_directions(asked: &[Direction], loopback: bool) -> &[Direction] {
    if loopback && asked.contains(&Direction::In) {
        &[Direction::In]
    } else {
        asked
    }
}

/// Phase 4: attaches the programs to every target, each from within its namespace (with
/// `any`, one that vanished since the listing is skipped). Hands on the [`Hooks`] (kept to the
/// end) and the attached interfaces (for attribution's link kinds and the output's IDBs).
fn attach_interfaces<'a>(
    cap: PacketCapture,
    spaces: Namespaces,
    s: &'a Settings,
    filters: &'a Filters,
    targets: Targets,
) -> Result<(Hooks<'a>, Vec<(NetInterface, LinkKind)>), CaptureError> {
    let mut hooks = Hooks {
        cap,
        spaces,
        s,
        filters,
        any: targets.any,
        method: AttachMethod::Tcx,
        said_stale: false,
        warned_attach: false,
    };
    let any = targets.any;
    let mut attached: Vec<(NetInterface, LinkKind)> = Vec::new();
    for (i, kind) in targets.interfaces {
        let (no, _) = hooks.spaces.split(i.index);
        let cap = &mut hooks.cap;
        let done = hooks.spaces.within(no, || {
            cap.attach(
                i.index,
                kind,
                filters.slot(kind),
                hook_directions(&s.directions, i.loopback),
            )
        });
        match done {
            Some(Ok(m)) => {
                if m != AttachMethod::Tcx {
                    hooks.method = m;
                }
                attached.push((i, kind));
            }
            // With `any`, an interface may vanish between the listing and the attach.
            Some(Err(e))
                if any
                    && hooks
                        .spaces
                        .within(no, || iface::by_name(hooks.spaces.real_name(no, &i.name)))
                        .is_none_or(|r| r.is_err()) =>
            {
                if s.verbose > 0 {
                    eprintln!("ptcap: {} vanished: {}", i.name, e.message);
                }
            }
            Some(Err(e)) => return Err(CaptureError(format!("{}: {}", i.name, e.message))),
            None => {
                return Err(CaptureError(format!(
                    "{}: cannot enter its network namespace",
                    i.name
                )))
            }
        }
    }
    hooks.say_stale_tc();
    Ok((hooks, attached))
}

impl Hooks<'_> {
    /// Interface changes from namespace `no`'s netlink watcher: with `any` new interfaces are
    /// attached; deleted ones are detached (a named one ends the capture); after lost
    /// notifications (`Resync`) the namespace's list is taken again.
    fn on_link_events(&mut self, st: &mut State, no: usize, events: Vec<LinkEvent>) {
        for ev in events {
            match ev {
                LinkEvent::New {
                    index,
                    name,
                    arphrd,
                    flags,
                } if self.any => {
                    let i = NetInterface {
                        index,
                        name,
                        arphrd,
                        up: flags & libc::IFF_UP as u32 != 0,
                        running: flags & libc::IFF_RUNNING as u32 != 0,
                        loopback: flags & libc::IFF_LOOPBACK as u32 != 0,
                    };
                    self.attach_new(st, no, i);
                }
                LinkEvent::New { .. } => {}
                LinkEvent::Del { index, name } => {
                    if let Some(key) = self.spaces.key(no, index) {
                        let shown = self.spaces.display(no, &name);
                        self.detach_gone(st, key, &shown);
                    }
                }
                LinkEvent::Resync => {
                    if let Some(Ok(list)) = self.spaces.within(no, iface::list) {
                        let present: Vec<u32> = list
                            .iter()
                            .filter_map(|i| self.spaces.key(no, i.index))
                            .collect();
                        let left: Vec<u32> = self
                            .cap
                            .interfaces()
                            .filter(|&k| self.spaces.split(k).0 == no && !present.contains(&k))
                            .collect();
                        for k in left {
                            self.detach_gone(st, k, "");
                        }
                        if self.any {
                            for i in list {
                                self.attach_new(st, no, i);
                            }
                        }
                    }
                }
            }
        }
    }

    /// `-i any`: an interface that appeared in namespace `no` (`i` as that namespace names
    /// it) is attached and gets an IDB, unless it is known already, of an unsupported device
    /// type, or of a link kind the expression does not compile for.
    fn attach_new(&mut self, st: &mut State, no: usize, i: NetInterface) {
        let Some(key) = self.spaces.key(no, i.index) else {
            return;
        };
        if st.output.is_known(key) {
            return;
        }
        let Some(kind) = LinkKind::from_arphrd(i.arphrd) else {
            return;
        };
        let slot = self.filters.slot(kind);
        if slot.is_none() && self.filters.expression {
            return; // the expression does not compile for this link type
        }
        let verbose = self.s.verbose;
        let i = NetInterface {
            index: key,
            name: self.spaces.display(no, &i.name),
            ..i
        };
        let cap = &mut self.cap;
        let dirs = hook_directions(&self.s.directions, i.loopback);
        let done = self
            .spaces
            .within(no, || cap.attach(key, kind, slot, dirs))
            .unwrap_or_else(|| {
                Err(bpf::Error::new(
                    bpf::ErrorKind::Attach,
                    "cannot enter its network namespace",
                ))
            });
        match done {
            Ok(_) => {
                if verbose > 0 {
                    eprintln!("ptcap: attached to {} (index {})", i.name, i.index);
                }
                self.say_stale_tc();
                st.kinds.insert(key, kind);
                let cookie = self.spaces.get(no).cookie;
                if let Err(e) = st
                    .output
                    .add_interface(out_interface(&i, kind, Some(cookie)))
                {
                    st.error = Some(e);
                    STOP.store(true, Ordering::SeqCst);
                }
            }
            Err(e) => {
                if verbose > 0 || !self.warned_attach {
                    eprintln!("ptcap: {}: {}", i.name, e.message);
                    self.warned_attach = true;
                }
            }
        }
    }

    /// Detaches interface `key` from within its namespace (tc filters are removed over its
    /// netlink; tcx links are closed anywhere).
    fn detach_key(&mut self, key: u32) -> Option<bpf::InterfaceCounters> {
        let (no, _) = self.spaces.split(key);
        let cap = &mut self.cap;
        self.spaces.within(no, || cap.detach(key)).flatten()
    }

    /// An interface left: detach it (its links, tc filters, counter slot), write its last
    /// counters, forget it. A named one (`-i IFACE`) ends the capture.
    fn detach_gone(&mut self, st: &mut State, index: u32, name: &str) {
        let Some(c) = self.detach_key(index) else {
            return;
        };
        st.kinds.remove(&index);
        st.output
            .set_counters(index, c.seen, c.accepted, c.ring_drops);
        let name = st
            .output
            .interfaces()
            .find(|(i, _)| i.ifindex == index)
            .map_or(name.to_string(), |(i, _)| i.name.clone());
        if let Err(e) = st.output.remove_interface(index, unix_now_ns()) {
            st.error.get_or_insert(e);
            STOP.store(true, Ordering::SeqCst);
        }
        if self.any {
            if self.s.verbose > 0 {
                eprintln!("ptcap: {name} (index {index}) is gone");
            }
        } else if st.disappeared.is_none() {
            st.disappeared = Some(name);
            STOP.store(true, Ordering::SeqCst);
        }
    }

    /// Once per run: the tc filters a killed ptcap had left, which attaching removed.
    fn say_stale_tc(&mut self) {
        let n = self.cap.stale_tc_filters_removed();
        if n > 0 && !self.said_stale {
            self.said_stale = true;
            eprintln!(
                "ptcap: removed {n} tc filter{} left by a ptcap that was killed",
                plural(n)
            );
        }
    }

    /// Kernel counters of every attached interface into the output (for ISBs).
    fn refresh_counters(&self, out: &mut Output) {
        let ifs: Vec<u32> = self.cap.interfaces().collect();
        for ix in ifs {
            if out.is_known(ix) {
                if let Some(c) = self.cap.counters(ix) {
                    out.set_counters(ix, c.seen, c.accepted, c.ring_drops);
                }
            }
        }
    }

    /// Detaches every interface, its final counters into the output, then the attribution
    /// hooks: nothing reaches the ring after this.
    fn detach_all(&mut self, out: &mut Output) {
        let ifs: Vec<u32> = self.cap.interfaces().collect();
        for ix in ifs {
            if let Some(c) = self.detach_key(ix) {
                out.set_counters(ix, c.seen, c.accepted, c.ring_drops);
            }
        }
        self.cap.detach_all();
    }
}

/// Phase 3b: attaches the attribution hooks at the cgroup v2 root, then starts the scans of
/// what exists already (/proc, sock_diag), each on its own thread while the interfaces
/// attach, so nothing falls between the two. Without the hooks (no cgroup v2, an older
/// kernel) packets are still attributed from the snapshot, with a warning. Hands the
/// [`crate::attribution::Scan`] to [`start_attribution`].
fn start_scans(cap: &mut PacketCapture) -> crate::attribution::Scan {
    let t = Instant::now();
    match bpf::cgroup2_root() {
        Some(root) => {
            if let Err(e) = cap.attach_attribution(&root) {
                eprintln!(
                    "ptcap: warning: process attribution is limited to sockets open at start: {}",
                    e.message
                );
            }
        }
        None => eprintln!(
            "ptcap: warning: no cgroup v2 hierarchy is mounted: process attribution is limited to sockets open at start"
        ),
    }
    crate::attribution::Scan::start(t)
}

/// Phase 5: the scans' tables (joined here) → the [`Attributor`], with the container
/// runtimes' tracker and the NAT lookups; handed to the packet path.
fn start_attribution(
    cap: &mut PacketCapture,
    s: &Settings,
    spaces: &Namespaces,
    containers: crate::containers::Tracker,
    scan: crate::attribution::Scan,
) -> Attributor {
    let t = scan.started();
    let selection = crate::attribution::Selection {
        pids: s.select.pids.clone(),
        names: s.select.pnames.clone(),
        uids: s.select.uids.clone(),
    };
    let mut a = Attributor::new(spaces.cookies(), selection, scan);
    if s.verbose > 0 {
        eprintln!(
            "ptcap: attribution ready in {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    a.set_containers(containers);
    start_nat(cap, s, spaces, &mut a);
    a
}

/// Phase 5b: with `--drops`, attaches the `skb:kfree_skb` program; its drop events share the
/// ring. A kernel without the tracepoint (or BTF) captures on without them, with a warning.
/// Hands the [`DropTracker`] (reason names, locations) to the packet path.
fn start_drops(cap: &mut PacketCapture, filters: &Filters) -> Option<DropTracker> {
    if filters.drops == DropsMode::Off {
        return None;
    }
    if let Err(e) = cap.attach_drops() {
        eprintln!(
            "ptcap: warning: dropped packets are not recorded: {}",
            e.message
        );
        return None;
    }
    Some(DropTracker::new())
}

/// The owner through NAT: the packet programs' conntrack lookup when it loaded, and ctnetlink
/// for what it cannot do (everything without the kfuncs; a first packet the kernel looked up
/// before netfilter made its entry). See docs/ARCHITECTURE.md, "Packet fate: the owner through
/// NAT".
fn start_nat(cap: &PacketCapture, s: &Settings, spaces: &Namespaces, a: &mut Attributor) {
    if s.nat == NatMode::Off {
        return;
    }
    if let Some(why) = cap.nat_fallback() {
        let tail = if s.nat == NatMode::Kernel {
            ""
        } else {
            "; asking ctnetlink instead"
        };
        eprintln!("ptcap: warning: the conntrack lookup in the packet programs did not load ({why}){tail}");
    }
    if s.nat == NatMode::Kernel {
        return;
    }
    // One per captured namespace, opened from within it: that is where its interfaces'
    // conntrack entries live.
    for (no, _) in spaces.iter() {
        let all = !cap.nat_in_kernel();
        match spaces.within(no, || crate::conntrack::NatLookup::open(all)) {
            Some(Ok(l)) => a.set_nat_lookup(no, l),
            Some(Err(e)) => eprintln!(
                "ptcap: warning: cannot open a ctnetlink socket ({e}): {}",
                if cap.nat_in_kernel() {
                    "a port-forward's first packet on the uplink may lack its owner"
                } else {
                    "NATed packets have no owner"
                }
            ),
            None => {}
        }
    }
}

/// Phase 6: the output: one interface keeps its link type, several or `any` are SLL2; the
/// first file is opened now (it may need root). Hands the [`Output`] to the packet path.
fn open_outputs(
    s: &Settings,
    hooks: &Hooks<'_>,
    attached: &[(NetInterface, LinkKind)],
) -> Result<Output, CaptureError> {
    let link = if hooks.any || attached.len() > 1 {
        LinkMode::Sll2
    } else {
        LinkMode::Native(attached[0].1.linktype())
    };
    let config = OutputConfig {
        link,
        snaplen: s.snaplen,
        filter: (!s.expression.is_empty()).then(|| s.expression.clone()),
        comments: s.comments,
        render: s.render,
        print: s.print || s.write.is_none(),
        write: s.write.clone(),
        rotation: s.rotation.clone(),
    };
    let ifs: Vec<OutInterface> = attached
        .iter()
        .map(|(i, k)| {
            let cookie = hooks.spaces.get(hooks.spaces.split(i.index).0).cookie;
            out_interface(i, *k, Some(cookie))
        })
        .collect();
    Output::new(config, ifs, unix_now_ns()).map_err(|e| CaptureError(e.to_string()))
}

fn out_interface(i: &NetInterface, kind: LinkKind, netns: Option<u64>) -> OutInterface {
    OutInterface {
        ifindex: i.index,
        name: i.name.clone(),
        arphrd: i.arphrd,
        native_linktype: kind.linktype(),
        description: netns.map(|c| format!("network namespace cookie {c}")),
        netns,
    }
}

/// The "capturing on" line (tcpdump's "listening on"); with -v the setup time.
fn announce(
    s: &Settings,
    hooks: &Hooks<'_>,
    attached: &[(NetInterface, LinkKind)],
    link: LinkMode,
    started: Instant,
) {
    let names: Vec<&str> = if hooks.any {
        vec!["any"]
    } else {
        attached.iter().map(|(i, _)| i.name.as_str()).collect()
    };
    eprintln!(
        "capturing on {}, link-type {}, snapshot length {} bytes, {}",
        names.join(", "),
        link.name(),
        s.snaplen,
        hooks.method.name()
    );
    if s.verbose > 0 {
        eprintln!(
            "ptcap: ready in {:.1} ms, CPU {:.1} ms",
            started.elapsed().as_secs_f64() * 1e3,
            cpu_ms()
        );
    }
}

/// CPU time (user + system, every thread, also those that ended) the process used so far.
fn cpu_ms() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(u.ru_utime) + ms(u.ru_stime)
}

/// Counts of the filter check (`--check-filter`).
#[derive(Debug, Default)]
struct CheckCounts {
    packets: u64,
    kernel_accepted: u64,
    mismatches: u64,
    skipped: u64,
}

impl CheckCounts {
    /// Compares the kernel's verdict on a packet with libpcap's (the first five mismatches are
    /// printed); truncated packets are skipped.
    fn compare(&mut self, p: &PacketEvent<'_>, f: &filter::CompiledFilter) {
        if p.data.len() as u32 != p.wire_len {
            self.skipped += 1;
            return;
        }
        self.packets += 1;
        let libpcap = f.matches(p.data);
        if !p.rejected {
            self.kernel_accepted += 1;
        }
        if libpcap == p.rejected {
            self.mismatches += 1;
            if self.mismatches <= 5 {
                let hex: String = p.data.iter().map(|b| format!("{b:02x}")).collect();
                eprintln!(
                    "filter check: MISMATCH kernel {} libpcap {} on ifindex {}: {hex}",
                    if p.rejected { "reject" } else { "accept" },
                    if libpcap { "accept" } else { "reject" },
                    p.ifindex
                );
            }
        }
    }
}

fn unix_now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What the ring callback and the loop share.
struct State {
    output: Output,
    /// Socket and process tables: socket/process events update them, packets get their owner.
    attributor: Attributor,
    /// `--drops`: the kernel's dropped packets (None: off).
    drops: Option<DropTracker>,
    /// Link kind per attached ifindex (the filter check needs it).
    /// By interface key (ifindex and namespace number): looked up per packet.
    kinds: IdMap<u32, LinkKind>,
    check: CheckCounts,
    error: Option<OutputError>,
    /// The process selection in force (attribution reads it; `-- CMD` adds its pid).
    select: Selection,
    /// `-i IFACE`: the interface that was deleted (the capture ends as tcpdump's does).
    disappeared: Option<String>,
    /// The drop program's final counters (drained).
    drop_counters: bpf::DropCounters,
}

impl State {
    fn new(
        s: &Settings,
        output: Output,
        attributor: Attributor,
        drops: Option<DropTracker>,
        attached: &[(NetInterface, LinkKind)],
    ) -> State {
        State {
            output,
            attributor,
            drops,
            kinds: attached.iter().map(|(i, k)| (i.index, *k)).collect(),
            check: CheckCounts::default(),
            error: None,
            select: s.select.clone(),
            disappeared: None,
            drop_counters: bpf::DropCounters::default(),
        }
    }
}

/// Phase 7: `-- CMD` is forked now and released (it runs) once its pid is selected, so its
/// first packet is already its own. Hands the child to the loop (its end ends the capture)
/// and to the report (its exit status).
fn start_command(s: &Settings, st: &mut State) -> Result<Option<Child>, CaptureError> {
    let Some(argv) = &s.command else {
        return Ok(None);
    };
    let as_user = if s.user.is_some() {
        None
    } else {
        crate::privdrop::sudo_user()
    };
    let mut c = crate::run_cmd::spawn(argv, as_user.as_ref()).map_err(CaptureError)?;
    st.select.pids.push(c.pid as u32);
    st.select.follow_children = true;
    st.attributor.select_pid(c.pid as u32);
    c.release(&argv[0]).map_err(CaptureError)?;
    Ok(Some(c))
}

/// One ring record (the ring callback): socket and process events update attribution's
/// tables; a packet goes to [`on_packet`].
fn on_record(st: &mut State, bytes: &[u8], s: &Settings, filters: &Filters, clock: &WallClock) {
    match bpf::parse_event(bytes) {
        Some(Event::Packet(p)) => on_packet(st, &p, s, filters, clock),
        Some(Event::Sock(ev)) => st.attributor.on_sock_event(&ev),
        Some(Event::Proc(ev)) => st.attributor.on_proc_event(&ev),
        Some(Event::Drop(d)) => on_drop(st, &d, s, clock),
        _ => {}
    }
}

/// A packet the kernel dropped: attributed like any packet (the owner filters apply), then
/// written as a packet of its interface with the drop in its metadata. Not counted as
/// captured (the closing counts stay ptcap's own): its own exit line counts it.
fn on_drop(st: &mut State, d: &DropEvent<'_>, s: &Settings, clock: &WallClock) {
    let Some(kind) = st.kinds.get(&d.ifindex).copied() else {
        return;
    };
    if st.error.is_some() || st.output.done() || st.output.captured >= s.count.unwrap_or(u64::MAX) {
        return;
    }
    let Some(tracker) = st.drops.as_mut() else {
        return;
    };
    if s.drops == DropsMode::On && tracker.delivered_echo_reply(d) {
        return;
    }
    let direction = if d.outgoing() {
        Direction::Out
    } else {
        Direction::In
    };
    // The attribution sees it as the hooks would: raw IP, with its socket if it had one.
    let as_packet = PacketEvent {
        ifindex: d.ifindex,
        direction,
        // 0: the NAT lookup below need not wait for the entry to settle (conntrack.rs): a
        // freed packet's entry is as final as it gets (confirmed, or never to be).
        ts_mono_ns: 0,
        wire_len: d.wire_len,
        filter_ret: 0,
        rejected: false,
        vlan_reinserted: false,
        copy_failed: false,
        socket_cookie: d.socket_cookie,
        data: d.data,
        // The kernel's lookup did not run on it: its own tuple is asked of ctnetlink (cached
        // per tuple). A masqueraded connection's reply dropped on the uplink before netfilter
        // reversed the rewrite still names the container's process, not the sender's socket.
        nat_trailer: None,
        ct_miss: true,
    };
    let (meta, keep) = st.attributor.meta_for(&as_packet, false);
    if !keep {
        return;
    }
    let mut meta = meta.clone();
    let info = tracker.info(d);
    tracker.count(&info);
    meta.drop = Some(info);
    let (data, wire_len) = tracker.frame(d, kind);
    let out = OutPacket {
        ifindex: d.ifindex,
        ts_unix_ns: clock.to_unix_ns(d.ts_mono_ns),
        wire_len,
        inbound: direction == Direction::In,
        data,
        meta: Some(&meta),
        kernel_drop: true,
    };
    if let Err(e) = st.output.packet(&out) {
        st.error = Some(e);
        STOP.store(true, Ordering::SeqCst);
    }
}

/// One packet: checked against libpcap (`--check-filter`), then counted once: captured
/// (attributed and written), or not captured with the reason (`Output::not_captured`); with
/// the kernel's drops that is every accepted packet.
fn on_packet(
    st: &mut State,
    p: &PacketEvent<'_>,
    s: &Settings,
    filters: &Filters,
    clock: &WallClock,
) {
    if s.check_filter {
        let Some(kind) = st.kinds.get(&p.ifindex).copied() else {
            return;
        };
        if let Some(f) = filters.get(kind) {
            st.check.compare(p, f);
        }
        if p.rejected {
            return; // not "received by filter": not counted anywhere
        }
    }
    let limit = s.count.unwrap_or(u64::MAX);
    if st.error.is_some() {
        st.output.not_captured.output_failed += 1;
        return;
    }
    if st.output.captured >= limit || st.output.done() {
        st.output.not_captured.after_end += 1;
        return;
    }
    let ethernet = st.kinds.get(&p.ifindex) == Some(&LinkKind::Ethernet);
    let (meta, keep) = st.attributor.meta_for(p, ethernet);
    if !keep {
        st.output.not_captured.selected_out += 1;
        return;
    }
    let out = OutPacket {
        ifindex: p.ifindex,
        ts_unix_ns: clock.to_unix_ns(p.ts_mono_ns),
        wire_len: p.wire_len,
        inbound: p.direction == Direction::In,
        data: p.data,
        meta: Some(meta),
        kernel_drop: false,
    };
    if let Err(e) = st.output.packet(&out) {
        st.error = Some(e);
        STOP.store(true, Ordering::SeqCst);
    }
    if st.output.captured >= limit || st.output.done() {
        STOP.store(true, Ordering::SeqCst);
    }
}

/// The ring and what its records are handled with.
struct Reader<'a> {
    ring: Ring,
    s: &'a Settings,
    filters: &'a Filters,
    clock: &'a WallClock,
}

impl Reader<'_> {
    /// Handles every record the ring holds ([`on_record`]); whether there was any.
    fn consume(&mut self, state: &RefCell<State>) -> bool {
        self.consume_up_to(state, u64::MAX).0
    }

    /// Handles the records the ring holds, and those written meanwhile up to `more_bytes`
    /// ([`Ring::consume_up_to`]); whether there was any, and whether records remain.
    fn consume_up_to(&mut self, state: &RefCell<State>, more_bytes: u64) -> (bool, bool) {
        let st = &mut *state.borrow_mut();
        let (s, filters, clock) = (self.s, self.filters, self.clock);
        let (n, more) = self
            .ring
            .consume_up_to(more_bytes, |bytes| on_record(st, bytes, s, filters, clock));
        (n > 0, more)
    }
}

/// Phase 8: waits on the ring and the netlink socket together and handles what comes, until
/// STOP (-c reached, SIGINT/SIGTERM/SIGHUP, the last `-G -W` file, an output error, a named
/// interface deleted, `-- CMD` ended). Every 100 ms the kernel counters are refreshed and
/// `-G` rotation runs; written packets are flushed every batch (50 ms, 5 ms with
/// [`Settings::immediate`]). Hands back to [`drain`].
fn poll_loop(
    reader: &mut Reader<'_>,
    hooks: &mut Hooks<'_>,
    state: &RefCell<State>,
    child: &mut Option<Child>,
) -> Result<(), CaptureError> {
    // Batches of up to 50 ms: the kernel wakes ptcap only per 256 KiB of packets
    // (PTCAP_WAKEUP_BYTES), a trickle is collected at the timeout. `-l`, `-U` and
    // `--immediate-mode` ask for packets as they come: 5 ms, at the price of 200 wake-ups a
    // second when idle.
    let batch = Duration::from_millis(if reader.s.immediate { 5 } else { 50 });
    let mut waiter = Waiter::new(
        reader.ring.fd(),
        hooks.spaces.iter().map(|(_, n)| n.watcher.raw_fd()),
    )?;
    // One pass reads what the ring held and at most a quarter of it more: a sender as fast
    // as ptcap kept a pass going for its whole flood, without a flush (the file's bytes, and
    // the list of block ends kept for a write error, grew in memory), a counter or a signal.
    let pass = reader.ring.size() / 4;
    let mut ready = Vec::new();
    let mut dirty = false;
    let mut more = false;
    let mut last_flush = Instant::now();
    let mut last_counters = Instant::now();
    while !STOP.load(Ordering::SeqCst) {
        // Until the flush is due (rounded up: a timeout rounded down to 0 ms made the loop
        // spin through the last millisecond of every batch, a third of ptcap's CPU at 20k
        // packets/s), or a batch's wake-up, or a netlink message; not at all when the last
        // pass left records.
        let timeout = if more {
            Duration::ZERO
        } else if dirty {
            batch.saturating_sub(last_flush.elapsed())
        } else {
            batch
        };
        waiter.wait(timeout, &mut ready)?;
        let (got, left) = reader.consume_up_to(state, pass);
        (dirty, more) = (dirty | got, left);
        for &no in &ready {
            let events = hooks.spaces.watcher_mut(no).read_events();
            // A deleted interface's packets were all in the ring before its RTM_DELLINK
            // was sent: take them while the interface is still known (and before an
            // interface reusing its ifindex can be attached).
            let (got, left) = reader.consume_up_to(state, 0);
            (dirty, more) = (dirty | got, more | left);
            hooks.on_link_events(&mut state.borrow_mut(), no, events);
        }
        {
            let mut st = state.borrow_mut();
            let st = &mut *st;
            if last_counters.elapsed() >= Duration::from_millis(100) {
                last_counters = Instant::now();
                hooks.refresh_counters(&mut st.output);
                match st.output.tick(unix_now_ns()) {
                    Ok(true) => {}
                    Ok(false) => STOP.store(true, Ordering::SeqCst),
                    Err(e) => {
                        st.error.get_or_insert(e);
                        STOP.store(true, Ordering::SeqCst);
                    }
                }
            }
            if dirty && last_flush.elapsed() >= batch {
                if let Err(e) = st.output.flush() {
                    st.error.get_or_insert(e);
                    STOP.store(true, Ordering::SeqCst);
                }
                dirty = false;
                last_flush = Instant::now();
            }
        }
        if let Some(c) = child.as_mut() {
            // SIGCHLD (CHILD_EXITED) makes the wait return at once; waitpid(WNOHANG) is the truth.
            CHILD_EXITED.store(false, Ordering::SeqCst);
            if c.wait(false).is_some() {
                STOP.store(true, Ordering::SeqCst);
            }
        }
    }
    Ok(())
}

/// The loop's wait: an epoll set of the ring (edge-triggered) and the namespaces' netlink
/// watchers (level-triggered). Edge-triggered because the ring's descriptor is readable
/// whenever it holds a record: `poll` returned at once after every batch while packets kept
/// coming, a few records at a time, where the programs' wake-up threshold means to wake ptcap
/// once per 256 KiB; the edge is the kernel's wake-up itself (or, for the records that do not
/// ask for one, the timeout collects them).
struct Waiter {
    epoll: OwnedFd,
    /// Filled by `epoll_wait`. Each descriptor is registered with its data: [`Waiter::RING`]
    /// for the ring, the namespace's number for a watcher.
    events: Vec<libc::epoll_event>,
}

impl Waiter {
    const RING: u64 = u64::MAX;

    fn new(ring: RawFd, watchers: impl Iterator<Item = RawFd>) -> Result<Waiter, CaptureError> {
        let fail = |what: &str| {
            CaptureError(format!(
                "waiting for packets: {what}: {}",
                io::Error::last_os_error()
            ))
        };
        // SAFETY: no pointers; the descriptor is owned from here on.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(fail("epoll_create1"));
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
        let add = |fd: RawFd, flags: u32, data: u64| {
            let mut ev = libc::epoll_event {
                events: flags,
                u64: data,
            };
            // SAFETY: valid descriptors and event.
            if unsafe { libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
                return Err(fail("epoll_ctl"));
            }
            Ok(())
        };
        add(ring, (libc::EPOLLIN | libc::EPOLLET) as u32, Self::RING)?;
        let mut n = 1;
        for (no, fd) in watchers.enumerate() {
            add(fd, libc::EPOLLIN as u32, no as u64)?;
            n += 1;
        }
        Ok(Waiter {
            epoll,
            events: vec![libc::epoll_event { events: 0, u64: 0 }; n],
        })
    }

    /// Waits up to `timeout` (rounded up to the millisecond) and puts into `ready` the
    /// numbers of the namespaces whose watcher has messages. A signal ends the wait early.
    fn wait(&mut self, timeout: Duration, ready: &mut Vec<usize>) -> Result<(), CaptureError> {
        ready.clear();
        let ms = timeout.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
        // SAFETY: the buffer holds events.len() entries.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                self.events.as_mut_ptr(),
                self.events.len() as i32,
                ms,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                return Ok(());
            }
            return Err(CaptureError(format!("waiting for packets: {e}")));
        }
        for ev in &self.events[..n as usize] {
            let data = ev.u64;
            if data != Self::RING {
                ready.push(data as usize);
            }
        }
        Ok(())
    }
}

/// Phase 9: detach every interface (nothing arrives after), then read the final counters,
/// then drain the ring: every packet the kernel counted as accepted and not dropped is read
/// and counted once. The ring goes here, so the [`State`] is the report's alone.
fn drain(mut reader: Reader<'_>, hooks: &mut Hooks<'_>, state: &RefCell<State>) {
    hooks.detach_all(&mut state.borrow_mut().output);
    reader.consume(state);
    state.borrow_mut().drop_counters = hooks.cap.drop_counters();
}

/// Phase 10: ISBs, close the file, tcpdump's three lines, the exit code.
///
/// The counts, with tcpdump's definitions (its man page; libpcap on Linux):
/// - "packets captured": packets in the output: written to the file(s) as they are on disk
///   (a write error's cut-off packets excluded), or printed when there is no file.
/// - "packets received by filter": packets the filter expression accepted in the kernel
///   hooks, whether or not they then reached user space.
/// - "packets dropped by kernel": accepted packets the ring buffer had no room for.
///
/// received = captured + dropped by kernel + not captured, where "not captured" (a fourth
/// line, only when it is not zero) names why: left out by the process/container selection,
/// lost to an output error, arrived after the end (-c, -G -W) before the hooks were detached.
fn report(s: &Settings, mut st: State, child: Option<Child>) -> Result<i32, CaptureError> {
    let attribution_summary = st.attributor.summary();
    if let Err(e) = st.output.finish(unix_now_ns()) {
        st.error.get_or_insert(e);
    }
    if st.error.as_ref().is_some_and(|e| e.quiet && e.text) {
        // tcpdump's behaviour when its text output's reader goes away (`ptcap | head`): one
        // line, status 14 (its S_ERR_ND_WRITE_FILE), no closing counts. Everything is
        // detached already and the file (with --print -w) is complete.
        let _ = child.map(|mut c| c.terminate());
        eprintln!("ptcap: Unable to write output: Broken pipe");
        return Ok(14);
    }
    if let Some(name) = &st.disappeared {
        // tcpdump: "tcpdump: pcap_loop: The interface disappeared", its counts, status 1.
        eprintln!("ptcap: {name}: The interface disappeared");
    }
    let t = st.output.totals();
    let (seen, received, dropped) = (t.seen, t.accepted, t.dropped);
    let captured = st.output.captured;
    let nc = st.output.not_captured;
    eprintln!();
    eprintln!("{captured} packet{} captured", plural(captured));
    eprintln!("{received} packet{} received by filter", plural(received));
    eprintln!("{dropped} packet{} dropped by kernel", plural(dropped));
    if nc.total() > 0 || s.verbose > 0 {
        let mut why = Vec::new();
        for (n, what) in [
            (
                nc.selected_out,
                "left out by the process/container selection",
            ),
            (nc.output_failed, "lost to the output error"),
            (nc.after_end, "after the capture ended"),
            (nc.unknown_interface, "of a detached interface"),
        ] {
            if n > 0 {
                why.push(format!("{n} {what}"));
            }
        }
        let total = nc.total();
        eprintln!(
            "{total} packet{} received but not captured{}{}",
            plural(total),
            if why.is_empty() { "" } else { ": " },
            why.join(", ")
        );
    }
    if let Some(d) = &st.drops {
        for line in d.summary(&st.drop_counters) {
            eprintln!("{line}");
        }
    }
    eprintln!("{attribution_summary}");
    if s.verbose > 0 {
        eprintln!("ptcap: {seen} packets seen by the hooks; drops: {dropped} ring buffer full, 0 in user space (no queue)");
    }
    if s.check_filter {
        let c = &st.check;
        eprintln!(
            "filter check: {} packets, {} accepted by the kernel, {} mismatches with libpcap, {} skipped (truncated)",
            c.packets, c.kernel_accepted, c.mismatches, c.skipped
        );
    }
    let child_code = child.map(|mut c| c.terminate().unwrap_or(1));
    if let Some(e) = st.error {
        if !e.quiet {
            return Err(CaptureError(e.to_string()));
        }
    }
    if st.disappeared.is_some() {
        return Ok(1);
    }
    if let Some(code) = child_code {
        return Ok(code);
    }
    Ok(if s.check_filter && st.check.mismatches > 0 {
        1
    } else {
        0
    })
}

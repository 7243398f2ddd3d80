//! ptcap's per-packet attribution, end to end, as root, on the real kernel.
//!
//! Topology (198.18.0.0/15 only, unique names): namespaces A and B each hold one end of a veth
//! pair whose other end is in the root namespace, enslaved to a bridge there; A is 198.18.S.1,
//! B is 198.18.S.2. ptcap runs with `-i any` in the root namespace (it sees each packet on both
//! host-side veth ends; at the sender's end's ingress the packet still carries the sender's
//! socket) and, at the same time, inside B (`nsenter --net`; B's veth end and loopback).
//! Clients and servers are python3/ping processes started by this test (pids known: nsenter
//! execs them). Every written packet is read back with formats' CaptureReader + MetaReader and
//! checked: process (pid, comm, argv, uid), parent, provenance; `roles_and_current_names_on_every_hop`
//! also checks each packet's role and names against what /proc showed when it was sent, and
//! ptanalyze's flows. Coverage and the count per provenance are printed (`--nocapture`).
//!
//! A guard deletes the namespaces and kills only the processes it started (also on panic); each
//! test checks afterwards that no program of ours stays loaded or attached to a cgroup.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use formats::meta::{MetaReader, PacketMeta, Provenance, Role};
use formats::pcapng::CaptureReader;
use ptcap_tests::{ptcap_bin, run_checked};

static SERIAL: Mutex<()> = Mutex::new(());
static NEXT: AtomicU32 = AtomicU32::new(0);

fn is_root() -> bool {
    // SAFETY: plain syscall.
    unsafe { libc_geteuid() == 0 }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// The system's python3 (not a shim script: users other than root must run it too).
fn python_bin() -> String {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3".into()
    } else {
        "python3".into()
    }
}

/// The test programs (python3): servers print "ready", clients "done".
const PROG: &str = r#"
import os, socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
def exchange(c, n):
    for i in range(n):
        c.sendall(b'x' * 100)
        got = 0
        while got < 100:
            d = c.recv(100 - got)
            if not d: return
            got += len(d)
if mode == 'tcpserver':
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(16)
    print('ready', flush=True)
    import threading
    def serve(c):
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d)
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
elif mode == 'udpserver':
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host, port))
    print('ready', flush=True)
    while True:
        d, a = s.recvfrom(65536)
        s.sendto(d, a)
elif mode == 'tcpclient':
    n = int(sys.argv[4])
    opts = sys.argv[5] if len(sys.argv) > 5 else ''
    c = socket.create_connection((host, port))
    if 'wait' in opts:
        print('connected', flush=True)
        sys.stdin.readline()
    if 'fork' in opts:
        pid = os.fork()
        if pid == 0:
            k = socket.create_connection((host, port))
            exchange(k, n); k.close(); os._exit(0)
        os.waitpid(pid, 0)
    exchange(c, n)
    c.close()
    time.sleep(0.3)
    print('done', flush=True)
elif mode == 'client2':
    # Reports what /proc says about itself ("proc TIME COMM EXE") before and after each
    # change; "mark TIME" just before a change. opts: reexec (exec /proc/self/exe first, as
    # busybox's shell runs its applets), rename (prctl(PR_SET_NAME) before connecting and again
    # mid-connection, on a TCP socket no socket hook sees again).
    n, opts = int(sys.argv[4]), sys.argv[5]
    if 'reexec' in opts and os.environ.get('PT_REEXEC') != '1':
        os.environ['PT_REEXEC'] = '1'
        os.execv('/proc/self/exe', ['python3'] + sys.argv)
    def proc():
        comm = open('/proc/self/comm').read().strip()
        print('proc', time.time_ns(), comm, os.readlink('/proc/self/exe'), flush=True)
    def rename(name):
        import ctypes
        print('mark', time.time_ns(), flush=True)
        ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)
        proc()
    proc()
    if 'rename' in opts:
        rename('cli-one')
    c = socket.create_connection((host, port))
    print('local', c.getsockname()[1], flush=True)
    exchange(c, n)
    if 'rename' in opts:
        time.sleep(0.3)
        rename('cli-two')
        time.sleep(0.3)
        exchange(c, n)
    c.close()
    time.sleep(0.3)
    print('done', flush=True)
elif mode == 'udpclient':
    n = int(sys.argv[4])
    c = socket.socket(fam, socket.SOCK_DGRAM)
    for i in range(n):
        c.sendto(b'y' * 50, (host, port))
        c.recvfrom(100)
    print('done', flush=True)
"#;

/// Namespaces A and B bridged through the root namespace.
struct Net {
    a: String,
    b: String,
    bridge: String,
    host_a: String,
    host_b: String,
    subnet: u32,
    children: Vec<Child>,
    dir: PathBuf,
}

impl Net {
    fn new() -> Net {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let tag = format!("{}{}", pid % 100_000, n);
        let dir = std::env::temp_dir().join(format!("ptcap-attr-{pid}-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let net = Net {
            a: format!("ptattr-{pid}-{n}-a"),
            b: format!("ptattr-{pid}-{n}-b"),
            bridge: format!("pab{tag}"),
            host_a: format!("paa{tag}"),
            host_b: format!("pah{tag}"),
            subnet: 100 + (pid % 50) * 2 + n % 2,
            children: Vec::new(),
            dir,
        };
        run_checked(&["ip", "netns", "add", &net.a]);
        run_checked(&["ip", "netns", "add", &net.b]);
        run_checked(&["ip", "link", "add", &net.bridge, "type", "bridge"]);
        run_checked(&["ip", "link", "set", &net.bridge, "up"]);
        for (ns, host, ip) in [
            (&net.a, &net.host_a, net.ip_a()),
            (&net.b, &net.host_b, net.ip_b()),
        ] {
            run_checked(&[
                "ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns,
            ]);
            run_checked(&["ip", "link", "set", host, "master", &net.bridge]);
            run_checked(&["ip", "link", "set", host, "up"]);
            run_checked(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                "eth0",
            ]);
            run_checked(&["ip", "-n", ns, "link", "set", "lo", "up"]);
            run_checked(&["ip", "-n", ns, "link", "set", "eth0", "up"]);
        }
        std::fs::write(net.dir.join("prog.py"), PROG).unwrap();
        net
    }

    fn ip_a(&self) -> String {
        format!("198.18.{}.1", self.subnet)
    }

    fn ip_b(&self) -> String {
        format!("198.18.{}.2", self.subnet)
    }

    fn cmd(&self, ns: &str, args: &[&str]) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net=/var/run/netns/{ns}")).args(args);
        c
    }

    /// Starts a process in `ns`, waits for `ready` on its stdout; returns (pid, stdin).
    fn start(&mut self, ns: &str, args: &[&str], ready: Option<&str>) -> (u32, ChildStdin) {
        let mut child = self
            .cmd(ns, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let pid = child.id();
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        self.children.push(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        if let Some(r) = ready {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(l) if l.contains(r) => break,
                    Ok(_) => {}
                    Err(_) => panic!("{args:?} did not print {r:?}"),
                }
            }
        }
        // Keep the receiver alive for later lines (a client's "done").
        DONE.lock().unwrap().insert(pid, rx);
        (pid, stdin)
    }

    fn python(&mut self, ns: &str, args: &[&str], ready: Option<&str>) -> (u32, ChildStdin) {
        let prog = self.dir.join("prog.py");
        let py = python_bin();
        let mut full = vec![py.as_str(), prog.to_str().unwrap()];
        full.extend_from_slice(args);
        self.start(ns, &full, ready)
    }

    /// Waits for one of our processes to exit.
    fn wait(&mut self, pid: u32) {
        let i = self
            .children
            .iter()
            .position(|c| c.id() == pid)
            .expect("our child");
        let mut c = self.children.remove(i);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                assert!(st.success(), "process {pid} failed: {st}");
                return;
            }
            assert!(Instant::now() < deadline, "process {pid} did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

static DONE: Mutex<BTreeMap<u32, std::sync::mpsc::Receiver<String>>> = Mutex::new(BTreeMap::new());

impl Drop for Net {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_a])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_b])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .stderr(Stdio::null())
            .status();
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running ptcap.
struct Ptcap {
    child: Child,
    file: PathBuf,
}

/// Program ids held by a process (its bpf fds' fdinfo `prog_id:`): exactly ours, whatever
/// else (other captures on this machine) has loaded programs of the same names.
fn prog_ids_of(pid: u32) -> HashSet<u32> {
    let mut ids = HashSet::new();
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) {
        for e in dir.flatten() {
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                for l in text.lines() {
                    if let Some(v) = l.strip_prefix("prog_id:") {
                        if let Ok(id) = v.trim().parse() {
                            ids.insert(id);
                        }
                    }
                }
            }
        }
    }
    ids
}

static OURS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

impl Ptcap {
    /// Starts ptcap (in `ns`, or the root namespace) writing `file`; waits until it captures.
    fn start(ns: Option<&str>, file: &Path, args: &[&str]) -> Ptcap {
        let bin = ptcap_bin();
        let mut cmd = match ns {
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/var/run/netns/{ns}")).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        cmd.arg("-w")
            .arg(file)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("ptcap starts");
        let err = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = Vec::new();
            let mut r = BufReader::new(err);
            let mut l = String::new();
            while r.read_line(&mut l).map(|n| n > 0).unwrap_or(false) {
                if l.starts_with("capturing on") {
                    let _ = tx.send(None);
                }
                lines.push(std::mem::take(&mut l));
            }
            let _ = tx.send(Some(lines.concat()));
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(None) => {}
            other => panic!("ptcap {args:?} did not start: {other:?}"),
        }
        STDERR.lock().unwrap().insert(child.id(), rx);
        let ids = prog_ids_of(child.id());
        assert!(
            ids.len() >= 18,
            "ptcap holds {} programs: the attribution hooks are missing",
            ids.len()
        );
        OURS.lock().unwrap().extend(ids);
        Ptcap {
            child,
            file: file.to_path_buf(),
        }
    }

    /// SIGINT, wait, return stderr; reads the file back.
    fn stop(mut self) -> (String, Vec<Pkt>) {
        let file = self.file.clone();
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let st = self.child.wait().unwrap();
        let rx = STDERR.lock().unwrap().remove(&self.child.id()).unwrap();
        let err = loop {
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(Some(s)) => break s,
                Ok(None) => continue,
                Err(_) => break String::new(),
            }
        };
        assert!(st.success(), "ptcap failed: {err}");
        (err, read_packets(&file))
    }
}

impl Drop for Ptcap {
    /// A test that failed before stop(): end this ptcap (by its pid) so it detaches.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-INT", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

static STDERR: Mutex<BTreeMap<u32, std::sync::mpsc::Receiver<Option<String>>>> =
    Mutex::new(BTreeMap::new());

/// One packet read back.
#[derive(Debug)]
struct Pkt {
    ts_ns: u64,
    iface: String,
    proto: u8,
    src: String,
    sport: u16,
    dst: String,
    dport: u16,
    meta: PacketMeta,
}

fn read_packets(file: &Path) -> Vec<Pkt> {
    let bytes = std::fs::read(file).unwrap();
    let mut r = CaptureReader::new(&bytes).unwrap();
    let mut m = MetaReader::new();
    let mut out = Vec::new();
    while let Ok(Some(p)) = r.next_packet() {
        let iface = &r.interfaces()[p.interface as usize];
        m.learn_definitions(&p.options);
        let meta = m.decode(&p.options);
        let ip = match iface.link_type {
            1 => {
                let et = u16::from_be_bytes([p.data[12], p.data[13]]);
                if et != 0x0800 && et != 0x86dd {
                    continue;
                }
                &p.data[14..]
            }
            276 => &p.data[20..],
            _ => p.data,
        };
        let (proto, src, dst, l4): (u8, String, String, &[u8]) = match ip[0] >> 4 {
            4 => {
                let ihl = (ip[0] & 15) as usize * 4;
                let a = |o: usize| {
                    std::net::Ipv4Addr::new(ip[o], ip[o + 1], ip[o + 2], ip[o + 3]).to_string()
                };
                (ip[9], a(12), a(16), &ip[ihl..])
            }
            6 => {
                let a = |o: usize| {
                    std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&ip[o..o + 16]).unwrap())
                        .to_string()
                };
                (ip[6], a(8), a(24), &ip[40..])
            }
            _ => continue,
        };
        let (sport, dport) = if (proto == 6 || proto == 17) && l4.len() >= 4 {
            (
                u16::from_be_bytes([l4[0], l4[1]]),
                u16::from_be_bytes([l4[2], l4[3]]),
            )
        } else {
            (0, 0)
        };
        out.push(Pkt {
            ts_ns: p.ts_ns,
            iface: iface.name.clone().unwrap_or_default(),
            proto,
            src,
            sport,
            dst,
            dport,
            meta,
        });
    }
    out
}

/// Counts per provenance and checks every packet's owner with `expect` (packet -> pid, plus
/// the expected argv[1] marker); returns (right, total).
fn check(
    label: &str,
    pkts: &[Pkt],
    expect: &dyn Fn(&Pkt) -> (u32, &'static str),
) -> (usize, usize) {
    let mut by_prov: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_iface: BTreeMap<String, usize> = BTreeMap::new();
    let mut right = 0;
    let mut wrong = Vec::new();
    let me = std::process::id();
    for p in pkts {
        *by_prov.entry(p.meta.provenance.as_str()).or_default() += 1;
        *by_iface.entry(p.iface.clone()).or_default() += 1;
        let (pid, mode) = expect(p);
        let ok = p.meta.process.as_ref().is_some_and(|pr| {
            pr.pid == pid
                && pr.uid == Some(0)
                && (mode.is_empty() || pr.argv.get(2).map(String::as_str) == Some(mode))
        }) && p.meta.provenance != Provenance::None
            // ptcap always knows whether the owner sent or received the packet.
            && p.meta.role != Role::Unknown;
        // The parent: this test (nsenter execs the program), or the forking client.
        let parent_ok = p
            .meta
            .parent
            .as_ref()
            .is_some_and(|pp| pp.pid == me || mode == "forked");
        if ok && parent_ok {
            right += 1;
        } else if wrong.len() < 5 {
            wrong.push(format!(
                "{} {}:{} > {}:{} proto {} expected pid {pid}: got {:?} parent {:?} via {:?}",
                p.iface,
                p.src,
                p.sport,
                p.dst,
                p.dport,
                p.proto,
                p.meta
                    .process
                    .as_ref()
                    .map(|x| (x.pid, x.comm.clone(), x.argv.clone())),
                p.meta.parent.as_ref().map(|x| x.pid),
                p.meta.provenance
            ));
        }
    }
    eprintln!(
        "[{label}] coverage {right}/{} ({:.1}%), by provenance {by_prov:?}, by interface {by_iface:?}",
        pkts.len(),
        100.0 * right as f64 / pkts.len().max(1) as f64
    );
    assert!(!pkts.is_empty(), "[{label}] no packets");
    assert_eq!(
        right,
        pkts.len(),
        "[{label}] wrongly attributed packets, e.g.:\n{}",
        wrong.join("\n")
    );
    (right, pkts.len())
}

/// Nothing of ours (the program ids our ptcaps held) may stay loaded or attached to a cgroup
/// once ptcap has exited.
fn assert_nothing_left(net: &Net) {
    let ours: HashSet<String> = OURS
        .lock()
        .unwrap()
        .drain(..)
        .map(|id| id.to_string())
        .collect();
    assert!(!ours.is_empty());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let progs = run_checked(&["bpftool", "prog", "show"]);
        let tree = run_checked(&["bpftool", "cgroup", "tree"]);
        let left: Vec<&str> = progs
            .lines()
            .filter(|l| {
                l.split(':')
                    .next()
                    .is_some_and(|id| ours.contains(id.trim()))
            })
            .chain(tree.lines().filter(|l| {
                l.split_whitespace()
                    .next()
                    .is_some_and(|id| ours.contains(id))
            }))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "programs of ours still loaded or attached: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for (ns, dev) in [
        (None, &net.host_a),
        (None, &net.host_b),
        (Some(&net.b), &"eth0".to_string()),
    ] {
        let q = match ns {
            Some(ns) => {
                run_checked(&["ip", "netns", "exec", ns, "tc", "qdisc", "show", "dev", dev])
            }
            None => run_checked(&["tc", "qdisc", "show", "dev", dev]),
        };
        assert!(
            !q.contains("clsact"),
            "a clsact qdisc was left on {dev}: {q}"
        );
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn setup() -> Option<std::sync::MutexGuard<'static, ()>> {
    if !is_root() {
        panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
    }
    Some(SERIAL.lock().unwrap_or_else(|e| e.into_inner()))
}

/// TCP across namespaces, captured on the host side (`-i any` in the root namespace) and inside
/// B at once.
#[test]
fn tcp_client_and_server_in_two_namespaces() {
    let Some(_g) = setup() else { return };
    let mut net = Net::new();
    let port = 20000 + (std::process::id() % 10000) as u16;
    let (srv, _i) = net.python(
        &net.b.clone(),
        &["tcpserver", &net.ip_b(), &port.to_string()],
        Some("ready"),
    );
    let filter = format!("tcp port {port}");
    let root = Ptcap::start(None, &net.dir.join("root.pcapng"), &["-i", "any", &filter]);
    let inside = Ptcap::start(
        Some(&net.b.clone()),
        &net.dir.join("b.pcapng"),
        &["-i", "any", &filter],
    );
    let ip_b = net.ip_b();
    let (cli, _c) = net.python(
        &net.a.clone(),
        &["tcpclient", &ip_b, &port.to_string(), "20"],
        None,
    );
    net.wait(cli);
    let (_, root_pkts) = root.stop();
    let (_, b_pkts) = inside.stop();
    let expect = |p: &Pkt| {
        if p.sport == port {
            (srv, "tcpserver")
        } else {
            (cli, "tcpclient")
        }
    };
    check("tcp root -i any", &root_pkts, &expect);
    check("tcp inside B", &b_pkts, &expect);
    // Both host-side veth ends saw the packets.
    for h in [&net.host_a, &net.host_b] {
        assert!(root_pkts.iter().any(|p| &p.iface == h), "no packet on {h}");
    }
    assert!(
        root_pkts.len() >= 2 * 40,
        "too few packets: {}",
        root_pkts.len()
    );
    assert_nothing_left(&net);
}

/// A connection (and a server) that existed before ptcap started: the sock_diag path.
#[test]
fn connection_opened_before_ptcap_started() {
    let Some(_g) = setup() else { return };
    let mut net = Net::new();
    let port = 21000 + (std::process::id() % 10000) as u16;
    let (srv, _i) = net.python(
        &net.b.clone(),
        &["tcpserver", &net.ip_b(), &port.to_string()],
        Some("ready"),
    );
    let ip_b = net.ip_b();
    let (cli, mut go) = net.python(
        &net.a.clone(),
        &["tcpclient", &ip_b, &port.to_string(), "10", "wait"],
        Some("connected"),
    );
    let root = Ptcap::start(
        None,
        &net.dir.join("root.pcapng"),
        &["-i", "any", &format!("tcp port {port}")],
    );
    writeln!(go, "go").unwrap();
    net.wait(cli);
    let (_, pkts) = root.stop();
    let expect = |p: &Pkt| {
        if p.sport == port {
            (srv, "tcpserver")
        } else {
            (cli, "tcpclient")
        }
    };
    check("pre-existing tcp", &pkts, &expect);
    let diag = pkts
        .iter()
        .filter(|p| p.meta.provenance == Provenance::SockDiag)
        .count();
    assert!(diag > 0, "no packet attributed through sock_diag");
    assert_nothing_left(&net);
}

/// UDP request/response (unconnected sockets both sides) and ICMP echo (replies belong to
/// the pinging process).
#[test]
fn udp_and_icmp_echo() {
    let Some(_g) = setup() else { return };
    let mut net = Net::new();
    let port = 22000 + (std::process::id() % 10000) as u16;
    let (srv, _i) = net.python(
        &net.b.clone(),
        &["udpserver", &net.ip_b(), &port.to_string()],
        Some("ready"),
    );
    let filter = format!("udp port {port} or icmp");
    let root = Ptcap::start(None, &net.dir.join("root.pcapng"), &["-i", "any", &filter]);
    let ip_b = net.ip_b();
    let (cli, _c) = net.python(
        &net.a.clone(),
        &["udpclient", &ip_b, &port.to_string(), "10"],
        None,
    );
    net.wait(cli);
    let (ping, _p) = net.start(
        &net.a.clone(),
        &["ping", "-c", "3", "-i", "0.2", &ip_b],
        None,
    );
    net.wait(ping);
    let (_, pkts) = root.stop();
    let (udp, icmp): (Vec<Pkt>, Vec<Pkt>) = pkts.into_iter().partition(|p| p.proto == 17);
    check("udp", &udp, &|p: &Pkt| {
        if p.sport == port {
            (srv, "udpserver")
        } else {
            (cli, "udpclient")
        }
    });
    assert_eq!(udp.len(), 2 * 20, "UDP packets on both host-side ends");
    check("icmp echo", &icmp, &|_: &Pkt| (ping, ""));
    assert_eq!(
        icmp.len(),
        2 * 6,
        "echo requests and replies on both host-side ends"
    );
    for p in &icmp {
        assert_eq!(p.meta.process.as_ref().unwrap().comm, "ping");
    }
    assert_nothing_left(&net);
}

/// IPv6 (loopback ::1 inside namespace A; no other address is allowed in tests), ptcap
/// inside A.
#[test]
fn ipv6_tcp_and_udp_inside_a_namespace() {
    let Some(_g) = setup() else { return };
    let mut net = Net::new();
    let port = 23000 + (std::process::id() % 10000) as u16;
    let a = net.a.clone();
    let (srv, _i) = net.python(&a, &["tcpserver", "::1", &port.to_string()], Some("ready"));
    let (usrv, _j) = net.python(
        &a,
        &["udpserver", "::1", &(port + 1).to_string()],
        Some("ready"),
    );
    let filter = format!("ip6 and (port {port} or port {})", port + 1);
    let cap = Ptcap::start(Some(&a), &net.dir.join("a6.pcapng"), &["-i", "lo", &filter]);
    let (cli, _c) = net.python(&a, &["tcpclient", "::1", &port.to_string(), "10"], None);
    net.wait(cli);
    let (ucli, _d) = net.python(
        &a,
        &["udpclient", "::1", &(port + 1).to_string(), "5"],
        None,
    );
    net.wait(ucli);
    let (_, pkts) = cap.stop();
    check(
        "ipv6 lo",
        &pkts,
        &|p: &Pkt| match (p.proto, p.sport == port || p.sport == port + 1) {
            (6, true) => (srv, "tcpserver"),
            (6, false) => (cli, "tcpclient"),
            (_, true) => (usrv, "udpserver"),
            (_, false) => (ucli, "udpclient"),
        },
    );
    assert!(pkts.iter().all(|p| p.src == "::1"));
    assert_nothing_left(&net);
}

/// `--pid`, `--pname`, `--uid` keep exactly the conversations of the selected processes (a
/// forked child's included), compared with an unfiltered capture of the same traffic.
#[test]
fn pid_pname_and_uid_select_exactly() {
    let Some(_g) = setup() else { return };
    let mut net = Net::new();
    let port = 24000 + (std::process::id() % 10000) as u16;
    let b = net.b.clone();
    let a = net.a.clone();
    let ip_b = net.ip_b();
    let ps = port.to_string();
    let (srv, _i) = net.python(&b, &["tcpserver", &ip_b, &ps], Some("ready"));
    // A client named differently (its comm is the name it was executed under).
    let alias = net.dir.join("ptcapcli");
    std::os::unix::fs::symlink(python_bin(), &alias).unwrap();
    let filter = format!("tcp port {port}");
    let all = Ptcap::start(None, &net.dir.join("all.pcapng"), &["-i", "any", &filter]);
    // Clients: a forking one (selected by --pid), one under another name (--pname), one as
    // nobody (--uid 65534), and one that nothing selects.
    let forker_file = net.dir.join("pid.pcapng");
    let (forker, mut fgo) = net.python(
        &a,
        &["tcpclient", &ip_b, &ps, "5", "wait,fork"],
        Some("connected"),
    );
    let selective_start = now_ns();
    let by_pid = Ptcap::start(
        None,
        &forker_file,
        &["-i", "any", "--pid", &forker.to_string(), &filter],
    );
    let by_name = Ptcap::start(
        None,
        &net.dir.join("pname.pcapng"),
        &["-i", "any", "--pname", "ptcapcli", &filter],
    );
    let by_uid = Ptcap::start(
        None,
        &net.dir.join("uid.pcapng"),
        &["-i", "any", "--uid", "65534", &filter],
    );
    writeln!(fgo, "go").unwrap();
    net.wait(forker);
    let prog = net.dir.join("prog.py");
    let prog = prog.to_str().unwrap();
    let (named, _n) = net.start(
        &a,
        &[alias.to_str().unwrap(), prog, "tcpclient", &ip_b, &ps, "5"],
        None,
    );
    net.wait(named);
    let (nobody, _u) = net.start(
        &a,
        &[
            "setpriv",
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            &python_bin(),
            prog,
            "tcpclient",
            &ip_b,
            &ps,
            "5",
        ],
        None,
    );
    net.wait(nobody);
    let (other, _o) = net.python(&a, &["tcpclient", &ip_b, &ps, "5"], None);
    net.wait(other);
    let _ = srv;
    let (_, everything) = all.stop();
    let (_, pid_pkts) = by_pid.stop();
    let (_, name_pkts) = by_name.stop();
    let (_, uid_pkts) = by_uid.stop();

    // Client port -> client pid, from the unfiltered capture (client-sent packets).
    let mut owner_of_port: HashMap<u16, u32> = HashMap::new();
    for p in &everything {
        if p.dport == port {
            let pid = p.meta.process.as_ref().expect("attributed").pid;
            owner_of_port.insert(p.sport, pid);
        }
    }
    let forked_children: HashSet<u32> = everything
        .iter()
        .filter_map(|p| {
            let pr = p.meta.process.as_ref()?;
            (p.meta.parent.as_ref()?.pid == forker).then_some(pr.pid)
        })
        .collect();
    assert_eq!(
        forked_children.len(),
        1,
        "the forked child's connection was seen"
    );
    for (label, pkts, pids) in [
        (
            "--pid",
            &pid_pkts,
            [forker]
                .into_iter()
                .chain(forked_children.iter().copied())
                .collect::<HashSet<u32>>(),
        ),
        ("--pname", &name_pkts, [named].into_iter().collect()),
        ("--uid", &uid_pkts, [nobody].into_iter().collect()),
    ] {
        let client_port = |p: &Pkt| if p.dport == port { p.sport } else { p.dport };
        let want: Vec<(String, u16, u16)> = everything
            .iter()
            .filter(|p| p.ts_ns > selective_start)
            .filter(|p| {
                owner_of_port
                    .get(&client_port(p))
                    .is_some_and(|o| pids.contains(o))
            })
            .map(|p| (p.iface.clone(), p.sport, p.dport))
            .collect();
        let mut want = want;
        want.sort();
        let mut got: Vec<(String, u16, u16)> = pkts
            .iter()
            .map(|p| (p.iface.clone(), p.sport, p.dport))
            .collect();
        got.sort();
        eprintln!(
            "[{label}] {} packets selected of {}",
            got.len(),
            everything.len()
        );
        assert!(!want.is_empty());
        assert_eq!(
            got, want,
            "{label} selected other packets than the selected processes' conversations"
        );
    }
    assert!(pid_pkts
        .iter()
        .any(|p| forked_children.contains(&p.meta.process.as_ref().unwrap().pid)));
    assert_nothing_left(&net);
}

/// What a client reported about itself: its local port and what /proc showed over time
/// (`(from_ns, comm, exe)`; `None` between a "mark" and the next report: changing).
struct Reported {
    port: u16,
    states: Vec<(u64, Option<(String, String)>)>,
}

fn reported(pid: u32) -> Reported {
    let rx = DONE.lock().unwrap().remove(&pid).expect("our client");
    let mut r = Reported {
        port: 0,
        states: Vec::new(),
    };
    loop {
        let l = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("client {pid} did not finish"));
        let w: Vec<&str> = l.split_whitespace().collect();
        match w.as_slice() {
            ["done"] => return r,
            ["local", p] => r.port = p.parse().unwrap(),
            ["mark", t] => r.states.push((t.parse().unwrap(), None)),
            ["proc", t, comm, exe] => r.states.push((
                t.parse().unwrap(),
                Some((comm.to_string(), exe.to_string())),
            )),
            _ => {}
        }
    }
}

impl Reported {
    /// (comm, exe) at time `ts` (None: changing then, or before the first report).
    fn at(&self, ts: u64) -> Option<&(String, String)> {
        self.states
            .iter()
            .rev()
            .find(|(t, _)| *t <= ts)
            .and_then(|(_, s)| s.as_ref())
    }
}

/// The property issue 9 lacked: with known pids on both sides (a server in B, clients in A
/// started after ptcap, one exec'ing `/proc/self/exe` as busybox's shell does, one going
/// through `sh -c exec`, one renaming itself with prctl before connecting and again in the
/// middle of its connection), on every hop (`-i any` in the root namespace: both host veths;
/// inside B: its eth0), every packet's owner is on the side its role says (sender = the
/// packet's source), its comm and exe are what /proc showed when it was sent, and every flow
/// of ptanalyze --flows has the client as initiator and the server as responder, by pid.
#[test]
fn roles_and_current_names_on_every_hop() {
    let Some(_g) = setup() else { return };
    let mut net = Net::new();
    let port = 24000 + (std::process::id() % 10000) as u16;
    let (b, a) = (net.b.clone(), net.a.clone());
    let (srv, _i) = net.python(
        &b,
        &["tcpserver", &net.ip_b(), &port.to_string()],
        Some("ready"),
    );
    let srv_state = (
        std::fs::read_to_string(format!("/proc/{srv}/comm"))
            .unwrap()
            .trim()
            .to_string(),
        std::fs::read_link(format!("/proc/{srv}/exe"))
            .unwrap()
            .display()
            .to_string(),
    );
    let filter = format!("tcp port {port}");
    let root = Ptcap::start(None, &net.dir.join("root.pcapng"), &["-i", "any", &filter]);
    let inside = Ptcap::start(Some(&b), &net.dir.join("b.pcapng"), &["-i", "any", &filter]);
    let ip_b = net.ip_b();
    let prog = net.dir.join("prog.py").display().to_string();
    let py = python_bin();
    let mut clients = Vec::new();
    for opts in ["plain", "reexec", "rename", "shexec"] {
        let (pid, _c) = if opts == "shexec" {
            let line = format!("exec {py} {prog} client2 {ip_b} {port} 5 plain");
            net.start(&a, &["sh", "-c", &line], None)
        } else {
            net.python(&a, &["client2", &ip_b, &port.to_string(), "5", opts], None)
        };
        clients.push((opts, pid, reported(pid)));
        net.wait(pid);
    }
    let (_, root_pkts) = root.stop();
    let (_, b_pkts) = inside.stop();
    let by_port: HashMap<u16, (u32, &Reported)> = clients
        .iter()
        .map(|(_, pid, r)| (r.port, (*pid, r)))
        .collect();
    for (opts, _, r) in &clients {
        let comms: Vec<&str> = r
            .states
            .iter()
            .filter_map(|(_, s)| s.as_ref().map(|s| s.0.as_str()))
            .collect();
        eprintln!("client {opts}: /proc said {comms:?}");
    }
    assert!(clients.iter().any(|(o, _, r)| *o == "reexec"
        && r.states
            .iter()
            .any(|(_, s)| s.as_ref().is_some_and(|s| s.0 == "exe"))));

    let mut failures = Vec::new();
    for (label, pkts) in [("root -i any", &root_pkts), ("inside B", &b_pkts)] {
        let (mut right, mut skipped) = (0, 0);
        let mut wrong = Vec::new();
        for p in pkts.iter() {
            let client_port = if p.sport == port { p.dport } else { p.sport };
            let Some(&(cpid, rep)) = by_port.get(&client_port) else {
                wrong.push(format!("unknown client port {client_port}"));
                continue;
            };
            let from_client = p.sport == client_port;
            let owner_is_client = match p.meta.role {
                Role::Sender => from_client,
                Role::Receiver => !from_client,
                Role::Unknown => {
                    wrong.push(format!("{} no role", p.iface));
                    continue;
                }
            };
            let (want_pid, want) = if owner_is_client {
                match rep.at(p.ts_ns) {
                    Some(s) => (cpid, s.clone()),
                    None => {
                        skipped += 1;
                        continue;
                    }
                }
            } else {
                (srv, srv_state.clone())
            };
            let got = p
                .meta
                .process
                .as_ref()
                .map(|x| (x.pid, x.comm.clone(), x.exe.clone()));
            if got == Some((want_pid, want.0.clone(), want.1.clone())) {
                right += 1;
            } else if wrong.len() < 8 {
                wrong.push(format!(
                    "{} {}:{} > {}:{} {:?} via {:?}: want {want_pid} {want:?}, got {got:?}",
                    p.iface, p.src, p.sport, p.dst, p.dport, p.meta.role, p.meta.provenance
                ));
            }
        }
        eprintln!(
            "[{label}] {right}/{} packets with the right owner, role and names ({skipped} sent while a name changed)",
            pkts.len()
        );
        assert!(!pkts.is_empty(), "[{label}] no packets");
        if !wrong.is_empty() || right + skipped != pkts.len() {
            failures.push(format!("[{label}] {}", wrong.join("\n")));
        }
    }
    for h in [&net.host_a, &net.host_b] {
        assert!(root_pkts.iter().any(|p| &p.iface == h), "no packet on {h}");
    }

    // ptanalyze --flows: initiator = the client's pid, responder = the server's, on both files.
    for file in [net.dir.join("root.pcapng"), net.dir.join("b.pcapng")] {
        let out = Command::new(ptcap_tests::ptanalyze_bin())
            .args(["--flows", "--json"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success());
        let flows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|v: &serde_json::Value| v.get("initiator").is_some())
            .collect();
        assert_eq!(flows.len(), clients.len(), "{flows:?}");
        let mut right = 0;
        for f in &flows {
            let cport = f["initiator"]["port"].as_u64().unwrap() as u16;
            let (cpid, _) = by_port[&cport];
            let pid = |s: &str| f[s]["owner"]["process"]["pid"].as_u64();
            if f["responder"]["port"] == port
                && pid("orig") == Some(cpid as u64)
                && pid("resp") == Some(srv as u64)
            {
                right += 1;
            } else {
                failures.push(format!("flow: {f}"));
            }
        }
        eprintln!(
            "[{}] {right}/{} flows with the client's pid as initiator and the server's as responder",
            file.display(),
            flows.len()
        );
    }
    // Both ends are local: the file records each packet's other end too, so offline --pid of
    // either end keeps what a live --pid keeps — every packet of its conversations.
    let root = net.dir.join("root.pcapng");
    let count = |args: &[String]| {
        let mut a: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        a.push(root.clone().into());
        ptcap_tests::ptanalyze_packets(a).len()
    };
    let all = count(&[]);
    assert_eq!(all, root_pkts.len());
    assert_eq!(
        count(&["--pid".into(), srv.to_string()]),
        all,
        "offline --pid of the server keeps every packet of its conversations"
    );
    for (cport, (cpid, _)) in &by_port {
        let want = root_pkts
            .iter()
            .filter(|p| p.sport == *cport || p.dport == *cport)
            .count();
        assert_eq!(
            count(&["--pid".into(), cpid.to_string()]),
            want,
            "offline --pid {cpid} (client port {cport})"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_nothing_left(&net);
}

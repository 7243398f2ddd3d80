//! ptcap's command line end to end, as root: `-i any` with a veth pair created mid-capture,
//! `-w -` read live by tcpdump, rotation (-C, -C -W, -G) with no packet lost or duplicated,
//! `-Z nobody`, `-- CMD`, SIGKILL, and a full disk (a 1 MiB tmpfs).
//!
//! Test hosts are network namespaces joined by veth pairs with addresses in 198.18.0.0/15
//! only. A guard removes the namespaces and mounts and kills the processes a test started (by
//! pid), also when it panics. After each run no clsact qdisc and no capture program is left.

use ptcap_tests::{ptcap_bin, run_checked};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Namespaces A and B; `link()` joins them with a veth pair. Owns everything it started.
struct Net {
    a: String,
    b: String,
    subnet: u32,
    pids: Vec<u32>,
    mounts: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Net {
    fn new(tag: &str, subnet: u32) -> Net {
        let pid = std::process::id();
        let net = Net {
            a: format!("ptcap-cli-{pid}-{tag}-a"),
            b: format!("ptcap-cli-{pid}-{tag}-b"),
            subnet,
            pids: Vec::new(),
            mounts: Vec::new(),
            dirs: Vec::new(),
        };
        run_checked(&["ip", "netns", "add", &net.a]);
        run_checked(&["ip", "netns", "add", &net.b]);
        for ns in [&net.a, &net.b] {
            run_checked(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        net
    }

    /// veth va (A, 198.18.N.1) <-> vb (B, 198.18.N.2), up.
    fn link(&self) {
        run_checked(&[
            "ip", "-n", &self.a, "link", "add", "va", "type", "veth", "peer", "name", "vb",
            "netns", &self.b,
        ]);
        run_checked(&[
            "ip",
            "-n",
            &self.a,
            "addr",
            "add",
            &format!("{}/24", self.ip_a()),
            "dev",
            "va",
        ]);
        run_checked(&[
            "ip",
            "-n",
            &self.b,
            "addr",
            "add",
            &format!("{}/24", self.ip_b()),
            "dev",
            "vb",
        ]);
        run_checked(&["ip", "-n", &self.a, "link", "set", "va", "up"]);
        run_checked(&["ip", "-n", &self.b, "link", "set", "vb", "up"]);
    }

    fn ip_a(&self) -> String {
        format!("198.18.{}.1", self.subnet)
    }

    fn ip_b(&self) -> String {
        format!("198.18.{}.2", self.subnet)
    }

    fn dir(&mut self, tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ptcap-cli-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        self.dirs.push(d.clone());
        d
    }

    fn cmd(&self, ns: &str, args: &[&str]) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net=/var/run/netns/{ns}")).args(args);
        c
    }

    fn run_in(&self, ns: &str, args: &[&str]) -> String {
        let out = self
            .cmd(ns, args)
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(
            out.status.success(),
            "{args:?} in {ns} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// UDP datagrams from A to B port 7777, `n` of them, `size` bytes each.
    fn udp_burst(&self, n: u32, size: u32) {
        let py = format!(
            "import socket,time\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
             for i in range({n}):\n    s.sendto(b'u'*{size}, ('{}', 7777))\n    if i % 50 == 49: time.sleep(0.002)",
            self.ip_b()
        );
        self.run_in(&self.a.clone(), &["python3", "-c", &py]);
    }

    fn spawn(&mut self, ns: &str, args: &[&str], stdout: Stdio) -> Child {
        let child = self
            .cmd(ns, args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        self.pids.push(child.id());
        child
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for pid in &self.pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        for m in &self.mounts {
            let _ = Command::new("umount").arg(m).status();
        }
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A running ptcap (nsenter execs it, so the pid is ptcap's) whose stderr lines arrive on a
/// channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Vec<String>,
}

impl Running {
    fn start_with(net: &mut Net, ns: &str, args: &[&str], stdout: Stdio) -> Running {
        let mut child = net.spawn(ns, args, stdout);
        let err = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut r = Running {
            child,
            lines: rx,
            stderr: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match r.lines.recv_timeout(left) {
                Ok(line) => {
                    let done = line.contains("capturing on");
                    r.stderr.push(line);
                    if done {
                        return r;
                    }
                }
                Err(_) => panic!("{args:?} did not start; stderr: {:?}", r.stderr),
            }
        }
    }

    fn start(net: &mut Net, ns: &str, args: &[&str]) -> Running {
        Running::start_with(net, ns, args, Stdio::piped())
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the exit (after `signal`, if any): (exit code, all stderr lines).
    fn stop(mut self, signal: Option<&str>) -> (i32, Vec<String>) {
        if let Some(sig) = signal {
            let _ = Command::new("kill")
                .args([sig, &self.child.id().to_string()])
                .status();
        }
        if let Some(mut o) = self.child.stdout.take() {
            let mut sink = Vec::new();
            let _ = o.read_to_end(&mut sink);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "ptcap did not exit; stderr {:?}",
                self.stderr
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(1)) {
            self.stderr.push(l);
        }
        use std::os::unix::process::ExitStatusExt;
        (
            status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
            self.stderr,
        )
    }
}

fn count_line(stderr: &[String], what: &str) -> u64 {
    stderr
        .iter()
        .find_map(|l| {
            l.strip_suffix(what)
                .and_then(|n| n.trim().split(' ').next()?.parse().ok())
        })
        .unwrap_or_else(|| panic!("no '{what}' line in {stderr:?}"))
}

/// No capture program stays loaded and no clsact qdisc stays in the test namespaces.
fn assert_nothing_left(net: &Net) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let progs = run_checked(&["bpftool", "prog", "show"]);
        let left: Vec<_> = progs
            .lines()
            .filter(|l| l.contains("name capture_ingress") || l.contains("name capture_egress"))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "capture programs still loaded after ptcap exited: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for ns in [&net.a, &net.b] {
        let q = net.run_in(ns, &["tc", "qdisc", "show"]);
        assert!(
            !q.contains("clsact"),
            "a clsact qdisc was left in {ns}: {q}"
        );
    }
}

/// Packets tcpdump reads from `file` (and that it reads without error).
fn tcpdump_count(file: &Path, filter: &str) -> usize {
    let mut args = vec!["-nn", "-r", file.to_str().unwrap()];
    if !filter.is_empty() {
        args.push(filter);
    }
    let out = Command::new("tcpdump").args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "tcpdump -r {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

fn tshark_count(file: &Path) -> usize {
    let out = Command::new("tshark")
        .args(["-r", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tshark -r {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

macro_rules! root_only {
    () => {
        if !is_root() {
            panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
        }
    };
}

#[test]
fn any_attaches_interfaces_created_during_the_capture() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Net::new("any", 41);
    let dir = net.dir("any");
    let file = dir.join("any.pcapng");
    let a = net.a.clone();
    let bin = ptcap_bin();
    let cap = Running::start(
        &mut net,
        &a,
        &[bin.to_str().unwrap(), "-w", file.to_str().unwrap(), "icmp"],
    );
    assert!(
        cap.stderr
            .iter()
            .any(|l| l.contains("capturing on any, link-type LINUX_SLL2")),
        "{:?}",
        cap.stderr
    );
    // The veth pair appears after the start.
    net.link();
    net.run_in(
        &a,
        &["ping", "-c", "5", "-i", "0.1", "-W", "2", &net.ip_b()],
    );
    // And disappears again before the end: the capture goes on.
    run_checked(&["ip", "-n", &a, "link", "del", "va"]);
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    assert_eq!(count_line(&stderr, "captured"), 10, "{stderr:?}");
    assert_eq!(count_line(&stderr, "dropped by kernel"), 0, "{stderr:?}");
    assert_eq!(tcpdump_count(&file, "icmp"), 10);
    // tshark names the interface from the IDB written mid-file.
    let out = run_checked(&[
        "tshark",
        "-r",
        file.to_str().unwrap(),
        "-T",
        "fields",
        "-e",
        "frame.interface_name",
    ]);
    assert_eq!(
        out.lines().filter(|l| l.trim() == "va").count(),
        10,
        "{out}"
    );
    assert_nothing_left(&net);
}

#[test]
fn stdout_pcapng_is_readable_live() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Net::new("pipe", 42);
    net.link();
    let b = net.b.clone();
    let a = net.a.clone();
    let bin = ptcap_bin();
    let cap = Running::start(
        &mut net,
        &b,
        &[bin.to_str().unwrap(), "-i", "vb", "-w", "-", "icmp"],
    );
    let mut cap = cap;
    let stdout = cap.child.stdout.take().unwrap();
    let mut dump = Command::new("tcpdump")
        .args(["-nn", "-l", "-r", "-"])
        .stdin(stdout)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    net.pids.push(dump.id());
    let out = dump.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    net.run_in(
        &a,
        &["ping", "-c", "3", "-i", "0.1", "-W", "2", &net.ip_b()],
    );
    // tcpdump prints the 6 packets while ptcap still runs.
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.len() < 6 && Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(l);
        }
    }
    assert_eq!(seen.len(), 6, "tcpdump saw {seen:?} before ptcap stopped");
    assert!(
        cap.child.try_wait().unwrap().is_none(),
        "ptcap exited early"
    );
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    let _ = dump.wait();
    assert_nothing_left(&net);
}

#[test]
fn rotation_by_size_and_time_loses_nothing() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Net::new("rot", 43);
    net.link();
    let b = net.b.clone();
    let bin = ptcap_bin();
    let sent = 3000;

    // -C: 0.05 MB per file; every datagram in exactly one file.
    let dir = net.dir("rot-c");
    let base = dir.join("cap.pcapng");
    let cap = Running::start(
        &mut net,
        &b,
        &[
            bin.to_str().unwrap(),
            "-i",
            "vb",
            "-Q",
            "in",
            "-C",
            "0.05",
            "-w",
            base.to_str().unwrap(),
            "udp port 7777",
        ],
    );
    net.udp_burst(sent, 100);
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    assert_eq!(count_line(&stderr, "captured"), sent as u64, "{stderr:?}");
    let files = files_in(&dir);
    assert!(files.len() >= 5, "{files:?}");
    assert!(
        files.iter().any(|f| f.ends_with("cap.pcapng"))
            && files.iter().any(|f| f.ends_with("cap.pcapng1")),
        "{files:?}"
    );
    let mut total = 0;
    for f in &files {
        let n = tcpdump_count(f, "");
        assert_eq!(n, tshark_count(f), "{}", f.display());
        assert!(
            std::fs::metadata(f).unwrap().len() < 50_000 + 2_000,
            "{} too large",
            f.display()
        );
        total += n;
    }
    assert_eq!(total, sent as usize, "packets over all files");

    // -C -W 3: a ring of cap0..cap2.
    let dir = net.dir("rot-w");
    let base = dir.join("ring");
    let cap = Running::start(
        &mut net,
        &b,
        &[
            bin.to_str().unwrap(),
            "-i",
            "vb",
            "-Q",
            "in",
            "-C",
            "0.05",
            "-W",
            "3",
            "-w",
            base.to_str().unwrap(),
            "udp port 7777",
        ],
    );
    net.udp_burst(sent, 100);
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    let names: Vec<String> = files_in(&dir)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ring0", "ring1", "ring2"]);
    for f in files_in(&dir) {
        assert_eq!(tcpdump_count(&f, ""), tshark_count(&f));
    }

    // -G 1: strftime names, a new file each second.
    let dir = net.dir("rot-g");
    let pattern = dir.join("g-%H%M%S.pcapng");
    let cap = Running::start(
        &mut net,
        &b,
        &[
            bin.to_str().unwrap(),
            "-i",
            "vb",
            "-Q",
            "in",
            "-G",
            "1",
            "-w",
            pattern.to_str().unwrap(),
            "udp port 7777",
        ],
    );
    let start = Instant::now();
    let mut g_sent = 0;
    while start.elapsed() < Duration::from_millis(2600) {
        net.udp_burst(100, 50);
        g_sent += 100;
    }
    std::thread::sleep(Duration::from_millis(200));
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    let files = files_in(&dir);
    assert!(files.len() >= 3, "{files:?}");
    let mut total = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.len() == "g-000000.pcapng".len() && name.starts_with("g-") && !name.contains('%'),
            "{name}"
        );
        total += tcpdump_count(f, "");
    }
    assert_eq!(total, g_sent, "{files:?}");
    assert_nothing_left(&net);
}

#[test]
fn privileges_are_dropped_and_rotated_files_belong_to_the_user() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Net::new("priv", 44);
    net.link();
    let b = net.b.clone();
    let bin = ptcap_bin();
    let dir = net.dir("priv");
    run_checked(&["chmod", "0777", dir.to_str().unwrap()]);
    let base = dir.join("p.pcapng");
    let cap = Running::start(
        &mut net,
        &b,
        &[
            bin.to_str().unwrap(),
            "-i",
            "vb",
            "-Q",
            "in",
            "-Z",
            "nobody",
            "-C",
            "0.02",
            "-w",
            base.to_str().unwrap(),
            "udp port 7777",
        ],
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", cap.pid())).unwrap();
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    let gid_line = status
        .lines()
        .find(|l| l.starts_with("Gid:"))
        .unwrap()
        .to_string();
    net.udp_burst(500, 100);
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = cap.stop(Some("-TERM"));
    assert_eq!(code, 0, "{stderr:?}");
    let uids: Vec<&str> = uid_line.split_whitespace().skip(1).collect();
    assert_eq!(uids, ["65534"; 4], "{uid_line}");
    assert!(
        gid_line.split_whitespace().skip(1).all(|g| g != "0"),
        "{gid_line}"
    );
    use std::os::unix::fs::MetadataExt;
    let second = dir.join("p.pcapng1");
    assert_eq!(
        std::fs::metadata(&second).unwrap().uid(),
        65534,
        "rotated files are created as nobody"
    );
    let total: usize = files_in(&dir).iter().map(|f| tcpdump_count(f, "")).sum();
    assert_eq!(total, 500);
    assert_nothing_left(&net);
}

#[test]
fn runs_a_command_and_returns_its_exit_code() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Net::new("cmd", 45);
    net.link();
    let a = net.a.clone();
    let bin = ptcap_bin();
    let dir = net.dir("cmd");
    let file = dir.join("cmd.pcapng");
    let script = format!("ping -c 2 -i 0.1 -W 2 {} >/dev/null; exit 7", net.ip_b());
    let out = net
        .cmd(
            &a,
            &[
                bin.to_str().unwrap(),
                "-i",
                "va",
                "-w",
                file.to_str().unwrap(),
                "icmp",
                "--",
                "sh",
                "-c",
                &script,
            ],
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("4 packets captured"), "{err}");
    assert_eq!(tcpdump_count(&file, "icmp"), 4);
    // A command that does not exist: one error line, status 1.
    let out = net
        .cmd(
            &a,
            &[
                bin.to_str().unwrap(),
                "-i",
                "va",
                "-w",
                "/dev/null",
                "--",
                "/nonexistent/cmd",
            ],
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ptcap: /nonexistent/cmd: No such file or directory"),
        "{err}"
    );
    assert_nothing_left(&net);
}

#[test]
fn sigkill_leaves_a_readable_file_and_nothing_attached() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Net::new("kill", 46);
    net.link();
    let b = net.b.clone();
    let bin = ptcap_bin();
    let dir = net.dir("kill");
    let file = dir.join("k.pcapng");
    let cap = Running::start(
        &mut net,
        &b,
        &[
            bin.to_str().unwrap(),
            "-i",
            "vb",
            "-Q",
            "in",
            "-w",
            file.to_str().unwrap(),
            "udp port 7777",
        ],
    );
    net.udp_burst(1000, 100);
    std::thread::sleep(Duration::from_millis(300)); // > the flush period
    let (code, _) = cap.stop(Some("-KILL"));
    assert_eq!(code, 128 + 9);
    assert_eq!(
        tcpdump_count(&file, ""),
        1000,
        "every flushed packet is readable"
    );
    assert_nothing_left(&net);
    // The next start is not disturbed.
    let cap = Running::start(
        &mut net,
        &b,
        &[
            bin.to_str().unwrap(),
            "-i",
            "vb",
            "-w",
            file.to_str().unwrap(),
        ],
    );
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    assert_nothing_left(&net);
}

#[test]
fn disk_full_stops_cleanly_with_a_valid_file() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Net::new("full", 47);
    net.link();
    let b = net.b.clone();
    let bin = ptcap_bin();
    let dir = net.dir("full");
    run_checked(&[
        "mount",
        "-t",
        "tmpfs",
        "-o",
        "size=1m",
        "ptcap-test",
        dir.to_str().unwrap(),
    ]);
    net.mounts.push(dir.clone());
    let file = dir.join("full.pcapng");
    let cap = Running::start(
        &mut net,
        &b,
        &[
            bin.to_str().unwrap(),
            "-i",
            "vb",
            "-Q",
            "in",
            "-w",
            file.to_str().unwrap(),
            "udp port 7777",
        ],
    );
    net.udp_burst(2000, 1200);
    let (code, stderr) = cap.stop(None);
    assert_eq!(code, 1, "{stderr:?}");
    let last = stderr.last().unwrap();
    assert_eq!(
        last,
        &format!(
            "ptcap: {}: No space left on device (os error 28)",
            file.display()
        ),
        "{stderr:?}"
    );
    let n = tcpdump_count(&file, "");
    assert!(n > 500 && n < 2000, "{n} packets in a 1 MiB file");
    assert_eq!(n, tshark_count(&file));
    assert_nothing_left(&net);
}

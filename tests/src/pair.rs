//! Two test hosts for the live capture tests: network namespaces A and B, optionally joined by
//! a veth pair va (198.18.N.1) <-> vb (198.18.N.2), and the processes run in them (ptcap,
//! tcpdump, traffic). Everything started or mounted is undone on drop, also when a test panics.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::run_checked;

/// Namespaces A and B; [`NamespacePair::link`] joins them. Owns what it started.
pub struct NamespacePair {
    pub a: String,
    pub b: String,
    pub subnet: u32,
    pids: Vec<u32>,
    /// Mount points to unmount on drop (a test's tmpfs).
    pub mounts: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl NamespacePair {
    /// Namespaces `ptcap-<prefix>-<pid>-<tag>-{a,b}` with loopback up.
    pub fn new(prefix: &str, tag: &str, subnet: u32) -> NamespacePair {
        let pid = std::process::id();
        let net = NamespacePair {
            a: format!("ptcap-{prefix}-{pid}-{tag}-a"),
            b: format!("ptcap-{prefix}-{pid}-{tag}-b"),
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
    pub fn link(&self) {
        run_checked(&[
            "ip", "-n", &self.a, "link", "add", "va", "type", "veth", "peer", "name", "vb",
            "netns", &self.b,
        ]);
        for (ns, dev, ip) in [(&self.a, "va", self.ip_a()), (&self.b, "vb", self.ip_b())] {
            run_checked(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                dev,
            ]);
            run_checked(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
    }

    pub fn ip_a(&self) -> String {
        format!("198.18.{}.1", self.subnet)
    }

    pub fn ip_b(&self) -> String {
        format!("198.18.{}.2", self.subnet)
    }

    /// A temporary directory removed on drop.
    pub fn dir(&mut self, tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("{}-{tag}", self.a));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        self.dirs.push(d.clone());
        d
    }

    /// `args` inside namespace `ns`. nsenter, not `ip netns exec`, which remounts /sys and
    /// hides the cgroup hierarchy.
    pub fn cmd(&self, ns: &str, args: &[&str]) -> Command {
        crate::node::ns_cmd(ns, args)
    }

    /// Runs `args` in `ns`; it must succeed; its standard output.
    pub fn run_in(&self, ns: &str, args: &[&str]) -> String {
        crate::node::run_in_ns(ns, args)
    }

    /// Starts `args` in `ns` (killed on drop); stderr is piped. A live ptcap gets
    /// `--drops off` unless `args` choose: these tests count the packets on the wire, and many
    /// send to ports nobody listens on, whose packets the kernel drops (NO_SOCKET) and
    /// `--drops on` would add to the file (tests/tests/capture_drops.rs covers that).
    pub fn spawn(&mut self, ns: &str, args: &[&str], stdout: Stdio) -> Child {
        let mut args: Vec<&str> = args.to_vec();
        let own = args.iter().take_while(|a| **a != "--");
        let live_ptcap = args.first().is_some_and(|a| a.ends_with("/ptcap"))
            && !own.clone().any(|a| *a == "-r" || *a == "--drops");
        if live_ptcap {
            args.insert(1, "off");
            args.insert(1, "--drops");
        }
        let args = &args[..];
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

    /// Kills `pid` on drop too (a process the test started itself).
    pub fn adopt(&mut self, pid: u32) {
        self.pids.push(pid);
    }

    /// The MAC address of `dev` in `ns`. Not /sys/class/net: under nsenter --net, /sys still
    /// shows the caller's namespace.
    pub fn mac(&self, ns: &str, dev: &str) -> String {
        let out = run_checked(&["ip", "-n", ns, "-o", "link", "show", "dev", dev]);
        let mut words = out.split_whitespace();
        words
            .find(|w| *w == "link/ether")
            .and_then(|_| words.next())
            .expect("link/ether")
            .to_string()
    }
}

impl Drop for NamespacePair {
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

/// A running process (nsenter execs it, so the pid is the program's) whose stderr lines arrive
/// on a channel.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Vec<String>,
}

impl Running {
    /// Starts `args` in `ns` and waits until a stderr line contains `ready`.
    pub fn start_until(
        net: &mut NamespacePair,
        ns: &str,
        args: &[&str],
        stdout: Stdio,
        ready: &str,
    ) -> Running {
        let child = net.spawn(ns, args, stdout);
        Running::until(child, ready, args)
    }

    /// Takes a started `child` (stderr piped) and waits until a stderr line contains `ready`
    /// (15 s at most; `args` name it in the failure).
    pub fn until(mut child: Child, ready: &str, args: &[&str]) -> Running {
        let err = child.stderr.take().expect("piped stderr");
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
        if !r.wait_line(ready) {
            panic!("{args:?} did not print {ready:?}; stderr: {:?}", r.stderr);
        }
        r
    }

    /// Reads stderr lines until one contains `what` (true), 15 s at most (false).
    fn wait_line(&mut self, what: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let done = line.contains(what);
                    self.stderr.push(line);
                    if done {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
    }

    /// ptcap, once it is capturing.
    pub fn start_with(net: &mut NamespacePair, ns: &str, args: &[&str], stdout: Stdio) -> Running {
        Running::start_until(net, ns, args, stdout, "capturing on")
    }

    pub fn start(net: &mut NamespacePair, ns: &str, args: &[&str]) -> Running {
        Running::start_with(net, ns, args, Stdio::piped())
    }

    /// Waits until a stderr line (one read before included) contains `what`, 15 s at most.
    pub fn wait_for(&mut self, what: &str) {
        if self.stderr().iter().any(|l| l.contains(what)) {
            return;
        }
        if !self.wait_line(what) {
            panic!("no stderr line with {what:?}: {:?}", self.stderr);
        }
    }

    /// The process's standard output, to read or pipe elsewhere.
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// The stderr lines read so far (and any that arrived since).
    pub fn stderr(&mut self) -> &[String] {
        while let Ok(l) = self.lines.try_recv() {
            self.stderr.push(l);
        }
        &self.stderr
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the exit (after `signal`, e.g. `-INT`, if any): (exit code, 128 + signal when
    /// killed; standard output; all stderr lines).
    pub fn finish(mut self, signal: Option<&str>) -> (i32, Vec<u8>, Vec<String>) {
        if let Some(sig) = signal {
            let _ = Command::new("kill")
                .args([sig, &self.child.id().to_string()])
                .status();
        }
        let mut out = Vec::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_end(&mut out);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "the process did not exit; stderr {:?}",
                self.stderr
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(1)) {
            self.stderr.push(l);
        }
        use std::os::unix::process::ExitStatusExt;
        let code = status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        (code, out, self.stderr)
    }

    /// [`Running::finish`] without the standard output.
    pub fn stop(self, signal: Option<&str>) -> (i32, Vec<String>) {
        let (code, _, stderr) = self.finish(signal);
        (code, stderr)
    }

    /// SIGINT, then (exit code, standard output as text, stderr lines).
    pub fn interrupt(self) -> (i32, String, Vec<String>) {
        let (code, out, stderr) = self.finish(Some("-INT"));
        (code, String::from_utf8_lossy(&out).into_owned(), stderr)
    }
}

/// The count of a tcpdump-style exit line (`N packets captured`).
pub fn count_line(stderr: &[String], what: &str) -> u64 {
    stderr
        .iter()
        .find_map(|l| {
            l.strip_suffix(what)
                .and_then(|n| n.trim().split(' ').next()?.parse().ok())
        })
        .unwrap_or_else(|| panic!("no '{what}' line in {stderr:?}"))
}

/// No capture program stays loaded once ptcap has exited (a tcx link or a tc filter left behind
/// would keep it alive), and no clsact qdisc stays in the namespaces.
pub fn assert_nothing_left(net: &NamespacePair) {
    // Scoped to this pair's namespaces (tc/tcx attachments and qdiscs there), so that tests and
    // captures running at the same time elsewhere on the machine cannot make it fail. A program
    // that outlives ptcap must be attached somewhere (nothing of ours is pinned), and every
    // interface this pair's captures attach to is in these two namespaces.
    let deadline = Instant::now() + Duration::from_secs(5);
    for ns in [&net.a, &net.b] {
        loop {
            let shown = net.run_in(ns, &["bpftool", "net", "show"]);
            let left: Vec<_> = shown
                .lines()
                // Our packet programs: capture, capture_N, capture_egress[_N] (capture_ingress
                // before).
                .filter(|l| l.split_whitespace().any(|w| w.starts_with("capture")))
                .map(str::to_owned)
                .collect();
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "capture programs still attached in {ns} after ptcap exited: {left:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let q = net.run_in(ns, &["tc", "qdisc", "show"]);
        assert!(
            !q.contains("clsact"),
            "a clsact qdisc was left in {ns}: {q}"
        );
    }
}

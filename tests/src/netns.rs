//! Two test hosts in their own network namespaces joined by a veth pair.
//!
//! Addresses: 198.18.0.1/24 and 198.18.0.2/24 (RFC 2544 benchmarking space) and
//! fd00:198:18::1/64, ::2 (ULA). The guard kills only the processes it started (by pid) and
//! deletes both namespaces on drop, panics included.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADDR_A: &str = "198.18.0.1";
pub const ADDR_B: &str = "198.18.0.2";
pub const ADDR6_A: &str = "fd00:198:18::1";
pub const ADDR6_B: &str = "fd00:198:18::2";

/// Runs a command to completion, panicking with its output if it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub struct TestHosts {
    pub ns_a: String,
    pub ns_b: String,
    pub veth_a: String,
    pub veth_b: String,
    children: Vec<Child>,
}

// No `Default`: creating test hosts has side effects (namespaces, links).
#[allow(clippy::new_without_default)]
impl TestHosts {
    /// Creates the namespaces, the veth pair and the addresses, and brings everything up.
    pub fn new() -> TestHosts {
        // Unique per instance, not only per process: the tests of one file run in parallel
        // threads of one process, and two of them sharing namespaces broke each other (one
        // test's firewall rule or clean-up in the other's capture).
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 100;
        let pid = std::process::id();
        let hosts = TestHosts {
            ns_a: format!("ptcap-{pid}-{n}-a"),
            ns_b: format!("ptcap-{pid}-{n}-b"),
            veth_a: format!("pt{}x{n}a", pid % 1_000_000),
            veth_b: format!("pt{}x{n}b", pid % 1_000_000),
            children: Vec::new(),
        };
        run(Command::new("ip").args(["netns", "add", &hosts.ns_a]));
        run(Command::new("ip").args(["netns", "add", &hosts.ns_b]));
        run(Command::new("ip").args([
            "link",
            "add",
            &hosts.veth_a,
            "netns",
            &hosts.ns_a,
            "type",
            "veth",
            "peer",
            "name",
            &hosts.veth_b,
            "netns",
            &hosts.ns_b,
        ]));
        for (ns, dev, a4, a6) in [
            (&hosts.ns_a, &hosts.veth_a, ADDR_A, ADDR6_A),
            (&hosts.ns_b, &hosts.veth_b, ADDR_B, ADDR6_B),
        ] {
            run(Command::new("ip").args([
                "-n",
                ns,
                "addr",
                "add",
                &format!("{a4}/24"),
                "dev",
                dev,
            ]));
            run(Command::new("ip").args([
                "-n",
                ns,
                "addr",
                "add",
                &format!("{a6}/64"),
                "dev",
                dev,
                "nodad",
            ]));
            run(Command::new("ip").args(["-n", ns, "link", "set", "lo", "up"]));
            run(Command::new("ip").args(["-n", ns, "link", "set", dev, "up"]));
        }
        hosts
    }

    /// A command that runs inside namespace `ns`.
    pub fn cmd(&self, ns: &str, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, program]);
        c
    }

    /// Starts a long-running process; the guard kills it (by pid) on drop.
    pub fn spawn(&mut self, mut cmd: Command) -> u32 {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// Starts `tcpdump -U -w FILE ARGS` in `ns` and waits until it is capturing.
    pub fn start_tcpdump(&mut self, ns: &str, file: &std::path::Path, args: &[&str]) -> u32 {
        let mut cmd = self.cmd(ns, "tcpdump");
        // -Z root: keep root so it can write into our temp dir. --immediate-mode: without it
        // packets wait in the kernel ring for up to a second and are lost when we stop it.
        cmd.args(["-Z", "root", "--immediate-mode", "-U", "-w"])
            .arg(file)
            .args(args);
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start tcpdump: {e}"));
        let pid = child.id();
        let stderr = child.stderr.take().expect("piped stderr");
        self.children.push(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
                // tcpdump's summary at exit: a capture short of packets says why here.
                if line.contains("dropped by kernel") && !line.starts_with("0 ") {
                    eprintln!("tcpdump: {line}");
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("tcpdump {args:?} did not start capturing"));
        pid
    }

    /// Ends one of our processes with SIGTERM (tcpdump then flushes) and waits for it.
    pub fn stop(&mut self, pid: u32) {
        let Some(i) = self.children.iter().position(|c| c.id() == pid) else {
            return;
        };
        let mut child = self.children.remove(i);
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for TestHosts {
    fn drop(&mut self) {
        for mut c in self.children.drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.ns_a])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.ns_b])
            .status();
    }
}

//! A node the way Docker and Kubernetes nodes look, built entirely in network namespaces the
//! test creates: a "node" namespace with a bridge, two "container" namespaces behind it on veth
//! pairs, and an uplink veth to an "outside" namespace that has no route back to the containers.
//! The node forwards (`ip_forward=1`) and runs nftables (in its own namespace only): MASQUERADE
//! out of the uplink, a DNAT port-forward from the uplink to a server in a container, and a
//! forward-chain rule dropping one container's TCP to one port ([`NodeRules`]).
//!
//! ```text
//!  container 0 (198.18.S.2, eth0) ──┐ veth c0 ┐
//!                                   │         ├ bridge br0 (198.18.S.1) ── node ── uplink (198.18.U.1)
//!  container 1 (198.18.S.3, eth0) ──┘ veth c1 ┘                                      │
//!                                                            outside (198.18.U.2, eth0)
//! ```
//!
//! [`UplinkNode`] is the same node without the bridge, the containers and the ruleset: a node
//! namespace with only its uplink, for a container runtime that builds its own bridge and
//! firewall in it (dockerd with iptables on: tests/capture_docker_nat.rs).
//!
//! Self-contained: it needs only [`crate::run_checked`]. Namespace names are unique per instance
//! (`ptcap-node-<pid>-<n>-<tag>-{node,c0,c1,out}`); interface names are fixed (they live in the
//! instance's own namespaces). The guard kills the processes it started (by pid) and deletes
//! the namespaces (and with them every veth, the bridge and the ruleset) on drop, panics included.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::run_checked;

/// The bridge in the node namespace.
pub const BRIDGE: &str = "br0";
/// The node's uplink (node side) and the outside host's end of it.
pub const UPLINK: &str = "uplink";
/// The interface name inside each container and inside the outside host.
pub const ETH: &str = "eth0";

/// A DNAT port-forward: TCP to the node's uplink address on `uplink_port` goes to container
/// `container` on `port` (Docker's `-p uplink_port:port`).
#[derive(Clone, Copy, Debug)]
pub struct PortForward {
    pub uplink_port: u16,
    pub container: usize,
    pub port: u16,
}

/// A forward-chain rule dropping container `container`'s TCP to destination port `port`.
#[derive(Clone, Copy, Debug)]
pub struct TcpDrop {
    pub container: usize,
    pub port: u16,
}

/// The node's nftables rules.
#[derive(Clone, Debug)]
pub struct NodeRules {
    /// MASQUERADE of the containers' subnet out of the uplink.
    pub masquerade: bool,
    pub port_forward: Option<PortForward>,
    pub drop_tcp: Option<TcpDrop>,
    /// More rules, appended verbatim to the ruleset (table `ip ptnode`; chains `prerouting`,
    /// `postrouting`, `forwarding`, `input`; e.g. `add rule ip ptnode input udp dport 9 drop`).
    pub extra: String,
}

impl Default for NodeRules {
    /// MASQUERADE on, uplink port 8080 forwarded to container 1 port 80, container 0's TCP to
    /// port 81 dropped.
    fn default() -> Self {
        NodeRules {
            masquerade: true,
            port_forward: Some(PortForward {
                uplink_port: 8080,
                container: 1,
                port: 80,
            }),
            drop_tcp: Some(TcpDrop {
                container: 0,
                port: 81,
            }),
            extra: String::new(),
        }
    }
}

/// One host of the node: a container or the outside host.
#[derive(Clone, Debug)]
pub struct Host {
    /// Its network namespace (under /var/run/netns).
    pub ns: String,
    /// Its address (on [`ETH`]).
    pub ip: String,
    /// Its interface inside its namespace ([`ETH`]).
    pub dev: String,
    /// The other end of its veth, in the node namespace (`c0`, `c1`, or [`UPLINK`]).
    pub node_dev: String,
}

/// The node, its two containers and the outside host. Owns what it started.
pub struct Node {
    /// The node's network namespace.
    pub ns: String,
    pub containers: [Host; 2],
    pub outside: Host,
    /// The containers' subnet (198.18.S.0/24) and the uplink's (198.18.U.0/24).
    pub container_subnet: String,
    pub uplink_subnet: String,
    /// The bridge's address (the containers' gateway) and the node's uplink address.
    pub bridge_ip: String,
    pub uplink_ip: String,
    pub rules: NodeRules,
    pids: Vec<u32>,
    dirs: Vec<PathBuf>,
}

/// Container subnet 198.18.100.0/24, uplink subnet 198.18.101.0/24 (per instance: the addresses
/// live in the instance's namespaces, so instances never collide).
const CONTAINER_NET: u8 = 100;
const UPLINK_NET: u8 = 101;

impl Node {
    /// Builds the node with `rules`. `tag` names the instance in namespace names (short: it is
    /// part of names shown in failures).
    pub fn new(tag: &str, rules: NodeRules) -> Node {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let base = format!("ptcap-node-{}-{n}-{tag}", std::process::id());
        let s = CONTAINER_NET;
        let u = UPLINK_NET;
        let container = |i: usize| Host {
            ns: format!("{base}-c{i}"),
            ip: format!("198.18.{s}.{}", i + 2),
            dev: ETH.to_string(),
            node_dev: format!("c{i}"),
        };
        let node = Node {
            ns: format!("{base}-node"),
            containers: [container(0), container(1)],
            outside: Host {
                ns: format!("{base}-out"),
                ip: format!("198.18.{u}.2"),
                dev: ETH.to_string(),
                node_dev: UPLINK.to_string(),
            },
            container_subnet: format!("198.18.{s}.0/24"),
            uplink_subnet: format!("198.18.{u}.0/24"),
            bridge_ip: format!("198.18.{s}.1"),
            uplink_ip: format!("198.18.{u}.1"),
            rules,
            pids: Vec::new(),
            dirs: Vec::new(),
        };
        // From here on a failure still deletes whatever namespaces were made (Drop).
        for ns in node.namespaces() {
            run_checked(&["ip", "netns", "add", &ns]);
            run_checked(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        }
        let nsn = node.ns.clone();
        run_checked(&["ip", "-n", &nsn, "link", "add", BRIDGE, "type", "bridge"]);
        run_checked(&[
            "ip",
            "-n",
            &nsn,
            "addr",
            "add",
            &format!("{}/24", node.bridge_ip),
            "dev",
            BRIDGE,
        ]);
        run_checked(&["ip", "-n", &nsn, "link", "set", BRIDGE, "up"]);
        for h in node.containers.clone() {
            node.veth(&h);
            run_checked(&[
                "ip",
                "-n",
                &nsn,
                "link",
                "set",
                &h.node_dev,
                "master",
                BRIDGE,
            ]);
            run_checked(&[
                "ip",
                "-n",
                &h.ns,
                "route",
                "add",
                "default",
                "via",
                &node.bridge_ip,
            ]);
        }
        let out = node.outside.clone();
        node.veth(&out);
        run_checked(&[
            "ip",
            "-n",
            &nsn,
            "addr",
            "add",
            &format!("{}/24", node.uplink_ip),
            "dev",
            UPLINK,
        ]);
        // The outside host has only its connected /24: no route back to the containers, so
        // their traffic reaches it only masqueraded.
        node.run_in(&nsn, &["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
        let ruleset = node.ruleset();
        node.nft(&ruleset);
        node
    }

    /// Every namespace of this node: node, container 0, container 1, outside.
    pub fn namespaces(&self) -> Vec<String> {
        let mut v = vec![self.ns.clone()];
        v.extend(self.containers.iter().map(|h| h.ns.clone()));
        v.push(self.outside.ns.clone());
        v
    }

    /// The path of a namespace (for `nsenter --net=`, `ptcap --netns`).
    pub fn ns_path(ns: &str) -> String {
        format!("/var/run/netns/{ns}")
    }

    /// A veth `h.node_dev` (node) <-> `h.dev` (h's namespace, with h's address), both up.
    fn veth(&self, h: &Host) {
        veth(&self.ns, h);
    }

    /// The nftables ruleset for [`Node::rules`]: table `ip ptnode`.
    pub fn ruleset(&self) -> String {
        let r = &self.rules;
        let mut s = String::from(
            "table ip ptnode {\n\
             \x20 chain prerouting { type nat hook prerouting priority dstnat; policy accept; }\n\
             \x20 chain postrouting { type nat hook postrouting priority srcnat; policy accept; }\n\
             \x20 chain forwarding { type filter hook forward priority filter; policy accept; }\n\
             \x20 chain input { type filter hook input priority filter; policy accept; }\n\
             }\n",
        );
        if r.masquerade {
            s += &format!(
                "add rule ip ptnode postrouting ip saddr {} oifname \"{UPLINK}\" masquerade\n",
                self.container_subnet
            );
        }
        if let Some(pf) = r.port_forward {
            s += &format!(
                "add rule ip ptnode prerouting iifname \"{UPLINK}\" tcp dport {} dnat to {}:{}\n",
                pf.uplink_port, self.containers[pf.container].ip, pf.port
            );
        }
        if let Some(d) = r.drop_tcp {
            s += &format!(
                "add rule ip ptnode forwarding ip saddr {} tcp dport {} drop\n",
                self.containers[d.container].ip, d.port
            );
        }
        s += &r.extra;
        s
    }

    /// Applies nftables commands/ruleset `rules` in the node namespace (`nft -f -`).
    pub fn nft(&self, rules: &str) {
        self.nft_in(&self.ns.clone(), rules);
    }

    /// Applies nftables `rules` in namespace `ns` (one of this node's).
    pub fn nft_in(&self, ns: &str, rules: &str) {
        use std::io::Write;
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run nft (Debian package nftables): {e}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(rules.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "nft -f - in {ns} failed: {}\nruleset:\n{rules}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The nft counters/ruleset of the node namespace (`nft list ruleset`), for failure messages.
    pub fn list_ruleset(&self) -> String {
        run_checked(&["ip", "netns", "exec", &self.ns, "nft", "list", "ruleset"])
    }

    /// `args` inside namespace `ns` ([`ns_cmd`]).
    pub fn cmd(&self, ns: &str, args: &[&str]) -> Command {
        ns_cmd(ns, args)
    }

    /// Runs `args` in `ns`; it must succeed; its standard output.
    pub fn run_in(&self, ns: &str, args: &[&str]) -> String {
        run_in_ns(ns, args)
    }

    /// Starts `args` in `ns` (killed on drop); stdin null, stderr piped. nsenter execs the
    /// program, so the child's pid is the program's.
    pub fn spawn(&mut self, ns: &str, args: &[&str], stdout: Stdio) -> Child {
        spawn_in_ns(&mut self.pids, ns, args, stdout)
    }

    /// Starts `args` in `ns` and waits (up to 15 s) until a stderr line contains `ready`.
    pub fn start_until(&mut self, ns: &str, args: &[&str], stdout: Stdio, ready: &str) -> Process {
        let child = self.spawn(ns, args, stdout);
        Process::until(child, ready, args)
    }

    /// Kills `pid` on drop too (a process the test started itself).
    pub fn adopt(&mut self, pid: u32) {
        self.pids.push(pid);
    }

    /// A temporary directory removed on drop.
    pub fn dir(&mut self, tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("{}-{tag}", self.ns));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        self.dirs.push(d.clone());
        d
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Deleting a namespace deletes its veths (both ends), the bridge and its ruleset.
        kill_and_delete(&self.pids, &self.namespaces());
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// `args` inside namespace `ns`. nsenter, not `ip netns exec`, which remounts /sys and hides
/// the cgroup hierarchy.
pub fn ns_cmd(ns: &str, args: &[&str]) -> Command {
    let mut c = Command::new("nsenter");
    c.arg(format!("--net={}", Node::ns_path(ns))).args(args);
    c
}

/// Runs `args` in `ns`; it must succeed; its standard output.
pub fn run_in_ns(ns: &str, args: &[&str]) -> String {
    let out = ns_cmd(ns, args)
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} in {ns} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts `args` in `ns`, its pid added to `pids` (killed on drop); stdin null, stderr piped.
fn spawn_in_ns(pids: &mut Vec<u32>, ns: &str, args: &[&str], stdout: Stdio) -> Child {
    let child = ns_cmd(ns, args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    pids.push(child.id());
    child
}

/// Kills `pids` and deletes `namespaces` (errors ignored: cleanup).
fn kill_and_delete(pids: &[u32], namespaces: &[String]) {
    for pid in pids {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }
    for ns in namespaces {
        let _ = Command::new("ip")
            .args(["netns", "del", ns])
            .stderr(Stdio::null())
            .status();
    }
}

/// A process started by [`Node::start_until`] whose stderr lines arrive on a channel: the
/// namespace pair's [`Running`](crate::pair::Running).
pub use crate::pair::Running as Process;

/// A veth `h.node_dev` (in `node_ns`) <-> `h.dev` (h's namespace, with h's address), both up.
fn veth(node_ns: &str, h: &Host) {
    run_checked(&[
        "ip",
        "-n",
        node_ns,
        "link",
        "add",
        &h.node_dev,
        "type",
        "veth",
        "peer",
        "name",
        &h.dev,
        "netns",
        &h.ns,
    ]);
    run_checked(&[
        "ip",
        "-n",
        &h.ns,
        "addr",
        "add",
        &format!("{}/24", h.ip),
        "dev",
        &h.dev,
    ]);
    run_checked(&["ip", "-n", &h.ns, "link", "set", &h.dev, "up"]);
    run_checked(&["ip", "-n", node_ns, "link", "set", &h.node_dev, "up"]);
}

/// A node namespace with only an uplink veth to an outside namespace (198.18.U.1 <-> 198.18.U.2,
/// no route back to anything behind the node): no bridge, no containers, no ruleset, no
/// forwarding. For a container runtime that builds those itself inside the node namespace
/// (dockerd with its own bridge, iptables rules and `ip_forward`). Owns what it started: the
/// processes (killed by pid) and both namespaces (deleted, with everything in them) on drop.
pub struct UplinkNode {
    /// The node's network namespace.
    pub ns: String,
    pub outside: Host,
    /// The node's uplink address (198.18.U.1) and subnet.
    pub uplink_ip: String,
    pub uplink_subnet: String,
    pids: Vec<u32>,
}

impl UplinkNode {
    /// Namespaces `ptcap-unode-<pid>-<n>-<tag>-{node,out}`; the uplink in 198.18.`uplink_net`.0/24.
    pub fn new(tag: &str, uplink_net: u8) -> UplinkNode {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let base = format!("ptcap-unode-{}-{n}-{tag}", std::process::id());
        let u = uplink_net;
        let node = UplinkNode {
            ns: format!("{base}-node"),
            outside: Host {
                ns: format!("{base}-out"),
                ip: format!("198.18.{u}.2"),
                dev: ETH.to_string(),
                node_dev: UPLINK.to_string(),
            },
            uplink_ip: format!("198.18.{u}.1"),
            uplink_subnet: format!("198.18.{u}.0/24"),
            pids: Vec::new(),
        };
        // From here on a failure still deletes whatever namespaces were made (Drop).
        for ns in node.namespaces() {
            run_checked(&["ip", "netns", "add", &ns]);
            run_checked(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        }
        veth(&node.ns, &node.outside);
        run_checked(&[
            "ip",
            "-n",
            &node.ns,
            "addr",
            "add",
            &format!("{}/24", node.uplink_ip),
            "dev",
            UPLINK,
        ]);
        node
    }

    /// The node's namespace and the outside host's.
    pub fn namespaces(&self) -> Vec<String> {
        vec![self.ns.clone(), self.outside.ns.clone()]
    }

    /// `args` inside namespace `ns` ([`ns_cmd`]).
    pub fn cmd(&self, ns: &str, args: &[&str]) -> Command {
        ns_cmd(ns, args)
    }

    /// Runs `args` in `ns`; it must succeed; its standard output.
    pub fn run_in(&self, ns: &str, args: &[&str]) -> String {
        run_in_ns(ns, args)
    }

    /// Starts `args` in `ns` (killed on drop); stdin null, stderr piped.
    pub fn spawn(&mut self, ns: &str, args: &[&str], stdout: Stdio) -> Child {
        spawn_in_ns(&mut self.pids, ns, args, stdout)
    }

    /// Starts `args` in `ns` and waits (up to 15 s) until a stderr line contains `ready`.
    pub fn start_until(&mut self, ns: &str, args: &[&str], stdout: Stdio, ready: &str) -> Process {
        let child = self.spawn(ns, args, stdout);
        Process::until(child, ready, args)
    }
}

impl Drop for UplinkNode {
    fn drop(&mut self) {
        kill_and_delete(&self.pids, &self.namespaces());
    }
}

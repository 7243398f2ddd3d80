//! Differential test: ptanalyze's text against real tcpdump's, on real traffic between two
//! network namespaces, captured by real tcpdump (Ethernet, LINUX_SLL, LINUX_SLL2, loopback):
//! ARP, ND, ICMP, HTTP, DNS over UDP and TCP, SNMP. (No SCTP: the kernels the tests run on
//! have no SCTP sockets; SCTP is compared on crafted packets in printers_diff.rs.)
//!
//! Needs root and tcpdump (missing tcpdump fails the test). Build the binary first:
//! `cargo build -p export && cargo test -p ptcap-tests` (CI builds the workspace first).

use std::path::PathBuf;
use std::thread::sleep;
use std::time::Duration;

use ptcap_tests::netns::{TestHosts, ADDR6_B, ADDR_B};
use ptcap_tests::peers::{compare_lines, require_tcpdump, text_of};
use ptcap_tests::{ptanalyze_bin, TempDir};

/// Answers HTTP on TCP 8080, DNS-shaped queries on UDP and TCP 53 (length-prefixed) and SNMP
/// GetRequests on UDP 161 (as GetResponses), IPv4 and IPv6 (or one address).
const SERVER: &str = r#"
import socket, struct, sys, threading
bind = sys.argv[1]
fam = socket.AF_INET6 if ':' in bind else socket.AF_INET
def tcp():
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((bind, 8080)); s.listen(16)
    while True:
        c, _ = s.accept()
        c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n")
        c.close()
def name(n):
    return b"".join(bytes([len(l)]) + l for l in n.split(b".")) + b"\0"
def answer(d):
        tid = d[:2]; q = d[12:]
        end = q.index(b"\0") + 1
        qname = q[:end]; qtype = struct.unpack(">H", q[end:end+2])[0]
        qn = qname.lower()
        ans = []; flags = 0x8180
        if qn.startswith(b"\x02nx"):
            flags = 0x8183
        elif qn.startswith(b"\x03www"):
            ans.append(b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, 2) + b"\xc0\x10")
            ans.append(b"\xc0\x10" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([198, 18, 0, 9]))
        elif qtype == 28:
            ans.append(b"\xc0\x0c" + struct.pack(">HHIH", 28, 1, 60, 16) + socket.inet_pton(socket.AF_INET6, "fd00:198:18::99"))
        elif qtype == 16:
            txt = b"v=1 \x1b[31mred\x07 \xff"
            ans.append(b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 60, len(txt) + 1) + bytes([len(txt)]) + txt)
        elif qtype == 15:
            ans.append(b"\xc0\x0c" + struct.pack(">HHIH", 15, 1, 60, 4) + struct.pack(">H", 10) + b"\xc0\x0c")
        else:
            ans.append(b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes([198, 18, 0, 9]))
            ans.append(b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes([198, 18, 0, 10]))
        return tid + struct.pack(">HHHHH", flags, 1, len(ans), 0, 0) + qname + q[end:end+4] + b"".join(ans)
def udp():
    u = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET6: u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    u.bind((bind, 53))
    while True:
        d, a = u.recvfrom(4096)
        u.sendto(answer(d), a)
def tcp53():
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((bind, 53)); s.listen(16)
    while True:
        c, _ = s.accept()
        buf = b""
        while True:
            d = c.recv(4096)
            if not d: break
            buf += d
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                n = struct.unpack(">H", buf[:2])[0]
                r = answer(buf[2:2 + n]); buf = buf[2 + n:]
                c.sendall(struct.pack(">H", len(r)) + r)
        c.close()
def snmp():
    u = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET6: u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    u.bind((bind, 161))
    while True:
        d, a = u.recvfrom(4096)
        d = bytearray(d)
        d[7 + d[6]] = 0xa2
        u.sendto(bytes(d), a)
for f in (tcp, udp, tcp53, snmp):
    threading.Thread(target=f, daemon=True).start()
threading.Event().wait()
"#;

/// The client side: HTTP, DNS queries, a datagram to a closed port (ICMP unreachable).
const CLIENT: &str = r#"
import socket, struct, sys, time
host = sys.argv[1]
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
def connect():
    for _ in range(100):
        try:
            return socket.create_connection((host, 8080), timeout=2)
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server not reachable")
for path in (b"/index.html", b"/a?b=c"):
    s = connect()
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: test\r\nUser-Agent: ptcap-test\r\n\r\n")
    while s.recv(4096): pass
    s.close()
u = socket.socket(fam, socket.SOCK_DGRAM); u.settimeout(2)
def name(n):
    return b"".join(bytes([len(l)]) + l for l in n.split(b".")) + b"\0"
for i, (n, t) in enumerate([(b"example.com", 1), (b"www.example.com", 1), (b"example.com", 28),
                            (b"nx.example.com", 1), (b"txt.example.com", 16), (b"example.com", 15)]):
    q = struct.pack(">HHHHHH", 0x1000 + i, 0x0100, 1, 0, 0, 0) + name(n) + struct.pack(">HH", t, 1)
    u.sendto(q, (host, 53))
    try: u.recvfrom(4096)
    except socket.timeout: pass
u.sendto(b"hello udp", (host, 9999))
# DNS over TCP: one query per write, then two in one write (one segment, two messages).
def framed(m):
    return struct.pack(">H", len(m)) + m
def query(i, n, t):
    return struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + name(n) + struct.pack(">HH", t, 1)
t = socket.create_connection((host, 53), timeout=2)
t.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def answers(k):
    got = b""
    while k:
        while len(got) < 2 or len(got) < 2 + struct.unpack(">H", got[:2])[0]:
            d = t.recv(4096)
            if not d: return
            got += d
        got = got[2 + struct.unpack(">H", got[:2])[0]:]; k -= 1
t.sendall(framed(query(0x2001, b"www.example.com", 1))); answers(1)
t.sendall(framed(query(0x2002, b"example.com", 28)) + framed(query(0x2003, b"example.com", 15))); answers(2)
t.close()
# SNMP v1 and v2c GetRequests (sysDescr.0, sysUpTime.0).
def tlv(tag, c):
    return bytes([tag, len(c)]) + c
for ver, comm in ((0, b"public"), (1, b"private")):
    vbs = b"".join(tlv(0x30, tlv(6, bytes([0x2b, 6, 1, 2, 1, 1, k, 0])) + b"\x05\x00") for k in (1, 3))
    pdu = tlv(0xa0, tlv(2, bytes([0x10 + ver])) + tlv(2, b"\0") + tlv(2, b"\0") + tlv(0x30, vbs))
    u.sendto(tlv(0x30, tlv(2, bytes([ver])) + tlv(4, comm) + pdu), (host, 161))
    try: u.recvfrom(4096)
    except socket.timeout: pass
time.sleep(0.2)
"#;

fn python(hosts: &TestHosts, ns: &str, script: &str, arg: &str) -> std::process::Command {
    let mut c = hosts.cmd(ns, "python3");
    c.args(["-c", script, arg]);
    c
}

struct Capture {
    name: &'static str,
    file: PathBuf,
}

fn capture_traffic(dir: &std::path::Path) -> Vec<Capture> {
    let mut hosts = TestHosts::new();
    let (ns_a, ns_b) = (hosts.ns_a.clone(), hosts.ns_b.clone());
    let veth = hosts.veth_a.clone();
    let caps = vec![
        Capture {
            name: "ethernet",
            file: dir.join("eth.pcap"),
        },
        Capture {
            name: "sll2",
            file: dir.join("sll2.pcap"),
        },
        Capture {
            name: "sll",
            file: dir.join("sll.pcap"),
        },
        Capture {
            name: "loopback",
            file: dir.join("lo.pcap"),
        },
    ];
    let args: [&[&str]; 4] = [
        &["-i", &veth],
        &["-i", "any", "-y", "LINUX_SLL2"],
        &["-i", "any", "-y", "LINUX_SLL"],
        &["-i", "lo"],
    ];
    let mut dumpers = Vec::new();
    for (c, a) in caps.iter().zip(args) {
        dumpers.push(hosts.start_tcpdump(&ns_a, &c.file, a));
    }
    let server_b = python(&hosts, &ns_b, SERVER, "::");
    hosts.spawn(server_b);
    let server_lo = python(&hosts, &ns_a, SERVER, "127.0.0.1");
    hosts.spawn(server_lo);

    let run = |c: &mut std::process::Command| ptcap_tests::netns::run(c);
    // ARP and neighbour discovery from a clean neighbour cache.
    run(hosts.cmd(&ns_a, "ip").args(["neigh", "flush", "all"]));
    run(hosts
        .cmd(&ns_a, "ping")
        .args(["-c", "2", "-i", "0.2", ADDR_B]));
    run(hosts
        .cmd(&ns_a, "ping")
        .args(["-6", "-c", "2", "-i", "0.2", ADDR6_B]));
    run(&mut python(&hosts, &ns_a, CLIENT, ADDR_B));
    run(&mut python(&hosts, &ns_a, CLIENT, ADDR6_B));
    run(&mut python(&hosts, &ns_a, CLIENT, "127.0.0.1"));
    run(hosts
        .cmd(&ns_a, "ping")
        .args(["-c", "1", "-s", "100", "127.0.0.1"]));
    run(hosts
        .cmd(&ns_a, "ping")
        .args(["-c", "1", "-p", "1b5b33316d", "-s", "56", ADDR_B]));
    sleep(Duration::from_millis(300));
    for pid in dumpers {
        hosts.stop(pid);
    }
    drop(hosts);
    caps
}

#[test]
fn ptanalyze_prints_what_tcpdump_prints() {
    require_tcpdump();
    let tcpdump = PathBuf::from("tcpdump");
    let ptanalyze = ptanalyze_bin();
    let dir = TempDir::new("tcpdump-diff");
    let caps = capture_traffic(dir.path());
    // For debugging a difference: PTCAP_KEEP_CAPTURES=DIR keeps a copy of the captures.
    if let Some(keep) = std::env::var_os("PTCAP_KEEP_CAPTURES") {
        let _ = std::fs::create_dir_all(&keep);
        for c in &caps {
            let _ = std::fs::copy(
                &c.file,
                PathBuf::from(&keep).join(c.file.file_name().unwrap()),
            );
        }
    }

    // The traffic the printers under test need is there (tcpdump decodes it).
    let plain = text_of(&tcpdump, &["-nn"], &[], &["-r"], &caps[0].file);
    for (what, needle) in [
        ("DNS over TCP", ": Flags [P.], seq 1:36, ack 1, win "),
        (
            "a DNS query over TCP",
            "length 35 8193+ A? www.example.com. (33)",
        ),
        (
            "two DNS messages in one segment",
            "length 62 [prefix length(29) != length(60)] (invalid)",
        ),
        (
            "SNMP",
            "161:  C=\"private\" GetRequest(39)  .1.3.6.1.2.1.1.1.0",
        ),
        (
            "an SNMP response",
            ":  GetResponse(39)  .1.3.6.1.2.1.1.1.0= .1.3.6.1.2.1.1.3.0=",
        ),
    ] {
        assert!(plain.contains(needle), "no {what} in the capture:\n{plain}");
    }
    let flag_sets: &[&[&str]] = &[
        &[],
        &["-v"],
        &["-S"],
        &["-q"],
        &["-x"],
        &["-xx"],
        &["-X"],
        &["-XX"],
        &["-A"],
        &["-t"],
        &["-tt"],
        &["-ttt"],
        &["-tttt"],
        &["-ttttt"],
        &["-tt", "--nano"],
        &["-v", "-S", "-X"],
        &["-c", "5"],
    ];
    let mut failures = Vec::new();
    let (mut all_eq, mut all_total) = (0, 0);
    for flags in flag_sets {
        let (mut eq, mut total) = (0, 0);
        for cap in &caps {
            let expected = text_of(&tcpdump, &["-nn"], flags, &["-r"], &cap.file);
            let got = text_of(&ptanalyze, &[], flags, &[], &cap.file);
            assert!(
                !expected.is_empty(),
                "tcpdump printed nothing for {}",
                cap.name
            );
            let c = compare_lines(&expected, &got);
            eq += c.equal;
            total += c.total;
            if !c.is_exact() {
                failures.push(format!("{} {flags:?}: {:?}", cap.name, c.diffs));
            }
        }
        println!("{:<22} {eq}/{total} lines equal", format!("{flags:?}"));
        all_eq += eq;
        all_total += total;
    }
    println!("all flag sets: {all_eq}/{all_total} lines equal");
    assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
}

/// Real encapsulation between the namespaces (the kernel's VXLAN, the kind Flannel and Cilium
/// use), and the kernel's own IGMP v3 and MLD v2 reports (with IPv4's Router Alert option)
/// inside and outside the tunnel: ptanalyze's text against tcpdump's on tcpdump's capture of
/// the underlay. (GRE, Geneve and IPIP are compared on crafted packets in printers_diff.rs:
/// their kernel modules are not always loadable where the tests run.)
#[test]
fn vxlan_and_igmp_print_what_tcpdump_prints() {
    require_tcpdump();
    let ptanalyze = ptanalyze_bin();
    let dir = TempDir::new("tcpdump-diff-vxlan");
    let file = dir.path().join("vxlan.pcap");
    let mut hosts = TestHosts::new();
    let (ns_a, ns_b) = (hosts.ns_a.clone(), hosts.ns_b.clone());
    let (veth_a, veth_b) = (hosts.veth_a.clone(), hosts.veth_b.clone());
    let run = |c: &mut std::process::Command| ptcap_tests::netns::run(c);
    let ends = [
        (
            &ns_a,
            &veth_a,
            "198.18.0.1",
            "198.18.0.2",
            "198.19.0.1",
            "fd00:198:19::1",
        ),
        (
            &ns_b,
            &veth_b,
            "198.18.0.2",
            "198.18.0.1",
            "198.19.0.2",
            "fd00:198:19::2",
        ),
    ];
    let dumper = hosts.start_tcpdump(&ns_a, &file, &["-i", &veth_a]);
    for (ns, veth, local, remote, inner4, inner6) in ends {
        let ip = |args: &[&str]| {
            let mut c = std::process::Command::new("ip");
            c.args(["-n", ns]).args(args);
            c
        };
        run(&mut ip(&[
            "link", "add", "vx42", "type", "vxlan", "id", "42", "local", local, "remote", remote,
            "dstport", "4789", "dev", veth,
        ]));
        run(&mut ip(&[
            "addr",
            "add",
            &format!("{inner4}/24"),
            "dev",
            "vx42",
        ]));
        run(&mut ip(&[
            "addr",
            "add",
            &format!("{inner6}/64"),
            "dev",
            "vx42",
            "nodad",
        ]));
        run(&mut ip(&["link", "set", "vx42", "up"]));
    }
    // Group joins: the kernel reports them (IGMP v3 with Router Alert), in and out of the tunnel.
    for (dev, group) in [("vx42", "239.1.2.3"), (&*veth_a, "239.1.2.4")] {
        run(hosts.cmd(&ns_a, "ip").args([
            "addr",
            "add",
            &format!("{group}/32"),
            "dev",
            dev,
            "autojoin",
        ]));
    }
    run(hosts
        .cmd(&ns_a, "ping")
        .args(["-c", "2", "-i", "0.2", "198.19.0.2"]));
    run(hosts
        .cmd(&ns_a, "ping")
        .args(["-6", "-c", "2", "-i", "0.2", "fd00:198:19::2"]));
    run(hosts.cmd(&ns_a, "python3").args([
        "-c",
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'over vxlan', ('198.19.0.2', 9999))",
    ]));
    sleep(Duration::from_millis(1200));
    hosts.stop(dumper);
    drop(hosts);

    let tcpdump = PathBuf::from("tcpdump");
    let expected = text_of(&tcpdump, &["-nn"], &[], &["-r"], &file);
    for (what, needle) in [
        ("VXLAN", ": VXLAN, flags [I] (0x08), vni 42"),
        ("IGMP", "igmp v3 report"),
        (
            "ICMP over VXLAN",
            "198.19.0.1 > 198.19.0.2: ICMP echo request",
        ),
    ] {
        assert!(
            expected.contains(needle),
            "no {what} in the capture:\n{expected}"
        );
    }
    let mut failures = Vec::new();
    for flags in [&[][..], &["-v"], &["-vv"], &["-e"]] {
        let expected = text_of(&tcpdump, &["-nn"], flags, &["-r"], &file);
        let got = text_of(&ptanalyze, &[], flags, &[], &file);
        let c = compare_lines(&expected, &got);
        println!("vxlan {flags:?}: {}/{} lines equal", c.equal, c.total);
        if !c.is_exact() {
            failures.push(format!("{flags:?}: {:?}", c.diffs));
        }
    }
    assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
}

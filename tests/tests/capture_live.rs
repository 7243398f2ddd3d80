//! ptcap live capture, end to end, as root: test hosts in network namespaces joined by a veth
//! pair (198.18.0.0/15 only), real traffic (ping, TCP, UDP) and replayed frames, ptcap run with
//! `nsenter --net` inside a namespace. Checks packet counts against what was sent and against
//! tcpdump, and the in-kernel filter against libpcap's on every packet (`--check-filter`).
//!
//! Each test holds a lock while ptcap runs, so "no capture program is left loaded" can be
//! checked globally after each run; namespaces and started processes are removed on drop,
//! also when a test panics.

use ptcap_tests::pair::{assert_nothing_left, count_line, NamespacePair, Running};
use ptcap_tests::{ptcap_bin, run_checked};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Namespaces A and B joined by veth va (198.18.N.1) <-> vb (198.18.N.2).
fn test_net(tag: &str, subnet: u32) -> NamespacePair {
    let net = NamespacePair::new("bpf", tag, subnet);
    net.link();
    net
}

#[test]
fn capture_counts_match_ping_and_tcpdump() {
    if !is_root() {
        panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = test_net("count", 1);
    let bin = ptcap_bin();
    let dir = std::env::temp_dir().join(format!("ptcap-bpf-{}-count", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("icmp.pcapng");
    let b = net.b.clone();

    // ping: 5 requests in, 5 replies out.
    let mut cap = Running::start_until(
        &mut net,
        &b,
        &[
            bin.to_str().unwrap(),
            "-i",
            "vb",
            "-w",
            file.to_str().unwrap(),
            "icmp",
        ],
        Stdio::piped(),
        "capturing on",
    );
    assert!(
        cap.stderr().iter().any(|l| l.contains(
            "capturing on vb, link-type EN10MB (Ethernet), snapshot length 262144 bytes, tcx"
        )),
        "{:?}",
        cap.stderr()
    );
    let a = net.a.clone();
    net.run_in(
        &a,
        &["ping", "-c", "5", "-i", "0.2", "-W", "2", &net.ip_b()],
    );
    std::thread::sleep(Duration::from_millis(300));
    let (code, _, stderr) = cap.interrupt();
    assert_eq!(code, 0, "{stderr:?}");
    assert_eq!(count_line(&stderr, "captured"), 10, "{stderr:?}");
    assert_eq!(count_line(&stderr, "received by filter"), 10, "{stderr:?}");
    assert_eq!(count_line(&stderr, "dropped by kernel"), 0, "{stderr:?}");
    assert_nothing_left(&net);
    // The file is pcapng that tcpdump reads: 10 ICMP packets, 5 each way.
    let text = run_checked(&["tcpdump", "-nn", "-r", file.to_str().unwrap()]);
    assert_eq!(text.lines().count(), 10, "{text}");
    assert_eq!(text.matches("echo request").count(), 5, "{text}");
    assert_eq!(text.matches("echo reply").count(), 5, "{text}");

    // TCP: ptcap and tcpdump on the same interface see the same number of packets.
    let server = format!(
        "import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('{}',5555)); s.listen(1); print('ready', flush=True)\nc,_=s.accept()\nn=0\n\
         while n < 200000:\n    d=c.recv(65536)\n    if not d: break\n    n+=len(d)\nc.sendall(b'done')\nc.close()",
        net.ip_b()
    );
    let client = format!(
        "import socket\nc=socket.create_connection(('{}',5555))\nc.sendall(b'x'*200000)\nprint(c.recv(10))\nc.close()",
        net.ip_b()
    );
    let pcap_file = dir.join("tcpdump.pcap");
    let dump = Running::start_until(
        &mut net,
        &b,
        &[
            "tcpdump",
            "--immediate-mode",
            "-U",
            "-nn",
            "-i",
            "vb",
            "-w",
            pcap_file.to_str().unwrap(),
            "tcp port 5555",
        ],
        Stdio::piped(),
        "listening on",
    );
    let cap = Running::start_until(
        &mut net,
        &b,
        &[bin.to_str().unwrap(), "-i", "vb", "tcp port 5555"],
        Stdio::piped(),
        "capturing on",
    );
    let mut srv = net.spawn(&b, &["python3", "-c", &server], Stdio::piped());
    let mut line = String::new();
    BufReader::new(srv.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    net.run_in(&a, &["python3", "-c", &client]);
    srv.wait().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (code, out, stderr) = cap.interrupt();
    let (_, _, dump_err) = dump.interrupt();
    assert_eq!(code, 0, "{stderr:?}");
    assert_nothing_left(&net);
    let ours = count_line(&stderr, "captured");
    let theirs = count_line(&dump_err, "captured");
    assert!(
        ours >= 8,
        "a TCP exchange has at least 8 packets, ptcap saw {ours}"
    );
    assert_eq!(ours, theirs, "ptcap {stderr:?} vs tcpdump {dump_err:?}");
    assert_eq!(out.lines().count() as u64, ours, "one text line per packet");
    assert_eq!(count_line(&stderr, "dropped by kernel"), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn capture_errors_are_one_line() {
    if !is_root() {
        panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let net = test_net("err", 2);
    let bin = ptcap_bin();
    let out = net
        .cmd(
            &net.b,
            &[bin.to_str().unwrap(), "-i", "vb", "tcp", "portt", "80"],
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("ptcap: ") && err.contains("syntax error"),
        "{err}"
    );
    let out = net
        .cmd(&net.b, &[bin.to_str().unwrap(), "-i", "nosuch0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        err.trim(),
        "ptcap: nosuch0: No such device exists (ptcap -D lists the interfaces)"
    );
    let out = net
        .cmd(&net.b, &[bin.to_str().unwrap(), "-D"])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains(".lo [Up, Running, Loopback]") && list.contains(".vb [Up"),
        "{list}"
    );
    assert_nothing_left(&net);
}

/// Python that replays a classic pcap file's frames, then a set of crafted frames, out of `va`.
const REPLAY: &str = r#"
import socket, struct, sys
path, ifname, mac_a, mac_b, ip_a, ip_b = sys.argv[1:7]
frames = []
with open(path, 'rb') as f:
    data = f.read()
off = 24
while off + 16 <= len(data):
    incl = struct.unpack('<I', data[off+8:off+12])[0]
    frame = data[off+16:off+16+incl]
    off += 16 + incl
    if 14 <= len(frame) <= 1514:
        frames.append(frame)
def mac(s): return bytes(int(x, 16) for x in s.split(':'))
def ip4(s): return bytes(int(x) for x in s.split('.'))
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def ipv4(proto, payload, src, dst, ttl=64, frag=0, opts=b''):
    hl = 5 + len(opts)//4
    h = struct.pack('!BBHHHBBH4s4s', 0x40|hl, 0, 20+len(opts)+len(payload), 7, frag, ttl, proto, 0, ip4(src), ip4(dst)) + opts
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload
def tcp(sp, dp, flags, payload=b''):
    return struct.pack('!HHIIBBHHH', sp, dp, 1000, 2000, 0x50, flags, 8192, 0, 0) + payload
def udp(sp, dp, payload):
    return struct.pack('!HHHH', sp, dp, 8+len(payload), 0) + payload
def eth(dst, src, etype, payload): return dst + src + struct.pack('!H', etype) + payload
def vlan(dst, src, vid, etype, payload): return dst + src + struct.pack('!HHH', 0x8100, vid, etype) + payload
A, B, X = mac(mac_a), mac(mac_b), mac('02:00:00:00:00:aa')
BC = b'\xff' * 6
crafted = []
for fl in (0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x29, 0xff):
    crafted.append(eth(B, A, 0x0800, ipv4(6, tcp(40000, 5555, fl, b'y' * fl), ip_a, ip_b)))
for n in (0, 50, 200, 1200):
    crafted.append(eth(B, A, 0x0800, ipv4(17, udp(5556, 5556, b'PTCA' + b'z' * n), ip_a, ip_b)))
crafted.append(eth(B, X, 0x0800, ipv4(1, struct.pack('!BBHHH', 8, 0, 0, 1, 1) + b'p' * 56, ip_a, ip_b)))
crafted.append(eth(B, X, 0x0800, ipv4(1, struct.pack('!BBHHH', 0, 0, 0, 1, 1), ip_b, ip_a, ttl=1)))
crafted.append(eth(B, A, 0x0800, ipv4(17, udp(53, 53, b'q' * 30), ip_a, '198.18.200.7', frag=0x2000)))
crafted.append(eth(B, A, 0x0800, ipv4(17, b'r' * 40, ip_a, ip_b, frag=0x0010)))
crafted.append(eth(B, A, 0x0800, ipv4(6, tcp(22, 80, 0x02), ip_a, ip_b, opts=b'\x01\x01\x01\x00')))
crafted.append(eth(B, A, 0x0800, ipv4(47, b'\0\0\x08\0' + b'g' * 20, ip_a, ip_b)))
crafted.append(eth(BC, A, 0x0806, struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, A, ip4(ip_a), b'\0'*6, ip4(ip_b))))
crafted.append(eth(mac('01:00:5e:00:00:fb'), A, 0x0800, ipv4(17, udp(5353, 5353, b'm' * 20), ip_a, '224.0.0.251')))
crafted.append(eth(B, A, 0x86dd, struct.pack('!IHBB16s16s', 0x60000000, 20, 6, 64, b'\xfe\x80' + b'\0'*13 + b'\x01', b'\xfe\x80' + b'\0'*13 + b'\x02') + tcp(40001, 5555, 0x02)))
crafted.append(eth(B, A, 0x86dd, struct.pack('!IHBB16s16s', 0x60000000, 12, 17, 64, b'\xfe\x80' + b'\0'*13 + b'\x01', b'\xfe\x80' + b'\0'*13 + b'\x02') + udp(5556, 5556, b'PTCA')))
crafted.append(eth(mac('33:33:00:00:00:01'), A, 0x86dd, struct.pack('!IHBB16s16s', 0x60000000, 8, 58, 255, b'\xfe\x80' + b'\0'*13 + b'\x01', b'\xff\x02' + b'\0'*13 + b'\x01') + struct.pack('!BBHI', 134, 0, 0, 0)))
crafted.append(vlan(B, A, 10, 0x0800, ipv4(17, udp(5556, 5556, b'PTCA' + b'v' * 10), ip_a, ip_b)))
crafted.append(vlan(B, A, 20, 0x0800, ipv4(6, tcp(40002, 5555, 0x02), ip_a, ip_b)))
crafted.append(vlan(B, A, 10, 0x0800, ipv4(17, udp(5556, 5556, b'PTCA' + b'v' * 600), ip_a, ip_b)))
crafted.append(vlan(BC, A, 10, 0x0806, struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, A, ip4(ip_a), b'\0'*6, ip4(ip_b))))
crafted.append(eth(mac('01:80:c2:00:00:0e'), X, 0x88cc, b'\x02\x07\x04' + b'l' * 40))
crafted.append(eth(B, A, 0x0800, b'\x45\x00'))  # truncated IPv4
frames += crafted
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for fr in frames:
    s.send(fr)
print(len(frames))
"#;

const EXPRESSIONS: &[&str] = &[
    "host {A}",
    "src host {B}",
    "dst host {A}",
    "net 198.18.0.0/15",
    "net {NET}.0/24 and not host {A}",
    "port 5555",
    "tcp port 5555",
    "udp port 5556",
    "src port 5555",
    "dst port 5555",
    "portrange 5550-5560",
    "tcp portrange 1-1024",
    "tcp",
    "udp",
    "icmp",
    "arp",
    "ip",
    "ip6",
    "icmp6",
    "ip6 and tcp",
    "ip6 and udp port 5556",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
    "tcp[tcpflags] & (tcp-fin|tcp-rst) != 0",
    "tcp[13] = 0x12",
    "ip[2:2] > 100",
    "ip[8] < 64",
    "ip[6:2] & 0x1fff != 0",
    "ip[0] & 0xf > 5",
    "ip proto 47",
    "ip multicast",
    "vlan",
    "vlan 10",
    "vlan and udp",
    "vlan and arp",
    "not tcp",
    "not arp and not ip6",
    "tcp or udp",
    "icmp or arp",
    "(tcp and port 5555) or icmp",
    "greater 200",
    "less 100",
    "len > 1000",
    "ether broadcast",
    "ether multicast",
    "ether src 02:00:00:00:00:aa",
    "ether host {MACA}",
    "ether proto 0x88cc",
    "udp[8:4] = 0x50544341",
    "icmp[icmptype] = icmp-echo",
    "icmp[icmptype] == icmp-echoreply",
    "tcp dst port 5555 and tcp[tcpflags] & tcp-syn != 0",
    "ip host {A} and ip host {B}",
    "ether[0] & 1 != 0",
    // Loads beyond the first 256 bytes (the translated filter's buffer): bpf_skb_load_bytes,
    // at constant and at X-relative offsets, with and without a re-inserted VLAN tag.
    "ip[300] = 0x7a",
    "ether[1000] = 0x7a",
    "udp[400] = 0x7a",
    "tcp[250:4] = 0x79797979",
    "vlan and udp[300] = 0x76",
    "tcp[100:2] = 0x7979",
    // Arithmetic, shifts, scratch memory, negation.
    "ip[2:2] / 4 > 100",
    "ip[2:2] % 7 = 3",
    "ip[8] * 3 > 150",
    "ip[0] >> 4 = 4 and ip[9] << 4 = 0x60",
    "ip[1] ^ 0xff = 0xff and ip[6] | 0x40 = 0x40",
    "ip[2:2] - 20 > 300",
    "(ip[2:2] + ip[8]) % 5 = 1",
    "ip[2:2] >> (ip[8] & 3) > 100",
    "ip and -ip[8] & 0xff = 0xc0",
    "len - 14 > 100",
    "ip6 and ip6[6] = 17",
    "udp[8:4] = 0x50544341 or tcp[20:4] = 0x79797979",
];

#[test]
fn capture_kernel_filter_matches_libpcap() {
    if !is_root() {
        panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = test_net("filter", 3);
    let bin = ptcap_bin();
    let dir = std::env::temp_dir().join(format!("ptcap-bpf-{}-filter", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let corpus = dir.join("corpus.pcap");
    let (a, b) = (net.a.clone(), net.b.clone());
    let (ip_a, ip_b) = (net.ip_a(), net.ip_b());
    let (mac_a, mac_b) = (net.mac(&a, "va"), net.mac(&b, "vb"));

    // 1. Real traffic, recorded by tcpdump on va: ping, ping to a link-local IPv6 address,
    //    a TCP exchange, UDP datagrams, ARP.
    let dump = Running::start_until(
        &mut net,
        &a,
        &[
            "tcpdump",
            "--immediate-mode",
            "-U",
            "-nn",
            "-i",
            "va",
            "-w",
            corpus.to_str().unwrap(),
        ],
        Stdio::piped(),
        "listening on",
    );
    net.run_in(&a, &["ping", "-c", "3", "-i", "0.2", "-s", "300", &ip_b]);
    let server = format!(
        "import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('{ip_b}',5555)); s.listen(1); print('ready', flush=True)\nc,_=s.accept()\nc.sendall(c.recv(100)*20)\nc.close()"
    );
    let mut srv = net.spawn(&b, &["python3", "-c", &server], Stdio::piped());
    let mut line = String::new();
    BufReader::new(srv.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    net.run_in(
        &a,
        &["python3", "-c", &format!(
            "import socket\nc=socket.create_connection(('{ip_b}',5555))\nc.sendall(b'hello'*10)\nwhile c.recv(4096): pass\nc.close()\n\
             u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor n in (10, 500, 1400): u.sendto(b'PTCA'+b'u'*n, ('{ip_b}', 5556))"
        )],
    );
    srv.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let _ = dump.interrupt();
    let corpus_packets = run_checked(&["tcpdump", "-nn", "-r", corpus.to_str().unwrap()])
        .lines()
        .count();
    assert!(
        corpus_packets >= 15,
        "recorded only {corpus_packets} packets"
    );

    // 2. Per expression: ptcap in check mode on vb ingress while the corpus and crafted frames
    //    are replayed from va; every packet's kernel verdict is compared with libpcap's.
    let mut nontrivial = 0;
    let mut total_checked = 0;
    // Both engines: the translation (the default) and the interpreter it falls back to.
    // And one too long for the place the programs keep for the translation (300 hosts, about
    // 2,500 eBPF instructions): the interpreter takes over.
    let hosts: Vec<String> = (0..299)
        .map(|n| format!("host 198.18.{}.{}", 200 + n / 250, n % 250 + 1))
        .collect();
    let long = format!("{} or host {{B}}", hosts.join(" or "));
    let runs = EXPRESSIONS
        .iter()
        .flat_map(|t| {
            [
                ("translated", "translated", *t),
                ("interpreted", "interpreted", *t),
            ]
        })
        .chain([("translated", "interpreted (", long.as_str())]);
    let mut n_runs = 0;
    for (engine, expect, template) in runs {
        n_runs += 1;
        let expr = template
            .replace("{A}", &ip_a)
            .replace("{B}", &ip_b)
            .replace("{NET}", "198.18.3")
            .replace("{MACA}", &mac_a);
        let cap = Running::start_until(
            &mut net,
            &b,
            &[
                "env",
                &format!("PTCAP_FILTER_ENGINE={engine}"),
                bin.to_str().unwrap(),
                "-v",
                "--check-filter",
                "-Q",
                "in",
                "-i",
                "vb",
                "-w",
                "/dev/null",
                &expr,
            ],
            Stdio::piped(),
            "capturing on",
        );
        let sent: usize = net
            .run_in(
                &a,
                &[
                    "python3",
                    "-c",
                    REPLAY,
                    corpus.to_str().unwrap(),
                    "va",
                    &mac_a,
                    &mac_b,
                    &ip_a,
                    &ip_b,
                ],
            )
            .trim()
            .parse()
            .expect("replay count");
        std::thread::sleep(Duration::from_millis(250));
        let (code, _, stderr) = cap.interrupt();
        let said = format!("ptcap: filter: {expect}");
        assert!(
            stderr.iter().any(|l| l.starts_with(&said)),
            "{}: no {said:?}: {stderr:?}",
            &expr[..expr.len().min(80)]
        );
        let check = stderr
            .iter()
            .find(|l| l.starts_with("filter check: ") && l.contains(" packets, "))
            .unwrap_or_else(|| panic!("{expr}: {stderr:?}"));
        let nums: Vec<u64> = check
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        let (checked, accepted, mismatches) = (nums[0], nums[1], nums[2]);
        assert_eq!(
            mismatches, 0,
            "{expr}: kernel and libpcap disagree: {stderr:?}"
        );
        assert_eq!(code, 0, "{expr}: {stderr:?}");
        assert!(
            checked >= sent as u64,
            "{expr}: {checked} packets checked, {sent} sent: {stderr:?}"
        );
        if accepted > 0 && accepted < checked {
            nontrivial += 1;
        }
        total_checked += checked;
        let shown = &expr[..expr.len().min(50)];
        eprintln!("{engine:11} {shown:50} checked {checked:4} accepted {accepted:4}");
    }
    assert_nothing_left(&net);
    assert!(
        nontrivial * 10 >= n_runs * 9,
        "only {nontrivial} of {n_runs} runs split the corpus"
    );
    eprintln!(
        "{} expressions under both engines, {total_checked} verdicts compared, {nontrivial} runs split the corpus",
        EXPRESSIONS.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tc_attach_captures_and_removes_its_qdisc() {
    if !is_root() {
        panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = test_net("tc", 4);
    let b = net.b.clone();
    // The fallback for kernels without tcx (before 6.6), chosen here with --attach tc.
    let mut cap = Running::start_until(
        &mut net,
        &b,
        &[
            ptcap_bin().to_str().unwrap(),
            "--attach",
            "tc",
            "-i",
            "vb",
            "icmp",
        ],
        Stdio::piped(),
        "capturing on",
    );
    assert!(
        cap.stderr().iter().any(
            |l| l.contains("capturing on vb, link-type EN10MB (Ethernet)") && l.ends_with(", tc")
        ),
        "{:?}",
        cap.stderr()
    );
    let qdiscs = net.run_in(&b, &["tc", "qdisc", "show", "dev", "vb"]);
    assert!(qdiscs.contains("clsact"), "{qdiscs}");
    let a = net.a.clone();
    net.run_in(
        &a,
        &["ping", "-c", "3", "-i", "0.2", "-W", "2", &net.ip_b()],
    );
    std::thread::sleep(Duration::from_millis(300));
    let (code, stdout, stderr) = cap.interrupt();
    assert_eq!(code, 0, "{stderr:?}");
    assert_eq!(count_line(&stderr, "captured"), 6, "{stderr:?}");
    assert_eq!(
        stdout.lines().filter(|l| l.contains("ICMP echo")).count(),
        6,
        "{stdout}"
    );
    // The qdisc ptcap created is gone with it.
    assert_nothing_left(&net);

    // --attach tcx never falls back; here the kernel has tcx, so it works as auto does.
    let cap = Running::start_until(
        &mut net,
        &b,
        &[
            ptcap_bin().to_str().unwrap(),
            "--attach",
            "tcx",
            "-i",
            "vb",
            "icmp",
        ],
        Stdio::piped(),
        "capturing on",
    );
    let (code, _, stderr) = cap.interrupt();
    assert_eq!(code, 0, "{stderr:?}");
    assert!(stderr.iter().any(|l| l.ends_with(", tcx")), "{stderr:?}");
    assert_nothing_left(&net);
}

/// A loopback device gives every packet back to itself, so its two hooks see each packet
/// twice; tcpdump (libpcap) shows it once, inbound, on `-i lo` and on `-i any`, and so must
/// ptcap: same count as tcpdump in the same run, each packet `In`, none `Out`.
#[test]
fn loopback_packets_once_as_tcpdump_shows_them() {
    if !is_root() {
        panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = test_net("lo", 7);
    let bin = ptcap_bin();
    let b = net.b.clone();
    let dir = net.dir("lo");
    net.run_in(&b, &["ip", "link", "set", "lo", "up"]);
    let server = "import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
                  s.bind(('127.0.0.1',7100)); print('ready', flush=True)\nn=0\n\
                  while n < 40:\n    d,a=s.recvfrom(100); s.sendto(b'pong', a); n+=1";
    let client = "import socket, time\nc=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
                  for i in range(40):\n    c.sendto(b'ping', ('127.0.0.1',7100)); c.recvfrom(10)";
    for iface in ["lo", "any"] {
        let pcap_file = dir.join(format!("tcpdump-{iface}.pcap"));
        let ours_file = dir.join(format!("ptcap-{iface}.pcapng"));
        let dump = Running::start_until(
            &mut net,
            &b,
            &[
                "tcpdump",
                "--immediate-mode",
                "-U",
                "-nn",
                "-i",
                iface,
                "-w",
                pcap_file.to_str().unwrap(),
                "udp port 7100",
            ],
            Stdio::piped(),
            "listening on",
        );
        let cap = Running::start_until(
            &mut net,
            &b,
            &[
                bin.to_str().unwrap(),
                "-i",
                iface,
                "-w",
                ours_file.to_str().unwrap(),
                "udp port 7100",
            ],
            Stdio::piped(),
            "capturing on",
        );
        let mut srv = net.spawn(&b, &["python3", "-c", server], Stdio::piped());
        let mut line = String::new();
        BufReader::new(srv.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        net.run_in(&b, &["python3", "-c", client]);
        assert!(srv.wait().unwrap().success());
        std::thread::sleep(Duration::from_millis(400));
        let (code, _, stderr) = cap.interrupt();
        let (_, _, dump_err) = dump.interrupt();
        assert_eq!(code, 0, "{stderr:?}");
        let ours = count_line(&stderr, "captured");
        let theirs = count_line(&dump_err, "captured");
        // 40 requests and 40 replies. tcpdump's `-i any` counts both copies in "received by
        // filter" and its ring sometimes drops a few of them: compare with it when it lost none.
        assert_eq!(
            ours, 80,
            "-i {iface}: ptcap {stderr:?} (tcpdump {dump_err:?})"
        );
        assert_eq!(count_line(&stderr, "dropped by kernel"), 0, "{stderr:?}");
        if count_line(&dump_err, "dropped by kernel") == 0 {
            assert_eq!(
                ours, theirs,
                "-i {iface}: ptcap {stderr:?} vs tcpdump {dump_err:?}"
            );
        }
        // Each packet inbound, in the file too (tcpdump reads the direction from the EPB flags).
        let text = run_checked(&["tcpdump", "-nn", "-r", ours_file.to_str().unwrap()]);
        assert_eq!(text.lines().count(), 80, "{text}");
        if iface == "any" {
            assert_eq!(text.matches(" In ").count(), 80, "{text}");
        }
    }
    assert_nothing_left(&net);
}

/// Each packet's direction is its hook's, whether one program serves both hooks (Linux 6.2+:
/// it reads sk_buff's tc_at_ingress) or each hook has its own (`PTCAP_PACKET_PROGRAMS=two`,
/// what older kernels get): on `-i any`, where tcpdump prints In/Out from the file's SLL2
/// packet type, ptcap's file reads as tcpdump's own capture of the same ping does, and `-Q
/// in` / `-Q out` keep only the replies / only the requests. Also with tc clsact hooks
/// (`--attach tc`), where the kernel sets tc_at_ingress too.
#[test]
fn directions_are_the_hooks_with_one_program_or_two() {
    if !is_root() {
        panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = test_net("dir", 8);
    let bin = ptcap_bin();
    let a = net.a.clone();
    let dir = net.dir("dir");
    // "In"/"Out" and the ICMP type of each line of `tcpdump -r`.
    let shape = |file: &std::path::Path| -> Vec<String> {
        let text = run_checked(&["tcpdump", "-nn", "-r", file.to_str().unwrap()]);
        text.lines()
            .map(|l| {
                let d = if l.contains(" In ") {
                    "In"
                } else if l.contains(" Out ") {
                    "Out"
                } else {
                    "?"
                };
                let t = if l.contains("echo request") {
                    "request"
                } else if l.contains("echo reply") {
                    "reply"
                } else {
                    "other"
                };
                format!("{d} {t}")
            })
            .collect()
    };
    for (programs, attach) in [("one", "tcx"), ("two", "tcx"), ("one", "tc")] {
        for q in ["inout", "in", "out"] {
            let theirs = dir.join(format!("tcpdump-{programs}-{attach}-{q}.pcap"));
            let ours = dir.join(format!("ptcap-{programs}-{attach}-{q}.pcapng"));
            let dump = Running::start_until(
                &mut net,
                &a,
                &[
                    "tcpdump",
                    "-U",
                    "-nn",
                    "-Q",
                    q,
                    "-i",
                    "any",
                    "-w",
                    theirs.to_str().unwrap(),
                    "icmp",
                ],
                Stdio::piped(),
                "listening on",
            );
            let cap = Running::start_until(
                &mut net,
                &a,
                &[
                    "env",
                    &format!("PTCAP_PACKET_PROGRAMS={programs}"),
                    bin.to_str().unwrap(),
                    "--attach",
                    attach,
                    "-Q",
                    q,
                    "-i",
                    "any",
                    "-w",
                    ours.to_str().unwrap(),
                    "icmp",
                ],
                Stdio::piped(),
                "capturing on",
            );
            net.run_in(
                &a,
                &["ping", "-c", "4", "-i", "0.2", "-W", "2", &net.ip_b()],
            );
            std::thread::sleep(Duration::from_millis(300));
            let (code, _, stderr) = cap.interrupt();
            let (_, _, dump_err) = dump.interrupt();
            assert_eq!(code, 0, "{stderr:?}");
            let got = shape(&ours);
            let want = match q {
                "in" => vec!["In reply"; 4],
                "out" => vec!["Out request"; 4],
                _ => ["Out request", "In reply"].repeat(4),
            };
            let what = format!("{programs} program(s), --attach {attach}, -Q {q}");
            assert!(
                stderr.iter().any(|l| l.ends_with(&format!(", {attach}"))),
                "{what}: {stderr:?}"
            );
            assert_eq!(got, want, "{what}: {stderr:?}");
            if count_line(&dump_err, "dropped by kernel") == 0 {
                assert_eq!(got, shape(&theirs), "{what}: vs tcpdump");
            }
        }
    }
    assert_nothing_left(&net);
}

//! Differential test of `analyze::flows` against tshark 4.0: per conversation, packets and
//! bytes each way, start (relative to the first packet) and duration equal
//! `tshark -q -z conv,tcp` and `-z conv,udp`, and each packet's Community ID equals tshark's
//! `communityid` field. On real traffic between two network namespaces captured by real
//! tcpdump on one veth (TCP incl. a large transfer and a refused connection, UDP, ping), and
//! on the files in testdata/corpus.
//!
//! Needs tshark (and, for the namespace capture, root and tcpdump).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use analyze::flows::{community_id, FlowRecord, FlowTable, Observed};
use formats::meta::MetaReader;
use formats::pcapng::CaptureReader;
use ptcap_tests::netns::{TestHosts, ADDR6_B, ADDR_B};
use ptcap_tests::peers::require_tcpdump;
use ptcap_tests::TempDir;

/// TCP 8080: reads `N\n`, sends N bytes, closes. `C` first: waits for the client to close.
/// UDP 5353: echoes.
const SERVER: &str = r#"
import socket, sys, threading
fam = socket.AF_INET6
def serve(c):
    f = c.makefile("rb")
    line = f.readline().strip()
    if line.startswith(b"C"):
        c.sendall(b"x" * int(line[1:]))
        while c.recv(65536): pass
    else:
        c.sendall(b"y" * int(line))
    c.close()
def tcp():
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", 8080)); s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
def udp():
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    u.bind(("::", 5353))
    while True:
        d, a = u.recvfrom(65536)
        u.sendto(d * 2, a)
threading.Thread(target=tcp, daemon=True).start()
threading.Thread(target=udp, daemon=True).start()
threading.Event().wait()
"#;

// Every socket binds its own source port: left to the kernel, sequential connections (or the
// two UDP sockets) may reuse an ephemeral port, which folds two conversations into one for
// tshark and for us alike and makes the expected count wrong.
const CLIENT: &str = r#"
import socket, sys, time
host = sys.argv[1]
v6 = ":" in host
anyaddr = "::" if v6 else "0.0.0.0"
base = 43000 if v6 else 41000
def connect(port, sport):
    for _ in range(100):
        try:
            return socket.create_connection((host, port), timeout=3, source_address=(anyaddr, sport))
        except ConnectionRefusedError:
            if port != 8080: raise
            time.sleep(0.05)
    raise SystemExit("server not reachable")
for i, req in enumerate((b"100", b"5000", b"300000", b"C2000")):
    s = connect(8080, base + i)
    s.sendall(req + b"\n")
    got = 0
    while True:
        d = s.recv(65536)
        if not d: break
        got += len(d)
        if req.startswith(b"C") and got >= int(req[1:]): break
    s.close()
try:
    connect(8081, base + 5)
    raise SystemExit("8081 should refuse")
except ConnectionRefusedError:
    pass
for k, n in enumerate((3, 2)):
    u = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((anyaddr, base + 10 + k))
    u.settimeout(2)
    for i in range(n):
        u.sendto(b"q" * (10 + i * 100), (host, 5353))
        u.recvfrom(65536)
    u.close()
time.sleep(0.1)
"#;

fn tshark(args: &[&str], file: &Path) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .expect("tshark must be installed");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One row of tshark's conversation table, in our orientation-free form.
#[derive(Debug, Clone, PartialEq)]
struct Conv {
    a: String,
    b: String,
    frames_ab: u64,
    bytes_ab: Size,
    frames_ba: u64,
    bytes_ba: Size,
    /// Relative start in ns, duration in units of 100 µs (tshark prints 4 decimals).
    start_ns: u64,
    duration: String,
}

/// A size as tshark prints it: exact in `bytes`, else rounded to an SI unit.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Size {
    Exact(u64),
    Rounded(u64, u64),
}

impl Size {
    fn agrees(&self, ours: u64) -> bool {
        match *self {
            Size::Exact(v) => v == ours,
            // Within one unit of the printed value (tshark rounds to whole units).
            Size::Rounded(v, unit) => (ours as f64 / unit as f64 - v as f64).abs() <= 1.0,
        }
    }
}

fn size(n: &str, unit: &str) -> Size {
    let v: u64 = n
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("size {n}"));
    match unit {
        "bytes" => Size::Exact(v),
        "kB" => Size::Rounded(v, 1000),
        "MB" => Size::Rounded(v, 1_000_000),
        "GB" => Size::Rounded(v, 1_000_000_000),
        _ => panic!("unknown unit {unit}"),
    }
}

/// Exact bytes per (source endpoint, destination endpoint) from tshark's per-frame fields,
/// for TCP and UDP frames that are not ICMP errors.
fn frame_bytes(file: &Path) -> BTreeMap<(String, String), (u64, u64)> {
    let text = tshark(
        &[
            "-T",
            "fields",
            "-e",
            "frame.len",
            "-e",
            "ip.src",
            "-e",
            "ipv6.src",
            "-e",
            "ip.dst",
            "-e",
            "ipv6.dst",
            "-e",
            "tcp.srcport",
            "-e",
            "udp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "udp.dstport",
            "-e",
            "icmp.type",
            "-e",
            "icmpv6.type",
        ],
        file,
    );
    let mut m: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line
            .split('\t')
            .map(|v| v.split(',').next().unwrap())
            .collect();
        if f.len() < 11 || !f[9].is_empty() || !f[10].is_empty() {
            continue;
        }
        let pick = |a: &str, b: &str| {
            if a.is_empty() {
                b.to_string()
            } else {
                a.to_string()
            }
        };
        let (src, dst) = (pick(f[1], f[2]), pick(f[3], f[4]));
        let (sp, dp) = (pick(f[5], f[6]), pick(f[7], f[8]));
        if src.is_empty() || sp.is_empty() {
            continue;
        }
        let e = m
            .entry((format!("{src}:{sp}"), format!("{dst}:{dp}")))
            .or_default();
        e.0 += 1;
        e.1 += f[0].parse::<u64>().unwrap();
    }
    m
}

fn parse_conv(text: &str, proto: &str) -> Vec<Conv> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.ends_with("Conversations") {
            inside = line.starts_with(proto);
            continue;
        }
        if !inside || !line.contains("<->") {
            continue;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        // A <-> B  frames bytes unit  frames bytes unit  frames bytes unit  start  duration
        assert_eq!(t.len(), 14, "unexpected tshark row: {line}");
        let secs: f64 = t[12].parse().unwrap();
        out.push(Conv {
            a: t[0].to_string(),
            b: t[2].to_string(),
            frames_ba: t[3].parse().unwrap(),
            bytes_ba: size(t[4], t[5]),
            frames_ab: t[6].parse().unwrap(),
            bytes_ab: size(t[7], t[8]),
            start_ns: (secs * 1e9).round() as u64,
            duration: t[13].to_string(),
        });
    }
    out
}

/// tshark's address:port (no brackets for IPv6).
fn tshark_endpoint(e: &analyze::flows::Endpoint) -> String {
    format!("{}:{}", e.addr, e.port.unwrap_or(0))
}

struct Read {
    flows: Vec<FlowRecord>,
    first_ts: u64,
    cids: Vec<Option<String>>,
}

fn read_flows(file: &Path) -> Read {
    let bytes = std::fs::read(file).unwrap();
    let mut r = CaptureReader::new(&bytes).unwrap();
    let mut metas = MetaReader::new();
    let mut table = FlowTable::new();
    let mut first_ts = None;
    let mut cids = Vec::new();
    while let Ok(Some(p)) = r.next_packet() {
        let iface = r.interfaces()[p.interface as usize].clone();
        metas.learn_definitions(&p.options);
        let meta = metas.decode(&p.options);
        first_ts.get_or_insert(p.ts_ns);
        let obs = Observed {
            ts_ns: p.ts_ns,
            orig_len: p.orig_len,
            link_type: iface.link_type,
            data: p.data,
            interface: iface.name.as_deref(),
            direction: p.direction,
            meta: &meta,
        };
        let s = obs.summarize();
        cids.push(s.as_ref().map(|s| community_id(0, s)));
        table.observe_summary(&obs, s.as_ref());
    }
    Read {
        flows: table.finish(),
        first_ts: first_ts.unwrap_or(0),
        cids,
    }
}

/// Compares every TCP and UDP flow with tshark's table; returns the number of conversations
/// that agree (all must).
fn compare_with_tshark(file: &Path) -> usize {
    let text = tshark(&["-q", "-z", "conv,tcp", "-z", "conv,udp"], file);
    let read = read_flows(file);
    let exact = frame_bytes(file);
    let mut agreed = 0;
    for (proto, name) in [("TCP", "tcp"), ("UDP", "udp")] {
        let convs = parse_conv(&text, proto);
        let ours: Vec<&FlowRecord> = read.flows.iter().filter(|f| f.proto == name).collect();
        assert_eq!(
            ours.len(),
            convs.len(),
            "{}: {proto} conversations: ours {:#?}\ntshark {convs:#?}",
            file.display(),
            ours.iter()
                .map(|f| (f.initiator.to_string(), f.responder.to_string()))
                .collect::<Vec<_>>()
        );
        let mut by_pair: BTreeMap<(String, String), &FlowRecord> = BTreeMap::new();
        for f in &ours {
            by_pair.insert(
                (tshark_endpoint(&f.initiator), tshark_endpoint(&f.responder)),
                f,
            );
        }
        for c in &convs {
            // Orient tshark's row as ours: (frames, bytes) initiator->responder and back.
            let (f, fwd, back) = if let Some(f) = by_pair.get(&(c.a.clone(), c.b.clone())) {
                (f, (c.frames_ab, c.bytes_ab), (c.frames_ba, c.bytes_ba))
            } else if let Some(f) = by_pair.get(&(c.b.clone(), c.a.clone())) {
                (f, (c.frames_ba, c.bytes_ba), (c.frames_ab, c.bytes_ab))
            } else {
                panic!("{}: tshark's {c:?} is not among our flows", file.display());
            };
            assert_eq!(f.orig.packets, fwd.0, "{}: {c:?}", file.display());
            assert_eq!(f.resp.packets, back.0, "{}: {c:?}", file.display());
            assert!(
                fwd.1.agrees(f.orig.bytes),
                "{}: {c:?} {f:?}",
                file.display()
            );
            assert!(
                back.1.agrees(f.resp.bytes),
                "{}: {c:?} {f:?}",
                file.display()
            );
            // Exact bytes from tshark's frames, both ways.
            let (i, r) = (tshark_endpoint(&f.initiator), tshark_endpoint(&f.responder));
            let none = (0, 0);
            assert_eq!(
                *exact.get(&(i.clone(), r.clone())).unwrap_or(&none),
                (f.orig.packets, f.orig.bytes),
                "{}: {c:?}",
                file.display()
            );
            assert_eq!(
                *exact.get(&(r, i)).unwrap_or(&none),
                (f.resp.packets, f.resp.bytes),
                "{}: {c:?}",
                file.display()
            );
            assert_eq!(
                f.first_ts_ns - read.first_ts,
                c.start_ns,
                "{}: start of {c:?}",
                file.display()
            );
            // tshark prints the duration rounded to 4 decimals from its own nstime
            // arithmetic; a value on a rounding boundary may come out one unit apart from
            // Rust's formatting of the same nanoseconds (seen once in CI).
            let ours = f.duration_ns as f64 / 1e9;
            let theirs: f64 = c.duration.parse().unwrap();
            assert!(
                (ours - theirs).abs() <= 0.000_100_1,
                "{}: duration of {c:?}: ours {ours:.9}",
                file.display()
            );
            agreed += 1;
        }
    }
    agreed
}

/// Our per-packet Community ID equals tshark's (packets tshark gives one).
fn compare_community_ids(file: &Path) -> usize {
    let text = tshark(
        &[
            "--enable-protocol",
            "communityid",
            "-T",
            "fields",
            "-e",
            "communityid",
        ],
        file,
    );
    let theirs: Vec<&str> = text.lines().collect();
    let read = read_flows(file);
    assert_eq!(theirs.len(), read.cids.len(), "{}", file.display());
    let mut n = 0;
    for (i, (t, ours)) in theirs.iter().zip(&read.cids).enumerate() {
        if t.is_empty() {
            continue;
        }
        assert_eq!(
            ours.as_deref(),
            Some(*t),
            "{} packet {}",
            file.display(),
            i + 1
        );
        n += 1;
    }
    // Every flow's id is one of its packets' ids.
    for f in &read.flows {
        assert!(
            read.cids
                .iter()
                .any(|c| c.as_deref() == Some(&f.community_id)),
            "{}: flow id {}",
            file.display(),
            f.community_id
        );
    }
    n
}

/// Waits (at most 20 s) until tcpdump has written `n` ICMPv6 echo replies to `file` (an
/// Ethernet pcap written with -U: every complete record is in the file).
fn wait_for_icmpv6_replies(file: &Path, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let bytes = std::fs::read(file).unwrap_or_default();
        let mut replies = 0;
        if let Ok(mut r) = CaptureReader::new(&bytes) {
            while let Ok(Some(p)) = r.next_packet() {
                let d = p.data;
                if d.len() > 54 && d[12..14] == [0x86, 0xdd] && d[20] == 58 && d[54] == 129 {
                    replies += 1;
                }
            }
        }
        if replies >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}: {replies} of {n} ICMPv6 echo replies written after 20 s",
            file.display()
        );
        sleep(Duration::from_millis(50));
    }
}

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn corpus_conversations_and_ids_match_tshark() {
    let (mut convs, mut ids) = (0, 0);
    for f in corpus() {
        convs += compare_with_tshark(&f);
        ids += compare_community_ids(&f);
    }
    eprintln!("corpus: {convs} conversations and {ids} community ids agree with tshark");
    assert!(convs >= 8 && ids >= 50, "{convs} {ids}");
}

#[test]
fn namespace_traffic_matches_tshark() {
    require_tcpdump();
    let dir = TempDir::new("flows-tshark");
    let file = dir.path().join("veth.pcap");
    // Every attempt must agree with tshark conversation by conversation (compare_with_tshark
    // asserts that). tcpdump stopped by SIGTERM does not drain its kernel ring, so under load
    // the last packets were sometimes missing (2 in ~15 CI-like runs): the capture now ends
    // only once the file holds the last packet sent. A capture still short of conversations
    // is retried, at most three times in all, before the count is asserted.
    let mut convs = 0;
    for attempt in 1..=3 {
        {
            let mut hosts = TestHosts::new();
            let (ns_a, ns_b) = (hosts.ns_a.clone(), hosts.ns_b.clone());
            let veth = hosts.veth_a.clone();
            // -s 4096: see capture_reused_port (ring frames sized by the snap length).
            let dump =
                hosts.start_tcpdump(&ns_a, &file, &["-B", "16384", "-s", "4096", "-i", &veth]);
            let mut server = hosts.cmd(&ns_b, "python3");
            server.args(["-c", SERVER]);
            hosts.spawn(server);
            let run = |c: &mut Command| ptcap_tests::netns::run(c);
            // The client reconnects from the same source port while the server is not yet
            // listening: a refused attempt on the first connection's tuple, which tshark's
            // per-tuple frame sums would join to it. Start once the server listens.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !run(hosts.cmd(&ns_b, "ss").args(["-Hltn", "sport = :8080"])).contains("8080") {
                assert!(std::time::Instant::now() < deadline, "server not listening");
                sleep(Duration::from_millis(20));
            }
            run(hosts
                .cmd(&ns_a, "ping")
                .args(["-c", "3", "-i", "0.2", ADDR_B]));
            run(hosts.cmd(&ns_a, "python3").args(["-c", CLIENT, ADDR_B]));
            run(hosts.cmd(&ns_a, "python3").args(["-c", CLIENT, ADDR6_B]));
            run(hosts
                .cmd(&ns_a, "ping")
                .args(["-6", "-c", "2", "-i", "0.2", ADDR6_B]));
            wait_for_icmpv6_replies(&file, 2);
            hosts.stop(dump);
        }
        if let Some(keep) = std::env::var_os("PTCAP_KEEP_CAPTURES") {
            let _ = std::fs::create_dir_all(&keep);
            let _ = std::fs::copy(&file, PathBuf::from(&keep).join("flows-veth.pcap"));
        }
        convs = compare_with_tshark(&file);
        let ids = compare_community_ids(&file);
        eprintln!(
            "namespace capture: {convs} conversations and {ids} community ids agree with tshark"
        );
        // The refused connections' RSTs in the file too (once, in CI, tcpdump's file had a
        // refused SYN without its RST, for tshark as for us): a capture short of a packet is
        // taken again, as one short of conversations is.
        let refused_complete = read_flows(&file)
            .flows
            .iter()
            .filter(|f| f.proto == "tcp" && f.responder.port == Some(8081))
            .all(|f| f.resp.packets > 0);
        if convs == 2 * (5 + 2) && refused_complete {
            break;
        }
        eprintln!(
            "attempt {attempt}: {convs} conversations captured (expected 14), refused RSTs all captured: {refused_complete}; capturing again"
        );
    }
    // Per address family: 4 TCP connections + 1 refused, 2 UDP sockets.
    assert_eq!(convs, 2 * (5 + 2));

    let flows = read_flows(&file).flows;
    let tcp: Vec<&FlowRecord> = flows.iter().filter(|f| f.proto == "tcp").collect();
    let refused: Vec<_> = tcp
        .iter()
        .filter(|f| f.responder.port == Some(8081))
        .collect();
    assert_eq!(refused.len(), 2);
    for f in &refused {
        let t = f.tcp.as_ref().unwrap();
        assert_eq!((t.conn_state, t.history.as_str()), ("REJ", "Sr"), "{f:?}");
    }
    for f in tcp.iter().filter(|f| f.responder.port == Some(8080)) {
        let t = f.tcp.as_ref().unwrap();
        assert_eq!(t.conn_state, "SF", "{f:?}");
        assert!(t.history.starts_with("ShA"), "{}", t.history);
        assert!(t.handshake_rtt_ns.is_some());
        assert!(f.initiator.addr.to_string().ends_with("1"));
    }
    let pings: Vec<_> = flows.iter().filter(|f| f.icmp_echo_id.is_some()).collect();
    assert_eq!(pings.len(), 2, "{pings:#?}");
    assert_eq!((pings[0].orig.packets, pings[0].resp.packets), (3, 3));
    assert_eq!((pings[1].orig.packets, pings[1].resp.packets), (2, 2));
}

/// TCP 8080 on 198.18.0.2, one connection at a time: reads `F<n>` or `R<n>`, sends n bytes;
/// `F`: closes first (its FIN first; the TIME_WAIT is here, so the client may reconnect from
/// the same port at once); `R`: waits for the client's RST.
const REUSE_SERVER: &str = r#"
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.2", 8080)); s.listen(64)
while True:
    c, _ = s.accept()
    try:
        f = c.makefile("rb")
        line = f.readline().strip()
        c.sendall(b"z" * int(line[1:]))
        if line.startswith(b"R"):
            while c.recv(65536): pass
    except OSError:
        pass
    # The file object holds the socket open: close both.
    f.close()
    c.close()
"#;

/// N connections to HOST:8080, all from source port 41234 (SO_REUSEADDR): even ones closed by
/// the client's RST (SO_LINGER 0), odd ones with FINs (the server's first). Then one UDP
/// datagram to port 9999 marks the end.
const REUSE_CLIENT: &str = r#"
import errno, socket, struct, sys, time
host, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    rst = i % 2 == 0
    for attempt in range(500):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(10)
        s.bind(("0.0.0.0", 41234))
        try:
            s.connect((host, 8080))
            break
        except OSError as e:
            s.close()
            # The previous connection on the tuple is not gone yet (LAST_ACK).
            if e.errno not in (errno.EADDRNOTAVAIL, errno.EADDRINUSE):
                raise
            time.sleep(0.002)
    else:
        raise SystemExit("cannot reconnect from port 41234")
    want = 100 + (i * 37) % 900
    s.sendall(b"%s%d\n" % (b"R" if rst else b"F", want))
    got = 0
    while got < want:
        d = s.recv(65536)
        if not d: raise SystemExit("short answer")
        got += len(d)
    if rst:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        while s.recv(65536): pass
    s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"end", (host, 9999))
"#;

/// Waits (at most 60 s) until `file` holds a UDP datagram to port 9999 (Ethernet, IPv4).
fn wait_for_end_marker(file: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let bytes = std::fs::read(file).unwrap_or_default();
        if let Ok(mut r) = CaptureReader::new(&bytes) {
            while let Ok(Some(p)) = r.next_packet() {
                let d = p.data;
                if d.len() >= 42 && d[12..14] == [8, 0] && d[23] == 17 && d[36..38] == [0x27, 0x0f]
                {
                    return;
                }
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}: no end marker after 60 s",
            file.display()
        );
        sleep(Duration::from_millis(100));
    }
}

/// Per tshark `tcp.stream`, in stream order: (packets, bytes) sent by each endpoint
/// (`addr:port`).
fn tshark_streams(file: &Path) -> Vec<BTreeMap<String, (u64, u64)>> {
    let text = tshark(
        &[
            "-Y",
            "tcp",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "ip.src",
            "-e",
            "tcp.srcport",
            "-e",
            "frame.len",
        ],
        file,
    );
    let mut streams: Vec<BTreeMap<String, (u64, u64)>> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 4, "{line}");
        let i: usize = f[0].parse().unwrap();
        if streams.len() <= i {
            assert_eq!(
                streams.len(),
                i,
                "tshark numbers streams in first-packet order"
            );
            streams.push(BTreeMap::new());
        }
        let e = streams[i].entry(format!("{}:{}", f[1], f[2])).or_default();
        e.0 += 1;
        e.1 += f[3].parse::<u64>().unwrap();
    }
    streams
}

fn ptanalyze_out(args: &[&str], file: &Path) -> Vec<u8> {
    let out = Command::new(ptcap_tests::ptanalyze_bin())
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ptanalyze {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// 2000 connections between two namespaces from one source port to one server port (one
/// 5-tuple), half closed by RST and half by FIN, every 400th SYN dropped by the server's
/// firewall (so the client retransmits it), captured by real tcpdump: `ptanalyze --flows
/// --json` has exactly tshark's `tcp.stream`s, each with tshark's packets and bytes each way,
/// in the same order, for one thread and for two threads with small chunks.
#[test]
fn reused_source_port_flows_match_tshark_streams() {
    require_tcpdump();
    let dir = TempDir::new("flows-reuse");
    let file = dir.path().join("reuse.pcap");
    // Every attempt must agree with tshark stream by stream. tcpdump may lose a packet on
    // this loaded 2-core machine (a lost SYN joins two connections, for tshark and for us
    // alike): a capture short of connections is made again, three times at most, before
    // the count is asserted.
    let mut streams = (0, false);
    for attempt in 1..=3 {
        capture_reused_port(&file);
        if let Some(keep) = std::env::var_os("PTCAP_KEEP_CAPTURES") {
            let _ = std::fs::create_dir_all(&keep);
            let _ = std::fs::copy(&file, PathBuf::from(&keep).join("flows-reuse.pcap"));
        }
        streams = compare_reused_port(&file);
        if streams == (REUSE_N, true) {
            break;
        }
        eprintln!(
            "attempt {attempt}: {} streams of {REUSE_N} connections (states as sent: {}); \
             capturing again",
            streams.0, streams.1
        );
    }
    assert_eq!(streams, (REUSE_N, true), "(streams, states as sent)");
}

const REUSE_N: usize = 2000;

/// The capture of [`reused_source_port_flows_match_tshark_streams`].
fn capture_reused_port(file: &Path) {
    const N: usize = REUSE_N;
    {
        let mut hosts = TestHosts::new();
        let (ns_a, ns_b) = (hosts.ns_a.clone(), hosts.ns_b.clone());
        let veth = hosts.veth_a.clone();
        let run = |c: &mut Command| ptcap_tests::netns::run(c);
        run(hosts.cmd(&ns_b, "iptables").args([
            "-A",
            "INPUT",
            "-p",
            "tcp",
            "--dport",
            "8080",
            "--syn",
            "-m",
            "statistic",
            "--mode",
            "nth",
            "--every",
            "400",
            "--packet",
            "7",
            "-j",
            "DROP",
        ]));
        let mut server = hosts.cmd(&ns_b, "python3");
        server.args(["-c", REUSE_SERVER]);
        hosts.spawn(server);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !run(hosts.cmd(&ns_b, "ss").args(["-Hltn", "sport = :8080"])).contains("8080") {
            assert!(std::time::Instant::now() < deadline, "server not listening");
            sleep(Duration::from_millis(20));
        }
        // -s 4096: in immediate mode libpcap sizes each ring frame by the snap length (256 KiB
        // by default on a veth with offloads), so 16 MiB held only 64 packets and tcpdump
        // lost SYNs when the machine was loaded; 4 KiB frames hold every packet of this
        // test whole (frame.len, the wire length, is what is compared).
        let dump = hosts.start_tcpdump(&ns_a, file, &["-B", "16384", "-s", "4096", "-i", &veth]);
        run(hosts
            .cmd(&ns_a, "python3")
            .args(["-c", REUSE_CLIENT, ADDR_B, &N.to_string()]));
        wait_for_end_marker(file);
        hosts.stop(dump);
    }
}

/// Asserts that ours and tshark's agree stream by stream on `file`; the number of streams,
/// and whether the connections' states are those sent (none lost a packet).
fn compare_reused_port(file: &Path) -> (usize, bool) {
    const N: usize = REUSE_N;
    let file = file.to_path_buf();
    let streams = tshark_streams(&file);
    let one = ptanalyze_out(&["--flows", "--json"], &file);
    let two = ptanalyze_out(
        &["-j", "2", "--chunk-size", "4096", "--flows", "--json"],
        &file,
    );
    assert!(one == two, "-j 2 with 4 KiB chunks differs from -j 1");
    let ours: Vec<serde_json::Value> = String::from_utf8(one)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["proto"] == "tcp")
        .collect();
    let syns = tshark(
        &[
            "-Y",
            "tcp.flags.syn == 1 && tcp.flags.ack == 0",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        &file,
    )
    .lines()
    .count();
    eprintln!(
        "reused port: {N} connections, {} tshark streams, {} flows, {syns} SYNs",
        streams.len(),
        ours.len()
    );
    assert_eq!(ours.len(), streams.len());
    assert!(
        syns > streams.len(),
        "no SYN was retransmitted ({syns} SYNs)"
    );
    let ep = |v: &serde_json::Value| {
        format!(
            "{}:{}",
            v["addr"].as_str().unwrap(),
            v["port"].as_u64().unwrap()
        )
    };
    let side =
        |v: &serde_json::Value| (v["packets"].as_u64().unwrap(), v["bytes"].as_u64().unwrap());
    let cid = ours[0]["community_id"].clone();
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for (i, (f, s)) in ours.iter().zip(&streams).enumerate() {
        let none = (0, 0);
        let (init, resp) = (ep(&f["initiator"]), ep(&f["responder"]));
        assert_eq!(
            (s.get(&init).unwrap_or(&none), s.get(&resp).unwrap_or(&none)),
            (&side(&f["orig"]), &side(&f["resp"])),
            "stream {i}: tshark {s:?}, ours {f}"
        );
        assert_eq!(
            s.len(),
            1 + usize::from(side(&f["resp"]).0 > 0),
            "stream {i}: {s:?}"
        );
        assert_eq!(f["reuse"], i as u64, "{f}");
        assert_eq!(f["community_id"], cid);
        assert_eq!(init, "198.18.0.1:41234");
        *states
            .entry(f["tcp"]["conn_state"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    eprintln!("reused port: states {states:?}");
    // Half the connections are refused, half complete: with every packet captured that is
    // what the states say. tcpdump may also lose a packet that is no SYN (a SYN-ACK: that
    // connection is then SH for tshark's packets and ours alike): the caller captures again.
    let states_as_sent = states.get("RSTO") == Some(&(N / 2)) && states.get("SF") == Some(&(N / 2));
    // tshark 4.0's conversation table follows its streams (a new conversation at each SYN of
    // a new ISN), so it has a row per connection too.
    let conv = tshark(&["-q", "-z", "conv,tcp"], &file);
    assert_eq!(parse_conv(&conv, "TCP").len(), streams.len());
    (streams.len(), states_as_sent)
}

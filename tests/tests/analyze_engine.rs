//! ptanalyze's engine end to end: owner filters against files with known owners, the
//! expression against tcpdump's own filtering, -w output read by tshark, tcpdump and our reader,
//! rotated files and stdin read as one capture, chunked parallel reading equal to sequential,
//! and damaged inputs.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use formats::meta::{ContainerInfo, MetaReader, PacketMeta, PodInfo, ProcessInfo, Provenance};
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{linktype, CaptureReader, Direction};
use ptcap_tests::{ptanalyze_bin, udp_frame, TempDir};

/// A UDP/IPv4 Ethernet frame 198.18.0.1:sport -> 198.18.0.2:dport with `extra` payload bytes.
fn frame(sport: u16, dport: u16, extra: usize) -> Vec<u8> {
    udp_frame(sport, dport, &vec![0x61u8; 8 + extra])
}

struct Owners {
    web: PacketMeta,
    db: PacketMeta,
}

fn owners() -> Owners {
    let web_c = Arc::new(ContainerInfo {
        id: "0123abcd9999".into(),
        name: "web1".into(),
        image: "busybox:test".into(),
        runtime: "containerd".into(),
        namespace: "k8s.io".into(),
        ..Default::default()
    });
    let db_c = Arc::new(ContainerInfo {
        id: "0456ffff0000".into(),
        name: "db1".into(),
        runtime: "docker".into(),
        ..Default::default()
    });
    let pod = Arc::new(PodInfo {
        name: "web-0".into(),
        namespace: "prod".into(),
        uid: "u-1".into(),
        ..Default::default()
    });
    let curl = Arc::new(ProcessInfo {
        pid: 100,
        comm: "curl".into(),
        exe: "/usr/bin/curl".into(),
        argv: vec!["curl".into(), "http://198.18.0.2/".into()],
        uid: Some(1000),
        gid: Some(1000),
    });
    let pg = Arc::new(ProcessInfo {
        pid: 200,
        comm: "postgres: wal".into(),
        exe: "/usr/lib/postgresql/bin/postgres".into(),
        argv: vec!["postgres".into()],
        uid: Some(0),
        gid: Some(0),
    });
    Owners {
        web: PacketMeta {
            process: Some(curl),
            container: Some(web_c),
            pod: Some(pod),
            thread: Some(std::sync::Arc::new(formats::meta::ThreadInfo {
                tid: 101,
                name: String::new(),
            })),
            provenance: Provenance::SocketCookie,
            ..Default::default()
        },
        db: PacketMeta {
            process: Some(pg),
            container: Some(db_c),
            provenance: Provenance::Tuple,
            ..Default::default()
        },
    }
}

/// Packet i's owner: 0 web (port 80), 1 db (port 5432), 2 none (port 53).
fn kind(i: u64) -> u64 {
    (i * 7 + i / 3) % 3
}

/// Writes `n` packets starting at packet `from`, 1 ms apart from `t0_ns`.
fn write_capture(path: &Path, from: u64, n: u64, t0_ns: u64) {
    let o = owners();
    let f = std::fs::File::create(path).unwrap();
    let mut w =
        PcapngWriter::new(std::io::BufWriter::new(f), WriterConfig::new("test", "0")).unwrap();
    let iface = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
        .unwrap();
    let none = PacketMeta::default();
    for i in from..from + n {
        let (meta, port) = match kind(i) {
            0 => (&o.web, 80),
            1 => (&o.db, 5432),
            _ => (&none, 53),
        };
        let data = frame(40000 + (i % 500) as u16, port, (i % 300) as usize);
        let dir = if i % 2 == 0 {
            Direction::Out
        } else {
            Direction::In
        };
        w.write_packet(
            iface,
            t0_ns + i * 1_000_000,
            data.len() as u32,
            &data,
            Some(dir),
            meta,
        )
        .unwrap();
    }
    w.finish().unwrap().flush().unwrap();
}

fn ptanalyze(args: &[&str]) -> Output {
    Command::new(ptanalyze_bin())
        .args(args)
        .output()
        .expect("run ptanalyze")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Packet lines of `--json` output (the summary line excluded).
fn json_packets(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"packet\""))
        .map(str::to_string)
        .collect()
}

/// The number after `"key":` in a JSON line.
fn json_u64(line: &str, key: &str) -> u64 {
    let at = line.find(&format!("\"{key}\":")).expect(key) + key.len() + 3;
    line[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

fn count_packets(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let mut r = CaptureReader::new(&bytes).unwrap();
    let mut n = 0;
    while r.next_packet().unwrap().is_some() {
        n += 1;
    }
    n
}

/// (ts, pid, container name, pod name) of one packet.
type Owner = (u64, Option<u32>, Option<String>, Option<String>);

/// The [`Owner`] of every packet, via our reader.
fn owners_of(path: &Path) -> Vec<Owner> {
    let bytes = std::fs::read(path).unwrap();
    let mut r = CaptureReader::new(&bytes).unwrap();
    let mut m = MetaReader::new();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        let meta = m.decode(&p.options);
        out.push((
            p.ts_ns,
            meta.process.as_ref().map(|p| p.pid),
            meta.container.as_ref().map(|c| c.name.clone()),
            meta.pod.as_ref().map(|p| p.name.clone()),
        ));
    }
    out
}

const N: u64 = 3000;

fn expected(k: u64) -> usize {
    (0..N).filter(|&i| kind(i) == k).count()
}

#[test]
fn owner_filters_select_known_owners() {
    let dir = TempDir::new("engine-owners");
    let f = dir.path().join("owners.pcapng");
    write_capture(&f, 0, N, 1_700_000_000_000_000_000);
    let (web, db, none) = (expected(0), expected(1), expected(2));
    let cases: Vec<(Vec<&str>, usize)> = vec![
        (vec![], N as usize),
        (vec!["--container-name", "web1"], web),
        (
            vec!["--container-name", "web1", "--container-name", "db1"],
            web + db,
        ),
        (vec!["--container-id", "0123ab"], web),
        (vec!["--container-id", "04"], db),
        (vec!["--pod-name", "web-0.prod"], web),
        (vec!["--pod-name", "web-0.staging"], 0),
        (vec!["--pod-name", "web-0"], web),
        (vec!["--pid", "100"], web),
        (vec!["--pid", "100", "--pid", "200"], web + db),
        (vec!["--pname", "curl"], web),
        (vec!["--pname", "postgres"], db),
        (vec!["--uid", "0"], db),
        (vec!["--unattributed"], none),
        (vec!["--pid", "100", "--container-name", "db1"], 0),
        (vec!["--pid", "4242"], 0),
    ];
    for (args, want) in cases {
        let mut a = vec!["--json", "--chunk-size", "8192"];
        a.extend(&args);
        a.push(s(&f));
        let out = ptanalyze(&a);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pkts = json_packets(&out);
        assert_eq!(pkts.len(), want, "{args:?}");
        if args.first() == Some(&"--container-name") && args.len() == 2 {
            assert!(pkts.iter().all(|p| p.contains("\"name\":\"web1\"")));
            assert!(pkts.iter().all(|p| p.contains("\"pid\":100")));
        }
    }
    // An owner filter with an expression: AND.
    for (port, want) in [("80", web), ("53", 0)] {
        let out = ptanalyze(&[
            "--json",
            "--container-name",
            "web1",
            s(&f),
            "udp",
            "port",
            port,
        ]);
        assert_eq!(json_packets(&out).len(), want, "udp port {port}");
        assert_eq!(out.status.code(), Some(0));
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[test]
fn expression_selects_what_tcpdump_selects() {
    assert!(
        have("tcpdump"),
        "tcpdump is required (scripts/setup.sh installs it)"
    );
    let dir = TempDir::new("engine-expr");
    let ours = dir.path().join("ours.pcapng");
    write_capture(&ours, 0, 1200, 1_700_000_000_000_000_000);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus");
    let files: Vec<PathBuf> = vec![
        corpus.join("real-eth.pcap"),
        corpus.join("real-sll2.pcap"),
        corpus.join("sll2-be.pcapng"),
        ours.clone(),
    ];
    let exprs = [
        "tcp",
        "udp",
        "port 53",
        "udp dst port 80 or udp dst port 5432",
        "host 198.18.0.1 and not port 53",
        "tcp[tcpflags] & tcp-syn != 0",
        "greater 150",
        "less 100",
        "ip6",
        "icmp or arp",
        "net 10.0.0.0/8",
        "udp[8:2] = 0x6161",
    ];
    let mut compared = 0;
    for f in &files {
        for e in exprs {
            let theirs = dir.path().join("tcpdump.pcap");
            let t = Command::new("tcpdump")
                .args(["-r", s(f), "-w", s(&theirs), e])
                .output()
                .unwrap();
            if !t.status.success() {
                continue; // libpcap cannot apply it to this link type
            }
            let mine = dir.path().join("mine.pcapng");
            let mut args = vec!["-w", s(&mine), "--chunk-size", "4096", s(f)];
            args.extend(e.split(' '));
            let out = ptanalyze(&args);
            assert!(
                out.status.success(),
                "{f:?} {e}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                count_packets(&mine),
                count_packets(&theirs),
                "{} [{e}]",
                f.display()
            );
            compared += 1;
        }
    }
    assert!(compared >= 30, "only {compared} comparisons ran");

    // A bad expression: libpcap's message on one line, exit 2, nothing on stdout.
    let out = ptanalyze(&[s(&ours), "host", "and", "and"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("syntax error"), "{err}");
    assert!(out.stdout.is_empty());
    // `--` separates the expression explicitly.
    let out = ptanalyze(&["--json", s(&ours), "--", "udp", "port", "53"]);
    assert_eq!(
        json_packets(&out).len(),
        (0..1200).filter(|&i| kind(i) == 2).count()
    );
}

#[test]
fn written_output_opens_in_tshark_and_tcpdump_and_keeps_metadata() {
    let dir = TempDir::new("engine-write");
    let f = dir.path().join("in.pcapng");
    write_capture(&f, 0, 600, 1_700_000_000_000_000_000);
    let out_path = dir.path().join("web1.pcapng");
    let out = ptanalyze(&["--container-name", "web1", "-w", s(&out_path), s(&f)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    // Our reader: the same owners as the input's web1 packets, in order.
    let want: Vec<_> = owners_of(&f)
        .into_iter()
        .filter(|o| o.2.as_deref() == Some("web1"))
        .collect();
    assert_eq!(owners_of(&out_path), want);
    // Metadata identical in full, not only the keys above.
    let full = |p: &Path| {
        let bytes = std::fs::read(p).unwrap();
        let mut r = CaptureReader::new(&bytes).unwrap();
        let mut m = MetaReader::new();
        let mut v = Vec::new();
        while let Some(p) = r.next_packet().unwrap() {
            let meta = m.decode(&p.options);
            if meta.container.as_ref().is_some_and(|c| c.name == "web1") {
                v.push((p.data.to_vec(), p.direction, meta));
            }
        }
        v
    };
    assert_eq!(full(&out_path), full(&f));

    if have("tshark") {
        let t = Command::new("tshark")
            .args(["-r", s(&out_path), "-T", "fields", "-e", "frame.comment"])
            .output()
            .unwrap();
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
        let text = String::from_utf8_lossy(&t.stdout);
        assert_eq!(text.lines().count(), want.len());
        assert!(
            text.lines()
                .all(|l| l.contains("PID: 100") && l.contains("web1")),
            "{text}"
        );
    }
    if have("tcpdump") {
        let t = Command::new("tcpdump")
            .args(["-nn", "-r", s(&out_path)])
            .output()
            .unwrap();
        assert!(t.status.success());
        assert_eq!(
            String::from_utf8_lossy(&t.stdout).lines().count(),
            want.len()
        );
    }
    // Short comments and none.
    for (mode, needle) in [("short", true), ("none", false)] {
        let o = dir.path().join(format!("{mode}.pcapng"));
        let out = ptanalyze(&["--comments", mode, "--pid", "100", "-w", s(&o), s(&f)]);
        assert!(out.status.success());
        let bytes = std::fs::read(&o).unwrap();
        let has_comment = bytes.windows(4).any(|w| w == b"curl");
        assert!(
            has_comment || !needle,
            "comment text expected in {}",
            o.display()
        );
        assert_eq!(owners_of(&o), want);
    }
}

#[test]
fn rotated_files_and_stdin_read_as_one_capture() {
    let dir = TempDir::new("engine-rotated");
    let whole = dir.path().join("whole.pcapng");
    write_capture(&whole, 0, 900, 1_700_000_000_000_000_000);
    let parts: Vec<PathBuf> = (0..3)
        .map(|k| {
            let p = dir.path().join(format!("part{k}.pcapng"));
            write_capture(&p, k * 300, 300, 1_700_000_000_000_000_000);
            p
        })
        .collect();
    let one = ptanalyze(&["-v", s(&whole)]);
    assert!(one.status.success());
    // Given out of order, the parts still list as the whole file does.
    let three = ptanalyze(&["-v", s(&parts[2]), s(&parts[0]), s(&parts[1])]);
    assert!(
        three.status.success(),
        "{}",
        String::from_utf8_lossy(&three.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&three.stdout),
        String::from_utf8_lossy(&one.stdout)
    );
    // Overlapping files interleave by timestamp.
    let a = dir.path().join("a.pcapng");
    let b = dir.path().join("b.pcapng");
    write_capture(&a, 0, 100, 1_700_000_000_000_000_000);
    write_capture(&b, 0, 100, 1_700_000_000_000_500_000);
    let out = ptanalyze(&["--json", s(&a), s(&b)]);
    let ts: Vec<u64> = json_packets(&out)
        .iter()
        .map(|p| json_u64(p, "ts_ns"))
        .collect();
    assert_eq!(ts.len(), 200);
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));

    // Standard input.
    let mut child = Command::new(ptanalyze_bin())
        .args(["-v", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(&whole).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, one.stdout);
}

#[test]
fn parallel_result_equals_sequential() {
    let dir = TempDir::new("engine-parallel");
    let f = dir.path().join("big.pcapng");
    write_capture(&f, 0, 20000, 1_700_000_000_000_000_000);
    let run = |j: &str, chunk: &str, extra: &[&str], w: Option<&Path>| {
        let mut a = vec!["-j", j, "--chunk-size", chunk];
        a.extend(extra);
        let wp;
        if let Some(w) = w {
            wp = s(w).to_string();
            a.push("-w");
            a.push(&wp);
        }
        a.push(s(&f));
        let out = ptanalyze(&a);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    // --flows with a UDP timeout shorter than the gaps of some keys (their packets come 0.5 s
    // apart and more): flows end and begin inside chunks and at their boundaries.
    let short = ["--flows", "--json", "--flow-timeout", "udp=0.7"];
    let n_flows = |extra: &[&str]| {
        run("1", "1000000000", extra, None)
            .split(|b| *b == b'\n')
            .count()
    };
    assert!(n_flows(&short) > n_flows(&["--flows", "--json"]));
    for extra in [
        &["-v"][..],
        &["--json"][..],
        &["--pname", "curl", "-S"][..],
        &["--flows"][..],
        &short[..],
    ] {
        let seq = run("1", "1000000000", extra, None);
        for (j, chunk) in [("1", "65536"), ("2", "65536"), ("2", "5000"), ("4", "777")] {
            assert!(
                run(j, chunk, extra, None) == seq,
                "-j {j} chunk {chunk} {extra:?}"
            );
        }
    }
    let w1 = dir.path().join("w1.pcapng");
    let w2 = dir.path().join("w2.pcapng");
    run("1", "1000000000", &["--container-name", "db1"], Some(&w1));
    run("2", "8192", &["--container-name", "db1"], Some(&w2));
    assert_eq!(std::fs::read(&w1).unwrap(), std::fs::read(&w2).unwrap());
    // Every packet, many small chunks and more threads than cores (segments encoded by pool
    // tasks, written in order), and an early stop with segments still in flight.
    for extra in [&[][..], &["-c", "1234"][..]] {
        run("1", "1000000000", extra, Some(&w1));
        run("4", "777", extra, Some(&w2));
        let (a, b) = (std::fs::read(&w1).unwrap(), std::fs::read(&w2).unwrap());
        assert!(a == b, "-w {extra:?}: -j 4 wrote other bytes than -j 1");
        let expected = if extra.is_empty() { 20000 } else { 1234 };
        assert_eq!(count_packets(&w2), expected, "{extra:?}");
    }
}

#[test]
fn damaged_input_reports_everything_before_the_damage() {
    let dir = TempDir::new("engine-damage");
    let f = dir.path().join("in.pcapng");
    write_capture(&f, 0, 2000, 1_700_000_000_000_000_000);
    let bytes = std::fs::read(&f).unwrap();
    // Offsets of all packets.
    let mut r = CaptureReader::new(&bytes).unwrap();
    let mut offsets = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        offsets.push(p.offset as usize);
    }
    // Damage packet 1500's trailer.
    let mut damaged = bytes.clone();
    let at = offsets[1500];
    let total = u32::from_le_bytes(damaged[at + 4..at + 8].try_into().unwrap()) as usize;
    damaged[at + total - 4] ^= 0x40;
    let d = dir.path().join("damaged.pcapng");
    std::fs::write(&d, &damaged).unwrap();
    // Truncated inside packet 1700.
    let t = dir.path().join("cut.pcapng");
    std::fs::write(&t, &bytes[..offsets[1700] + 20]).unwrap();
    for (path, good, off) in [(&d, 1500usize, offsets[1500]), (&t, 1700, offsets[1700])] {
        for chunk in ["1000000000", "4096"] {
            let out = ptanalyze(&["--json", "--chunk-size", chunk, s(path)]);
            assert_eq!(out.status.code(), Some(1));
            assert_eq!(json_packets(&out).len(), good, "{path:?} chunk {chunk}");
            let text = String::from_utf8_lossy(&out.stdout);
            let last = text.lines().last().unwrap();
            assert!(last.starts_with("{\"type\":\"summary\""), "{last}");
            assert!(last.contains("\"incomplete\":true"), "{last}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(
                err.starts_with(&format!("ptanalyze: {}: byte offset {off}: ", s(path))),
                "{err}"
            );
        }
    }
}

#[test]
fn two_threads_against_one() {
    // Timing is reported, not asserted (debug builds, shared CI cores); bench/analyze.sh
    // measures the release build on the benchmark capture.
    let dir = TempDir::new("engine-speed");
    let f = dir.path().join("speed.pcapng");
    write_capture(&f, 0, 60000, 1_700_000_000_000_000_000);
    let mut times = BTreeMap::new();
    for j in ["1", "2"] {
        let start = std::time::Instant::now();
        let out = ptanalyze(&[
            "-j",
            j,
            "--chunk-size",
            "262144",
            "--container-name",
            "web1",
            "-w",
            "/dev/null",
            s(&f),
        ]);
        assert!(out.status.success());
        times.insert(j, start.elapsed().as_secs_f64());
    }
    eprintln!(
        "-j 1: {:.3} s, -j 2: {:.3} s, speed-up {:.2}x",
        times["1"],
        times["2"],
        times["1"] / times["2"]
    );
}

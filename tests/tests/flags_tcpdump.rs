//! The tcpdump flags that print something, end to end against real tcpdump 4.99 on real
//! captures: tcpdump itself captures Ethernet (a veth), `-i any` (SLL2) and `-i any -y
//! LINUX_SLL` (SLL) in a test namespace while ping, UDP and a refused TCP connection run;
//! tcpdump, `ptanalyze` and `ptcap -r` then print each file with `-e` (and -v, -q, -xx, -XX,
//! -#, -tttt), `--count`, `-F`, `--nano`, and must print the same bytes. Live: `ptcap -e`
//! against tcpdump -e on ptcap's own file, `-w x.pcap` (classic pcap, said once), `-D` and
//! `-i N` as tcpdump numbers interfaces, and the container runtime lines.
//!
//! Test hosts are network namespaces joined by a veth pair in 198.18.0.0/15 (removed, with the
//! processes started, by the pair's guard).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use ptcap_tests::pair::{NamespacePair, Running};
use ptcap_tests::peers::{compare_lines, require_tcpdump};
use ptcap_tests::{ptanalyze_bin, ptcap_bin, TempDir};

static SERIAL: Mutex<()> = Mutex::new(());

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/corpus")
        .join(name)
}

/// Traffic from A to B: ARP (a fresh neighbour), 3 pings, 2 UDP datagrams, a TCP SYN refused
/// with a RST.
fn traffic(net: &NamespacePair) {
    net.run_in(
        &net.a,
        &["ping", "-c", "3", "-i", "0.1", "-W", "2", &net.ip_b()],
    );
    let py = format!(
        "import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         for i in range(2): s.sendto(b'flags'*(i+1), ('{b}', 7777))\n\
         try:\n    socket.create_connection(('{b}', 7), timeout=2)\nexcept OSError:\n    pass\n",
        b = net.ip_b()
    );
    net.run_in(&net.a, &["python3", "-c", &py]);
}

/// tcpdump's own captures of the same traffic in B: Ethernet on vb, SLL2 and SLL on any.
fn tcpdump_captures(net: &mut NamespacePair, dir: &Path) -> Vec<PathBuf> {
    let b = net.b.clone();
    let files: Vec<(PathBuf, Vec<&str>)> = vec![
        (dir.join("eth.pcap"), vec!["-i", "vb"]),
        (dir.join("sll2.pcap"), vec!["-i", "any"]),
        (dir.join("sll.pcap"), vec!["-i", "any", "-y", "LINUX_SLL"]),
    ];
    let mut running = Vec::new();
    for (f, iface) in &files {
        // Immediate mode: without it, packets of a TPACKET_V3 block not yet handed over when
        // SIGINT comes are lost.
        let mut args = vec![
            "tcpdump",
            "--immediate-mode",
            "-U",
            "-w",
            f.to_str().unwrap(),
        ];
        args.extend(iface);
        args.extend([
            "icmp", "or", "arp", "or", "udp", "port", "7777", "or", "tcp", "port", "7",
        ]);
        running.push(Running::start_until(
            net,
            &b,
            &args,
            Stdio::null(),
            "listening on",
        ));
    }
    traffic(net);
    std::thread::sleep(std::time::Duration::from_millis(300));
    for r in running {
        let (code, _, err) = r.finish(Some("-INT"));
        assert_eq!(code, 0, "tcpdump: {err:?}");
    }
    files.into_iter().map(|(f, _)| f).collect()
}

/// A classic pcap of frames tcpdump decodes in its own ways: 802.1Q and QinQ tags (with PCP
/// and DEI), an ethertype nobody knows, ARP behind a tag.
fn vlan_file(path: &Path) {
    fn ip_icmp() -> Vec<u8> {
        let icmp = [8u8, 0, 0, 0, 0x12, 0x34, 0, 1, b'a', b'b', b'c', b'd'];
        let tot = (20 + icmp.len()) as u16;
        let mut ip = vec![
            0x45,
            0,
            (tot >> 8) as u8,
            tot as u8,
            0,
            1,
            0x40,
            0,
            64,
            1,
            0,
            0,
        ];
        ip.extend([198, 18, 0, 1, 198, 18, 0, 2]);
        let mut sum: u32 = ip
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        ip.extend(icmp);
        ip
    }
    let eth = [2u8, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    let tag = |tpid: u16, tci: u16| [tpid.to_be_bytes(), tci.to_be_bytes()].concat();
    let mut frames: Vec<Vec<u8>> = Vec::new();
    frames.push([&eth[..], &tag(0x8100, (3 << 13) | 100), &[8, 0], &ip_icmp()].concat());
    frames.push(
        [
            &eth[..],
            &tag(0x88a8, 200),
            &tag(0x8100, (1 << 12) | 5),
            &[8, 0],
            &ip_icmp(),
        ]
        .concat(),
    );
    frames.push([&eth[..], &[0x88, 0xb5], &[0u8; 46][..]].concat());
    let arp = [
        0u8, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0, 2,
    ];
    frames.push([&eth[..], &tag(0x8100, 7), &[8, 6], &arp[..]].concat());
    let mut out = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        out.extend(v.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        for v in [1_700_000_000 + i as u32, 0, f.len() as u32, f.len() as u32] {
            out.extend(v.to_le_bytes());
        }
        out.extend(f);
    }
    std::fs::write(path, out).unwrap();
}

/// `program args... -r file`, TZ=UTC: (exit code, stdout).
fn run(program: &Path, args: &[&str], file: &Path) -> (i32, String, String) {
    // tcpdump resolves names without -n; ours never do.
    let out = Command::new(program)
        .env("TZ", "UTC")
        .arg("-nn")
        .args(args)
        .arg("-r")
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn listing_flags_print_what_tcpdump_prints_on_ethernet_sll_and_sll2() {
    require_tcpdump();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("flags", "e", 61);
    net.link();
    let dir = net.dir("e");
    let mut files = tcpdump_captures(&mut net, &dir);
    files.push(corpus("real-eth.pcap"));
    let vlan = dir.join("vlan.pcap");
    vlan_file(&vlan);
    files.push(vlan);
    files.push(corpus("real-sll2.pcap"));
    let filter = dir.join("filter.txt");
    std::fs::write(&filter, "icmp  # echo only\n  or udp port 7777\n").unwrap();
    let f = filter.to_str().unwrap();
    let sets: Vec<Vec<&str>> = vec![
        vec!["-nn", "-e"],
        vec!["-e", "-v"],
        vec!["-e", "-q"],
        vec!["-e", "-xx"],
        vec!["-e", "-XX"],
        vec!["-e", "-x"],
        vec!["-e", "-A"],
        vec!["-X"],
        vec!["-q"],
        vec!["-#"],
        vec!["-e", "-#", "-tttt"],
        vec!["-e", "--nano", "-tt"],
        vec!["--time-stamp-precision", "nano"],
        vec!["--micro", "-n"],
        vec!["-e", "-c", "3"],
        vec!["--count"],
        vec!["--count", "icmp"],
        vec!["--count", "-c", "2"],
        vec!["-F", f],
        vec!["-e", "-F", f],
        vec!["--count", "-F", f],
        vec!["-e", "icmp", "or", "arp"],
    ];
    let tcpdump = PathBuf::from("tcpdump");
    let mut failures = Vec::new();
    for file in &files {
        for args in &sets {
            let (tc, theirs, terr) = run(&tcpdump, args, file);
            assert_eq!(tc, 0, "tcpdump {args:?} {}: {terr}", file.display());
            for bin in [ptanalyze_bin(), ptcap_bin()] {
                let (code, ours, err) = run(&bin, args, file);
                let c = compare_lines(&theirs, &ours);
                if code != 0 || !c.is_exact() {
                    failures.push(format!(
                        "{} {args:?} {}: exit {code}, {}/{} lines equal, first diff {:?} {err}",
                        bin.file_name().unwrap().to_string_lossy(),
                        file.display(),
                        c.equal,
                        c.total,
                        c.diffs.first()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn magic(path: &Path) -> u32 {
    let b = std::fs::read(path).unwrap();
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[test]
fn w_dot_pcap_writes_classic_pcap_and_says_so_once() {
    require_tcpdump();
    let dir = TempDir::new("flags-pcap");
    let src = corpus("eth-meta.pcapng");
    for (args, want_magic) in [(&[][..], 0xa1b2_c3d4u32), (&["--nano"][..], 0xa1b2_3c4d)] {
        let out = dir.path().join("out.pcap");
        let o = Command::new(ptanalyze_bin())
            .args(args)
            .arg("-w")
            .arg(&out)
            .arg(&src)
            .output()
            .unwrap();
        assert!(o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.matches("classic pcap").count(), 1, "{err}");
        assert_eq!(magic(&out), want_magic);
        let t = |f: &Path| {
            let o = Command::new("tcpdump")
                .env("TZ", "UTC")
                .args(["-nn", "--nano", "-r"])
                .arg(f)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).into_owned()
        };
        let (theirs, ours) = (t(&src), t(&out));
        if want_magic == 0xa1b2_3c4d {
            assert_eq!(theirs, ours);
        } else {
            assert_eq!(theirs.lines().count(), ours.lines().count());
        }
    }
    // Any other name: pcapng, silently.
    let out = dir.path().join("out.pcapng");
    let o = Command::new(ptanalyze_bin())
        .arg("-w")
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(magic(&out), 0x0a0d_0d0a);
}

/// ptcap in B on vb with `args`, while `traffic` runs from A; (exit, stdout, stderr).
fn ptcap_live(net: &mut NamespacePair, args: &[&str]) -> (i32, String, Vec<String>) {
    let b = net.b.clone();
    let bin = ptcap_bin();
    let mut all = vec![bin.to_str().unwrap()];
    all.extend(args);
    let cap = Running::start(net, &b, &all);
    traffic(net);
    std::thread::sleep(std::time::Duration::from_millis(300));
    cap.interrupt()
}

#[test]
fn live_e_prints_tcpdumps_link_header_and_pcap_name_writes_pcap() {
    require_tcpdump();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("flags", "live", 62);
    net.link();
    let dir = net.dir("live");
    let file = dir.join("live.pcapng");
    let (code, text, err) = ptcap_live(
        &mut net,
        &[
            "-i",
            "vb",
            "-e",
            "--context=",
            "-w",
            file.to_str().unwrap(),
            "--print",
            "icmp",
            "or",
            "arp",
        ],
    );
    assert_eq!(code, 0, "{err:?}");
    // ptcap's lines carry ptcpdump's prefix (interface, direction); without it they are
    // tcpdump -e's lines of the same file.
    let ours: Vec<String> = text
        .lines()
        .map(|l| {
            let (ts, rest) = l.split_once(' ').unwrap();
            let rest = rest.strip_prefix("vb ").unwrap_or(rest);
            let rest = rest
                .strip_prefix("In ")
                .or_else(|| rest.strip_prefix("Out "))
                .unwrap_or(rest);
            format!("{ts} {rest}")
        })
        .collect();
    let o = Command::new("tcpdump")
        .args(["-nn", "-e", "-r"])
        .arg(&file)
        .output()
        .unwrap();
    let theirs = String::from_utf8_lossy(&o.stdout);
    assert!(ours.len() >= 8, "{text}");
    let c = compare_lines(&theirs, &(ours.join("\n") + "\n"));
    assert!(c.is_exact(), "{:?}", c.diffs);
    assert!(theirs.contains(&net.mac(&net.a, "va")), "{theirs}");
    assert!(
        !err.iter().any(|l| l.contains("not reachable")),
        "runtime lines without -v: {err:?}"
    );

    // -w NAME.pcap: classic pcap tcpdump reads, said once.
    let pcap = dir.join("live.pcap");
    let (code, _, err) = ptcap_live(
        &mut net,
        &["-i", "vb", "-w", pcap.to_str().unwrap(), "icmp"],
    );
    assert_eq!(code, 0, "{err:?}");
    assert_eq!(
        err.iter().filter(|l| l.contains("classic pcap")).count(),
        1,
        "{err:?}"
    );
    assert_eq!(magic(&pcap), 0xa1b2_c3d4);
    let o = Command::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(o.status.success());
    // 3 echo requests and replies, and the port unreachables of the UDP datagrams.
    assert!(String::from_utf8_lossy(&o.stdout).lines().count() >= 6);
}

#[test]
fn d_lists_and_i_n_picks_interfaces_as_tcpdump_numbers_them() {
    require_tcpdump();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("flags", "dl", 63);
    net.link();
    let b = net.b.clone();
    // In B's namespace nothing else creates interfaces: the two lists are of the same set
    // (once vb's carrier is up: libpcap orders running interfaces first).
    let mut lists = (String::new(), String::from("-"));
    for _ in 0..30 {
        let theirs = net.run_in(&b, &["tcpdump", "-D"]);
        let ours = net.run_in(&b, &[ptcap_bin().to_str().unwrap(), "-D"]);
        lists = (theirs, ours);
        if lists.0 == lists.1 && lists.0.contains("vb [Up, Running") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (theirs, ours) = lists;
    assert_eq!(ours, theirs);
    assert!(ours.lines().any(|l| l.contains(".any (")), "{ours}");
    let n = ours
        .lines()
        .find(|l| l.split_once('.').is_some_and(|(_, r)| r.starts_with("vb ")))
        .and_then(|l| l.split_once('.'))
        .map(|(n, _)| n.to_string())
        .expect("vb in -D");
    let (code, text, err) = ptcap_live(&mut net, &["-i", &n, "-c", "2", "icmp"]);
    assert_eq!(code, 0, "{err:?}");
    assert!(
        err.iter().any(|l| l.contains("capturing on vb")),
        "-i {n}: {err:?}"
    );
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn container_runtime_lines_only_with_v_or_once_for_a_container_filter() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("flags", "rt", 64);
    net.link();
    let gone = [
        "--containerd-address",
        "/nonexistent/c.sock",
        "--docker-address",
        "/nonexistent/d.sock",
    ];
    let mut args = vec!["-i", "vb", "-c", "1"];
    args.extend(gone);
    args.push("icmp");
    let (_, _, err) = ptcap_live(&mut net, &args);
    args.pop();
    assert!(
        !err.iter()
            .any(|l| l.contains("reachable") || l.contains("answers")),
        "{err:?}"
    );
    args.push("-v");
    args.push("icmp");
    let (_, _, err) = ptcap_live(&mut net, &args);
    assert_eq!(
        err.iter().filter(|l| l.contains("not reachable")).count(),
        2,
        "-v names each runtime: {err:?}"
    );
    // The tracker reads the runtimes' answers while packets are attributed: ping twice.
    let mut args = vec!["-i", "vb", "--container-name", "web1"];
    args.extend(gone);
    let b = net.b.clone();
    let bin = ptcap_bin();
    let mut all = vec![bin.to_str().unwrap()];
    all.extend(&args);
    let cap = Running::start(&mut net, &b, &all);
    traffic(&net);
    std::thread::sleep(std::time::Duration::from_secs(1));
    traffic(&net);
    let (_, _, err) = cap.interrupt();
    assert_eq!(
        err.iter()
            .filter(|l| l.contains("no container runtime answers"))
            .count(),
        1,
        "{err:?}"
    );
    assert!(!err.iter().any(|l| l.contains("not reachable")), "{err:?}");
    // Both turned off.
    let cap = Running::start(
        &mut net,
        &b,
        &[
            bin.to_str().unwrap(),
            "-i",
            "vb",
            "--containerd-address",
            "none",
            "--docker-address",
            "",
            "--container-name",
            "web1",
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (_, _, err) = cap.interrupt();
    assert_eq!(
        err.iter().filter(|l| l.contains("both off")).count(),
        1,
        "{err:?}"
    );
}

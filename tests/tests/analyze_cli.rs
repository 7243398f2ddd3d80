//! ptanalyze as a user meets it: metadata shown from our files and from ptcpdump-layout files,
//! and damaged, truncated or missing inputs: every complete packet before the damage is
//! printed, then exactly one error line naming the file and byte offset, and a non-zero exit.

use std::process::{Command, Output};
use std::sync::Arc;

use formats::meta::{CommentMode, ContainerInfo, PacketMeta, ProcessInfo, Provenance};
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{linktype, CaptureReader, Direction};
use ptcap_tests::{ptanalyze_bin, udp_frame, TempDir};

/// A UDP/IPv4 Ethernet frame from 198.18.0.1:4000+i to 198.18.0.2:53.
fn frame(i: u16) -> Vec<u8> {
    udp_frame(4000 + i, 53, &[0xab; 12])
}

fn meta() -> PacketMeta {
    PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid: 4242,
            comm: "wget".into(),
            exe: "/bin/busybox".into(),
            argv: vec![
                "wget".into(),
                "-T".into(),
                "10".into(),
                "http://198.18.0.2/".into(),
            ],
            uid: Some(1000),
            gid: Some(1000),
        })),
        parent: Some(Arc::new(ProcessInfo {
            pid: 4100,
            comm: "containerd-shim".into(),
            exe: "/usr/bin/containerd-shim-runc-v2".into(),
            argv: vec![
                "/usr/bin/containerd-shim-runc-v2".into(),
                "-id".into(),
                "web1".into(),
            ],
            ..ProcessInfo::default()
        })),
        container: Some(Arc::new(ContainerInfo {
            id: "c0ffee".repeat(10),
            name: "web1".into(),
            image: "busybox:test".into(),
            ..ContainerInfo::default()
        })),
        pod: None,
        thread: Some(std::sync::Arc::new(formats::meta::ThreadInfo {
            tid: 4243,
            name: "wget-dns".into(),
        })),
        provenance: Provenance::SocketCookie,
        role: Default::default(),
        peer: Default::default(),
        drop: None,
        nat: None,
        nat_reply: false,
    }
}

/// Writes `n` packets, every other one with metadata; returns the file's bytes.
fn capture(n: u16, structured: bool) -> Vec<u8> {
    let mut cfg = WriterConfig::new("ptcap-test", "0");
    cfg.structured = structured;
    cfg.comments = CommentMode::Full;
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    let eth = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
        .unwrap();
    let m = meta();
    for i in 0..n {
        let f = frame(i);
        let meta = if i % 2 == 0 {
            m.clone()
        } else {
            PacketMeta::default()
        };
        w.write_packet(
            eth,
            1_764_000_000_000_000_000 + u64::from(i) * 1000,
            f.len() as u32,
            &f,
            Some(Direction::Out),
            &meta,
        )
        .unwrap();
    }
    w.finish().unwrap()
}

fn ptanalyze(args: &[&str]) -> Output {
    Command::new(ptanalyze_bin())
        .env("TZ", "UTC")
        .args(args)
        .output()
        .expect("run ptanalyze")
}

fn lines(b: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(b)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Offsets of every packet block in `bytes`.
fn packet_offsets(bytes: &[u8]) -> Vec<u64> {
    let mut r = CaptureReader::new(bytes).unwrap();
    let mut v = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        v.push(p.offset);
    }
    v
}

#[test]
fn metadata_is_shown_from_our_files_and_from_ptcpdump_layout() {
    let dir = TempDir::new("analyze-meta");
    // ptcpdump's layout has no process or parent comm: the short form names both by their
    // executables, as ptcpdump prints them.
    for (name, structured, comm, parent) in [
        ("ours.pcapng", true, "wget", "containerd-shim"),
        (
            "ptcpdump-layout.pcapng",
            false,
            "busybox",
            "containerd-shim-runc-v2",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, capture(6, structured)).unwrap();
        let p = path.to_str().unwrap();

        let out = ptanalyze(&["-v", p]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let process =
            "    Process (pid 4242, cmd /bin/busybox, args wget -T 10 http://198.18.0.2/)";
        assert_eq!(
            text.lines().filter(|l| *l == process).count(),
            3,
            "{name}:\n{text}"
        );
        assert_eq!(
            text.lines()
                .filter(|l| l
                    .starts_with("    ParentProc (pid 4100, cmd /usr/bin/containerd-shim-runc-v2"))
                .count(),
            3,
            "{name}"
        );
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("    Container (name web1, id c0ffee"))
                .count(),
            3,
            "{name}"
        );
        assert_eq!(
            text.lines().filter(|l| *l == "    User (uid 1000)").count(),
            3,
            "{name}"
        );
        // ptcpdump's thread line, right after the process.
        assert_eq!(
            text.lines()
                .filter(|l| *l == "    Thread (tid 4243, name wget-dns)")
                .count(),
            3,
            "{name}"
        );

        let out = ptanalyze(&[p]);
        let short = lines(&out.stdout);
        assert_eq!(short.len(), 6);
        assert!(
            short[0].starts_with(&format!(
                "16:00:00.000000 eth0 {comm}.4242 Out IP 198.18.0.1.4000 > 198.18.0.2.53: "
            )),
            "{name}: {}",
            short[0]
        );
        assert!(
            short[0].ends_with(&format!(
                ", Thread [wget-dns.4243], ParentProc [{parent}.4100], Container [web1]"
            )),
            "{name}: {}",
            short[0]
        );
        assert!(
            short[1].contains(" eth0 Out IP 198.18.0.1.4001 > 198.18.0.2.53: "),
            "{name}: {}",
            short[1]
        );

        let out = ptanalyze(&["-v", "--oneline", "-c", "1", p]);
        let one = lines(&out.stdout);
        assert_eq!(one.len(), 1, "{name}: {one:?}");
        assert!(one[0].contains(", Process (pid 4242, cmd /bin/busybox, args wget -T 10 http://198.18.0.2/), Thread (tid 4243, name wget-dns), User (uid 1000), ParentProc (pid 4100"), "{}", one[0]);
    }
}

#[test]
fn truncated_file_prints_every_complete_packet_then_one_error() {
    let dir = TempDir::new("analyze-trunc");
    let bytes = capture(10, true);
    let offsets = packet_offsets(&bytes);
    let full = dir.path().join("full.pcapng");
    std::fs::write(&full, &bytes).unwrap();
    let out = ptanalyze(&[full.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(lines(&out.stdout).len(), 10);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Cut inside packet 7 (index 6): packets 0..6 print, the error names packet 7's offset.
    let cut_at = offsets[6] as usize + 30;
    let path = dir.path().join("cut.pcapng");
    std::fs::write(&path, &bytes[..cut_at]).unwrap();
    let p = path.to_str().unwrap();
    let out = ptanalyze(&[p]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out.stdout).len(), 6);
    let err = lines(&out.stderr);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(
        err[0].starts_with(&format!("ptanalyze: {p}: byte offset {}: ", offsets[6])),
        "{}",
        err[0]
    );
    assert!(err[0].contains("cut short"), "{}", err[0]);
}

#[test]
fn damaged_block_prints_everything_before_it() {
    let dir = TempDir::new("analyze-damage");
    let mut bytes = capture(10, true);
    let offsets = packet_offsets(&bytes);
    // Packet 5's trailing length no longer matches its leading one.
    let at = offsets[4] as usize;
    let total = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
    bytes[at + total - 4] ^= 0x40;
    let path = dir.path().join("damaged.pcapng");
    std::fs::write(&path, &bytes).unwrap();
    let p = path.to_str().unwrap();
    let out = ptanalyze(&["-v", p]);
    assert_eq!(out.status.code(), Some(1));
    // Four packets, every other one with five context lines after its two protocol lines.
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().filter(|l| !l.starts_with(' ')).count(),
        4,
        "{text}"
    );
    let err = lines(&out.stderr);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(
        err[0].starts_with(&format!("ptanalyze: {p}: byte offset {}: ", offsets[4])),
        "{}",
        err[0]
    );
}

#[test]
fn missing_and_foreign_files_get_one_clear_line() {
    let dir = TempDir::new("analyze-missing");
    let missing = dir.path().join("nope.pcapng");
    let m = missing.to_str().unwrap();
    let out = ptanalyze(&[m]);
    assert_eq!(out.status.code(), Some(2));
    let err = lines(&out.stderr);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(
        err[0].starts_with(&format!("ptanalyze: {m}: ")) && err[0].contains("No such file"),
        "{}",
        err[0]
    );

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, this is not a capture\n").unwrap();
    let t = text.to_str().unwrap();
    let out = ptanalyze(&[t]);
    assert_ne!(out.status.code(), Some(0));
    let err = lines(&out.stderr);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(
        err[0].starts_with(&format!(
            "ptanalyze: {t}: byte offset 0: not a pcap or pcapng file"
        )),
        "{}",
        err[0]
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn closed_pipe_ends_quietly() {
    let dir = TempDir::new("analyze-pipe");
    let path = dir.path().join("many.pcapng");
    std::fs::write(&path, capture(2000, true)).unwrap();
    let mut child = Command::new(ptanalyze_bin())
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close our end.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.code().is_some(),
        "killed by a signal instead of ending quietly"
    );
    // tcpdump's line and status (14), as ptcap's; no panic, no backtrace.
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ptanalyze: Unable to write output: Broken pipe\n"
    );
    assert_eq!(out.status.code(), Some(14));
}

#[test]
fn ambiguous_container_id_prefix_is_refused_and_a_unique_one_selects() {
    let dir = TempDir::new("analyze-prefix");
    let mut w = PcapngWriter::new(Vec::new(), WriterConfig::new("ptcap-test", "0")).unwrap();
    let eth = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
        .unwrap();
    let container = |id: &str, name: &str| PacketMeta {
        container: Some(Arc::new(ContainerInfo {
            id: id.into(),
            name: name.into(),
            ..ContainerInfo::default()
        })),
        ..meta()
    };
    let web = container(&format!("abc1{}", "0".repeat(60)), "web1");
    let api = container(&format!("abc2{}", "0".repeat(60)), "api");
    for i in 0..10u16 {
        let f = frame(i);
        let m = if i % 3 == 0 { &api } else { &web };
        w.write_packet(eth, 1_000 + u64::from(i), f.len() as u32, &f, None, m)
            .unwrap();
    }
    let path = dir.path().join("two.pcapng");
    std::fs::write(&path, w.finish().unwrap()).unwrap();
    let p = path.to_str().unwrap();

    let out = ptanalyze(&["--container-id", "abc", p]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "nothing is printed before the refusal"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--container-id abc: the prefix matches 2 containers")
            && err.contains("abc100000000 (web1)")
            && err.contains("abc200000000 (api)"),
        "{err}"
    );

    let out = ptanalyze(&["-q", "--container-id", "abc2", p]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&out.stdout).len(), 4, "packets 0, 3, 6, 9");
    // A prefix no container has is an empty result, not an error.
    let out = ptanalyze(&["--container-id", "fff", p]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn a_full_disk_under_w_is_an_error_naming_the_file() {
    let dir = TempDir::new("analyze-full");
    let path = dir.path().join("many.pcapng");
    std::fs::write(&path, capture(3000, true)).unwrap();
    let out = ptanalyze(&["-w", "/dev/full", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("ptanalyze: /dev/full: ") && err.contains("No space left on device"),
        "{err}"
    );
}

/// A drop or a NAT of a packet without an owner (a neighbour solicitation dropped in a
/// namespace, a forwarded packet of a host ptcap does not see) is shown as ptcap showed it
/// live: the short form ends with `, Dropped [REASON]`, `-v` adds the Drop and NAT lines.
#[test]
fn unowned_drops_and_nat_are_shown() {
    let dir = TempDir::new("unowned-drop");
    let path = dir.path().join("unowned.pcapng");
    let mut w = PcapngWriter::new(Vec::new(), WriterConfig::new("ptcap-test", "0")).unwrap();
    let eth = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
        .unwrap();
    let f = frame(0);
    let dropped = PacketMeta {
        drop: Some(Arc::new(formats::meta::DropInfo {
            reason: "NO_SOCKET".into(),
            location: "udp_rcv+0x1".into(),
        })),
        ..PacketMeta::default()
    };
    let t = |src: &str, sport, dst: &str, dport| formats::meta::Tuple {
        src: src.parse().unwrap(),
        sport,
        dst: dst.parse().unwrap(),
        dport,
    };
    let natted = PacketMeta {
        nat: Some(Arc::new(formats::meta::NatInfo {
            proto: 17,
            original: t("198.18.0.9", 4000, "198.18.0.2", 53),
            reply: t("198.18.0.2", 53, "198.18.0.1", 4000),
            snat: true,
            dnat: false,
        })),
        ..PacketMeta::default()
    };
    for (i, m) in [&dropped, &natted].into_iter().enumerate() {
        w.write_packet(
            eth,
            1_764_000_000_000_000_000 + i as u64,
            f.len() as u32,
            &f,
            Some(Direction::Out),
            m,
        )
        .unwrap();
    }
    std::fs::write(&path, w.finish().unwrap()).unwrap();
    let p = path.to_str().unwrap();
    let out = lines(&ptanalyze(&[p]).stdout);
    assert!(out[0].ends_with(", Dropped [NO_SOCKET]"), "{out:?}");
    let v = String::from_utf8_lossy(&ptanalyze(&["-v", p]).stdout).into_owned();
    assert!(
        v.contains("Drop (reason NO_SOCKET, location udp_rcv+0x1)"),
        "{v}"
    );
    assert!(v.contains("NAT (original "), "{v}");
}

//! ptanalyze never loses the user's data and never dies (issue 10): an output that is one of
//! the inputs is refused, `-w` appears under its name only when complete, a file that shrinks
//! while it is read ends the reading with one error line (no SIGBUS), files of many sections or
//! interfaces cost O(1) per section and interface, and a closed pipe ends the run as tcpdump's
//! does (its one line and status 14; `-w -`: quietly, 0).

use std::io::{BufRead, BufReader, Read};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use formats::meta::{CommentMode, ContainerInfo, PacketMeta, ProcessInfo, Provenance};
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{linktype, CaptureReader, Direction};
use ptcap_tests::{ptanalyze_bin, udp_frame, TempDir};

fn ptanalyze(args: &[&str]) -> Output {
    Command::new(ptanalyze_bin())
        .env("TZ", "UTC")
        .args(args)
        .output()
        .expect("run ptanalyze")
}

fn stderr_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

fn meta(i: u32) -> PacketMeta {
    PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid: 4000 + i % 7,
            comm: "curl".into(),
            exe: "/usr/bin/curl".into(),
            argv: vec!["curl".into(), "-s".into(), format!("http://198.18.0.2/{i}")],
            uid: Some(1000),
            gid: Some(1000),
        })),
        parent: None,
        container: Some(Arc::new(ContainerInfo {
            id: "c0ffee".repeat(10),
            name: "web1".into(),
            image: "busybox:test".into(),
            ..ContainerInfo::default()
        })),
        pod: None,
        thread: None,
        provenance: Provenance::SocketCookie,
        role: Default::default(),
        peer: Default::default(),
        drop: None,
        nat: None,
        nat_reply: false,
    }
}

/// A capture of `n` UDP packets with metadata (about 400 bytes each).
fn capture(n: u32) -> Vec<u8> {
    let mut cfg = WriterConfig::new("ptcap-test", "0");
    cfg.comments = CommentMode::Full;
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    let eth = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
        .unwrap();
    for i in 0..n {
        let f = udp_frame(1024 + (i % 50_000) as u16, 53, &[0xab; 64]);
        w.write_packet(
            eth,
            1_764_000_000_000_000_000 + u64::from(i) * 1000,
            f.len() as u32,
            &f,
            Some(Direction::Out),
            &meta(i),
        )
        .unwrap();
    }
    w.finish().unwrap()
}

/// End offsets of every packet block of a pcapng image.
fn packet_ends(bytes: &[u8]) -> Vec<u64> {
    let mut r = CaptureReader::new(bytes).unwrap();
    let mut v = Vec::new();
    while r.next_packet().unwrap().is_some() {
        v.push(r.position());
    }
    v
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_written() {
    let dir = TempDir::new("safety-same");
    let file = dir.path().join("same.pcapng");
    let bytes = capture(50);
    std::fs::write(&file, &bytes).unwrap();
    let link = dir.path().join("link.pcapng");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let hard = dir.path().join("hard.pcapng");
    std::fs::hard_link(&file, &hard).unwrap();
    let f = s(&file);
    for (out, input) in [
        (f, f),
        (s(&link), f),
        (f, s(&link)),
        (s(&hard), f),
        (s(&hard), s(&link)),
    ] {
        let o = ptanalyze(&["--pname", "curl", "-w", out, input]);
        assert_eq!(o.status.code(), Some(2), "-w {out} {input}");
        let err = stderr_lines(&o);
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(
            err[0].contains(out) && err[0].contains(input) && err[0].contains("same file"),
            "{err:?}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), bytes, "-w {out} {input}");
    }
    // Through /dev/fd: the output descriptor is the input file, and standard output too.
    let script = format!(
        "exec 3>>{f}; {pt} -w /dev/fd/3 {f}; a=$?; {pt} {f} >>{f}; b=$?; {pt} -w - - <{f} >>{f}; c=$?; {pt} -w {f} - <{f}; d=$?; echo $a $b $c $d",
        pt = ptanalyze_bin().display()
    );
    let o = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "2 2 2 2");
    let err = stderr_lines(&o);
    assert_eq!(err.len(), 4, "{err:?}");
    assert!(err[0].contains("-w /dev/fd/3 is the input"), "{err:?}");
    assert!(err[1].contains("standard output is the input"), "{err:?}");
    assert!(err[3].contains("standard input"), "{err:?}");
    assert_eq!(std::fs::read(&file).unwrap(), bytes);
}

/// Files in `dir` whose name contains `part`.
fn names_with(dir: &Path, part: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(part))
        .collect()
}

#[test]
fn w_output_appears_under_its_name_only_when_complete_and_a_signal_removes_it() {
    let dir = TempDir::new("safety-rename");
    let input = dir.path().join("in.pcapng");
    std::fs::write(&input, capture(50_000)).unwrap();
    let out = dir.path().join("out.pcapng");

    // Watch a complete run: the final name appears only once the file is complete.
    let mut child = Command::new(ptanalyze_bin())
        .args(["-j", "1", "-w", s(&out), s(&input)])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut saw_temp = false;
    loop {
        if !names_with(dir.path(), ".ptanalyze-").is_empty() {
            saw_temp = true;
        }
        if out.exists() {
            // Renamed into place: complete from the first moment it has the name.
            let bytes = std::fs::read(&out).unwrap();
            assert_eq!(
                packet_ends(&bytes).len(),
                50_000,
                "a partial file under the name"
            );
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    assert!(child.wait().unwrap().success());
    assert!(saw_temp, "no temporary file seen");
    assert!(names_with(dir.path(), ".ptanalyze-").is_empty());
    let written = std::fs::read(&out).unwrap();
    assert_eq!(packet_ends(&written).len(), 50_000);
    let mode = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    };
    // An existing output keeps its permissions.
    std::fs::set_permissions(&out, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();

    // Interrupted while writing: neither the final name is touched nor a temporary file left.
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let before = std::fs::read(&out).unwrap();
        let child = Command::new(ptanalyze_bin())
            .args(["-j", "1", "-w", s(&out), s(&input)])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while names_with(dir.path(), ".ptanalyze-").is_empty() {
            assert!(t.elapsed() < Duration::from_secs(60));
            std::thread::sleep(Duration::from_micros(200));
        }
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(child.id() as i32, sig) };
        let o = child.wait_with_output().unwrap();
        if o.status.success() {
            // It finished first (a fast machine): then the file is the complete one.
            assert_eq!(packet_ends(&std::fs::read(&out).unwrap()).len(), 50_000);
        } else {
            eprintln!("signal {sig}: stopped while writing");
            assert_eq!(o.status.signal(), Some(sig));
            assert_eq!(
                std::fs::read(&out).unwrap(),
                before,
                "the old file is intact"
            );
        }
        assert!(names_with(dir.path(), ".ptanalyze-").is_empty());
    }
    let o = ptanalyze(&["-c", "10", "-w", s(&out), s(&input)]);
    assert!(o.status.success());
    assert_eq!(mode(&out), 0o640);
    assert_eq!(packet_ends(&std::fs::read(&out).unwrap()).len(), 10);

    // -w through a symlink replaces the file it points to, not the link.
    let link = dir.path().join("link.pcapng");
    std::os::unix::fs::symlink(&out, &link).unwrap();
    let o = ptanalyze(&["-c", "3", "-w", s(&link), s(&input)]);
    assert!(o.status.success());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(packet_ends(&std::fs::read(&out).unwrap()).len(), 3);
}

#[test]
fn nothing_is_written_when_no_input_defines_an_interface() {
    let dir = TempDir::new("safety-empty");
    let bad = dir.path().join("bad.pcapng");
    std::fs::write(&bad, b"this is not a capture at all").unwrap();
    let out = dir.path().join("out.pcapng");
    let o = ptanalyze(&["-w", s(&out), s(&bad)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists(), "a file was left behind");
    assert!(names_with(dir.path(), ".ptanalyze-").is_empty());
    let err = stderr_lines(&o);
    assert!(err.iter().any(|l| l.contains("not written")), "{err:?}");
    let o = ptanalyze(&["-w", "-", s(&bad)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
}

/// Runs ptanalyze on `file` (truncated to `keep` bytes once its first output line arrived),
/// reading its whole output; returns (stdout, stderr, status).
fn truncated_during_the_read(args: &[&str], file: &Path, keep: u64) -> Output {
    let mut child = Command::new(ptanalyze_bin())
        .env("TZ", "UTC")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = Vec::new();
    // The first bytes: ptanalyze has planned the file and is in its main pass, blocked on the
    // pipe with at most a few chunks read ahead (-j 1).
    stdout.read_until(b'\n', &mut first).unwrap();
    assert!(!first.is_empty(), "no output");
    std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .unwrap()
        .set_len(keep)
        .unwrap();
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    let mut o = child.wait_with_output().unwrap();
    first.extend(rest);
    o.stdout = first;
    o
}

#[test]
fn a_file_that_shrinks_while_it_is_read_gives_every_packet_before_then_one_error() {
    let dir = TempDir::new("safety-shrink");
    let bytes = capture(60_000);
    let ends = packet_ends(&bytes);
    let file = dir.path().join("ring.pcapng");
    // Cut inside a packet block, well past what is read ahead when the truncation happens.
    let keep = (bytes.len() as u64 / 2) | 1;
    let complete = ends.iter().filter(|&&e| e <= keep).count();
    let expected_at = ends[complete - 1];
    let copy = dir.path().join("copy.pcapng");
    std::fs::write(&copy, &bytes[..keep as usize]).unwrap();

    let check = |o: &Output, what: &str| {
        assert!(
            o.status.signal().is_none(),
            "{what}: killed by {:?}",
            o.status
        );
        assert_eq!(o.status.code(), Some(1), "{what}");
        let err = stderr_lines(o);
        assert_eq!(err.len(), 1, "{what}: {err:?}");
        assert!(
            err[0].contains(s(&file))
                && err[0].contains(&format!("byte offset {expected_at}:"))
                && err[0].contains("the file shrank while being read"),
            "{what}: {err:?}"
        );
    };
    let base = ["-j", "1", "--chunk-size", "262144"];

    // The listing: exactly the listing of the packets the file still holds.
    std::fs::write(&file, &bytes).unwrap();
    let o = truncated_during_the_read(&[&base[..], &[s(&file)]].concat(), &file, keep);
    check(&o, "listing");
    let expected = ptanalyze(&[&base[..], &[s(&copy)]].concat());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().count(),
        complete,
        "listing"
    );
    assert!(
        o.stdout == expected.stdout,
        "listing differs from the intact part's"
    );

    // JSON lines, and -w (the output holds exactly the packets before the change).
    std::fs::write(&file, &bytes).unwrap();
    let o = truncated_during_the_read(&[&base[..], &["--json", s(&file)]].concat(), &file, keep);
    check(&o, "json");
    let packets = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains("\"type\":\"packet\""))
        .count();
    assert_eq!(packets, complete, "json");
    let text = String::from_utf8_lossy(&o.stdout);
    let last = text.lines().last().unwrap();
    assert!(
        last.contains("\"type\":\"summary\"")
            && last.contains("\"incomplete\":true")
            && last.contains("shrank"),
        "{last}"
    );

    std::fs::write(&file, &bytes).unwrap();
    let out = dir.path().join("out.pcapng");
    let o = truncated_during_the_read(&[&base[..], &["-w", "-", s(&file)]].concat(), &file, keep);
    check(&o, "-w -");
    assert_eq!(packet_ends(&o.stdout).len(), complete, "-w -");
    std::fs::write(&file, &bytes).unwrap();
    // -w FILE writes nothing to stdout to wait on: truncate while it runs (it is a few
    // chunks into the file when the first chunk's output appears in the temporary file).
    let child = Command::new(ptanalyze_bin())
        .args([&base[..], &["-w", s(&out), s(&file)]].concat())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    loop {
        let temp = names_with(dir.path(), ".ptanalyze-");
        if let Some(t) = temp.first() {
            if std::fs::metadata(dir.path().join(t)).map_or(0, |m| m.len()) > 0 {
                break;
            }
        }
        assert!(t.elapsed() < Duration::from_secs(60), "no output appeared");
        std::thread::sleep(Duration::from_micros(100));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(keep)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    if o.status.success() {
        // Finished before the truncation: a complete output then.
        assert_eq!(packet_ends(&std::fs::read(&out).unwrap()).len(), ends.len());
    } else {
        check(&o, "-w FILE");
        assert_eq!(packet_ends(&std::fs::read(&out).unwrap()).len(), complete);
    }
}

/// A pcapng block in little-endian order.
fn block(ty: u32, body: &[u8]) -> Vec<u8> {
    let total = (12 + body.len()).div_ceil(4) * 4;
    let mut b = Vec::with_capacity(total);
    b.extend(ty.to_le_bytes());
    b.extend((total as u32).to_le_bytes());
    b.extend(body);
    b.resize(total - 4, 0);
    b.extend((total as u32).to_le_bytes());
    b
}

fn shb() -> Vec<u8> {
    let mut b = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    b.extend(1u16.to_le_bytes());
    b.extend(0u16.to_le_bytes());
    b.extend((-1i64).to_le_bytes());
    block(0x0a0d_0d0a, &b)
}

fn idb(name: &str) -> Vec<u8> {
    let mut b = 1u16.to_le_bytes().to_vec();
    b.extend([0, 0]);
    b.extend(262_144u32.to_le_bytes());
    b.extend(2u16.to_le_bytes());
    b.extend((name.len() as u16).to_le_bytes());
    b.extend(name.as_bytes());
    b.resize(b.len().div_ceil(4) * 4, 0);
    b.extend([0, 0, 0, 0]);
    block(1, &b)
}

fn epb(iface: u32, ts_us: u64, data: &[u8]) -> Vec<u8> {
    let mut b = iface.to_le_bytes().to_vec();
    b.extend(((ts_us >> 32) as u32).to_le_bytes());
    b.extend((ts_us as u32).to_le_bytes());
    b.extend((data.len() as u32).to_le_bytes());
    b.extend((data.len() as u32).to_le_bytes());
    b.extend(data);
    block(6, &b)
}

const TS0_US: u64 = 1_764_000_000_000_000;

#[test]
fn twenty_thousand_sections_cost_o1_each_and_the_listing_is_right() {
    let dir = TempDir::new("safety-sections");
    let file = dir.path().join("cat.pcapng");
    let n = 20_000u32;
    let mut bytes = Vec::new();
    for i in 0..n {
        // What rotation plus cat gives: each section its own header, interface and packets.
        bytes.extend(shb());
        bytes.extend(idb(&format!("veth{i}")));
        for k in 0..2u64 {
            let f = udp_frame(1024 + (i % 50_000) as u16, 53, &[0xab; 16]);
            bytes.extend(epb(0, TS0_US + u64::from(i) * 1000 + k, &f));
        }
    }
    std::fs::write(&file, &bytes).unwrap();

    let t = Instant::now();
    let o = ptanalyze(&["-c", "1", s(&file)]);
    let first = t.elapsed();
    assert!(o.status.success(), "{:?}", stderr_lines(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.lines().count(), 1);
    assert!(
        text.contains("veth0 ") && text.contains("198.18.0.1.1024 >"),
        "{text}"
    );

    let t = Instant::now();
    let o = ptanalyze(&[s(&file)]);
    let all = t.elapsed();
    assert!(o.status.success(), "{:?}", stderr_lines(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 * n as usize);
    for (j, l) in lines.iter().enumerate().step_by(997) {
        let i = j / 2;
        assert!(
            l.contains(&format!(" veth{i} ")) && l.contains(&format!(".{} >", 1024 + i)),
            "line {j}: {l}"
        );
    }
    // Written back: one interface per section's interface, every packet on its own.
    let out = dir.path().join("out.pcapng");
    let t = Instant::now();
    let o = ptanalyze(&["-w", s(&out), s(&file)]);
    let written = t.elapsed();
    assert!(o.status.success(), "{:?}", stderr_lines(&o));
    let w = std::fs::read(&out).unwrap();
    let mut r = CaptureReader::new(&w).unwrap();
    let mut count = 0;
    while let Some(p) = r.next_packet().unwrap() {
        assert_eq!(p.interface as usize, count / 2);
        count += 1;
    }
    assert_eq!(count, 2 * n as usize);
    assert_eq!(r.interfaces().len(), n as usize);
    // Before: quadratic (1,600 sections 39.7 s in the files). Generous bounds for a
    // debug build on a loaded 2-core machine.
    for (what, d) in [("-c 1", first), ("listing", all), ("-w", written)] {
        assert!(d < Duration::from_secs(10), "{what}: {d:?}");
    }
}

#[test]
fn a_hundred_thousand_interfaces_cost_o1_each() {
    let dir = TempDir::new("safety-idbs");
    let file = dir.path().join("idbs.pcapng");
    let n = 100_000u32;
    let mut bytes = shb();
    for i in 0..n {
        bytes.extend(idb(&format!("eth{i}")));
    }
    let on: Vec<u32> = (0..n).step_by(1000).chain([n - 1]).collect();
    for (k, &i) in on.iter().enumerate() {
        let f = udp_frame(2000 + k as u16, 53, &[0xab; 16]);
        bytes.extend(epb(i, TS0_US + k as u64, &f));
    }
    std::fs::write(&file, &bytes).unwrap();
    let t = Instant::now();
    let o = ptanalyze(&[s(&file)]);
    let d = t.elapsed();
    assert!(o.status.success(), "{:?}", stderr_lines(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), on.len());
    for (l, i) in lines.iter().zip(&on) {
        assert!(l.contains(&format!(" eth{i} ")), "{l}");
    }
    let out = dir.path().join("out.pcapng");
    let t = Instant::now();
    let o = ptanalyze(&["-w", s(&out), s(&file)]);
    let dw = t.elapsed();
    assert!(o.status.success(), "{:?}", stderr_lines(&o));
    let w = std::fs::read(&out).unwrap();
    let mut r = CaptureReader::new(&w).unwrap();
    let mut got = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        got.push(r.interfaces()[p.interface as usize].name.clone().unwrap());
    }
    let want: Vec<String> = on.iter().map(|i| format!("eth{i}")).collect();
    assert_eq!(got, want);
    // Before: 30 s for 100k (68% in cloning the interface table).
    assert!(d < Duration::from_secs(10), "listing {d:?}");
    assert!(dw < Duration::from_secs(10), "-w {dw:?}");
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) into a two-element array; both ends are owned from here on.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(r);
    w
}

#[test]
fn a_closed_pipe_ends_every_output_mode_as_tcpdump_does() {
    // tcpdump 4.99 on a closed stdout: "tcpdump: Unable to write output: Broken pipe", status
    // 14; `tcpdump -w -`: status 0, nothing said. ptanalyze (as ptcap): the same, never a panic.
    let dir = TempDir::new("safety-pipe");
    let file = dir.path().join("in.pcapng");
    std::fs::write(&file, capture(3000)).unwrap();
    let f = s(&file);
    let modes: [(&[&str], i32); 7] = [
        (&[], 14),
        (&["-v"], 14),
        (&["--json"], 14),
        (&["--flows"], 14),
        (&["--stats"], 14),
        (&["--flows", "--json"], 14),
        (&["-w", "-"], 0),
    ];
    for (args, code) in modes {
        let args = [args, &[f]].concat();
        // stdout closed, stderr read.
        let o = Command::new(ptanalyze_bin())
            .args(&args)
            .stdout(Stdio::from(closed_pipe()))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = stderr_lines(&o);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err:?}");
        if code == 0 {
            assert!(err.is_empty(), "{args:?}: {err:?}");
        } else {
            assert_eq!(
                err,
                ["ptanalyze: Unable to write output: Broken pipe"],
                "{args:?}"
            );
        }
        // 2>&1 | head: both closed.
        let w = closed_pipe();
        let o = Command::new(ptanalyze_bin())
            .args(&args)
            .stdout(Stdio::from(w.try_clone().unwrap()))
            .stderr(Stdio::from(w))
            .status()
            .unwrap();
        assert_eq!(o.code(), Some(code), "{args:?} 2>&1: {o:?}");
    }
    // Another write error on stdout (a full disk) is said, in one line.
    for args in [&[f][..], &["--flows", f][..]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = Command::new(ptanalyze_bin())
            .args(args)
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = stderr_lines(&o);
        assert_eq!(o.status.code(), Some(14), "{args:?}: {err:?}");
        assert_eq!(err.len(), 1, "{args:?}: {err:?}");
        assert!(
            err[0].starts_with("ptanalyze: Unable to write output: No space left on device"),
            "{err:?}"
        );
    }
    // Only stderr closed: the run goes on and succeeds (damage reported where it can be).
    let o = Command::new(ptanalyze_bin())
        .args(["--flows", f])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(closed_pipe()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(!o.stdout.is_empty());
    let o = Command::new(ptanalyze_bin())
        .args(["no-such-file.pcapng"])
        .stderr(Stdio::from(closed_pipe()))
        .status()
        .unwrap();
    assert_eq!(o.code(), Some(2));
}

//! ptcap survives what a node does to it (issue 10): readers that go away (closed stdout or
//! stderr in every output mode), interfaces deleted under it (`-i IFACE` ends as tcpdump does,
//! `-i any` detaches and reuses its slots through thousands of veth create/delete cycles and
//! ifindex reuse), tc filters left by a SIGKILLed run, counters that add up to the file (disk
//! full, rotation), wall-clock `-G` rotation, and memory that stays flat under process churn.
//!
//! Test hosts are network namespaces made here (198.18.0.0/15), removed on drop also when a
//! test panics; only processes started here are ended, by pid.

use ptcap_tests::pair::{assert_nothing_left, count_line, NamespacePair, Running};
use ptcap_tests::{ptcap_bin, run_checked};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

macro_rules! root_only {
    () => {
        if !is_root() {
            panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
        }
    };
}

fn bin() -> String {
    ptcap_bin().to_str().unwrap().to_string()
}

/// Pings 127.0.0.1 in `ns` `n` times, 10 ms apart.
fn ping_lo(net: &NamespacePair, ns: &str, n: u32) {
    net.run_in(
        ns,
        &[
            "ping",
            "-q",
            "-c",
            &n.to_string(),
            "-i",
            "0.01",
            "127.0.0.1",
        ],
    );
}

/// UDP datagrams from A to B port 7777, `n` of them, `size` bytes each.
fn udp_burst(net: &NamespacePair, n: u32, size: u32) {
    let py = format!(
        "import socket,time\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         for i in range({n}):\n    s.sendto(b'u'*{size}, ('{}', 7777))\n    if i % 50 == 49: time.sleep(0.002)",
        net.ip_b()
    );
    net.run_in(&net.a, &["python3", "-c", &py]);
}

/// Packets tcpdump reads from `file` (and that it reads without error).
fn tcpdump_count(file: &Path) -> usize {
    let out = Command::new("tcpdump")
        .args(["-nn", "-r", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tcpdump -r {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

fn no_panic(stderr: &[String]) {
    assert!(
        !stderr
            .iter()
            .any(|l| l.contains("panicked") || l.contains("RUST_BACKTRACE")),
        "{stderr:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 1. Closed pipes
// ---------------------------------------------------------------------------------------

/// ptcap in `ns` with `args`, its stdout a pipe whose reader is gone; traffic on lo until it
/// exits. (exit code, stderr lines).
fn with_closed_stdout(net: &mut NamespacePair, ns: &str, args: &[&str]) -> (i32, Vec<String>) {
    let mut cap = Running::start_with(net, ns, args, Stdio::piped());
    drop(cap.take_stdout());
    let deadline = Instant::now() + Duration::from_secs(10);
    while cap.is_running() && Instant::now() < deadline {
        ping_lo(net, ns, 5);
    }
    assert!(!cap.is_running(), "ptcap went on writing to a closed pipe");
    cap.stop(None)
}

#[test]
fn closed_stdout_or_stderr_ends_quietly_as_tcpdump_does() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("rob", "pipe", 60);
    let a = net.a.clone();
    let b = bin();

    // Text (and -v text): tcpdump says "Unable to write output: Broken pipe" and exits 14,
    // without its closing counts.
    for extra in [&[][..], &["-v"][..]] {
        let mut args = vec![b.as_str(), "-i", "lo"];
        args.extend_from_slice(extra);
        let (code, stderr) = with_closed_stdout(&mut net, &a, &args);
        no_panic(&stderr);
        assert_eq!(code, 14, "{extra:?}: {stderr:?}");
        assert_eq!(
            stderr.last().map(String::as_str),
            Some("ptcap: Unable to write output: Broken pipe"),
            "{stderr:?}"
        );
        assert!(
            !stderr.iter().any(|l| l.ends_with("captured")),
            "{stderr:?}"
        );
    }
    // With tc (a filter that would outlive us if we did not detach) too.
    let (code, stderr) = with_closed_stdout(&mut net, &a, &[&b, "-i", "lo", "--attach", "tc"]);
    no_panic(&stderr);
    assert_eq!(code, 14, "{stderr:?}");
    assert_nothing_left(&net);

    // -w -: tcpdump stops the capture (SIGPIPE breaks its loop), prints its counts, exits 0.
    let (code, stderr) = with_closed_stdout(&mut net, &a, &[&b, "-i", "lo", "-w", "-"]);
    no_panic(&stderr);
    assert_eq!(code, 0, "{stderr:?}");
    count_line(&stderr, "packets captured");
    count_line(&stderr, "packets dropped by kernel");

    // -D and -d: listings die of SIGPIPE without a word, like tcpdump's (and ls's).
    for args in [&["-D"][..], &["-d", "tcp or udp or icmp"][..]] {
        let mut child = net
            .cmd(&a, &[&b])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        net.adopt(child.id());
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(13), "{args:?}: {status:?} {err}");
        assert!(!err.contains("panicked"), "{err}");
    }

    // A closed stderr: the capture runs to -c and exits 0 (tcpdump ignores it too).
    let mut child = net
        .cmd(&a, &[&b, "-i", "lo", "-c", "20", "-v"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    net.adopt(child.id());
    drop(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "ptcap -c 20 did not end");
        ping_lo(&net, &a, 5);
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_nothing_left(&net);
}

// ---------------------------------------------------------------------------------------
// 2. Interface churn with -i any
// ---------------------------------------------------------------------------------------

/// Open fds of `pid`, and how many of them are BPF links (fdinfo has `link_type:`).
fn fds_and_links(pid: u32) -> (usize, usize) {
    let mut fds = 0;
    let mut links = 0;
    for e in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap() {
        let e = e.unwrap();
        fds += 1;
        let info = std::fs::read_to_string(format!(
            "/proc/{pid}/fdinfo/{}",
            e.file_name().to_string_lossy()
        ))
        .unwrap_or_default();
        if info.contains("link_type:") {
            links += 1;
        }
    }
    (fds, links)
}

/// The ifindex of `dev` in `ns`.
fn ifindex(ns: &str, dev: &str) -> u32 {
    let out = run_checked(&["ip", "-n", ns, "-o", "link", "show", "dev", dev]);
    out.split(':').next().unwrap().trim().parse().unwrap()
}

/// `ip -batch` in `ns`.
fn ip_batch(ns: &str, cmds: &str) {
    let mut c = Command::new("ip")
        .args(["-n", ns, "-batch", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    c.stdin.take().unwrap().write_all(cmds.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ip -batch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Packets per interface name in a pcapng file (tshark).
fn packets_on(file: &Path, name: &str) -> usize {
    let out = run_checked(&[
        "tshark",
        "-r",
        file.to_str().unwrap(),
        "-T",
        "fields",
        "-e",
        "frame.interface_name",
    ]);
    out.lines().filter(|l| l.trim() == name).count()
}

#[test]
fn any_survives_5000_interfaces_coming_and_going() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("rob", "churn", 61);
    let dir = net.dir("churn");
    let file = dir.join("churn.pcapng");
    let a = net.a.clone();
    let b = bin();
    // -Q in: one link per interface. Each tcx attach and detach waits for an RCU grace period
    // in the kernel (~10 ms here, holding RTNL), which makes the churn, not ptcap, the cost.
    let cap = Running::start(
        &mut net,
        &a,
        &[&b, "-Q", "in", "-w", file.to_str().unwrap(), "icmp"],
    );
    let pid = cap.pid();
    let before = fds_and_links(pid);

    // Waits until ptcap holds `links` BPF links.
    let wait_links = |want: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, l) = fds_and_links(pid);
            if l == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "ptcap holds {l} BPF links, expected {want}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // Each cycle: a veth pair whose one end is in ptcap's namespace, deleted again.
    const CYCLES: usize = 5000;
    const BATCH: usize = 100;
    let nb = net.b.clone();
    let mut old_index = 0;
    let started = Instant::now();
    for round in 0..CYCLES / BATCH {
        let mut add = String::new();
        let mut del = String::new();
        for k in 0..BATCH {
            add += &format!("link add c{k}a type veth peer name c{k}b netns {nb}\n");
            del += &format!("link del c{k}a\n");
        }
        ip_batch(&a, &add);
        wait_links(before.1 + BATCH);
        if round == 0 {
            old_index = ifindex(&a, "c7a");
        }
        ip_batch(&a, &del);
        wait_links(before.1);
    }
    let churn_secs = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(200));
    let after = fds_and_links(pid);
    eprintln!(
        "{CYCLES} veth pairs in {churn_secs:.1} s; fds {} -> {}, BPF links {} -> {}",
        before.0, after.0, before.1, after.1
    );
    assert_eq!(after.1, before.1, "BPF links");
    assert!(after.0 <= before.0 + 2, "fds {} -> {}", before.0, after.0);

    // A new interface after the churn is captured...
    net.link();
    net.run_in(
        &a,
        &["ping", "-c", "3", "-i", "0.1", "-W", "2", &net.ip_b()],
    );
    // ...and one reusing a deleted interface's ifindex.
    run_checked(&["ip", "-n", &a, "link", "del", "va"]);
    run_checked(&[
        "ip",
        "-n",
        &a,
        "link",
        "add",
        "vr",
        "index",
        &old_index.to_string(),
        "type",
        "veth",
        "peer",
        "name",
        "vs",
        "netns",
        &nb,
    ]);
    assert_eq!(ifindex(&a, "vr"), old_index);
    run_checked(&[
        "ip",
        "-n",
        &a,
        "addr",
        "add",
        &format!("{}/24", net.ip_a()),
        "dev",
        "vr",
    ]);
    run_checked(&["ip", "-n", &a, "link", "set", "vr", "up"]);
    run_checked(&[
        "ip",
        "-n",
        &nb,
        "addr",
        "add",
        &format!("{}/24", net.ip_b()),
        "dev",
        "vs",
    ]);
    run_checked(&["ip", "-n", &nb, "link", "set", "vs", "up"]);
    net.run_in(
        &a,
        &["ping", "-c", "3", "-i", "0.1", "-W", "2", &net.ip_b()],
    );
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    no_panic(&stderr);
    assert!(
        !stderr.iter().any(|l| l.contains("interfaces")),
        "{stderr:?}"
    );
    assert_eq!(count_line(&stderr, "captured"), 6, "{stderr:?}");
    assert_eq!(packets_on(&file, "va"), 3);
    assert_eq!(packets_on(&file, "vr"), 3);
    assert_nothing_left(&net);
}

// ---------------------------------------------------------------------------------------
// 3. `-i IFACE` deleted under the capture
// ---------------------------------------------------------------------------------------

#[test]
fn named_interface_deleted_ends_the_capture_as_tcpdump_does() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("rob", "gone", 62);
    net.link();
    let a = net.a.clone();
    let b = bin();
    for attach in ["auto", "tc"] {
        let mut cap = Running::start(&mut net, &a, &[&b, "-i", "va", "--attach", attach, "icmp"]);
        net.run_in(
            &a,
            &["ping", "-c", "2", "-i", "0.1", "-W", "2", &net.ip_b()],
        );
        run_checked(&["ip", "-n", &a, "link", "del", "va"]);
        let deadline = Instant::now() + Duration::from_secs(5);
        while cap.is_running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            !cap.is_running(),
            "ptcap -i va runs on after va was deleted"
        );
        let (code, stderr) = cap.stop(None);
        no_panic(&stderr);
        // tcpdump: "tcpdump: pcap_loop: The interface disappeared", its counts, status 1.
        assert_eq!(code, 1, "{stderr:?}");
        let gone = stderr
            .iter()
            .position(|l| l == "ptcap: va: The interface disappeared")
            .unwrap_or_else(|| panic!("{stderr:?}"));
        let counts = stderr
            .iter()
            .position(|l| l.ends_with("packets captured"))
            .unwrap_or_else(|| panic!("{stderr:?}"));
        assert!(gone < counts, "{stderr:?}");
        assert_eq!(count_line(&stderr, "captured"), 4, "{stderr:?}");
        assert_nothing_left(&net);
        net.link();
    }
}

// ---------------------------------------------------------------------------------------
// 4. tc filters left by a SIGKILLed ptcap
// ---------------------------------------------------------------------------------------

fn tc_filters(net: &NamespacePair, ns: &str, dev: &str, hook: &str) -> String {
    net.run_in(ns, &["tc", "filter", "show", "dev", dev, hook])
}

#[test]
fn stale_tc_filters_of_a_killed_ptcap_are_removed_and_no_one_elses() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("rob", "tc", 63);
    net.link();
    let a = net.a.clone();
    let nb = net.b.clone();
    let b = bin();
    let tc_args = [b.as_str(), "-i", "vb", "--attach", "tc", "icmp"];

    // A SIGKILLed ptcap leaves its filters (the kernel holds them in the qdisc), named after
    // the program: capture (both hooks), or capture_egress where each hook has its own.
    let cap = Running::start(&mut net, &nb, &tc_args);
    let (code, _) = cap.stop(Some("-KILL"));
    assert_eq!(code, 128 + 9);
    for hook in ["ingress", "egress"] {
        let f = tc_filters(&net, &nb, "vb", hook);
        assert!(f.contains("capture"), "{hook}: {f}");
    }
    // Someone else's filters on the same hooks: a u32 one, and a (classic, unnamed) bpf one
    // at our very priority. Both only ever answer "no match".
    for hook in ["ingress", "egress"] {
        net.run_in(
            &nb,
            &[
                "tc", "filter", "add", "dev", "vb", hook, "protocol", "all", "prio", "7", "u32",
                "match", "u32", "0", "0",
            ],
        );
        net.run_in(
            &nb,
            &[
                "tc",
                "filter",
                "add",
                "dev",
                "vb",
                hook,
                "prio",
                "28788",
                "handle",
                "1",
                "bpf",
                "bytecode",
                "1,6 0 0 0,",
            ],
        );
    }

    // The next run removes ours, says so once, and captures.
    let cap = Running::start(&mut net, &nb, &tc_args);
    net.run_in(
        &a,
        &["ping", "-c", "3", "-i", "0.1", "-W", "2", &net.ip_b()],
    );
    // A second, live ptcap on the same interface: its filters are not stale.
    let cap2 = Running::start(&mut net, &nb, &tc_args);
    net.run_in(
        &a,
        &["ping", "-c", "2", "-i", "0.1", "-W", "2", &net.ip_b()],
    );
    let (code2, stderr2) = cap2.stop(Some("-INT"));
    assert_eq!(code2, 0, "{stderr2:?}");
    assert!(
        !stderr2.iter().any(|l| l.contains("removed")),
        "{stderr2:?}"
    );
    assert_eq!(count_line(&stderr2, "captured"), 4, "{stderr2:?}");
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    let said: Vec<&String> = stderr.iter().filter(|l| l.contains("removed")).collect();
    assert_eq!(
        said,
        ["ptcap: removed 2 tc filters left by a ptcap that was killed"],
        "{stderr:?}"
    );
    assert_eq!(count_line(&stderr, "captured"), 10, "{stderr:?}");

    // Theirs survive (with the qdisc they are in); none of ours is left.
    for hook in ["ingress", "egress"] {
        let f = tc_filters(&net, &nb, "vb", hook);
        assert!(f.contains("u32") && f.contains("bytecode"), "{hook}: {f}");
        assert!(!f.contains("capture"), "{hook}: {f}");
    }
    net.run_in(&nb, &["tc", "qdisc", "del", "dev", "vb", "clsact"]);
    assert_nothing_left(&net);
}

// ---------------------------------------------------------------------------------------
// 5. Counters that match the file; 6. wall-clock -G, tcpdump's -W names, temporary names
// ---------------------------------------------------------------------------------------

/// The closing lines: (captured, received by filter, dropped by kernel, received but not
/// captured), checking that they add up: every accepted packet is counted exactly once.
fn closing(stderr: &[String]) -> (u64, u64, u64, u64) {
    let captured = count_line(stderr, "packets captured");
    let received = count_line(stderr, "packets received by filter");
    let dropped = count_line(stderr, "packets dropped by kernel");
    let not_captured = stderr
        .iter()
        .find(|l| l.contains("received but not captured"))
        .map_or(0, |l| l.split(' ').next().unwrap().parse().unwrap());
    assert_eq!(
        received,
        captured + dropped + not_captured,
        "counts do not add up: {stderr:?}"
    );
    (captured, received, dropped, not_captured)
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Seconds of the day of a `g-HHMMSS.pcapng` name.
fn second_of(name: &str) -> u32 {
    let d = &name[2..8];
    let n = |r: std::ops::Range<usize>| d[r].parse::<u32>().unwrap();
    n(0..2) * 3600 + n(2..4) * 60 + n(4..6)
}

#[test]
fn counters_match_the_files_on_disk_full_rotation_and_limits() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("rob", "count", 64);
    net.link();
    let nb = net.b.clone();
    let b = bin();
    let start = |net: &mut NamespacePair, extra: &[&str]| {
        let mut args = vec![b.as_str(), "-i", "vb", "-Q", "in"];
        args.extend_from_slice(extra);
        args.push("udp port 7777");
        Running::start(net, &nb, &args)
    };

    // A full disk (1 MiB tmpfs): "captured" is what the file holds.
    let dir = net.dir("full");
    run_checked(&[
        "mount",
        "-t",
        "tmpfs",
        "-o",
        "size=1m",
        "ptcap-rob",
        dir.to_str().unwrap(),
    ]);
    net.mounts.push(dir.clone());
    let file = dir.join("full.pcapng");
    let cap = start(&mut net, &["-w", file.to_str().unwrap()]);
    udp_burst(&net, 2000, 1200);
    let (code, stderr) = cap.stop(None);
    assert_eq!(code, 1, "{stderr:?}");
    let (captured, received, _, lost) = closing(&stderr);
    let in_file = tcpdump_count(&file) as u64;
    eprintln!("disk full: {captured} captured, {in_file} in the file, {received} received, {lost} not captured");
    assert_eq!(captured, in_file, "{stderr:?}");
    assert!(
        lost > 0
            && stderr
                .iter()
                .any(|l| l.contains("lost to the output error"))
    );

    // /dev/full: nothing reaches the file, nothing is "captured".
    let cap = start(&mut net, &["-w", "/dev/full"]);
    udp_burst(&net, 500, 100);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut cap = cap;
    while cap.is_running() && Instant::now() < deadline {
        udp_burst(&net, 50, 100);
    }
    let (code, stderr) = cap.stop(None);
    assert_eq!(code, 1, "{stderr:?}");
    // (It may end at its first flush, before any packet: even the header cannot be written.)
    let (captured, _, _, _) = closing(&stderr);
    assert_eq!(captured, 0, "{stderr:?}");
    assert!(
        stderr
            .last()
            .unwrap()
            .ends_with("/dev/full: No space left on device (os error 28)"),
        "{stderr:?}"
    );

    // -G 1 -W 3 (as nobody): three files, named as tcpdump names them, holding every packet
    // counted as captured; the capture ends by itself.
    let dir = net.dir("gw");
    run_checked(&["chmod", "0777", dir.to_str().unwrap()]);
    let pattern = dir.join("g-%H%M%S.pcapng");
    let mut cap = start(
        &mut net,
        &[
            "-Z",
            "nobody",
            "-G",
            "1",
            "-W",
            "3",
            "-w",
            pattern.to_str().unwrap(),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while cap.is_running() && Instant::now() < deadline {
        udp_burst(&net, 100, 50);
    }
    let (code, stderr) = cap.stop(None);
    assert_eq!(code, 0, "{stderr:?}");
    let (captured, _, _, after) = closing(&stderr);
    let names = names_in(&dir);
    assert_eq!(names.len(), 3, "{names:?}");
    let mut total = 0;
    for (k, n) in names.iter().enumerate() {
        assert!(n.starts_with("g-") && n.ends_with(".pcapng"), "{names:?}");
        assert_eq!(n.len(), "g-000000.pcapng".len(), "{names:?}");
        if k > 0 {
            assert_eq!(second_of(n), second_of(&names[k - 1]) + 1, "{names:?}");
        }
        total += tcpdump_count(&dir.join(n)) as u64;
    }
    eprintln!("-G 1 -W 3: {captured} captured, {total} in the files, {after} not captured");
    assert_eq!(captured, total, "{stderr:?}");

    // -c: the packets after the N-th are received but not captured.
    let mut cap = start(&mut net, &["-c", "100", "-w", "/dev/null"]);
    while cap.is_running() {
        udp_burst(&net, 300, 50);
    }
    let (code, stderr) = cap.stop(None);
    assert_eq!(code, 0, "{stderr:?}");
    let (captured, _, _, _) = closing(&stderr);
    assert_eq!(captured, 100);

    // A process selection: the packets it leaves out are counted as such.
    let cap = start(&mut net, &["--pname", "no-such-comm", "-w", "/dev/null"]);
    udp_burst(&net, 200, 50);
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    let (captured, received, _, out) = closing(&stderr);
    assert_eq!((captured, received, out), (0, 200, 200), "{stderr:?}");
    assert!(stderr
        .iter()
        .any(|l| l.contains("200 left out by the process/container selection")));
    assert_nothing_left(&net);
}

#[test]
fn g_rotates_on_wall_clock_seconds_and_publishes_complete_files() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("rob", "grot", 65);
    net.link();
    let nb = net.b.clone();
    let b = bin();
    let dir = net.dir("g");
    let pattern = dir.join("g-%H%M%S.pcapng");
    let cap = Running::start(
        &mut net,
        &nb,
        &[
            &b,
            "-i",
            "vb",
            "-G",
            "1",
            "-w",
            pattern.to_str().unwrap(),
            "udp port 7777",
        ],
    );
    // Idle for 2.5 s, then traffic, then idle again.
    std::thread::sleep(Duration::from_millis(2500));
    // While it runs: complete files under their names, the current one under a temporary one.
    let during = names_in(&dir);
    let parts: Vec<&String> = during.iter().filter(|n| n.ends_with(".part")).collect();
    assert_eq!(parts.len(), 1, "{during:?}");
    assert!(parts[0].starts_with(".g-"), "{during:?}");
    udp_burst(&net, 300, 50);
    std::thread::sleep(Duration::from_millis(2000));
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    let (captured, _, _, _) = closing(&stderr);
    let names = names_in(&dir);
    assert!(names.len() >= 5, "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with(".part")), "{names:?}");
    // One file per second, none skipped, idle or not.
    for w in names.windows(2) {
        assert_eq!(second_of(&w[1]), second_of(&w[0]) + 1, "{names:?}");
    }
    let total: u64 = names
        .iter()
        .map(|n| tcpdump_count(&dir.join(n)) as u64)
        .sum();
    assert_eq!((captured, total), (300, 300), "{stderr:?}");
    assert_nothing_left(&net);
}

/// A ring far smaller than the default (`-B 16`: 16 KiB, about 50 of these packets) wraps
/// around hundreds of times during a burst: records that cross its end, the reader's
/// published position and the programs' wake-up thresholds (scaled to the ring) must still
/// give every packet whole, or count it as dropped by the kernel; the counts add up and the
/// file holds exactly the captured packets, each with its full length.
#[test]
fn a_small_ring_wraps_and_every_packet_is_whole_or_counted() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("rob", "ring", 66);
    net.link();
    let nb = net.b.clone();
    let file = net.dir("ring").join("ring.pcapng");
    let b = bin();
    let args = [
        b.as_str(),
        "-i",
        "vb",
        "-Q",
        "in",
        "-B",
        "16",
        "-w",
        file.to_str().unwrap(),
        "udp port 7777",
    ];
    let cap = Running::start(&mut net, &nb, &args);
    udp_burst(&net, 6000, 277);
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    no_panic(&stderr);
    let (captured, received, dropped, _) = closing(&stderr);
    eprintln!("-B 16: {received} received, {captured} captured, {dropped} dropped by kernel");
    assert_eq!(received, 6000, "{stderr:?}");
    // 6000 records of ~340 bytes through 16 KiB: more than a hundred wraps.
    assert!(
        captured > 3000,
        "the reader kept up with too few: {stderr:?}"
    );
    let out = Command::new("tcpdump")
        .args(["-nn", "-r", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len() as u64, captured, "{stderr:?}");
    let whole = lines
        .iter()
        .filter(|l| l.ends_with("UDP, length 277"))
        .count();
    assert_eq!(
        whole,
        lines.len(),
        "a packet came out cut or damaged: {lines:?}"
    );
}

/// `-l` (tcpdump's line buffering, also `-U` and `--immediate-mode`) shows a packet within a
/// few milliseconds, as tcpdump does: the reader's batches shrink from ~50 ms to ~5 ms. The
/// delay is the line's arrival (read from ptcap's stdout) minus the packet's own timestamp
/// (`-tt`), median of 10 pings; the bound leaves room for a loaded machine.
#[test]
fn line_buffered_text_arrives_within_milliseconds() {
    root_only!();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("rob", "lbuf", 67);
    let na = net.a.clone();
    let b = bin();
    let args = [b.as_str(), "-i", "lo", "-l", "-tt", "-c", "20", "icmp"];
    let mut cap = Running::start(&mut net, &na, &args);
    let out = cap.take_stdout().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut delays = Vec::new();
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            let ts: f64 = line.split(' ').next().unwrap().parse().unwrap();
            delays.push(now - ts);
        }
        delays
    });
    for _ in 0..10 {
        ping_lo(&net, &na, 1);
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, stderr) = cap.stop(None);
    assert_eq!(code, 0, "{stderr:?}");
    let mut delays = reader.join().unwrap();
    assert_eq!(delays.len(), 20, "{stderr:?}");
    delays.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median_ms = delays[10] * 1000.0;
    eprintln!(
        "-l: median delay {median_ms:.1} ms, max {:.1} ms",
        delays[19] * 1000.0
    );
    assert!(
        median_ms < 15.0,
        "-l lines came {median_ms:.1} ms after their packets"
    );
}

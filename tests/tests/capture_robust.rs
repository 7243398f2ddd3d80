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

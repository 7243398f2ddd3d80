//! Remote names in ptcap's live `-v` text (issue 13): a client in namespace A connects to
//! 198.18.N.7 before it resolved anything, then asks the DNS server in B for www.shop.test (a
//! CNAME chain to edge.cdn.test, A 198.18.N.7) and connects again. `ptcap -v` shows
//! `    Remote 198.18.N.7 (www.shop.test,edge.cdn.test)` on every packet of the second
//! connection, none on the first (no answer had been seen) nor on the DNS packets; without
//! those lines the text is what ptanalyze prints offline for the file the same run wrote, and
//! its packet lines are what `tcpdump -nn -v` prints for that file.
//!
//! Needs root, tcpdump and python3.

use std::process::Command;
use std::time::Duration;

use ptcap_tests::names::{start_server, CLIENT};
use ptcap_tests::pair::{NamespacePair, Running};
use ptcap_tests::{ptanalyze_bin, ptcap_bin, run_checked};

const SUBNET: u32 = 214;
const V6_WEB: &str = "fd00:198:214::7";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The text split into packets: a packet starts with a line that does not start with a space.
fn packets(text: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    for line in text.lines() {
        if line.starts_with(' ') {
            if let Some(p) = out.last_mut() {
                p.push(line);
                continue;
            }
        }
        out.push(vec![line]);
    }
    out
}

/// The context lines ptcap adds with `-v` (ptcpdump's, and the names).
fn is_context(line: &str) -> bool {
    [
        "Process (",
        "Thread (",
        "User (",
        "ParentProc (",
        "Container (",
        "Pod (",
        "Drop (",
        "NAT (",
        "Remote ",
    ]
    .iter()
    .any(|t| line.strip_prefix("    ").is_some_and(|l| l.starts_with(t)))
}

#[test]
fn live_v_text_names_the_remote_once_the_answer_was_seen() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut net = NamespacePair::new("nlive", "e2e", SUBNET);
    net.link();
    let n = format!("198.18.{SUBNET}");
    let (a, b) = (net.a.clone(), net.b.clone());
    // The server also listens on the AAAA's address (unused here).
    for addr in [format!("{n}.7/24"), format!("{V6_WEB}/64")] {
        run_checked(&["ip", "-n", &b, "addr", "add", &addr, "dev", "vb", "nodad"]);
    }
    let dir = net.dir("nlive");
    let file = dir.join("live.pcapng");
    let f = file.to_str().unwrap().to_string();
    let bin = ptcap_bin();
    let cap = Running::start(
        &mut net,
        &a,
        &[bin.to_str().unwrap(), "-i", "va", "-v", "-w", &f, "--print"],
    );
    let _server = start_server(&mut net, &b, V6_WEB);
    net.run_in(
        &a,
        &["python3", "-c", CLIENT, &n, &format!("{n}.1"), "late"],
    );
    std::thread::sleep(Duration::from_millis(300));
    let (code, live, stderr) = cap.interrupt();
    assert_eq!(code, 0, "{stderr:?}");

    let remote = format!("    Remote {n}.7 (www.shop.test,edge.cdn.test)");
    let pkts = packets(&live);
    let of_port = |port: u16| -> Vec<&Vec<&str>> {
        let (from, to) = (format!("{n}.1.{port} > "), format!(" > {n}.1.{port}: "));
        pkts.iter()
            .filter(|p| p.iter().any(|l| l.contains(&from) || l.contains(&to)))
            .collect()
    };
    let remote_lines = |p: &Vec<&str>| -> Vec<String> {
        p.iter()
            .filter(|l| l.starts_with("    Remote"))
            .map(|l| l.to_string())
            .collect()
    };
    // Before the answer: the address has no name.
    let before = of_port(40041);
    assert!(before.len() >= 6, "{live}");
    for p in &before {
        assert!(remote_lines(p).is_empty(), "named before the answer: {p:?}");
    }
    // The DNS exchange: the server's address has no name; the answer is there.
    let dns = of_port(40042);
    assert_eq!(dns.len(), 2, "{live}");
    for p in &dns {
        assert!(remote_lines(p).is_empty(), "{p:?}");
    }
    assert!(
        dns[1].iter().any(|l| l.contains("CNAME edge.cdn.test.")),
        "{:?}",
        dns[1]
    );
    // After it: each packet, both ways, shows the name beside the address, once, last.
    let after = of_port(40043);
    assert!(after.len() >= 6, "{live}");
    for p in &after {
        assert_eq!(remote_lines(p), std::slice::from_ref(&remote), "{p:?}");
        assert_eq!(*p.last().unwrap(), remote, "{p:?}");
    }
    let total = live.lines().filter(|l| l.starts_with("    Remote")).count();
    assert_eq!(total, after.len(), "{live}");
    // The connection is attributed: the name joins the process's context.
    assert!(
        after
            .iter()
            .any(|p| p.iter().any(|l| l.starts_with("    Process (pid "))),
        "{live}"
    );

    // Without the names, the text is ptanalyze's for the same file, byte for byte.
    let unnamed: String = live
        .lines()
        .filter(|l| !l.starts_with("    Remote "))
        .map(|l| format!("{l}\n"))
        .collect();
    let offline = Command::new(ptanalyze_bin())
        .args(["-v", &f])
        .output()
        .unwrap();
    assert!(offline.status.success());
    assert_eq!(unnamed, String::from_utf8(offline.stdout).unwrap());

    // And its packet lines are tcpdump's (`va Out ` and the context lines aside).
    let ours: Vec<String> = unnamed
        .lines()
        .filter(|l| !is_context(l))
        .map(|l| l.replacen(" va Out ", " ", 1).replacen(" va In ", " ", 1))
        .collect();
    let theirs = run_checked(&["tcpdump", "-nn", "-v", "-r", &f]);
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(ours, theirs);
    assert!(ours.len() >= 2 * (before.len() + after.len()), "{live}");
}

//! ptanalyze's tcpdump-style selection flags against tcpdump on real captures: `-Q in|out`
//! keeps what tcpdump's `inbound`/`outbound` keep, `-i IFACE` one interface's packets,
//! `--context` which context lines the text shows, `-r`/`-V`/`-F` where the files and the
//! expression come from.

use std::path::{Path, PathBuf};
use std::process::Command;

use ptcap_tests::peers::require_tcpdump;
use ptcap_tests::{ptanalyze_bin, TempDir};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/corpus")
        .join(name)
}

fn out(program: &Path, args: &[&str]) -> (String, String) {
    let o = Command::new(program)
        .env("TZ", "UTC")
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn q_direction_keeps_what_tcpdumps_inbound_and_outbound_keep() {
    require_tcpdump();
    let f = corpus("real-sll2.pcap");
    let f = f.to_str().unwrap();
    let tcpdump = PathBuf::from("tcpdump");
    for (q, prim) in [("in", "inbound"), ("out", "outbound")] {
        let (ours, _) = out(&ptanalyze_bin(), &["-nn", "-Q", q, "-r", f]);
        let (theirs, _) = out(&tcpdump, &["-nn", "-r", f, prim]);
        assert_eq!(ours, theirs, "-Q {q}");
        assert!(!ours.is_empty());
    }
    let (all, _) = out(&ptanalyze_bin(), &["-Q", "inout", "--count", f]);
    let (theirs, _) = out(&tcpdump, &["--count", "-r", f]);
    assert_eq!(all, theirs);
}

#[test]
fn i_keeps_one_interfaces_packets() {
    let f = corpus("eth-meta.pcapng");
    let f = f.to_str().unwrap();
    let (n, _) = out(&ptanalyze_bin(), &["--count", f]);
    let (eth0, _) = out(&ptanalyze_bin(), &["-i", "eth0", "--count", f]);
    let (any, _) = out(&ptanalyze_bin(), &["-i", "any", "--count", f]);
    let (none, _) = out(&ptanalyze_bin(), &["--interface", "eth9", "--count", f]);
    assert_eq!(eth0, n);
    assert_eq!(any, n);
    assert_eq!(none, "0 packets\n");
}

#[test]
fn context_chooses_the_context_shown() {
    let f = corpus("eth-meta.pcapng");
    let f = f.to_str().unwrap();
    let (all, _) = out(&ptanalyze_bin(), &["-v", f]);
    assert!(all.contains("    Process (pid 241879"), "{all}");
    assert!(all.contains("    ParentProc ("), "{all}");
    let (some, _) = out(&ptanalyze_bin(), &["-v", "--context", "container,pod", f]);
    assert!(!some.contains("Process ("), "{some}");
    assert!(some.contains("    Container (name web1"), "{some}");
    assert!(some.contains("    Pod (name api"), "{some}");
    let (line, _) = out(&ptanalyze_bin(), &["--context", "process", f]);
    assert!(line.contains(" wget.241879 In "), "{line}");
    assert!(!line.contains("Container ["), "{line}");
    assert!(!line.contains("ParentProc ["), "{line}");
    let o = Command::new(ptanalyze_bin())
        .args(["--context", "proces", f])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("process, thread, parentproc"));
}

#[test]
fn files_and_expression_from_r_v_and_f() {
    let dir = TempDir::new("analyze-flags");
    let eth = corpus("real-eth.pcap");
    let eth = eth.to_str().unwrap();
    let (icmp, _) = out(&ptanalyze_bin(), &[eth, "icmp"]);
    // -r FILE: every positional word is the expression (tcpdump -nr FILE icmp).
    let (r, _) = out(&ptanalyze_bin(), &["-nr", eth, "icmp"]);
    assert_eq!(r, icmp);
    // -V LIST: the files from a file.
    let list = dir.path().join("list.txt");
    std::fs::write(&list, format!("{eth}\n")).unwrap();
    let (v, _) = out(&ptanalyze_bin(), &["-V", list.to_str().unwrap(), "icmp"]);
    assert_eq!(v, icmp);
    // -F FILE: the expression from a file, comments dropped; the command line's is ignored,
    // with one line saying so.
    let filt = dir.path().join("f.txt");
    std::fs::write(&filt, "# echo\nicmp # only\n").unwrap();
    let (f, err) = out(&ptanalyze_bin(), &["-F", filt.to_str().unwrap(), eth]);
    assert_eq!(f, icmp);
    assert!(err.is_empty(), "{err}");
    let (f, err) = out(
        &ptanalyze_bin(),
        &["-F", filt.to_str().unwrap(), "-r", eth, "arp"],
    );
    assert_eq!(f, icmp);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ignored"), "{err}");
}

#[test]
fn stats_text_has_dates_durations_and_protocols_by_name() {
    require_tcpdump();
    let f = corpus("real-sll2.pcap");
    let f = f.to_str().unwrap();
    let (text, _) = out(&ptanalyze_bin(), &["--stats", f]);
    // -tttt style (TZ=UTC here), and the span with its unit.
    assert!(
        text.contains(
            "Time: first 2026-11-29 18:28:30.087155, last 2026-11-29 18:28:33.151212, span 3.064 s"
        ),
        "{text}"
    );
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "Protocols")
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(!table.is_empty(), "{text}");
    let tcpdump = PathBuf::from("tcpdump");
    for row in table {
        let cells: Vec<&str> = row.split_whitespace().collect();
        let (name, packets) = (cells[0], cells[1]);
        // libpcap's `icmp6` looks at the first next header only; MLD reports come after a
        // hop-by-hop header, which our summary walks.
        let filter = match name {
            "icmp6" => "icmp6 or (ip6[6] == 0 and ip6[40] == 58)",
            other => other,
        };
        let (theirs, _) = out(&tcpdump, &["--count", "-r", f, filter]);
        assert_eq!(theirs, format!("{packets} packets\n"), "{name}: {text}");
    }
}

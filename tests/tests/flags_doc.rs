//! docs/flags.md says, for every tcpdump 4.99 and ptcpdump flag, whether ptcap and ptanalyze
//! accept it. This checks each claim against the binaries: a flag marked `yes` (ptcap: also
//! `with -r`, given after `-r FILE`) must parse (`BIN FLAG... --help` exits 0), a flag marked
//! `no` must be refused as a usage error (exit status 2). Nothing is captured or read: clap
//! stops at `--help`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ptcap_tests::{ptanalyze_bin, ptcap_bin};

struct Row {
    line: usize,
    words: Vec<String>,
    ptcap: String,
    ptanalyze: String,
}

fn rows() -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/flags.md");
    let text = std::fs::read_to_string(&path).expect("docs/flags.md");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.strip_prefix("| `") else {
            continue;
        };
        let Some(end) = rest.find('`') else { continue };
        let cells: Vec<&str> = line.split(" | ").collect();
        assert!(cells.len() >= 4, "docs/flags.md:{}: four columns", i + 1);
        let verdict = |c: &str| {
            c.trim()
                .trim_end_matches('|')
                .trim()
                .split([' ', ':'])
                .next()
                .unwrap_or("")
                .to_string()
        };
        out.push(Row {
            line: i + 1,
            words: rest[..end].split_whitespace().map(String::from).collect(),
            ptcap: verdict(cells[2]),
            ptanalyze: verdict(cells[3]),
        });
    }
    out
}

/// Exit status of `bin pre... words... --help` (None: killed by a signal).
fn status(bin: &PathBuf, pre: &[&str], words: &[String]) -> (Option<i32>, String) {
    let out = Command::new(bin)
        .args(pre)
        .args(words)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_flag_docs_flags_md_accepts_is_accepted_and_every_refused_one_refused() {
    let rows = rows();
    assert!(rows.len() > 100, "docs/flags.md lists {} flags", rows.len());
    let (ptcap, ptanalyze) = (ptcap_bin(), ptanalyze_bin());
    let mut wrong = Vec::new();
    for r in &rows {
        if r.words.first().map(String::as_str) == Some("--") {
            continue; // `-- CMD`: a command, not a flag (tests/capture_cli runs it).
        }
        for (bin, name, verdict) in [
            (&ptcap, "ptcap", &r.ptcap),
            (&ptanalyze, "ptanalyze", &r.ptanalyze),
        ] {
            let pre: &[&str] = if verdict == "with" {
                &["-r", "x.pcapng"]
            } else {
                &[]
            };
            let want_ok = match verdict.as_str() {
                "yes" | "with" => true,
                "no" => false,
                "differs" => continue,
                other => panic!("docs/flags.md:{}: verdict {other:?} for {name}", r.line),
            };
            let (code, err) = status(bin, pre, &r.words);
            let ok = code == Some(0);
            if ok != want_ok || (!want_ok && code != Some(2)) {
                wrong.push(format!(
                    "docs/flags.md:{}: {name} {} says {verdict}, exit {code:?}: {}",
                    r.line,
                    r.words.join(" "),
                    err.lines().next().unwrap_or("")
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn unknown_flags_get_no_misleading_dash_dash_tip() {
    // clap's own hint ("to pass '-y' as a value, use '-- -y'") would run `-y` as a command.
    for bin in [ptcap_bin(), ptanalyze_bin()] {
        let out = Command::new(&bin).args(["-y", "EN10MB"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("use '--"), "{}: {err}", bin.display());
        assert!(err.contains("docs/flags.md"), "{}: {err}", bin.display());
    }
    // The first try of a ptcpdump user: read a file.
    let out = Command::new(ptcap_bin())
        .args(["-r", "/nonexistent/a.pcapng"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("use '--"), "{err}");
    assert!(err.contains("/nonexistent/a.pcapng"), "{err}");
}

#[test]
fn help_names_the_command_form_and_has_examples() {
    let out = Command::new(ptcap_bin()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("-- CMD"), "{help}");
    assert!(help.contains("EXAMPLES"), "{help}");
    assert!(help.contains("ptcap -r "), "{help}");
    let out = Command::new(ptanalyze_bin())
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("EXAMPLES"), "{help}");
}

#[test]
fn version_names_libpcap_and_libbpf() {
    let out = Command::new(ptcap_bin()).arg("--version").output().unwrap();
    let v = String::from_utf8_lossy(&out.stdout);
    let tcpdump = Command::new("tcpdump").arg("--version").output().unwrap();
    let theirs = String::from_utf8_lossy(&tcpdump.stdout);
    let libpcap = theirs
        .lines()
        .find(|l| l.starts_with("libpcap version"))
        .expect("tcpdump names libpcap");
    let lines: Vec<&str> = v.lines().collect();
    assert!(lines[0].starts_with("ptcap version "), "{v}");
    assert_eq!(lines[1], libpcap, "the same libpcap line as tcpdump's");
    assert!(lines[2].starts_with("libbpf version "), "{v}");
    let out = Command::new(ptanalyze_bin())
        .arg("--version")
        .output()
        .unwrap();
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(v.starts_with("ptanalyze version "), "{v}");
    assert!(v.contains(libpcap), "{v}");
}

#[test]
fn man_pages_and_completions_are_generated() {
    for (bin, name) in [(ptcap_bin(), "ptcap"), (ptanalyze_bin(), "ptanalyze")] {
        for what in ["man", "bash", "zsh", "fish"] {
            let out = Command::new(&bin)
                .args(["--generate", what])
                .output()
                .unwrap();
            assert!(out.status.success(), "{name} --generate {what}");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains(name), "{name} --generate {what}: {text:.200}");
            if what == "man" {
                assert!(text.contains(".TH"), "{text:.200}");
            }
        }
    }
}

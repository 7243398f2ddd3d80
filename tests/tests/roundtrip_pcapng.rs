//! Files from our pcapng writer, checked with the real tools as oracles: tshark reads, shows
//! and filters the comments and direction, capinfos accepts them, tcpdump reads every packet
//! (also several LINUX_SLL2 interfaces), and editcap/mergecap/tshark rewrites keep the
//! structured metadata (with the PEN byte-swapped) so our reader gets it back unchanged.
//! The tools must be installed: a missing tool fails the test, it is never skipped.

#[path = "../../formats/tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::path::Path;

use common::*;
use formats::meta::{CommentMode, PacketMeta};
use formats::pcapng::Direction;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write test file");
}

fn lines(s: &str) -> usize {
    s.lines().filter(|l| !l.trim().is_empty()).count()
}

/// Reads `file` with our reader and checks every packet's metadata against `expected`,
/// matched by (timestamp, bytes) because rewriters may reorder.
fn assert_metadata_survives(file: &Path, expected: &[TestPacket]) {
    let bytes = std::fs::read(file).unwrap();
    let (read, m) = read_all(&bytes);
    assert_eq!(read.len(), expected.len(), "{}", file.display());
    let by_key: HashMap<(u64, &[u8]), &TestPacket> = expected
        .iter()
        .map(|p| ((p.ts_ns, &p.data[..]), p))
        .collect();
    for r in &read {
        let want = by_key
            .get(&(r.ts_ns, &r.data[..]))
            .unwrap_or_else(|| panic!("{}: unexpected packet at {}", file.display(), r.ts_ns));
        assert_eq!(
            r.meta,
            want.meta,
            "{}: packet at {}",
            file.display(),
            r.ts_ns
        );
        assert_eq!(r.direction, want.direction);
        assert_eq!(r.orig_len, want.orig_len);
    }
    let s = m.stats();
    assert_eq!(
        (s.malformed, s.unresolved),
        (0, 0),
        "{}: {s:?}",
        file.display()
    );
}

#[test]
fn tshark_reads_shows_and_filters_our_comments() {
    let dir = tempdir("tshark");
    for mode in [CommentMode::Full, CommentMode::Short] {
        let pkts = packets(60, 1, false, BASE_TS);
        let mut cfg = config(11);
        cfg.comments = mode;
        let f = dir.join(format!("eth-{mode:?}.pcapng"));
        write(&f, &write_file(cfg, 1, false, &pkts));
        let fs = path_str(&f);

        assert_eq!(lines(&run("tshark", &["-r", fs])), pkts.len(), "{mode:?}");
        let wget = pkts.iter().filter(|p| is_wget(&p.meta)).count();
        assert!(wget > 0);
        let selected = run(
            "tshark",
            &["-r", fs, "-Y", "frame.comment contains \"wget\""],
        );
        assert_eq!(lines(&selected), wget, "{mode:?}: {selected}");

        let fields = run(
            "tshark",
            &[
                "-r",
                fs,
                "-T",
                "fields",
                "-E",
                "separator=|",
                "-e",
                "frame.comment",
                "-e",
                "frame.packet_flags_direction",
            ],
        );
        let rows: Vec<&str> = fields.lines().collect();
        assert_eq!(rows.len(), pkts.len());
        for (row, p) in rows.iter().zip(&pkts) {
            let (comment, dir) = row.rsplit_once('|').unwrap();
            let want_dir = match p.direction {
                Some(Direction::In) => "1",
                Some(Direction::Out) => "2",
                None => "",
            };
            // tshark 4.0 prints the flag as a number, possibly in hex.
            let dir_num = dir
                .strip_prefix("0x")
                .map(|h| u32::from_str_radix(h, 16).unwrap().to_string())
                .unwrap_or_else(|| dir.to_string());
            if want_dir.is_empty() {
                assert!(dir_num.is_empty() || dir_num == "0", "{row}");
            } else {
                assert_eq!(dir_num, want_dir, "{row}");
            }
            match (&p.meta.process, mode) {
                (None, _) => assert!(comment.is_empty(), "{row}"),
                (Some(proc_), CommentMode::Full) => {
                    assert!(comment.contains(&format!("PID: {}", proc_.pid)), "{row}")
                }
                (Some(proc_), _) => {
                    assert!(comment.starts_with("ptcap: "), "{row}");
                    assert!(comment.contains(&format!(".{}", proc_.pid)), "{row}");
                }
            }
        }
        let info = run("capinfos", &[fs]);
        assert!(
            info.contains(&format!("Number of packets:   {}", pkts.len()))
                || info.contains(&format!("Number of packets = {}", pkts.len()))
                || info.lines().any(|l| l.starts_with("Number of packets")
                    && l.trim_end().ends_with(&pkts.len().to_string())),
            "{info}"
        );
        assert!(info.contains("ptcap 0.1.0"), "{info}");
    }
}

#[test]
fn tshark_shows_every_sll2_interface_and_tcpdump_reads_them_all() {
    let dir = tempdir("sll2");
    let pkts = packets(80, 4, true, BASE_TS);
    let f = dir.join("any.pcapng");
    write(&f, &write_file(config(12), 4, true, &pkts));
    let fs = path_str(&f);
    let names = run(
        "tshark",
        &["-r", fs, "-T", "fields", "-e", "frame.interface_name"],
    );
    let got: Vec<&str> = names.lines().collect();
    assert_eq!(got.len(), pkts.len());
    for (n, p) in got.iter().zip(&pkts) {
        assert_eq!(*n, format!("eth{}", p.iface));
    }
    let out = run("tcpdump", &["-nn", "-r", fs]);
    assert_eq!(lines(&out), pkts.len(), "{out}");
    let info = run("capinfos", &[fs]);
    assert!(info.contains("Linux cooked-mode capture v2"), "{info}");
}

#[test]
fn tcpdump_reads_every_packet_of_an_ethernet_file() {
    let dir = tempdir("tcpdump");
    let pkts = packets(120, 1, false, BASE_TS);
    let f = dir.join("eth.pcapng");
    write(&f, &write_file(config(13), 1, false, &pkts));
    let out = run("tcpdump", &["-nn", "-r", path_str(&f)]);
    assert_eq!(lines(&out), pkts.len());
    assert!(out.contains("198.18.0.1.40000 > 198.18.0.2.80"), "{out}");
}

#[test]
fn editcap_mergecap_and_tshark_rewrites_keep_our_metadata() {
    let dir = tempdir("rewrite");
    let a = packets(50, 1, false, BASE_TS);
    // Interleaves with `a` in time, different scope: ids collide between the two files.
    let b: Vec<TestPacket> = packets(40, 1, false, BASE_TS + 500)
        .into_iter()
        .map(|mut p| {
            p.data.push(0xee); // distinct bytes for matching
            p.orig_len += 1;
            p
        })
        .collect();
    let fa = dir.join("a.pcapng");
    let fb = dir.join("b.pcapng");
    write(&fa, &write_file(config(21), 1, false, &a));
    write(&fb, &write_file(config(22), 1, false, &b));

    let edited = dir.join("edited.pcapng");
    run("editcap", &[path_str(&fa), path_str(&edited)]);
    assert_metadata_survives(&edited, &a);

    let merged = dir.join("merged.pcapng");
    run(
        "mergecap",
        &["-w", path_str(&merged), path_str(&fa), path_str(&fb)],
    );
    let all: Vec<TestPacket> = a.iter().chain(&b).cloned().collect();
    assert_metadata_survives(&merged, &all);
    // The merge really interleaves.
    let (read, _) = read_all(&std::fs::read(&merged).unwrap());
    assert!(read.windows(2).any(
        |w| w[0].data.len() % 2 != w[1].data.len() % 2 || w[0].data.last() != w[1].data.last()
    ));

    let rewritten = dir.join("tshark.pcapng");
    run(
        "tshark",
        &[
            "-r",
            path_str(&fa),
            "-F",
            "pcapng",
            "-w",
            path_str(&rewritten),
        ],
    );
    assert_metadata_survives(&rewritten, &a);

    // Big-endian input through editcap (which writes little endian) keeps it too.
    let mut cfg = config(23);
    cfg.big_endian = true;
    let be = dir.join("be.pcapng");
    write(&be, &write_file(cfg, 1, false, &a));
    assert_eq!(lines(&run("tshark", &["-r", path_str(&be)])), a.len());
    let be_edited = dir.join("be-edited.pcapng");
    run("editcap", &[path_str(&be), path_str(&be_edited)]);
    assert_metadata_survives(&be, &a);
    assert_metadata_survives(&be_edited, &a);
}

#[test]
fn comments_only_file_is_read_by_tshark_and_by_our_comment_parser() {
    let dir = tempdir("comments-only");
    let pkts = packets(30, 1, false, BASE_TS);
    let mut cfg = config(31);
    cfg.structured = false;
    let f = dir.join("ptcpdump-layout.pcapng");
    write(&f, &write_file(cfg, 1, false, &pkts));
    let wget = pkts.iter().filter(|p| is_wget(&p.meta)).count();
    let sel = run(
        "tshark",
        &[
            "-r",
            path_str(&f),
            "-Y",
            "frame.comment contains \"PID: 241879\"",
        ],
    );
    assert_eq!(lines(&sel), wget);
    let (read, m) = read_all(&std::fs::read(&f).unwrap());
    assert_eq!(m.stats().from_record, 0);
    for (r, p) in read.iter().zip(&pkts) {
        match &p.meta.process {
            None => assert_eq!(r.meta, PacketMeta::default()),
            Some(want) => {
                let got = r.meta.process.as_ref().expect("process from comments");
                assert_eq!(got.pid, want.pid);
                assert_eq!(got.exe, want.exe);
                assert_eq!(got.uid, want.uid);
                assert_eq!(r.meta.thread, p.meta.thread);
                assert_eq!(
                    r.meta.container.as_ref().map(|c| &c.id),
                    p.meta.container.as_ref().map(|c| &c.id)
                );
            }
        }
    }
}

//! Our reader against pcap-file's reader (an independent implementation) on files the real
//! tools produce: `tcpdump -w` classic pcap, `tshark -F pcapng -w`, `editcap -F nsecpcap` and
//! `-F pcap`, a big-endian classic pcap (byte-swapped here) and big-endian pcapng (our writer).
//! Also: a file whose custom options carry the PEN byte-swapped still decodes.
//! tcpdump, tshark and editcap must be installed; a missing tool fails the test.

mod common;

use std::path::Path;

use common::*;
use formats::meta::MetaReader;
use formats::pcapng::{code, CaptureReader};

#[derive(Debug, PartialEq)]
struct Pkt {
    iface: u32,
    ts_ns: u64,
    orig_len: u32,
    data: Vec<u8>,
}

fn ours(bytes: &[u8]) -> Vec<Pkt> {
    let mut r = CaptureReader::new(bytes).expect("our reader");
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().expect("our reader") {
        out.push(Pkt {
            iface: p.interface,
            ts_ns: p.ts_ns,
            orig_len: p.orig_len,
            data: p.data.to_vec(),
        });
    }
    out
}

fn oracle(bytes: &[u8]) -> Vec<Pkt> {
    let mut out = Vec::new();
    if bytes[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut r = pcap_file::pcapng::PcapNgReader::new(bytes).expect("pcap-file pcapng");
        while let Some(b) = r.next_block() {
            let (b, _) = b.expect("pcap-file pcapng block");
            if let pcap_file::pcapng::Block::EnhancedPacket(e) = b {
                out.push(Pkt {
                    iface: e.interface_id,
                    ts_ns: e.timestamp.as_nanos() as u64,
                    orig_len: e.original_len,
                    data: e.data.to_vec(),
                });
            }
        }
    } else {
        let mut r = pcap_file::pcap::PcapReader::new(bytes).expect("pcap-file pcap");
        while let Some(p) = r.next_packet() {
            let p = p.expect("pcap-file pcap packet");
            out.push(Pkt {
                iface: 0,
                ts_ns: p.timestamp().as_nanos() as u64,
                orig_len: p.orig_len(),
                data: p.data().to_vec(),
            });
        }
    }
    out
}

fn check(name: &str, bytes: &[u8], n: usize) {
    let a = ours(bytes);
    let b = oracle(bytes);
    assert_eq!(a.len(), n, "{name}");
    assert_eq!(a, b, "{name}: our reader and pcap-file disagree");
}

/// A little-endian classic pcap rewritten big endian (header and record fields swapped).
fn pcap_to_big_endian(le: &[u8]) -> Vec<u8> {
    let mut out = le.to_vec();
    let swap32 = |b: &mut [u8]| b.reverse();
    swap32(&mut out[0..4]);
    out[4..6].reverse();
    out[6..8].reverse();
    for at in [8, 12, 16, 20] {
        swap32(&mut out[at..at + 4]);
    }
    let mut at = 24;
    while at + 16 <= out.len() {
        let caplen = u32::from_le_bytes(le[at + 8..at + 12].try_into().unwrap()) as usize;
        for f in 0..4 {
            swap32(&mut out[at + 4 * f..at + 4 * f + 4]);
        }
        at += 16 + caplen;
    }
    out
}

fn file(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

#[test]
fn our_reader_agrees_with_pcap_file_on_tool_output() {
    let dir = tempdir("oracle");
    let pkts = packets(40, 1, false, BASE_TS);
    let src = file(&dir, "ours.pcapng");
    std::fs::write(&src, write_file(config(1), 1, false, &pkts)).unwrap();
    let multi = packets(40, 3, true, BASE_TS);
    let src_multi = file(&dir, "multi.pcapng");
    std::fs::write(&src_multi, write_file(config(2), 3, true, &multi)).unwrap();

    let us_pcap = file(&dir, "tcpdump.pcap");
    run("tcpdump", &["-r", &src, "-w", &us_pcap]);
    let ns_pcap = file(&dir, "nsec.pcap");
    run("editcap", &["-F", "nsecpcap", &src, &ns_pcap]);
    let plain_pcap = file(&dir, "plain.pcap");
    run("editcap", &["-F", "pcap", "-T", "ether", &src, &plain_pcap]);
    let tshark_ng = file(&dir, "tshark.pcapng");
    run("tshark", &["-r", &src, "-F", "pcapng", "-w", &tshark_ng]);
    let tshark_multi = file(&dir, "tshark-multi.pcapng");
    run(
        "tshark",
        &["-r", &src_multi, "-F", "pcapng", "-w", &tshark_multi],
    );

    for (name, n) in [
        (&src, 40),
        (&src_multi, 40),
        (&us_pcap, 40),
        (&ns_pcap, 40),
        (&plain_pcap, 40),
        (&tshark_ng, 40),
        (&tshark_multi, 40),
    ] {
        check(name, &std::fs::read(name).unwrap(), n);
    }
    // Nanoseconds survive where the format can hold them.
    let ns = ours(&std::fs::read(&ns_pcap).unwrap());
    assert_eq!(ns[0].ts_ns, BASE_TS);
    let us = ours(&std::fs::read(&us_pcap).unwrap());
    assert_eq!(us[0].ts_ns, BASE_TS / 1000 * 1000);

    let be = pcap_to_big_endian(&std::fs::read(&us_pcap).unwrap());
    check("big-endian pcap", &be, 40);
    let be_path = file(&dir, "be.pcap");
    std::fs::write(&be_path, &be).unwrap();
    assert_eq!(
        run("tcpdump", &["-r", &be_path]).lines().count(),
        40,
        "tcpdump agrees the swap is valid"
    );

    let mut cfg = config(3);
    cfg.big_endian = true;
    check("big-endian pcapng", &write_file(cfg, 3, true, &multi), 40);
}

/// Swaps the 4 PEN bytes of every custom option in a little-endian pcapng of ours.
fn swap_pens(le: &[u8]) -> Vec<u8> {
    let mut out = le.to_vec();
    let u32_at =
        |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let mut at = 0;
    let mut swapped = 0;
    while at + 12 <= le.len() {
        let ty = u32_at(le, at);
        let total = u32_at(le, at + 4);
        if ty == code::BLOCK_EPB as usize {
            let caplen = u32_at(le, at + 20);
            let mut o = at + 28 + ((caplen + 3) & !3);
            while o + 4 <= at + total - 4 {
                let c = u16::from_le_bytes([le[o], le[o + 1]]);
                let len = u16::from_le_bytes([le[o + 2], le[o + 3]]) as usize;
                if c == 0 {
                    break;
                }
                if c == code::OPT_CUSTOM_BINARY || c == code::OPT_CUSTOM_UTF8 {
                    out[o + 4..o + 8].reverse();
                    swapped += 1;
                }
                o += 4 + ((len + 3) & !3);
            }
        }
        at += total;
    }
    assert!(swapped > 0);
    out
}

#[test]
fn byte_swapped_pen_still_decodes() {
    let pkts = packets(30, 1, false, BASE_TS);
    let swapped = swap_pens(&write_file(config(4), 1, false, &pkts));
    let (read, m) = read_all(&swapped);
    for (r, p) in read.iter().zip(&pkts) {
        assert_eq!(r.meta, p.meta);
    }
    assert_eq!(
        m.stats().from_record,
        pkts.iter().filter(|p| !p.meta.is_empty()).count() as u64
    );
    // A foreign PEN is not ours: its options are ignored, the comments are used instead.
    let mut foreign = write_file(config(4), 1, false, &pkts);
    let pen = formats::pcapng::PTCAP_PEN.to_le_bytes();
    let mut i = 0;
    while i + 4 <= foreign.len() {
        if foreign[i..i + 4] == pen {
            foreign[i + 2] = 0x55;
        }
        i += 4;
    }
    let mut r = CaptureReader::new(&foreign).unwrap();
    let mut m = MetaReader::new();
    while let Some(p) = r.next_packet().unwrap() {
        m.decode(&p.options);
    }
    assert_eq!(m.stats().from_record, 0);
    assert!(m.stats().from_comments > 0);
}

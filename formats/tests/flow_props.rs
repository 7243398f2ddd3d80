//! `wire::flow::summarize` never panics: arbitrary bytes under every link type, and every
//! truncation and bit flip of the real captures (`testdata/corpus/real-*.pcap`) and
//! of the printers' crafted packets (`testdata/printers/crafted-printers.pcap`).

use std::path::PathBuf;

use formats::pcapng::{linktype, CaptureReader};
use formats::wire::flow::{summarize, summarize_inner, Transport};
use proptest::prelude::*;

const LINK_TYPES: [u16; 9] = [
    linktype::ETHERNET,
    linktype::LINUX_SLL,
    linktype::LINUX_SLL2,
    linktype::RAW,
    linktype::IPV4,
    linktype::IPV6,
    linktype::NULL,
    linktype::LOOP,
    147,
];

const REAL: [&str; 2] = ["corpus/real-eth.pcap", "corpus/real-sll2.pcap"];

fn real_packets() -> Vec<(u16, Vec<u8>)> {
    // With the printers' crafted packets: VXLAN, Geneve, GRE and IPIP among them.
    packets_of(&[REAL[0], REAL[1], "printers/crafted-printers.pcap"])
}

fn packets_of(names: &[&str]) -> Vec<(u16, Vec<u8>)> {
    let mut all = Vec::new();
    for name in names {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata")
            .join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut r = CaptureReader::new(&bytes).unwrap();
        while let Some(p) = r.next_packet().unwrap() {
            let lt = r.interfaces()[p.interface as usize].link_type;
            all.push((lt, p.data.to_vec()));
        }
    }
    all
}

#[test]
fn every_truncation_of_real_packets() {
    let pkts = real_packets();
    assert!(pkts.len() > 50);
    for (lt, data) in &pkts {
        for cut in 0..data.len() {
            let _ = summarize(*lt, &data[..cut]);
            let _ = summarize_inner(*lt, &data[..cut]);
        }
        for other in LINK_TYPES {
            let _ = summarize(other, data);
            let _ = summarize_inner(other, data);
        }
    }
    // The real captures are TCP, UDP and ICMP traffic (plus a few ARP/ND packets); the
    // crafted printers' packets also hold STP, LLDP, slow protocols, mobility headers.
    let real = packets_of(&REAL);
    let full = real
        .iter()
        .filter(|(lt, d)| summarize(*lt, d).is_some_and(|s| s.transport != Transport::None))
        .count();
    assert!(full * 10 >= real.len() * 8, "{full} of {}", real.len());
}

proptest! {
    #[test]
    fn arbitrary_bytes(lt in prop::sample::select(LINK_TYPES.to_vec()),
                       data in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = summarize(lt, &data);
        let _ = summarize_inner(lt, &data);
    }

    #[test]
    fn bit_flips_of_real_packets(idx in any::<prop::sample::Index>(),
                                 flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..6),
                                 cut in any::<prop::sample::Index>()) {
        thread_local!(static PKTS: Vec<(u16, Vec<u8>)> = real_packets());
        PKTS.with(|pkts| {
            let (lt, data) = &pkts[idx.index(pkts.len())];
            let mut d = data.clone();
            for (at, bit) in &flips {
                let i = at.index(d.len());
                d[i] ^= 1 << bit;
            }
            let end = cut.index(d.len() + 1);
            let _ = summarize(*lt, &d[..end]);
            let _ = summarize_inner(*lt, &d[..end]);
        });
    }
}

//! Bad input for the packet views and the text renderer: every truncation of real packets
//! (captured by tcpdump from namespace traffic, `testdata/corpus/real-*.pcap`) and of the
//! crafted packets of the printers' differential test (every printer it compares: IGMP, IPv4
//! options, VXLAN, Geneve, GRE, IPIP, NTP, DHCP, DHCPv6, syslog, BFD, VRRP...:
//! `testdata/printers/crafted-printers.pcap`, written by `tests/tests/printers_diff.rs`), bit flips,
//! arbitrary bytes under every link type, hostile metadata. Rendering never panics, always ends
//! with a newline, and never lets a control character other than newline and tab (tcpdump's
//! hex dumps indent with a tab) reach the output.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use formats::meta::{ContainerInfo, PacketMeta, PodInfo, ProcessInfo, Provenance};
use formats::pcapng::{linktype, CaptureReader, Direction};
use formats::render::{DumpMode, PacketRef, RenderOptions, Renderer, TimestampMode};
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
    147, // a link type we do not decode
];

/// A file of `testdata/`: `corpus/NAME` (captures every oracle test reads) or
/// `printers/NAME` (the renderer's crafted packets).
fn corpus(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (link type, packet bytes) of every packet of the real captures and the crafted ones.
fn real_packets() -> Vec<(u16, Vec<u8>)> {
    let mut all = Vec::new();
    for name in [
        "corpus/real-eth.pcap",
        "corpus/real-sll2.pcap",
        "printers/crafted-printers.pcap",
    ] {
        let bytes = corpus(name);
        let mut r = CaptureReader::new(&bytes).unwrap();
        while let Some(p) = r.next_packet().unwrap() {
            let lt = r.interfaces()[p.interface as usize].link_type;
            all.push((lt, p.data.to_vec()));
        }
    }
    assert!(
        all.len() > 50,
        "the real captures hold {} packets",
        all.len()
    );
    all
}

fn option_sets() -> Vec<RenderOptions> {
    let base = RenderOptions {
        verbose: 0,
        quiet: false,
        absolute_seq: false,
        timestamp: TimestampMode::from_count(0),
        nano: false,
        dump: DumpMode::None,
        oneline: false,
        ..RenderOptions::default()
    };
    vec![
        base,
        RenderOptions { verbose: 1, ..base },
        RenderOptions {
            verbose: 3,
            absolute_seq: true,
            ..base
        },
        RenderOptions {
            quiet: true,
            timestamp: TimestampMode::from_count(3),
            ..base
        },
        RenderOptions {
            dump: DumpMode::HexAsciiWithLink,
            verbose: 1,
            ..base
        },
        RenderOptions {
            dump: DumpMode::Ascii,
            oneline: true,
            verbose: 1,
            ..base
        },
        RenderOptions {
            dump: DumpMode::HexWithLink,
            timestamp: TimestampMode::from_count(5),
            nano: true,
            ..base
        },
        RenderOptions {
            link_header: true,
            number: true,
            verbose: 1,
            ..base
        },
        RenderOptions {
            link_header: true,
            quiet: true,
            oneline: true,
            ..base
        },
    ]
}

/// Metadata whose every string tries to smuggle terminal control sequences.
fn hostile_meta() -> PacketMeta {
    let evil = "\x1b[31mred\x1b]0;title\x07\r\n\u{9b}2J\0nul\\";
    let mut labels = BTreeMap::new();
    labels.insert(format!("k{evil}"), format!("v{evil}"));
    PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid: 7,
            comm: evil.into(),
            exe: format!("/bin/{evil}"),
            argv: vec![evil.into(), "x".into()],
            uid: Some(0),
            gid: Some(0),
        })),
        parent: Some(Arc::new(ProcessInfo {
            pid: 1,
            comm: evil.into(),
            ..ProcessInfo::default()
        })),
        container: Some(Arc::new(ContainerInfo {
            id: evil.into(),
            name: evil.into(),
            image: evil.into(),
            labels: labels.clone(),
            ..ContainerInfo::default()
        })),
        pod: Some(Arc::new(PodInfo {
            name: evil.into(),
            namespace: evil.into(),
            uid: evil.into(),
            labels: labels.clone(),
            annotations: labels,
        })),
        thread: Some(std::sync::Arc::new(formats::meta::ThreadInfo {
            tid: 8,
            name: String::new(),
        })),
        provenance: Provenance::Tuple,
        role: Default::default(),
        peer: Default::default(),
        drop: None,
        nat: None,
        nat_reply: false,
    }
}

fn check_render(
    r: &mut Renderer,
    link_type: u16,
    data: &[u8],
    iface: Option<&str>,
    meta: Option<&PacketMeta>,
) {
    let mut out = Vec::new();
    let pkt = PacketRef {
        ts_ns: 1_764_000_000_123_456_789,
        link_type,
        data,
        orig_len: data.len() as u32 + 7,
        interface: iface,
        direction: Some(Direction::Out),
    };
    r.render(&mut out, &pkt, meta);
    assert_eq!(
        out.last(),
        Some(&b'\n'),
        "output must end a line: {:?}",
        String::from_utf8_lossy(&out)
    );
    if let Some(bad) = out
        .iter()
        .find(|&&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
    {
        panic!(
            "control byte {bad:#04x} in the output for link type {link_type}, packet {data:02x?}: {:?}",
            String::from_utf8_lossy(&out)
        );
    }
    // C1 controls (U+0080..U+009F) act as escape sequences on some terminals.
    let text = String::from_utf8_lossy(&out);
    assert!(
        !text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)),
        "C1 control in {text:?}"
    );
}

#[test]
fn every_truncation_of_real_packets_renders() {
    let packets = real_packets();
    let mut renderers: Vec<Renderer> = option_sets().into_iter().map(Renderer::new).collect();
    let meta = hostile_meta();
    for (lt, data) in &packets {
        for cut in 0..=data.len() {
            for (i, r) in renderers.iter_mut().enumerate() {
                let with_meta = (i % 2 == 1).then_some(&meta);
                check_render(r, *lt, &data[..cut], Some("eth0"), with_meta);
                check_render(r, *lt, &data[..cut], None, None);
            }
        }
    }
}

#[test]
fn hostile_metadata_is_escaped() {
    let packets = real_packets();
    for opts in option_sets() {
        let mut r = Renderer::new(opts);
        let mut out = Vec::new();
        let (lt, data) = &packets[0];
        let pkt = PacketRef {
            ts_ns: 1,
            link_type: *lt,
            data,
            orig_len: data.len() as u32,
            interface: Some("eth0\x1b[2J"),
            direction: Some(Direction::In),
        };
        r.render(&mut out, &pkt, Some(&hostile_meta()));
        let text = String::from_utf8(out).expect("valid UTF-8");
        assert!(
            !text.contains('\x1b') && !text.contains('\r') && !text.contains('\0'),
            "{text:?}"
        );
        if opts.verbose > 0 || opts.oneline {
            assert!(
                text.contains("\\x1b[31mred"),
                "escaped text is shown, not dropped: {text:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_under_every_link_type(data in proptest::collection::vec(any::<u8>(), 0..300), lt in 0usize..LINK_TYPES.len(), o in 0usize..7) {
        let mut r = Renderer::new(option_sets()[o]);
        check_render(&mut r, LINK_TYPES[lt], &data, Some("any"), None);
        check_render(&mut r, LINK_TYPES[lt], &data, None, None);
    }

    #[test]
    fn bit_flips_of_real_packets(idx in any::<prop::sample::Index>(), flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..6), o in 0usize..7) {
        let packets = real_packets();
        let (lt, data) = &packets[idx.index(packets.len())];
        let mut data = data.clone();
        for (at, bit) in flips {
            let i = at.index(data.len());
            data[i] ^= 1 << bit;
        }
        let mut r = Renderer::new(option_sets()[o]);
        check_render(&mut r, *lt, &data, None, None);
    }
}

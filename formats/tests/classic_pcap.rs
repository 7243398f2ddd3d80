//! `-w NAME.pcap`: the writer's classic pcap format, read back by pcap-file (the independent
//! oracle) and by our reader: one header with the first interface's link type, every packet
//! with its time (µs or ns), lengths and bytes, no metadata; a second link type is refused.

use formats::meta::{PacketMeta, ProcessInfo};
use formats::pcapng::write::{FileFormat, InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{linktype, CaptureReader, Direction};
use std::sync::Arc;

fn write(format: FileFormat) -> Vec<u8> {
    let cfg = WriterConfig::new("test", "0").with_format(format);
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    let a = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::LINUX_SLL2, 65535))
        .unwrap();
    let b = w
        .add_interface(&InterfaceSpec::new("eth1", linktype::LINUX_SLL2, 65535))
        .unwrap();
    let meta = PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid: 7,
            comm: "curl".into(),
            ..Default::default()
        })),
        ..Default::default()
    };
    w.write_packet(
        a,
        1_700_000_000_123_456_789,
        100,
        &[1; 60],
        Some(Direction::Out),
        &meta,
    )
    .unwrap();
    w.write_packet(
        b,
        1_700_000_001_000_000_001,
        40,
        &[2; 40],
        None,
        &PacketMeta::default(),
    )
    .unwrap();
    w.write_stats(a, &Default::default(), None, None).unwrap();
    let e = w
        .add_interface(&InterfaceSpec::new("x", linktype::ETHERNET, 65535))
        .unwrap_err();
    assert!(e.to_string().contains("one link type"), "{e}");
    w.finish().unwrap()
}

#[test]
fn classic_pcap_micro_and_nano_read_back() {
    for (format, magic, frac) in [
        (FileFormat::Pcap, 0xa1b2_c3d4u32, 123_456_000u64),
        (FileFormat::PcapNano, 0xa1b2_3c4d, 123_456_789),
    ] {
        let file = write(format);
        assert_eq!(u32::from_le_bytes(file[..4].try_into().unwrap()), magic);
        assert_eq!(file.len(), 24 + 16 + 60 + 16 + 40, "no other records");
        let mut r = pcap_file::pcap::PcapReader::new(&file[..]).expect("pcap-file reads it");
        assert_eq!(
            r.header().datalink,
            pcap_file::DataLink::LINUX_SLL2,
            "the first interface's link type"
        );
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.timestamp().as_secs(), 1_700_000_000);
        assert_eq!(u64::from(p.timestamp().subsec_nanos()), frac);
        assert_eq!((p.orig_len(), p.data().len()), (100, 60));
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.data(), &[2u8; 40][..]);
        assert!(r.next_packet().is_none());
        let mut ours = CaptureReader::new(&file).unwrap();
        let first = ours.next_packet().unwrap().unwrap();
        assert_eq!(first.ts_ns, 1_700_000_000_000_000_000 + frac);
        assert!(first.direction.is_none(), "no direction in classic pcap");
    }
}

#[test]
fn the_file_name_chooses_the_format() {
    assert_eq!(FileFormat::for_path("a.pcap", false), FileFormat::Pcap);
    assert_eq!(FileFormat::for_path("A.PCAP", true), FileFormat::PcapNano);
    assert_eq!(FileFormat::for_path("a.pcapng", false), FileFormat::Pcapng);
    assert_eq!(FileFormat::for_path("-", false), FileFormat::Pcapng);
    assert_eq!(FileFormat::for_path("cap-%H.pcap", false), FileFormat::Pcap);
}

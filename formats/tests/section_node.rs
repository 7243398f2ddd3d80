//! The node a section header names ([`formats::pcapng::SectionInfo`]): written by the writer
//! when configured, given by the reader to that section's interfaces only, so a `cat` of two
//! nodes' files keeps each packet's node; a big-endian section and a file without it work.

use formats::meta::PacketMeta;
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{linktype, CaptureReader};

fn file(node: Option<&str>, big_endian: bool) -> Vec<u8> {
    let mut cfg = WriterConfig::new("test", "0");
    cfg.node = node.map(str::to_string);
    cfg.big_endian = big_endian;
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    let i = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 65535))
        .unwrap();
    w.write_packet(
        i,
        1_700_000_000_000_000_000,
        4,
        &[1, 2, 3, 4],
        None,
        &PacketMeta::default(),
    )
    .unwrap();
    w.finish().unwrap()
}

#[test]
fn each_section_gives_its_interfaces_its_node() {
    let mut cat = file(Some("node-a"), false);
    cat.extend(file(None, false));
    cat.extend(file(Some("node/b"), true));
    let mut r = CaptureReader::new(&cat).unwrap();
    let mut nodes = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        nodes.push(
            r.interfaces()[p.interface as usize]
                .node
                .as_deref()
                .map(str::to_string),
        );
    }
    assert_eq!(
        nodes,
        [Some("node-a".to_string()), None, Some("node/b".to_string())]
    );
}

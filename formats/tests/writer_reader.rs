//! Our writer → our reader (and pcap-file's reader as an independent oracle): packets and
//! metadata come back identical in every writer mode and byte order.

mod common;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Instant;

use common::*;
use formats::meta::comment::full_comments;
use formats::meta::{
    CommentMode, ContainerInfo, MetaReader, PacketMeta, PodInfo, ProcessInfo, Provenance,
};
use formats::pcapng::read::ReadErrorKind;
use formats::pcapng::write::{InterfaceSpec, PcapngWriter};
use formats::pcapng::{code, linktype, CaptureReader, Direction, PTCAP_PEN};

fn assert_same(written: &[TestPacket], read: &[ReadPacket]) {
    assert_eq!(written.len(), read.len());
    for (i, (w, r)) in written.iter().zip(read).enumerate() {
        assert_eq!(r.iface, w.iface, "packet {i}");
        assert_eq!(r.ts_ns, w.ts_ns, "packet {i}");
        assert_eq!(r.orig_len, w.orig_len, "packet {i}");
        assert_eq!(r.data, w.data, "packet {i}");
        assert_eq!(r.direction, w.direction, "packet {i}");
        assert_eq!(r.meta, w.meta, "packet {i}");
    }
}

#[test]
fn round_trip_every_mode_and_byte_order() {
    for (ifaces, sll2) in [(1, false), (4, true)] {
        let pkts = packets(200, ifaces, sll2, BASE_TS);
        for mode in [CommentMode::Full, CommentMode::Short, CommentMode::None] {
            for big_endian in [false, true] {
                let mut cfg = config(4242);
                cfg.comments = mode;
                cfg.big_endian = big_endian;
                let file = write_file(cfg, ifaces, sll2, &pkts);
                let (read, m) = read_all(&file);
                assert_same(&pkts, &read);
                let s = m.stats();
                assert_eq!((s.malformed, s.unresolved), (0, 0), "{mode:?} {big_endian}");
                // 4 processes, 2 containers, 1 pod, 2 threads: each defined once in the file.
                assert_eq!(s.definitions, 9, "{mode:?}");
            }
        }
    }
}

#[test]
fn interfaces_stats_and_section_header() {
    let pkts = packets(10, 2, true, BASE_TS);
    let file = write_file(config(1), 2, true, &pkts);
    let mut r = CaptureReader::new(&file).unwrap();
    while r.next_packet().unwrap().is_some() {}
    let ifs = r.interfaces();
    assert_eq!(ifs.len(), 2);
    assert_eq!(ifs[0].name.as_deref(), Some("eth0"));
    assert_eq!(ifs[0].filter.as_deref(), Some("tcp port 80"));
    assert_eq!(
        ifs[1].description.as_deref(),
        Some("eth1 in netns ctr1 (inode 402651)")
    );
    assert_eq!(ifs[1].link_type, linktype::LINUX_SLL2);
    let stats = r.interface_stats();
    assert_eq!(stats.len(), 2);
    assert_eq!(stats[1].0, 1);
    assert_eq!(stats[1].1.received, Some(13));
    assert_eq!(stats[1].1.os_dropped, Some(2));
    // shb_userappl, via pcap-file.
    let mut pr = pcap_file::pcapng::PcapNgReader::new(&file[..]).unwrap();
    let shb = format!("{:?}", pr.section());
    assert!(
        shb.contains("ptcap 0.1.0") && shb.contains("Linux 6.1.0-test"),
        "{shb}"
    );
    while let Some(b) = pr.next_block() {
        b.unwrap();
    }
}

#[test]
fn full_mode_writes_ptcpdump_comments_in_order() {
    let pkts = packets(5, 1, false, BASE_TS);
    let file = write_file(config(9), 1, false, &pkts);
    let mut r = CaptureReader::new(&file).unwrap();
    for p in &pkts {
        let got = r.next_packet().unwrap().unwrap();
        let comments: Vec<String> = got
            .options
            .iter()
            .filter(|(c, _)| *c == code::OPT_COMMENT)
            .map(|(_, v)| String::from_utf8(v.to_vec()).unwrap())
            .collect();
        assert_eq!(comments, full_comments(&p.meta));
        for (c, v) in got.options.iter() {
            assert!(c != 3 && c != 7, "never epb_hash or epb_verdict");
            if c == code::OPT_COMMENT {
                assert!(!v.contains(&0));
            }
        }
    }
}

/// Metadata every field of which the comment layout can carry (not the process's comm:
/// ptcpdump's layout has none; `ThreadName` is the thread's).
fn comment_representable() -> Vec<PacketMeta> {
    let p = Arc::new(ProcessInfo {
        pid: 10,
        comm: String::new(),
        exe: "/usr/bin/wget".into(),
        argv: vec!["wget".into(), "-q".into(), "http://x/\n\\e".into()],
        uid: Some(0),
        gid: Some(1),
    });
    let parent = Arc::new(ProcessInfo {
        pid: 1,
        comm: String::new(),
        exe: "/sbin/init".into(),
        argv: vec!["/sbin/init".into(), "splash".into()],
        uid: None,
        gid: None,
    });
    let c = Arc::new(ContainerInfo {
        id: "abc123".into(),
        name: "web1".into(),
        image: "busybox".into(),
        labels: [("k\"".to_string(), "v\n".to_string())].into(),
        ..Default::default()
    });
    let pod = Arc::new(PodInfo {
        name: "api".into(),
        namespace: "default".into(),
        uid: "u".into(),
        labels: BTreeMap::new(),
        annotations: [("a".to_string(), "b".to_string())].into(),
    });
    vec![
        PacketMeta::default(),
        PacketMeta {
            process: Some(p.clone()),
            parent: Some(parent),
            container: Some(c.clone()),
            pod: Some(pod),
            thread: Some(std::sync::Arc::new(formats::meta::ThreadInfo {
                tid: 11,
                name: "wget-dns".into(),
            })),
            provenance: Provenance::Comment,
            role: Default::default(),
            peer: Default::default(),
            drop: None,
            nat: None,
            nat_reply: false,
        },
        PacketMeta {
            process: Some(Arc::new(ProcessInfo {
                uid: None,
                gid: None,
                ..(*p).clone()
            })),
            container: Some(c),
            provenance: Provenance::Comment,
            ..Default::default()
        },
    ]
}

#[test]
fn comments_only_file_reads_back_through_the_comment_parser() {
    let metas = comment_representable();
    let mut cfg = config(3);
    cfg.structured = false;
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    w.add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 65535))
        .unwrap();
    for (i, m) in metas.iter().enumerate() {
        w.write_packet(0, BASE_TS + i as u64, 60, &[0; 60], None, m)
            .unwrap();
    }
    let file = w.finish().unwrap();
    let (read, m) = read_all(&file);
    for (r, want) in read.iter().zip(&metas) {
        assert_eq!(&r.meta, want);
    }
    assert_eq!(m.stats().from_comments, 2);
    assert_eq!(m.stats().from_record, 0);
    for p in CaptureReader::new(&file)
        .unwrap()
        .next_packet()
        .unwrap()
        .into_iter()
    {
        assert!(p
            .options
            .iter()
            .all(|(c, _)| c != code::OPT_CUSTOM_BINARY && c != code::OPT_CUSTOM_UTF8));
    }
}

#[test]
fn every_file_defines_its_own_entities() {
    let pkts = packets(20, 1, false, BASE_TS);
    let a = write_file(config(5), 1, false, &pkts);
    let b = write_file(config(6), 1, false, &pkts[10..]);
    // The second file alone resolves everything.
    let (read, m) = read_all(&b);
    assert_same(&pkts[10..], &read);
    assert_eq!(m.stats().unresolved, 0);
    assert!(a.len() > b.len());
}

#[test]
fn same_ids_in_two_scopes_do_not_collide() {
    // Two files whose ids collide (different entities under id 1), read through one
    // MetaReader as mergecap would interleave them.
    let c = cast();
    let m1 = PacketMeta {
        process: Some(c.wget.clone()),
        ..Default::default()
    };
    let m2 = PacketMeta {
        process: Some(c.curl.clone()),
        ..Default::default()
    };
    let one = |scope, m: &PacketMeta| {
        let mut w = PcapngWriter::new(Vec::new(), config(scope)).unwrap();
        w.add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 65535))
            .unwrap();
        w.write_packet(0, 1, 1, &[0], None, m).unwrap();
        w.write_packet(0, 2, 1, &[0], None, m).unwrap();
        w.finish().unwrap()
    };
    let f1 = one(100, &m1);
    let f2 = one(200, &m2);
    let mut reader = MetaReader::new();
    let mut r1 = CaptureReader::new(&f1).unwrap();
    let mut r2 = CaptureReader::new(&f2).unwrap();
    let a1 = reader.decode(&r1.next_packet().unwrap().unwrap().options);
    let b1 = reader.decode(&r2.next_packet().unwrap().unwrap().options);
    let a2 = reader.decode(&r1.next_packet().unwrap().unwrap().options);
    let b2 = reader.decode(&r2.next_packet().unwrap().unwrap().options);
    assert_eq!(
        (a1.process.clone(), a2.process),
        (m1.process.clone(), m1.process)
    );
    assert_eq!(
        (b1.process.clone(), b2.process),
        (m2.process.clone(), m2.process)
    );
}

#[test]
fn references_before_definitions_are_counted_then_learned() {
    let pkts = packets(10, 1, false, BASE_TS);
    let file = write_file(config(8), 1, false, &pkts);
    let mut r = CaptureReader::new(&file).unwrap();
    let mut all = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        all.push(p);
    }
    // Decode the last packet first: its entities are defined in earlier packets.
    let mut m = MetaReader::new();
    let last = m.decode(&all[6].options);
    assert!(last.process.is_none());
    assert!(m.stats().unresolved > 0);
    // A parallel reader pre-learns definitions, then decodes in any order.
    let mut m = MetaReader::new();
    for p in &all {
        m.learn_definitions(&p.options);
    }
    for (i, p) in all.iter().enumerate().rev() {
        assert_eq!(m.decode(&p.options), pkts[i].meta);
    }
    assert_eq!(m.stats().unresolved, 0);
}

#[test]
fn writer_rejects_bad_input_without_writing() {
    let mut w = PcapngWriter::new(Vec::new(), config(1)).unwrap();
    w.add_interface(&InterfaceSpec::new("any", linktype::LINUX_SLL2, 262144))
        .unwrap();
    let e = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
        .unwrap_err();
    assert!(e.to_string().contains("tcpdump"), "{e}");
    let e = w
        .add_interface(&InterfaceSpec::new("lo", linktype::LINUX_SLL2, 65535))
        .unwrap_err();
    assert!(e.to_string().contains("snaplen"), "{e}");
    assert!(w
        .add_interface(&InterfaceSpec::new("a\0b", linktype::LINUX_SLL2, 262144))
        .is_err());
    let long = "x".repeat(70000);
    assert!(w
        .add_interface(&InterfaceSpec::new(&long, linktype::LINUX_SLL2, 262144))
        .is_err());
    assert!(w
        .write_packet(3, 0, 0, &[], None, &PacketMeta::default())
        .is_err());
    let mut cfg = config(1);
    cfg.user_appl = "bad\0".into();
    assert!(PcapngWriter::new(Vec::new(), cfg).is_err());
    let file = w.finish().unwrap();
    let (read, _) = read_all(&file);
    assert!(read.is_empty());
    let mut r = CaptureReader::new(&file).unwrap();
    assert!(r.next_packet().unwrap().is_none());
    assert_eq!(r.interfaces().len(), 1);

    let mut cfg = config(1);
    cfg.allow_mixed_interfaces = true;
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    w.add_interface(&InterfaceSpec::new("any", linktype::LINUX_SLL2, 262144))
        .unwrap();
    assert_eq!(
        w.add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 1500))
            .unwrap(),
        1
    );
    // Data beyond the snaplen is cut to it.
    w.write_packet(1, 5, 3000, &[7; 2000], None, &PacketMeta::default())
        .unwrap();
    let (read, _) = read_all(&w.finish().unwrap());
    assert_eq!((read[0].data.len(), read[0].orig_len), (1500, 3000));
}

#[test]
fn oversized_definitions_shrink_to_fit_one_option() {
    let mut labels = BTreeMap::new();
    for i in 0..3000 {
        labels.insert(format!("key-{i}"), "v".repeat(100));
    }
    let c = Arc::new(ContainerInfo {
        id: "big".into(),
        labels,
        ..Default::default()
    });
    let m = PacketMeta {
        container: Some(c),
        ..Default::default()
    };
    let mut w = PcapngWriter::new(Vec::new(), config(1)).unwrap();
    w.add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 65535))
        .unwrap();
    w.write_packet(0, 1, 1, &[0], None, &m).unwrap();
    assert_eq!(w.skipped_options(), 0);
    let (read, st) = read_all(&w.finish().unwrap());
    let got = read[0].meta.container.as_ref().unwrap();
    assert_eq!(got.id, "big");
    assert!(!got.labels.is_empty() && got.labels.len() < 3000);
    assert_eq!(st.stats().malformed, 0);
}

/// A writer that accepts `room` bytes, then fails like a full disk.
struct FullDisk {
    data: Vec<u8>,
    room: usize,
}

impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.room - self.data.len());
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "No space left on device",
            ));
        }
        self.data.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn full_disk_error_has_context_and_leaves_a_readable_prefix() {
    let pkts = packets(50, 1, false, BASE_TS);
    let mut w = PcapngWriter::new(
        FullDisk {
            data: Vec::new(),
            room: 9000,
        },
        config(2),
    )
    .unwrap();
    w.add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
        .unwrap();
    let mut written = 0;
    let err = loop {
        let p = &pkts[written];
        match w.write_packet(p.iface, p.ts_ns, p.orig_len, &p.data, p.direction, &p.meta) {
            Ok(()) => written += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    assert!(err.to_string().contains("byte offset"), "{err}");
    assert!(w
        .write_packet(0, 0, 1, &[0], None, &PacketMeta::default())
        .is_err());
    // Rebuild the bytes: the writer owns them, so write the same packets to a Vec and cut.
    let full = write_file(config(2), 1, false, &pkts);
    let prefix = &full[..9000];
    let mut r = CaptureReader::new(prefix).unwrap();
    let mut m = MetaReader::new();
    let mut n = 0;
    let e = loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                assert_eq!(m.decode(&p.options), pkts[n].meta);
                n += 1;
            }
            Ok(None) => panic!("a cut file must end in an error"),
            Err(e) => break e,
        }
    };
    assert_eq!(n, written);
    assert_eq!(e.kind, ReadErrorKind::Truncated);
}

#[test]
fn pcap_file_reads_our_files_the_same() {
    for big_endian in [false, true] {
        let pkts = packets(100, 3, true, BASE_TS);
        let mut cfg = config(77);
        cfg.big_endian = big_endian;
        let file = write_file(cfg, 3, true, &pkts);
        let mut pr = pcap_file::pcapng::PcapNgReader::new(&file[..]).unwrap();
        let mut n = 0;
        let mut customs = 0;
        while let Some(block) = pr.next_block() {
            let (block, _) = block.expect("pcap-file rejects a block we wrote");
            if let pcap_file::pcapng::Block::EnhancedPacket(epb) = block {
                let want = &pkts[n];
                assert_eq!(epb.interface_id, want.iface);
                assert_eq!(epb.timestamp.as_nanos() as u64, want.ts_ns);
                assert_eq!(&epb.data[..], &want.data[..]);
                assert_eq!(epb.original_len, want.orig_len);
                for o in &epb.options {
                    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption as O;
                    use pcap_file::pcapng::blocks::opt_common::CommonOption as C;
                    match o {
                        O::Common(C::CustomBinaryCopiable(c)) => {
                            assert_eq!(c.pen, PTCAP_PEN);
                            customs += 1;
                        }
                        O::Common(C::CustomUtf8Copiable(c)) => assert_eq!(c.pen, PTCAP_PEN),
                        O::Flags(f) => assert_eq!(
                            want.direction,
                            Some(if f & 3 == 1 {
                                Direction::In
                            } else {
                                Direction::Out
                            })
                        ),
                        _ => {}
                    }
                }
                n += 1;
            }
        }
        assert_eq!(n, pkts.len());
        assert_eq!(customs, pkts.iter().filter(|p| !p.meta.is_empty()).count());
    }
}

/// Metadata bytes per packet for a typical capture: 3 processes in 2 containers, 100k packets.
#[test]
fn metadata_bytes_per_packet() {
    const N: usize = 100_000;
    let docker_labels = |name: &str| -> BTreeMap<String, String> {
        [
            ("com.docker.compose.project", "shop"),
            ("com.docker.compose.service", name),
            ("com.docker.compose.version", "2.24.5"),
            ("com.docker.compose.container-number", "1"),
            (
                "org.opencontainers.image.source",
                "https://example.com/shop",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let ctr = |id: &str, name: &str| {
        Arc::new(ContainerInfo {
            id: id.repeat(64 / id.len()),
            name: name.into(),
            image: format!("registry.example.com/shop/{name}:1.4.2"),
            labels: docker_labels(name),
            runtime: "docker".into(),
            namespace: "moby".into(),
        })
    };
    let web = ctr("a1b2c3d4", "web");
    let db = ctr("9f8e7d6c", "db");
    let proc_ = |pid: u32, comm: &str, argv: &[&str]| {
        Arc::new(ProcessInfo {
            pid,
            comm: comm.into(),
            exe: format!("/usr/bin/{comm}"),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            uid: Some(1000),
            gid: Some(1000),
        })
    };
    let shim = proc_(
        900,
        "containerd-shim",
        &[
            "/usr/bin/containerd-shim-runc-v2",
            "-namespace",
            "moby",
            "-id",
            "a1b2c3d4a1b2c3d4",
        ],
    );
    let metas = [
        PacketMeta {
            process: Some(proc_(1201, "nginx", &["nginx: worker process"])),
            parent: Some(shim.clone()),
            container: Some(web.clone()),
            pod: None,
            thread: Some(std::sync::Arc::new(formats::meta::ThreadInfo {
                tid: 1201,
                name: String::new(),
            })),
            provenance: Provenance::SocketCookie,
            role: Default::default(),
            peer: Default::default(),
            drop: None,
            nat: None,
            nat_reply: false,
        },
        PacketMeta {
            process: Some(proc_(
                1202,
                "curl",
                &["curl", "-s", "http://db:5432/health"],
            )),
            parent: Some(shim.clone()),
            container: Some(web),
            pod: None,
            thread: Some(std::sync::Arc::new(formats::meta::ThreadInfo {
                tid: 1202,
                name: String::new(),
            })),
            provenance: Provenance::Tuple,
            role: Default::default(),
            peer: Default::default(),
            drop: None,
            nat: None,
            nat_reply: false,
        },
        PacketMeta {
            process: Some(proc_(
                2301,
                "postgres",
                &[
                    "postgres",
                    "-c",
                    "config_file=/etc/postgresql/postgresql.conf",
                ],
            )),
            parent: Some(shim),
            container: Some(db),
            pod: None,
            thread: Some(std::sync::Arc::new(formats::meta::ThreadInfo {
                tid: 2301,
                name: String::new(),
            })),
            provenance: Provenance::SocketCookie,
            role: Default::default(),
            peer: Default::default(),
            drop: None,
            nat: None,
            nat_reply: false,
        },
    ];
    let data = eth_tcp(40000, 80, 40, 1);
    let size = |comments: CommentMode, structured: bool, with_meta: bool| -> (usize, f64) {
        let mut cfg = config(123_456);
        cfg.comments = comments;
        cfg.structured = structured;
        let mut w = PcapngWriter::new(Vec::with_capacity(N * 1200), cfg).unwrap();
        w.add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
            .unwrap();
        let empty = PacketMeta::default();
        let t = Instant::now();
        for i in 0..N {
            let m = if with_meta { &metas[i % 3] } else { &empty };
            w.write_packet(
                0,
                BASE_TS + i as u64,
                data.len() as u32,
                &data,
                Some(Direction::Out),
                m,
            )
            .unwrap();
        }
        let secs = t.elapsed().as_secs_f64();
        let out = w.finish().unwrap();
        (out.len(), out.len() as f64 / secs / 1e6)
    };
    let (bare, bare_mbs) = size(CommentMode::None, true, false);
    let per = |(n, _): (usize, f64)| (n - bare) as f64 / N as f64;
    let full = size(CommentMode::Full, true, true);
    let short = size(CommentMode::Short, true, true);
    let none = size(CommentMode::None, true, true);
    let ptcpdump = size(CommentMode::Full, false, true);
    println!("metadata bytes per packet ({N} packets, 3 processes, 2 containers):");
    println!("  ours, full comments + structured: {:.1}", per(full));
    println!("  ours, short comment + structured: {:.1}", per(short));
    println!("  ours, structured only:            {:.1}", per(none));
    println!("  ptcpdump layout (comments only):  {:.1}", per(ptcpdump));
    println!("writer throughput: {bare_mbs:.0} MB/s without metadata, {:.0} MB/s full metadata (build profile of this test run)", full.1);
    assert!(
        per(none) < 32.0,
        "the structured copy should cost a few bytes per packet"
    );
    assert!(per(none) < per(ptcpdump) / 10.0);
}

/// The live writer copies a block's options from the last packets with the same entities,
/// direction and record fields. Its files must be byte for byte what the encoder (which
/// encodes every packet's options, as ptanalyze does on its threads) makes of the same
/// packets: runs of one flow, two flows alternating (`-i any`'s two hooks), first uses,
/// drops, and an entity too long for one option (shrunk to fit).
#[test]
fn reused_block_options_are_the_encoders_bytes() {
    let c = cast();
    let mut metas = meta_variants(&c);
    let mut dropped = metas[1].clone();
    dropped.drop = Some(Arc::new(formats::meta::DropInfo {
        reason: "NO_SOCKET".into(),
        location: "__udp4_lib_rcv+0x5a".into(),
    }));
    metas.push(dropped);
    let mut long = metas[2].clone();
    long.process = Some(Arc::new(ProcessInfo {
        argv: vec!["x".repeat(70_000)],
        ..(*c.curl).clone()
    }));
    metas.push(long);
    let n = metas.len();
    // Runs of 1..5 packets of one metadata, then pairs alternating between two.
    let mut seq: Vec<(usize, Option<Direction>)> = Vec::new();
    for i in 0..40 {
        for _ in 0..(i % 5 + 1) {
            seq.push((i % n, Some(Direction::Out)));
        }
        for _ in 0..3 {
            seq.push(((i * 3 + 1) % n, Some(Direction::In)));
            seq.push(((i * 3 + 1) % n, Some(Direction::Out)));
            seq.push(((i * 7 + 2) % n, None));
        }
    }
    for mode in [CommentMode::Full, CommentMode::Short, CommentMode::None] {
        for big_endian in [false, true] {
            let cfg = || {
                let mut cfg = config(77);
                cfg.comments = mode;
                cfg.big_endian = big_endian;
                cfg
            };
            let spec = InterfaceSpec::new("eth0", linktype::ETHERNET, 262144);
            let mut live = PcapngWriter::new(Vec::new(), cfg()).unwrap();
            let mut enc = PcapngWriter::new(Vec::new(), cfg()).unwrap();
            live.add_interface(&spec).unwrap();
            enc.add_interface(&spec).unwrap();
            for (k, &(m, direction)) in seq.iter().enumerate() {
                let data = eth_tcp(40000 + m as u16, 80, k % 50, k as u32);
                let (ts, len) = (BASE_TS + k as u64, data.len() as u32);
                live.write_packet(0, ts, len, &data, direction, &metas[m])
                    .unwrap();
                let prep = enc.prepare(&metas[m]);
                let texts = enc.snapshot([&prep]);
                let mut buf = Vec::new();
                let packet = formats::pcapng::write::PacketFields {
                    iface: 0,
                    ts_ns: ts,
                    orig_len: len,
                    data: &data,
                    direction,
                };
                let skipped = enc
                    .encoder()
                    .encode_packet(&texts, &mut buf, packet, &metas[m], &prep)
                    .unwrap();
                enc.write_encoded(&buf, 1, skipped).unwrap();
            }
            assert_eq!(live.skipped_options(), enc.skipped_options());
            let (a, b) = (live.finish().unwrap(), enc.finish().unwrap());
            assert!(a == b, "{mode:?} big_endian={big_endian}: files differ");
            let (read, _) = read_all(&a);
            assert_eq!(read.len(), seq.len());
        }
    }
}

/// A writer that records the size of every write it is given, into a shared log.
struct Writes(std::rc::Rc<std::cell::RefCell<(Vec<u8>, Vec<usize>)>>);

impl Write for Writes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut log = self.0.borrow_mut();
        log.0.extend_from_slice(buf);
        log.1.push(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `WriterConfig::buffer`: the same bytes as block-by-block writing, in writes of at least
/// the buffer's size (but the last), `bytes_written` counting held blocks, `flush` and drop
/// handing over what is held, and a full disk failing with the offset of the held bytes.
#[test]
fn a_buffering_writer_writes_the_same_bytes_in_large_writes() {
    let pkts = packets(300, 2, false, BASE_TS);
    let plain = write_file(config(5), 2, false, &pkts);
    for hold in [1usize, 700, 4096, 1 << 20] {
        let mut cfg = config(5);
        cfg.buffer = hold;
        assert_eq!(
            write_file(cfg.clone(), 2, false, &pkts),
            plain,
            "buffer {hold}"
        );
        let log = std::rc::Rc::new(std::cell::RefCell::new((Vec::new(), Vec::new())));
        let mut w = PcapngWriter::new(Writes(log.clone()), cfg).unwrap();
        w.add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
            .unwrap();
        for p in &pkts[..150] {
            w.write_packet(0, p.ts_ns, p.orig_len, &p.data, p.direction, &p.meta)
                .unwrap();
        }
        let counted = w.bytes_written() as usize;
        let handed = log.borrow().0.len();
        assert!(
            handed <= counted && counted - handed < hold.max(1),
            "{hold}"
        );
        w.flush().unwrap();
        assert_eq!(log.borrow().0.len(), counted, "flush hands everything over");
        for p in &pkts[150..] {
            w.write_packet(0, p.ts_ns, p.orig_len, &p.data, p.direction, &p.meta)
                .unwrap();
        }
        let counted = w.bytes_written() as usize;
        drop(w);
        let (bytes, sizes) = log.borrow().clone();
        assert_eq!(bytes.len(), counted, "a dropped writer writes what it held");
        assert_eq!(read_all(&bytes).0.len(), 300);
        // Every write but each one before a flush or the drop is at least `hold` bytes.
        let small = sizes.iter().filter(|&&n| n < hold).count();
        assert!(small <= 2, "buffer {hold}: {sizes:?}");
    }
    // A full disk: the error names where the held bytes start; the prefix stays readable.
    let mut cfg = config(2);
    cfg.buffer = 4096;
    let mut w = PcapngWriter::new(
        FullDisk {
            data: Vec::new(),
            room: 9000,
        },
        cfg,
    )
    .unwrap();
    w.add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
        .unwrap();
    let err = pkts
        .iter()
        .find_map(|p| {
            w.write_packet(0, p.ts_ns, p.orig_len, &p.data, p.direction, &p.meta)
                .err()
        })
        .expect("the disk fills");
    assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    assert!(err.to_string().contains("byte offset"), "{err}");
    let at = format!("byte offset {} ", w.bytes_written());
    assert!(err.to_string().contains(&at), "{err} ({at})");
    assert!(w.bytes_written() <= 9000);
    assert!(w
        .write_packet(0, 0, 1, &[0], None, &PacketMeta::default())
        .is_err());
}

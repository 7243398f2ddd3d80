//! contrib/wireshark/ptcap.lua in Debian's tshark 4.0: the comments of our files and of
//! ptcpdump-layout files become typed fields that select exactly the right packets.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use formats::meta::{CommentMode, ContainerInfo, PacketMeta, PodInfo, ProcessInfo, Provenance};
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{linktype, Direction};
use ptcap_tests::TempDir;

fn lua() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contrib/wireshark/ptcap.lua")
}

fn proc_(pid: u32, comm: &str, exe: &str, argv: &[&str], uid: u32) -> Arc<ProcessInfo> {
    Arc::new(ProcessInfo {
        pid,
        comm: comm.into(),
        exe: exe.into(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        uid: Some(uid),
        gid: Some(uid),
    })
}

/// Packet i belongs to: 0 wget in container web1 of pod api.shop, 1 nginx (no container),
/// 2 nobody.
fn owner(i: usize) -> PacketMeta {
    let shim = proc_(
        4100,
        "containerd-shim",
        "/usr/bin/containerd-shim-runc-v2",
        &["containerd-shim-runc-v2", "-id", "web1"],
        0,
    );
    match i % 3 {
        0 => PacketMeta {
            process: Some(proc_(
                4242,
                "wget",
                "/bin/busybox",
                &["wget", "-q", "http://198.18.0.2/a b"],
                1000,
            )),
            parent: Some(shim),
            container: Some(Arc::new(ContainerInfo {
                id: "ab12".repeat(16),
                name: "web1".into(),
                image: "busybox:test".into(),
                ..ContainerInfo::default()
            })),
            pod: Some(Arc::new(PodInfo {
                name: "api".into(),
                namespace: "shop".into(),
                uid: "u-1".into(),
                ..PodInfo::default()
            })),
            thread: Some(std::sync::Arc::new(formats::meta::ThreadInfo {
                tid: 4243,
                name: "wget-dns".into(),
            })),
            provenance: Provenance::SocketCookie,
            role: Default::default(),
            peer: Default::default(),
            drop: None,
            nat: None,
            nat_reply: false,
        },
        1 => PacketMeta {
            process: Some(proc_(
                5150,
                "nginx",
                "/usr/sbin/nginx",
                &["nginx: worker process"],
                33,
            )),
            provenance: Provenance::Listener,
            ..PacketMeta::default()
        },
        _ => PacketMeta::default(),
    }
}

fn write_file(path: &Path, structured: bool, n: usize) {
    let mut cfg = WriterConfig::new("ptcap-test", "0");
    cfg.comments = CommentMode::Full;
    cfg.structured = structured;
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    let eth = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
        .unwrap();
    for i in 0..n {
        let frame = [2u8, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5, 1, 2, 3, 4];
        w.write_packet(
            eth,
            1_764_000_000_000_000_000 + i as u64,
            frame.len() as u32,
            &frame,
            Some(Direction::Out),
            &owner(i),
        )
        .unwrap();
    }
    std::fs::write(path, w.finish().unwrap()).unwrap();
}

/// Frame numbers tshark selects with `filter`, through the Lua dissector.
fn select(file: &Path, filter: &str) -> Vec<usize> {
    let out = Command::new("tshark")
        .arg("-X")
        .arg(format!("lua_script:{}", lua().display()))
        .args(["-n", "-r"])
        .arg(file)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("tshark is required (apt-get install tshark)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark failed for {filter}: {stderr}");
    assert!(
        !stderr.contains("Lua: Error"),
        "the Lua script failed: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

fn fields(file: &Path, frame: usize, names: &[&str]) -> Vec<String> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-X")
        .arg(format!("lua_script:{}", lua().display()))
        .args(["-n", "-r"])
        .arg(file);
    cmd.args(["-Y", &format!("frame.number == {frame}"), "-T", "fields"]);
    for n in names {
        cmd.args(["-e", n]);
    }
    let out = cmd.output().expect("tshark");
    String::from_utf8_lossy(&out.stdout)
        .trim_end_matches('\n')
        .split('\t')
        .map(str::to_string)
        .collect()
}

#[test]
fn lua_fields_select_the_right_packets() {
    let dir = TempDir::new("lua");
    let n = 12;
    for (name, structured) in [("ours.pcapng", true), ("ptcpdump-layout.pcapng", false)] {
        let file = dir.path().join(name);
        write_file(&file, structured, n);
        let of = |k: usize| (1..=n).filter(|f| (f - 1) % 3 == k).collect::<Vec<_>>();
        assert_eq!(select(&file, "ptcap.pid == 4242"), of(0), "{name}");
        assert_eq!(select(&file, "ptcap.pid == 5150"), of(1), "{name}");
        // The command name is the executable's base name, as ptcpdump prints it.
        assert_eq!(select(&file, "ptcap.comm == \"busybox\""), of(0), "{name}");
        assert_eq!(
            select(&file, "ptcap.thread.name == \"wget-dns\""),
            of(0),
            "{name}"
        );
        assert_eq!(select(&file, "ptcap.uid == 33"), of(1), "{name}");
        assert_eq!(select(&file, "ptcap.ppid == 4100"), of(0), "{name}");
        assert_eq!(
            select(&file, "ptcap.container.name == \"web1\""),
            of(0),
            "{name}"
        );
        assert_eq!(
            select(&file, "ptcap.container.id contains \"ab12ab12\""),
            of(0),
            "{name}"
        );
        assert_eq!(
            select(&file, "ptcap.container.image == \"busybox:test\""),
            of(0),
            "{name}"
        );
        assert_eq!(
            select(
                &file,
                "ptcap.pod.name == \"api\" && ptcap.pod.namespace == \"shop\""
            ),
            of(0),
            "{name}"
        );
        assert_eq!(
            select(&file, "ptcap.exe == \"/usr/sbin/nginx\""),
            of(1),
            "{name}"
        );
        assert_eq!(select(&file, "!ptcap"), of(2), "{name}");
        let f = fields(
            &file,
            1,
            &[
                "ptcap.pid",
                "ptcap.tid",
                "ptcap.thread.name",
                "ptcap.comm",
                "ptcap.args",
                "ptcap.container.name",
            ],
        );
        assert_eq!(
            f,
            [
                "4242",
                "4243",
                "wget-dns",
                "busybox",
                "wget -q http://198.18.0.2/a b",
                "web1"
            ],
            "{name}"
        );
    }
}

#[test]
fn lua_drop_fields() {
    let dir = TempDir::new("lua-drop");
    for structured in [true, false] {
        let path = dir.path().join(format!("drop-{structured}.pcapng"));
        let mut cfg = WriterConfig::new("ptcap-test", "0");
        cfg.comments = CommentMode::Full;
        cfg.structured = structured;
        let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
        let eth = w
            .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
            .unwrap();
        let frame = [2u8, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5, 1, 2, 3, 4];
        for i in 0..3u64 {
            let mut meta = owner(i as usize);
            if i == 1 {
                meta.drop = Some(Arc::new(formats::meta::DropInfo {
                    reason: "NETFILTER_DROP".into(),
                    location: "nft_do_chain+0x46f".into(),
                }));
            }
            w.write_packet(
                eth,
                1_764_000_000_000_000_000 + i,
                frame.len() as u32,
                &frame,
                Some(Direction::In),
                &meta,
            )
            .unwrap();
        }
        std::fs::write(&path, w.finish().unwrap()).unwrap();
        assert_eq!(
            select(&path, "ptcap.drop.reason == \"NETFILTER_DROP\""),
            vec![2]
        );
        assert_eq!(select(&path, "ptcap.drop.reason"), vec![2]);
        assert_eq!(
            fields(&path, 2, &["ptcap.drop.location"]),
            vec!["nft_do_chain+0x46f".to_string()]
        );
    }
}

/// A NATed connection's packets (the NAT comment ptcap writes): `ptcap.nat.*` hold the
/// original and translated tuples, IPv4 and IPv6, and select exactly those packets.
#[test]
fn lua_nat_fields() {
    use formats::meta::{NatInfo, Tuple};
    let dir = TempDir::new("lua-nat");
    let path = dir.path().join("nat.pcapng");
    let mut cfg = WriterConfig::new("ptcap-test", "0");
    cfg.comments = CommentMode::Full;
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    let eth = w
        .add_interface(&InterfaceSpec::new("uplink", linktype::ETHERNET, 262144))
        .unwrap();
    let frame = [2u8, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5, 1, 2, 3, 4];
    let t = |src: &str, sport, dst: &str, dport| Tuple {
        src: src.parse().unwrap(),
        sport,
        dst: dst.parse().unwrap(),
        dport,
    };
    // SNAT (masquerade) of IPv4; DNAT of IPv6 (the port's dot follows the address's colons).
    let v4 = Arc::new(NatInfo {
        proto: 6,
        original: t("198.18.100.2", 40000, "198.18.101.2", 80),
        reply: t("198.18.101.2", 80, "198.18.101.1", 40000),
        snat: true,
        dnat: false,
    });
    let v6 = Arc::new(NatInfo {
        proto: 6,
        original: t("2001:db8::9", 5555, "2001:db8::1", 8080),
        reply: t("2001:db8:1::3", 80, "2001:db8::9", 5555),
        snat: false,
        dnat: true,
    });
    // The fourth packet is the first connection's again: every translated packet carries it.
    for i in 0..4usize {
        let mut meta = owner(i % 3);
        meta.nat = match i {
            0 | 3 => Some(Arc::clone(&v4)),
            2 => Some(Arc::clone(&v6)),
            _ => None,
        };
        w.write_packet(
            eth,
            1_764_000_000_000_000_000 + i as u64,
            frame.len() as u32,
            &frame,
            Some(Direction::Out),
            &meta,
        )
        .unwrap();
    }
    std::fs::write(&path, w.finish().unwrap()).unwrap();
    assert_eq!(select(&path, "ptcap.nat.original"), vec![1, 3, 4]);
    assert_eq!(
        select(
            &path,
            "ptcap.nat.src == \"198.18.100.2\" && ptcap.nat.dport == 80"
        ),
        vec![1, 4]
    );
    assert_eq!(
        fields(
            &path,
            1,
            &[
                "ptcap.nat.original",
                "ptcap.nat.translated",
                "ptcap.nat.sport"
            ]
        ),
        vec![
            "198.18.100.2.40000 > 198.18.101.2.80".to_string(),
            "198.18.101.1.40000 > 198.18.101.2.80".to_string(),
            "40000".to_string()
        ]
    );
    assert_eq!(
        fields(
            &path,
            3,
            &["ptcap.nat.src", "ptcap.nat.dst", "ptcap.nat.dport"]
        ),
        vec![
            "2001:db8::9".to_string(),
            "2001:db8::1".to_string(),
            "8080".to_string()
        ]
    );
}

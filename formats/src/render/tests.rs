use std::sync::Arc;

use super::*;
use crate::meta::{ContainerInfo, ProcessInfo};

fn udp_raw() -> Vec<u8> {
    vec![
        0x45, 0, 0, 29, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2, 0x30, 0x39,
        0x27, 0x0f, 0, 9, 0, 0, b'x',
    ]
}

fn render(opts: RenderOptions, pkt: &PacketRef<'_>, meta: Option<&PacketMeta>) -> String {
    let mut r = Renderer::new(opts);
    let mut out = Vec::new();
    r.render(&mut out, pkt, meta);
    String::from_utf8(out).unwrap()
}

#[test]
fn ptcpdump_layout_with_process() {
    let data = udp_raw();
    let meta = PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid: 42,
            comm: "curl\x1b]".into(),
            exe: "/usr/bin/curl".into(),
            argv: vec!["curl".into(), "-s".into()],
            uid: Some(0),
            gid: None,
        })),
        container: Some(Arc::new(ContainerInfo {
            id: "abc".into(),
            name: "web".into(),
            ..Default::default()
        })),
        ..Default::default()
    };
    let pkt = PacketRef {
        ts_ns: 1_000_000_000,
        link_type: 101,
        data: &data,
        orig_len: data.len() as u32,
        interface: Some("eth0"),
        direction: Some(Direction::Out),
    };
    let opts = RenderOptions {
        timestamp: TimestampMode::None,
        ..Default::default()
    };
    assert_eq!(
        render(opts, &pkt, Some(&meta)),
        "eth0 curl\\x1b].42 Out IP 198.18.0.1.12345 > 198.18.0.2.9999: UDP, length 1, Container [web]\n"
    );
    let v = RenderOptions {
        verbose: 1,
        oneline: true,
        ..opts
    };
    assert_eq!(
        render(v, &pkt, Some(&meta)),
        "eth0 Out IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto UDP (17), length 29, bad cksum 0 (->aea8)!), \
         198.18.0.1.12345 > 198.18.0.2.9999: UDP, length 1, Process (pid 42, cmd /usr/bin/curl, args curl -s), \
         User (uid 0), Container (name web, id abc, image , labels {})\n"
    );
}

#[test]
fn never_panics_on_prefixes_of_packets() {
    let data = udp_raw();
    for lt in [1u16, 101, 113, 276, 0, 228, 229] {
        for n in 0..data.len() {
            let pkt = PacketRef {
                ts_ns: 0,
                link_type: lt,
                data: &data[..n],
                orig_len: 100,
                interface: None,
                direction: None,
            };
            for verbose in 0..3 {
                let _ = render(
                    RenderOptions {
                        verbose,
                        dump: DumpMode::HexAscii,
                        ..Default::default()
                    },
                    &pkt,
                    None,
                );
            }
        }
    }
}

#[test]
fn dates_and_deltas() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(19675), (2023, 11, 14));
    let data = udp_raw();
    let mut r = Renderer::new(RenderOptions {
        timestamp: TimestampMode::Delta,
        ..Default::default()
    });
    let mut out = Vec::new();
    for ts in [5_000u64, 1_000_000_000, 500] {
        let pkt = PacketRef {
            ts_ns: ts,
            link_type: 101,
            data: &data,
            orig_len: 29,
            interface: None,
            direction: None,
        };
        r.render(&mut out, &pkt, None);
    }
    let text = String::from_utf8(out).unwrap();
    let stamps: Vec<&str> = text.lines().map(|l| &l[..16]).collect();
    assert_eq!(
        stamps,
        [" 00:00:00.000000", " 00:00:00.999995", "-00:00:01.000000"]
    );
}

#[test]
fn ascii_dump_drops_cr_like_tcpdump() {
    let dump = |d: &[u8]| {
        let mut out = Vec::new();
        super::proto::ascii_dump(&mut out, d);
        String::from_utf8(out).unwrap()
    };
    // A CR shows as '.' only with two or more bytes after it and no LF next.
    assert_eq!(dump(b"a\rbc"), "\na.bc");
    assert_eq!(dump(b"a\rb"), "\nab");
    assert_eq!(dump(b"ab\r"), "\nab");
    assert_eq!(dump(b"a\r\nb"), "\na\nb");
    assert_eq!(dump(b"\x01\x7f\t x"), "\n..\t x");
}

#[test]
fn remote_names_only_with_v_and_beside_the_address() {
    let data = udp_raw();
    let pkt = PacketRef {
        ts_ns: 1_000_000_000,
        link_type: 101,
        data: &data,
        orig_len: data.len() as u32,
        interface: Some("eth0"),
        direction: Some(Direction::Out),
    };
    let names: Vec<Arc<str>> = vec!["www.shop.test".into(), "edge.cdn.test".into()];
    let remote = RemoteNames {
        addr: "198.18.0.2".parse().unwrap(),
        names: &names,
    };
    let named = |opts: RenderOptions, pkt: &PacketRef<'_>| {
        let mut r = Renderer::new(opts);
        let mut out = Vec::new();
        r.render_named(&mut out, pkt, None, Some(remote));
        String::from_utf8(out).unwrap()
    };
    let q = RenderOptions {
        timestamp: TimestampMode::None,
        ..Default::default()
    };
    // Without -v: nothing changes.
    assert_eq!(named(q, &pkt), render(q, &pkt, None));
    let v = RenderOptions { verbose: 1, ..q };
    let plain = render(v, &pkt, None);
    assert_eq!(
        named(v, &pkt),
        format!(
            "{}\n    Remote 198.18.0.2 (www.shop.test,edge.cdn.test)\n",
            plain.trim_end()
        )
    );
    // tcpdump's own layout (no interface, no metadata) is never added to.
    let bare = PacketRef {
        interface: None,
        direction: None,
        ..pkt
    };
    assert_eq!(named(v, &bare), render(v, &bare, None));
}

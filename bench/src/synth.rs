//! Packet synthesis for the benchmark capture.

use std::collections::BTreeMap;
use std::sync::Arc;

use formats::meta::{ContainerInfo, PacketMeta, ProcessInfo, Provenance, Role};
use formats::pcapng::Direction;

/// xorshift64*: deterministic, fast, good enough for a traffic mix.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

fn csum_add(mut sum: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn csum_fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

const ETH_LEN: usize = 14;

fn ethernet(out: &mut Vec<u8>, src: [u8; 6], dst: [u8; 6], ethertype: u16) {
    out.extend_from_slice(&dst);
    out.extend_from_slice(&src);
    out.extend_from_slice(&ethertype.to_be_bytes());
}

/// Appends an IPv4 header for `payload_len` bytes of `proto`, checksum filled.
fn ipv4(out: &mut Vec<u8>, src: [u8; 4], dst: [u8; 4], proto: u8, payload_len: usize, id: u16) {
    let start = out.len();
    let total = (20 + payload_len) as u16;
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x40, 0, 64, proto, 0, 0]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
    let c = csum_fold(csum_add(0, &out[start..start + 20]));
    out[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
}

fn ipv6(out: &mut Vec<u8>, src: [u8; 16], dst: [u8; 16], next: u8, payload_len: usize) {
    out.extend_from_slice(&[0x60, 0, 0, 0]);
    out.extend_from_slice(&(payload_len as u16).to_be_bytes());
    out.extend_from_slice(&[next, 64]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
}

/// Transport checksum over the pseudo-header of the IP header at `ip` (v4 or v6).
fn fix_l4_checksum(pkt: &mut [u8], ip: usize, l4: usize, csum_at: usize, proto: u8) {
    let len = pkt.len() - l4;
    let mut sum = if pkt[ip] >> 4 == 4 {
        csum_add(0, &pkt[ip + 12..ip + 20])
    } else {
        csum_add(0, &pkt[ip + 8..ip + 40])
    };
    sum += u32::from(proto) + len as u32;
    pkt[l4 + csum_at..l4 + csum_at + 2].copy_from_slice(&[0, 0]);
    let c = csum_fold(csum_add(sum, &pkt[l4..]));
    pkt[l4 + csum_at..l4 + csum_at + 2].copy_from_slice(&c.to_be_bytes());
}

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const PSH: u8 = 0x08;
pub const FIN: u8 = 0x01;

#[derive(Clone, Copy)]
pub enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// Appends a TCP segment (with timestamps option; MSS/SACK/wscale on SYNs).
#[allow(clippy::too_many_arguments)]
pub fn tcp(
    out: &mut Vec<u8>,
    src: Addr,
    dst: Addr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
    ts: u32,
) {
    let mut opts: Vec<u8> = Vec::with_capacity(20);
    if flags & SYN != 0 {
        opts.extend_from_slice(&[2, 4, 0x05, 0xb4, 4, 2, 8, 10]);
        opts.extend_from_slice(&ts.to_be_bytes());
        opts.extend_from_slice(
            &(if flags & ACK != 0 {
                ts.wrapping_sub(1)
            } else {
                0
            })
            .to_be_bytes(),
        );
        opts.extend_from_slice(&[1, 3, 3, 7]);
    } else {
        opts.extend_from_slice(&[1, 1, 8, 10]);
        opts.extend_from_slice(&ts.to_be_bytes());
        opts.extend_from_slice(&ts.wrapping_sub(3).to_be_bytes());
    }
    let tcp_len = 20 + opts.len() + payload.len();
    let mac = [0x02, 0, 0, 0, 0, 1];
    let mac2 = [0x02, 0, 0, 0, 0, 2];
    let start = out.len();
    let ip_at = start + ETH_LEN;
    let l4 = match (src, dst) {
        (Addr::V4(s), Addr::V4(d)) => {
            ethernet(out, mac, mac2, 0x0800);
            ipv4(out, s, d, 6, tcp_len, (seq ^ ack) as u16);
            ip_at + 20
        }
        (Addr::V6(s), Addr::V6(d)) => {
            ethernet(out, mac, mac2, 0x86dd);
            ipv6(out, s, d, 6, tcp_len);
            ip_at + 40
        }
        _ => unreachable!("mixed address families"),
    };
    out.extend_from_slice(&sport.to_be_bytes());
    out.extend_from_slice(&dport.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ack.to_be_bytes());
    let doff = ((20 + opts.len()) / 4) as u8;
    out.extend_from_slice(&[doff << 4, flags]);
    out.extend_from_slice(&64240u16.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&opts);
    out.extend_from_slice(payload);
    fix_l4_checksum(&mut out[start..], ip_at - start, l4 - start, 16, 6);
}

pub fn udp(
    out: &mut Vec<u8>,
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    payload: &[u8],
    id: u16,
) {
    let start = out.len();
    ethernet(out, [0x02, 0, 0, 0, 0, 1], [0x02, 0, 0, 0, 0, 2], 0x0800);
    ipv4(out, src, dst, 17, 8 + payload.len(), id);
    out.extend_from_slice(&sport.to_be_bytes());
    out.extend_from_slice(&dport.to_be_bytes());
    out.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    fix_l4_checksum(&mut out[start..], ETH_LEN, ETH_LEN + 20, 6, 17);
}

pub fn icmp_echo(out: &mut Vec<u8>, src: [u8; 4], dst: [u8; 4], reply: bool, id: u16, seq: u16) {
    let start = out.len();
    ethernet(out, [0x02, 0, 0, 0, 0, 1], [0x02, 0, 0, 0, 0, 2], 0x0800);
    ipv4(out, src, dst, 1, 8 + 56, seq);
    let l4 = out.len();
    out.extend_from_slice(&[if reply { 0 } else { 8 }, 0, 0, 0]);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend((0..56u8).map(|i| i.wrapping_add(0x10)));
    let c = csum_fold(csum_add(0, &out[l4..]));
    out[l4 + 2..l4 + 4].copy_from_slice(&c.to_be_bytes());
    let _ = start;
}

/// A DNS A query (or its answer) for `name`.
pub fn dns(name: &str, id: u16, answer: Option<[u8; 4]>) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(if answer.is_some() {
        &[0x81, 0x80]
    } else {
        &[0x01, 0x00]
    });
    m.extend_from_slice(&[0, 1, 0, u8::from(answer.is_some()), 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    if let Some(a) = answer {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
        m.extend_from_slice(&a);
    }
    m
}

/// One packet of the synthetic capture.
pub struct SynthPacket {
    pub interface: u32,
    pub ts_ns: u64,
    pub data: Vec<u8>,
    pub direction: Direction,
    pub meta: PacketMeta,
}

struct Owner {
    meta: PacketMeta,
}

fn owners() -> Vec<Owner> {
    let container = |id: &str, name: &str, image: &str| {
        let mut labels = BTreeMap::new();
        labels.insert("app".to_string(), name.to_string());
        labels.insert("nerdctl/name".to_string(), name.to_string());
        Arc::new(ContainerInfo {
            id: id.repeat(64 / id.len()),
            name: name.into(),
            image: image.into(),
            labels,
            runtime: "containerd".into(),
            namespace: "default".into(),
        })
    };
    let proc_ = |pid: u32, comm: &str, exe: &str, argv: &[&str]| {
        Arc::new(ProcessInfo {
            pid,
            comm: comm.into(),
            exe: exe.into(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            uid: Some(0),
            gid: Some(0),
        })
    };
    let web = container("a1b2c3d4", "web1", "docker.io/library/busybox:latest");
    let api = container("e5f6a7b8", "api", "docker.io/library/nginx:1.25");
    // Each container's processes have its own shim as parent, named by container id as
    // containerd names it.
    let shims: Vec<(String, Arc<ProcessInfo>)> = [(4100, &web), (5100, &api)]
        .into_iter()
        .map(|(pid, c)| {
            let argv = [
                "/usr/bin/containerd-shim-runc-v2",
                "-namespace",
                "default",
                "-id",
                c.id.as_str(),
            ];
            let shim = proc_(pid, "containerd-shim", argv[0], &argv);
            (c.id.clone(), shim)
        })
        .collect();
    let shim_of = |c: &ContainerInfo| {
        shims
            .iter()
            .find(|(id, _)| *id == c.id)
            .map(|(_, s)| Arc::clone(s))
    };
    let mk = |p: Arc<ProcessInfo>, c: Option<Arc<ContainerInfo>>| Owner {
        meta: PacketMeta {
            process: Some(p),
            parent: c.as_deref().and_then(shim_of),
            container: c,
            pod: None,
            thread: None,
            provenance: Provenance::SocketCookie,
            role: Default::default(),
            peer: Default::default(),
            drop: None,
            nat: None,
            nat_reply: false,
        },
    };
    vec![
        mk(
            proc_(
                4242,
                "wget",
                "/bin/busybox",
                &["wget", "-T", "10", "http://198.18.0.2/"],
            ),
            Some(web.clone()),
        ),
        mk(
            proc_(4243, "nc", "/bin/busybox", &["nc", "198.18.0.2", "80"]),
            Some(web),
        ),
        mk(
            proc_(5150, "nginx", "/usr/sbin/nginx", &["nginx: worker process"]),
            Some(api),
        ),
        mk(
            proc_(
                777,
                "curl",
                "/usr/bin/curl",
                &["curl", "-s", "https://198.18.0.9/api/v1/items?page=2"],
            ),
            None,
        ),
        mk(
            proc_(
                612,
                "systemd-resolve",
                "/lib/systemd/systemd-resolved",
                &["/lib/systemd/systemd-resolved"],
            ),
            None,
        ),
        Owner {
            meta: PacketMeta::default(),
        },
    ]
}

/// A TCP connection in progress.
struct Conn {
    client: Addr,
    server: Addr,
    cport: u16,
    sport: u16,
    cseq: u32,
    sseq: u32,
    owner: usize,
    /// Response bytes still to send.
    left: usize,
    state: u8,
}

/// Generates packets until `count`, calling `emit` for each.
pub fn generate(count: u64, seed: u64, mut emit: impl FnMut(&SynthPacket)) {
    let owners = owners();
    let mut rng = Rng::new(seed);
    let mut conns: Vec<Conn> = Vec::new();
    let mut ts_ns: u64 = 1_764_000_000_000_000_000;
    let mut pkt = SynthPacket {
        interface: 0,
        ts_ns,
        data: Vec::with_capacity(2048),
        direction: Direction::Out,
        meta: PacketMeta::default(),
    };
    let mut n = 0u64;
    let mut next_port: u16 = 32768;
    let payload = vec![b'x'; 1448];
    while n < count {
        ts_ns += 2_000 + rng.below(20_000);
        pkt.ts_ns = ts_ns;
        pkt.data.clear();
        let roll = rng.below(100);
        let ts_opt = (ts_ns / 1_000_000) as u32;
        if roll < 8 {
            // DNS query or answer from the resolver process.
            let id = rng.below(65536) as u16;
            let answer = rng.below(2) == 1;
            let names = [
                "api.internal.example",
                "web1.svc.cluster.local",
                "registry.example.org",
            ];
            let name = names[rng.below(3) as usize];
            let msg = dns(name, id, answer.then_some([198, 18, 0, 2]));
            if answer {
                udp(
                    &mut pkt.data,
                    [198, 18, 0, 53],
                    [198, 18, 0, 1],
                    53,
                    40000 + (id % 2000),
                    &msg,
                    id,
                );
            } else {
                udp(
                    &mut pkt.data,
                    [198, 18, 0, 1],
                    [198, 18, 0, 53],
                    40000 + (id % 2000),
                    53,
                    &msg,
                    id,
                );
            }
            pkt.direction = if answer {
                Direction::In
            } else {
                Direction::Out
            };
            pkt.meta = owners[4].meta.clone();
        } else if roll < 10 {
            let seq = rng.below(1000) as u16;
            let reply = rng.below(2) == 1;
            if reply {
                icmp_echo(
                    &mut pkt.data,
                    [198, 18, 0, 2],
                    [198, 18, 0, 1],
                    true,
                    77,
                    seq,
                );
            } else {
                icmp_echo(
                    &mut pkt.data,
                    [198, 18, 0, 1],
                    [198, 18, 0, 2],
                    false,
                    77,
                    seq,
                );
            }
            pkt.direction = if reply { Direction::In } else { Direction::Out };
            pkt.meta = owners[5].meta.clone();
        } else {
            if conns.len() < 64 && (conns.is_empty() || rng.below(40) == 0) {
                let v6 = rng.below(10) == 0;
                let (client, server) = if v6 {
                    let mut c = [0u8; 16];
                    c[..4].copy_from_slice(&[0xfd, 0, 0x01, 0x98]);
                    c[15] = 1;
                    let mut s = c;
                    s[15] = 2;
                    (Addr::V6(c), Addr::V6(s))
                } else {
                    (
                        Addr::V4([198, 18, 0, 1]),
                        Addr::V4([198, 18, 0, 2 + rng.below(8) as u8]),
                    )
                };
                next_port = if next_port >= 60999 {
                    32768
                } else {
                    next_port + 1
                };
                conns.push(Conn {
                    client,
                    server,
                    cport: next_port,
                    sport: if rng.below(2) == 0 { 80 } else { 443 },
                    cseq: rng.next_u64() as u32,
                    sseq: rng.next_u64() as u32,
                    owner: rng.below(4) as usize,
                    left: 500 + rng.below(200_000) as usize,
                    state: 0,
                });
            }
            let i = rng.below(conns.len() as u64) as usize;
            let c = &mut conns[i];
            let (cl, sv) = (c.client, c.server);
            let mut done = false;
            // Client-side packets belong to the owner; server replies to nginx when local.
            let mut from_client = true;
            match c.state {
                0 => {
                    tcp(
                        &mut pkt.data,
                        cl,
                        sv,
                        c.cport,
                        c.sport,
                        c.cseq,
                        0,
                        SYN,
                        &[],
                        ts_opt,
                    );
                    c.state = 1;
                }
                1 => {
                    tcp(
                        &mut pkt.data,
                        sv,
                        cl,
                        c.sport,
                        c.cport,
                        c.sseq,
                        c.cseq.wrapping_add(1),
                        SYN | ACK,
                        &[],
                        ts_opt,
                    );
                    c.cseq = c.cseq.wrapping_add(1);
                    c.sseq = c.sseq.wrapping_add(1);
                    c.state = 2;
                    from_client = false;
                }
                2 => {
                    tcp(
                        &mut pkt.data,
                        cl,
                        sv,
                        c.cport,
                        c.sport,
                        c.cseq,
                        c.sseq,
                        ACK,
                        &[],
                        ts_opt,
                    );
                    c.state = 3;
                }
                3 => {
                    let req = b"GET /index.html HTTP/1.1\r\nHost: 198.18.0.2\r\nUser-Agent: Wget\r\nAccept: */*\r\n\r\n";
                    tcp(
                        &mut pkt.data,
                        cl,
                        sv,
                        c.cport,
                        c.sport,
                        c.cseq,
                        c.sseq,
                        ACK | PSH,
                        req,
                        ts_opt,
                    );
                    c.cseq = c.cseq.wrapping_add(req.len() as u32);
                    c.state = 4;
                }
                4 => {
                    // Server data, mostly small segments with some full ones; the client ACKs.
                    let len = if rng.below(5) == 0 {
                        1448.min(c.left)
                    } else {
                        (60 + rng.below(400) as usize).min(c.left)
                    };
                    tcp(
                        &mut pkt.data,
                        sv,
                        cl,
                        c.sport,
                        c.cport,
                        c.sseq,
                        c.cseq,
                        ACK | PSH,
                        &payload[..len],
                        ts_opt,
                    );
                    c.sseq = c.sseq.wrapping_add(len as u32);
                    c.left -= len;
                    c.state = if c.left == 0 { 6 } else { 5 };
                    from_client = false;
                }
                5 => {
                    tcp(
                        &mut pkt.data,
                        cl,
                        sv,
                        c.cport,
                        c.sport,
                        c.cseq,
                        c.sseq,
                        ACK,
                        &[],
                        ts_opt,
                    );
                    c.state = 4;
                }
                6 => {
                    tcp(
                        &mut pkt.data,
                        cl,
                        sv,
                        c.cport,
                        c.sport,
                        c.cseq,
                        c.sseq,
                        FIN | ACK,
                        &[],
                        ts_opt,
                    );
                    c.cseq = c.cseq.wrapping_add(1);
                    c.state = 7;
                }
                7 => {
                    tcp(
                        &mut pkt.data,
                        sv,
                        cl,
                        c.sport,
                        c.cport,
                        c.sseq,
                        c.cseq,
                        FIN | ACK,
                        &[],
                        ts_opt,
                    );
                    c.sseq = c.sseq.wrapping_add(1);
                    c.state = 8;
                    from_client = false;
                }
                _ => {
                    tcp(
                        &mut pkt.data,
                        cl,
                        sv,
                        c.cport,
                        c.sport,
                        c.cseq,
                        c.sseq,
                        ACK,
                        &[],
                        ts_opt,
                    );
                    done = true;
                }
            }
            pkt.direction = if from_client {
                Direction::Out
            } else {
                Direction::In
            };
            pkt.meta = owners[c.owner].meta.clone();
            if done {
                conns.swap_remove(i);
            }
        }
        // Captured on the owner's host: what it sends goes out, what it receives comes in.
        if pkt.meta.process.is_some() {
            pkt.meta.role = match pkt.direction {
                Direction::Out => Role::Sender,
                Direction::In => Role::Receiver,
            };
        }
        emit(&pkt);
        n += 1;
    }
}

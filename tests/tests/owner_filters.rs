//! Owner filters are exact: for random files whose packets' owners change in runs of random
//! length (as in real captures), in ptcpdump's layout (comments only, written as its writer
//! writes them), in ours with the structured options stripped, and in ours, every owner filter
//! of ptanalyze keeps exactly the packets whose decoded owner matches — with 1 and 2 threads,
//! any chunk size, in the listing, `--json`, `--flows`, `--stats` and `-w`. In our layout some
//! runs have both ends local (the structured record then names a peer): such a packet is kept
//! when either end matches.
//!
//! The expected set comes from decoding the file packet by packet with `MetaReader` and an
//! owner predicate written here, independently of ptanalyze's filter code. It also checks that
//! the decoded owner is the one written, so a decoder that gave every packet the same owner
//! could not pass.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use formats::meta::{
    CommentMode, ContainerInfo, MetaReader, PacketMeta, Peer, PodInfo, ProcessInfo, Provenance,
    ThreadInfo,
};
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{linktype, CaptureReader, Direction};
use ptcap_tests::ptcpdump::{self, Owner};
use ptcap_tests::{ptanalyze_ok, ptanalyze_packets, udp_frame, TempDir};

/// xorshift64*: reproducible runs; the seed is printed on failure.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Six owners: processes in and out of containers, two sharing a container, pods, users.
fn owners() -> Vec<Owner> {
    let labels = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
    let mk = |i: u32, exe: &str, container: &str, pod: &str, uid: u32| Owner {
        pid: 1000 + i * 111,
        exe: exe.into(),
        args: vec![exe.rsplit('/').next().unwrap().into(), format!("--n={i}")],
        tid: if i % 2 == 0 { 1000 + i * 111 + 1 } else { 0 },
        thread_name: if i % 2 == 0 {
            format!("worker{i}")
        } else {
            String::new()
        },
        uid,
        gid: uid,
        parent_pid: if container.is_empty() { 1 } else { 900 + i },
        parent_exe: if container.is_empty() {
            "/sbin/init".into()
        } else {
            "/usr/bin/containerd-shim-runc-v2".into()
        },
        parent_args: vec!["shim".into(), "-id".into(), container.into()],
        container_name: container.into(),
        container_id: if container.is_empty() {
            String::new()
        } else {
            format!("{:0>12}{}", container.len(), container).repeat(4)
        },
        container_image: if container.is_empty() {
            String::new()
        } else {
            "busybox:test".into()
        },
        container_labels: if container.is_empty() {
            BTreeMap::new()
        } else {
            labels("app", container)
        },
        pod_name: pod.into(),
        pod_namespace: if pod.is_empty() {
            String::new()
        } else {
            "shop".into()
        },
        pod_uid: if pod.is_empty() {
            String::new()
        } else {
            format!("uid-{pod}")
        },
        pod_labels: if pod.is_empty() {
            BTreeMap::new()
        } else {
            labels("tier", pod)
        },
    };
    vec![
        mk(0, "/usr/bin/wget", "web0", "", 0),
        mk(1, "/bin/busybox", "web1", "front", 1000),
        mk(2, "/usr/sbin/nginx", "web1", "front", 1000),
        mk(3, "/usr/bin/curl", "", "", 1001),
        mk(4, "/usr/bin/redis-server", "db", "cache", 999),
        mk(5, "/usr/bin/python3", "api", "api.v2", 0),
    ]
}

/// What our writer gets for an owner: the same facts as the model holds them.
fn meta_of(o: &Owner) -> PacketMeta {
    let base = |exe: &str| exe.rsplit('/').next().unwrap_or("").to_string();
    PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid: o.pid,
            comm: base(&o.exe),
            exe: o.exe.clone(),
            argv: o.args.clone(),
            uid: (o.uid > 0).then_some(o.uid),
            gid: (o.uid > 0).then_some(o.gid),
        })),
        parent: Some(Arc::new(ProcessInfo {
            pid: o.parent_pid,
            comm: base(&o.parent_exe),
            exe: o.parent_exe.clone(),
            argv: o.parent_args.clone(),
            ..Default::default()
        })),
        container: (!o.container_id.is_empty()).then(|| {
            Arc::new(ContainerInfo {
                id: o.container_id.clone(),
                name: o.container_name.clone(),
                image: o.container_image.clone(),
                labels: o.container_labels.clone(),
                ..Default::default()
            })
        }),
        pod: (!o.pod_name.is_empty()).then(|| {
            Arc::new(PodInfo {
                name: o.pod_name.clone(),
                namespace: o.pod_namespace.clone(),
                uid: o.pod_uid.clone(),
                labels: o.pod_labels.clone(),
                annotations: BTreeMap::new(),
            })
        }),
        thread: (o.tid > 0).then(|| {
            Arc::new(ThreadInfo {
                tid: o.tid,
                name: o.thread_name.clone(),
            })
        }),
        provenance: Provenance::SocketCookie,
        role: Default::default(),
        peer: Default::default(),
        drop: None,
        nat: None,
        nat_reply: false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    /// Written block by block as ptcpdump's writer writes (tests/src/ptcpdump.rs).
    Ptcpdump,
    /// Ours, `--comments full`, structured options stripped (`structured = false`).
    OursCommentsOnly,
    /// Ours with the structured options (and full comments).
    Ours,
}

/// One packet's ground truth: timestamp (unique), owner index (None: no metadata) and, in our
/// layout, the other local end.
struct Truth {
    ts_ns: u64,
    owner: Option<usize>,
    peer: Option<usize>,
}

/// A file of `n` packets whose owners change in runs of 1..=max_run packets; some runs have
/// no owner at all.
fn make_file(
    rng: &mut Rng,
    layout: Layout,
    n: usize,
    max_run: u64,
    owners: &[Owner],
) -> (Vec<u8>, Vec<Truth>) {
    let base_ts = 1_764_000_000_000_000_000u64;
    let mut truth = Vec::with_capacity(n);
    while truth.len() < n {
        let run = 1 + rng.below(max_run) as usize;
        let owner = match rng.below(owners.len() as u64 + 1) as usize {
            k if k == owners.len() => None,
            k => Some(k),
        };
        let peer = match (layout, owner) {
            (Layout::Ours, Some(k)) if rng.below(2) == 0 => {
                Some((k + 1 + rng.below(owners.len() as u64 - 1) as usize) % owners.len())
            }
            _ => None,
        };
        for _ in 0..run.min(n - truth.len()) {
            // Microsecond steps: the listing's -tt timestamps tell packets apart.
            let ts_ns = base_ts + truth.len() as u64 * 1000;
            truth.push(Truth { ts_ns, owner, peer });
        }
    }
    let frame = |i: usize, t: &Truth| {
        let o = t.owner.map_or(9, |k| k as u16);
        udp_frame(20_000 + o * 16 + (i % 3) as u16, 53, &[0x5a; 8])
    };
    let bytes = match layout {
        Layout::Ptcpdump => {
            let mut out = ptcpdump::header();
            for (i, t) in truth.iter().enumerate() {
                let f = frame(i, t);
                ptcpdump::packet(
                    &mut out,
                    t.ts_ns,
                    &f,
                    i % 2 == 0,
                    t.owner.map(|k| &owners[k]),
                );
            }
            out
        }
        Layout::OursCommentsOnly | Layout::Ours => {
            let mut cfg = WriterConfig::new("ptcap-test", "0");
            cfg.comments = CommentMode::Full;
            cfg.structured = layout == Layout::Ours;
            let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
            let eth = w
                .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262_144))
                .unwrap();
            // One `Arc` set per owner, as ptcap's tables hand them out.
            let metas: Vec<PacketMeta> = owners.iter().map(meta_of).collect();
            let none = PacketMeta::default();
            let with_peer = |k: usize, j: usize| {
                let p = &metas[j];
                PacketMeta {
                    peer: Peer {
                        process: p.process.clone(),
                        parent: p.parent.clone(),
                        container: p.container.clone(),
                        pod: p.pod.clone(),
                    },
                    ..metas[k].clone()
                }
            };
            for (i, t) in truth.iter().enumerate() {
                let f = frame(i, t);
                let both;
                let m = match (t.owner, t.peer) {
                    (Some(k), Some(j)) => {
                        both = with_peer(k, j);
                        &both
                    }
                    (Some(k), None) => &metas[k],
                    _ => &none,
                };
                let dir = if i % 2 == 0 {
                    Direction::Out
                } else {
                    Direction::In
                };
                w.write_packet(eth, t.ts_ns, f.len() as u32, &f, Some(dir), m)
                    .unwrap();
            }
            w.finish().unwrap()
        }
    };
    (bytes, truth)
}

/// Every packet's timestamp and decoded metadata, read sequentially.
fn decode_all(bytes: &[u8]) -> Vec<(u64, PacketMeta)> {
    let mut r = CaptureReader::new(bytes).unwrap();
    let mut meta = MetaReader::new();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        out.push((p.ts_ns, meta.decode(&p.options)));
    }
    out
}

/// An owner filter as the user types it, and the same filter as a predicate on decoded
/// metadata (written here, not taken from ptanalyze).
struct Filter {
    args: Vec<String>,
    keeps: Box<dyn Fn(&PacketMeta) -> bool>,
}

fn filters(owners: &[Owner], rng: &mut Rng) -> Vec<Filter> {
    let mut out: Vec<Filter> = Vec::new();
    let pick = |rng: &mut Rng| owners[rng.below(owners.len() as u64) as usize].clone();
    let o = pick(rng);
    let name = o.container_name.clone();
    if !name.is_empty() {
        out.push(Filter {
            args: vec!["--container-name".into(), name.clone()],
            keeps: Box::new(move |m| m.container.as_ref().is_some_and(|c| c.name == name)),
        });
    }
    out.push(Filter {
        args: vec!["--container-name".into(), "web1".into()],
        keeps: Box::new(|m| m.container.as_ref().is_some_and(|c| c.name == "web1")),
    });
    let o = pick(rng);
    if !o.container_id.is_empty() {
        let prefix = o.container_id[..16].to_string();
        out.push(Filter {
            args: vec!["--container-id".into(), prefix.clone()],
            keeps: Box::new(move |m| {
                m.container
                    .as_ref()
                    .is_some_and(|c| c.id.starts_with(&prefix))
            }),
        });
    }
    let o = pick(rng);
    let pid = o.pid;
    out.push(Filter {
        args: vec!["--pid".into(), pid.to_string()],
        keeps: Box::new(move |m| m.process.as_ref().is_some_and(|p| p.pid == pid)),
    });
    let o = pick(rng);
    let pname = o.exe.rsplit('/').next().unwrap().to_string();
    out.push(Filter {
        args: vec!["--pname".into(), pname.clone()],
        keeps: Box::new(move |m| {
            m.process.as_ref().is_some_and(|p| {
                p.comm == pname || p.exe.rsplit('/').next() == Some(pname.as_str())
            })
        }),
    });
    let o = pick(rng);
    let uid = o.uid;
    out.push(Filter {
        args: vec!["--uid".into(), uid.to_string()],
        // A uid the file does not state (ptcpdump writes none for root) matches no --uid.
        keeps: Box::new(move |m| m.process.as_ref().is_some_and(|p| p.uid == Some(uid))),
    });
    for o in owners.iter().filter(|o| !o.pod_name.is_empty()).take(2) {
        let (name, ns) = (o.pod_name.clone(), o.pod_namespace.clone());
        out.push(Filter {
            args: vec!["--pod-name".into(), format!("{name}.{ns}")],
            keeps: Box::new(move |m| {
                m.pod
                    .as_ref()
                    .is_some_and(|p| p.name == name && p.namespace == ns)
            }),
        });
    }
    // Kinds combine with AND.
    let o = pick(rng);
    let (name, pid) = (o.container_name.clone(), o.pid);
    out.push(Filter {
        args: vec![
            "--container-name".into(),
            name.clone(),
            "--pid".into(),
            pid.to_string(),
        ],
        keeps: Box::new(move |m| {
            m.container.as_ref().is_some_and(|c| c.name == name)
                && m.process.as_ref().is_some_and(|p| p.pid == pid)
        }),
    });
    out
}

/// The filter's predicate on the owner, or on the peer as an owner of its own.
fn either_end(f: &Filter, m: &PacketMeta) -> bool {
    let peer = PacketMeta {
        process: m.peer.process.clone(),
        parent: m.peer.parent.clone(),
        container: m.peer.container.clone(),
        pod: m.peer.pod.clone(),
        ..PacketMeta::default()
    };
    (f.keeps)(m) || (!m.peer.is_empty() && (f.keeps)(&peer))
}

fn ptanalyze(args: &[String], file: &Path) -> String {
    let mut a: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    a.push(file.as_os_str());
    ptanalyze_ok(a)
}

/// `-tt` listing: the timestamps of the packets listed, as ns.
fn listed_ts(text: &str) -> BTreeSet<u64> {
    text.lines()
        .map(|l| {
            let ts = l.split(' ').next().unwrap();
            let (s, us) = ts.split_once('.').unwrap_or_else(|| panic!("line {l:?}"));
            s.parse::<u64>().unwrap() * 1_000_000_000 + us.parse::<u64>().unwrap() * 1000
        })
        .collect()
}

/// Equal sets, or a panic naming the counts and the first differences (not whole sets).
fn same(got: &BTreeSet<u64>, want: &BTreeSet<u64>, what: &str) {
    if got != want {
        let extra: Vec<_> = got.difference(want).take(5).collect();
        let missing: Vec<_> = want.difference(got).take(5).collect();
        panic!(
            "{what}: kept {} packets, expected {}; kept but not expected {extra:?}..., \
             expected but not kept {missing:?}...",
            got.len(),
            want.len()
        );
    }
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn owner_filters_keep_exactly_the_decoded_owners_packets() {
    let dir = TempDir::new("owner-filters");
    let owners = owners();
    let seed = std::env::var("OWNER_FILTER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x000f_17e7_5eed_u64);
    let mut rng = Rng(seed);
    let cases = [
        (Layout::Ptcpdump, 3000, 400),
        (Layout::Ptcpdump, 400, 1),
        (Layout::Ptcpdump, 1500, 40),
        (Layout::OursCommentsOnly, 3000, 400),
        (Layout::OursCommentsOnly, 400, 1),
        (Layout::Ours, 3000, 400),
        (Layout::Ours, 400, 1),
    ];
    let mut runs = 0;
    for (case, &(layout, n, max_run)) in cases.iter().enumerate() {
        let (bytes, truth) = make_file(&mut rng, layout, n, max_run, &owners);
        let file = dir.path().join(format!("case{case}.pcapng"));
        std::fs::write(&file, &bytes).unwrap();
        let ctx =
            format!("seed {seed:#x}, case {case} ({layout:?}, {n} packets, runs <= {max_run})");

        // The decoder gives every packet the owner written (what the layout can carry).
        let decoded = decode_all(&bytes);
        assert_eq!(decoded.len(), truth.len(), "{ctx}");
        for (i, ((ts, m), t)) in decoded.iter().zip(&truth).enumerate() {
            assert_eq!(*ts, t.ts_ns, "{ctx}: packet {i}");
            let want = t.owner.map(|k| &owners[k]);
            assert_eq!(
                m.process.as_ref().map(|p| p.pid),
                want.map(|o| o.pid),
                "{ctx}: packet {i}"
            );
            assert_eq!(
                m.container.as_ref().map(|c| c.name.as_str()),
                want.filter(|o| !o.container_id.is_empty())
                    .map(|o| o.container_name.as_str()),
                "{ctx}: packet {i}"
            );
            assert_eq!(
                m.peer.process.as_ref().map(|p| p.pid),
                t.peer.map(|k| owners[k].pid),
                "{ctx}: packet {i}"
            );
            assert_eq!(
                m.thread.as_ref().map(|t| (t.tid, t.name.as_str())),
                want.filter(|o| o.tid > 0)
                    .map(|o| (o.tid, o.thread_name.as_str())),
                "{ctx}: packet {i}"
            );
        }

        for f in filters(&owners, &mut rng) {
            let expected: BTreeSet<u64> = decoded
                .iter()
                .filter(|(_, m)| either_end(&f, m))
                .map(|(ts, _)| *ts)
                .collect();
            for threads in ["1", "2"] {
                let chunk = (64 + rng.below(8192)).to_string();
                let mut base: Vec<String> = f.args.clone();
                base.extend(["-j".into(), threads.into(), "--chunk-size".into(), chunk]);
                let what = format!("{ctx}: {base:?}, {} expected", expected.len());

                let mut a = base.clone();
                a.push("-tt".into());
                same(
                    &listed_ts(&ptanalyze(&a, &file)),
                    &expected,
                    &format!("listing: {what}"),
                );

                let mut a = base.clone();
                a.push("--json".into());
                let lines = json_lines(&ptanalyze(&a, &file));
                let got: BTreeSet<u64> = lines
                    .iter()
                    .filter(|v| v["type"] == "packet")
                    .map(|v| v["ts_ns"].as_u64().unwrap())
                    .collect();
                same(&got, &expected, &format!("--json: {what}"));

                let mut a = base.clone();
                a.extend(["--flows".into(), "--json".into()]);
                let flows = json_lines(&ptanalyze(&a, &file));
                let packets: u64 = flows
                    .iter()
                    .filter(|v| v.get("community_id").is_some())
                    .map(|v| {
                        v["orig"]["packets"].as_u64().unwrap()
                            + v["resp"]["packets"].as_u64().unwrap()
                    })
                    .sum();
                assert_eq!(packets, expected.len() as u64, "--flows: {what}");

                let mut a = base.clone();
                a.extend(["--stats".into(), "--json".into()]);
                let stats = json_lines(&ptanalyze(&a, &file));
                let total = stats
                    .iter()
                    .find(|v| v["type"] == "stats")
                    .map(|v| v["report"]["totals"]["packets"].as_u64().unwrap());
                assert_eq!(total, Some(expected.len() as u64), "--stats: {what}");

                let out = dir.path().join("out.pcapng");
                let mut a = base.clone();
                a.extend(["-w".into(), out.to_string_lossy().into_owned()]);
                ptanalyze(&a, &file);
                let written = std::fs::read(&out).unwrap_or_default();
                let back: BTreeSet<u64> = if expected.is_empty() && written.len() < 100 {
                    BTreeSet::new()
                } else {
                    let back = decode_all(&written);
                    for (ts, m) in &back {
                        assert!(
                            either_end(&f, m),
                            "-w wrote a packet it should not: {ts} {what}"
                        );
                    }
                    back.iter().map(|(ts, _)| *ts).collect()
                };
                same(&back, &expected, &format!("-w: {what}"));
                let _ = std::fs::remove_file(&out);
                runs += 5;
            }
        }
    }
    assert!(runs >= 300, "only {runs} ptanalyze runs");
}

/// ptcap writes a container's first packets with the container's id only when the runtime has
/// not reported it yet; the name, image, labels and pod come in later definitions. Offline
/// filters find those first packets too, in one file and across rotated files, for any -j and
/// chunk size, and -w writes them with the full definition.
#[test]
fn late_container_resolution_names_the_first_packets() {
    let dir = TempDir::new("late-container");
    let id = "c0ffee".repeat(10) + "abcd";
    let process = Arc::new(ProcessInfo {
        pid: 4242,
        comm: "nc".into(),
        exe: "/bin/busybox".into(),
        argv: vec!["nc".into(), "198.18.0.2".into(), "80".into()],
        ..Default::default()
    });
    let id_only = Arc::new(ContainerInfo {
        id: id.clone(),
        ..Default::default()
    });
    let labels = BTreeMap::from([
        ("io.kubernetes.pod.name".to_string(), "web".to_string()),
        (
            "io.kubernetes.pod.namespace".to_string(),
            "shop".to_string(),
        ),
    ]);
    let full = Arc::new(ContainerInfo {
        id: id.clone(),
        name: "web1".into(),
        image: "busybox:test".into(),
        labels,
        runtime: "containerd".into(),
        namespace: "k8s.io".into(),
    });
    let pod = Arc::new(PodInfo {
        name: "web".into(),
        namespace: "shop".into(),
        uid: "u-1".into(),
        ..Default::default()
    });
    let early = PacketMeta {
        process: Some(process.clone()),
        container: Some(id_only),
        provenance: Provenance::SocketCookie,
        ..Default::default()
    };
    let late = PacketMeta {
        process: Some(process),
        container: Some(full),
        pod: Some(pod),
        provenance: Provenance::SocketCookie,
        ..Default::default()
    };
    let write = |path: &Path, range: std::ops::Range<u64>, early_until: u64| {
        let mut w = PcapngWriter::new(Vec::new(), WriterConfig::new("ptcap-test", "0")).unwrap();
        let eth = w
            .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262_144))
            .unwrap();
        for i in range {
            let f = udp_frame(30_000 + (i % 7) as u16, 80, &[1; 16]);
            let m = if i < early_until { &early } else { &late };
            let ts = 1_764_000_000_000_000_000 + i * 1000;
            w.write_packet(eth, ts, f.len() as u32, &f, Some(Direction::Out), m)
                .unwrap();
        }
        std::fs::write(path, w.finish().unwrap()).unwrap();
    };
    let one = dir.path().join("one.pcapng");
    write(&one, 0..400, 150);
    let (r0, r1) = (dir.path().join("r0.pcapng"), dir.path().join("r1.pcapng"));
    write(&r0, 0..150, 150); // rotation: the first file never learns the name
    write(&r1, 150..400, 150);
    let count = |args: &[&str], files: &[&Path]| {
        let mut a: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        a.extend(files.iter().map(|f| f.as_os_str()));
        ptanalyze_packets(a).len()
    };
    for files in [vec![one.as_path()], vec![r0.as_path(), r1.as_path()]] {
        for j in ["1", "2"] {
            for chunk in ["64", "3000", "33554432"] {
                let base = ["-j", j, "--chunk-size", chunk];
                let with = |extra: &[&str]| {
                    let mut v = base.to_vec();
                    v.extend_from_slice(extra);
                    count(&v, &files)
                };
                let what = format!("{files:?} -j {j} chunk {chunk}");
                assert_eq!(with(&["--container-name", "web1"]), 400, "{what}");
                assert_eq!(with(&["--pod-name", "web.shop"]), 400, "{what}");
                assert_eq!(with(&["--container-id", &id[..12]]), 400, "{what}");
                // A listing streams (no whole-input pass first); meeting the id-only
                // container, it takes the whole run's definitions and names it all the same.
                let mut args: Vec<std::ffi::OsString> = base.iter().map(Into::into).collect();
                args.extend(files.iter().map(|f| f.as_os_str().to_owned()));
                let text = ptanalyze_ok(&args);
                let named = text
                    .lines()
                    .filter(|l| l.contains("Container [web1]"))
                    .count();
                assert_eq!(named, 400, "{what}: listing\n{text}");
                let json = ptanalyze_packets(&args);
                let named = json
                    .iter()
                    .filter(|p| p["container"]["name"] == "web1")
                    .count();
                assert_eq!(named, 400, "{what}: --json");
                args.extend(["-c".into(), "3".into()]);
                let first = ptanalyze_ok(&args);
                assert_eq!(first.lines().count(), 3, "{what}: -c 3\n{first}");
                assert!(
                    first.lines().all(|l| l.contains("Container [web1]")),
                    "{what}: -c 3\n{first}"
                );
            }
        }
    }
    // -w writes the early packets with the full definition.
    let out = dir.path().join("out.pcapng");
    ptanalyze(
        &["-w".into(), out.to_string_lossy().into_owned()],
        one.as_path(),
    );
    let back = decode_all(&std::fs::read(&out).unwrap());
    assert_eq!(back.len(), 400);
    assert!(back.iter().all(
        |(_, m)| m.container.as_ref().is_some_and(|c| c.name == "web1")
            && m.pod.as_ref().is_some_and(|p| p.name == "web")
    ));
}

/// `-w` of a file with more distinct processes than a live writer remembers (4096): every
/// packet keeps its comments and its metadata, for any -j and chunk size (ptanalyze gives the
/// ids of many packets before it takes their comment texts; none may be forgotten between).
#[test]
fn w_keeps_every_comment_with_many_processes() {
    use formats::pcapng::code;
    let dir = TempDir::new("many-procs");
    let mut w = PcapngWriter::new(Vec::new(), WriterConfig::new("ptcap-test", "0")).unwrap();
    let eth = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262_144))
        .unwrap();
    let n = 10_000u64;
    let metas: Vec<PacketMeta> = (0..n)
        .map(|i| PacketMeta {
            process: Some(Arc::new(ProcessInfo {
                pid: 10_000 + i as u32,
                comm: format!("p{i}"),
                exe: format!("/bin/p{i}"),
                argv: vec![format!("p{i}")],
                ..Default::default()
            })),
            provenance: Provenance::SocketCookie,
            ..Default::default()
        })
        .collect();
    // Each process twice, far apart: the second use comes after 5000 others.
    for k in 0..2 * n {
        let f = udp_frame(1000 + (k % 50) as u16, 53, &[0; 8]);
        let ts = 1_764_000_000_000_000_000 + k * 1000;
        w.write_packet(
            eth,
            ts,
            f.len() as u32,
            &f,
            Some(Direction::Out),
            &metas[(k % n) as usize],
        )
        .unwrap();
    }
    let input = dir.path().join("in.pcapng");
    std::fs::write(&input, w.finish().unwrap()).unwrap();
    let comments = |bytes: &[u8]| {
        let mut r = CaptureReader::new(bytes).unwrap();
        let mut v = Vec::new();
        while let Some(p) = r.next_packet().unwrap() {
            let c: Vec<Vec<u8>> = p
                .options
                .iter()
                .filter(|(c, _)| *c == code::OPT_COMMENT)
                .map(|(_, v)| v.to_vec())
                .collect();
            v.push(c);
        }
        v
    };
    let want = comments(&std::fs::read(&input).unwrap());
    let want_meta = decode_all(&std::fs::read(&input).unwrap());
    for (j, chunk) in [("1", "33554432"), ("2", "65536"), ("2", "4096")] {
        let out = dir.path().join("out.pcapng");
        let args: Vec<String> = ["-j", j, "--chunk-size", chunk, "-w"]
            .iter()
            .map(|s| s.to_string())
            .chain([out.to_string_lossy().into_owned()])
            .collect();
        ptanalyze(&args, &input);
        let bytes = std::fs::read(&out).unwrap();
        let got = comments(&bytes);
        assert_eq!(got.len(), want.len(), "-j {j} chunk {chunk}");
        let lost = got.iter().zip(&want).filter(|(g, w)| g != w).count();
        assert_eq!(
            lost, 0,
            "-j {j} chunk {chunk}: {lost} packets lost or changed comments"
        );
        let back = decode_all(&bytes);
        assert!(
            back.iter().zip(&want_meta).all(|(a, b)| a == b),
            "-j {j} chunk {chunk}: metadata differs"
        );
    }
}

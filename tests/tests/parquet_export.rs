//! `ptanalyze --packets -o FILE.parquet` and `--flows -o FILE.parquet` read back by DuckDB
//! and Spark (PyPI `duckdb` and `pyspark`, installed by scripts/setup.sh into the Python
//! environment `PTCAP_PYTHON` names, default /opt/ptcap/py/bin/python), on captures with known
//! owners in each layout we read: ptcap's (pcapng with metadata blocks, written here with the
//! formats crate, and the corpus file), ptcpdump's (comments only, tests/src/ptcpdump.rs) and a
//! plain tcpdump file. Row counts equal `--count` and the `--flows --json` lines; every
//! column of every row equals what `--json` says of that packet or flow.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use formats::meta::{
    CommentMode, ContainerInfo, PacketMeta, Peer, PodInfo, ProcessInfo, Provenance, Role,
    ThreadInfo,
};
use formats::pcapng::linktype;
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::Direction;
use ptcap_tests::{ptanalyze_bin, ptanalyze_ok, ptcpdump, udp_frame, TempDir};
use serde_json::{json, Map, Value};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/corpus")
        .join(name)
}

/// The Python that has duckdb and pyspark (scripts/setup.sh installs them).
fn python() -> PathBuf {
    let p = std::env::var_os("PTCAP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/ptcap/py/bin/python"));
    assert!(
        p.exists(),
        "{}: no Python with duckdb and pyspark; run scripts/setup.sh (or set PTCAP_PYTHON)",
        p.display()
    );
    p
}

/// Runs `script` with `args`; its standard output.
fn py(script: &str, args: &[&Path]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every row of a Parquet file as DuckDB reads it, one JSON object per row in file order,
/// timestamps as ns since the epoch.
const DUCKDB_ROWS: &str = r#"
import sys, duckdb
con = duckdb.connect()
con.execute("SET threads = 1")
path = sys.argv[1].replace("'", "''")
cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{path}'))").fetchall())
sel = ", ".join(f'epoch_ns("{c}") AS "{c}"' if types[c].startswith("TIMESTAMP") else f'"{c}"' for c in cols)
for (line,) in con.execute(f"SELECT to_json(t)::VARCHAR FROM (SELECT {sel} FROM read_parquet('{path}')) t").fetchall():
    print(line)
"#;

fn duckdb_rows(file: &Path) -> Vec<Map<String, Value>> {
    py(DUCKDB_ROWS, &[file])
        .lines()
        .map(|l| match serde_json::from_str(l).unwrap() {
            Value::Object(m) => m,
            v => panic!("not a row: {v}"),
        })
        .collect()
}

fn json_lines(args: &[&str], kind: &str) -> Vec<Value> {
    ptanalyze_ok(args)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == kind)
        .collect()
}

fn count(file: &str) -> usize {
    let out = ptanalyze_ok(["--count", file]);
    out.split_whitespace().next().unwrap().parse().unwrap()
}

/// What the packets table must say of a packet `--json` printed (docs/parquet.md).
fn expected_packet(p: &Value) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    let get = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    // A field of an entity: null without the entity, else its value (empty when absent).
    let of = |e: &Value, k: &str, empty: Value| match e {
        Value::Null => Value::Null,
        e => e.get(k).cloned().unwrap_or(empty),
    };
    put("ts", p["ts_ns"].clone());
    for k in [
        "file",
        "offset",
        "interface",
        "link_type",
        "direction",
        "len",
        "caplen",
    ] {
        put(k, get(p, k));
    }
    for k in [
        "src",
        "dst",
        "src_port",
        "dst_port",
        "protocol",
        "ip_proto",
        "ip_len",
        "payload_len",
        "tcp_flags",
        "icmp_type",
        "icmp_code",
    ] {
        put(k, get(p, k));
    }
    put("provenance", p["provenance"].clone());
    let proc_ = get(p, "process");
    put("pid", of(&proc_, "pid", Value::Null));
    put("tid", get(p, "tid"));
    put("comm", of(&proc_, "comm", json!("")));
    put("exe", of(&proc_, "exe", json!("")));
    put("argv", of(&proc_, "argv", json!([])));
    put("uid", of(&proc_, "uid", Value::Null));
    put("gid", of(&proc_, "gid", Value::Null));
    put("thread_name", of(&get(p, "thread"), "name", json!("")));
    let parent = get(p, "parent");
    put("parent_pid", of(&parent, "pid", Value::Null));
    put("parent_comm", of(&parent, "comm", json!("")));
    put("parent_exe", of(&parent, "exe", json!("")));
    let c = get(p, "container");
    for k in ["id", "name", "image", "runtime", "namespace"] {
        put(&format!("container_{k}"), of(&c, k, json!("")));
    }
    put("container_labels", of(&c, "labels", json!({})));
    let pod = get(p, "pod");
    for k in ["name", "namespace", "uid"] {
        put(&format!("pod_{k}"), of(&pod, k, json!("")));
    }
    put("pod_labels", of(&pod, "labels", json!({})));
    put("pod_annotations", of(&pod, "annotations", json!({})));
    let peer = get(p, "peer");
    let (pp, pc, ppod) = (
        of(&peer, "process", Value::Null),
        of(&peer, "container", Value::Null),
        of(&peer, "pod", Value::Null),
    );
    put("peer_pid", of(&pp, "pid", Value::Null));
    put("peer_comm", of(&pp, "comm", json!("")));
    put("peer_container_id", of(&pc, "id", json!("")));
    put("peer_container_name", of(&pc, "name", json!("")));
    put("peer_pod_name", of(&ppod, "name", json!("")));
    put("peer_pod_namespace", of(&ppod, "namespace", json!("")));
    let d = get(p, "drop");
    put("drop_reason", of(&d, "reason", json!("")));
    put("drop_location", of(&d, "location", json!("")));
    let nat = get(p, "nat");
    put("nat_direction", of(&nat, "direction", Value::Null));
    for t in ["original", "reply"] {
        let tuple = of(&nat, t, Value::Null);
        for k in ["src", "sport", "dst", "dport"] {
            put(&format!("nat_{t}_{k}"), of(&tuple, k, Value::Null));
        }
    }
    put("nat_snat", of(&nat, "snat", json!(false)));
    put("nat_dnat", of(&nat, "dnat", json!(false)));
    m
}

/// `--flows --json` fields flattened as docs/parquet.md says: `a.b` is `a_b`, a side's
/// `owner.process.pid` is `orig_pid`, the RFC 3339 times are the timestamps.
fn expected_flow(f: &Value) -> Map<String, Value> {
    fn flatten(prefix: &str, v: &Value, out: &mut Map<String, Value>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}_{k}")
                    };
                    flatten(&key, v, out);
                }
            }
            v => {
                out.insert(prefix.to_string(), v.clone());
            }
        }
    }
    let mut flat = Map::new();
    flatten("", f, &mut flat);
    let mut m = Map::new();
    // A null object (a side without owner) is null columns: left to `assert_row`'s check
    // that columns the JSON lacks are null.
    for (k, v) in flat.into_iter().filter(|(_, v)| !v.is_null()) {
        let k = k.replace("_owner_process_", "_").replace("_owner_", "_");
        m.insert(k, v);
    }
    m.remove("type");
    m.insert("first_ts".into(), f["first_ts_ns"].clone());
    m.insert("last_ts".into(), f["last_ts_ns"].clone());
    m
}

/// `row` has every column `want` names with its value, and every other column null.
fn assert_row(what: &str, i: usize, row: &Map<String, Value>, want: &Map<String, Value>) {
    for (k, v) in want {
        assert!(row.contains_key(k), "{what} row {i}: no column {k}");
        assert_eq!(&row[k], v, "{what} row {i}: column {k}");
    }
    for (k, v) in row {
        if !want.contains_key(k) && k != "community_id" {
            assert!(
                v.is_null(),
                "{what} row {i}: column {k} is {v}, JSON has nothing"
            );
        }
    }
}

fn frame(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + l4.len()) as u16;
    let [hi, lo] = total.to_be_bytes();
    let mut ip = vec![0x45, 0, hi, lo, 0, 1, 0x40, 0, 64, proto, 0, 0];
    ip.extend(src);
    ip.extend(dst);
    f.extend(ip);
    f.extend(l4);
    f
}

fn tcp(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(sport.to_be_bytes());
    t.extend(dport.to_be_bytes());
    t.extend(seq.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    t.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend(payload);
    t
}

fn process(pid: u32, exe: &str) -> Arc<ProcessInfo> {
    Arc::new(ProcessInfo {
        pid,
        comm: exe.rsplit('/').next().unwrap_or("").to_string(),
        exe: exe.to_string(),
        argv: vec![exe.to_string(), "--flag, with comma".into()],
        uid: Some(1000 + pid % 3),
        gid: Some(100),
    })
}

/// A file as ptcap writes it: `n` packets of 3 containers (with labels, pods, a local peer,
/// threads), drops and a NATed connection among them, and unattributed packets.
fn ptcap_file(path: &Path, n: usize) {
    let owners: Vec<PacketMeta> = (0..3u32)
        .map(|i| {
            let labels: BTreeMap<String, String> = [
                ("app".to_string(), format!("svc{i}")),
                ("team".to_string(), "net".to_string()),
            ]
            .into();
            let container = Arc::new(ContainerInfo {
                id: format!("{i:x}").repeat(64),
                name: format!("web{i}"),
                image: format!("registry.local/web:{i}"),
                labels: labels.clone(),
                runtime: "containerd".into(),
                namespace: "k8s.io".into(),
            });
            let pod = Arc::new(PodInfo {
                name: format!("api-{i}"),
                namespace: "shop".into(),
                uid: format!("uid-{i}"),
                labels: labels.clone(),
                annotations: [("note".to_string(), "x".to_string())].into(),
            });
            PacketMeta {
                process: Some(process(4000 + i, "/usr/bin/curl")),
                parent: Some(process(3000 + i, "/bin/sh")),
                container: Some(container.clone()),
                pod: Some(pod.clone()),
                thread: Some(Arc::new(ThreadInfo {
                    tid: 5000 + i,
                    name: "worker".into(),
                })),
                provenance: Provenance::SocketCookie,
                role: Role::Sender,
                peer: if i == 0 {
                    Peer {
                        process: Some(process(80, "/usr/sbin/nginx")),
                        parent: None,
                        container: Some(container),
                        pod: Some(pod),
                    }
                } else {
                    Peer::default()
                },
                drop: None,
                nat: None,
                nat_reply: false,
            }
        })
        .collect();
    let dropped = PacketMeta {
        drop: Some(Arc::new(formats::meta::DropInfo {
            reason: "NETFILTER_DROP".into(),
            location: "nft_do_chain+0x46f".into(),
        })),
        ..owners[1].clone()
    };
    let natted = PacketMeta {
        provenance: Provenance::Nat,
        nat: Some(Arc::new(formats::meta::NatInfo {
            proto: 6,
            original: formats::meta::Tuple {
                src: "198.18.0.3".parse().unwrap(),
                sport: 40001,
                dst: "198.18.0.2".parse().unwrap(),
                dport: 80,
            },
            reply: formats::meta::Tuple {
                src: "198.18.0.2".parse().unwrap(),
                sport: 80,
                dst: "198.18.0.1".parse().unwrap(),
                dport: 50001,
            },
            snat: true,
            dnat: false,
        })),
        ..owners[2].clone()
    };
    let none = PacketMeta::default();
    let mut cfg = WriterConfig::new("ptcap-test", "0");
    cfg.comments = CommentMode::Full;
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    let eth = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262_144))
        .unwrap();
    let (a, b) = ([198, 18, 0, 1], [198, 18, 0, 2]);
    let t0 = 1_795_976_747_134_988_181u64;
    for i in 0..n {
        let conn = (i / 10) as u16;
        let (f, dir, m) = match i % 10 {
            0 => (
                frame(6, a, b, &tcp(30000 + conn, 80, 1, 0x02, b"")),
                Direction::Out,
                &owners[i / 10 % 3],
            ),
            1 => (
                frame(6, b, a, &tcp(80, 30000 + conn, 9, 0x12, b"")),
                Direction::In,
                &owners[i / 10 % 3],
            ),
            2..=5 => (
                frame(
                    6,
                    a,
                    b,
                    &tcp(30000 + conn, 80, 2, 0x18, &vec![b'x'; i % 300]),
                ),
                Direction::Out,
                &owners[i / 10 % 3],
            ),
            6 => (
                udp_frame(5353, 53, &[0x5a; 12]),
                Direction::Out,
                &owners[(i / 10 + 1) % 3],
            ),
            7 => (
                frame(1, a, b, &[8, 0, 0, 0, 0x12, 0x34, 0, 1]),
                Direction::Out,
                &none,
            ),
            8 if i % 1000 == 8 => (
                frame(6, a, b, &tcp(40001, 81, 7, 0x02, b"")),
                Direction::In,
                &dropped,
            ),
            8 => (
                frame(6, a, b, &tcp(50001, 80, 7, 0x10, b"")),
                Direction::Out,
                &natted,
            ),
            _ => (
                frame(6, b, a, &tcp(80, 30000 + conn, 10, 0x11, b"")),
                Direction::In,
                &none,
            ),
        };
        w.write_packet(eth, t0 + i as u64 * 1000, f.len() as u32, &f, Some(dir), m)
            .unwrap();
    }
    std::fs::write(path, w.finish().unwrap()).unwrap();
}

/// A file in ptcpdump's layout: two owners (one in a container of a pod) and packets without.
fn ptcpdump_file(path: &Path) {
    let curl = ptcpdump::Owner {
        pid: 4242,
        exe: "/usr/bin/curl".into(),
        args: vec!["curl".into(), "http://198.18.0.2/".into()],
        tid: 4243,
        thread_name: "curl".into(),
        uid: 1000,
        gid: 1000,
        parent_pid: 4200,
        parent_exe: "/bin/bash".into(),
        parent_args: vec!["bash".into()],
        container_name: "web1".into(),
        container_id: "ab".repeat(32),
        container_image: "busybox:1.36".into(),
        container_labels: [("app".to_string(), "web".to_string())].into(),
        pod_name: "api".into(),
        pod_namespace: "shop".into(),
        pod_uid: "9a8b".into(),
        pod_labels: [("tier".to_string(), "front".to_string())].into(),
    };
    let host = ptcpdump::Owner {
        pid: 77,
        exe: "/usr/sbin/ntpd".into(),
        args: vec!["ntpd".into()],
        ..Default::default()
    };
    let mut out = ptcpdump::header();
    let t0 = 1_700_000_000_000_000_000u64;
    for i in 0..300u64 {
        let owner = match i % 3 {
            0 => Some(&curl),
            1 => Some(&host),
            _ => None,
        };
        let f = frame(
            6,
            [198, 18, 0, 1],
            [198, 18, 0, 2],
            &tcp(40000 + (i % 7) as u16, 80, i as u32, 0x18, b"abc"),
        );
        ptcpdump::packet(&mut out, t0 + i * 1_000_000, &f, i % 2 == 0, owner);
    }
    std::fs::write(path, out).unwrap();
}

/// Per container, process and pod: packets and bytes of its own packets (the owner's; drop
/// records do not count, as in `--stats`), summed by DuckDB from the packets table, as JSON
/// `[[kind, key, packets, bytes], ...]`.
const DUCKDB_ROLLUPS: &str = r#"
import sys, json, duckdb
path = sys.argv[1].replace("'", "''")
out = []
for kind, key in [("containers", "container_id"), ("processes", "pid::VARCHAR"),
                  ("pods", "pod_name || '.' || pod_namespace")]:
    q = f"""SELECT {key} AS k, count(*), sum(len)::BIGINT FROM read_parquet('{path}')
            WHERE drop_reason IS NULL AND k IS NOT NULL GROUP BY k ORDER BY k"""
    out += [[kind, k, n, b] for (k, n, b) in duckdb.sql(q).fetchall()]
print(json.dumps(out))
"#;

/// The rollups of `--stats --json` in DUCKDB_ROLLUPS' form.
fn stats_rollups(input: &str) -> Value {
    let stats = &json_lines(&["--stats", "--json", input], "stats")[0]["report"];
    let mut out = Vec::new();
    for (kind, key) in [("containers", "id"), ("processes", "pid"), ("pods", "name")] {
        let mut rows: Vec<(String, Value, Value)> = stats[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let k = match &r[key] {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                (k, r["packets"].clone(), r["bytes"].clone())
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        out.extend(rows.into_iter().map(|(k, n, b)| json!([kind, k, n, b])));
    }
    Value::Array(out)
}

/// Writes `--packets -o` and `--flows -o` for `input`, checks row counts and every value
/// against the JSON, and returns the two Parquet files.
/// The rows of a CSV export that differ from the Parquet export's, both read by DuckDB, in
/// every column but the time and the nested ones (their text forms differ by design: RFC 3339,
/// JSON); empty and null alike, as CSV writes both as an empty field. Prints the count of
/// differing rows each way, and the rows of the CSV.
const DUCKDB_CSV_VS_PARQUET: &str = r#"
import sys, duckdb
con = duckdb.connect()
pq, csv = (a.replace("'", "''") for a in sys.argv[1:3])
nested = ("ts", "argv", "container_labels", "pod_labels", "pod_annotations")
cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{pq}')").fetchall()]
cols = [c for c in cols if c not in nested]
a = ", ".join(f"coalesce(\"{c}\"::VARCHAR, '')" for c in cols)
p = f"SELECT {a} FROM read_parquet('{pq}')"
c = f"SELECT {a} FROM read_csv('{csv}', all_varchar=true, header=true)"
one = con.execute(f"SELECT count(*) FROM ({p} EXCEPT ALL {c})").fetchall()[0][0]
two = con.execute(f"SELECT count(*) FROM ({c} EXCEPT ALL {p})").fetchall()[0][0]
rows = con.execute(f"SELECT count(*) FROM read_csv('{csv}', all_varchar=true, header=true)").fetchall()[0][0]
print(one, two, rows)
"#;

fn check_file(dir: &Path, tag: &str, input: &Path) -> (PathBuf, PathBuf) {
    let input_s = input.to_str().unwrap();
    let packets = dir.join(format!("{tag}-packets.parquet"));
    let flows = dir.join(format!("{tag}-flows.parquet"));
    ptanalyze_ok(["--packets", "-o", packets.to_str().unwrap(), input_s]);
    ptanalyze_ok(["--flows", "-o", flows.to_str().unwrap(), input_s]);

    let rows = duckdb_rows(&packets);
    let want = json_lines(&["--json", input_s], "packet");
    assert_eq!(rows.len(), count(input_s), "{tag}: rows = --count");
    assert_eq!(rows.len(), want.len(), "{tag}: rows = --json packets");
    for (i, (row, p)) in rows.iter().zip(&want).enumerate() {
        assert_row(tag, i, row, &expected_packet(p));
        assert_eq!(row["community_id"].is_null(), p.get("src").is_none());
    }

    // The CSV export is the same table.
    let csv = dir.join(format!("{tag}-packets.csv"));
    ptanalyze_ok(["--packets", "-o", csv.to_str().unwrap(), input_s]);
    assert_eq!(
        py(DUCKDB_CSV_VS_PARQUET, &[&packets, &csv]).trim(),
        format!("0 0 {}", rows.len()),
        "{tag}: the CSV's rows (differing each way, all) against the Parquet's"
    );

    let sums: Value = serde_json::from_str(&py(DUCKDB_ROLLUPS, &[&packets])).unwrap();
    assert_eq!(
        sums,
        stats_rollups(input_s),
        "{tag}: sums per container, process, pod = --stats"
    );

    let rows = duckdb_rows(&flows);
    let want = json_lines(&["--flows", "--json", input_s], "flow");
    assert_eq!(rows.len(), want.len(), "{tag}: rows = --flows --json lines");
    for (i, (row, f)) in rows.iter().zip(&want).enumerate() {
        assert_row(&format!("{tag} flows"), i, row, &expected_flow(f));
    }
    (packets, flows)
}

#[test]
fn duckdb_reads_every_layout_as_the_json_says() {
    let dir = TempDir::new("parquet-duckdb");
    let ours = dir.path().join("ptcap.pcapng");
    ptcap_file(&ours, 2_000);
    let pt = dir.path().join("ptcpdump.pcapng");
    ptcpdump_file(&pt);
    check_file(dir.path(), "ptcap", &ours);
    check_file(dir.path(), "corpus", &corpus("eth-meta.pcapng"));
    check_file(dir.path(), "ptcpdump", &pt);
    check_file(dir.path(), "tcpdump", &corpus("real-eth.pcap"));
    // Names (`--names-from`): the names columns hold what the JSON's `names` hold.
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "198.18.0.2 server.test\n198.18.0.1 client.test\n").unwrap();
    let real = corpus("real-eth.pcap");
    let (rs, hs) = (real.to_str().unwrap(), hosts.to_str().unwrap());
    let named = dir.path().join("named-flows.parquet");
    ptanalyze_ok([
        "--flows",
        "--names-from",
        hs,
        "-o",
        named.to_str().unwrap(),
        rs,
    ]);
    let rows = duckdb_rows(&named);
    let want = json_lines(&["--flows", "--names-from", hs, "--json", rs], "flow");
    assert!(
        want.iter().any(|f| f["responder"]["names"]
            .as_array()
            .is_some_and(|a| !a.is_empty())),
        "no flow has names: {want:?}"
    );
    assert_eq!(rows.len(), want.len());
    for (i, (row, f)) in rows.iter().zip(&want).enumerate() {
        assert_row("named flows", i, row, &expected_flow(f));
    }
}

/// More than one row group, many chunks: the same file for -j 1 and -j 2, row groups of
/// 65,536 rows, and the owner filters apply.
#[test]
fn row_groups_are_fixed_and_the_file_is_the_same_for_any_thread_count() {
    let dir = TempDir::new("parquet-threads");
    let input = dir.path().join("big.pcapng");
    ptcap_file(&input, 70_000);
    let input_s = input.to_str().unwrap();
    let mut files = Vec::new();
    for j in ["1", "2"] {
        let out = dir.path().join(format!("j{j}.parquet"));
        ptanalyze_ok([
            "-j",
            j,
            "--chunk-size",
            "1000000",
            "--packets",
            "-o",
            out.to_str().unwrap(),
            input_s,
        ]);
        files.push(std::fs::read(&out).unwrap());
    }
    assert!(files[0] == files[1], "-j 1 and -j 2 wrote different files");
    let out = dir.path().join("j1.parquet");
    let groups = py(
        "import sys, duckdb\nfor r in duckdb.sql(f\"SELECT row_group_id, max(row_group_num_rows), any_value(compression) FROM parquet_metadata('{sys.argv[1]}') GROUP BY 1 ORDER BY 1\").fetchall(): print(*r)",
        &[&out],
    );
    assert_eq!(groups, "0 65536 ZSTD\n1 4464 ZSTD\n");
    let web1 = dir.path().join("web1.parquet");
    ptanalyze_ok([
        "--container-name",
        "web1",
        "--packets",
        "-o",
        web1.to_str().unwrap(),
        input_s,
    ]);
    let n = py(
        "import sys, duckdb\nprint(*duckdb.sql(f\"SELECT count(*), count(DISTINCT container_name), min(container_name) FROM '{sys.argv[1]}'\").fetchall()[0])",
        &[&web1],
    );
    let expect = ptanalyze_ok(["--count", "--container-name", "web1", input_s]);
    let expect = expect.split_whitespace().next().unwrap();
    assert_eq!(n.trim(), format!("{expect} 1 web1"));
}

/// Spark in local mode reads the packets of each layout and a flows table: one query each.
#[test]
fn spark_reads_every_layout() {
    let dir = TempDir::new("parquet-spark");
    let ours = dir.path().join("ptcap.pcapng");
    ptcap_file(&ours, 2_000);
    let pt = dir.path().join("ptcpdump.pcapng");
    ptcpdump_file(&pt);
    let tcpdump = corpus("real-eth.pcap");
    let mut args: Vec<PathBuf> = Vec::new();
    let mut want = String::new();
    for (tag, input) in [("ptcap", &ours), ("ptcpdump", &pt), ("tcpdump", &tcpdump)] {
        let out = dir.path().join(format!("{tag}.parquet"));
        let input_s = input.to_str().unwrap();
        ptanalyze_ok(["--packets", "-o", out.to_str().unwrap(), input_s]);
        let pk = json_lines(&["--json", input_s], "packet");
        let bytes: u64 = pk.iter().map(|p| p["len"].as_u64().unwrap()).sum();
        let pids: u64 = pk.iter().filter_map(|p| p["process"]["pid"].as_u64()).sum();
        let first = pk
            .iter()
            .map(|p| p["ts_ns"].as_u64().unwrap())
            .min()
            .unwrap();
        want.push_str(&format!("{} {bytes} {pids} {first}\n", pk.len()));
        args.push(out);
    }
    let flows = dir.path().join("flows.parquet");
    ptanalyze_ok([
        "--flows",
        "-o",
        flows.to_str().unwrap(),
        ours.to_str().unwrap(),
    ]);
    let fl = json_lines(&["--flows", "--json", ours.to_str().unwrap()], "flow");
    let web1: u64 = fl
        .iter()
        .filter(|f| f["orig"]["owner"]["container"]["name"] == "web1")
        .map(|f| f["orig"]["bytes"].as_u64().unwrap())
        .sum();
    want.push_str(&format!("{} {web1}\n", fl.len()));
    args.push(flows);
    let script = r#"
import sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.sql.legacy.parquet.nanosAsLong", "true")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
for f in sys.argv[1:4]:
    spark.read.parquet(f).createOrReplaceTempView("p")
    r = spark.sql("SELECT count(*), sum(len), coalesce(sum(pid), 0), min(ts) FROM p").collect()[0]
    print(*r)
spark.read.parquet(sys.argv[4]).createOrReplaceTempView("f")
r = spark.sql("SELECT count(*), (SELECT coalesce(sum(orig_bytes), 0) FROM f WHERE orig_container_name = 'web1') FROM f").collect()[0]
print(*r)
spark.stop()
"#;
    let refs: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
    let t = Instant::now();
    let got = py(script, &refs);
    eprintln!("spark: {:.1} s", t.elapsed().as_secs_f64());
    assert_eq!(got, want);
}

fn ptanalyze_err(args: &[&str]) -> (i32, String) {
    let out = Command::new(ptanalyze_bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_outputs_are_one_line_usage_errors() {
    let input = corpus("eth-meta.pcapng");
    let input = input.to_str().unwrap();
    let dir = TempDir::new("parquet-bad");
    let alias = dir.path().join("in.parquet");
    std::os::unix::fs::symlink(input, &alias).unwrap();
    let alias = alias.to_str().unwrap().to_string();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--packets", "-o", "/nonexistent-dir/x.parquet", input],
            "/nonexistent-dir/x.parquet: No such file or directory",
        ),
        (
            &["--packets", "-o", "x.txt", input],
            "-o x.txt: unknown output format",
        ),
        (&["--packets", input], "--packets needs -o FILE"),
        (&["-o", "x.parquet", input], "say which table"),
        (
            &["--packets", "--flows", "-o", "x.parquet", input],
            "two tables",
        ),
        (&["--flows", "-o", &alias, &alias], "is the input"),
    ];
    for (args, want) in cases {
        let (code, err) = ptanalyze_err(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(
            err.starts_with("ptanalyze: ") && err.contains(want),
            "{args:?}: {err}"
        );
    }
    // A directory that cannot be written in (as root, permissions do not stop us: a path
    // through a regular file does).
    let not_dir = dir.path().join("file");
    std::fs::write(&not_dir, b"").unwrap();
    let target = not_dir.join("x.parquet");
    let (code, err) = ptanalyze_err(&["--flows", "-o", target.to_str().unwrap(), input]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("Not a directory"), "{err}");
    assert!(!target.exists());
    // ptcap -r runs ptanalyze's code without Arrow: JSON lines yes, Parquet no.
    let out = Command::new(ptcap_tests::ptcap_bin())
        .args(["-r", input, "--packets", "-o", "/tmp/never.parquet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("ptcap: ") && err.contains("written by ptanalyze"),
        "{err}"
    );
    let nd = dir.path().join("x.ndjson");
    let out = Command::new(ptcap_tests::ptcap_bin())
        .args(["-r", input, "--packets", "-o", nd.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = std::fs::read_to_string(&nd).unwrap();
    assert_eq!(lines.lines().count(), count(input));
    assert!(lines.lines().all(|l| l.starts_with("{\"type\":\"packet\"")));
}

/// A capture of `n` UDP packets from `t0` on, `step` ns apart, by a process in container
/// `web-NODE`, written as ptcap writes it on host `node` (`None`: no node, as other tools'
/// files).
fn node_file(path: &Path, node: Option<&str>, t0: u64, step: u64, n: usize) {
    let name = node.unwrap_or("plain");
    let meta = PacketMeta {
        process: Some(process(7000, "/usr/bin/wget")),
        container: Some(Arc::new(ContainerInfo {
            id: "c".repeat(64),
            name: format!("web-{name}"),
            image: "registry.local/web:1".into(),
            runtime: "containerd".into(),
            ..Default::default()
        })),
        provenance: Provenance::SocketCookie,
        ..Default::default()
    };
    let mut cfg = WriterConfig::new("ptcap-test", "0");
    cfg.node = node.map(str::to_string);
    let out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = PcapngWriter::new(out, cfg).unwrap();
    let eth = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262_144))
        .unwrap();
    for i in 0..n {
        let f = udp_frame(40000 + (i % 7) as u16, 53, &vec![0x33; i % 50]);
        w.write_packet(
            eth,
            t0 + i as u64 * step,
            f.len() as u32,
            &f,
            Some(Direction::Out),
            &meta,
        )
        .unwrap();
    }
    w.finish().unwrap();
}

/// `(node, date, hour)` → (packets, bytes) of `--json` over `inputs`, as the partitions
/// must hold them (`node` for files that name none).
fn expected_partitions(inputs: &[(&Path, &str)]) -> String {
    let mut sums: BTreeMap<(String, String, u32), (u64, u64)> = BTreeMap::new();
    for (input, node) in inputs {
        for p in json_lines(&["--json", input.to_str().unwrap()], "packet") {
            let ts = p["ts"].as_str().unwrap();
            let key = (
                node.to_string(),
                ts[..10].to_string(),
                ts[11..13].parse().unwrap(),
            );
            let e = sums.entry(key).or_default();
            e.0 += 1;
            e.1 += p["len"].as_u64().unwrap();
        }
    }
    sums.iter()
        .map(|((n, d, h), (c, b))| format!("{n} {d} {h} {c} {b}\n"))
        .collect()
}

/// Three nodes' captures (two written by ptcap on hosts node-a and node-b, crossing an hour
/// and a date; one by tcpdump, named by --node) exported with --partition-by into one
/// directory tree, read as one table by DuckDB and by Spark: the same sums per node, date
/// and hour as --json gives, one part per input and directory, no temporary file left.
#[test]
fn partitioned_exports_of_three_nodes_are_one_table_in_duckdb_and_spark() {
    let dir = TempDir::new("parquet-partitions");
    // 2026-12-01T23:59:58Z: 4 s of packets crosses midnight.
    let midnight = 1_796_169_598_000_000_000u64;
    let a = dir.path().join("a.pcapng");
    node_file(&a, Some("node-a"), midnight, 4_000_000, 1_000);
    // 2026-12-02T13:59:59.5Z: crosses 14:00.
    let b = dir.path().join("b.pcapng");
    node_file(
        &b,
        Some("node-b"),
        1_796_219_999_500_000_000,
        1_000_000,
        1_000,
    );
    let c = corpus("real-eth.pcap");
    let out = dir.path().join("fleet.parquet");
    let out_s = out.to_str().unwrap();
    let ins = [
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        c.to_str().unwrap(),
    ];
    // Two runs into one bucket: node-c's own export, then a's and b's.
    ptanalyze_ok([
        "--packets",
        "-o",
        out_s,
        "--partition-by",
        "node,date,hour",
        "--node",
        "node-c",
        ins[2],
    ]);
    ptanalyze_ok([
        "--packets",
        "-o",
        out_s,
        "--partition-by",
        "node,hour",
        ins[0],
        ins[1],
    ]);
    let want = expected_partitions(&[(&a, "node-a"), (&b, "node-b"), (&c, "node-c")]);
    assert!(want.lines().count() >= 5, "{want}");

    let mut files = Vec::new();
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p.strip_prefix(&out).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    let dirs: Vec<String> = want
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let stem = match f[0] {
                "node-a" => "a",
                "node-b" => "b",
                _ => "real-eth",
            };
            let hour: u32 = f[2].parse().unwrap();
            format!("node={}/date={}/hour={hour:02}/{stem}.parquet", f[0], f[1])
        })
        .collect();
    assert_eq!(
        files, dirs,
        "one part per input and partition, nothing else"
    );

    let duck = py(
        r#"
import sys, duckdb
con = duckdb.connect()
q = f"""SELECT node, CAST(date AS VARCHAR), CAST(hour AS INTEGER), count(*), sum(len)
        FROM read_parquet('{sys.argv[1]}/**/*.parquet', hive_partitioning = true)
        GROUP BY ALL ORDER BY ALL"""
for r in con.execute(q).fetchall():
    print(*r)
"#,
        &[&out],
    );
    assert_eq!(duck, want, "DuckDB");
    let spark = py(
        r#"
import sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.sql.legacy.parquet.nanosAsLong", "true")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.read.parquet(sys.argv[1]).createOrReplaceTempView("p")
q = """SELECT node, CAST(date AS STRING), CAST(hour AS INT), count(*), sum(len)
       FROM p GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
for r in spark.sql(q).collect():
    print(*r)
spark.stop()
"#,
        &[&out],
    );
    assert_eq!(spark, want, "Spark");

    // Exporting an input again replaces its parts: the same table, not twice the rows.
    ptanalyze_ok([
        "--packets",
        "-o",
        out_s,
        "--partition-by",
        "node,date,hour",
        ins[0],
    ]);
    let again = py(
        r#"
import sys, duckdb
print(duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{sys.argv[1]}/**/*.parquet')").fetchone()[0])
"#,
        &[&out],
    );
    let total: u64 = want
        .lines()
        .map(|l| l.split(' ').nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(again.trim(), total.to_string());
}

/// The part of an input is in place, complete and readable, while ptanalyze still works on
/// the next input.
#[test]
fn an_inputs_parts_are_readable_while_the_next_input_runs() {
    let dir = TempDir::new("parquet-parts-early");
    let small = dir.path().join("early.pcapng");
    node_file(
        &small,
        Some("node-a"),
        1_796_169_000_000_000_000,
        1_000,
        500,
    );
    let big = dir.path().join("late.pcapng");
    node_file(
        &big,
        Some("node-a"),
        1_796_170_000_000_000_000,
        1_000,
        400_000,
    );
    let out = dir.path().join("t.parquet");
    let mut child = Command::new(ptanalyze_bin())
        .args([
            "--packets",
            "-o",
            out.to_str().unwrap(),
            "--partition-by",
            "node",
        ])
        .arg(&big)
        .arg(&small)
        .spawn()
        .unwrap();
    let part = out.join("node=node-a/early.parquet");
    let t = Instant::now();
    while !part.exists() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let running = child.try_wait().unwrap().is_none();
    let appeared = t.elapsed();
    let rows = if part.exists() {
        py(
            "import sys, duckdb\nprint(duckdb.connect().execute(f\"SELECT count(*) FROM read_parquet('{sys.argv[1]}')\").fetchone()[0])",
            &[&part],
        )
    } else {
        String::new()
    };
    let status = child.wait().unwrap();
    assert!(status.success());
    eprintln!(
        "part in place after {:.2} s, run done after {:.2} s",
        appeared.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
    // Renamed into place only once complete: what was there while the run went on is what
    // DuckDB read.
    assert!(
        running,
        "the first input's part appeared only when the run ended"
    );
    assert_eq!(rows.trim(), "500");
    let late = py(
        "import sys, duckdb\nprint(duckdb.connect().execute(f\"SELECT count(*) FROM read_parquet('{sys.argv[1]}')\").fetchone()[0])",
        &[&out.join("node=node-a/late.parquet")],
    );
    assert_eq!(late.trim(), "400000");
}

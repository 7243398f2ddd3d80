//! `ptanalyze --verify-policy` end to end: a node built in namespaces (tests/src/node.rs) that
//! enforces two NetworkPolicies with nftables written by hand from the YAML, real traffic
//! between a "client" pod, a "web" pod and an outside host, captured by ptcap in the node
//! namespace (`-i any`, kernel drops on).
//!
//! The pods are plain namespaces here: the capture names their processes, not pods, so the
//! test writes the file again with the formats crate's writer, adding each pod (and its app
//! container) to the packets whose owner (or local peer) is a process of that pod's namespace.
//! Everything else (packets, drops with their reasons, the other owners) is ptcap's.
//!
//! Once with rules that enforce the policies (no violation, exit 0), once with the web pod's
//! default-deny missing and an extra drop of an allowed connection (exactly those two flows:
//! `not_enforced` and `blocked` with NETFILTER_DROP, exit 3).

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread::sleep;
use std::time::Duration;

use formats::meta::{ContainerInfo, MetaReader, PacketMeta, PodInfo};
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::CaptureReader;
use ptcap_tests::containerd::PodSpec;
use ptcap_tests::node::{Node, NodeRules, UPLINK};
use ptcap_tests::{ptanalyze_bin, ptcap_bin};
use serde_json::Value;

const POLICIES: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {team: shop}
---
# The web pod takes TCP 80 from the client pod, nothing else.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: shop}
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
  - from:
    - podSelector:
        matchLabels: {app: client}
    ports:
    - port: http
---
# The client may reach the web pod (any port) and the outside's HTTPS, nothing else.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress, namespace: shop}
spec:
  podSelector:
    matchExpressions:
    - {key: app, operator: In, values: [client]}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {team: shop}}
      podSelector: {matchLabels: {app: web}}
  - to:
    - ipBlock: {cidr: 198.18.101.0/24, except: [198.18.101.128/25]}
    ports:
    - {protocol: TCP, port: 443}
";

/// The web pod's TCP ports: the connections, the verdicts the policies give them.
const WEB_HTTP: u16 = 80;
const WEB_ADMIN: u16 = 8080;
const OUT_HTTPS: u16 = 443;
const OUT_SSH: u16 = 2222;

/// The policies as nftables rules (only connection openings are filtered: a SYN without ACK;
/// everything after it belongs to an allowed connection). Pod to pod is bridged (br0), so
/// that part is a bridge-family table; to the outside is routed (the ip table's forward chain).
fn rules(node: &Node, correct: bool) -> String {
    let client = &node.containers[0].ip;
    let web = &node.containers[1].ip;
    let syn = "tcp flags & (syn | ack) == syn";
    let mut s = String::from(
        "table bridge ptpolicy {\n\
         \x20 chain forward { type filter hook forward priority filter; policy accept; }\n\
         }\n",
    );
    if correct {
        // web-ingress: the web pod is isolated; from the client only TCP 80 (`http`).
        s += &format!(
            "add rule bridge ptpolicy forward ip daddr {web} {syn} ip saddr {client} tcp dport {WEB_HTTP} accept\n\
             add rule bridge ptpolicy forward ip daddr {web} {syn} drop\n"
        );
    }
    // client-egress: to the outside only TCP 443 within 198.18.101.0/25.
    s += &format!(
        "add rule ip ptnode forwarding ip saddr {client} oifname \"{UPLINK}\" {syn} ip daddr 198.18.101.0/25 tcp dport {OUT_HTTPS} accept\n\
         add rule ip ptnode forwarding ip saddr {client} oifname \"{UPLINK}\" {syn} drop\n"
    );
    if !correct {
        // An extra drop: the allowed HTTPS to the outside.
        s = s.replace(
            &format!("tcp dport {OUT_HTTPS} accept"),
            &format!("tcp dport {OUT_HTTPS} drop"),
        );
    }
    s
}

/// TCP servers on `ports` answering one line, in namespace `ns`; ready once listening.
fn servers(node: &mut Node, ns: &str, ip: &str, ports: &[u16]) -> ptcap_tests::node::Process {
    let py = format!(
        "import socket, sys, threading\n\
         def serve(p):\n\
         \x20   s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         \x20   s.bind(('{ip}', p)); s.listen(16)\n\
         \x20   ready.release()\n\
         \x20   while True:\n\
         \x20       c, _ = s.accept(); c.recv(100); c.sendall(b'ok\\n'); c.close()\n\
         ready = threading.Semaphore(0)\n\
         ports = {ports:?}\n\
         for p in ports: threading.Thread(target=serve, args=(p,), daemon=True).start()\n\
         for p in ports: ready.acquire()\n\
         print('ready', file=sys.stderr, flush=True)\n\
         threading.Event().wait()\n"
    );
    node.start_until(ns, &["python3", "-c", &py], Stdio::null(), "ready")
}

/// A client connecting from `ns` to `ip:port` and sending a line (2.5 s timeout: a dropped
/// SYN is sent again after 1 s); its pid. Does not wait.
fn client(node: &mut Node, ns: &str, ip: &str, port: u16) -> std::process::Child {
    let py = format!(
        "import socket\n\
         try:\n\
         \x20   c = socket.create_connection(('{ip}', {port}), timeout=2.5); c.sendall(b'hi\\n'); c.recv(100)\n\
         except Exception:\n\
         \x20   pass\n"
    );
    node.spawn(ns, &["python3", "-c", &py], Stdio::null())
}

fn pod(name: &str, app: &str, ports: &str) -> (Arc<PodInfo>, Arc<ContainerInfo>) {
    let mut labels = BTreeMap::new();
    labels.insert("app".to_string(), app.to_string());
    let pod = PodInfo {
        name: name.to_string(),
        namespace: "shop".to_string(),
        uid: format!("uid-{name}"),
        labels,
        annotations: BTreeMap::new(),
    };
    let mut clabels = BTreeMap::new();
    for (k, v) in [
        ("io.kubernetes.pod.name", name),
        ("io.kubernetes.pod.namespace", "shop"),
        ("io.kubernetes.container.name", app),
        ("io.kubernetes.container.ports", ports),
    ] {
        clabels.insert(k.to_string(), v.to_string());
    }
    let container = ContainerInfo {
        id: format!("{:0>64}", name.len() * 1111 + app.len()),
        name: app.to_string(),
        image: "docker.io/library/busybox:test".to_string(),
        labels: clabels,
        runtime: "containerd".to_string(),
        namespace: "k8s.io".to_string(),
    };
    (Arc::new(pod), Arc::new(container))
}

/// `file` written again with each packet's owner (and local peer) given the pod of the
/// namespace its process lives in (`pods`: pid to pod and container).
fn add_pods(
    file: &std::path::Path,
    out: &std::path::Path,
    pods: &BTreeMap<u32, (Arc<PodInfo>, Arc<ContainerInfo>)>,
) -> (usize, usize) {
    let bytes = std::fs::read(file).unwrap();
    let mut r = CaptureReader::new(&bytes).unwrap();
    let mut m = MetaReader::new();
    let mut packets = Vec::new();
    let mut named = 0;
    while let Some(p) = r.next_packet().unwrap() {
        m.learn_definitions(&p.options);
        let mut meta: PacketMeta = m.decode(&p.options);
        let mut hit = false;
        if let Some((pod, c)) = meta.process.as_ref().and_then(|pr| pods.get(&pr.pid)) {
            meta.pod = Some(Arc::clone(pod));
            meta.container = Some(Arc::clone(c));
            hit = true;
        }
        if let Some((pod, c)) = meta.peer.process.as_ref().and_then(|pr| pods.get(&pr.pid)) {
            meta.peer.pod = Some(Arc::clone(pod));
            meta.peer.container = Some(Arc::clone(c));
            hit = true;
        }
        named += usize::from(hit);
        packets.push((
            p.interface,
            p.ts_ns,
            p.orig_len,
            p.data.to_vec(),
            p.direction,
            meta,
        ));
    }
    let mut cfg = WriterConfig::new("verify-policy-test", "0");
    cfg.allow_mixed_interfaces = true;
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    for i in r.interfaces() {
        let mut spec = InterfaceSpec::new(i.name.as_deref().unwrap_or(""), i.link_type, i.snaplen);
        spec.description = i.description.clone();
        w.add_interface(&spec).unwrap();
    }
    for (iface, ts, len, data, dir, meta) in &packets {
        w.write_packet(*iface, *ts, *len, data, *dir, meta).unwrap();
    }
    std::fs::write(out, w.finish().unwrap()).unwrap();
    (packets.len(), named)
}

/// Runs the traffic through a node enforcing `rules(correct)`; the capture with pods added.
fn capture(tag: &str, correct: bool, dir_tag: &str) -> (Node, std::path::PathBuf) {
    let mut node = Node::new(
        tag,
        NodeRules {
            masquerade: true,
            port_forward: None,
            drop_tcp: None,
            extra: String::new(),
        },
    );
    let policy_rules = rules(&node, correct);
    node.nft(&policy_rules);
    let dir = node.dir(dir_tag);
    let raw = dir.join("raw.pcapng");
    let (c, w, o) = (
        node.containers[0].clone(),
        node.containers[1].clone(),
        node.outside.clone(),
    );
    let web_srv = servers(&mut node, &w.ns, &w.ip, &[WEB_HTTP, WEB_ADMIN]);
    let out_srv = servers(&mut node, &o.ns, &o.ip, &[OUT_HTTPS, OUT_SSH]);
    let bin = ptcap_bin();
    let raw_s = raw.to_str().unwrap().to_string();
    let ns = node.ns.clone();
    let ptcap = node.start_until(
        &ns,
        &[bin.to_str().unwrap(), "-i", "any", "-w", &raw_s],
        Stdio::null(),
        "capturing on",
    );
    let mut pods = BTreeMap::new();
    let web_pod = pod(
        "web-7d4f",
        "web",
        r#"[{"name":"http","containerPort":80,"protocol":"TCP"}]"#,
    );
    pods.insert(web_srv.pid(), web_pod);
    let client_pod = pod("client-5c9b", "client", "[]");
    let mut clients = Vec::new();
    for (ip, port) in [
        (&w.ip, WEB_HTTP),
        (&w.ip, WEB_ADMIN),
        (&o.ip, OUT_HTTPS),
        (&o.ip, OUT_SSH),
    ] {
        let child = client(&mut node, &c.ns, ip, port);
        pods.insert(child.id(), client_pod.clone());
        clients.push(child);
        sleep(Duration::from_millis(100));
    }
    for mut child in clients {
        child.wait().unwrap();
    }
    sleep(Duration::from_millis(300));
    let (code, _, stderr) = ptcap.interrupt();
    assert_eq!(code, 0, "ptcap: {stderr:?}");
    drop((web_srv, out_srv));
    let file = dir.join("pods.pcapng");
    let (n, named) = add_pods(&raw, &file, &pods);
    assert!(named > 0 && named < n, "{named} of {n} packets named a pod");
    eprintln!(
        "{tag}: {n} packets, {named} of a pod's process; nft:\n{}",
        node.list_ruleset()
    );
    (node, file)
}

fn verify(file: &std::path::Path, json: bool) -> (i32, String, String) {
    let path = std::env::temp_dir().join(format!("ptcap-netpol-{}.yaml", std::process::id()));
    std::fs::write(&path, POLICIES).unwrap();
    let mut cmd = Command::new(ptanalyze_bin());
    cmd.arg("--verify-policy").arg(&path).arg(file);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The flows' (responder port, decision, observed) as the summary of the check.
fn policy_line<'a>(v: &'a [Value], name: &str) -> &'a Value {
    v.iter()
        .find(|l| l["type"] == "policy" && l["name"] == name)
        .unwrap_or_else(|| panic!("no policy line for {name}: {v:?}"))
}

#[test]
fn enforced_policies_agree_and_gaps_are_reported() {
    let (node, file) = capture("netpol-ok", true, "ok");
    let (code, text, err) = verify(&file, false);
    eprintln!("{text}{err}");
    assert_eq!(code, 0, "{text}{err}");
    assert!(text.starts_with("No violations."), "{text}");
    let (code, out, err) = verify(&file, true);
    assert_eq!(code, 0, "{err}");
    let v = lines(&out);
    let last = v.last().unwrap();
    assert_eq!(last["type"], "summary", "{out}");
    let s = &last["policy"];
    assert_eq!(s["violations"], 0, "{out}");
    // The four connections of the client pod: 80 and 443 allowed, 8080 and 2222 denied.
    assert_eq!(s["allowed"], 2, "{out}");
    assert_eq!(s["denied"], 2, "{out}");
    assert_eq!(s["undecided"], 0, "{out}");
    let web = policy_line(&v, "web-ingress");
    assert_eq!(
        (&web["allowed"], &web["denied"]),
        (&1.into(), &1.into()),
        "{web}"
    );
    let egress = policy_line(&v, "client-egress");
    // Egress: the web pod twice (80, 8080), the outside's 443; 2222 denied.
    assert_eq!(
        (&egress["allowed"], &egress["denied"]),
        (&3.into(), &1.into()),
        "{egress}"
    );
    assert!(v.iter().all(|l| l["type"] != "violation"), "{out}");
    drop(node);

    let (node, file) = capture("netpol-bad", false, "bad");
    let (code, text, err) = verify(&file, false);
    eprintln!("{text}{err}");
    assert_eq!(code, 3, "{text}{err}");
    assert!(text.starts_with("Violations (2):"), "{text}");
    let (code, out, err) = verify(&file, true);
    assert_eq!(code, 3, "{err}");
    let v = lines(&out);
    let violations: Vec<&Value> = v.iter().filter(|l| l["type"] == "violation").collect();
    assert_eq!(violations.len(), 2, "{out}");
    let by_port = |port: u16| {
        violations
            .iter()
            .find(|l| l["flow"]["responder"]["port"] == port)
            .unwrap_or_else(|| panic!("no violation for port {port}: {out}"))
    };
    let admin = by_port(WEB_ADMIN);
    assert_eq!(admin["kind"], "not_enforced", "{admin}");
    assert_eq!(admin["observed"], "completed", "{admin}");
    assert_eq!(admin["verdict"]["decision"], "deny", "{admin}");
    assert_eq!(admin["verdict"]["ingress"]["result"], "denied", "{admin}");
    assert_eq!(
        admin["verdict"]["ingress"]["isolated_by"][0],
        "shop/web-ingress"
    );
    assert_eq!(admin["verdict"]["egress"]["result"], "allowed", "{admin}");
    assert_eq!(admin["flow"]["type"], "flow");
    assert_eq!(
        admin["flow"]["resp"]["owner"]["pod"]["name"], "web-7d4f",
        "{admin}"
    );
    let https = by_port(OUT_HTTPS);
    assert_eq!(https["kind"], "blocked", "{https}");
    assert_eq!(https["observed"], "dropped", "{https}");
    assert_eq!(https["drop_reason"], "NETFILTER_DROP", "{https}");
    assert_eq!(https["verdict"]["decision"], "allow", "{https}");
    assert_eq!(
        https["verdict"]["egress"]["allowed_by"][0],
        serde_json::json!({"policy": "shop/client-egress", "rule": 1}),
        "{https}"
    );
    let s = &v.last().unwrap()["policy"];
    assert_eq!(
        (&s["not_enforced"], &s["blocked"]),
        (&1.into(), &1.into()),
        "{out}"
    );
    let web = policy_line(&v, "web-ingress");
    assert_eq!(web["not_enforced"], 1, "{web}");
    let egress = policy_line(&v, "client-egress");
    assert_eq!(egress["blocked"], 1, "{egress}");
    drop(node);
}

#[test]
fn a_bad_policy_file_is_refused_with_the_object_and_field() {
    let dir = std::env::temp_dir().join(format!("ptcap-netpol-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        POLICIES.replace(
            "- {protocol: TCP, port: 443}",
            "- {protocol: TCP, port: 443, endPort: 80}",
        ),
    )
    .unwrap();
    let out = Command::new(ptanalyze_bin())
        .arg("--verify-policy")
        .arg(&bad)
        .arg(&bad)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "ptanalyze: {}: NetworkPolicy shop/client-egress: spec.egress[1].ports[0].endPort: \
             Invalid value: 80: must be greater than or equal to `port`",
            bad.display()
        )
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

fn have(bin: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The issue's setup: the pods are real containerd pods (sandbox with the pod's labels, app
/// container with the kubelet's labels and its ports) in the node's container namespaces, and
/// ptcap names them itself (`--containerd-address`). The same node, two rounds: rules that
/// enforce the policies, then the broken ones; a new client pod each round.
#[test]
fn containerd_pods_behind_a_node_enforcing_the_policies() {
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } != 0 {
        panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
    }
    for b in ["containerd", "ctr", "runc", "nsenter", "nft", "python3"] {
        assert!(
            have(b),
            "cannot run this test: {b} is not installed (scripts/setup.sh installs it)"
        );
    }
    assert!(
        ptcap_tests::containerd::busybox().is_some(),
        "cannot run this test: busybox-static is not installed (scripts/setup.sh installs it)"
    );
    let mut node = Node::new(
        "netpol-cd",
        NodeRules {
            masquerade: true,
            port_forward: None,
            drop_tcp: None,
            extra: String::new(),
        },
    );
    let dir = node.dir("cd");
    // Declared after `node`: dropped first, so the containers go before their namespaces.
    let mut cd = ptcap_tests::containerd::Containerd::start(dir.join("containerd"));
    let (c, w, o) = (
        node.containers[0].clone(),
        node.containers[1].clone(),
        node.outside.clone(),
    );
    let out_srv = servers(&mut node, &o.ns, &o.ip, &[OUT_HTTPS, OUT_SSH]);
    let web = PodSpec {
        namespace: "shop",
        name: "web-7d4f",
        labels: &[("app", "web")],
        app: "web",
        ports: Some(r#"[{"name":"http","containerPort":80,"protocol":"TCP"}]"#),
    };
    let web_ns = Node::ns_path(&w.ns);
    cd.pod(
        &web_ns,
        &web,
        &format!("httpd -p {WEB_HTTP} -h /www && exec httpd -f -p {WEB_ADMIN} -h /www"),
    );
    let probe = |node: &Node, port: u16| {
        let py = format!(
            "import socket\nsocket.create_connection(('{}', {port}), 1)",
            w.ip
        );
        // From the node itself (before any policy rule is in place).
        Command::new("nsenter")
            .arg(format!("--net={}", Node::ns_path(&node.ns)))
            .args(["python3", "-c", &py])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !(probe(&node, WEB_HTTP) && probe(&node, WEB_ADMIN)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the web pod's httpd did not start"
        );
        sleep(Duration::from_millis(100));
    }
    let mut results = Vec::new();
    for (round, correct) in [("ok", true), ("bad", false)] {
        // The round's rules in place of the last round's.
        let flush = "flush chain ip ptnode forwarding\n";
        if round != "ok" {
            node.nft(&format!("{flush}delete table bridge ptpolicy\n"));
        }
        let rules = rules(&node, correct);
        node.nft(&rules);
        let raw = dir.join(format!("{round}.pcapng"));
        let bin = ptcap_bin();
        let nsn = node.ns.clone();
        let none = dir.join("no-docker.sock");
        let ptcap = node.start_until(
            &nsn,
            &[
                bin.to_str().unwrap(),
                "-i",
                "any",
                "--containerd-address",
                cd.sock.to_str().unwrap(),
                "--docker-address",
                none.to_str().unwrap(),
                "-w",
                raw.to_str().unwrap(),
            ],
            Stdio::null(),
            "capturing on",
        );
        let client = PodSpec {
            namespace: "shop",
            name: if correct {
                "client-5c9b"
            } else {
                "client-8e1a"
            },
            labels: &[("app", "client")],
            app: "client",
            ports: None,
        };
        let targets = [
            (&w.ip, WEB_HTTP),
            (&w.ip, WEB_ADMIN),
            (&o.ip, OUT_HTTPS),
            (&o.ip, OUT_SSH),
        ];
        let script: String = std::iter::once("sleep 1".to_string())
            .chain(targets.iter().map(|(ip, port)| {
                format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {ip} {port} >/dev/null")
            }))
            .collect::<Vec<_>>()
            .join("; ");
        let app = cd.pod(&Node::ns_path(&c.ns), &client, &script);
        let deadline = std::time::Instant::now() + Duration::from_secs(40);
        while cd.task_status(&app).as_deref() != Some("STOPPED") {
            assert!(
                std::time::Instant::now() < deadline,
                "the client pod did not finish"
            );
            sleep(Duration::from_millis(200));
        }
        sleep(Duration::from_millis(300));
        let (code, _, stderr) = ptcap.interrupt();
        assert_eq!(code, 0, "ptcap: {stderr:?}");
        let (code, text, err) = verify(&raw, false);
        eprintln!("{round}:\n{text}{err}");
        let (jcode, out, jerr) = verify(&raw, true);
        assert_eq!(code, jcode, "{jerr}");
        results.push((correct, code, text, lines(&out)));
    }
    drop(out_srv);
    for (correct, code, text, v) in &results {
        let s = &v.last().unwrap()["policy"];
        // The client pod's four connections: 80 and 443 allowed, 8080 and 2222 denied.
        assert_eq!(
            (&s["allowed"], &s["denied"]),
            (&2.into(), &2.into()),
            "{text}"
        );
        assert_eq!(s["undecided"], 0, "{text}");
        if *correct {
            assert_eq!(*code, 0, "{text}");
            assert!(text.starts_with("No violations."), "{text}");
            assert_eq!(s["violations"], 0, "{text}");
            continue;
        }
        assert_eq!(*code, 3, "{text}");
        assert!(text.starts_with("Violations (2):"), "{text}");
        let violations: Vec<&Value> = v.iter().filter(|l| l["type"] == "violation").collect();
        assert_eq!(violations.len(), 2, "{text}");
        let kinds: Vec<(u64, &str, &str)> = violations
            .iter()
            .map(|l| {
                (
                    l["flow"]["responder"]["port"].as_u64().unwrap(),
                    l["kind"].as_str().unwrap(),
                    l["observed"].as_str().unwrap(),
                )
            })
            .collect();
        assert!(
            kinds.contains(&(u64::from(WEB_ADMIN), "not_enforced", "completed")),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&(u64::from(OUT_HTTPS), "blocked", "dropped")),
            "{kinds:?}"
        );
        let admin = violations
            .iter()
            .find(|l| l["flow"]["responder"]["port"] == WEB_ADMIN)
            .unwrap();
        // ptcap named both pods itself (containerd's labels).
        assert_eq!(
            admin["flow"]["orig"]["owner"]["pod"]["name"], "client-8e1a",
            "{admin}"
        );
        assert_eq!(
            admin["flow"]["resp"]["owner"]["pod"]["name"], "web-7d4f",
            "{admin}"
        );
        assert_eq!(
            admin["verdict"]["ingress"]["isolated_by"][0],
            "shop/web-ingress"
        );
        let https = violations
            .iter()
            .find(|l| l["flow"]["responder"]["port"] == OUT_HTTPS)
            .unwrap();
        assert_eq!(https["drop_reason"], "NETFILTER_DROP", "{https}");
        assert_eq!(
            https["verdict"]["egress"]["allowed_by"][0]["rule"], 1,
            "{https}"
        );
    }
    drop(cd);
    drop(node);
}

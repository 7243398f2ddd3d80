//! The semantic rules as a table of policy files, connections and the decision each requires,
//! and a table of files the API server refuses with the field it names.

use super::eval::{Connection, Decision, DirectionVerdict, NamedPort, Party, Workload};
use super::parse::parse_policies;
use super::Protocol;

const NS: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {team: b}}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
";

fn pod(ns: &str, name: &str, labels: &[(&str, &str)]) -> Party {
    Party::Workload(Workload::pod(name, ns, labels.iter().copied()))
}

fn web() -> Party {
    pod("shop", "web", &[("app", "web")])
}

fn client() -> Party {
    pod("shop", "client", &[("app", "client")])
}

fn ext() -> Party {
    Party::External
}

fn conn(
    src: Party,
    src_addr: &str,
    dst: Party,
    dst_addr: &str,
    proto: u8,
    port: u16,
) -> Connection {
    Connection {
        src,
        src_addr: src_addr.parse().unwrap(),
        dst,
        dst_addr: dst_addr.parse().unwrap(),
        protocol: proto,
        port: (proto != 1).then_some(port),
    }
}

fn tcp(src: Party, dst: Party, port: u16) -> Connection {
    conn(src, "10.0.0.1", dst, "10.0.0.2", 6, port)
}

use Decision::{Allow, Deny, Undecided};

struct Case {
    what: &'static str,
    policy: &'static str,
    conn: Connection,
    want: Decision,
}

fn np(name: &str, ns: &str, spec: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{spec}\n"
    )
}

fn check(cases: Vec<(&'static str, String, Connection, Decision)>) {
    let cases: Vec<Case> = cases
        .into_iter()
        .map(|(what, policy, conn, want)| Case {
            what,
            policy: Box::leak(policy.into_boxed_str()),
            conn,
            want,
        })
        .collect();
    let mut failed = Vec::new();
    for c in &cases {
        let set = parse_policies(&format!("{NS}---\n{}", c.policy))
            .unwrap_or_else(|e| panic!("{}: {e}", c.what));
        let v = set.evaluate(&c.conn);
        if v.decision != c.want {
            failed.push(format!("{}: want {:?}, got {v:?}", c.what, c.want));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn selection_and_default_deny() {
    let deny_all_in = np(
        "deny",
        "shop",
        "  podSelector: {}\n  policyTypes: [Ingress]",
    );
    check(vec![
        ("no policy: everything allowed", String::new(), tcp(client(), web(), 80), Allow),
        (
            "empty podSelector selects every pod of its namespace",
            deny_all_in.clone(),
            tcp(client(), web(), 80),
            Deny,
        ),
        (
            "... and no pod of another namespace",
            deny_all_in.clone(),
            tcp(client(), pod("ops", "web", &[("app", "web")]), 80),
            Allow,
        ),
        (
            "an ingress policy does not isolate egress",
            deny_all_in.clone(),
            tcp(web(), ext(), 443),
            Allow,
        ),
        (
            "ingress from the node is never blocked",
            deny_all_in.clone(),
            tcp(Party::Node, web(), 80),
            Allow,
        ),
        (
            "a pod that does not match the podSelector is not isolated",
            np("w", "shop", "  podSelector: {matchLabels: {app: web}}\n  ingress: []"),
            tcp(web(), client(), 80),
            Allow,
        ),
        (
            "policyTypes omitted, no egress rules: Ingress only (deny all ingress)",
            np("w", "shop", "  podSelector: {matchLabels: {app: web}}"),
            tcp(client(), web(), 80),
            Deny,
        ),
        (
            "policyTypes omitted with egress rules: Egress too",
            np(
                "w",
                "shop",
                "  podSelector: {}\n  egress: [{ports: [{port: 53, protocol: UDP}]}]",
            ),
            tcp(client(), ext(), 443),
            Deny,
        ),
        (
            "... and Ingress as well (no ingress rule: ingress denied)",
            np(
                "w",
                "shop",
                "  podSelector: {}\n  egress: [{ports: [{port: 53, protocol: UDP}]}]",
            ),
            tcp(ext(), web(), 80),
            Deny,
        ),
        (
            "policyTypes [Egress] without rules: deny all egress",
            np("w", "shop", "  podSelector: {}\n  policyTypes: [Egress]"),
            tcp(client(), web(), 80),
            Deny,
        ),
        (
            "policyTypes [Egress] leaves ingress alone",
            np("w", "shop", "  podSelector: {}\n  policyTypes: [Egress]"),
            tcp(ext(), web(), 80),
            Allow,
        ),
        (
            "egress allowed, ingress denied: denied",
            np(
                "w",
                "shop",
                "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]",
            ) + "---\n"
                + &np(
                    "c",
                    "shop",
                    "  podSelector: {matchLabels: {app: client}}\n  policyTypes: [Egress]\n  egress: [{}]",
                ),
            tcp(client(), web(), 80),
            Deny,
        ),
        (
            "ingress: [{}] allows everything",
            np("w", "shop", "  podSelector: {}\n  ingress: [{}]"),
            tcp(ext(), web(), 9999),
            Allow,
        ),
        (
            "matchExpressions NotIn matches a pod without the key",
            np(
                "w",
                "shop",
                "  podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}\n  ingress: []",
            ),
            tcp(client(), web(), 80),
            Deny,
        ),
        (
            "matchExpressions Exists does not",
            np(
                "w",
                "shop",
                "  podSelector: {matchExpressions: [{key: tier, operator: Exists}]}\n  ingress: []",
            ),
            tcp(client(), web(), 80),
            Allow,
        ),
        (
            "matchExpressions In and matchLabels together (AND)",
            np(
                "w",
                "shop",
                "  podSelector:\n    matchLabels: {app: web}\n    matchExpressions: [{key: app, operator: In, values: [web, api]}, {key: tier, operator: DoesNotExist}]\n  ingress: []",
            ),
            tcp(client(), web(), 80),
            Deny,
        ),
    ]);
}

#[test]
fn peers() {
    let one = np(
        "w",
        "shop",
        "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: b}}\n      podSelector: {matchLabels: {app: mon}}",
    );
    let two = np(
        "w",
        "shop",
        "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: b}}\n    - podSelector: {matchLabels: {app: mon}}",
    );
    let mon_ops = || pod("ops", "mon", &[("app", "mon")]);
    let other_ops = || pod("ops", "x", &[("app", "x")]);
    let mon_shop = || pod("shop", "mon", &[("app", "mon")]);
    let pods_here = np(
        "w",
        "shop",
        "  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{podSelector: {}}]}]",
    );
    let all_ns = np(
        "w",
        "shop",
        "  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{namespaceSelector: {}}]}]",
    );
    let by_name = np(
        "w",
        "shop",
        "  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]}]",
    );
    let block = np(
        "w",
        "shop",
        "  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.128/25]}}]}]",
    );
    let from = |addr: &str, src: Party| conn(src, addr, web(), "10.0.0.2", 6, 80);
    check(vec![
        (
            "one element: namespace AND pod, both match",
            one.clone(),
            tcp(mon_ops(), web(), 80),
            Allow,
        ),
        (
            "one element: right namespace, wrong pod",
            one.clone(),
            tcp(other_ops(), web(), 80),
            Deny,
        ),
        (
            "one element: right pod, wrong namespace",
            one.clone(),
            tcp(mon_shop(), web(), 80),
            Deny,
        ),
        (
            "two elements: the namespace alone",
            two.clone(),
            tcp(other_ops(), web(), 80),
            Allow,
        ),
        (
            "two elements: the pod in the policy's namespace",
            two.clone(),
            tcp(mon_shop(), web(), 80),
            Allow,
        ),
        (
            "two elements: podSelector alone is the policy's namespace only",
            two.clone(),
            tcp(pod("kube-system", "mon", &[("app", "mon")]), web(), 80),
            Deny,
        ),
        (
            "podSelector {}: every pod of the namespace",
            pods_here.clone(),
            tcp(client(), web(), 80),
            Allow,
        ),
        (
            "podSelector {}: no pod of another",
            pods_here.clone(),
            tcp(mon_ops(), web(), 80),
            Deny,
        ),
        (
            "podSelector {}: no outside address",
            pods_here,
            tcp(ext(), web(), 80),
            Deny,
        ),
        (
            "namespaceSelector {}: pods of every namespace",
            all_ns.clone(),
            tcp(mon_ops(), web(), 80),
            Allow,
        ),
        (
            "namespaceSelector {}: no outside address",
            all_ns,
            tcp(ext(), web(), 80),
            Deny,
        ),
        (
            "the default kubernetes.io/metadata.name label",
            by_name.clone(),
            tcp(pod("kube-system", "dns", &[]), web(), 80),
            Allow,
        ),
        (
            "... of another namespace",
            by_name,
            tcp(mon_ops(), web(), 80),
            Deny,
        ),
        (
            "ipBlock: inside the cidr",
            block.clone(),
            from("203.0.113.5", ext()),
            Allow,
        ),
        (
            "ipBlock: in except",
            block.clone(),
            from("203.0.113.200", ext()),
            Deny,
        ),
        (
            "ipBlock: outside the cidr",
            block.clone(),
            from("198.51.100.1", ext()),
            Deny,
        ),
        (
            "ipBlock does not match a pod at that address",
            block,
            from("203.0.113.5", client()),
            Deny,
        ),
        (
            "ipBlock: IPv6",
            np(
                "w",
                "shop",
                "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: '2001:db8::/32'}}]}]",
            ),
            conn(ext(), "2001:db8::1", web(), "fd00::2", 6, 80),
            Allow,
        ),
    ]);
}

#[test]
fn ports() {
    let p = |ports: &str| {
        np(
            "w",
            "shop",
            &format!(
                "  podSelector: {{matchLabels: {{app: web}}}}\n  ingress: [{{ports: {ports}}}]"
            ),
        )
    };
    let named = p("[{port: http}]");
    let mut web_ports = Workload::pod("web", "shop", [("app", "web")]);
    web_ports.ports = Some(vec![NamedPort {
        name: "http".into(),
        port: 8080,
        protocol: Protocol::Tcp,
    }]);
    let web_p = || Party::Workload(web_ports.clone());
    check(vec![
        (
            "protocol defaults to TCP",
            p("[{port: 80}]"),
            tcp(client(), web(), 80),
            Allow,
        ),
        (
            "another port",
            p("[{port: 80}]"),
            tcp(client(), web(), 81),
            Deny,
        ),
        (
            "a UDP rule does not allow TCP",
            p("[{port: 53, protocol: UDP}]"),
            tcp(client(), web(), 53),
            Deny,
        ),
        (
            "UDP",
            p("[{port: 53, protocol: UDP}]"),
            conn(client(), "10.0.0.1", web(), "10.0.0.2", 17, 53),
            Allow,
        ),
        (
            "endPort: the range's start",
            p("[{port: 32000, endPort: 32768}]"),
            tcp(client(), web(), 32000),
            Allow,
        ),
        (
            "endPort: its end",
            p("[{port: 32000, endPort: 32768}]"),
            tcp(client(), web(), 32768),
            Allow,
        ),
        (
            "endPort: past it",
            p("[{port: 32000, endPort: 32768}]"),
            tcp(client(), web(), 32769),
            Deny,
        ),
        (
            "protocol alone: every port",
            p("[{protocol: UDP}]"),
            conn(client(), "10.0.0.1", web(), "10.0.0.2", 17, 9),
            Allow,
        ),
        (
            "a ports list never admits ICMP",
            p("[{protocol: TCP}]"),
            conn(client(), "10.0.0.1", web(), "10.0.0.2", 1, 0),
            Deny,
        ),
        (
            "no ports list admits ICMP",
            np(
                "w",
                "shop",
                "  podSelector: {}\n  ingress: [{from: [{podSelector: {}}]}]",
            ),
            conn(client(), "10.0.0.1", web(), "10.0.0.2", 1, 0),
            Allow,
        ),
        (
            "named port resolved: its number",
            named.clone(),
            tcp(client(), web_p(), 8080),
            Allow,
        ),
        (
            "named port resolved: another number",
            named.clone(),
            tcp(client(), web_p(), 80),
            Deny,
        ),
        (
            "named port, ports unknown: undecided",
            named.clone(),
            tcp(client(), web(), 8080),
            Undecided,
        ),
        (
            "named port unknown, but another rule allows it",
            named.clone()
                + "---\n"
                + &np(
                    "w2",
                    "shop",
                    "  podSelector: {}\n  ingress: [{ports: [{port: 8080}]}]",
                ),
            tcp(client(), web(), 8080),
            Allow,
        ),
        (
            "allow-union across policies",
            p("[{port: 80}]")
                + "---\n"
                + &np(
                    "w2",
                    "shop",
                    "  podSelector: {matchLabels: {app: web}}\n  ingress: [{ports: [{port: 443}]}]",
                ),
            tcp(client(), web(), 443),
            Allow,
        ),
        (
            "egress named port to an outside address never matches",
            np(
                "e",
                "shop",
                "  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{ports: [{port: http}]}]",
            ),
            tcp(client(), ext(), 8080),
            Deny,
        ),
    ]);
}

#[test]
fn egress_to_dns() {
    let dns = np(
        "dns",
        "shop",
        "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n      podSelector: {matchLabels: {k8s-app: kube-dns}}\n    ports:\n    - {port: 53, protocol: UDP}\n    - {port: 53, protocol: TCP}",
    );
    let coredns = || pod("kube-system", "coredns-1", &[("k8s-app", "kube-dns")]);
    let udp = |dst: Party, port| conn(client(), "10.0.0.1", dst, "10.96.0.10", 17, port);
    check(vec![
        (
            "DNS over UDP to CoreDNS",
            dns.clone(),
            udp(coredns(), 53),
            Allow,
        ),
        (
            "DNS over TCP to CoreDNS",
            dns.clone(),
            tcp(client(), coredns(), 53),
            Allow,
        ),
        (
            "another port of CoreDNS",
            dns.clone(),
            udp(coredns(), 5353),
            Deny,
        ),
        (
            "DNS to an outside resolver",
            dns.clone(),
            udp(ext(), 53),
            Deny,
        ),
        (
            "anything else out",
            dns.clone(),
            tcp(client(), ext(), 443),
            Deny,
        ),
        (
            "a pod of kube-system without the label",
            dns.clone(),
            udp(pod("kube-system", "x", &[]), 53),
            Deny,
        ),
    ]);
}

#[test]
fn verdicts_name_rules_and_default_denies() {
    let set = parse_policies(&(np(
        "a",
        "shop",
        "  podSelector: {matchLabels: {app: web}}\n  ingress: [{ports: [{port: 80}]}, {from: [{podSelector: {}}]}]",
    ) + "---\n" + &np("b", "shop", "  podSelector: {}\n  ingress: []")))
    .unwrap();
    let v = set.evaluate(&tcp(client(), web(), 80));
    match v.ingress {
        Some(DirectionVerdict::Allowed { by }) => {
            let rules: Vec<(usize, usize)> = by.iter().map(|r| (r.policy, r.rule)).collect();
            assert_eq!(rules, vec![(0, 0), (0, 1)]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(v.egress, Some(DirectionVerdict::NotIsolated));
    let v = set.evaluate(&tcp(ext(), web(), 81));
    assert_eq!(
        v.ingress,
        Some(DirectionVerdict::Denied {
            isolated_by: vec![0, 1]
        })
    );
    assert_eq!(v.egress, None, "an outside initiator has no egress policy");
}

#[test]
fn documents_and_lists() {
    let text = "
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: a, namespace: shop}
  spec: {podSelector: {}}
- apiVersion: v1
  kind: Namespace
  metadata: {name: shop, labels: {team: a}}
---
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b}
spec: {podSelector: {}, policyTypes: [Egress]}
";
    let set = parse_policies(text).unwrap();
    let ids: Vec<String> = set.policies.iter().map(|p| p.id()).collect();
    assert_eq!(ids, ["shop/a", "default/b"]);
    assert_eq!(
        set.namespace_labels("shop").get("team").map(String::as_str),
        Some("a")
    );
    assert_eq!(
        set.namespace_labels("x")
            .get("kubernetes.io/metadata.name")
            .map(String::as_str),
        Some("x")
    );
    assert!(set.policies[1].egress_type && !set.policies[1].ingress_type);
}

#[test]
fn refused_as_the_api_server_refuses() {
    let cases: &[(&str, &str)] = &[
        (
            "  podSelector: {}\n  ingress: [{from: [{}]}]",
            "NetworkPolicy shop/p: spec.ingress[0].from[0]: Required value: must specify a peer",
        ),
        (
            "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]",
            "NetworkPolicy shop/p: spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer",
        ),
        (
            "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]}]",
            "NetworkPolicy shop/p: spec.egress[0].to[0].ipBlock.except[0]: Invalid value: \"192.168.0.0/16\": must be a strict subset of `cidr`",
        ),
        (
            "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]",
            "NetworkPolicy shop/p: spec.egress[0].to[0].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
        ),
        (
            "  podSelector: {}\n  ingress: [{ports: [{port: 80, endPort: 79}]}]",
            "NetworkPolicy shop/p: spec.ingress[0].ports[0].endPort: Invalid value: 79: must be greater than or equal to `port`",
        ),
        (
            "  podSelector: {}\n  ingress: [{ports: [{port: http, endPort: 90}]}]",
            "NetworkPolicy shop/p: spec.ingress[0].ports[0].endPort: Forbidden: may not be specified when port is non-numeric",
        ),
        (
            "  podSelector: {}\n  ingress: [{ports: [{endPort: 90}]}]",
            "NetworkPolicy shop/p: spec.ingress[0].ports[0].endPort: Required value: must specify port when endPort is specified",
        ),
        (
            "  podSelector: {}\n  ingress: [{ports: [{port: 0}]}]",
            "NetworkPolicy shop/p: spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        ),
        (
            "  podSelector: {}\n  ingress: [{ports: [{port: '80'}]}]",
            "NetworkPolicy shop/p: spec.ingress[0].ports[0].port: Invalid value: \"80\": must contain at least one letter (a-z)",
        ),
        (
            "  podSelector: {}\n  ingress: [{ports: [{port: 80, protocol: tcp}]}]",
            "NetworkPolicy shop/p: spec.ingress[0].ports[0].protocol: Unsupported value: \"tcp\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
        ),
        (
            "  podSelector: {matchExpressions: [{key: app, operator: In}]}",
            "NetworkPolicy shop/p: spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        ),
        (
            "  podSelector: {matchExpressions: [{key: app, operator: Exists, values: [a]}]}",
            "NetworkPolicy shop/p: spec.podSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        ),
        (
            "  podSelector: {matchExpressions: [{key: app, operator: Equals, values: [a]}]}",
            "NetworkPolicy shop/p: spec.podSelector.matchExpressions[0].operator: Invalid value: \"Equals\": not a valid selector operator (In, NotIn, Exists, DoesNotExist)",
        ),
        (
            "  podSelector: {matchLabels: {app: 'no spaces'}}",
            "NetworkPolicy shop/p: spec.podSelector.matchLabels.app: Invalid value: \"no spaces\": a valid label must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
        (
            "  podSelector: {matchLabels: {app: true}}",
            "NetworkPolicy shop/p: spec.podSelector.matchLabels.app: expected a string, found a boolean",
        ),
        (
            "  podSelector: {}\n  policyTypes: [ingress]",
            "NetworkPolicy shop/p: spec.policyTypes[0]: Unsupported value: \"ingress\": supported values: \"Ingress\", \"Egress\"",
        ),
        (
            "  podselector: {}",
            "NetworkPolicy shop/p: spec.podselector: unknown field",
        ),
    ];
    let mut failed = Vec::new();
    for (spec, want) in cases {
        match parse_policies(&np("p", "shop", spec)) {
            Ok(_) => failed.push(format!("accepted: {spec}")),
            Err(e) if e.to_string() == *want => {}
            Err(e) => failed.push(format!("{spec}:\n  want {want}\n  got  {e}")),
        }
    }
    let whole: &[(&str, &str)] = &[
        (
            "apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {}",
            "document 1: apiVersion: Unsupported value: \"networking.k8s.io/v1beta1\": supported values: \"networking.k8s.io/v1\"",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {namespace: x}\nspec: {}",
            "document 1: metadata.name: Required value",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: Web}\nspec: {}",
            "document 1: metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: p}",
            "document 1: kind: Unsupported value: \"Deployment\": --verify-policy reads NetworkPolicy and Namespace objects (and Lists of them)",
        ),
        (
            "kind: List\napiVersion: v1\nitems:\n- {kind: NetworkPolicy, apiVersion: networking.k8s.io/v1, metadata: {name: a}, spec: {podSelector: {}}}\n- {kind: NetworkPolicy, apiVersion: networking.k8s.io/v1, metadata: {name: a}, spec: {podSelector: {}}}",
            "NetworkPolicy default/a: metadata.name: Duplicate value: the file defines it twice",
        ),
        ("a: [1, 2", "line 2 column 1: not YAML: while parsing a flow sequence, expected ',' or ']'"),
    ];
    for (text, want) in whole {
        match parse_policies(text) {
            Ok(_) => failed.push(format!("accepted: {text}")),
            Err(e) if e.to_string() == *want => {}
            Err(e) => failed.push(format!("{text}:\n  want {want}\n  got  {e}")),
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

mod flows {
    //! `verify` on flow tables built from packets: who the ends are (plain containers, the
    //! address seen in another flow, DNAT's real server) and what happened.

    use std::collections::BTreeMap;
    use std::sync::Arc;

    use formats::meta::{ContainerInfo, NatInfo, PacketMeta, ProcessInfo, Role, Tuple};

    use crate::flows::{FlowTable, Observed as Packet};
    use crate::policy::parse::parse_policies;
    use crate::policy::verify::{verify, Observed, Violation};

    /// IPv4 (raw link) TCP from `src:sp` to `dst:dp` with `flags`.
    fn tcp(src: [u8; 4], sp: u16, dst: [u8; 4], dp: u16, flags: u8) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(&sp.to_be_bytes());
        p.extend_from_slice(&dp.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 1, 0, 0, 0, 0, 0]);
        p
    }

    fn container(name: &str, labels: &[(&str, &str)]) -> PacketMeta {
        PacketMeta {
            process: Some(Arc::new(ProcessInfo {
                pid: 7,
                comm: name.into(),
                ..Default::default()
            })),
            container: Some(Arc::new(ContainerInfo {
                id: format!("{name:0>64}"),
                name: name.into(),
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
                ..Default::default()
            })),
            role: Role::Sender,
            ..Default::default()
        }
    }

    const SYN: u8 = 0x02;
    const SYNACK: u8 = 0x12;
    const ACK: u8 = 0x10;
    const RST: u8 = 0x14;

    #[test]
    fn plain_containers_addresses_nat_and_outcomes() {
        let (api, db, lb) = ([172, 20, 0, 2], [172, 20, 0, 3], [172, 20, 0, 9]);
        let api_m = container("api", &[("app", "api")]);
        let db_m = container("db", &[("app", "db")]);
        let none = PacketMeta::default();
        // DNAT: api connects to lb:5432, which is db:5432.
        let dnat = Arc::new(NatInfo {
            proto: 6,
            original: Tuple {
                src: "172.20.0.2".parse().unwrap(),
                sport: 41000,
                dst: "172.20.0.9".parse().unwrap(),
                dport: 5432,
            },
            reply: Tuple {
                src: "172.20.0.3".parse().unwrap(),
                sport: 5432,
                dst: "172.20.0.2".parse().unwrap(),
                dport: 41000,
            },
            snat: false,
            dnat: true,
        });
        let mut db_reply = db_m.clone();
        db_reply.nat = Some(Arc::clone(&dnat));
        db_reply.nat_reply = true;
        let mut api_nat = api_m.clone();
        api_nat.nat = Some(dnat);
        let pkts: Vec<(Vec<u8>, &PacketMeta)> = vec![
            // api -> db:5432 answered (the db container is known here).
            (tcp(api, 40000, db, 5432, SYN), &api_m),
            (tcp(db, 5432, api, 40000, SYNACK), &db_m),
            // api -> db:6379 with no owner on db's side: the address names db; reset.
            (tcp(api, 40001, db, 6379, SYN), &api_m),
            (tcp(db, 6379, api, 40001, RST), &none),
            // api -> db:22 unanswered.
            (tcp(api, 40002, db, 22, SYN), &api_m),
            // api -> lb:5432, DNATed to db: the after-NAT packets, answered.
            (tcp(db, 5432, api, 41000, SYNACK), &db_reply),
            (tcp(lb, 5432, api, 41000, ACK), &none),
            (tcp(api, 41000, db, 5432, ACK), &api_nat),
        ];
        let mut t = FlowTable::new();
        for (i, (data, meta)) in pkts.iter().enumerate() {
            t.observe(&Packet {
                ts_ns: 1_000 + i as u64,
                orig_len: data.len() as u32,
                link_type: 101,
                data,
                interface: None,
                direction: None,
                meta,
            });
        }
        let flows = t.finish();
        let set = parse_policies(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: compose}\n\
             spec:\n  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}, {port: 22}]}]\n",
        )
        .unwrap();
        // Another namespace for plain containers: the policy selects nothing.
        let v = verify(&set, &flows, "default");
        assert!(
            v.checked.iter().all(|c| c.verdict.decision.is_allow()),
            "{v:?}"
        );
        let v = verify(&set, &flows, "compose");
        let by_port = |p: u16| {
            v.checked
                .iter()
                .find(|c| c.connection.port == Some(p))
                .unwrap_or_else(|| panic!("no flow to {p}: {v:?}"))
        };
        let pg = by_port(5432);
        assert_eq!(pg.observed, Observed::Completed);
        assert!(pg.verdict.decision.is_allow());
        assert_eq!(pg.connection.dst.workload().unwrap().id(), "compose/db");
        let redis = by_port(6379);
        assert_eq!(redis.connection.dst.workload().unwrap().id(), "compose/db");
        assert!(!redis.verdict.decision.is_allow());
        assert_eq!(redis.observed, Observed::Refused);
        assert_eq!(redis.violation, None, "a refused denied connection agrees");
        let ssh = by_port(22);
        assert_eq!(ssh.observed, Observed::Unanswered);
        assert_eq!(ssh.violation, Some(Violation::Blocked));
        // The DNATed flow: checked against db (the real server), allowed and answered.
        let natted: Vec<_> = v
            .checked
            .iter()
            .filter(|c| flows[c.flow].nat.is_some())
            .collect();
        assert_eq!(natted.len(), 1, "{v:?}");
        assert_eq!(natted[0].connection.dst_addr.to_string(), "172.20.0.3");
        assert!(natted[0].verdict.decision.is_allow());
        assert_eq!(natted[0].violation, None);
        assert_eq!(v.count(Violation::NotEnforced), 0);
        assert_eq!(v.count(Violation::Blocked), 1);
    }
}

//! Every flow of a capture against the policies: who its ends were (pods, plain containers,
//! the node, outside addresses), what the policies require, what happened, and where the two
//! disagree.
//!
//! - *not_enforced*: denied by policy, but the responder answered (it went through).
//! - *blocked*: allowed by policy, but dropped (the kernel's reason when the file has it) or
//!   unanswered.
//!
//! A refused connection (the responder's RST) agrees with either verdict: a policy may be
//! enforced by rejecting, and an allowed connection to a closed port is no policy matter.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::IpAddr;

use formats::meta::{ContainerInfo, PacketMeta, PodInfo};
use serde_json::{json, Value};

use super::eval::{Connection, Decision, DirectionVerdict, NamedPort, Party, Verdict, Workload};
use super::{PolicySet, Protocol};
use crate::flows::{write_table, FlowJson, FlowRecord};

/// The container label (or cri-dockerd's `annotation.` copy of the kubelet's annotation) that
/// lists a container's ports as the kubelet writes it: `[{"name":"http","containerPort":80,
/// "protocol":"TCP"}]`.
pub const CONTAINER_PORTS_LABEL: &str = "io.kubernetes.container.ports";

/// What the capture saw of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// The responder answered (TCP: a SYN-ACK or data; others: any packet back).
    Completed,
    /// The responder (or the host in its name) reset the connection before answering.
    Refused,
    /// Not answered, and the kernel dropped some of its packets.
    Dropped,
    /// Not answered, nothing recorded as dropped.
    Unanswered,
}

impl Observed {
    pub fn as_str(self) -> &'static str {
        match self {
            Observed::Completed => "completed",
            Observed::Refused => "refused",
            Observed::Dropped => "dropped",
            Observed::Unanswered => "unanswered",
        }
    }

    /// What the flow table says happened, and the most frequent drop reason.
    pub fn of(f: &FlowRecord) -> (Observed, Option<String>) {
        let reason = f
            .orig
            .top_drop_reason
            .clone()
            .or_else(|| f.resp.top_drop_reason.clone());
        let dropped = f.orig.dropped_packets + f.resp.dropped_packets > 0;
        let o = match &f.tcp {
            Some(t) if t.history.contains('r') && !t.history.contains('h') => Observed::Refused,
            _ if f.resp.packets > 0 => Observed::Completed,
            _ if dropped => Observed::Dropped,
            _ => Observed::Unanswered,
        };
        (o, reason)
    }
}

/// A disagreement between the policies and the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    NotEnforced,
    Blocked,
}

impl Violation {
    pub fn as_str(self) -> &'static str {
        match self {
            Violation::NotEnforced => "not_enforced",
            Violation::Blocked => "blocked",
        }
    }
}

/// One flow the policies apply to (at least one end is a pod or container).
#[derive(Debug, Clone)]
pub struct Checked {
    /// Index into the flows given to [`verify`].
    pub flow: usize,
    pub connection: Connection,
    pub verdict: Verdict,
    pub observed: Observed,
    pub drop_reason: Option<String>,
    pub violation: Option<Violation>,
}

/// Per policy: the flows one of its rules allowed, the flows it denied (its default-deny
/// isolated an end and nothing allowed them), and of those the violations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyCounts {
    pub allowed: u64,
    pub denied: u64,
    pub not_enforced: u64,
    pub blocked: u64,
}

/// The whole check.
#[derive(Debug, Clone)]
pub struct Verification {
    pub flows: usize,
    pub checked: Vec<Checked>,
    /// Flows no policy can apply to (neither end a pod or container), ICMP errors.
    pub skipped: usize,
    pub per_policy: Vec<PolicyCounts>,
}

impl Verification {
    pub fn violations(&self) -> impl Iterator<Item = &Checked> {
        self.checked.iter().filter(|c| c.violation.is_some())
    }

    pub fn count(&self, v: Violation) -> usize {
        self.checked
            .iter()
            .filter(|c| c.violation == Some(v))
            .count()
    }

    pub fn decided(&self, d: Decision) -> usize {
        self.checked
            .iter()
            .filter(|c| c.verdict.decision == d)
            .count()
    }
}

/// The ports a container's labels list (`None`: the label is absent or unreadable).
pub fn container_ports(c: &ContainerInfo) -> Option<Vec<NamedPort>> {
    let text = c
        .labels
        .get(CONTAINER_PORTS_LABEL)
        .or_else(|| c.labels.get(&format!("annotation.{CONTAINER_PORTS_LABEL}")))?;
    let v: Value = serde_json::from_str(text).ok()?;
    let mut out = Vec::new();
    for p in v.as_array()? {
        let (Some(name), Some(port)) = (p["name"].as_str(), p["containerPort"].as_u64()) else {
            continue;
        };
        let protocol = match p["protocol"].as_str().unwrap_or("TCP") {
            "UDP" => Protocol::Udp,
            "SCTP" => Protocol::Sctp,
            _ => Protocol::Tcp,
        };
        out.push(NamedPort {
            name: name.to_string(),
            port: u16::try_from(port).ok()?,
            protocol,
        });
    }
    Some(out)
}

/// Who a flow's ends are: built once from every flow of the capture.
struct Directory<'a> {
    policy_namespace: &'a str,
    /// Pod (namespace, name) to its containers' named ports, from every container of the pod
    /// the capture names that lists them.
    pod_ports: BTreeMap<(String, String), Vec<NamedPort>>,
    /// A pod's or container's address, from the flows where the capture named the owner:
    /// the end of a flow whose owner is unknown (a dropped SYN never reached its server)
    /// is the workload seen at its address. `None`: several workloads were seen there (the
    /// node's address of host-network pods), so the address names none of them.
    by_addr: BTreeMap<IpAddr, Option<Workload>>,
}

/// The owner of one side: its own metadata, else what the other side's packets say of their
/// local peer.
fn side_meta<'m>(own: Option<&'m PacketMeta>, other: Option<&'m PacketMeta>) -> Option<Owner<'m>> {
    if let Some(m) = own.filter(|m| !m.is_empty()) {
        return Some(Owner {
            pod: m.pod.as_deref(),
            container: m.container.as_deref(),
            process: m.process.is_some(),
        });
    }
    let p = &other?.peer;
    (!p.is_empty()).then(|| Owner {
        pod: p.pod.as_deref(),
        container: p.container.as_deref(),
        process: p.process.is_some(),
    })
}

struct Owner<'m> {
    pod: Option<&'m PodInfo>,
    container: Option<&'m ContainerInfo>,
    process: bool,
}

/// The two ends of a flow and their addresses: the initiator's own (before SNAT) and as the
/// responder sees it; the responder's own (after DNAT), and its port.
struct Ends {
    init_own: IpAddr,
    init_seen: IpAddr,
    resp_own: IpAddr,
    resp_port: Option<u16>,
}

fn ends(f: &FlowRecord) -> Ends {
    let nat = f.nat.as_ref();
    let snat = nat.filter(|n| n.snat);
    let dnat = nat.filter(|n| n.dnat);
    Ends {
        init_own: f.initiator.addr,
        init_seen: snat.map_or(f.initiator.addr, |n| n.initiator.addr),
        resp_own: dnat.map_or(f.responder.addr, |n| n.responder.addr),
        resp_port: dnat.map_or(f.responder.port, |n| n.responder.port),
    }
}

impl Directory<'_> {
    fn workload(&self, o: &Owner<'_>) -> Option<Workload> {
        if let Some(p) = o.pod {
            return Some(Workload {
                kind: "pod",
                name: p.name.clone(),
                namespace: p.namespace.clone(),
                labels: p.labels.clone(),
                ports: self
                    .pod_ports
                    .get(&(p.namespace.clone(), p.name.clone()))
                    .cloned(),
            });
        }
        let c = o.container?;
        let name = if c.name.is_empty() {
            c.id.get(..12).unwrap_or(&c.id).to_string()
        } else {
            c.name.clone()
        };
        Some(Workload {
            kind: "container",
            name,
            namespace: self.policy_namespace.to_string(),
            labels: c.labels.clone(),
            ports: container_ports(c),
        })
    }

    fn party(&self, o: Option<&Owner<'_>>, addr: IpAddr) -> Party {
        if let Some(w) = o.and_then(|o| self.workload(o)) {
            return Party::Workload(w);
        }
        if let Some(Some(w)) = self.by_addr.get(&addr) {
            return Party::Workload(w.clone());
        }
        match o {
            Some(o) if o.process => Party::Node,
            _ => Party::External,
        }
    }
}

/// ICMP messages other than echo (errors, mostly) belong to a connection they report on:
/// no policy rule is about them.
fn is_icmp_error(f: &FlowRecord) -> bool {
    matches!(f.ip_proto, 1 | 58) && f.icmp_echo_id.is_none()
}

fn metas(f: &FlowRecord) -> (Option<&PacketMeta>, Option<&PacketMeta>) {
    (f.orig.owner_meta.as_ref(), f.resp.owner_meta.as_ref())
}

/// Checks every flow against `set`. Plain containers are taken to live in namespace
/// `policy_namespace`.
pub fn verify(set: &PolicySet, flows: &[FlowRecord], policy_namespace: &str) -> Verification {
    let mut dir = Directory {
        policy_namespace,
        pod_ports: BTreeMap::new(),
        by_addr: BTreeMap::new(),
    };
    for f in flows {
        let (a, b) = metas(f);
        for m in [a, b].into_iter().flatten() {
            for (pod, c) in [
                (m.pod.as_deref(), m.container.as_deref()),
                (m.peer.pod.as_deref(), m.peer.container.as_deref()),
            ] {
                if let (Some(p), Some(ports)) = (pod, c.and_then(container_ports)) {
                    let e = dir
                        .pod_ports
                        .entry((p.namespace.clone(), p.name.clone()))
                        .or_default();
                    for np in ports {
                        if !e.contains(&np) {
                            e.push(np);
                        }
                    }
                }
            }
        }
    }
    for f in flows {
        let (a, b) = metas(f);
        let e = ends(f);
        for (own, other, addr) in [(a, b, e.init_own), (b, a, e.resp_own)] {
            if let Some(w) = side_meta(own, other).and_then(|o| dir.workload(&o)) {
                let e = dir.by_addr.entry(addr).or_insert_with(|| Some(w.clone()));
                if e.as_ref().is_some_and(|seen| seen.id() != w.id()) {
                    *e = None;
                }
            }
        }
    }
    let mut checked = Vec::new();
    let mut skipped = 0;
    let mut per_policy = vec![PolicyCounts::default(); set.policies.len()];
    for (i, f) in flows.iter().enumerate() {
        let (a, b) = metas(f);
        let e = ends(f);
        let src = dir.party(side_meta(a, b).as_ref(), e.init_own);
        let dst = dir.party(side_meta(b, a).as_ref(), e.resp_own);
        if is_icmp_error(f) || (src.workload().is_none() && dst.workload().is_none()) {
            skipped += 1;
            continue;
        }
        let connection = Connection {
            src,
            src_addr: e.init_seen,
            dst,
            dst_addr: e.resp_own,
            protocol: f.ip_proto,
            port: e.resp_port,
        };
        let verdict = set.evaluate(&connection);
        let (observed, drop_reason) = Observed::of(f);
        let violation = match (verdict.decision, observed) {
            (Decision::Deny, Observed::Completed) => Some(Violation::NotEnforced),
            (Decision::Allow, Observed::Dropped | Observed::Unanswered) => Some(Violation::Blocked),
            _ => None,
        };
        for d in [&verdict.egress, &verdict.ingress].into_iter().flatten() {
            match d {
                DirectionVerdict::Allowed { by } => {
                    let mut seen: Vec<usize> = by.iter().map(|r| r.policy).collect();
                    seen.dedup();
                    for p in seen {
                        per_policy[p].allowed += 1;
                        if violation == Some(Violation::Blocked) {
                            per_policy[p].blocked += 1;
                        }
                    }
                }
                DirectionVerdict::Denied { isolated_by } => {
                    for &p in isolated_by {
                        per_policy[p].denied += 1;
                        if violation == Some(Violation::NotEnforced) {
                            per_policy[p].not_enforced += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        checked.push(Checked {
            flow: i,
            connection,
            verdict,
            observed,
            drop_reason,
            violation,
        });
    }
    Verification {
        flows: flows.len(),
        checked,
        skipped,
        per_policy,
    }
}

fn party_text(p: &Party) -> String {
    match p {
        Party::Workload(w) if w.kind == "pod" => w.id(),
        Party::Workload(w) => format!("container {}", w.id()),
        Party::Node => "host process".into(),
        Party::External => "external".into(),
    }
}

fn party_json(p: &Party) -> Value {
    match p {
        Party::Workload(w) => json!({"kind": w.kind, "namespace": w.namespace, "name": w.name}),
        Party::Node => json!({"kind": "host"}),
        Party::External => json!({"kind": "external"}),
    }
}

/// One direction in words: `ingress of shop/web: allowed by shop/web-in rule 0`.
fn direction_text(
    set: &PolicySet,
    what: &str,
    w: Option<&Workload>,
    d: &DirectionVerdict,
) -> String {
    let who = w.map(|w| w.id()).unwrap_or_default();
    let names = |ps: &[usize]| {
        ps.iter()
            .map(|&p| set.policies[p].id())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match d {
        DirectionVerdict::NotIsolated => format!("{what} of {who}: not isolated"),
        DirectionVerdict::Always => {
            format!("{what} of {who}: always allowed (from its node, or itself)")
        }
        DirectionVerdict::Allowed { by } => format!(
            "{what} of {who}: allowed by {}",
            by.iter()
                .map(|r| format!("{} rule {}", set.policies[r.policy].id(), r.rule))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DirectionVerdict::Denied { isolated_by } => format!(
            "{what} of {who}: denied (isolated by {}; no rule allows it)",
            names(isolated_by)
        ),
        DirectionVerdict::Undecided {
            isolated_by,
            unresolved,
        } => format!(
            "{what} of {who}: undecided (isolated by {}; named port {} not known from the capture)",
            names(isolated_by),
            unresolved
                .iter()
                .map(|u| format!(
                    "{:?} of {} rule {}",
                    u.port,
                    set.policies[u.rule.policy].id(),
                    u.rule.rule
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn direction_json(set: &PolicySet, w: Option<&Workload>, d: &DirectionVerdict) -> Value {
    let names =
        |ps: &[usize]| -> Vec<String> { ps.iter().map(|&p| set.policies[p].id()).collect() };
    let subject = w.map(|w| w.id());
    match d {
        DirectionVerdict::NotIsolated => json!({"subject": subject, "result": "not_isolated"}),
        DirectionVerdict::Always => json!({"subject": subject, "result": "always_allowed"}),
        DirectionVerdict::Allowed { by } => json!({
            "subject": subject,
            "result": "allowed",
            "allowed_by": by.iter().map(|r| json!({"policy": set.policies[r.policy].id(), "rule": r.rule})).collect::<Vec<_>>(),
        }),
        DirectionVerdict::Denied { isolated_by } => json!({
            "subject": subject,
            "result": "denied",
            "isolated_by": names(isolated_by),
        }),
        DirectionVerdict::Undecided {
            isolated_by,
            unresolved,
        } => json!({
            "subject": subject,
            "result": "undecided",
            "isolated_by": names(isolated_by),
            "unresolved_named_ports": unresolved.iter().map(|u| json!({"policy": set.policies[u.rule.policy].id(), "rule": u.rule.rule, "port": u.port})).collect::<Vec<_>>(),
        }),
    }
}

/// The verdict as JSON: the decision and each direction that applies.
pub fn verdict_json(set: &PolicySet, c: &Checked) -> Value {
    let mut v = json!({
        "decision": c.verdict.decision.as_str(),
        "initiator": party_json(&c.connection.src),
        "responder": party_json(&c.connection.dst),
    });
    if let Some(d) = &c.verdict.egress {
        v["egress"] = direction_json(set, c.connection.src.workload(), d);
    }
    if let Some(d) = &c.verdict.ingress {
        v["ingress"] = direction_json(set, c.connection.dst.workload(), d);
    }
    v
}

/// The verdict in words: the directions that decided it.
fn verdict_text(set: &PolicySet, c: &Checked) -> String {
    let mut parts = Vec::new();
    let dirs = [
        ("egress", c.connection.src.workload(), &c.verdict.egress),
        ("ingress", c.connection.dst.workload(), &c.verdict.ingress),
    ];
    for (what, w, d) in dirs {
        let Some(d) = d else { continue };
        let relevant = match c.verdict.decision {
            Decision::Deny => matches!(d, DirectionVerdict::Denied { .. }),
            Decision::Undecided => matches!(d, DirectionVerdict::Undecided { .. }),
            Decision::Allow => true,
        };
        if relevant {
            parts.push(direction_text(set, what, w, d));
        }
    }
    parts.join("; ")
}

fn observed_text(c: &Checked) -> String {
    match (&c.observed, &c.drop_reason) {
        (Observed::Dropped, Some(r)) => format!("dropped ({r})"),
        (o, _) => o.as_str().to_string(),
    }
}

fn rows_for(
    set: &PolicySet,
    flows: &[FlowRecord],
    list: &[&Checked],
    first: &str,
) -> Vec<Vec<String>> {
    let mut rows = vec![[
        first,
        "PROTO",
        "INITIATOR",
        "RESPONDER",
        "OBSERVED",
        "VERDICT",
    ]
    .map(String::from)
    .to_vec()];
    for c in list {
        let f = &flows[c.flow];
        let port = c
            .connection
            .port
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let resp_addr = match c.connection.dst_addr {
            IpAddr::V6(a) if !port.is_empty() => format!("[{a}]"),
            a => a.to_string(),
        };
        rows.push(vec![
            match (c.violation, c.verdict.decision) {
                (Some(v), _) => v.as_str().to_string(),
                (None, d) => d.as_str().to_string(),
            },
            f.proto.clone(),
            format!("{} ({})", f.initiator, party_text(&c.connection.src)),
            format!("{resp_addr}{port} ({})", party_text(&c.connection.dst)),
            observed_text(c),
            crate::flows::clean(&verdict_text(set, c)),
        ]);
    }
    rows
}

/// The text report: the violations, the flows that cannot be decided, then one row per
/// policy and a last line of totals.
pub fn write_text(
    set: &PolicySet,
    flows: &[FlowRecord],
    v: &Verification,
    out: &mut impl Write,
) -> io::Result<()> {
    let violations: Vec<&Checked> = v.violations().collect();
    if violations.is_empty() {
        writeln!(out, "No violations.")?;
    } else {
        writeln!(out, "Violations ({}):", violations.len())?;
        write_table(out, &rows_for(set, flows, &violations, "KIND"), &[])?;
    }
    let undecided: Vec<&Checked> = v
        .checked
        .iter()
        .filter(|c| c.verdict.decision == Decision::Undecided)
        .collect();
    if !undecided.is_empty() {
        writeln!(
            out,
            "\nUndecided ({}): a rule names a port the capture does not list for the pod:",
            undecided.len()
        )?;
        write_table(out, &rows_for(set, flows, &undecided, "VERDICT"), &[])?;
    }
    writeln!(out, "\nPolicies:")?;
    let mut rows = vec![[
        "POLICY",
        "TYPES",
        "ALLOWED",
        "DENIED",
        "NOT-ENFORCED",
        "BLOCKED",
    ]
    .map(String::from)
    .to_vec()];
    for (p, n) in set.policies.iter().zip(&v.per_policy) {
        rows.push(vec![
            p.id(),
            p.types().join(","),
            n.allowed.to_string(),
            n.denied.to_string(),
            n.not_enforced.to_string(),
            n.blocked.to_string(),
        ]);
    }
    write_table(out, &rows, &[false, false, true, true, true, true])?;
    writeln!(
        out,
        "\n{} flows, {} checked ({} allowed, {} denied, {} undecided), {} skipped (no pod or container); {} not enforced, {} blocked",
        v.flows,
        v.checked.len(),
        v.decided(Decision::Allow),
        v.decided(Decision::Deny),
        v.decided(Decision::Undecided),
        v.skipped,
        v.count(Violation::NotEnforced),
        v.count(Violation::Blocked),
    )
}

/// The JSON lines: a `violation` per violating flow, an `undecided` per flow a named port
/// leaves open, a `policy` per policy. (The run's `summary` line carries [`summary_json`].)
pub fn write_json(
    set: &PolicySet,
    flows: &[FlowRecord],
    v: &Verification,
    out: &mut impl Write,
) -> io::Result<()> {
    let line = |out: &mut dyn Write, val: &Value| -> io::Result<()> {
        serde_json::to_writer(&mut *out, val)?;
        out.write_all(b"\n")
    };
    for c in v.violations() {
        let val = json!({
            "type": "violation",
            "kind": c.violation.map(Violation::as_str),
            "flow": FlowJson::new(&flows[c.flow]),
            "verdict": verdict_json(set, c),
            "observed": c.observed.as_str(),
            "drop_reason": c.drop_reason,
        });
        line(out, &val)?;
    }
    for c in v
        .checked
        .iter()
        .filter(|c| c.verdict.decision == Decision::Undecided)
    {
        let val = json!({
            "type": "undecided",
            "flow": FlowJson::new(&flows[c.flow]),
            "verdict": verdict_json(set, c),
            "observed": c.observed.as_str(),
            "drop_reason": c.drop_reason,
        });
        line(out, &val)?;
    }
    for (p, n) in set.policies.iter().zip(&v.per_policy) {
        let val = json!({
            "type": "policy",
            "name": p.name,
            "namespace": p.namespace,
            "policy_types": p.types(),
            "allowed": n.allowed,
            "denied": n.denied,
            "not_enforced": n.not_enforced,
            "blocked": n.blocked,
        });
        line(out, &val)?;
    }
    Ok(())
}

/// The check's totals, for the run's `summary` line.
pub fn summary_json(v: &Verification) -> Value {
    json!({
        "flows": v.flows,
        "checked": v.checked.len(),
        "skipped": v.skipped,
        "allowed": v.decided(Decision::Allow),
        "denied": v.decided(Decision::Deny),
        "undecided": v.decided(Decision::Undecided),
        "not_enforced": v.count(Violation::NotEnforced),
        "blocked": v.count(Violation::Blocked),
        "violations": v.count(Violation::NotEnforced) + v.count(Violation::Blocked),
    })
}

//! What the policies require for one connection: the initiator's egress and the responder's
//! ingress are decided apart, and the connection is allowed when both are (NetworkPolicy is
//! stateful: replies need no rule).
//!
//! Per direction, a pod is *isolated* when some policy of that type in its namespace selects
//! it; an isolated pod's traffic that way is allowed when a rule of any policy selecting it
//! allows it (the union), and denied otherwise. A rule allows a peer when one of its `from`/`to`
//! elements matches (none given: every peer) and one of its ports matches (none given: every
//! port and protocol).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{NetworkPolicy, Peer, PolicySet, PortRule, PortSpec, Protocol, Rule};

/// A container port with a name (`io.kubernetes.container.ports`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPort {
    pub name: String,
    pub port: u16,
    pub protocol: Protocol,
}

/// What the selectors see of a pod (or, for a plain container, of the container).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// `pod` or `container`.
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// Its containers' named ports; `None` when the capture does not say.
    pub ports: Option<Vec<NamedPort>>,
}

impl Workload {
    /// A pod with labels and unknown container ports.
    pub fn pod<'a>(
        name: &str,
        namespace: &str,
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Workload {
        Workload {
            kind: "pod",
            name: name.to_string(),
            namespace: namespace.to_string(),
            labels: labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ports: None,
        }
    }

    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    Workload(Workload),
    /// A process of the capturing host outside any container: the pod's node. Ingress from
    /// it cannot be blocked by a NetworkPolicy (the kubelet's probes).
    Node,
    /// Neither a pod nor a container nor the node: matched by `ipBlock`.
    External,
}

impl Party {
    pub fn workload(&self) -> Option<&Workload> {
        match self {
            Party::Workload(w) => Some(w),
            _ => None,
        }
    }
}

/// A connection as the policies see it: the initiator's address as the responder receives it
/// (after SNAT), the responder's address and port as the initiator's packets reach it (after
/// DNAT: a Service's backend, not its virtual IP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub src: Party,
    pub src_addr: IpAddr,
    pub dst: Party,
    pub dst_addr: IpAddr,
    /// IP protocol number.
    pub protocol: u8,
    /// Destination port (TCP, UDP, SCTP).
    pub port: Option<u16>,
}

impl Connection {
    /// A TCP connection to `port` (examples and tests).
    pub fn tcp(src: Party, src_addr: &str, dst: Party, dst_addr: &str, port: u16) -> Connection {
        Connection {
            src,
            src_addr: src_addr.parse().expect("an address"),
            dst,
            dst_addr: dst_addr.parse().expect("an address"),
            protocol: 6,
            port: Some(port),
        }
    }
}

/// A rule of a policy: indices into [`PolicySet::policies`] and the policy's rules of that
/// direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleRef {
    pub policy: usize,
    pub rule: usize,
}

/// A named port a rule needs and the capture cannot resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub rule: RuleRef,
    pub port: String,
}

/// The verdict for one direction (the initiator's egress or the responder's ingress).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectionVerdict {
    /// No policy of this type selects the pod: everything is allowed.
    NotIsolated,
    /// Ingress from the pod's node, or a pod talking to itself: never blocked by policy.
    Always,
    /// Allowed by these rules (every rule that allows it).
    Allowed { by: Vec<RuleRef> },
    /// The policies isolating the pod (their default-deny) and no rule allows it.
    Denied { isolated_by: Vec<usize> },
    /// No rule allows it for certain, but these rules would if their named ports resolved.
    Undecided {
        isolated_by: Vec<usize>,
        unresolved: Vec<Unresolved>,
    },
}

/// Allow, deny, or cannot tell (a named port the capture cannot resolve).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
    Undecided,
}

impl Decision {
    pub fn is_allow(self) -> bool {
        self == Decision::Allow
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Undecided => "undecided",
        }
    }
}

/// The verdict for a connection: both directions (`None`: that end is no pod, so no policy
/// applies there) and the decision they make together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    pub egress: Option<DirectionVerdict>,
    pub ingress: Option<DirectionVerdict>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Ingress,
    Egress,
}

/// Whether a rule's ports admit the connection.
enum PortMatch {
    Yes,
    No,
    /// Only through a named port the capture cannot resolve.
    Unknown(String),
}

impl PolicySet {
    /// The verdict for `c`.
    pub fn evaluate(&self, c: &Connection) -> Verdict {
        let dst_ports = c.dst.workload().and_then(|w| w.ports.as_deref());
        let dst_is_pod = c.dst.workload().is_some();
        // A pod talking to itself (its own address): not subject to its policies.
        let same = c.src_addr == c.dst_addr
            && matches!((&c.src, &c.dst), (Party::Workload(a), Party::Workload(b)) if a.id() == b.id());
        let egress = c.src.workload().map(|w| {
            if same {
                return DirectionVerdict::Always;
            }
            self.direction(Dir::Egress, w, &c.dst, c.dst_addr, c, dst_is_pod, dst_ports)
        });
        let ingress = c.dst.workload().map(|w| {
            if same || c.src == Party::Node {
                return DirectionVerdict::Always;
            }
            self.direction(Dir::Ingress, w, &c.src, c.src_addr, c, true, dst_ports)
        });
        let all = [&egress, &ingress];
        let decision = if all
            .iter()
            .any(|d| matches!(d, Some(DirectionVerdict::Denied { .. })))
        {
            Decision::Deny
        } else if all
            .iter()
            .any(|d| matches!(d, Some(DirectionVerdict::Undecided { .. })))
        {
            Decision::Undecided
        } else {
            Decision::Allow
        };
        Verdict {
            decision,
            egress,
            ingress,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn direction(
        &self,
        dir: Dir,
        subject: &Workload,
        peer: &Party,
        peer_addr: IpAddr,
        c: &Connection,
        dst_is_pod: bool,
        dst_ports: Option<&[NamedPort]>,
    ) -> DirectionVerdict {
        let mut isolated_by = Vec::new();
        let mut by = Vec::new();
        let mut unresolved = Vec::new();
        for (pi, p) in self.policies.iter().enumerate() {
            let typed = match dir {
                Dir::Ingress => p.ingress_type,
                Dir::Egress => p.egress_type,
            };
            if !typed
                || p.namespace != subject.namespace
                || !p.pod_selector.matches(&subject.labels)
            {
                continue;
            }
            isolated_by.push(pi);
            let rules = match dir {
                Dir::Ingress => &p.ingress,
                Dir::Egress => &p.egress,
            };
            for (ri, rule) in rules.iter().enumerate() {
                if !self.peer_matches(p, rule, peer, peer_addr) {
                    continue;
                }
                let rr = RuleRef {
                    policy: pi,
                    rule: ri,
                };
                match ports_match(&rule.ports, c, dst_is_pod, dst_ports) {
                    PortMatch::Yes => by.push(rr),
                    PortMatch::No => {}
                    PortMatch::Unknown(port) => unresolved.push(Unresolved { rule: rr, port }),
                }
            }
        }
        if isolated_by.is_empty() {
            DirectionVerdict::NotIsolated
        } else if !by.is_empty() {
            DirectionVerdict::Allowed { by }
        } else if !unresolved.is_empty() {
            DirectionVerdict::Undecided {
                isolated_by,
                unresolved,
            }
        } else {
            DirectionVerdict::Denied { isolated_by }
        }
    }

    fn peer_matches(&self, p: &NetworkPolicy, rule: &Rule, peer: &Party, addr: IpAddr) -> bool {
        if rule.peers.is_empty() {
            return true;
        }
        rule.peers.iter().any(|e| match e {
            Peer::Pods {
                pod_selector,
                namespace_selector,
            } => {
                let Party::Workload(w) = peer else {
                    return false;
                };
                let ns_ok = match namespace_selector {
                    // A podSelector alone selects pods of the policy's own namespace.
                    None => w.namespace == p.namespace,
                    Some(s) => s.matches(&self.namespace_labels(&w.namespace)),
                };
                ns_ok && pod_selector.as_ref().is_none_or(|s| s.matches(&w.labels))
            }
            // ipBlock is for addresses outside the cluster: a pod is matched by selectors only.
            Peer::IpBlock(b) => !matches!(peer, Party::Workload(_)) && b.contains(addr),
        })
    }
}

fn ports_match(
    ports: &[PortRule],
    c: &Connection,
    dst_is_pod: bool,
    dst_ports: Option<&[NamedPort]>,
) -> PortMatch {
    if ports.is_empty() {
        return PortMatch::Yes;
    }
    let Some(proto) = Protocol::of_ip_proto(c.protocol) else {
        // A ports list admits only TCP, UDP and SCTP.
        return PortMatch::No;
    };
    let mut unknown = None;
    for r in ports {
        if r.protocol != proto {
            continue;
        }
        match (&r.port, c.port) {
            (None, _) => return PortMatch::Yes,
            (Some(_), None) => {}
            (Some(PortSpec::Number(n)), Some(p)) => {
                let end = r.end_port.unwrap_or(*n);
                if (*n..=end).contains(&p) {
                    return PortMatch::Yes;
                }
            }
            (Some(PortSpec::Name(name)), Some(p)) => {
                if !dst_is_pod {
                    // A named port is a pod's container port: no address outside has one.
                    continue;
                }
                match dst_ports {
                    Some(list) => {
                        if list
                            .iter()
                            .any(|np| &np.name == name && np.protocol == proto && np.port == p)
                        {
                            return PortMatch::Yes;
                        }
                    }
                    None => unknown = unknown.or(Some(name.clone())),
                }
            }
        }
    }
    match unknown {
        Some(n) => PortMatch::Unknown(n),
        None => PortMatch::No,
    }
}

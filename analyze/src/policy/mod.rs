//! Kubernetes NetworkPolicies checked against the flows a capture saw (`--verify-policy`).
//!
//! Three steps, one module each: [`parse`] reads `networking.k8s.io/v1` NetworkPolicy and
//! `Namespace` objects from YAML (several documents, or a `List`) into a [`PolicySet`],
//! refusing what the API server would refuse; [`eval`] decides what the policies require for
//! one connection between two [`eval::Party`]s (allow, deny, or undecided when a named port
//! cannot be resolved); [`verify`] turns each flow of the flow table into such a connection,
//! compares the verdict with what the capture saw happen (completed, refused, dropped,
//! unanswered) and writes the violations and per-policy summaries.
//!
//! ```
//! use analyze::policy::{parse::parse_policies, eval::{Connection, Party, Workload}};
//! let set = parse_policies("
//! apiVersion: networking.k8s.io/v1
//! kind: NetworkPolicy
//! metadata: {name: web, namespace: shop}
//! spec:
//!   podSelector: {matchLabels: {app: web}}
//!   ingress:
//!   - from: [{podSelector: {matchLabels: {app: client}}}]
//!     ports: [{port: 80}]
//! ").unwrap();
//! let pod = |name: &str, app: &str| Party::Workload(Workload::pod(name, "shop", [("app", app)]));
//! let c = Connection::tcp(pod("c", "client"), "198.18.0.1", pod("w", "web"), "198.18.0.2", 80);
//! assert!(set.evaluate(&c).decision.is_allow());
//! let c = Connection::tcp(pod("c", "client"), "198.18.0.1", pod("w", "web"), "198.18.0.2", 81);
//! assert!(!set.evaluate(&c).decision.is_allow());
//! ```

pub mod eval;
pub mod parse;
pub mod verify;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// The label every namespace carries since Kubernetes 1.22: its own name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A label selector (`matchLabels` and `matchExpressions`, ANDed). Empty: selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| {
                let v = labels.get(&r.key);
                match r.operator {
                    Operator::In => v.is_some_and(|v| r.values.contains(v)),
                    // NotIn also matches objects without the key (apimachinery's semantics).
                    Operator::NotIn => v.is_none_or(|v| !r.values.contains(v)),
                    Operator::Exists => v.is_some(),
                    Operator::DoesNotExist => v.is_none(),
                }
            })
    }
}

/// An IPv4 or IPv6 network, `addr/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (a, b, bits) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            // An IPv4-mapped IPv6 address is the IPv4 address.
            (IpAddr::V4(a), IpAddr::V6(b)) => match b.to_ipv4_mapped() {
                Some(b) => (u32::from(a) as u128, u32::from(b) as u128, 32),
                None => return false,
            },
            (IpAddr::V6(_), IpAddr::V4(_)) => return false,
        };
        let host = bits - u32::from(self.prefix);
        host >= bits || (a >> host) == (b >> host)
    }

    /// `other` lies inside this network.
    pub fn covers(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && self.contains(other.addr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// `ipBlock`: a network, less its exceptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpBlock {
    pub cidr: Cidr,
    pub except: Vec<Cidr>,
}

impl IpBlock {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.cidr.contains(ip) && !self.except.iter().any(|e| e.contains(ip))
    }
}

/// One element of `from` / `to`. The API server allows `ipBlock` alone, or either selector,
/// or both selectors (then both must match one pod).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Pods {
        pod_selector: Option<LabelSelector>,
        namespace_selector: Option<LabelSelector>,
    },
    IpBlock(IpBlock),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn ip_proto(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    pub fn of_ip_proto(p: u8) -> Option<Protocol> {
        match p {
            6 => Some(Protocol::Tcp),
            17 => Some(Protocol::Udp),
            132 => Some(Protocol::Sctp),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// `port` of a ports entry: a number or a container port's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    Number(u16),
    Name(String),
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSpec::Number(n) => write!(f, "{n}"),
            PortSpec::Name(s) => f.write_str(s),
        }
    }
}

/// One entry of `ports`: protocol (TCP when omitted), a port (all when omitted) and, for a
/// numbered port, the range's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRule {
    pub protocol: Protocol,
    pub port: Option<PortSpec>,
    pub end_port: Option<u16>,
}

/// One ingress or egress rule. `peers` empty (or `from`/`to` omitted): every peer, inside the
/// cluster and out; `ports` empty: every port and protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    pub peers: Vec<Peer>,
    pub ports: Vec<PortRule>,
}

/// A NetworkPolicy as the API server would store it (defaults applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicy {
    pub name: String,
    pub namespace: String,
    pub pod_selector: LabelSelector,
    /// `policyTypes` contains Ingress (the default always does).
    pub ingress_type: bool,
    /// `policyTypes` contains Egress (the default does when `egress` has a rule).
    pub egress_type: bool,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

impl NetworkPolicy {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn types(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.ingress_type {
            v.push("Ingress");
        }
        if self.egress_type {
            v.push("Egress");
        }
        v
    }
}

/// Every policy of the file, and the labels of the namespaces it declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySet {
    pub policies: Vec<NetworkPolicy>,
    /// Labels of the `Namespace` objects (besides [`NAMESPACE_NAME_LABEL`], which every
    /// namespace has).
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
}

impl PolicySet {
    /// A namespace's labels: those its `Namespace` object gives, and its name label.
    pub fn namespace_labels(&self, ns: &str) -> BTreeMap<String, String> {
        let mut l = self.namespaces.get(ns).cloned().unwrap_or_default();
        l.insert(NAMESPACE_NAME_LABEL.to_string(), ns.to_string());
        l
    }
}

#[cfg(test)]
mod tests;

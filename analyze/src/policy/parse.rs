//! NetworkPolicy and Namespace objects from YAML, validated as the API server validates them
//! (`pkg/apis/networking/validation`, apimachinery's label and name rules, strict field
//! validation as `kubectl apply` asks for since 1.27): the first object it would refuse is
//! named with the field and the reason, in the API server's words.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use yaml_rust2::{Yaml, YamlLoader};

use super::{
    Cidr, IpBlock, LabelSelector, NetworkPolicy, Operator, Peer, PolicySet, PortRule, PortSpec,
    Protocol, Requirement, Rule,
};

/// Why a policy file is refused: the object (`NetworkPolicy shop/web`, or `document 3` before
/// its name is known), the field path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub object: String,
    pub field: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.object, self.message)
        } else {
            write!(f, "{}: {}: {}", self.object, self.field, self.message)
        }
    }
}

type Res<T> = Result<T, PolicyError>;

/// Every NetworkPolicy and Namespace of `text` (YAML documents separated by `---`, each an
/// object or a `List` of them; empty documents are skipped).
pub fn parse_policies(text: &str) -> Res<PolicySet> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| PolicyError {
        object: format!("line {} column {}", e.marker().line(), e.marker().col() + 1),
        field: String::new(),
        message: format!("not YAML: {}", e.info()),
    })?;
    let mut set = PolicySet::default();
    for (i, doc) in docs.iter().enumerate() {
        if matches!(doc, Yaml::Null) {
            continue;
        }
        object(doc, &format!("document {}", i + 1), &mut set)?;
    }
    // The API server keeps one object per name.
    let mut seen = std::collections::BTreeSet::new();
    for p in &set.policies {
        if !seen.insert(p.id()) {
            return Err(PolicyError {
                object: format!("NetworkPolicy {}", p.id()),
                field: "metadata.name".into(),
                message: "Duplicate value: the file defines it twice".into(),
            });
        }
    }
    Ok(set)
}

/// The object being read and where in it: builds errors.
struct At<'a> {
    object: &'a str,
}

impl At<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> PolicyError {
        PolicyError {
            object: self.object.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    fn invalid(&self, field: &str, value: &str, why: &str) -> PolicyError {
        self.err(field, format!("Invalid value: {value:?}: {why}"))
    }

    fn required(&self, field: &str) -> PolicyError {
        self.err(field, "Required value")
    }

    fn map<'y>(&self, y: &'y Yaml, field: &str) -> Res<&'y yaml_rust2::yaml::Hash> {
        match y {
            Yaml::Hash(h) => Ok(h),
            other => Err(self.err(
                field,
                format!("expected an object, found {}", type_name(other)),
            )),
        }
    }

    /// An optional list (null and absent are empty).
    fn list<'y>(&self, y: Option<&'y Yaml>, field: &str) -> Res<&'y [Yaml]> {
        match y {
            None | Some(Yaml::Null) => Ok(&[]),
            Some(Yaml::Array(a)) => Ok(a),
            Some(other) => Err(self.err(
                field,
                format!("expected a list, found {}", type_name(other)),
            )),
        }
    }

    fn string<'y>(&self, y: &'y Yaml, field: &str) -> Res<&'y str> {
        match y {
            Yaml::String(s) => Ok(s),
            other => Err(self.err(
                field,
                format!("expected a string, found {}", type_name(other)),
            )),
        }
    }

    /// Refuses keys not in `known` (strict field validation).
    fn fields<'y>(
        &self,
        h: &'y yaml_rust2::yaml::Hash,
        field: &str,
        known: &[&str],
    ) -> Res<BTreeMap<&'y str, &'y Yaml>> {
        let mut out = BTreeMap::new();
        for (k, v) in h {
            let Yaml::String(k) = k else {
                return Err(self.err(field, format!("a key is {}, not a string", type_name(k))));
            };
            if !known.contains(&k.as_str()) {
                return Err(self.err(&join(field, k), "unknown field"));
            }
            out.insert(k.as_str(), v);
        }
        Ok(out)
    }
}

fn join(field: &str, key: &str) -> String {
    if field.is_empty() {
        key.to_string()
    } else {
        format!("{field}.{key}")
    }
}

fn type_name(y: &Yaml) -> &'static str {
    match y {
        Yaml::Real(_) => "a number",
        Yaml::Integer(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Boolean(_) => "a boolean",
        Yaml::Array(_) => "a list",
        Yaml::Hash(_) => "an object",
        Yaml::Alias(_) => "an alias",
        Yaml::Null => "null",
        Yaml::BadValue => "a bad value",
    }
}

const OBJECT_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

fn object(y: &Yaml, place: &str, set: &mut PolicySet) -> Res<()> {
    let at = At { object: place };
    let h = at.map(y, "")?;
    let kind = match h.get(&Yaml::String("kind".into())) {
        Some(k) => at.string(k, "kind")?,
        None => return Err(at.required("kind")),
    };
    let api = match h.get(&Yaml::String("apiVersion".into())) {
        Some(a) => at.string(a, "apiVersion")?,
        None => return Err(at.required("apiVersion")),
    };
    match kind {
        "List" | "NetworkPolicyList" | "NamespaceList" => {
            let f = at.fields(h, "", &["apiVersion", "kind", "metadata", "items"])?;
            for (i, item) in at
                .list(f.get("items").copied(), "items")?
                .iter()
                .enumerate()
            {
                object(item, &format!("{place} items[{i}]"), set)?;
            }
            Ok(())
        }
        "NetworkPolicy" => {
            if api != "networking.k8s.io/v1" {
                return Err(at.err(
                    "apiVersion",
                    format!(
                        "Unsupported value: {api:?}: supported values: \"networking.k8s.io/v1\""
                    ),
                ));
            }
            let p = network_policy(h, place)?;
            set.policies.push(p);
            Ok(())
        }
        "Namespace" => {
            if api != "v1" {
                return Err(at.err(
                    "apiVersion",
                    format!("Unsupported value: {api:?}: supported values: \"v1\""),
                ));
            }
            let f = at.fields(h, "", &["apiVersion", "kind", "metadata", "spec", "status"])?;
            let (name, _, labels) = metadata(&at, f.get("metadata").copied(), false)?;
            set.namespaces.insert(name, labels);
            Ok(())
        }
        other => Err(at.err(
            "kind",
            format!(
                "Unsupported value: {other:?}: --verify-policy reads NetworkPolicy and Namespace \
                 objects (and Lists of them)"
            ),
        )),
    }
}

/// `metadata`: name (a DNS-1123 subdomain; a namespace's a DNS-1123 label), namespace
/// (`default` when omitted, as `kubectl apply` in the default context), labels.
fn metadata(
    at: &At<'_>,
    y: Option<&Yaml>,
    namespaced: bool,
) -> Res<(String, String, BTreeMap<String, String>)> {
    let Some(y) = y else {
        return Err(at.required("metadata.name"));
    };
    let f = at.fields(at.map(y, "metadata")?, "metadata", OBJECT_META)?;
    let name = match f.get("name") {
        Some(n) => at.string(n, "metadata.name")?.to_string(),
        None => return Err(at.required("metadata.name")),
    };
    let check = if namespaced { dns_subdomain } else { dns_label };
    if let Err(why) = check(&name) {
        return Err(at.invalid("metadata.name", &name, &why));
    }
    let mut namespace = String::from("default");
    if let Some(n) = f.get("namespace") {
        if namespaced {
            namespace = at.string(n, "metadata.namespace")?.to_string();
            if let Err(why) = dns_label(&namespace) {
                return Err(at.invalid("metadata.namespace", &namespace, &why));
            }
        }
    }
    let labels = match f.get("labels") {
        Some(l) => string_map(at, l, "metadata.labels", true)?,
        None => BTreeMap::new(),
    };
    Ok((name, namespace, labels))
}

/// A map of strings; `labels`: keys and values checked as labels.
fn string_map(at: &At<'_>, y: &Yaml, field: &str, labels: bool) -> Res<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if matches!(y, Yaml::Null) {
        return Ok(out);
    }
    for (k, v) in at.map(y, field)? {
        let k = at.string(k, field)?;
        let path = format!("{field}.{k}");
        let v = at.string(v, &path)?;
        if labels {
            if let Err(why) = qualified_name(k) {
                return Err(at.invalid(field, k, &why));
            }
            if let Err(why) = label_value(v) {
                return Err(at.invalid(&path, v, &why));
            }
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

fn network_policy(h: &yaml_rust2::yaml::Hash, place: &str) -> Res<NetworkPolicy> {
    let at = At { object: place };
    let f = at.fields(h, "", &["apiVersion", "kind", "metadata", "spec", "status"])?;
    let (name, namespace, _) = metadata(&at, f.get("metadata").copied(), true)?;
    let object = format!("NetworkPolicy {namespace}/{name}");
    let at = At { object: &object };
    let spec = match f.get("spec") {
        Some(s) => at.map(s, "spec")?,
        None => return Err(at.required("spec")),
    };
    let s = at.fields(
        spec,
        "spec",
        &["podSelector", "ingress", "egress", "policyTypes"],
    )?;
    let pod_selector = match s.get("podSelector") {
        Some(y) => selector(&at, y, "spec.podSelector")?,
        None => LabelSelector::default(),
    };
    let mut ingress = Vec::new();
    for (i, r) in at
        .list(s.get("ingress").copied(), "spec.ingress")?
        .iter()
        .enumerate()
    {
        ingress.push(rule(&at, r, &format!("spec.ingress[{i}]"), "from")?);
    }
    let mut egress = Vec::new();
    for (i, r) in at
        .list(s.get("egress").copied(), "spec.egress")?
        .iter()
        .enumerate()
    {
        egress.push(rule(&at, r, &format!("spec.egress[{i}]"), "to")?);
    }
    let types = at.list(s.get("policyTypes").copied(), "spec.policyTypes")?;
    let (ingress_type, egress_type) = if types.is_empty() {
        // The API server's default: Ingress, and Egress when there is an egress rule.
        (true, !egress.is_empty())
    } else {
        let (mut i, mut e) = (false, false);
        for (n, t) in types.iter().enumerate() {
            let field = format!("spec.policyTypes[{n}]");
            match at.string(t, &field)? {
                "Ingress" => i = true,
                "Egress" => e = true,
                other => {
                    return Err(at.err(
                        &field,
                        format!(
                        "Unsupported value: {other:?}: supported values: \"Ingress\", \"Egress\""
                    ),
                    ))
                }
            }
        }
        (i, e)
    };
    Ok(NetworkPolicy {
        name,
        namespace,
        pod_selector,
        ingress_type,
        egress_type,
        ingress,
        egress,
    })
}

fn selector(at: &At<'_>, y: &Yaml, field: &str) -> Res<LabelSelector> {
    if matches!(y, Yaml::Null) {
        return Ok(LabelSelector::default());
    }
    let f = at.fields(
        at.map(y, field)?,
        field,
        &["matchLabels", "matchExpressions"],
    )?;
    let match_labels = match f.get("matchLabels") {
        Some(l) => string_map(at, l, &format!("{field}.matchLabels"), true)?,
        None => BTreeMap::new(),
    };
    let mut match_expressions = Vec::new();
    let ef = format!("{field}.matchExpressions");
    for (i, e) in at
        .list(f.get("matchExpressions").copied(), &ef)?
        .iter()
        .enumerate()
    {
        let p = format!("{ef}[{i}]");
        let g = at.fields(at.map(e, &p)?, &p, &["key", "operator", "values"])?;
        let key = match g.get("key") {
            Some(k) => at.string(k, &format!("{p}.key"))?.to_string(),
            None => return Err(at.required(&format!("{p}.key"))),
        };
        if let Err(why) = qualified_name(&key) {
            return Err(at.invalid(&format!("{p}.key"), &key, &why));
        }
        let operator = match g.get("operator") {
            Some(o) => match at.string(o, &format!("{p}.operator"))? {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(at.err(
                        &format!("{p}.operator"),
                        format!(
                            "Invalid value: {other:?}: not a valid selector operator (In, NotIn, \
                             Exists, DoesNotExist)"
                        ),
                    ))
                }
            },
            None => return Err(at.required(&format!("{p}.operator"))),
        };
        let vf = format!("{p}.values");
        let mut values = Vec::new();
        for (j, v) in at.list(g.get("values").copied(), &vf)?.iter().enumerate() {
            let v = at.string(v, &format!("{vf}[{j}]"))?;
            if let Err(why) = label_value(v) {
                return Err(at.invalid(&format!("{vf}[{j}]"), v, &why));
            }
            values.push(v.to_string());
        }
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                return Err(at.err(
                    &vf,
                    "Required value: must be specified when `operator` is 'In' or 'NotIn'",
                ))
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                return Err(at.err(
                    &vf,
                    "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ))
            }
            _ => {}
        }
        match_expressions.push(Requirement {
            key,
            operator,
            values,
        });
    }
    Ok(LabelSelector {
        match_labels,
        match_expressions,
    })
}

fn rule(at: &At<'_>, y: &Yaml, field: &str, peers_key: &str) -> Res<Rule> {
    let mut r = Rule::default();
    if matches!(y, Yaml::Null) {
        return Ok(r);
    }
    let f = at.fields(at.map(y, field)?, field, &[peers_key, "ports"])?;
    let pf = format!("{field}.{peers_key}");
    for (i, p) in at.list(f.get(peers_key).copied(), &pf)?.iter().enumerate() {
        r.peers.push(peer(at, p, &format!("{pf}[{i}]"))?);
    }
    let portf = format!("{field}.ports");
    for (i, p) in at.list(f.get("ports").copied(), &portf)?.iter().enumerate() {
        r.ports.push(port_rule(at, p, &format!("{portf}[{i}]"))?);
    }
    Ok(r)
}

fn peer(at: &At<'_>, y: &Yaml, field: &str) -> Res<Peer> {
    let h = match y {
        Yaml::Null => &yaml_rust2::yaml::Hash::new(),
        y => at.map(y, field)?,
    };
    let f = at.fields(h, field, &["podSelector", "namespaceSelector", "ipBlock"])?;
    let present = |k: &str| f.get(k).is_some_and(|v| !matches!(v, Yaml::Null));
    let n = ["podSelector", "namespaceSelector", "ipBlock"]
        .iter()
        .filter(|k| present(k))
        .count();
    if n == 0 {
        // `from: [{}]` is refused by the API server; `ingress: [{}]` allows everything.
        return Err(at.err(field, "Required value: must specify a peer"));
    }
    if present("ipBlock") {
        if n > 1 {
            return Err(at.err(
                field,
                "Forbidden: may not specify both ipBlock and another peer",
            ));
        }
        return Ok(Peer::IpBlock(ip_block(
            at,
            f["ipBlock"],
            &format!("{field}.ipBlock"),
        )?));
    }
    let sel = |k: &str| -> Res<Option<LabelSelector>> {
        match f.get(k) {
            Some(y) if !matches!(y, Yaml::Null) => {
                Ok(Some(selector(at, y, &format!("{field}.{k}"))?))
            }
            _ => Ok(None),
        }
    };
    Ok(Peer::Pods {
        pod_selector: sel("podSelector")?,
        namespace_selector: sel("namespaceSelector")?,
    })
}

fn ip_block(at: &At<'_>, y: &Yaml, field: &str) -> Res<IpBlock> {
    let f = at.fields(at.map(y, field)?, field, &["cidr", "except"])?;
    let cf = format!("{field}.cidr");
    let cidr = match f.get("cidr") {
        Some(c) => {
            let s = at.string(c, &cf)?;
            parse_cidr(s).map_err(|why| at.invalid(&cf, s, &why))?
        }
        None => return Err(at.required(&cf)),
    };
    let mut except = Vec::new();
    let ef = format!("{field}.except");
    for (i, e) in at.list(f.get("except").copied(), &ef)?.iter().enumerate() {
        let p = format!("{ef}[{i}]");
        let s = at.string(e, &p)?;
        let c = parse_cidr(s).map_err(|why| at.invalid(&p, s, &why))?;
        if !(cidr.covers(&c) && c.prefix > cidr.prefix) {
            return Err(at.invalid(&p, s, "must be a strict subset of `cidr`"));
        }
        except.push(c);
    }
    Ok(IpBlock { cidr, except })
}

/// `a.b.c.d/n` or `x::/n` (host bits may be set, as Go's ParseCIDR allows).
pub fn parse_cidr(s: &str) -> Result<Cidr, String> {
    let bad = || "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)".to_string();
    let (a, p) = s.split_once('/').ok_or_else(bad)?;
    let addr: IpAddr = a.parse().map_err(|_| bad())?;
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 3 {
        return Err(bad());
    }
    let prefix: u8 = p.parse().map_err(|_| bad())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return Err(bad());
    }
    Ok(Cidr { addr, prefix })
}

fn port_rule(at: &At<'_>, y: &Yaml, field: &str) -> Res<PortRule> {
    let h = match y {
        Yaml::Null => &yaml_rust2::yaml::Hash::new(),
        y => at.map(y, field)?,
    };
    let f = at.fields(h, field, &["protocol", "port", "endPort"])?;
    let protocol = match f.get("protocol") {
        None | Some(Yaml::Null) => Protocol::Tcp,
        Some(p) => match at.string(p, &format!("{field}.protocol"))? {
            "TCP" => Protocol::Tcp,
            "UDP" => Protocol::Udp,
            "SCTP" => Protocol::Sctp,
            other => {
                return Err(at.err(
                    &format!("{field}.protocol"),
                    format!(
                        "Unsupported value: {other:?}: supported values: \"SCTP\", \"TCP\", \"UDP\""
                    ),
                ))
            }
        },
    };
    let pf = format!("{field}.port");
    let port = match f.get("port") {
        None | Some(Yaml::Null) => None,
        Some(Yaml::Integer(n)) => {
            if !(1..=65535).contains(n) {
                return Err(at.err(
                    &pf,
                    format!("Invalid value: {n}: must be between 1 and 65535, inclusive"),
                ));
            }
            Some(PortSpec::Number(*n as u16))
        }
        Some(Yaml::String(s)) => {
            if let Err(why) = port_name(s) {
                return Err(at.invalid(&pf, s, &why));
            }
            Some(PortSpec::Name(s.clone()))
        }
        Some(other) => {
            return Err(at.err(
                &pf,
                format!(
                    "expected a number or a port name, found {}",
                    type_name(other)
                ),
            ))
        }
    };
    let ef = format!("{field}.endPort");
    let end_port = match f.get("endPort") {
        None | Some(Yaml::Null) => None,
        Some(Yaml::Integer(n)) => {
            match &port {
                None => {
                    return Err(at.err(
                        &ef,
                        "Required value: must specify port when endPort is specified",
                    ))
                }
                Some(PortSpec::Name(_)) => {
                    return Err(at.err(
                        &ef,
                        "Forbidden: may not be specified when port is non-numeric",
                    ))
                }
                Some(PortSpec::Number(p)) => {
                    if !(1..=65535).contains(n) {
                        return Err(at.err(
                            &ef,
                            format!("Invalid value: {n}: must be between 1 and 65535, inclusive"),
                        ));
                    }
                    if *n < i64::from(*p) {
                        return Err(at.err(
                            &ef,
                            format!("Invalid value: {n}: must be greater than or equal to `port`"),
                        ));
                    }
                }
            }
            Some(*n as u16)
        }
        Some(other) => {
            return Err(at.err(
                &ef,
                format!("expected a number, found {}", type_name(other)),
            ))
        }
    };
    Ok(PortRule {
        protocol,
        port,
        end_port,
    })
}

fn alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// A label key: `[prefix/]name`, the prefix a DNS subdomain, the name 1 to 63 characters.
fn qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Err("prefix part must be non-empty".into());
        }
        dns_subdomain(p).map_err(|e| format!("prefix part {e}"))?;
    }
    label_name(name).map_err(|e| format!("name part {e}"))
}

fn label_name(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let shape = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end \
                 with an alphanumeric character";
    if b.is_empty() {
        return Err("must be non-empty".into());
    }
    if b.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    if !alnum(b[0])
        || !alnum(b[b.len() - 1])
        || !b
            .iter()
            .all(|&c| alnum(c) || matches!(c, b'-' | b'_' | b'.'))
    {
        return Err(shape.into());
    }
    Ok(())
}

fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    label_name(s).map_err(|e| format!("a valid label {e}"))
}

fn dns_label(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \
             '-', and must start and end with an alphanumeric character (at most 63)"
                .into(),
        )
    }
}

fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 || s.split('.').any(|l| dns_label(l).is_err()) {
        return Err(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
                    characters, '-' or '.', and must start and end with an alphanumeric character"
                .into(),
        );
    }
    Ok(())
}

/// A named port (IANA_SVC_NAME): 1 to 15 of a-z, 0-9 and '-', at least one letter, no '-' at
/// either end or twice in a row.
fn port_name(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 15 {
        return Err("must be no more than 15 characters".into());
    }
    if !b
        .iter()
        .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        return Err(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into(),
        );
    }
    if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return Err("must not begin or end with a hyphen, nor contain adjacent hyphens".into());
    }
    if !b.iter().any(u8::is_ascii_lowercase) {
        return Err("must contain at least one letter (a-z)".into());
    }
    Ok(())
}

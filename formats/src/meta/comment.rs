//! The comment carrier: ptcpdump's `Key: value` layout in `opt_comment` options, which
//! Wireshark shows and filters (`frame.comment contains "wget"`) and `ptcpdump -r` reads.
//!
//! Full layout, one comment per group, groups only when their data exists:
//! ```text
//! PID: <pid>\nCmd: <exe>\nArgs: <argv joined by space>
//! ThreadId: <tid>\nThreadName: <comm>
//! UserId: <uid>\nGroupId: <gid>
//! ParentPID: <pid>\nParentCmd: <exe>\nParentArgs: <args>
//! ContainerName: ..\nContainerId: ..\nContainerImage: ..\nContainerLabels: <JSON>
//! PodName: ..\nPodNamespace: ..\nPodUID: ..\nPodLabels: <JSON>\nPodAnnotations: <JSON>
//! ```
//! Text values are escaped with [`escape_value`] (control characters as `\xNN`, backslash as
//! `\\`), so every key stays on its line and [`unescape_value`] gives the value back. JSON values
//! are written as compact JSON, which never holds a raw control character, and are not escaped
//! (ptcpdump parses them as JSON). Values longer than [`VALUE_LIMIT`] bytes ([`JSON_LIMIT`] for
//! JSON) are cut at a character boundary, never inside an escape, and end with
//! [`TRUNCATION_MARKER`].
//!
//! Short layout ([`short_comment`]), one comment for people reading a packet list:
//! `ptcap: <comm>.<pid>[ tid <tid>][ uid <uid>][ parent <comm>.<pid>][ container <name>][ pod <name>.<ns>]`
//! (container: its name, else the first 12 characters of its id). It is not parsed back: files
//! written with it always carry the structured copy.
//!
//! [`parse_comments`] reads the full layout back, including ptcpdump's older keys `TID`,
//! `Command` and `ParentCommand`. `Args` is split at spaces, so argument boundaries inside an
//! argument are lost in this carrier (the structured copy keeps them).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use super::{ContainerInfo, PacketMeta, PodInfo, ProcessInfo, Provenance};

/// Which comments a writer puts in each packet (the structured copy is written regardless).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CommentMode {
    /// ptcpdump's full layout: Wireshark shows it, `ptcpdump -r` reads it.
    #[default]
    Full,
    /// One short line per packet ([`short_comment`]).
    Short,
    /// No comments: smallest files, metadata only for our own tools.
    None,
}

/// Longest text value written in a comment, in bytes (after escaping, marker included).
pub const VALUE_LIMIT: usize = 1024;
/// Longest JSON value (labels, annotations) written in a comment, in bytes.
pub const JSON_LIMIT: usize = 8192;
/// Appended to a value that was cut at its limit.
pub const TRUNCATION_MARKER: &str = "…[truncated]";
/// First word of a short-layout comment.
pub const SHORT_PREFIX: &str = "ptcap: ";

/// Appends `value` escaped (ASCII control characters and DEL as `\xNN`, `\` as `\\`) to `out`,
/// cut to at most `limit` bytes with [`TRUNCATION_MARKER`] when it does not fit.
pub fn escape_value_into(out: &mut String, value: &str, limit: usize) {
    let start = out.len();
    let budget = limit.saturating_sub(TRUNCATION_MARKER.len());
    // Fast path: nothing to escape and short enough.
    if value.len() <= limit && !value.bytes().any(|b| b < 0x20 || b == 0x7f || b == b'\\') {
        out.push_str(value);
        return;
    }
    let mut cut_at = None;
    for c in value.chars() {
        let before = out.len();
        match c {
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
        if cut_at.is_none() && out.len() - start > budget {
            cut_at = Some(before);
        }
        if out.len() - start > limit {
            break;
        }
    }
    if out.len() - start > limit {
        out.truncate(cut_at.unwrap_or(start));
        out.push_str(TRUNCATION_MARKER);
    }
}

/// [`escape_value_into`] with [`VALUE_LIMIT`], into a new string.
pub fn escape_value(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    escape_value_into(&mut s, value, VALUE_LIMIT);
    s
}

/// Reverses [`escape_value`]: `\\` → `\`, `\xNN` (NN < 0x80) → that character. Anything else
/// is kept as written, so text from other writers is never rejected.
pub fn unescape_value(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let b = rest.as_bytes();
        if b.len() >= 2 && b[1] == b'\\' {
            out.push('\\');
            rest = &rest[2..];
        } else if b.len() >= 4 && b[1] == b'x' {
            match std::str::from_utf8(&b[2..4])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) if v < 0x80 => {
                    out.push(char::from(v));
                    rest = &rest[4..];
                }
                _ => {
                    out.push('\\');
                    rest = &rest[1..];
                }
            }
        } else {
            out.push('\\');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

fn json_into(out: &mut String, map: &BTreeMap<String, String>) {
    let json = serde_json::to_string(map).unwrap_or_else(|_| "{}".into());
    if json.len() <= JSON_LIMIT {
        out.push_str(&json);
    } else {
        let mut end = JSON_LIMIT - TRUNCATION_MARKER.len();
        while !json.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&json[..end]);
        out.push_str(TRUNCATION_MARKER);
    }
}

fn line(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(key);
    out.push_str(": ");
    escape_value_into(out, value, VALUE_LIMIT);
}

fn json_line(out: &mut String, key: &str, map: &BTreeMap<String, String>) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(key);
    out.push_str(": ");
    json_into(out, map);
}

/// `PID: ..\nCmd: ..\nArgs: ..` for a process.
pub fn process_comment(p: &ProcessInfo) -> String {
    let mut s = String::new();
    line(&mut s, "PID", &p.pid.to_string());
    line(&mut s, "Cmd", &p.exe);
    line(&mut s, "Args", &p.args_line());
    s
}

/// `ThreadId: ..\nThreadName: ..`, each line only when known; `None` when neither is.
pub fn thread_comment(tid: Option<u32>, comm: &str) -> Option<String> {
    let mut s = String::new();
    if let Some(t) = tid {
        line(&mut s, "ThreadId", &t.to_string());
    }
    if !comm.is_empty() {
        line(&mut s, "ThreadName", comm);
    }
    (!s.is_empty()).then_some(s)
}

/// `UserId: ..\nGroupId: ..`, each line only when known.
pub fn user_comment(p: &ProcessInfo) -> Option<String> {
    let mut s = String::new();
    if let Some(u) = p.uid {
        line(&mut s, "UserId", &u.to_string());
    }
    if let Some(g) = p.gid {
        line(&mut s, "GroupId", &g.to_string());
    }
    (!s.is_empty()).then_some(s)
}

/// `ParentPID: ..\nParentCmd: ..\nParentArgs: ..`.
pub fn parent_comment(p: &ProcessInfo) -> String {
    let mut s = String::new();
    line(&mut s, "ParentPID", &p.pid.to_string());
    line(&mut s, "ParentCmd", &p.exe);
    line(&mut s, "ParentArgs", &p.args_line());
    s
}

/// `ContainerName: ..\nContainerId: ..\nContainerImage: ..\nContainerLabels: {..}`.
pub fn container_comment(c: &ContainerInfo) -> String {
    let mut s = String::new();
    line(&mut s, "ContainerName", &c.name);
    line(&mut s, "ContainerId", &c.id);
    line(&mut s, "ContainerImage", &c.image);
    json_line(&mut s, "ContainerLabels", &c.labels);
    s
}

/// `PodName: ..\nPodNamespace: ..\nPodUID: ..\nPodLabels: {..}\nPodAnnotations: {..}`.
pub fn pod_comment(p: &PodInfo) -> String {
    let mut s = String::new();
    line(&mut s, "PodName", &p.name);
    line(&mut s, "PodNamespace", &p.namespace);
    line(&mut s, "PodUID", &p.uid);
    json_line(&mut s, "PodLabels", &p.labels);
    json_line(&mut s, "PodAnnotations", &p.annotations);
    s
}

/// Every full-layout comment of a packet, in ptcpdump's order.
pub fn full_comments(meta: &PacketMeta) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &meta.process {
        out.push(process_comment(p));
    }
    let comm = meta.process.as_deref().map_or("", |p| p.comm.as_str());
    if let Some(t) = thread_comment(meta.tid, comm) {
        out.push(t);
    }
    if let Some(u) = meta.process.as_deref().and_then(user_comment) {
        out.push(u);
    }
    if let Some(p) = &meta.parent {
        out.push(parent_comment(p));
    }
    if let Some(c) = &meta.container {
        out.push(container_comment(c));
    }
    if let Some(p) = &meta.pod {
        out.push(pod_comment(p));
    }
    out
}

/// The one-line short comment, `None` for a packet without metadata.
pub fn short_comment(meta: &PacketMeta) -> Option<String> {
    if meta.is_empty() {
        return None;
    }
    let mut s = String::from("ptcap:");
    let word = |s: &mut String, label: &str, value: &str| {
        s.push(' ');
        if !label.is_empty() {
            s.push_str(label);
            s.push(' ');
        }
        escape_value_into(s, value, 256);
    };
    if let Some(p) = &meta.process {
        word(&mut s, "", &format!("{}.{}", p.short_name(), p.pid));
        if let Some(t) = meta.tid.filter(|&t| t != p.pid) {
            word(&mut s, "tid", &t.to_string());
        }
        if let Some(u) = p.uid {
            word(&mut s, "uid", &u.to_string());
        }
    }
    if let Some(p) = &meta.parent {
        word(&mut s, "parent", &format!("{}.{}", p.short_name(), p.pid));
    }
    if let Some(c) = &meta.container {
        let name = if c.name.is_empty() {
            c.id.get(..12).unwrap_or(&c.id)
        } else {
            &c.name
        };
        word(&mut s, "container", name);
    }
    if let Some(p) = &meta.pod {
        word(&mut s, "pod", &format!("{}.{}", p.name, p.namespace));
    }
    Some(s)
}

/// What [`parse_comments`] found, before it becomes a [`PacketMeta`].
#[derive(Default)]
struct Parsed {
    process: Option<ProcessInfo>,
    parent: Option<ProcessInfo>,
    container: Option<ContainerInfo>,
    pod: Option<PodInfo>,
    tid: Option<u32>,
    /// Labels or annotations whose JSON did not parse (cut or foreign).
    bad_json: bool,
}

fn proc_(p: &mut Parsed) -> &mut ProcessInfo {
    p.process.get_or_insert_with(ProcessInfo::default)
}
fn parent(p: &mut Parsed) -> &mut ProcessInfo {
    p.parent.get_or_insert_with(ProcessInfo::default)
}
fn cont(p: &mut Parsed) -> &mut ContainerInfo {
    p.container.get_or_insert_with(ContainerInfo::default)
}
fn pod(p: &mut Parsed) -> &mut PodInfo {
    p.pod.get_or_insert_with(PodInfo::default)
}

fn argv_of(text: &str) -> Vec<String> {
    text.split(' ')
        .filter(|s| !s.is_empty())
        .map(unescape_value)
        .collect()
}

fn json_map(text: &str, bad: &mut bool) -> BTreeMap<String, String> {
    if text.is_empty() {
        return BTreeMap::new();
    }
    // Values are usually strings; accept any JSON value and keep its text.
    match serde_json::from_str::<BTreeMap<String, serde_json::Value>>(text) {
        Ok(m) => m
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect(),
        Err(_) => {
            *bad = true;
            BTreeMap::new()
        }
    }
}

/// Parses ptcpdump-layout comments (any number, any order; unknown keys and lines ignored).
/// Returns `None` when no comment holds a key of the layout. The second value tells whether
/// some JSON value could not be parsed (it is left empty).
pub fn parse_comments<'a>(
    comments: impl IntoIterator<Item = &'a str>,
) -> Option<(PacketMeta, bool)> {
    let mut p = Parsed::default();
    let mut found = false;
    for comment in comments {
        if comment.starts_with(SHORT_PREFIX) {
            continue;
        }
        for l in comment.lines() {
            let Some((key, raw)) = l
                .split_once(": ")
                .or_else(|| l.strip_suffix(':').map(|k| (k, "")))
            else {
                continue;
            };
            let num = || raw.trim().parse::<u32>().ok();
            match key {
                "PID" => match num() {
                    Some(v) => proc_(&mut p).pid = v,
                    None => continue,
                },
                "Cmd" | "Command" => proc_(&mut p).exe = unescape_value(raw),
                "Args" => proc_(&mut p).argv = argv_of(raw),
                "ThreadId" | "TID" => match num() {
                    Some(v) => p.tid = Some(v),
                    None => continue,
                },
                "ThreadName" => proc_(&mut p).comm = unescape_value(raw),
                "UserId" => match num() {
                    Some(v) => proc_(&mut p).uid = Some(v),
                    None => continue,
                },
                "GroupId" => match num() {
                    Some(v) => proc_(&mut p).gid = Some(v),
                    None => continue,
                },
                "ParentPID" => match num() {
                    Some(v) => parent(&mut p).pid = v,
                    None => continue,
                },
                "ParentCmd" | "ParentCommand" => parent(&mut p).exe = unescape_value(raw),
                "ParentArgs" => parent(&mut p).argv = argv_of(raw),
                "ContainerName" => cont(&mut p).name = unescape_value(raw),
                "ContainerId" => cont(&mut p).id = unescape_value(raw),
                "ContainerImage" => cont(&mut p).image = unescape_value(raw),
                "ContainerLabels" => {
                    let m = json_map(raw, &mut p.bad_json);
                    cont(&mut p).labels = m;
                }
                "PodName" => pod(&mut p).name = unescape_value(raw),
                "PodNamespace" => pod(&mut p).namespace = unescape_value(raw),
                "PodUID" => pod(&mut p).uid = unescape_value(raw),
                "PodLabels" => {
                    let m = json_map(raw, &mut p.bad_json);
                    pod(&mut p).labels = m;
                }
                "PodAnnotations" => {
                    let m = json_map(raw, &mut p.bad_json);
                    pod(&mut p).annotations = m;
                }
                _ => continue,
            }
            found = true;
        }
    }
    if !found {
        return None;
    }
    // ptcpdump writes empty container groups for host processes: drop those.
    let container = p
        .container
        .filter(|c| !c.id.is_empty() || !c.name.is_empty());
    let pod = p.pod.filter(|x| !x.name.is_empty());
    let meta = PacketMeta {
        process: p.process.map(Arc::new),
        parent: p.parent.map(Arc::new),
        container: container.map(Arc::new),
        pod: pod.map(Arc::new),
        tid: p.tid,
        provenance: Provenance::Comment,
        role: Default::default(),
    };
    Some((meta, p.bad_json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_and_keeps_one_line() {
        for v in [
            "plain",
            "a\nb\rc\td\x1b[31m",
            "back\\slash \\x41",
            "é ü \u{7f}",
            "",
        ] {
            let e = escape_value(v);
            assert!(
                !e.contains('\n') && !e.contains('\0') && !e.contains('\r'),
                "{e:?}"
            );
            assert_eq!(unescape_value(&e), v);
        }
    }

    #[test]
    fn long_values_are_cut_at_a_char_boundary_with_a_marker() {
        let v = "é\n".repeat(2000);
        let e = escape_value(&v);
        assert!(e.len() <= VALUE_LIMIT, "{}", e.len());
        assert!(e.ends_with(TRUNCATION_MARKER));
        let body = e.strip_suffix(TRUNCATION_MARKER).unwrap();
        // Never inside an escape: the body unescapes to a prefix of the value.
        assert!(v.starts_with(&unescape_value(body)));
    }

    #[test]
    fn full_layout_parses_back() {
        let meta = PacketMeta {
            process: Some(Arc::new(ProcessInfo {
                pid: 241879,
                comm: "wget".into(),
                exe: "/usr/bin/wget".into(),
                argv: vec!["wget".into(), "-T".into(), "10".into(), "1.1.1.1".into()],
                uid: Some(0),
                gid: Some(0),
            })),
            parent: Some(Arc::new(ProcessInfo {
                pid: 1,
                exe: "/sbin/init".into(),
                argv: vec!["/sbin/init".into()],
                ..Default::default()
            })),
            container: Some(Arc::new(ContainerInfo {
                id: "78f1713c".into(),
                name: "web1".into(),
                image: "busybox".into(),
                labels: [("a".to_string(), "x\"y\n".to_string())].into(),
                ..Default::default()
            })),
            pod: Some(Arc::new(PodInfo {
                name: "api".into(),
                namespace: "default".into(),
                uid: "u-1".into(),
                labels: [("app".to_string(), "api".to_string())].into(),
                annotations: BTreeMap::new(),
            })),
            tid: Some(241880),
            provenance: Provenance::Comment,
            role: Default::default(),
        };
        let comments = full_comments(&meta);
        assert_eq!(comments.len(), 6);
        assert_eq!(
            comments[0],
            "PID: 241879\nCmd: /usr/bin/wget\nArgs: wget -T 10 1.1.1.1"
        );
        assert_eq!(comments[2], "UserId: 0\nGroupId: 0");
        let (back, bad) = parse_comments(comments.iter().map(String::as_str)).unwrap();
        assert!(!bad);
        assert_eq!(back, meta);
        let short = short_comment(&meta).unwrap();
        assert_eq!(
            short,
            "ptcap: wget.241879 tid 241880 uid 0 parent init.1 container web1 pod api.default"
        );
    }

    #[test]
    fn legacy_keys_and_garbage() {
        let (m, _) = parse_comments([
            "PID: 7\nCommand: /bin/x\nTID: 8",
            "ParentPID: 1\nParentCommand: /init",
            "junk\nmore: junk",
        ])
        .unwrap();
        assert_eq!(m.process.unwrap().exe, "/bin/x");
        assert_eq!(m.tid, Some(8));
        assert_eq!(m.parent.unwrap().exe, "/init");
        assert!(parse_comments(["hello world", "ptcap: x.1"]).is_none());
        let (m, bad) = parse_comments(["ContainerId: c\nContainerLabels: {oops"]).unwrap();
        assert!(bad);
        assert!(m.container.unwrap().labels.is_empty());
    }
}

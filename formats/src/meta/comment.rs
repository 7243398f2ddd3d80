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

use super::{ContainerInfo, DropInfo, PacketMeta, PodInfo, ProcessInfo, Provenance, ThreadInfo};

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
    grammar::unescape(text)
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

/// `NAT: original A.p > B.q, translated C.r > D.s` (the connection in its original direction,
/// before and after the rewrite), for Wireshark's `frame.comment`.
pub fn nat_comment(n: &super::NatInfo) -> String {
    let t = |t: super::Tuple| format!("{}.{} > {}.{}", t.src, t.sport, t.dst, t.dport);
    let mut s = String::new();
    line(
        &mut s,
        "NAT",
        &format!(
            "original {}, translated {}",
            t(n.original),
            t(n.translated())
        ),
    );
    s
}

/// `ThreadId: ..\nThreadName: ..` (the name line only when known), as ptcpdump writes it.
pub fn thread_comment(t: &ThreadInfo) -> String {
    let mut s = String::new();
    line(&mut s, "ThreadId", &t.tid.to_string());
    if !t.name.is_empty() {
        line(&mut s, "ThreadName", &t.name);
    }
    s
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

/// `Drop: REASON (LOCATION)`: the packet was dropped by the kernel (ptcap `--drops`).
pub fn drop_comment(d: &DropInfo) -> String {
    let mut s = String::from("Drop: ");
    escape_value_into(&mut s, &d.reason, 256);
    s.push_str(" (");
    escape_value_into(&mut s, &d.location, 256);
    s.push(')');
    s
}

/// Parses the value of a `Drop:` line (`REASON (LOCATION)`).
fn parse_drop(raw: &str) -> Option<DropInfo> {
    let raw = raw.trim_end();
    let (reason, location) = match raw.strip_suffix(')').and_then(|r| r.rsplit_once(" (")) {
        Some((r, l)) => (r, l),
        None => (raw, ""),
    };
    (!reason.is_empty()).then(|| DropInfo {
        reason: unescape_value(reason),
        location: unescape_value(location),
    })
}

/// Every full-layout comment of a packet, in ptcpdump's order.
pub fn full_comments(meta: &PacketMeta) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &meta.process {
        out.push(process_comment(p));
    }
    if let Some(t) = &meta.thread {
        out.push(thread_comment(t));
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
    if let Some(d) = &meta.drop {
        out.push(drop_comment(d));
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
        if let Some(t) = meta.tid().filter(|&t| t != p.pid) {
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
    thread: Option<ThreadInfo>,
    drop: Option<DropInfo>,
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
fn thread(p: &mut Parsed) -> &mut ThreadInfo {
    p.thread.get_or_insert_with(ThreadInfo::default)
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

/// ptcpdump's comment grammar as nom combinators. A comment is lines; a line that is not
/// `Key: value` (or `Key:` with an empty value) is not ours and is skipped.
///
/// ```text
/// line    = key ":" [" " value]          key = 1*(ALPHA / DIGIT)
/// number  = *SP 1*DIGIT *SP              (PID, ThreadId/TID, UserId, GroupId, ParentPID)
/// args    = word *(1*SP word)            (split at spaces: boundaries inside are lost)
/// escaped = *(text / BS BS / BS "x" 2HEXDIG)   BS = a backslash; any other BS is kept
///                                              as written
/// ```
mod grammar {
    use nom::branch::alt;
    use nom::bytes::complete::{is_not, tag, take_while1, take_while_m_n};
    use nom::character::complete::{char, digit1, space0};
    use nom::combinator::{all_consuming, eof, map, map_opt, map_res, opt, value};
    use nom::multi::fold_many0;
    use nom::sequence::{delimited, preceded, terminated};
    use nom::{IResult, Parser};

    /// `Key: value` → (key, value).
    pub fn key_value(line: &str) -> Option<(&str, &str)> {
        let parsed: IResult<&str, &str> = terminated(
            take_while1(|c: char| c.is_ascii_alphanumeric()),
            (char(':'), alt((tag(" "), eof))),
        )
        .parse(line);
        parsed.ok().map(|(value, key)| (key, value))
    }

    /// A decimal u32, spaces around allowed.
    pub fn number(text: &str) -> Option<u32> {
        let parsed: IResult<&str, u32> =
            all_consuming(delimited(space0, map_res(digit1, str::parse), space0)).parse(text);
        parsed.ok().map(|(_, n)| n)
    }

    #[derive(Clone)]
    enum Piece<'a> {
        Text(&'a str),
        Char(char),
    }

    /// Undoes ptcap's escaping; unknown escapes are kept as written.
    pub fn unescape(text: &str) -> String {
        let hex = map_opt(
            preceded(
                tag("\\x"),
                take_while_m_n(2, 2, |c: char| c.is_ascii_hexdigit()),
            ),
            |h: &str| {
                u8::from_str_radix(h, 16)
                    .ok()
                    .filter(|v| *v < 0x80)
                    .map(|v| Piece::Char(char::from(v)))
            },
        );
        let piece = alt((
            map(is_not("\\"), Piece::Text),
            value(Piece::Char('\\'), tag("\\\\")),
            hex,
            map(tag("\\"), Piece::Text),
        ));
        let mut all = fold_many0(
            piece,
            || String::with_capacity(text.len()),
            |mut acc, p| {
                match p {
                    Piece::Text(t) => acc.push_str(t),
                    Piece::Char(c) => acc.push(c),
                }
                acc
            },
        );
        let parsed: IResult<&str, String> = all.parse(text);
        match parsed {
            Ok((rest, mut s)) => {
                s.push_str(rest);
                s
            }
            Err(_) => text.to_owned(),
        }
    }

    /// `Args` split at spaces, each word unescaped.
    pub fn argv(text: &str) -> Vec<String> {
        let word = preceded(space0, is_not(" "));
        let words = fold_many0(word, Vec::new, |mut v: Vec<String>, w: &str| {
            v.push(super::unescape_value(w));
            v
        });
        let parsed: IResult<&str, Vec<String>> = terminated(words, opt(space0)).parse(text);
        parsed.map(|(_, v)| v).unwrap_or_default()
    }
}

/// Parses ptcpdump-layout comments (any number, any order; unknown keys and lines ignored).
/// Returns `None` when no comment holds a key of the layout. The second value tells whether
/// some JSON value could not be parsed (it is left empty).
///
/// `ThreadName` is the thread's name, not the process's: ptcpdump's files carry no process
/// name (it prints the executable's base name), and [`ProcessInfo::short_name`] does the same
/// when `comm` is empty.
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
            let Some((key, raw)) = grammar::key_value(l) else {
                continue;
            };
            let num = || grammar::number(raw);
            match key {
                "PID" => match num() {
                    Some(v) => proc_(&mut p).pid = v,
                    None => continue,
                },
                "Cmd" | "Command" => proc_(&mut p).exe = unescape_value(raw),
                "Args" => proc_(&mut p).argv = grammar::argv(raw),
                "ThreadId" | "TID" => match num() {
                    Some(v) => thread(&mut p).tid = v,
                    None => continue,
                },
                "ThreadName" => thread(&mut p).name = unescape_value(raw),
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
                "ParentArgs" => parent(&mut p).argv = grammar::argv(raw),
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
                "Drop" => match parse_drop(raw) {
                    Some(d) => p.drop = Some(d),
                    None => continue,
                },
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
    // A thread without an id is no thread (ptcpdump writes the group only when it has one).
    let thread = p.thread.filter(|t| t.tid != 0);
    let meta = PacketMeta {
        process: p.process.map(Arc::new),
        parent: p.parent.map(Arc::new),
        container: container.map(Arc::new),
        pod: pod.map(Arc::new),
        thread: thread.map(Arc::new),
        provenance: Provenance::Comment,
        role: Default::default(),
        peer: Default::default(),
        drop: p.drop.map(Arc::new),
        nat: None,
        nat_reply: false,
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
            thread: Some(Arc::new(ThreadInfo {
                tid: 241880,
                name: "wget-worker".into(),
            })),
            provenance: Provenance::Comment,
            role: Default::default(),
            peer: Default::default(),
            drop: Some(Arc::new(DropInfo {
                reason: "NETFILTER_DROP".into(),
                location: "nft_do_chain+0x46f".into(),
            })),
            nat: None,
            nat_reply: false,
        };
        let comments = full_comments(&meta);
        assert_eq!(comments.len(), 7);
        assert_eq!(comments[6], "Drop: NETFILTER_DROP (nft_do_chain+0x46f)");
        assert_eq!(comments[1], "ThreadId: 241880\nThreadName: wget-worker");
        assert_eq!(
            comments[0],
            "PID: 241879\nCmd: /usr/bin/wget\nArgs: wget -T 10 1.1.1.1"
        );
        assert_eq!(comments[2], "UserId: 0\nGroupId: 0");
        let (back, bad) = parse_comments(comments.iter().map(String::as_str)).unwrap();
        assert!(!bad);
        // The comments carry no process name (ptcpdump's layout has none): the short name is
        // then the executable's base name, as ptcpdump prints it.
        let mut expected = meta.clone();
        let mut p = (**expected.process.as_ref().unwrap()).clone();
        p.comm.clear();
        expected.process = Some(Arc::new(p));
        assert_eq!(back, expected);
        assert_eq!(back.process.as_deref().unwrap().short_name(), "wget");
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
        assert_eq!(m.tid(), Some(8));
        assert_eq!(m.process.unwrap().exe, "/bin/x");
        assert_eq!(m.parent.unwrap().exe, "/init");
        assert!(parse_comments(["hello world", "ptcap: x.1"]).is_none());
        let (m, bad) = parse_comments(["ContainerId: c\nContainerLabels: {oops"]).unwrap();
        assert!(bad);
        assert!(m.container.unwrap().labels.is_empty());
    }

    #[test]
    fn grammar_edges() {
        // `Key:` alone is an empty value; `Key:value` without the space is not the layout.
        let (m, _) = parse_comments(["PID: 7\nCmd:\nArgs:  a  b\\x41 "]).unwrap();
        let p = m.process.unwrap();
        assert_eq!(p.exe, "");
        assert_eq!(p.argv, ["a", "bA"]);
        assert!(parse_comments(["PID:7"]).is_none());
        assert!(parse_comments(["PID: x7"]).is_none());
        let (m, _) = parse_comments(["PID:  42 \r\nThreadId: 43"]).unwrap();
        assert_eq!(m.tid(), Some(43));
        assert_eq!(m.process.unwrap().pid, 42);
        // Unknown escapes and cut ones are kept as written.
        for (text, want) in [
            ("a\\qb", "a\\qb"),
            ("\\x4", "\\x4"),
            ("\\x+4", "\\x+4"),
            ("\\xff", "\\xff"),
            ("x\\\\y\\x09", "x\\y\t"),
            ("end\\", "end\\"),
        ] {
            assert_eq!(unescape_value(text), want, "{text:?}");
        }
    }
}

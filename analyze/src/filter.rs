//! Which packets to keep: owner filters (process, user, container, pod) and a tcpdump
//! expression run by libpcap's own BPF interpreter.

use std::collections::HashMap;
use std::sync::Arc;

use formats::meta::{ContainerInfo, PacketMeta, PodInfo, ProcessInfo};
use formats::pcapng::linktype;

/// Owner filters: AND across kinds, OR within a kind. Empty = keep everything.
#[derive(Debug, Default, Clone)]
pub struct OwnerFilter {
    pub container_names: Vec<String>,
    pub container_ids: Vec<String>,
    /// (pod name, namespace if given).
    pub pods: Vec<(String, Option<String>)>,
    pub pids: Vec<u32>,
    pub pnames: Vec<String>,
    pub uids: Vec<u32>,
    pub unattributed: bool,
    /// `--drops`: only packets the kernel dropped (with the other filters).
    pub drops: bool,
}

impl OwnerFilter {
    pub fn is_empty(&self) -> bool {
        self.container_names.is_empty()
            && self.container_ids.is_empty()
            && self.pods.is_empty()
            && self.pids.is_empty()
            && self.pnames.is_empty()
            && self.uids.is_empty()
            && !self.unattributed
            && !self.drops
    }

    /// `NAME.NAMESPACE`: pod names may hold dots, namespaces may not, so the last dot splits.
    pub fn parse_pod(text: &str) -> (String, Option<String>) {
        match text.rsplit_once('.') {
            Some((name, ns)) if !name.is_empty() && !ns.is_empty() => {
                (name.to_string(), Some(ns.to_string()))
            }
            _ => (text.to_string(), None),
        }
    }

    /// Whether the packet is kept: when its owner matches, or its other local end does (a
    /// packet between two local processes has both recorded; ptcap's live selection keeps it
    /// for either too). Files with one owner per packet (ptcpdump's) have no peer.
    pub fn matches(&self, m: &PacketMeta) -> bool {
        if self.drops && m.drop.is_none() {
            return false;
        }
        let owner = Ends {
            process: m.process.as_deref(),
            container: m.container.as_deref(),
            pod: m.pod.as_deref(),
        };
        let peer = Ends {
            process: m.peer.process.as_deref(),
            container: m.peer.container.as_deref(),
            pod: m.peer.pod.as_deref(),
        };
        self.matches_end(&owner) || (!m.peer.is_empty() && self.matches_end(&peer))
    }

    /// Every kind given must match this one end (AND across kinds, OR within a kind).
    fn matches_end(&self, e: &Ends<'_>) -> bool {
        let process = e.process;
        if self.unattributed && process.is_some() {
            return false;
        }
        if !self.pids.is_empty() && !process.is_some_and(|p| self.pids.contains(&p.pid)) {
            return false;
        }
        if !self.uids.is_empty()
            && !process.is_some_and(|p| p.uid.is_some_and(|u| self.uids.contains(&u)))
        {
            return false;
        }
        if !self.pnames.is_empty()
            && !process.is_some_and(|p| {
                let base = p.exe.rsplit('/').next().unwrap_or("");
                self.pnames
                    .iter()
                    .any(|n| n == &p.comm || (!base.is_empty() && n == base))
            })
        {
            return false;
        }
        let container = e.container;
        if !self.container_names.is_empty()
            && !container.is_some_and(|c| self.container_names.iter().any(|n| n == &c.name))
        {
            return false;
        }
        if !self.container_ids.is_empty()
            && !container.is_some_and(|c| {
                self.container_ids
                    .iter()
                    .any(|id| !c.id.is_empty() && c.id.starts_with(id.as_str()))
            })
        {
            return false;
        }
        if !self.pods.is_empty()
            && !e.pod.is_some_and(|pod| {
                self.pods.iter().any(|(name, ns)| {
                    name == &pod.name && ns.as_ref().is_none_or(|ns| ns == &pod.namespace)
                })
            })
        {
            return false;
        }
        true
    }
}

/// One end of a packet as the filter sees it.
struct Ends<'m> {
    process: Option<&'m ProcessInfo>,
    container: Option<&'m ContainerInfo>,
    pod: Option<&'m PodInfo>,
}

/// Remembers the owner filter's answer per combination of shared entities: a capture has few
/// owners and many packets, and the decoder hands out the same `Arc`s.
///
/// Entries are keyed by the entities' addresses and hold the entities themselves. An address
/// is an identity only while its allocation lives: a decoder that drops one packet's entities
/// and builds the next packet's may get the same address for another owner. Because every
/// entry keeps its `Arc`s alive, an address found in the table is that very allocation, never
/// a reused one; clearing the table releases the entities together with their answers.
#[derive(Default)]
pub struct OwnerCache {
    answers: HashMap<[usize; 8], (bool, Held)>,
}

/// The entities an [`OwnerCache`] entry keeps alive: the owner's and the peer's.
type Held = [(
    Option<Arc<ProcessInfo>>,
    Option<Arc<ProcessInfo>>,
    Option<Arc<ContainerInfo>>,
    Option<Arc<PodInfo>>,
); 2];

/// Bound on remembered owner combinations (a decoder that builds new entities per packet must
/// not grow it).
const OWNER_CACHE_MAX: usize = 4096;

impl OwnerCache {
    pub fn matches(&mut self, filter: &OwnerFilter, m: &PacketMeta) -> bool {
        fn addr<T>(a: &Option<Arc<T>>) -> usize {
            a.as_ref().map_or(0, |x| Arc::as_ptr(x) as usize)
        }
        let p = &m.peer;
        let key = [
            addr(&m.process),
            addr(&m.parent),
            addr(&m.container),
            addr(&m.pod),
            addr(&p.process),
            addr(&p.parent),
            addr(&p.container),
            addr(&p.pod),
        ];
        // The cached answers are about owners: the drop is checked apart.
        if filter.drops && m.drop.is_none() {
            return false;
        }
        if key == [0; 8] {
            return filter.matches(m);
        }
        if let Some((answer, _)) = self.answers.get(&key) {
            return *answer;
        }
        if self.answers.len() >= OWNER_CACHE_MAX {
            self.answers.clear();
        }
        let answer = filter.matches(m);
        let held = [
            (
                m.process.clone(),
                m.parent.clone(),
                m.container.clone(),
                m.pod.clone(),
            ),
            (
                p.process.clone(),
                p.parent.clone(),
                p.container.clone(),
                p.pod.clone(),
            ),
        ];
        self.answers.insert(key, (answer, held));
        answer
    }
}

/// One `struct bpf_insn`, the layout libpcap's `bpf_filter` reads.
#[repr(C)]
#[derive(Clone, Copy)]
struct BpfInsn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[link(name = "pcap")]
extern "C" {
    /// libpcap's classic BPF interpreter (what `pcap_offline_filter` calls): returns the snap
    /// length to keep, 0 to reject.
    fn bpf_filter(pc: *const BpfInsn, p: *const u8, wirelen: u32, buflen: u32) -> u32;
}

/// A compiled filter program, owned (libpcap's copy is freed at once) so threads share it.
pub struct Program {
    insns: Vec<BpfInsn>,
}

impl Program {
    /// Whether the program accepts a packet of `wirelen` bytes on the wire, `data` captured.
    pub fn accepts(&self, data: &[u8], wirelen: u32) -> bool {
        if self.insns.is_empty() {
            return true;
        }
        // SAFETY: the program came from pcap_compile (validated by libpcap), and bpf_filter
        // reads at most `buflen` bytes of `data`.
        unsafe {
            bpf_filter(
                self.insns.as_ptr(),
                data.as_ptr(),
                wirelen.max(data.len() as u32),
                data.len() as u32,
            ) != 0
        }
    }
}

/// The DLT libpcap's compiler expects for a file's LINKTYPE (they differ for a few).
fn dlt_of(link: u16) -> i32 {
    match link {
        linktype::RAW => 12,
        100 => 11,
        other => i32::from(other),
    }
}

/// Compiles `expr` for one link type; the error is libpcap's message.
pub fn compile(expr: &str, link: u16) -> Result<Program, String> {
    let dead = pcap::Capture::dead(pcap::Linktype(dlt_of(link))).map_err(message)?;
    let prog = dead.compile(expr, true).map_err(message)?;
    let insns = prog
        .get_instructions()
        .iter()
        // SAFETY: BpfInstruction is repr(transparent) over libpcap's struct bpf_insn, which
        // has BpfInsn's repr(C) layout.
        .map(|i| unsafe { *(i as *const pcap::BpfInstruction as *const BpfInsn) })
        .collect();
    Ok(Program { insns })
}

fn message(e: pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(s) => s,
        other => other.to_string(),
    }
}

/// The expression compiled per link type of the inputs' interfaces.
pub struct Expression {
    programs: HashMap<u16, Result<Program, String>>,
}

impl Expression {
    /// Compiles for every link type given. Fails (with libpcap's message) only when no link type
    /// accepts the expression: then it is wrong, not merely unsuited to one interface.
    pub fn new(text: &str, links: &[u16]) -> Result<Expression, String> {
        let mut links = links.to_vec();
        if links.is_empty() {
            links.push(linktype::ETHERNET);
        }
        let mut programs = HashMap::new();
        for l in links {
            programs.entry(l).or_insert_with(|| compile(text, l));
        }
        if let Some(Err(e)) = programs
            .values()
            .find(|_| programs.values().all(|p| p.is_err()))
        {
            return Err(e.clone());
        }
        Ok(Expression { programs })
    }

    /// The program for a link type, or libpcap's reason it cannot filter that link type.
    pub fn program(&self, link: u16) -> Result<&Program, &str> {
        match self.programs.get(&link) {
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) => Err(e.as_str()),
            None => Err("link type not seen when the filter was compiled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_names_split_at_the_last_dot() {
        assert_eq!(
            OwnerFilter::parse_pod("web.v2.prod"),
            ("web.v2".into(), Some("prod".into()))
        );
        assert_eq!(OwnerFilter::parse_pod("web"), ("web".into(), None));
    }

    #[test]
    fn bad_expression_gives_libpcap_message() {
        let e = Expression::new("host and and", &[1]).err().unwrap();
        assert!(e.contains("syntax error"), "{e}");
        let ok = Expression::new("udp port 53", &[1]).unwrap();
        let p = ok.program(1).unwrap();
        assert!(!p.accepts(&[0u8; 60], 60));
    }
}

//! The metadata model: who sent or received a packet, and how we know.
//!
//! One model for both binaries. ptcap fills it from eBPF events, /proc and the container
//! runtimes; the pcapng writer carries it in two forms (ptcpdump-layout comments for people and
//! Wireshark, structured custom options for our tools); the reader turns either form back into
//! a [`PacketMeta`].

pub mod comment;
pub mod decode;
pub mod record;

pub use comment::CommentMode;
pub use decode::{LateResolutions, MetaReader, MetaStats};

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A process as seen at the time of the packet.
///
/// Strings are valid UTF-8: whoever builds one from raw bytes (argv, comm) escapes invalid
/// bytes as `\xNN` (see [`escape_bytes`]), so nothing is lost and nothing panics later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub pid: u32,
    /// The kernel's task name (`/proc/PID/comm`, at most 15 bytes).
    #[serde(default)]
    pub comm: String,
    /// Path of the executable (`/proc/PID/exe`), empty when unknown.
    #[serde(default)]
    pub exe: String,
    /// The argument vector, boundaries kept.
    #[serde(default)]
    pub argv: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
}

impl ProcessInfo {
    /// The argument vector joined by spaces, as ptcpdump prints it.
    pub fn args_line(&self) -> String {
        self.argv.join(" ")
    }

    /// The short name users expect: comm, else the executable's basename.
    pub fn short_name(&self) -> &str {
        if !self.comm.is_empty() {
            &self.comm
        } else {
            self.exe.rsplit('/').next().unwrap_or("")
        }
    }
}

/// The thread that sent or received a packet: its id and its name (the thread's own comm,
/// which `prctl(PR_SET_NAME)` or `pthread_setname_np` may have made differ from the process's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ThreadInfo {
    pub tid: u32,
    /// Empty when unknown.
    #[serde(default)]
    pub name: String,
}

/// A container, from containerd, Docker or labels written by either.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerInfo {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `containerd` or `docker`; empty when unknown (e.g. read from a ptcpdump comment).
    #[serde(default)]
    pub runtime: String,
    /// The runtime's namespace (containerd: `default`, `moby`, `k8s.io`).
    #[serde(default)]
    pub namespace: String,
}

/// A Kubernetes pod, from a container's `io.kubernetes.pod.*` labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PodInfo {
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// How a packet was tied to its process: what is certain and what is inferred.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Provenance {
    /// No owner known.
    #[default]
    None = 0,
    /// The packet carried its socket (`skb->sk`); the socket's cookie named the process.
    SocketCookie = 1,
    /// The packet's 5-tuple matched a socket a hook had recorded.
    Tuple = 2,
    /// The reversed 5-tuple matched (a reply seen where the socket reference was gone).
    ReverseTuple = 3,
    /// Matched a listening socket's local address and port (a server's accepted connection).
    Listener = 4,
    /// Resolved in user space through netlink sock_diag and /proc.
    SockDiag = 5,
    /// Read from comment text (a ptcpdump file, or one of ours without the structured copy):
    /// the writer knew, this reader cannot say how.
    Comment = 6,
    /// The packet's addresses or ports were rewritten by netfilter NAT; its conntrack entry's
    /// untranslated tuple matched a socket (see [`NatInfo`]).
    Nat = 7,
}

impl Provenance {
    pub const ALL: [Provenance; 8] = [
        Provenance::None,
        Provenance::SocketCookie,
        Provenance::Tuple,
        Provenance::ReverseTuple,
        Provenance::Listener,
        Provenance::SockDiag,
        Provenance::Comment,
        Provenance::Nat,
    ];

    pub fn from_u8(v: u8) -> Option<Provenance> {
        Self::ALL.get(v as usize).copied()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::None => "none",
            Provenance::SocketCookie => "socket_cookie",
            Provenance::Tuple => "tuple",
            Provenance::ReverseTuple => "reverse_tuple",
            Provenance::Listener => "listener",
            Provenance::SockDiag => "sock_diag",
            Provenance::Comment => "comment",
            Provenance::Nat => "nat",
        }
    }
}

/// Whether the packet's owner sent it or received it.
///
/// The interface direction (`epb_flags` In/Out) does not say this: a container's packet seen on
/// the host side of its veth is *In* on that interface but *sent* by the container's process.
/// ptcap knows from how it found the owner (the sending socket's cookie or tuple vs the reversed
/// tuple or a listener on the destination port) and records it; files without it (ptcpdump's)
/// say `Unknown`, and readers fall back to the interface direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Role {
    #[default]
    Unknown = 0,
    Sender = 1,
    Receiver = 2,
}

impl Role {
    pub fn from_u32(v: u32) -> Role {
        match v {
            1 => Role::Sender,
            2 => Role::Receiver,
            _ => Role::Unknown,
        }
    }
}

/// The other local end of a packet: when both the sender and the receiver are processes on the
/// capturing host (pod to pod on one node, loopback), the one that is not the packet's owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peer {
    pub process: Option<Arc<ProcessInfo>>,
    pub parent: Option<Arc<ProcessInfo>>,
    pub container: Option<Arc<ContainerInfo>>,
    pub pod: Option<Arc<PodInfo>>,
}

impl Peer {
    pub fn is_empty(&self) -> bool {
        self.process.is_none() && self.container.is_none() && self.pod.is_none()
    }
}

/// The kernel dropped the packet (ptcap `--drops`, tracepoint `skb:kfree_skb`): why and where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DropInfo {
    /// The running kernel's `enum skb_drop_reason` name without `SKB_DROP_REASON_`
    /// (`NETFILTER_DROP`, `NO_SOCKET`), or `reason N` when its BTF did not name the value.
    pub reason: String,
    /// The kernel code that freed it: `symbol+0xoff`, its address when /proc/kallsyms hides
    /// symbols, or `unknown`.
    pub location: String,
}

/// One direction of a connection: source and destination address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tuple {
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
}

impl Tuple {
    /// The other direction (source and destination swapped).
    pub fn inverse(self) -> Tuple {
        Tuple {
            src: self.dst,
            sport: self.dport,
            dst: self.src,
            dport: self.sport,
        }
    }
}

/// A connection that netfilter NAT translates: its conntrack entry's two tuples, defined once
/// per file. `original` is the connection as its originator sent it (before any rewrite: the
/// originator's socket sees it so); `reply` is what the responder sends (the responder's socket
/// sees it so). SNAT (MASQUERADE) changes `reply.dst` against `original.src`; DNAT (a port
/// forward) changes `reply.src` against `original.dst`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NatInfo {
    /// IP protocol (6 TCP, 17 UDP).
    pub proto: u8,
    pub original: Tuple,
    pub reply: Tuple,
    /// IPS_SRC_NAT: the originator's source was rewritten.
    #[serde(default)]
    pub snat: bool,
    /// IPS_DST_NAT: the originator's destination was rewritten.
    #[serde(default)]
    pub dnat: bool,
}

impl NatInfo {
    /// The translated view of the connection from the originator's side: what travels
    /// between the NAT and the responder in the original direction (`reply` reversed).
    pub fn translated(&self) -> Tuple {
        self.reply.inverse()
    }

    /// The packet's addresses before the rewrite, in the packet's direction (`reply`: the
    /// packet travels from the responder to the originator).
    pub fn untranslated(&self, reply: bool) -> Tuple {
        if reply {
            self.original.inverse()
        } else {
            self.original
        }
    }
}

/// Everything known about one packet's owner. Entities are shared (`Arc`): a capture has few
/// processes and containers and many packets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacketMeta {
    pub process: Option<Arc<ProcessInfo>>,
    pub parent: Option<Arc<ProcessInfo>>,
    pub container: Option<Arc<ContainerInfo>>,
    pub pod: Option<Arc<PodInfo>>,
    /// The thread that sent or received, when the writer knew it for certain.
    pub thread: Option<Arc<ThreadInfo>>,
    pub provenance: Provenance,
    /// Whether `process` sent or received the packet.
    pub role: Role,
    /// The other end, when it is local too (it has the other role). Empty otherwise, and
    /// always in files with one owner per packet (ptcpdump's).
    pub peer: Peer,
    /// The kernel dropped this packet (a record of `ptcap --drops`, not a packet on the wire).
    pub drop: Option<Arc<DropInfo>>,
    /// The packet's NATed connection, when netfilter rewrote this packet's addresses or ports.
    pub nat: Option<Arc<NatInfo>>,
    /// The packet travels in the connection's reply direction (responder to originator).
    pub nat_reply: bool,
}

impl PacketMeta {
    pub fn is_empty(&self) -> bool {
        self.process.is_none() && self.container.is_none() && self.pod.is_none()
    }

    /// Anything the text shows beside the packet: an owner, or the packet's drop or NAT
    /// (which an unowned packet can have too).
    pub fn has_context(&self) -> bool {
        !self.is_empty() || self.drop.is_some() || self.nat.is_some()
    }

    /// The thread id, when known.
    pub fn tid(&self) -> Option<u32> {
        self.thread.as_deref().map(|t| t.tid)
    }
}

/// Turns raw bytes (argv, comm, labels from the kernel or a runtime) into a valid UTF-8 string:
/// valid UTF-8 is kept as is, each invalid byte becomes `\xNN`.
pub fn escape_bytes(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_bytes_keeps_utf8_and_escapes_the_rest() {
        assert_eq!(escape_bytes("wget é".as_bytes()), "wget é");
        assert_eq!(escape_bytes(b"a\xffb"), "a\\xffb");
    }

    #[test]
    fn provenance_codes_round_trip() {
        for p in Provenance::ALL {
            assert_eq!(Provenance::from_u8(p as u8), Some(p));
        }
        assert_eq!(Provenance::from_u8(200), None);
    }
}

//! Packets the kernel's network stack dropped (`--drops`): what user space adds to the kernel's
//! drop events (bpf::drops) before they go out like packets — the reason's name (the running
//! kernel's BTF), the location (`symbol+off`), the frame for the output's link type, and the
//! counts for the exit line.
//!
//! The kernel copies a dropped packet from its network header (raw IP: every drop point has
//! one, not every one has a link header). On an Ethernet interface the frame is given an
//! Ethernet header so that the file keeps one link type per interface (libpcap cannot read a
//! pcapng whose interfaces' link types differ): the packet's own when it had one right before
//! its network header, else zero addresses with the right EtherType. Raw-IP interfaces take
//! the bytes as they are; with `-i any` the output's SLL2 header is built from either.

use std::collections::HashMap;
use std::sync::Arc;

use bpf::{DropCounters, DropEvent, DropReasons, KernelSymbols, LinkKind};
use formats::meta::DropInfo;

/// Names, locations and counts of the drops of one capture.
pub struct DropTracker {
    /// Read from the kernel's BTF at the first drop (parsing its 5 MB costs start-up 5 ms of
    /// CPU otherwise; issue 12).
    reasons: std::cell::OnceCell<DropReasons>,
    symbols: KernelSymbols,
    /// One shared [`DropInfo`] per (reason, location): the writer's tables and the text
    /// renderer see few distinct ones.
    infos: HashMap<(u32, u64), Arc<DropInfo>>,
    /// Drops written or printed, by reason name.
    by_reason: HashMap<String, u64>,
    /// Written or printed.
    pub written: u64,
    frame: Vec<u8>,
}

impl DropTracker {
    pub fn new() -> DropTracker {
        DropTracker {
            reasons: std::cell::OnceCell::new(),
            symbols: KernelSymbols::new(),
            infos: HashMap::new(),
            by_reason: HashMap::new(),
            written: 0,
            frame: Vec::with_capacity(2048),
        }
    }

    /// The reasons' names; the first call reads them (and says so when the kernel's BTF has
    /// none).
    fn reasons(&self) -> &DropReasons {
        self.reasons.get_or_init(|| {
            let r = DropReasons::from_kernel();
            if r.is_empty() {
                eprintln!(
                    "ptcap: warning: this kernel's BTF has no enum skb_drop_reason: drop reasons are shown as numbers"
                );
            }
            r
        })
    }

    /// The drop's reason and location.
    pub fn info(&mut self, d: &DropEvent<'_>) -> Arc<DropInfo> {
        if let Some(i) = self.infos.get(&(d.reason, d.location)) {
            return Arc::clone(i);
        }
        let info = Arc::new(DropInfo {
            reason: self.reasons().name(d.reason),
            location: self.symbols.describe(d.location),
        });
        if self.infos.len() < 4096 {
            self.infos.insert((d.reason, d.location), Arc::clone(&info));
        }
        info
    }

    /// An ICMP echo reply freed as `NO_SOCKET` after a raw socket took its copy: the kernel's
    /// `ping_rcv` frees every reply no ICMP datagram socket asked for, also those a raw-socket
    /// `ping` (busybox's, iputils' without ping_group_range) receives. Not a drop to the user;
    /// `--drops all` keeps them.
    pub fn delivered_echo_reply(&self, d: &DropEvent<'_>) -> bool {
        let icmp_type = match d.protocol {
            0x0800 => {
                let ihl = usize::from(d.data.first().map_or(0, |b| b & 0xf)) * 4;
                match (d.data.get(9), d.data.get(ihl)) {
                    (Some(1), Some(&t)) if ihl >= 20 => Some((t, 0)),
                    _ => None,
                }
            }
            0x86DD => match (d.data.get(6), d.data.get(40)) {
                (Some(58), Some(&t)) => Some((t, 129)),
                _ => None,
            },
            _ => None,
        };
        matches!(icmp_type, Some((t, reply)) if t == reply)
            && self.reasons().name(d.reason) == "NO_SOCKET"
    }

    /// The frame as the interface's hook would have delivered it (see the module doc), and its
    /// length on the wire.
    pub fn frame(&mut self, d: &DropEvent<'_>, kind: LinkKind) -> (&[u8], u32) {
        self.frame.clear();
        let mut wire = d.wire_len;
        if kind == LinkKind::Ethernet {
            match d.mac {
                Some(mac) => self.frame.extend_from_slice(&mac[..12]),
                None => self.frame.extend_from_slice(&[0; 12]),
            }
            self.frame.extend_from_slice(&d.protocol.to_be_bytes());
            wire += 14;
        }
        self.frame.extend_from_slice(d.data);
        (&self.frame, wire)
    }

    /// A drop went out with this reason.
    pub fn count(&mut self, info: &DropInfo) {
        self.written += 1;
        *self.by_reason.entry(info.reason.clone()).or_insert(0) += 1;
    }

    /// The exit line: `N packets dropped by the kernel's network stack (top reasons R n, ..)`;
    /// a second one when drop events were lost.
    pub fn summary(&self, c: &DropCounters) -> Vec<String> {
        let mut top: Vec<(&String, &u64)> = self.by_reason.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let n = self.written;
        let mut line = format!(
            "{n} packet{} dropped by the kernel's network stack",
            if n == 1 { "" } else { "s" }
        );
        if !top.is_empty() {
            let list: Vec<String> = top
                .iter()
                .take(3)
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            line += &format!(" (top reasons: {})", list.join(", "));
        }
        let mut out = vec![line];
        if c.lost() > 0 {
            out.push(format!(
                "{} drop event{} lost: {} ring buffer full, {} over the rate limit",
                c.lost(),
                if c.lost() == 1 { "" } else { "s" },
                c.ring_drops,
                c.rate_limited
            ));
        }
        out
    }
}

//! Packets the kernel dropped (`src/bpf/drops.bpf.h`, tracepoint `skb:kfree_skb`): the ring
//! record, the drop reason's name from the running kernel's BTF, and the freeing code's
//! location from /proc/kallsyms.
//!
//! Reason values differ between kernels (the enum grows in the middle), so names are never a
//! table of ours: they are read from `enum skb_drop_reason` in /sys/kernel/btf/vmlinux, with
//! the `SKB_DROP_REASON_` prefix taken off (`NETFILTER_DROP`, `NO_SOCKET`; `SKB_CONSUMED` stays).

use std::collections::HashMap;

/// `PTCAP_EVENT_DROP` in events.h.
pub(crate) const EVENT_DROP: u16 = 4;
const DROP_HEADER_LEN: usize = 80;
const DROP_MAC: u8 = 1;

/// Which drops to record (`ptcap --drops`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DropsMode {
    Off,
    /// Every reason but `SKB_CONSUMED` and `NOT_SPECIFIED`.
    #[default]
    On,
    /// Every reason.
    All,
}

/// A dropped packet, borrowed from the ring buffer. `data` starts at its network header.
#[derive(Debug, Clone, Copy)]
pub struct DropEvent<'a> {
    pub ifindex: u32,
    /// `skb->pkt_type` (PACKET_OUTGOING = 4: the host was sending it).
    pub pkt_type: u8,
    /// ETH_P_IP or ETH_P_IPV6.
    pub protocol: u16,
    /// `enum skb_drop_reason`, the running kernel's value ([`DropReasons`] names it).
    pub reason: u32,
    /// The kernel address that freed it.
    pub location: u64,
    pub ts_mono_ns: u64,
    /// Bytes from the network header to the end of the packet.
    pub wire_len: u32,
    /// Inode number of the network namespace of its device.
    pub netns: u64,
    pub socket_cookie: u64,
    /// The Ethernet header the packet had before its network header, when it had one.
    pub mac: Option<[u8; 14]>,
    pub data: &'a [u8],
}

impl DropEvent<'_> {
    /// The host was sending it (else it had been received).
    pub fn outgoing(&self) -> bool {
        self.pkt_type == 4
    }
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_ne_bytes(b[off..off + 8].try_into().unwrap())
}

/// Decodes a `struct ptcap_drop_event` record.
pub(crate) fn parse_drop(b: &[u8]) -> Option<DropEvent<'_>> {
    if b.len() < DROP_HEADER_LEN {
        return None;
    }
    let header_len = u16_at(b, 2) as usize;
    if header_len < DROP_HEADER_LEN || b.len() < header_len {
        return None;
    }
    let cap_len = u32_at(b, 20) as usize;
    let data = b.get(header_len..header_len + cap_len)?;
    let flags = b[5];
    Some(DropEvent {
        pkt_type: b[4],
        protocol: u16_at(b, 6),
        ifindex: u32_at(b, 8),
        reason: u32_at(b, 12),
        wire_len: u32_at(b, 16),
        ts_mono_ns: u64_at(b, 32),
        location: u64_at(b, 40),
        netns: u64_at(b, 48),
        socket_cookie: u64_at(b, 56),
        mac: (flags & DROP_MAC != 0).then(|| b[64..78].try_into().unwrap()),
        data,
    })
}

/// Drop counters, summed over CPUs (`struct ptcap_drop_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounters {
    /// Drops with a reason of interest on a captured interface.
    pub seen: u64,
    /// Of those, what the filter expression accepted.
    pub accepted: u64,
    /// Accepted drop events the ring buffer had no room for.
    pub ring_drops: u64,
    /// Accepted drop events over the per-CPU rate limit.
    pub rate_limited: u64,
}

impl DropCounters {
    /// Drop events lost (never reached user space).
    pub fn lost(&self) -> u64 {
        self.ring_drops + self.rate_limited
    }
}

/// Names of the running kernel's `enum skb_drop_reason`.
#[derive(Debug, Clone, Default)]
pub struct DropReasons {
    names: HashMap<u32, String>,
}

impl DropReasons {
    /// Reads the enum from the kernel's BTF (/sys/kernel/btf/vmlinux). Empty when the kernel
    /// has none (names are then `reason N`).
    pub fn from_kernel() -> DropReasons {
        let mut names = HashMap::new();
        if let Ok(btf) = libbpf_rs::btf::Btf::from_vmlinux() {
            if let Some(e) = btf.type_by_name::<libbpf_rs::btf::types::Enum<'_>>("skb_drop_reason")
            {
                for m in e.iter() {
                    if let Some(n) = m.name.and_then(|n| n.to_str()) {
                        names.insert(m.value as u32, Self::short(n).to_string());
                    }
                }
            }
        }
        DropReasons { names }
    }

    /// `SKB_DROP_REASON_NETFILTER_DROP` -> `NETFILTER_DROP`.
    pub fn short(name: &str) -> &str {
        name.strip_prefix("SKB_DROP_REASON_").unwrap_or(name)
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The reason's name, or `reason N` when this kernel's BTF does not name it.
    pub fn name(&self, value: u32) -> String {
        self.names
            .get(&value)
            .cloned()
            .unwrap_or_else(|| format!("reason {value}"))
    }
}

/// Kernel text addresses as `symbol+0xoff` (/proc/kallsyms), read on first use and cached.
/// Under lockdown (or kptr_restrict) the file shows every address as 0: then the address
/// itself is given (`0xffffffff81234567`), or `unknown` when the tracepoint gave none.
#[derive(Debug, Default)]
pub struct KernelSymbols {
    /// (address, name), sorted; `None` before the first lookup.
    table: Option<Vec<(u64, String)>>,
    cache: HashMap<u64, String>,
}

impl KernelSymbols {
    pub fn new() -> Self {
        Self::default()
    }

    fn load() -> Vec<(u64, String)> {
        let Ok(text) = std::fs::read_to_string("/proc/kallsyms") else {
            return Vec::new();
        };
        let mut v: Vec<(u64, String)> = text
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let addr = u64::from_str_radix(w.next()?, 16).ok()?;
                let kind = w.next()?;
                let name = w.next()?;
                (addr != 0 && matches!(kind, "t" | "T")).then(|| (addr, name.to_string()))
            })
            .collect();
        v.sort_unstable();
        v
    }

    /// `symbol+0xoff` for `addr`, else its address, else `unknown`.
    pub fn describe(&mut self, addr: u64) -> String {
        if addr == 0 {
            return "unknown".into();
        }
        if let Some(s) = self.cache.get(&addr) {
            return s.clone();
        }
        let table = self.table.get_or_insert_with(Self::load);
        let i = table.partition_point(|(a, _)| *a <= addr);
        let s = match i.checked_sub(1).map(|i| &table[i]) {
            // A symbol more than 1 MiB below is not this code's (the end of kernel text).
            Some((a, name)) if addr - a < 1 << 20 => format!("{name}+{:#x}", addr - a),
            _ => format!("{addr:#x}"),
        };
        if self.cache.len() < 4096 {
            self.cache.insert(addr, s.clone());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names_come_from_the_kernel() {
        let r = DropReasons::from_kernel();
        if r.is_empty() {
            return; // no BTF on this machine
        }
        // Whatever their values on this kernel, these names exist (since 5.17/5.19).
        let all: Vec<String> = (0..1024).map(|v| r.name(v)).collect();
        for n in ["NOT_SPECIFIED", "NO_SOCKET", "NETFILTER_DROP"] {
            assert!(all.iter().any(|a| a == n), "{n} not in {all:?}");
        }
        assert_eq!(DropReasons::short("SKB_DROP_REASON_NO_SOCKET"), "NO_SOCKET");
        assert_eq!(DropReasons::short("SKB_CONSUMED"), "SKB_CONSUMED");
    }

    #[test]
    fn locations_without_symbols() {
        let mut k = KernelSymbols {
            table: Some(vec![(0x1000, "a".into()), (0x2000, "b".into())]),
            cache: HashMap::new(),
        };
        assert_eq!(k.describe(0), "unknown");
        assert_eq!(k.describe(0x1010), "a+0x10");
        assert_eq!(k.describe(0x2000), "b+0x0");
        assert_eq!(k.describe(0x10), "0x10");
        assert_eq!(
            k.describe(0x2000 + (2 << 20)),
            format!("{:#x}", 0x2000 + (2 << 20))
        );
    }
}

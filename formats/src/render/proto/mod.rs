//! The protocol part of a tcpdump line, from the link layer up (`-nn` always): one printer
//! per protocol family, as tcpdump's `print-<proto>.c`, each an `impl Printer` in its own
//! module. The printers find each other through the dispatch points tcpdump has:
//! - the link type ([`Printer::link`], `link.rs`),
//! - the EtherType (`Printer::ethertype`, `ether.rs`),
//! - the IP protocol (`Printer::transport`, here),
//! - the UDP and TCP ports (`udp.rs`, `tcp.rs`),
//! - an encapsulation's inner protocol (GRE's and Geneve's EtherType, VXLAN's Ethernet).
//!
//! Shared helpers (the `[|proto]` mark, the default hex print, dumps, text lines) are in
//! `shared.rs`.

mod arp;
mod bcm_li;
mod bfd;
mod bootp;
mod dhcp6;
mod dns;
mod ether;
mod geneve;
mod gre;
mod http;
mod icmp;
mod icmp6;
mod igmp;
mod ip;
mod ip6;
mod link;
mod llc;
mod lldp;
mod mobility;
mod mptcp;
mod ntp;
mod resp;
mod sctp;
mod shared;
mod slow;
mod snmp;
mod stp;
mod syslog;
mod tcp;
mod udp;
mod vrrp;
mod vxlan;

pub(crate) use shared::{ascii_dump, hex_ascii_dump, hex_dump};
pub(crate) use tcp::TcpSeqTable;

use super::text::Out;
use super::RenderOptions;
use crate::wire::{checksum, ipproto};
use shared::{flag_names, group_record_type, trunc, txt_line};

/// The network-layer context a transport printer needs.
#[derive(Clone, Copy)]
pub(crate) struct IpCtx<'a> {
    pub(super) src: &'a [u8],
    pub(super) dst: &'a [u8],
    /// The destination the upper layer's checksum covers: IPv6's final destination when a
    /// routing header names one (tcpdump's `ip6_finddst`), else `dst`.
    pub(super) ck_dst: &'a [u8],
    /// IPv6 with extension headers before UDP or TCP: tcpdump prints their ports without the
    /// addresses (it printed the addresses before the first extension header).
    pub(super) ports_only: bool,
    pub(super) v6: bool,
    pub(super) fragmented: bool,
    /// The IPv4 TTL or the IPv6 hop limit.
    pub(super) ttl: u8,
}

impl IpCtx<'_> {
    pub(super) fn pseudo(&self, proto: u8, len: usize) -> u32 {
        let len = len as u32;
        if self.v6 {
            let mut s = [0u8; 16];
            let mut d = [0u8; 16];
            s.copy_from_slice(self.src);
            d.copy_from_slice(self.ck_dst);
            checksum::pseudo_v6(s, d, proto, len)
        } else {
            let mut s = [0u8; 4];
            let mut d = [0u8; 4];
            s.copy_from_slice(self.src);
            d.copy_from_slice(self.dst);
            checksum::pseudo_v4(s, d, proto, len)
        }
    }
}

pub(crate) struct Printer<'r> {
    pub out: &'r mut Vec<u8>,
    pub opts: &'r RenderOptions,
    pub tcp: &'r mut TcpSeqTable,
    /// Skip the SLL2 interface/direction columns (the caller prints its own prefix).
    pub sll2_prefix: bool,
}

impl Printer<'_> {
    pub(super) fn transport(&mut self, proto: u8, b: &[u8], len: usize, ip: IpCtx<'_>) {
        match proto {
            ipproto::TCP => self.tcp(b, len, ip),
            ipproto::UDP => self.udp(b, len, ip),
            ipproto::ICMP if !ip.v6 => self.icmp(b, len, ip),
            ipproto::ICMPV6 if ip.v6 => self.icmp6(b, len, ip),
            ipproto::IGMP => self.igmp(b, len),
            ipproto::GRE => self.gre(b, len),
            vrrp::PROTO => self.vrrp(b, len, ip),
            sctp::PROTO => self.sctp(b, len, ip),
            // IP in IP (IPIP, SIT, IP6IP6): the inner packet's own line after the outer
            // addresses, as tcpdump prints it.
            ipproto::IPIP => self.ipv4(b),
            ipproto::IPV6 => self.ipv6(b),
            ipproto::NONE if ip.v6 => {
                self.out.s("no next header");
            }
            p => {
                self.out.s(" ip-proto-");
                self.out.n(p);
                self.out.c(b' ');
                self.out.n(len);
            }
        }
    }
}

//! Packet views over bytes, in the style of smoltcp's `wire` module.
//!
//! Each view is a `Packet<T: AsRef<[u8]>>` (or a protocol-named struct) wrapping a buffer
//! without copying. A `mod field` names every fixed field's byte range once, and the checked
//! constructor (`new_checked`) validates the length a view needs, so accessors never panic.
//! Variable parts (options, payloads) are returned as slices clipped to the buffer.
//!
//! ```
//! use formats::wire::udp::UdpPacket;
//! let bytes = [0x30, 0x39, 0x00, 0x35, 0x00, 0x09, 0x00, 0x00, b'x'];
//! let udp = UdpPacket::new_checked(&bytes[..]).unwrap();
//! assert_eq!((udp.src_port(), udp.dst_port(), udp.len()), (12345, 53, 9));
//! assert_eq!(udp.payload(), b"x");
//! ```

pub mod arp;
pub mod checksum;
pub mod dns;
pub mod ethernet;
pub mod flow;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod sll;
pub mod tcp;
pub mod udp;

use core::fmt;

/// A view could not be made: the buffer is shorter than the fixed header, or a length field
/// is impossible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated;

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("truncated packet")
    }
}

impl std::error::Error for Truncated {}

/// A byte range of a fixed field.
pub type Field = core::ops::Range<usize>;

#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads a big-endian u16 at `at` if the slice is long enough.
#[inline]
pub fn get_be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Reads a big-endian u32 at `at` if the slice is long enough.
#[inline]
pub fn get_be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// EtherType values we dispatch on.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    pub const IPV6: u16 = 0x86dd;
    /// Transparent Ethernet bridging: an Ethernet frame inside GRE or Geneve.
    pub const TEB: u16 = 0x6558;
}

/// IP protocol numbers we dispatch on.
pub mod ipproto {
    pub const HOPOPTS: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const IGMP: u8 = 2;
    /// IPv4 in IP.
    pub const IPIP: u8 = 4;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const DCCP: u8 = 33;
    /// IPv6 in IP (SIT, IP6IP6).
    pub const IPV6: u8 = 41;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const GRE: u8 = 47;
    pub const ICMPV6: u8 = 58;
    pub const NONE: u8 = 59;
    pub const DSTOPTS: u8 = 60;
    /// Mobile IPv6's mobility header, its early number and RFC 6275's.
    pub const MOBILITY_OLD: u8 = 62;
    pub const SCTP: u8 = 132;
    pub const MOBILITY: u8 = 135;
}

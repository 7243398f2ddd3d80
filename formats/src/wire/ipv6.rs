//! IPv6 headers (RFC 8200) and the extension headers we walk.

use super::{be16, be32, ipproto, Truncated};

mod field {
    use crate::wire::Field;
    pub const VER_TC_FLOW: Field = 0..4;
    pub const PAYLOAD_LEN: Field = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Field = 8..24;
    pub const DST: Field = 24..40;
    pub const HEADER_LEN: usize = 40;
}

#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub const HEADER_LEN: usize = field::HEADER_LEN;

    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        if buffer.as_ref().len() < field::HEADER_LEN {
            return Err(Truncated);
        }
        Ok(Ipv6Packet { buffer })
    }
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }
    pub fn traffic_class(&self) -> u8 {
        ((be32(self.buffer.as_ref(), field::VER_TC_FLOW.start) >> 20) & 0xff) as u8
    }
    pub fn flow_label(&self) -> u32 {
        be32(self.buffer.as_ref(), field::VER_TC_FLOW.start) & 0x000f_ffff
    }
    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PAYLOAD_LEN.start)
    }
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }
    pub fn src(&self) -> [u8; 16] {
        self.buffer.as_ref()[field::SRC]
            .try_into()
            .unwrap_or([0; 16])
    }
    pub fn dst(&self) -> [u8; 16] {
        self.buffer.as_ref()[field::DST]
            .try_into()
            .unwrap_or([0; 16])
    }
    /// Everything after the fixed header, clipped to the payload length.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = (field::HEADER_LEN + usize::from(self.payload_len())).min(b.len());
        &b[field::HEADER_LEN..end]
    }
}

/// True for the extension headers we walk past.
pub fn is_extension(next: u8) -> bool {
    matches!(
        next,
        ipproto::HOPOPTS | ipproto::ROUTING | ipproto::FRAGMENT | ipproto::DSTOPTS
    )
}

/// A generic extension header view (hop-by-hop, routing, destination options, fragment).
#[derive(Debug, Clone, Copy)]
pub struct ExtHeader<'a> {
    pub kind: u8,
    bytes: &'a [u8],
}

impl<'a> ExtHeader<'a> {
    /// Parses the extension header of type `kind` at the start of `bytes`.
    pub fn parse(kind: u8, bytes: &'a [u8]) -> Result<Self, Truncated> {
        if bytes.len() < 8 {
            return Err(Truncated);
        }
        let len = if kind == ipproto::FRAGMENT {
            8
        } else {
            (usize::from(bytes[1]) + 1) * 8
        };
        let bytes = bytes.get(..len).ok_or(Truncated)?;
        Ok(ExtHeader { kind, bytes })
    }
    pub fn next_header(&self) -> u8 {
        self.bytes[0]
    }
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// Options area of hop-by-hop and destination options headers.
    pub fn options(&self) -> &'a [u8] {
        &self.bytes[2..]
    }
    /// Fragment header: offset in bytes.
    pub fn frag_offset(&self) -> u32 {
        u32::from(be16(self.bytes, 2) & 0xfff8)
    }
    pub fn frag_more(&self) -> bool {
        be16(self.bytes, 2) & 1 != 0
    }
    pub fn frag_ident(&self) -> u32 {
        be32(self.bytes, 4)
    }
    /// Routing header: type and segments left.
    pub fn routing_type(&self) -> u8 {
        self.bytes[2]
    }
    pub fn segments_left(&self) -> u8 {
        self.bytes[3]
    }
}

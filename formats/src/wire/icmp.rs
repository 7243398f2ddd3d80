//! ICMP (RFC 792) and ICMPv6 (RFC 4443, 4861) message headers: type, code, checksum and the
//! 4-byte rest-of-header word; bodies are read by the caller with bounds checks.

use super::{be16, be32, Truncated};

mod field {
    use crate::wire::Field;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const REST: Field = 4..8;
    pub const HEADER_LEN: usize = 8;
}

pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

/// A view shared by ICMPv4 and ICMPv6 (their first 8 bytes have the same shape).
#[derive(Debug, Clone, Copy)]
pub struct IcmpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IcmpPacket<T> {
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        if buffer.as_ref().len() < field::HEADER_LEN {
            return Err(Truncated);
        }
        Ok(IcmpPacket { buffer })
    }
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM.start)
    }
    /// Echo identifier (first half of the rest-of-header word).
    pub fn echo_ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::REST.start)
    }
    /// Echo sequence number.
    pub fn echo_seq(&self) -> u16 {
        be16(self.buffer.as_ref(), field::REST.start + 2)
    }
    pub fn rest(&self) -> u32 {
        be32(self.buffer.as_ref(), field::REST.start)
    }
    /// Bytes after the 8-byte header.
    pub fn body(&self) -> &[u8] {
        &self.buffer.as_ref()[field::HEADER_LEN..]
    }
}

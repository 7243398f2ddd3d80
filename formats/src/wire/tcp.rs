//! TCP headers (RFC 9293) and their options.

use super::{be16, be32, Truncated};

mod field {
    use crate::wire::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ: Field = 4..8;
    pub const ACK: Field = 8..12;
    pub const DATA_OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
    pub const HEADER_LEN: usize = 20;
}

pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

#[derive(Debug, Clone, Copy)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Checks the fixed 20-byte header; options and payload are clipped to what is present.
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        if buffer.as_ref().len() < field::HEADER_LEN {
            return Err(Truncated);
        }
        Ok(TcpPacket { buffer })
    }
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT.start)
    }
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT.start)
    }
    pub fn seq(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ.start)
    }
    pub fn ack(&self) -> u32 {
        be32(self.buffer.as_ref(), field::ACK.start)
    }
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::DATA_OFF] >> 4) * 4
    }
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }
    pub fn window(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WINDOW.start)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM.start)
    }
    pub fn urgent(&self) -> u16 {
        be16(self.buffer.as_ref(), field::URGENT.start)
    }
    /// Option bytes, `None` when the header length is invalid or cut short.
    pub fn options(&self) -> Option<&[u8]> {
        let hl = self.header_len();
        if hl < field::HEADER_LEN {
            return None;
        }
        self.buffer.as_ref().get(field::HEADER_LEN..hl)
    }
    /// Payload as captured (empty when the header is cut short).
    pub fn payload(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(self.header_len().max(20)..)
            .unwrap_or(&[])
    }
}

/// One TCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    End,
    Nop,
    /// Any option with a length byte: kind and the bytes after kind and length.
    Other(u8, &'a [u8]),
    /// An option whose length byte is invalid or runs past the header.
    Bad(u8),
}

/// Iterates TCP options; stops after `End` or a bad option.
pub struct TcpOptions<'a> {
    bytes: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        TcpOptions { bytes }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = TcpOption<'a>;
    fn next(&mut self) -> Option<TcpOption<'a>> {
        let (&kind, rest) = self.bytes.split_first()?;
        match kind {
            0 => {
                self.bytes = rest;
                Some(TcpOption::End)
            }
            1 => {
                self.bytes = rest;
                Some(TcpOption::Nop)
            }
            _ => {
                let len = rest.first().copied().map(usize::from);
                match len {
                    Some(l) if l >= 2 && l <= self.bytes.len() => {
                        let data = &self.bytes[2..l];
                        self.bytes = &self.bytes[l..];
                        Some(TcpOption::Other(kind, data))
                    }
                    _ => {
                        self.bytes = &[];
                        Some(TcpOption::Bad(kind))
                    }
                }
            }
        }
    }
}

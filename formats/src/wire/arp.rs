//! ARP (RFC 826) over any hardware and protocol address size.

use super::{be16, Truncated};

mod field {
    use crate::wire::Field;
    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const HEADER_LEN: usize = 8;
}

#[derive(Debug, Clone, Copy)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Checks the fixed header only; address accessors return `None` when cut short.
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        if buffer.as_ref().len() < field::HEADER_LEN {
            return Err(Truncated);
        }
        Ok(ArpPacket { buffer })
    }
    pub fn htype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HTYPE.start)
    }
    pub fn ptype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PTYPE.start)
    }
    pub fn hlen(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::HLEN])
    }
    pub fn plen(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::PLEN])
    }
    pub fn oper(&self) -> u16 {
        be16(self.buffer.as_ref(), field::OPER.start)
    }
    fn part(&self, idx: usize) -> Option<&[u8]> {
        let (h, p) = (self.hlen(), self.plen());
        let start = field::HEADER_LEN
            + match idx {
                0 => 0,
                1 => h,
                2 => h + p,
                _ => 2 * h + p,
            };
        let len = if idx % 2 == 0 { h } else { p };
        self.buffer.as_ref().get(start..start + len)
    }
    pub fn sender_hw(&self) -> Option<&[u8]> {
        self.part(0)
    }
    pub fn sender_proto(&self) -> Option<&[u8]> {
        self.part(1)
    }
    pub fn target_hw(&self) -> Option<&[u8]> {
        self.part(2)
    }
    pub fn target_proto(&self) -> Option<&[u8]> {
        self.part(3)
    }
}

//! Ethernet II frames, with 802.1Q / 802.1ad tags skipped over.

use super::{be16, ethertype, Field, Truncated};

mod field {
    use super::Field;
    pub const DST: Field = 0..6;
    pub const SRC: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const HEADER_LEN: usize = 14;
}

/// A view of an Ethernet frame.
#[derive(Debug, Clone, Copy)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        if buffer.as_ref().len() < field::HEADER_LEN {
            return Err(Truncated);
        }
        Ok(EthernetFrame { buffer })
    }

    pub fn dst(&self) -> [u8; 6] {
        self.buffer.as_ref()[field::DST]
            .try_into()
            .unwrap_or([0; 6])
    }

    pub fn src(&self) -> [u8; 6] {
        self.buffer.as_ref()[field::SRC]
            .try_into()
            .unwrap_or([0; 6])
    }

    /// The outer EtherType (may be a VLAN TPID).
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ETHERTYPE.start)
    }

    /// The EtherType after any VLAN tags and the offset where its payload starts.
    /// `None` when a tag is cut short.
    pub fn inner(&self) -> Option<(u16, usize)> {
        let b = self.buffer.as_ref();
        let mut ty = self.ethertype();
        let mut off = field::HEADER_LEN;
        while ty == ethertype::VLAN || ty == ethertype::QINQ {
            if b.len() < off + 4 {
                return None;
            }
            ty = be16(b, off + 2);
            off += 4;
        }
        Some((ty, off))
    }
}

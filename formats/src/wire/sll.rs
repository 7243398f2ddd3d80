//! Linux "cooked" capture headers: LINUX_SLL (16 bytes) and LINUX_SLL2 (20 bytes).

use super::{be16, be32, Truncated};

/// `sll_pkttype` values.
pub mod pkttype {
    pub const HOST: u8 = 0;
    pub const BROADCAST: u8 = 1;
    pub const MULTICAST: u8 = 2;
    pub const OTHERHOST: u8 = 3;
    pub const OUTGOING: u8 = 4;
}

mod field {
    use crate::wire::Field;
    // LINUX_SLL
    pub const V1_PKTTYPE: Field = 0..2;
    pub const V1_HATYPE: Field = 2..4;
    pub const V1_ADDR_LEN: Field = 4..6;
    pub const V1_ADDR: Field = 6..14;
    pub const V1_PROTOCOL: Field = 14..16;
    pub const V1_LEN: usize = 16;
    // LINUX_SLL2
    pub const V2_PROTOCOL: Field = 0..2;
    pub const V2_IFINDEX: Field = 4..8;
    pub const V2_HATYPE: Field = 8..10;
    pub const V2_PKTTYPE: usize = 10;
    pub const V2_ADDR_LEN: usize = 11;
    pub const V2_ADDR: Field = 12..20;
    pub const V2_LEN: usize = 20;
}

/// A LINUX_SLL (v1) header view.
#[derive(Debug, Clone, Copy)]
pub struct SllPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> SllPacket<T> {
    pub const HEADER_LEN: usize = field::V1_LEN;

    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        if buffer.as_ref().len() < field::V1_LEN {
            return Err(Truncated);
        }
        Ok(SllPacket { buffer })
    }
    pub fn pkttype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::V1_PKTTYPE.start)
    }
    pub fn hatype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::V1_HATYPE.start)
    }
    pub fn addr(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let n = usize::from(be16(b, field::V1_ADDR_LEN.start)).min(8);
        &b[field::V1_ADDR][..n]
    }
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), field::V1_PROTOCOL.start)
    }
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::V1_LEN..]
    }
}

/// A LINUX_SLL2 header view: protocol u16, reserved u16, ifindex u32, ARPHRD u16, pkttype u8,
/// address length u8, address (8 bytes), all big-endian.
#[derive(Debug, Clone, Copy)]
pub struct Sll2Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Sll2Packet<T> {
    pub const HEADER_LEN: usize = field::V2_LEN;

    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        if buffer.as_ref().len() < field::V2_LEN {
            return Err(Truncated);
        }
        Ok(Sll2Packet { buffer })
    }
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), field::V2_PROTOCOL.start)
    }
    pub fn ifindex(&self) -> u32 {
        be32(self.buffer.as_ref(), field::V2_IFINDEX.start)
    }
    pub fn hatype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::V2_HATYPE.start)
    }
    pub fn pkttype(&self) -> u8 {
        self.buffer.as_ref()[field::V2_PKTTYPE]
    }
    pub fn addr(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let n = usize::from(b[field::V2_ADDR_LEN]).min(8);
        &b[field::V2_ADDR][..n]
    }
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::V2_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sll2_fields() {
        let mut b = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        b.push(0x45);
        let p = Sll2Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.protocol(), 0x0800);
        assert_eq!(p.ifindex(), 7);
        assert_eq!(p.hatype(), 1);
        assert_eq!(p.pkttype(), pkttype::OUTGOING);
        assert_eq!(p.addr(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(p.payload(), &[0x45]);
        assert!(Sll2Packet::new_checked(&b[..19]).is_err());
    }
}

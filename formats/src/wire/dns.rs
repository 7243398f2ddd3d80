//! DNS messages (RFC 1035): the header, and walking (possibly compressed) names.

use super::{be16, Truncated};

mod field {
    use crate::wire::Field;
    pub const ID: Field = 0..2;
    pub const FLAGS: Field = 2..4;
    pub const QDCOUNT: Field = 4..6;
    pub const ANCOUNT: Field = 6..8;
    pub const NSCOUNT: Field = 8..10;
    pub const ARCOUNT: Field = 10..12;
    pub const HEADER_LEN: usize = 12;
}

#[derive(Debug, Clone, Copy)]
pub struct DnsPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> DnsPacket<T> {
    pub const HEADER_LEN: usize = field::HEADER_LEN;

    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        if buffer.as_ref().len() < field::HEADER_LEN {
            return Err(Truncated);
        }
        Ok(DnsPacket { buffer })
    }
    pub fn id(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ID.start)
    }
    pub fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLAGS.start)
    }
    pub fn is_response(&self) -> bool {
        self.flags() & 0x8000 != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags() >> 11) & 0xf) as u8
    }
    pub fn rcode(&self) -> u8 {
        (self.flags() & 0xf) as u8
    }
    pub fn qdcount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::QDCOUNT.start)
    }
    pub fn ancount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ANCOUNT.start)
    }
    pub fn nscount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::NSCOUNT.start)
    }
    pub fn arcount(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ARCOUNT.start)
    }
}

/// What ended a name walk early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The message ends inside the name.
    Truncated,
    /// A compression pointer that does not point strictly backwards.
    BadPointer,
    /// A label type other than a plain label or a pointer (e.g. EDNS0 extended labels).
    BadLabel(u8),
}

/// Walks the name at `start` in `msg`, calling `label` for each label (the root gives none).
/// Returns the offset just past the name as it is stored at `start` (after the first pointer,
/// if any). Pointers must point strictly backwards, so the walk always ends.
pub fn walk_name(
    msg: &[u8],
    start: usize,
    mut label: impl FnMut(&[u8]),
) -> Result<usize, NameError> {
    let mut pos = start;
    let mut end: Option<usize> = None;
    let mut limit = start;
    loop {
        let len = *msg.get(pos).ok_or(NameError::Truncated)?;
        match len & 0xc0 {
            0xc0 => {
                let lo = *msg.get(pos + 1).ok_or(NameError::Truncated)?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, lo]));
                if target >= limit {
                    return Err(NameError::BadPointer);
                }
                end.get_or_insert(pos + 2);
                limit = target;
                pos = target;
            }
            0x00 => {
                if len == 0 {
                    return Ok(end.unwrap_or(pos + 1));
                }
                let l = usize::from(len);
                let bytes = msg.get(pos + 1..pos + 1 + l).ok_or(NameError::Truncated)?;
                label(bytes);
                pos += 1 + l;
            }
            _ => return Err(NameError::BadLabel(len)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_names_and_loops() {
        let mut msg = vec![0u8; 12];
        msg.extend_from_slice(b"\x07example\x03com\x00");
        msg.extend_from_slice(b"\x03www\xc0\x0c");
        let mut labels = Vec::new();
        let end = walk_name(&msg, 25, |l| labels.push(l.to_vec())).unwrap();
        assert_eq!(end, 31);
        assert_eq!(
            labels,
            vec![b"www".to_vec(), b"example".to_vec(), b"com".to_vec()]
        );
        // A pointer to itself is rejected.
        let looped = [0u8, 0, 0xc0, 2];
        assert_eq!(walk_name(&looped, 2, |_| {}), Err(NameError::BadPointer));
        assert_eq!(walk_name(&looped, 4, |_| {}), Err(NameError::Truncated));
    }
}

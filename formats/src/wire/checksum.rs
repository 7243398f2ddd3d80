//! The Internet checksum (RFC 1071) and the pseudo-headers of TCP, UDP and ICMPv6.

/// Adds `data` to a running one's-complement sum (not yet folded).
pub fn sum(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

/// Folds a running sum to 16 bits and complements it.
pub fn finish(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Sum of an IPv4 pseudo-header.
pub fn pseudo_v4(src: [u8; 4], dst: [u8; 4], proto: u8, len: u32) -> u32 {
    let mut acc = sum(0, &src);
    acc = sum(acc, &dst);
    acc + u32::from(proto) + (len & 0xffff) + (len >> 16)
}

/// Sum of an IPv6 pseudo-header.
pub fn pseudo_v6(src: [u8; 16], dst: [u8; 16], next: u8, len: u32) -> u32 {
    let mut acc = sum(0, &src);
    acc = sum(acc, &dst);
    acc + u32::from(next) + (len & 0xffff) + (len >> 16)
}

/// The checksum the segment should carry, as tcpdump prints it after "incorrect ->": the
/// stored value (at `field`) plus the checksum computed over everything, in one's complement
/// (tcpdump's `in_cksum_shouldbe`). It differs from summing with the field taken as zero only
/// in how zero is written: 0xffff where the stored value is not zero.
pub fn expected(pseudo: u32, data: &[u8], field: usize) -> u16 {
    let stored = data
        .get(field..field + 2)
        .map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])))
        .unwrap_or(0);
    let mut v = stored + u32::from(finish(sum(pseudo, data)));
    v = (v & 0xffff) + (v >> 16);
    v = (v & 0xffff) + (v >> 16);
    v as u16
}

/// True when `data` (checksum included) sums to all ones.
pub fn verify(pseudo: u32, data: &[u8]) -> bool {
    finish(sum(pseudo, data)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum() {
        let hdr = [
            0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8,
            0, 0xc7,
        ];
        assert!(verify(0, &hdr));
        assert_eq!(expected(0, &hdr, 10), 0xb861);
    }

    #[test]
    fn a_zero_that_should_be_is_written_as_tcpdump_writes_it() {
        // The rest sums to 0xffff, so the right checksum is zero; tcpdump says 0xffff (seen on
        // an offloaded IPv6 TCP segment whose field held the partial sum 0xfd8a).
        assert_eq!(expected(0, &[0xff, 0xff, 0xfd, 0x8a], 2), 0xffff);
        assert_eq!(expected(0, &[0x12, 0x34, 0x00, 0x00], 2), 0xedcb);
    }
}

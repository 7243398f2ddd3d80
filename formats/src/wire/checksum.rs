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

/// The checksum the segment should carry: `data` summed with its checksum field (at
/// `field`) taken as zero.
pub fn expected(pseudo: u32, data: &[u8], field: usize) -> u16 {
    let acc = sum(pseudo, data);
    let stored = data
        .get(field..field + 2)
        .map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])))
        .unwrap_or(0);
    // Remove the stored value: adding its one's complement subtracts it.
    finish(acc + (0xffff - stored))
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
}

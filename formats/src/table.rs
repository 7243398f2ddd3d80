//! [`EarlyGrowth`]: bounded, churned `HashMap`s take their final size while they fill, not
//! hours later.
//!
//! A table whose size stays put while its entries come and go (the bounded tables of a live
//! capture under process or connection churn: processes, sockets, flows, a file's entities)
//! turns its free slots into tombstones, one per removal. When none is left, std's `HashMap`
//! (hashbrown) rehashes in place if at most half its capacity is in use, and doubles
//! otherwise. So a table whose steady size lies between one half and seven eighths of its
//! capacity doubles only after many times its size in churn: a one-time step of resident
//! memory long after the capture's start (the process-churn soak, `bench/churn_rss.sh`, saw
//! the socket table double after 150,000 clients and the process tables after 40,000).
//! Growing a table as soon as it is more than half full moves that step to the moment it first
//! reaches its size; from then on it only rehashes in place. Same final size, reached during
//! warm-up; a table that never churns is at most twice the size it would have had.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

/// A `HashMap` keyed by numbers the program itself makes or the kernel gives (pids, socket
/// cookies, ifindexes, entity ids, addresses of live `Arc`s), hashed with [`IdHash`].
pub type IdMap<K, V> = HashMap<K, V, IdHash>;

/// A cheap hash for the per-packet tables of a live capture (a few multiplications per key
/// instead of SipHash's rounds, which were a quarter of ptcap's CPU under a packet flood).
/// Not for keys an outsider chooses (addresses and ports from the network): it gives no
/// protection against crafted collisions, which SipHash (std's `RandomState`) does.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHash;

impl BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

/// The state of one [`IdHash`] hashing.
#[derive(Debug, Clone, Copy)]
pub struct IdHasher(u64);

/// 2^64 / φ, odd: multiplying by it spreads consecutive numbers over the whole word.
const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

impl IdHasher {
    #[inline]
    fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(26) ^ v).wrapping_mul(SPREAD);
    }
}

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // hashbrown takes its bucket from the low bits and its tag from the top 7: fold the
        // well-mixed high half into the low one.
        self.0 ^ (self.0 >> 29)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.mix(v as u64);
    }
    #[inline]
    fn write_u16(&mut self, v: u16) {
        self.mix(v as u64);
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.mix(v as u64);
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }
}

/// The growth state of one `HashMap`: call [`EarlyGrowth::check`] after inserting into it.
#[derive(Debug, Default, Clone, Copy)]
pub struct EarlyGrowth {
    /// The table's capacity as last seen right after it grew (its `capacity()` only shrinks
    /// from there, as tombstones take free slots).
    capacity: usize,
}

impl EarlyGrowth {
    /// Doubles `map` when more than half of its capacity is in use.
    pub fn check<K: Eq + Hash, V, S: BuildHasher>(&mut self, map: &mut HashMap<K, V, S>) {
        self.capacity = self.capacity.max(map.capacity());
        if map.len() > self.capacity / 2 {
            // More than the capacity it has: hashbrown doubles it.
            map.reserve(self.capacity + 1 - map.len());
            self.capacity = map.capacity();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Consecutive ids and 8-aligned addresses spread over the buckets (no pile-up in the low
    /// bits hashbrown indexes by).
    #[test]
    fn id_hash_spreads_ids_and_pointers() {
        for step in [1u64, 8, 64, 4096] {
            let mut buckets = [0u32; 256];
            for i in 0..25_600u64 {
                let mut h = IdHash.build_hasher();
                h.write_u64(0x5555_0000_0000 + i * step);
                buckets[(h.finish() & 255) as usize] += 1;
            }
            let max = *buckets.iter().max().unwrap();
            assert!(
                max < 200,
                "step {step}: a bucket got {max} of 25600 (100 expected)"
            );
        }
        let mut m: IdMap<u32, u32> = IdMap::default();
        for i in 0..1000 {
            m.insert(i, i * 2);
        }
        assert_eq!(m.get(&500), Some(&1000));
    }

    /// A table of steady size under churn, 60% of its capacity: without early growth it
    /// doubles late; with it, at once, and never again.
    #[test]
    fn grows_while_filling_then_never() {
        let steady = 600u64;
        let mut plain: HashMap<u64, u64> = HashMap::with_capacity(steady as usize);
        let first = plain.capacity();
        let mut late = None;
        for k in 0..100 * steady {
            plain.insert(k, k);
            if k >= steady {
                plain.remove(&(k - steady));
            }
            if late.is_none() && plain.capacity() > first {
                late = Some(k);
            }
        }
        assert!(late.unwrap() > 2 * steady, "{late:?}");

        let mut m: HashMap<u64, u64> = HashMap::new();
        let mut g = EarlyGrowth::default();
        let mut at_steady = 0;
        for k in 0..100 * steady {
            m.insert(k, k);
            g.check(&mut m);
            if k >= steady {
                m.remove(&(k - steady));
            }
            if k == steady {
                at_steady = g.capacity;
            }
            assert!(m.len() <= g.capacity / 2 + 1);
        }
        assert_eq!(g.capacity, at_steady, "grew after it was full");
        assert!(at_steady >= 2 * steady as usize);
    }
}

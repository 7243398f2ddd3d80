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
use std::hash::{BuildHasher, Hash};

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

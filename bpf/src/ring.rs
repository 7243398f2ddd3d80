//! Our own consumer of the BPF ring buffer (`BPF_MAP_TYPE_RINGBUF`), in place of libbpf's.
//!
//! libbpf's `ring_buffer__consume` publishes its consumer position after every record: a store
//! to the one cache line the producing program reads for every packet (`bpf_ringbuf_output`
//! checks it for room, `bpf_ringbuf_query` for the wake-up threshold). With the producer on the
//! other core that line moves between the cores twice per packet, a miss on each side. This
//! consumer publishes its position once per batch (and every [`PUBLISH_EVERY`] bytes inside a
//! long one: the producer's room and wake-up test read it), and prefetches the
//! next record while the current one is handled: the records were written by another core and
//! are not in this one's cache.
//!
//! The layout is the kernel's (kernel/bpf/ringbuf.c, and libbpf's ringbuf.c reads it the same
//! way): page 0, the consumer position, mapped read-write; page 1, the producer position, and
//! from page 2 the data area, mapped twice in a row so that a record crossing the end is
//! contiguous, mapped read-only. Each record starts with an 8-byte header, a `u32` length with
//! a busy bit (being written) and a discard bit, then the record, padded to 8 bytes.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::{Error, ErrorKind};

const BUSY_BIT: u32 = 1 << 31;
const DISCARD_BIT: u32 = 1 << 30;
const HEADER: u64 = 8;
/// Inside one batch the consumer position is published at least this often, in bytes. Well
/// below the programs' wake-up threshold (`PTCAP_WAKEUP_BYTES`, 256 KiB, events.h): while
/// what the ring holds by the published position stays above it, every packet the programs
/// write forces a wake-up (an `irq_work` each, paid by the sender); at 1 MiB the sender's rate
/// with `-i any` fell by 5-10%.
pub const PUBLISH_EVERY: u64 = 64 << 10;

/// A mapped BPF ring buffer, consumed by [`Ring::consume`].
pub struct Ring {
    fd: OwnedFd,
    consumer: *mut u8,
    producer: *const u8,
    page: usize,
    /// Data area size (a power of two).
    size: u64,
    /// [`PUBLISH_EVERY`], or an eighth of a smaller ring.
    publish_every: u64,
}

// SAFETY: the mappings belong to this value alone; the kernel side only writes the producer
// position and the records, read here with acquire loads.
unsafe impl Send for Ring {}

impl Ring {
    /// Maps the ring buffer map `map_fd` (duplicated: the ring owns its own descriptor) whose
    /// data area is `size` bytes (the map's `max_entries`, a power of two).
    pub fn new(map_fd: BorrowedFd<'_>, size: u64) -> Result<Ring, Error> {
        let err = |what: &str, e: io::Error| {
            Error::new(
                ErrorKind::Map,
                format!("mapping the ring buffer ({what}): {e}"),
            )
        };
        if !size.is_power_of_two() || size > (1 << 40) {
            return Err(Error::new(
                ErrorKind::Map,
                format!("ring buffer size {size} is not a power of two"),
            ));
        }
        let fd = map_fd
            .try_clone_to_owned()
            .map_err(|e| err("duplicating its descriptor", e))?;
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        // SAFETY: a fresh shared mapping of the map's consumer page; checked below.
        let consumer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if consumer == libc::MAP_FAILED {
            return Err(err("consumer page", io::Error::last_os_error()));
        }
        let len = page + 2 * size as usize;
        // SAFETY: as above, the producer page and the doubly mapped data area.
        let producer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                page as libc::off_t,
            )
        };
        if producer == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            // SAFETY: the mapping made above, unused.
            unsafe { libc::munmap(consumer, page) };
            return Err(err("producer page and data", e));
        }
        Ok(Ring {
            fd,
            consumer: consumer.cast(),
            producer: producer.cast(),
            page,
            size,
            publish_every: PUBLISH_EVERY.min(size / 8),
        })
    }

    /// The data area's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The descriptor to poll (readable when records are waiting and the kernel woke us).
    pub fn fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    fn consumer_pos(&self) -> &AtomicU64 {
        // SAFETY: the consumer page is mapped, page-aligned, and its first 8 bytes are the
        // position; it lives as long as self.
        unsafe { &*(self.consumer as *const AtomicU64) }
    }

    fn producer_pos(&self) -> &AtomicU64 {
        // SAFETY: as above, for the producer page.
        unsafe { &*(self.producer as *const AtomicU64) }
    }

    fn data(&self) -> *const u8 {
        // SAFETY: the data area starts one page after the producer page, within the mapping.
        unsafe { self.producer.add(self.page) }
    }

    /// Hands every complete record waiting in the ring to `f`, in order, until the ring is
    /// empty (records written meanwhile included) or a record is still being written; the
    /// number handed over. Discarded records are skipped.
    pub fn consume(&mut self, f: impl FnMut(&[u8])) -> usize {
        self.consume_up_to(u64::MAX, f).0
    }

    /// As [`Ring::consume`], but once the records the ring held at the call are handed over,
    /// records written meanwhile only while fewer than `more_bytes` bytes have been read past
    /// those (0: just the ring as it was at the call). A producer as fast as the reader would
    /// otherwise keep one call going for as long as it sends, and the reader's other duties
    /// (flushing, counters, signals) would wait for the end of the flood. The number handed
    /// over, and whether complete or pending records remain.
    pub fn consume_up_to(&mut self, more_bytes: u64, mut f: impl FnMut(&[u8])) -> (usize, bool) {
        let mask = self.size - 1;
        let data = self.data();
        let mut n = 0;
        let mut cons = self.consumer_pos().load(Ordering::Acquire);
        let mut published = cons;
        let mut prod = self.producer_pos().load(Ordering::Acquire);
        let limit = prod.saturating_add(more_bytes);
        loop {
            if cons >= prod {
                break;
            }
            while cons < prod {
                // SAFETY: cons & mask is inside the first copy of the data area, and the
                // header is 8-byte aligned there; the kernel writes it with a release store.
                let header = unsafe { &*(data.add((cons & mask) as usize) as *const AtomicU32) };
                let len = header.load(Ordering::Acquire);
                if len & BUSY_BIT != 0 {
                    // Reserved, not yet committed: later records wait for it (the kernel
                    // commits out of order, the consumer reads in order).
                    self.publish(cons, &mut published, 0);
                    return (n, true);
                }
                let body = (len & !(BUSY_BIT | DISCARD_BIT)) as u64;
                let next = cons + ((body + HEADER + 7) & !7);
                // The next record's header and first bytes, written on the other core; only
                // well behind the producer (a line it may still be writing would be taken
                // from it, a miss on its side).
                if next + 256 <= prod {
                    prefetch(data.wrapping_add((next & mask) as usize));
                    prefetch(data.wrapping_add(((next & mask) + 64) as usize));
                }
                if len & DISCARD_BIT == 0 && body <= self.size {
                    // SAFETY: the record is committed (not busy) and lies within the double
                    // mapping (offset < size, length <= size); it is not released to the
                    // producer before f returns.
                    let rec = unsafe {
                        std::slice::from_raw_parts(
                            data.add(((cons & mask) + HEADER) as usize),
                            body as usize,
                        )
                    };
                    f(rec);
                    n += 1;
                }
                cons = next;
                self.publish(cons, &mut published, self.publish_every);
            }
            if cons >= limit {
                break;
            }
            prod = self.producer_pos().load(Ordering::Acquire);
        }
        self.publish(cons, &mut published, 0);
        (n, self.producer_pos().load(Ordering::Acquire) > cons)
    }

    /// Publishes `cons` when it is at least `every` bytes past the last published position.
    fn publish(&self, cons: u64, published: &mut u64, every: u64) {
        if cons > *published && cons - *published >= every {
            self.consumer_pos().store(cons, Ordering::Release);
            *published = cons;
        }
    }
}

#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p.cast(), std::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: the two mappings made in new, with their lengths.
        unsafe {
            libc::munmap(self.consumer.cast(), self.page);
            libc::munmap(
                self.producer as *mut libc::c_void,
                self.page + 2 * self.size as usize,
            );
        }
    }
}

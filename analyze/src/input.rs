//! The bytes of one input: a memory-mapped file, or standard input spooled to an unlinked
//! temporary file and mapped (so memory stays bounded however much a pipe sends).
//!
//! A mapped file that shrinks while it is read (another tool rewrites it, a ring file being
//! overwritten) would kill the process with SIGBUS at the first byte past its new end. Mapped
//! inputs are therefore *watched* ([`watch`]): a SIGBUS handler that finds the faulting
//! address in one of them maps zero pages over the rest of that mapping (so the faulting
//! read completes) and records how far the file's bytes are still valid ([`Input::limit`]).
//! Readers compare what they read against that limit, refreshed with `fstat`
//! ([`Input::check_size`]), after they read it, and stop with "the file shrank while being
//! read" before the first packet that is not entirely below it.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

enum Bytes {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

pub struct Input {
    bytes: Bytes,
    /// The mapped file, for `fstat`.
    file: Option<File>,
    /// This input's entry in the SIGBUS handler's table (mapped inputs, once watched).
    slot: Option<&'static Slot>,
}

impl Input {
    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Map(m) => m,
            Bytes::Owned(b) => b,
        }
    }

    /// Bytes `0..limit` read as the file's bytes; `u64::MAX` while the file has not shrunk.
    /// An atomic load: cheap enough per packet.
    pub fn limit(&self) -> u64 {
        self.slot
            .map_or(u64::MAX, |s| s.limit.load(Ordering::SeqCst))
    }

    /// [`Input::limit`] after comparing the file's current size (`fstat`) with the mapped
    /// length. Growth (a capture still being written) changes nothing: only the mapped bytes
    /// are read.
    pub fn check_size(&self) -> u64 {
        if let (Some(slot), Some(f)) = (self.slot, &self.file) {
            let len = self.bytes().len() as u64;
            if let Ok(m) = f.metadata() {
                if m.len() < len {
                    slot.limit.fetch_min(m.len(), Ordering::SeqCst);
                }
            }
        }
        self.limit()
    }

    /// The mapped length.
    pub fn len(&self) -> u64 {
        self.bytes().len() as u64
    }

    /// Tells the kernel this process is done with bytes `start..end` of a mapped input, so
    /// they leave the resident set (they stay in the page cache; a later read faults them
    /// back in). Keeps RSS bounded by the chunks in flight, not by the file size.
    pub fn release(&self, start: u64, end: u64) {
        const PAGE: u64 = 4096;
        if let Bytes::Map(m) = &self.bytes {
            let from = start.div_ceil(PAGE) * PAGE;
            let to = (end / PAGE * PAGE).min(m.len() as u64);
            if to > from {
                // SAFETY: a read-only mapping of a file: dropping its pages never changes what
                // the bytes read as (they are read again from the file), so slices borrowed
                // from the map stay valid.
                let _ = unsafe {
                    m.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        from as usize,
                        (to - from) as usize,
                    )
                };
            }
        }
    }
}

fn map(file: File) -> io::Result<Input> {
    if file.metadata()?.len() == 0 {
        return Ok(owned(Vec::new()));
    }
    // SAFETY: the map is read-only. A file truncated by another process while we read it
    // would raise SIGBUS; `watch` turns that into zero pages and a recorded limit, which every
    // reader checks (see the module documentation).
    match unsafe { memmap2::Mmap::map(&file) } {
        Ok(m) => Ok(Input {
            bytes: Bytes::Map(m),
            file: Some(file),
            slot: None,
        }),
        Err(_) => {
            // Not mappable (a FIFO, /dev/stdin): read it instead.
            let mut buf = Vec::new();
            let mut file = file;
            file.read_to_end(&mut buf)?;
            Ok(owned(buf))
        }
    }
}

fn owned(buf: Vec<u8>) -> Input {
    Input {
        bytes: Bytes::Owned(buf),
        file: None,
        slot: None,
    }
}

/// Opens `name`; `-` is standard input.
pub fn open(name: &str) -> io::Result<Input> {
    if name == "-" {
        return spool_stdin();
    }
    map(File::open(name)?)
}

fn spool_stdin() -> io::Result<Input> {
    let dir = std::env::temp_dir();
    for attempt in 0..100u32 {
        let path = dir.join(format!(".ptanalyze-stdin-{}-{attempt}", std::process::id()));
        let mut file = match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(_) => break,
        };
        let _ = std::fs::remove_file(&path);
        io::copy(&mut io::stdin().lock(), &mut file)?;
        return map(file);
    }
    // No writable temporary directory: hold it in memory.
    let mut buf = Vec::new();
    io::stdin().lock().read_to_end(&mut buf)?;
    Ok(owned(buf))
}

/// One watched mapping, as the SIGBUS handler sees it.
pub struct Slot {
    base: usize,
    len: usize,
    fd: i32,
    limit: AtomicU64,
}

/// The watched mappings: a leaked table, set once before reading starts and emptied by
/// [`Watch`]'s drop before the mappings go away. The handler only reads it.
static SLOTS: AtomicPtr<Slot> = AtomicPtr::new(std::ptr::null_mut());
static SLOT_COUNT: AtomicUsize = AtomicUsize::new(0);

/// The handler that was installed before ours (Rust's own stack-overflow handler), called for
/// faults outside the watched mappings.
struct Previous(libc::sigaction);
// SAFETY: plain data written once before the handler can run, then only read.
unsafe impl Sync for Previous {}
unsafe impl Send for Previous {}
static PREVIOUS: OnceLock<Previous> = OnceLock::new();

/// Cleanup to run before a fatal signal takes the process: the temporary files being written
/// (`-w`, `-o`, the parts of `--partition-by`), one slot each.
#[allow(clippy::declare_interior_mutable_const)]
pub static ON_FATAL: [AtomicPtr<libc::c_char>; FATAL_SLOTS] = {
    const EMPTY: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
    [EMPTY; FATAL_SLOTS]
};

/// Temporary files that can be open at once with their removal armed (more are still
/// removed on errors, but not on a signal).
pub const FATAL_SLOTS: usize = 72;

/// Keeps the inputs watched; dropping it (before the inputs) ends the watch.
pub struct Watch(());

impl Drop for Watch {
    fn drop(&mut self) {
        SLOT_COUNT.store(0, Ordering::SeqCst);
    }
}

/// Watches every mapped input for shrinking (see the module documentation). Call once, with
/// all inputs open, before reading; keep the returned guard until the inputs are dropped.
pub fn watch(inputs: &mut [Input]) -> Watch {
    let slots: Vec<Slot> = inputs
        .iter()
        .filter_map(|i| match (&i.bytes, &i.file) {
            (Bytes::Map(m), Some(f)) => Some(Slot {
                base: m.as_ptr() as usize,
                len: m.len(),
                fd: f.as_raw_fd(),
                limit: AtomicU64::new(u64::MAX),
            }),
            _ => None,
        })
        .collect();
    let count = slots.len();
    let table: &'static [Slot] = Box::leak(slots.into_boxed_slice());
    let mut next = table.iter();
    for i in inputs.iter_mut() {
        if matches!((&i.bytes, &i.file), (Bytes::Map(_), Some(_))) {
            i.slot = next.next();
        }
    }
    SLOTS.store(table.as_ptr() as *mut Slot, Ordering::SeqCst);
    SLOT_COUNT.store(count, Ordering::SeqCst);
    install_handler();
    Watch(())
}

fn install_handler() {
    PREVIOUS.get_or_init(|| {
        // SAFETY: installing a handler with a valid function and flags; the old action is
        // kept to pass on faults that are not ours.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_sigbus as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut act.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGBUS, &act, &mut old);
            Previous(old)
        }
    });
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: only async-signal-safe calls (fstat, mmap, unlink, sigaction, raise) on memory
    // that stays valid while the watch is on (the table is leaked, never freed).
    unsafe {
        let addr = (*info).si_addr() as usize;
        let count = SLOT_COUNT.load(Ordering::SeqCst);
        let table = SLOTS.load(Ordering::SeqCst);
        if count > 0 && !table.is_null() {
            let slots = std::slice::from_raw_parts(table, count);
            for s in slots {
                if addr < s.base || addr >= s.base + s.len {
                    continue;
                }
                let page_size = libc::sysconf(libc::_SC_PAGESIZE).max(4096) as usize;
                let page = addr & !(page_size - 1);
                let mut st: libc::stat = std::mem::zeroed();
                let mut valid = (page - s.base) as u64;
                if libc::fstat(s.fd, &mut st) == 0 {
                    valid = valid.min(st.st_size.max(0) as u64);
                }
                s.limit.fetch_min(valid, Ordering::SeqCst);
                // Zero pages from the faulting page to the end of the mapping: the read that
                // faulted completes, and what it reads is past the limit, so it is dropped.
                let p = libc::mmap(
                    page as *mut libc::c_void,
                    s.base + s.len - page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                );
                if p != libc::MAP_FAILED {
                    return;
                }
            }
        }
        fatal_cleanup();
        match PREVIOUS.get() {
            Some(Previous(old))
                if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN =>
            {
                if old.sa_flags & libc::SA_SIGINFO != 0 {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                        std::mem::transmute(old.sa_sigaction);
                    f(sig, info, ctx);
                } else {
                    let f: extern "C" fn(libc::c_int) = std::mem::transmute(old.sa_sigaction);
                    f(sig);
                }
            }
            _ => {
                // Not ours and nobody else's: the default action (the fault repeats and
                // ends the process).
                libc::signal(libc::SIGBUS, libc::SIG_DFL);
            }
        }
    }
}

/// Removes the -w temporary file, if any (async-signal-safe).
pub fn fatal_cleanup() {
    for slot in &ON_FATAL {
        let p = slot.swap(std::ptr::null_mut(), Ordering::SeqCst);
        if !p.is_null() {
            // SAFETY: a NUL-terminated path leaked by the output module.
            unsafe {
                libc::unlink(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_that_shrinks_under_the_map_reads_as_zeros_past_a_recorded_limit() {
        let path = std::env::temp_dir().join(format!("ptanalyze-shrink-{}", std::process::id()));
        let mut f = File::create(&path).unwrap();
        f.write_all(&vec![0xabu8; 1 << 20]).unwrap();
        drop(f);
        let mut inputs = vec![open(path.to_str().unwrap()).unwrap()];
        let _watch = watch(&mut inputs);
        assert_eq!(inputs[0].check_size(), u64::MAX);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(100_000)
            .unwrap();
        let bytes = inputs[0].bytes();
        // Past the new end: without the watch, SIGBUS.
        let far = std::hint::black_box(&bytes[600_000..600_016]);
        assert!(far.iter().all(|&b| b == 0));
        assert_eq!(inputs[0].limit(), 100_000);
        assert_eq!(bytes[99_999], 0xab);
        assert_eq!(inputs[0].check_size(), 100_000);
        drop(inputs);
        let _ = std::fs::remove_file(&path);
    }
}

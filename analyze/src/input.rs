//! The bytes of one input: a memory-mapped file, or standard input spooled to an unlinked
//! temporary file and mapped (so memory stays bounded however much a pipe sends).

use std::fs::File;
use std::io::{self, Read};

pub enum Input {
    Map(memmap2::Mmap),
    Bytes(Vec<u8>),
}

impl Input {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Input::Map(m) => m,
            Input::Bytes(b) => b,
        }
    }
}

impl Input {
    /// Tells the kernel this process is done with bytes `start..end` of a mapped input, so
    /// they leave the resident set (they stay in the page cache; a later read faults them
    /// back in). Keeps RSS bounded by the chunks in flight, not by the file size.
    pub fn release(&self, start: u64, end: u64) {
        const PAGE: u64 = 4096;
        if let Input::Map(m) = self {
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
        return Ok(Input::Bytes(Vec::new()));
    }
    // SAFETY: the map is read-only; a file truncated by another process while we read it can
    // raise SIGBUS, the accepted risk of mapping a capture (tcpdump reads with stdio).
    match unsafe { memmap2::Mmap::map(&file) } {
        Ok(m) => Ok(Input::Map(m)),
        Err(_) => {
            // Not mappable (a FIFO, /dev/stdin): read it instead.
            let mut buf = Vec::new();
            let mut file = file;
            file.read_to_end(&mut buf)?;
            Ok(Input::Bytes(buf))
        }
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
    Ok(Input::Bytes(buf))
}

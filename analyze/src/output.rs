//! Where `-w` goes, and that it never costs the user a file.
//!
//! - An output that is one of the inputs (the same device and inode: through symlinks, hard
//!   links and `/dev/fd/N`) is refused before anything is opened for writing.
//! - A regular file is written under a temporary name in its directory
//!   (`.NAME.ptanalyze-PID.tmp`) and renamed over `NAME` at the end, so a crash never leaves a
//!   half-written file under the final name. The temporary file is removed on a write error,
//!   on SIGINT/SIGTERM/SIGHUP/SIGQUIT, on a fatal fault and when nothing is worth writing;
//!   only SIGKILL can leave it behind. An existing file's permissions (and owner, where
//!   allowed) carry over; its other hard links keep the old contents.
//! - `-w -`, devices, FIFOs and paths under /dev and /proc are written directly (streaming
//!   is their point), and so is an existing file in a directory we may not create files in.

use std::ffi::CString;
use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::input::{fatal_cleanup, ON_FATAL};

/// (device, inode) of a regular file: what "the same file" means here.
pub fn identity(m: &fs::Metadata) -> Option<(u64, u64)> {
    m.is_file().then(|| (m.dev(), m.ino()))
}

/// The identity of an input or output name (`-`: the standard stream `fd`), following
/// symlinks; `None` when it is not an existing regular file.
pub fn identity_of(name: &str, fd: i32) -> Option<(u64, u64)> {
    if name == "-" {
        // SAFETY: fstat on a descriptor number into a zeroed struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return None;
        }
        return ((st.st_mode & libc::S_IFMT) == libc::S_IFREG)
            .then_some((st.st_dev as u64, st.st_ino as u64));
    }
    fs::metadata(name).ok().as_ref().and_then(identity)
}

/// An output file being written: committed (renamed into place) or removed.
pub struct OutFile {
    /// The temporary name, while there is one.
    temp: Option<PathBuf>,
    target: PathBuf,
    /// The slot of [`ON_FATAL`] that removes `temp` on a fatal signal.
    slot: Option<usize>,
}

impl OutFile {
    /// Opens `path` for writing as described in the module documentation.
    pub fn create(path: &str) -> io::Result<(File, OutFile)> {
        let given = Path::new(path);
        if path.starts_with("/dev/") || path.starts_with("/proc/") {
            return Ok((File::create(given)?, OutFile::direct(given)));
        }
        let target = resolve(given);
        let existing = fs::metadata(&target).ok();
        if let Some(m) = &existing {
            if !m.is_file() {
                // A FIFO, a device, a socket (or a directory, which fails here).
                return Ok((File::create(&target)?, OutFile::direct(&target)));
            }
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let mode = existing.as_ref().map_or(0o666, |m| m.mode() & 0o7777);
        let mut attempt = 0u32;
        let (file, temp, slot) = loop {
            let name = if attempt == 0 {
                format!(".{base}.ptanalyze-{}.tmp", std::process::id())
            } else {
                format!(".{base}.ptanalyze-{}-{attempt}.tmp", std::process::id())
            };
            let temp = dir.join(name);
            // Armed before the file exists: a signal right after its creation removes it.
            let slot = arm(&temp);
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&temp)
            {
                Ok(f) => break (f, temp, slot),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                    disarm(slot);
                    attempt += 1
                }
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied && existing.is_some() => {
                    // A file we may write in a directory we may not: written in place, as
                    // before (refusing would be worse than the risk the rename avoids).
                    disarm(slot);
                    return Ok((File::create(&target)?, OutFile::direct(&target)));
                }
                Err(e) => {
                    disarm(slot);
                    return Err(e);
                }
            }
        };
        if let Some(m) = &existing {
            // The umask applied at creation; the existing file's mode and owner carry over.
            let _ = file.set_permissions(m.permissions());
            let _ = std::os::unix::fs::fchown(&file, Some(m.uid()), Some(m.gid()));
        }
        Ok((
            file,
            OutFile {
                temp: Some(temp),
                target,
                slot,
            },
        ))
    }

    fn direct(target: &Path) -> OutFile {
        OutFile {
            temp: None,
            target: target.to_path_buf(),
            slot: None,
        }
    }

    /// Puts the finished file in place.
    pub fn commit(mut self) -> io::Result<()> {
        if let Some(temp) = self.temp.take() {
            // Renamed before the signal cleanup is disarmed: a signal in between unlinks a
            // name that no longer exists.
            let renamed = fs::rename(&temp, &self.target);
            if renamed.is_err() {
                let _ = fs::remove_file(&temp);
            }
            disarm(self.slot.take());
            renamed?;
        }
        Ok(())
    }

    /// Gives up the output: the temporary file is removed (a direct output stays as written).
    pub fn discard(mut self) {
        self.remove();
    }

    /// Whether the output goes through a temporary file.
    pub fn is_staged(&self) -> bool {
        self.temp.is_some()
    }

    fn remove(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
            disarm(self.slot.take());
        }
    }
}

impl Drop for OutFile {
    /// Not committed (an early return, a panic): nothing under the final name.
    fn drop(&mut self) {
        self.remove();
    }
}

/// The file a path names: symlinks followed (a dangling one to where it points), so the
/// temporary file is made next to the real file and the rename replaces it, not the link.
fn resolve(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => match fs::read_link(&p) {
                Ok(to) if to.is_absolute() => p = to,
                Ok(to) => {
                    p = p.parent().map(|d| d.join(&to)).unwrap_or(to);
                }
                Err(_) => break,
            },
            _ => break,
        }
    }
    p
}

const FATAL: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Registers the temporary file for removal on a fatal signal, and the handlers that do it:
/// the slot it took (`None`: all are taken, or the path has a NUL).
fn arm(temp: &Path) -> Option<usize> {
    let c = CString::new(temp.as_os_str().as_bytes()).ok()?;
    let raw = c.into_raw();
    let slot = ON_FATAL.iter().position(|s| {
        s.compare_exchange(
            std::ptr::null_mut(),
            raw,
            Ordering::SeqCst,
            Ordering::SeqCst,
        )
        .is_ok()
    });
    if slot.is_none() {
        // SAFETY: made by CString::into_raw above, not shared.
        drop(unsafe { CString::from_raw(raw) });
        return None;
    }
    for sig in FATAL {
        // SAFETY: a valid handler for a catchable signal.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_fatal as *const () as usize;
            libc::sigemptyset(&mut act.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, &act, &mut old);
            if old.sa_sigaction == libc::SIG_IGN {
                // Ignored by whoever started us (nohup): leave it ignored.
                libc::sigaction(sig, &old, std::ptr::null_mut());
            }
        }
    }
    slot
}

fn disarm(slot: Option<usize>) {
    let Some(slot) = slot else {
        return;
    };
    let p = ON_FATAL[slot].swap(std::ptr::null_mut(), Ordering::SeqCst);
    if !p.is_null() {
        // SAFETY: made by CString::into_raw in `arm`.
        drop(unsafe { CString::from_raw(p) });
    }
}

extern "C" fn on_fatal(sig: libc::c_int) {
    fatal_cleanup();
    // SAFETY: back to the default action and raised again: the process ends by this signal,
    // as it would have without us.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

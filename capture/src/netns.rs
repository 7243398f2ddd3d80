//! The network namespaces a capture covers (`--netns`, repeatable; none: ptcap's own).
//!
//! The capture's thread lives in the first one (sockets it makes belong there, as with one
//! `--netns`); what must happen in another (listing and attaching its interfaces, its
//! netlink and ctnetlink sockets) runs [`Namespaces::within`] it, a setns(2) there and back.
//! Namespace `n`'s interfaces are keyed `ifindex | n << 24` (`bpf::netns_key`) in the BPF
//! tables, the events and the output, and named `LABEL:NAME` when there are several
//! namespaces (`node1:eth0`), so two namespaces' `eth0` stay apart in the file and the text.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

use crate::netwatch::LinkWatcher;
use crate::session::CaptureError;

/// One captured network namespace.
pub struct Netns {
    /// How the user named it (`--netns`); empty for ptcap's own.
    pub label: String,
    file: File,
    /// SO_NETNS_COOKIE (the socket hooks' and the IDB descriptions' name for it).
    pub cookie: u64,
    /// The inode number of its nsfs file (the drop program's name for it).
    pub inode: u64,
    /// RTM_NEWLINK/RTM_DELLINK of its interfaces.
    pub watcher: LinkWatcher,
}

pub struct Namespaces {
    list: Vec<Netns>,
}

/// `--netns NAME|PATH`: a name is one of `ip netns`'s (/var/run/netns/NAME).
pub fn netns_path(n: &str) -> String {
    if n.contains('/') {
        n.to_string()
    } else {
        format!("/var/run/netns/{n}")
    }
}

fn setns(f: &File, path: &str) -> Result<(), CaptureError> {
    // SAFETY: plain syscall on an open namespace file.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(CaptureError(format!(
            "--netns {path}: entering the network namespace: {}",
            io::Error::last_os_error()
        )));
    }
    Ok(())
}

fn open_ns(path: &str) -> Result<File, CaptureError> {
    File::open(path).map_err(|e| {
        CaptureError(format!(
            "--netns {path}: {e} (a name under /var/run/netns, or /proc/PID/ns/net)"
        ))
    })
}

/// The inode number of this thread's network namespace.
fn current_inode() -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/thread-self/ns/net").map_or(0, |m| m.ino())
}

impl Namespaces {
    /// Opens the namespaces of `args` (none: the thread's own) and moves the calling thread
    /// into the first. The same namespace given twice (by two names) is one namespace.
    pub fn open(args: &[String]) -> Result<Namespaces, CaptureError> {
        let mut files: Vec<(String, String, File)> = Vec::new();
        if args.is_empty() {
            let own = "/proc/thread-self/ns/net".to_string();
            files.push((String::new(), own.clone(), open_ns(&own)?));
        }
        for a in args {
            let path = netns_path(a);
            files.push((a.clone(), path.clone(), open_ns(&path)?));
        }
        if files.len() > bpf::MAX_NETNS {
            return Err(CaptureError(format!(
                "--netns: {} network namespaces; one capture covers at most {}",
                files.len(),
                bpf::MAX_NETNS
            )));
        }
        let mut list: Vec<Netns> = Vec::new();
        for (label, path, file) in files {
            setns(&file, &path)?;
            let inode = current_inode();
            if list.iter().any(|n| n.inode == inode) {
                continue;
            }
            let watcher = LinkWatcher::open()
                .map_err(|e| CaptureError(format!("netlink socket in {path}: {e}")))?;
            list.push(Netns {
                label,
                file,
                cookie: crate::iface::netns_cookie().unwrap_or(0),
                inode,
                watcher,
            });
        }
        // Home: the first.
        setns(&list[0].file, &list[0].label)?;
        Ok(Namespaces { list })
    }

    pub fn get(&self, no: usize) -> &Netns {
        &self.list[no]
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, &Netns)> {
        self.list.iter().enumerate()
    }

    pub fn watcher_mut(&mut self, no: usize) -> &mut LinkWatcher {
        &mut self.list[no].watcher
    }

    /// Runs `f` with the calling thread in namespace `no`, then back in the first. A setns
    /// that fails (the namespace cannot go away while its file is open) leaves `f` unrun.
    pub fn within<T>(&self, no: usize, f: impl FnOnce() -> T) -> Option<T> {
        if no == 0 {
            return Some(f());
        }
        let n = self.list.get(no)?;
        setns(&n.file, &n.label).ok()?;
        let r = f();
        // Back home; a failure here would leave sockets made later in the wrong namespace.
        if setns(&self.list[0].file, &self.list[0].label).is_err() {
            eprintln!("ptcap: cannot return to the capture's network namespace; stopping");
            std::process::exit(2);
        }
        Some(r)
    }

    /// The key of interface `ifindex` of namespace `no` (None: the ifindex is too large to
    /// share the key space with other namespaces).
    pub fn key(&self, no: usize, ifindex: u32) -> Option<u32> {
        if self.list.len() == 1 {
            return Some(ifindex);
        }
        // Beside other namespaces even namespace 0's ifindex must stay below the bits.
        if ifindex >= 1 << bpf::NETNS_SHIFT {
            return None;
        }
        bpf::netns_key(no, ifindex)
    }

    /// (namespace number, ifindex) of an interface key.
    pub fn split(&self, key: u32) -> (usize, u32) {
        bpf::split_key(key, self.list.len())
    }

    /// The interface's name in the capture: `LABEL:NAME` with several namespaces.
    pub fn display(&self, no: usize, name: &str) -> String {
        if self.list.len() == 1 {
            return name.to_string();
        }
        format!("{}:{name}", self.list[no].label)
    }

    /// An interface's own name from its name in the capture ([`Self::display`]).
    pub fn real_name<'a>(&self, no: usize, display: &'a str) -> &'a str {
        if self.list.len() == 1 {
            return display;
        }
        display
            .strip_prefix(self.list[no].label.as_str())
            .and_then(|r| r.strip_prefix(':'))
            .unwrap_or(display)
    }

    /// The namespaces' inode numbers, in their numbering (for the drop program).
    pub fn inodes(&self) -> Vec<u64> {
        self.list.iter().map(|n| n.inode).collect()
    }

    /// The namespaces' cookies, in their numbering (for attribution).
    pub fn cookies(&self) -> Vec<u64> {
        self.list.iter().map(|n| n.cookie).collect()
    }

    /// `-i` names: `LABEL:NAME` is that namespace's NAME; a plain NAME is every namespace's
    /// interface of that name. Returns (namespace number, interface name) pairs.
    pub fn resolve_name(&self, name: &str) -> Vec<(usize, String)> {
        if self.list.len() > 1 {
            if let Some((label, ifname)) = name.rsplit_once(':') {
                if let Some(no) = self.list.iter().position(|n| n.label == label) {
                    return vec![(no, ifname.to_string())];
                }
            }
        }
        (0..self.list.len())
            .map(|no| (no, name.to_string()))
            .collect()
    }
}

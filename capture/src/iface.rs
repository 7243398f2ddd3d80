//! The network interfaces of the current network namespace.
//!
//! Listed with if_nameindex(3) and ioctls on a socket, not /sys/class/net: /sys shows the
//! namespace of whoever mounted it, so it is wrong under `nsenter --net` (ptcap's tests run it
//! that way) while a socket always belongs to the caller's namespace.

use std::ffi::{CStr, CString};
use std::io;

/// An interface as `-D` lists it and the capture attaches to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetInterface {
    pub index: u32,
    pub name: String,
    /// Device type (ARPHRD_*), what /sys/class/net/IF/type says.
    pub arphrd: u16,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
}

struct Socket(libc::c_int);

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.0) };
    }
}

fn socket() -> io::Result<Socket> {
    // SAFETY: plain syscall.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Socket(fd))
}

fn ifreq_for(name: &str) -> libc::ifreq {
    // SAFETY: ifreq is plain data; all-zero is valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req
        .ifr_name
        .iter_mut()
        .zip(name.bytes().take(libc::IFNAMSIZ - 1))
    {
        *dst = src as libc::c_char;
    }
    req
}

fn describe(sock: &Socket, index: u32, name: &str) -> io::Result<NetInterface> {
    let mut req = ifreq_for(name);
    // SAFETY: valid socket and ifreq.
    if unsafe { libc::ioctl(sock.0, libc::SIOCGIFHWADDR, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFHWADDR filled ifru_hwaddr.
    let arphrd = unsafe { req.ifr_ifru.ifru_hwaddr.sa_family };
    let mut req = ifreq_for(name);
    // SAFETY: as above.
    if unsafe { libc::ioctl(sock.0, libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFFLAGS filled ifru_flags.
    let flags = unsafe { req.ifr_ifru.ifru_flags } as libc::c_int;
    Ok(NetInterface {
        index,
        name: name.to_string(),
        arphrd,
        up: flags & libc::IFF_UP != 0,
        running: flags & libc::IFF_RUNNING != 0,
        loopback: flags & libc::IFF_LOOPBACK != 0,
    })
}

/// Every interface of the current network namespace, by index.
pub fn list() -> io::Result<Vec<NetInterface>> {
    let sock = socket()?;
    // SAFETY: if_nameindex returns an array ended by a zero entry, freed below.
    let head = unsafe { libc::if_nameindex() };
    if head.is_null() {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut p = head;
    loop {
        // SAFETY: p stays within the array until the terminating entry.
        let entry = unsafe { &*p };
        if entry.if_index == 0 || entry.if_name.is_null() {
            break;
        }
        // SAFETY: if_name is a NUL-terminated string owned by the array.
        let name = unsafe { CStr::from_ptr(entry.if_name) }
            .to_string_lossy()
            .into_owned();
        // An interface can vanish between the two calls; skip it then.
        if let Ok(i) = describe(&sock, entry.if_index, &name) {
            out.push(i);
        }
        p = p.wrapping_add(1);
    }
    // SAFETY: head came from if_nameindex.
    unsafe { libc::if_freenameindex(head) };
    out.sort_by_key(|i| i.index);
    Ok(out)
}

/// One interface by name.
pub fn by_name(name: &str) -> io::Result<NetInterface> {
    let c = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::ENODEV))?;
    // SAFETY: valid C string.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index == 0 {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    describe(&socket()?, index, name)
}

/// The network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14+): the same for every packet
/// of the interfaces we attach to, so it is read once here, not per packet in the kernel.
pub fn netns_cookie() -> Option<u64> {
    const SO_NETNS_COOKIE: libc::c_int = 71;
    let sock = socket().ok()?;
    let mut cookie: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: valid socket and buffer.
    let rc = unsafe {
        libc::getsockopt(
            sock.0,
            libc::SOL_SOCKET,
            SO_NETNS_COOKIE,
            &mut cookie as *mut u64 as *mut _,
            &mut len,
        )
    };
    (rc == 0).then_some(cookie)
}

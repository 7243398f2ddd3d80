//! `-Z USER`: give up root once everything that needs it is open (the BPF object, the
//! attachments, the first output file), like tcpdump: supplementary groups, then the group,
//! then the user. Files opened later (rotation) are created as that user.

use std::ffi::{CStr, CString};

/// A user from the password database.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (getgrouplist), resolved before any fork so a child can use them.
    pub groups: Vec<libc::gid_t>,
}

fn by(name: Option<&CStr>, uid: Option<u32>) -> Result<Option<User>, String> {
    // SAFETY: passwd is plain data; getpwnam_r/getpwuid_r fill it and point into buf.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let mut buf = vec![0 as libc::c_char; 16384];
    let rc = unsafe {
        match (name, uid) {
            (Some(n), _) => libc::getpwnam_r(
                n.as_ptr(),
                &mut pw,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            ),
            (None, Some(u)) => {
                libc::getpwuid_r(u, &mut pw, buf.as_mut_ptr(), buf.len(), &mut result)
            }
            _ => return Ok(None),
        }
    };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc).to_string());
    }
    if result.is_null() {
        return Ok(None);
    }
    // SAFETY: pw_name points into buf, NUL-terminated.
    let pname = unsafe { CStr::from_ptr(pw.pw_name) }.to_owned();
    let mut groups: Vec<libc::gid_t> = vec![0; 256];
    let mut n: libc::c_int = groups.len() as libc::c_int;
    // SAFETY: valid name, buffer and count.
    if unsafe { libc::getgrouplist(pname.as_ptr(), pw.pw_gid, groups.as_mut_ptr(), &mut n) } < 0 {
        groups.resize(n.max(0) as usize, 0);
        // SAFETY: as above with the size the first call asked for.
        unsafe { libc::getgrouplist(pname.as_ptr(), pw.pw_gid, groups.as_mut_ptr(), &mut n) };
    }
    groups.truncate(n.max(0) as usize);
    Ok(Some(User {
        name: pname.to_string_lossy().into_owned(),
        uid: pw.pw_uid,
        gid: pw.pw_gid,
        groups,
    }))
}

/// Looks a user up by name (or number).
pub fn lookup(name: &str) -> Result<User, String> {
    let c = CString::new(name).map_err(|_| format!("-Z {name}: invalid user name"))?;
    if let Some(u) = by(Some(&c), None)? {
        return Ok(u);
    }
    if let Ok(uid) = name.parse::<u32>() {
        if let Some(u) = by(None, Some(uid))? {
            return Ok(u);
        }
    }
    Err(format!("-Z {name}: no such user"))
}

/// The user who ran `sudo ptcap`, if any (SUDO_UID).
pub fn sudo_user() -> Option<User> {
    let uid: u32 = std::env::var("SUDO_UID").ok()?.parse().ok()?;
    by(None, Some(uid)).ok().flatten()
}

/// setgroups, setgid, setuid; checks that root cannot be regained.
pub fn drop_to(u: &User) -> Result<(), String> {
    // SAFETY: plain syscalls with valid arguments.
    unsafe {
        if libc::setgroups(u.groups.len(), u.groups.as_ptr()) != 0 {
            return Err(format!(
                "-Z {}: setgroups: {}",
                u.name,
                std::io::Error::last_os_error()
            ));
        }
        if libc::setgid(u.gid) != 0 {
            return Err(format!(
                "-Z {}: setgid: {}",
                u.name,
                std::io::Error::last_os_error()
            ));
        }
        if libc::setuid(u.uid) != 0 {
            return Err(format!(
                "-Z {}: setuid: {}",
                u.name,
                std::io::Error::last_os_error()
            ));
        }
        if u.uid != 0 && libc::setuid(0) == 0 {
            return Err(format!(
                "-Z {}: could regain root after dropping privileges",
                u.name
            ));
        }
    }
    Ok(())
}

//! `ptcap [OPTIONS] -- CMD [ARGS]`: run a command and capture its traffic.
//!
//! The child is forked, then waits on a pipe before it execs: the parent learns its pid at
//! once, puts it into the process selection, and only then lets it run, so the first packets
//! of a short-lived program are already selected. (std's `Command::spawn` cannot do this: it
//! returns only after the exec.) A second close-on-exec pipe reports a failed exec.
//! The child drops to the given user (`-Z`, or the user behind sudo) before it execs.

use std::ffi::CString;
use std::io;

use crate::privdrop::User;

pub struct Child {
    pub pid: libc::pid_t,
    go: Option<libc::c_int>,
    err: libc::c_int,
    pub status: Option<i32>,
}

fn pipe() -> io::Result<(libc::c_int, libc::c_int)> {
    let mut fds = [0; 2];
    // SAFETY: valid array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((fds[0], fds[1]))
}

/// Forks the child, stopped before its exec until [`Child::release`].
pub fn spawn(argv: &[String], user: Option<&User>) -> Result<Child, String> {
    let prog = argv.first().ok_or("no command after --")?;
    let cargs: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| format!("{prog}: argument contains NUL")))
        .collect::<Result<_, _>>()?;
    let mut ptrs: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let (go_r, go_w) = pipe().map_err(|e| format!("pipe: {e}"))?;
    let (err_r, err_w) = pipe().map_err(|e| format!("pipe: {e}"))?;
    let ids = user.map(|u| (u.uid, u.gid, u.groups.clone()));
    // SAFETY: the child only makes async-signal-safe calls (read, setgroups, setgid,
    // setuid, execvp, write, _exit) on memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", io::Error::last_os_error()));
    }
    if pid == 0 {
        unsafe {
            libc::close(go_w);
            libc::close(err_r);
            // Default signal dispositions for the command (ptcap catches INT/TERM/HUP).
            for sig in [
                libc::SIGINT,
                libc::SIGTERM,
                libc::SIGHUP,
                libc::SIGCHLD,
                libc::SIGPIPE,
            ] {
                libc::signal(sig, libc::SIG_DFL);
            }
            let mut b = [0u8; 1];
            while libc::read(go_r, b.as_mut_ptr() as *mut libc::c_void, 1) < 0 {}
            if b[0] != b'g' {
                libc::_exit(127);
            }
            let fail = |step: i32| {
                let e = *libc::__errno_location();
                let msg = [step, e];
                libc::write(err_w, msg.as_ptr() as *const libc::c_void, 8);
                libc::_exit(127);
            };
            if let Some((uid, gid, groups)) = &ids {
                if libc::setgroups(groups.len(), groups.as_ptr()) != 0 {
                    fail(1);
                }
                if libc::setgid(*gid) != 0 {
                    fail(2);
                }
                if libc::setuid(*uid) != 0 {
                    fail(3);
                }
            }
            libc::execvp(ptrs[0], ptrs.as_ptr());
            fail(4);
            libc::_exit(127);
        }
    }
    // SAFETY: closing our copies of the child's ends.
    unsafe {
        libc::close(go_r);
        libc::close(err_w);
    }
    Ok(Child {
        pid,
        go: Some(go_w),
        err: err_r,
        status: None,
    })
}

impl Child {
    /// Lets the child exec; returns the exec error if there was one.
    pub fn release(&mut self, prog: &str) -> Result<(), String> {
        if let Some(go) = self.go.take() {
            // SAFETY: our descriptors.
            unsafe {
                libc::write(go, b"g".as_ptr() as *const libc::c_void, 1);
                libc::close(go);
            }
        }
        let mut msg = [0i32; 2];
        let n = loop {
            // SAFETY: valid buffer; EOF once the exec closed the pipe.
            let n = unsafe { libc::read(self.err, msg.as_mut_ptr() as *mut libc::c_void, 8) };
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            break n;
        };
        // SAFETY: our descriptor.
        unsafe { libc::close(self.err) };
        self.err = -1;
        if n == 8 {
            let _ = self.wait(true);
            let what = match msg[0] {
                1 => "setgroups",
                2 => "setgid",
                3 => "setuid",
                _ => "exec",
            };
            let e = io::Error::from_raw_os_error(msg[1]);
            return Err(if what == "exec" {
                format!("{prog}: {e}")
            } else {
                format!("{prog}: {what}: {e}")
            });
        }
        Ok(())
    }

    /// Reaps the child if it exited; its exit code as a shell reports it (128+signal).
    pub fn wait(&mut self, block: bool) -> Option<i32> {
        if self.status.is_some() {
            return self.status;
        }
        let mut st = 0;
        // SAFETY: our child.
        let rc = unsafe { libc::waitpid(self.pid, &mut st, if block { 0 } else { libc::WNOHANG }) };
        if rc == self.pid {
            let code = if libc::WIFEXITED(st) {
                libc::WEXITSTATUS(st)
            } else if libc::WIFSIGNALED(st) {
                128 + libc::WTERMSIG(st)
            } else {
                return None;
            };
            self.status = Some(code);
        }
        self.status
    }

    /// Asks a still-running child to stop (SIGTERM), then reaps it.
    pub fn terminate(&mut self) -> Option<i32> {
        if self.wait(false).is_none() {
            // SAFETY: signal to our own, unreaped child.
            unsafe { libc::kill(self.pid, libc::SIGTERM) };
            return self.wait(true);
        }
        self.status
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(go) = self.go.take() {
            // SAFETY: closing without the go byte makes the waiting child exit.
            unsafe { libc::close(go) };
        }
        if self.err >= 0 {
            // SAFETY: our descriptor.
            unsafe { libc::close(self.err) };
        }
    }
}

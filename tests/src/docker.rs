//! A private Docker daemon for the end-to-end tests: `dockerd` with its own data-root,
//! exec-root, pidfile, config file and API socket under a directory the test owns (and so its own
//! managed containerd, whose socket is under the exec-root), optionally started inside a network
//! namespace (`nsenter --net`: its bridge, iptables rules and sysctls then land there), and a
//! busybox image made locally from busybox-static (`docker import` of a rootfs; nothing is
//! pulled).
//!
//! The guard ([`Dockerd`]'s `Drop`, panics included) removes the containers it ran
//! (`docker rm -f`), stops dockerd by its pid (SIGTERM, SIGKILL after 15 s; dockerd stops its
//! containerd), and lazily unmounts whatever is still mounted under the directory (the data-root
//! bind mount, container network namespaces) when dockerd did not get to it. The directory
//! itself is the caller's ([`crate::TempDir`]), declared before the guard so it is removed after.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The busybox binary (Debian's busybox-static), if installed.
pub fn busybox() -> Option<&'static str> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Whether `bin` is on PATH.
pub fn have(bin: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What is missing to run a private dockerd with busybox containers (empty: nothing).
pub fn missing() -> Vec<&'static str> {
    let mut v: Vec<&str> = [
        "dockerd",
        "docker",
        "containerd",
        "containerd-shim-runc-v2",
        "runc",
    ]
    .into_iter()
    .filter(|b| !have(b))
    .collect();
    if busybox().is_none() {
        v.push("busybox (busybox-static)");
    }
    v
}

/// A busybox rootfs under `dir/rootfs`: /bin/busybox, one symlink per applet in `applets`
/// (plus sh), and /www/index.html with `index` for httpd.
pub fn busybox_rootfs(dir: &Path, applets: &[&str], index: &str) -> PathBuf {
    let root = dir.join("rootfs");
    for d in ["bin", "etc", "tmp", "proc", "sys", "dev", "www"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("www/index.html"), index).unwrap();
    std::fs::copy(busybox().expect("busybox-static"), root.join("bin/busybox")).unwrap();
    for a in std::iter::once(&"sh").chain(applets) {
        let link = root.join("bin").join(a);
        if !link.exists() {
            std::os::unix::fs::symlink("busybox", link).unwrap();
        }
    }
    root
}

/// A private dockerd. Owns its containers and its process.
pub struct Dockerd {
    /// The API socket (`docker -H unix://...`, `ptcap --docker-address`).
    pub sock: PathBuf,
    /// The directory holding its state (the caller's).
    pub dir: PathBuf,
    /// Its log (stdout and stderr).
    pub log: PathBuf,
    child: Option<Child>,
    containers: Vec<String>,
}

impl Dockerd {
    /// Starts dockerd with its state under `dir` (a short path: the socket's must fit in 108
    /// bytes), inside network namespace `netns` (a name under /var/run/netns) when given, with
    /// `args` added (e.g. `--bip`, `--iptables=false`); waits until its API answers (40 s).
    pub fn start(dir: &Path, netns: Option<&str>, args: &[&str]) -> Dockerd {
        let sock = dir.join("d.sock");
        let log = dir.join("dockerd.log");
        let config = dir.join("daemon.json");
        // An empty config file of our own: the host's /etc/docker/daemon.json is not ours.
        std::fs::write(&config, "{}\n").unwrap();
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/var/run/netns/{ns}")).arg("dockerd");
                c
            }
            None => Command::new("dockerd"),
        };
        let path = |p: &str| dir.join(p).to_str().unwrap().to_string();
        cmd.args(["--config-file", &path("daemon.json")])
            .args(["--data-root", &path("root")])
            .args(["--exec-root", &path("exec")])
            .args(["--pidfile", &path("dockerd.pid")])
            .args(["-H", &format!("unix://{}", sock.display())])
            .args(["--storage-driver", "vfs"])
            .args(args)
            .stdin(Stdio::null());
        let file = std::fs::File::create(&log).unwrap();
        cmd.stdout(file.try_clone().unwrap()).stderr(file);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dockerd: {e}"));
        let d = Dockerd {
            sock,
            dir: dir.to_path_buf(),
            log,
            child: Some(child),
            containers: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let up = d.sock.exists()
                && d.command(&["version"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
            if up {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not start: {}",
                d.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        d
    }

    /// dockerd's pid (nsenter execs it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The socket of the containerd it manages (`ptcap --containerd-address`).
    pub fn containerd_sock(&self) -> PathBuf {
        self.dir.join("exec/containerd/containerd.sock")
    }

    /// The last lines of its log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// `docker -H unix://SOCK ARGS`, not run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("docker");
        c.args(["-H", &format!("unix://{}", self.sock.display())])
            .args(args);
        c
    }

    /// `docker ARGS`; it must succeed; its standard output, trimmed.
    pub fn docker(&self, args: &[&str]) -> String {
        let out = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("docker {args:?}: {e}"));
        assert!(
            out.status.success(),
            "docker {args:?} failed: {}\ndockerd: {}",
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Imports the rootfs `root` as image `tag` (`PATH=/bin`).
    pub fn import(&self, root: &Path, tag: &str) {
        let mut tar = Command::new("tar")
            .args(["-C", root.to_str().unwrap(), "-c", "."])
            .stdout(Stdio::piped())
            .spawn()
            .expect("tar");
        let out = self
            .command(&["import", "-c", "ENV PATH=/bin", "-", tag])
            .stdin(tar.stdout.take().unwrap())
            .output()
            .expect("docker import");
        assert!(tar.wait().is_ok_and(|s| s.success()), "tar of {root:?}");
        assert!(
            out.status.success(),
            "docker import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `docker run -d --name NAME ARGS...` (options, image, command); its id. Removed on drop.
    pub fn run(&mut self, name: &str, args: &[&str]) -> String {
        self.containers.push(name.to_string());
        let mut all = vec!["run", "-d", "--name", name];
        all.extend_from_slice(args);
        self.docker(&all)
    }

    /// `docker inspect -f FORMAT NAME`.
    pub fn inspect(&self, name: &str, format: &str) -> String {
        self.docker(&["inspect", "-f", format, name])
    }

    /// Waits (up to `timeout`) until container `name` has exited; its exit code.
    pub fn wait_exit(&self, name: &str, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            let state = self.inspect(name, "{{.State.Status}} {{.State.ExitCode}}");
            if let Some(code) = state.strip_prefix("exited ") {
                return code.parse().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "container {name} did not exit: {state}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Removes the containers, stops dockerd by pid and unmounts what it left under its
    /// directory. Idempotent; Drop calls it.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if !self.containers.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(self.containers.iter().map(String::as_str));
            let _ = self
                .command(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        // A dockerd killed before it stopped its containerd leaves that and the shims running:
        // the processes whose command line names our directory, by pid.
        for pid in self.leftover_processes() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        // What an unclean stop left mounted under our directory (deepest first).
        if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
            let prefix = format!("{}/", self.dir.display());
            let mut points: Vec<&str> = mounts
                .lines()
                .filter_map(|l| l.split(' ').nth(1))
                .filter(|m| m.starts_with(&prefix))
                .collect();
            points.sort_by_key(|p| std::cmp::Reverse(p.len()));
            for p in points {
                let _ = Command::new("umount")
                    .args(["-l", p])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

impl Dockerd {
    /// Processes whose command line names this daemon's directory (its containerd, the
    /// shims, given `-address DIR/exec/containerd/containerd.sock`).
    fn leftover_processes(&self) -> Vec<u32> {
        let needle = self.dir.to_string_lossy().into_owned();
        let me = std::process::id();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| pid != me)
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains(&needle))
                    .unwrap_or(false)
            })
            .collect()
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        self.stop();
    }
}

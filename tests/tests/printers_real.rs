//! Differential test of the protocol printers against the installed tcpdump, on packets made by
//! real daemons and clients from Debian's packages (chrony, dnsmasq with busybox udhcpc,
//! dhclient and dig, the kernel's bridge with STP and its multicast querier, avahi-daemon,
//! lldpd, keepalived, redis-server with redis-cli, util-linux logger) and by the kernel itself
//! (IGMP/MLD joins, MPTCP, TCP Fast Open, ICMP and ICMPv6 errors through a router namespace),
//! and iputils ping's ICMPv6 node information queries.
//!
//! Each test makes two namespaces joined by a veth pair (198.18.0.1/24 and 198.18.0.2/24,
//! fd00:198:18::1/64 and ::2), runs the daemon in B with a configuration written into its
//! temporary directory (pid files there too), the client in A, and records A's veth with
//! `tcpdump -w`. Every captured packet is then written whole and cut at every byte (caplen
//! 1..len, the wire length kept; a packet repeated byte for byte is cut once), and ptanalyze's
//! text must be tcpdump's (`-nn -tt -r`) for each, under default, `-v`, `-vv`, `-q` and `-e`.
//! The NTP and DHCP/DNS traffic is also captured by ptcap (`-w x.pcap`) and compared the same
//! way. Daemons are stopped by pid (SIGTERM) at the end; the namespace guard kills what is
//! left, also when a test fails.
//!
//! Needs root, tcpdump and the daemons' packages (scripts/setup.sh installs them); a missing
//! program fails the test. What the kernel cannot do here is said where it limits a test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use ptcap_tests::cuts::{diff_packets, pcap_bytes_of, read_pcap, show_limit, split_packets};
use ptcap_tests::netns::{TestHosts, ADDR6_A, ADDR6_B, ADDR_A, ADDR_B};
use ptcap_tests::peers::{require_tcpdump, text_of};
use ptcap_tests::{ptanalyze_bin, ptcap_bin, TempDir};

/// The flag sets compared, as tcpdump and ptanalyze take them.
const FLAG_SETS: [&[&str]; 5] = [&[], &["-v"], &["-vv"], &["-q"], &["-e"]];

/// One test's hosts, directory and captures.
struct Lab {
    name: &'static str,
    hosts: TestHosts,
    dir: TempDir,
    /// (pid, file) of each capture running on A's veth.
    dumps: Vec<(u32, PathBuf)>,
}

impl Lab {
    /// The lab for test `name`, which runs `programs` (each must be installed: the test fails,
    /// naming the package list that has it, rather than skip).
    fn new(name: &'static str, programs: &[&str]) -> Lab {
        require_tcpdump();
        for p in programs {
            let found = std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()));
            assert!(
                found,
                "{name}: {p} is not installed (scripts/setup.sh installs it)"
            );
        }
        let dir = TempDir::new(&format!("real-{name}"));
        let hosts = TestHosts::new();
        Lab {
            name,
            hosts,
            dir,
            dumps: Vec::new(),
        }
    }

    fn a(&self) -> String {
        self.hosts.ns_a.clone()
    }

    fn b(&self) -> String {
        self.hosts.ns_b.clone()
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// Writes `text` into the lab's directory; its path as a string.
    fn write(&self, file: &str, text: &str) -> String {
        let p = self.path(file);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    }

    /// Runs `args` in `ns`; it must succeed.
    fn run(&self, ns: &str, args: &[&str]) -> String {
        let mut c = self.hosts.cmd(ns, args[0]);
        c.args(&args[1..]);
        ptcap_tests::netns::run(&mut c)
    }

    /// Runs `args` in `ns` whatever its exit (a ping that is meant to fail); its stdout.
    fn try_run(&self, ns: &str, args: &[&str]) -> String {
        let out = self
            .hosts
            .cmd(ns, args[0])
            .args(&args[1..])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `tcpdump -w` on A's veth, until [`Lab::stop_captures`].
    fn capture(&mut self) {
        let file = self.path("tcpdump.pcap");
        let (ns, veth) = (self.a(), self.hosts.veth_a.clone());
        let pid = self.hosts.start_tcpdump(&ns, &file, &["-i", &veth]);
        self.dumps.push((pid, file));
    }

    /// `ptcap -w x.pcap` on A's veth as well, once it is capturing.
    fn capture_with_ptcap(&mut self) {
        let file = self.path("ptcap.pcap");
        let log = self.path("ptcap.log");
        let mut c = Command::new("nsenter");
        c.arg(format!("--net=/var/run/netns/{}", self.a()))
            .arg(ptcap_bin())
            .args(["--drops", "off", "-i", &self.hosts.veth_a, "-w"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let pid = self.hosts.spawn(c);
        wait_for(&format!("{}: ptcap capturing", self.name), 15, || {
            std::fs::read_to_string(&log).is_ok_and(|t| t.contains("capturing on"))
        });
        self.dumps.push((pid, file));
    }

    /// Starts a daemon in `ns` with its output in `<tag>.log`; killed by pid at the end.
    fn daemon(&mut self, ns: &str, tag: &str, args: &[&str]) -> u32 {
        let log = std::fs::File::create(self.path(&format!("{tag}.log"))).unwrap();
        let mut c = self.hosts.cmd(ns, args[0]);
        c.args(&args[1..])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.hosts.spawn(c)
    }

    /// A daemon's log so far (for failure messages).
    fn log(&self, tag: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{tag}.log"))).unwrap_or_default()
    }

    /// Waits until the daemon wrote its pid file and it names `pid` (the process we started).
    fn wait_pid_file(&self, tag: &str, file: &str, pid: u32) {
        let p = self.path(file);
        let name = format!("{}: {tag}'s pid file (log: {})", self.name, self.log(tag));
        wait_for(&name, 15, || {
            std::fs::read_to_string(&p).is_ok_and(|t| t.trim() == pid.to_string())
        });
    }

    /// Stops one of the processes we started with SIGTERM (the guard kills it otherwise).
    fn stop(&mut self, pid: u32) {
        self.hosts.stop(pid);
    }

    fn stop_captures(&mut self) {
        sleep(Duration::from_millis(300));
        for (pid, _) in self.dumps.clone() {
            self.hosts.stop(pid);
        }
    }

    /// Compares every capture; `needles` must appear in tcpdump's `-v` text of the tcpdump
    /// capture (the daemon really spoke its protocol).
    fn compare(mut self, needles: &[&str]) {
        self.stop_captures();
        let mut failures = Vec::new();
        for (i, (_, file)) in self.dumps.iter().enumerate() {
            let who = if file.ends_with("ptcap.pcap") {
                "ptcap"
            } else {
                "tcpdump"
            };
            let (f, text) = compare_file(self.name, who, file, self.dir.path());
            if i == 0 {
                for n in needles {
                    if !text.contains(n) {
                        failures.push(format!(
                            "{}: no {n:?} in tcpdump's -v text:\n{text}",
                            self.name
                        ));
                    }
                }
            }
            failures.extend(f);
        }
        if let Some(keep) = std::env::var_os("PTCAP_KEEP_CAPTURES") {
            let _ = std::fs::create_dir_all(&keep);
            for (_, file) in &self.dumps {
                let name = format!(
                    "{}-{}",
                    self.name,
                    file.file_name().unwrap().to_string_lossy()
                );
                let _ = std::fs::copy(file, PathBuf::from(&keep).join(name));
            }
        }
        assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
    }
}

/// Directories outside the lab that a daemon needs or makes (lldpd's chroot, avahi's run
/// directory): those that did not exist before are removed on drop. Made before the lab, so
/// that it is dropped after it (after the daemons are killed), also when a test fails.
struct RunDirs(Vec<PathBuf>);

impl RunDirs {
    fn new(dirs: &[&str]) -> RunDirs {
        RunDirs(
            dirs.iter()
                .map(PathBuf::from)
                .filter(|d| !d.exists())
                .collect(),
        )
    }
}

impl Drop for RunDirs {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Polls `ok` every 50 ms for up to `secs` seconds.
fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        sleep(Duration::from_millis(50));
    }
}

/// `file`'s packets whole and cut, tcpdump's text against ptanalyze's under every flag set:
/// the differences (the first few per flag set) and tcpdump's `-v` text of the whole packets.
fn compare_file(name: &str, who: &str, file: &Path, dir: &Path) -> (Vec<String>, String) {
    let (link_type, packets) = read_pcap(file);
    assert!(!packets.is_empty(), "{name}: {who} captured nothing");
    let whole = packets.len();
    // A frame longer than Ethernet's 1514 bytes is an offloaded TCP segment: cut within its
    // first 1514 bytes (the headers and a full segment's worth of payload).
    let records = ptcap_tests::cuts::whole_and_cuts_upto(&packets, 1514);
    let cut_file = dir.join(format!("{who}-cuts.pcap"));
    std::fs::write(&cut_file, pcap_bytes_of(link_type, &records)).unwrap();
    let tcpdump = PathBuf::from("tcpdump");
    let ptanalyze = ptanalyze_bin();
    let show = show_limit();
    let (mut failures, mut verbose) = (Vec::new(), String::new());
    let (mut equal, mut total) = (0, 0);
    for flags in FLAG_SETS {
        let expected = text_of(&tcpdump, &["-nn", "-tt"], flags, &["-r"], &cut_file);
        let got = text_of(&ptanalyze, &["-tt"], flags, &[], &cut_file);
        let (expected, got) = (split_packets(&expected), split_packets(&got));
        if flags == ["-v"] {
            verbose = expected[..whole].concat();
        }
        let d = diff_packets(name, flags, &records, whole, &expected, &got, show);
        println!(
            "{name:<10} {who:<7} {:<6} whole {}/{}, cut {}/{}",
            format!("{flags:?}"),
            d.whole_equal,
            d.whole,
            d.cuts_equal,
            d.cuts
        );
        equal += d.equal();
        total += d.total();
        failures.extend(d.shown);
    }
    println!(
        "{name:<10} {who:<7} packets {whole}, cuts {}, comparisons equal {equal}/{total}",
        records.len() - whole
    );
    (failures, verbose)
}

/// The sysctl `key=value` in namespace `ns`.
fn sysctl(lab: &Lab, ns: &str, kv: &str) {
    lab.run(ns, &["sysctl", "-q", "-w", kv]);
}

/// chronyd as an NTP server in B (v4 and v6, a SHA1 and an MD5 key), chronyd -Q as the client
/// in A: plain, keyed and interleaved (xleave) exchanges. `-x`: neither touches the clock.
#[test]
fn chrony_ntp_matches_tcpdump() {
    let mut lab = Lab::new("chrony", &["chronyd"]);
    let (a, b) = (lab.a(), lab.b());
    lab.run(
        &b,
        &[
            "ip",
            "addr",
            "add",
            "198.18.0.3/24",
            "dev",
            &lab.hosts.veth_b,
        ],
    );
    let keys = lab.write(
        "keys",
        "1 SHA1 HEX:0102030405060708090a0b0c0d0e0f1011121314\n2 MD5 HEX:0102030405060708090a0b0c0d0e0f10\n",
    );
    let dir = lab.dir.path().display().to_string();
    let server = lab.write(
        "server.conf",
        &format!(
            "allow 198.18.0.0/15\nallow fd00:198:18::/64\nlocal stratum 8\ncmdport 0\nbindcmdaddress /\n\
             pidfile {dir}/server.pid\nkeyfile {keys}\n"
        ),
    );
    // One client run per source: chronyd -Q ends once it has a measurement of each source,
    // and with several it may end before the slower ones answered.
    let clients: Vec<String> = [
        format!("server {ADDR_B} iburst minpoll -4 maxpoll -4"),
        format!("server {ADDR6_B} key 1 iburst minpoll -4 maxpoll -4"),
        "server 198.18.0.3 key 2 xleave iburst minpoll -4 maxpoll -4".to_string(),
    ]
    .iter()
    .enumerate()
    .map(|(i, source)| {
        lab.write(
            &format!("client{i}.conf"),
            &format!(
                "{source}\ncmdport 0\nbindcmdaddress /\npidfile {dir}/client{i}.pid\nkeyfile {keys}\n"
            ),
        )
    })
    .collect();
    lab.capture();
    lab.capture_with_ptcap();
    let srv = lab.daemon(
        &b,
        "chronyd",
        &["chronyd", "-x", "-u", "root", "-d", "-f", &server],
    );
    lab.wait_pid_file("chronyd", "server.pid", srv);
    // One measurement of the source, then it exits (-Q: print the offset, set nothing).
    for client in &clients {
        lab.run(
            &a,
            &[
                "chronyd", "-Q", "-x", "-u", "root", "-t", "10", "-f", client,
            ],
        );
    }
    lab.stop(srv);
    lab.compare(&[
        "NTPv4, Client",
        "NTPv4, Server",
        "Key id: 1",
        "Key id: 2",
        "Authentication:",
    ]);
}

/// dnsmasq in B: DHCPv4 to busybox udhcpc (discover, offer, request, ack, release), DHCPv6 to
/// dhclient (solicit/advertise/request/reply, information-request), router advertisements,
/// and DNS over UDP to dig (A, AAAA, TXT, MX, SRV, CNAME, PTR, refused, EDNS, DNSSEC OK bit),
/// DNS over TCP (`dig +tcp`, over IPv4 and IPv6).
#[test]
fn dnsmasq_dhcp_and_dns_match_tcpdump() {
    let mut lab = Lab::new("dnsmasq", &["dnsmasq", "busybox", "dhclient", "dig"]);
    let (a, b) = (lab.a(), lab.b());
    let dir = lab.dir.path().display().to_string();
    let veth_a = lab.hosts.veth_a.clone();
    let conf = lab.write(
        "dnsmasq.conf",
        &format!(
            "interface={}\nbind-interfaces\nexcept-interface=lo\nno-resolv\nno-hosts\nuser=root\n\
             group=root\npid-file={dir}/dnsmasq.pid\ndhcp-leasefile={dir}/leases\nno-ping\n\
             dhcp-range=198.18.0.100,198.18.0.150,255.255.255.0,1h\n\
             dhcp-range=fd00:198:18::100,fd00:198:18::1ff,64,1h\n\
             dhcp-option=option:router,{ADDR_B}\ndhcp-option=option:dns-server,{ADDR_B}\n\
             dhcp-option=option:domain-name,ptcap.test\n\
             dhcp-option=option6:dns-server,[{ADDR6_B}]\ndhcp-option=option6:domain-search,ptcap.test\n\
             dhcp-authoritative\nenable-ra\n\
             address=/www.ptcap.test/198.18.0.9\naddress=/www.ptcap.test/fd00:198:18::9\n\
             address=/tcp.ptcap.test/198.18.0.10\n\
             txt-record=txt.ptcap.test,\"v=1 hello\",\"second string\"\n\
             mx-host=ptcap.test,mail.ptcap.test,10\n\
             srv-host=_http._tcp.ptcap.test,www.ptcap.test,80,0,5\n\
             cname=alias.ptcap.test,www.ptcap.test\n\
             ptr-record=9.0.18.198.in-addr.arpa,www.ptcap.test\n",
            lab.hosts.veth_b
        ),
    );
    lab.capture();
    lab.capture_with_ptcap();
    let dm = lab.daemon(
        &b,
        "dnsmasq",
        &["dnsmasq", "-k", "-C", &conf, "--log-facility=-"],
    );
    lab.wait_pid_file("dnsmasq", "dnsmasq.pid", dm);
    // udhcpc in the foreground: discover, offer, request, ack; its script puts the leased
    // address on A's veth (the release is sent from it), USR2 then releases the lease.
    let script = lab.write(
        "udhcpc.sh",
        "#!/bin/sh\n[ \"$1\" = bound ] && ip addr add \"$ip/24\" dev \"$interface\"\nexit 0\n",
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let lease_log = lab.path("udhcpc.log");
    let dhcp = lab.daemon(
        &a,
        "udhcpc",
        &[
            "busybox",
            "udhcpc",
            "-i",
            &veth_a,
            "-f",
            "-R",
            "-t",
            "5",
            "-T",
            "1",
            "-s",
            &script,
            "-x",
            "hostname:ptcapclient",
            "-V",
            "ptcap-test",
            "-F",
            "ptcapclient.ptcap.test",
        ],
    );
    wait_for("udhcpc's lease", 15, || {
        std::fs::read_to_string(&lease_log).is_ok_and(|t| t.contains("obtained"))
    });
    // SIGUSR2: release the lease (DHCP Release), then stop it.
    let _ = Command::new("kill")
        .args(["-USR2", &dhcp.to_string()])
        .status();
    sleep(Duration::from_millis(500));
    lab.stop(dhcp);
    for q in [
        &["www.ptcap.test", "A"][..],
        &["www.ptcap.test", "AAAA"],
        &["txt.ptcap.test", "TXT"],
        &["ptcap.test", "MX"],
        &["_http._tcp.ptcap.test", "SRV"],
        &["alias.ptcap.test", "A"],
        &["nx.ptcap.test", "A"],
        &["-x", "198.18.0.9"],
        &["+dnssec", "www.ptcap.test", "A"],
        &["+noedns", "www.ptcap.test", "A"],
    ] {
        let mut args = vec!["dig", "+tries=1", "+time=2", "@198.18.0.2"];
        args.extend_from_slice(q);
        lab.run(&a, &args);
    }
    lab.run(
        &a,
        &[
            "dig",
            "+tries=1",
            "+time=2",
            &format!("@{ADDR6_B}"),
            "www.ptcap.test",
            "AAAA",
        ],
    );
    // DNS over TCP: the handshake, one query and one answer per segment, the close.
    for server in ["@198.18.0.2", &format!("@{ADDR6_B}")] {
        for q in [&["tcp.ptcap.test", "A"][..], &["txt.ptcap.test", "TXT"]] {
            let mut args = vec!["dig", "+tcp", "+tries=1", "+time=2", server];
            args.extend_from_slice(q);
            lab.run(&a, &args);
        }
    }
    // ISC dhclient as a second DHCPv4 client (its own option list and client identifier),
    // in the foreground until it is bound, then stopped by pid.
    let (lease4, pid4) = (
        format!("{dir}/dhclient4.leases"),
        format!("{dir}/dhclient4.pid"),
    );
    let dh4 = lab.daemon(
        &a,
        "dhclient4",
        &[
            "dhclient",
            "-4",
            "-1",
            "-d",
            "-sf",
            "/bin/true",
            "-lf",
            &lease4,
            "-pf",
            &pid4,
            &veth_a,
        ],
    );
    let log4 = lab.path("dhclient4.log");
    wait_for("dhclient -4's lease", 15, || {
        std::fs::read_to_string(&log4).is_ok_and(|t| t.contains("bound to"))
    });
    lab.stop(dh4);
    // dhclient binds A's link-local address: wait until duplicate address detection is done.
    wait_for("A's link-local address", 10, || {
        let shown = lab.try_run(
            &a,
            &["ip", "-6", "addr", "show", "dev", &veth_a, "scope", "link"],
        );
        shown.contains("inet6") && !shown.contains("tentative")
    });
    // dhclient stays in the foreground (-d) after its reply: stopped by pid once it has a lease.
    for (tag, mode) in [("dhclient6", "-1"), ("dhclient6s", "-S")] {
        let lease = format!("{dir}/{tag}.leases");
        let pidf = format!("{dir}/{tag}.pid");
        let pid = lab.daemon(
            &a,
            tag,
            &[
                "dhclient",
                "-6",
                mode,
                "-d",
                "-sf",
                "/bin/true",
                "-lf",
                &lease,
                "-pf",
                &pidf,
                &veth_a,
            ],
        );
        let log = lab.path(&format!("{tag}.log"));
        let mut tries = 0;
        while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("RCV: Reply message")) {
            tries += 1;
            assert!(tries < 300, "no DHCPv6 reply to {tag}: {}", lab.log(tag));
            sleep(Duration::from_millis(50));
        }
        lab.stop(pid);
    }
    lab.stop(dm);
    lab.compare(&[
        "DHCP-Message (53), length 1: Discover",
        "DHCP-Message (53), length 1: Release",
        "DHCP-Message (53), length 1: ACK",
        "dhcp6 solicit",
        "dhcp6 inf-req",
        "router advertisement",
        "TXT \"v=1 hello\" \"second string\"",
        "SRV www.ptcap.test.:80 0 5",
        "A? tcp.ptcap.test.",
        "tcp.ptcap.test. A 198.18.0.10",
    ]);
}

/// dnsmasq as the authoritative server of a zone (its own SOA and NS): SOA, NS, NAPTR, CAA,
/// answers with an authority section, NXDOMAIN with the SOA, a reverse lookup.
#[test]
fn dnsmasq_authoritative_dns_matches_tcpdump() {
    let mut lab = Lab::new("dns-auth", &["dnsmasq", "dig"]);
    let (a, b) = (lab.a(), lab.b());
    let dir = lab.dir.path().display().to_string();
    let conf = lab.write(
        "dnsmasq.conf",
        &format!(
            "interface={}\nbind-interfaces\nexcept-interface=lo\nno-resolv\nno-hosts\nuser=root\n\
             group=root\npid-file={dir}/dnsmasq.pid\n\
             auth-server=ns.ptcap.test,{}\nauth-zone=ptcap.test,198.18.0.0/24\n\
             host-record=ns.ptcap.test,{ADDR_B}\n\
             host-record=www.ptcap.test,198.18.0.9,fd00:198:18::9\n\
             naptr-record=ptcap.test,10,20,U,E2U+sip,!^.*$!sip:info@ptcap.test!,\n\
             caa-record=ptcap.test,0,issue,ca.ptcap.test\n\
             txt-record=txt.ptcap.test,\"v=1 hello\"\n",
            lab.hosts.veth_b, lab.hosts.veth_b
        ),
    );
    lab.capture();
    let dm = lab.daemon(
        &b,
        "dnsmasq",
        &["dnsmasq", "-k", "-C", &conf, "--log-facility=-"],
    );
    lab.wait_pid_file("dnsmasq", "dnsmasq.pid", dm);
    for q in [
        &["ptcap.test", "SOA"][..],
        &["ptcap.test", "NS"],
        &["ptcap.test", "NAPTR"],
        &["ptcap.test", "CAA"],
        &["www.ptcap.test", "A"],
        &["www.ptcap.test", "AAAA"],
        &["txt.ptcap.test", "TXT"],
        &["nx.ptcap.test", "A"],
        &["-x", "198.18.0.9"],
        &["+nocookie", "ptcap.test", "SOA"],
    ] {
        let mut args = vec!["dig", "+tries=1", "+time=2", "@198.18.0.2"];
        args.extend_from_slice(q);
        lab.run(&a, &args);
    }
    lab.stop(dm);
    lab.compare(&[
        "SOA ns.ptcap.test. hostmaster.ns.ptcap.test.",
        "NS ns.ptcap.test.",
        "NAPTR",
        "NXDomain*-",
        "PTR www.ptcap.test.",
    ]);
}

/// Two kernel bridges with STP on (one in each namespace, different priorities), joined by
/// the veth pair: configuration BPDUs of the root and, once the other bridge's port forwards,
/// its topology change notification.
#[test]
fn bridge_stp_matches_tcpdump() {
    let mut lab = Lab::new("stp", &["ip"]);
    let (a, b) = (lab.a(), lab.b());
    lab.capture();
    for (ns, veth, prio) in [
        (&a, lab.hosts.veth_a.clone(), "40960"),
        (&b, lab.hosts.veth_b.clone(), "4096"),
    ] {
        lab.run(
            ns,
            &[
                "ip",
                "link",
                "add",
                "br0",
                "type",
                "bridge",
                "stp_state",
                "1",
                "hello_time",
                "100",
                "forward_delay",
                "200",
                "max_age",
                "600",
                "priority",
                prio,
            ],
        );
        lab.run(ns, &["ip", "link", "set", &veth, "master", "br0"]);
        lab.run(ns, &["ip", "link", "set", "br0", "up"]);
    }
    // Listening and learning take 2 x forward_delay (4 s) before A's port forwards.
    sleep(Duration::from_millis(5500));
    lab.compare(&[
        "STP 802.1d, Config",
        "root-pathcost 0",
        "Flags [Topology change]",
    ]);
}

/// IGMP and MLD from real joins and leaves in A (v3 with and without sources, v2 and v1 by
/// forcing the version, MLD v2 and v1) and the queries of a kernel bridge's multicast querier
/// in B, which A's kernel answers.
#[test]
fn igmp_and_mld_match_tcpdump() {
    let mut lab = Lab::new("igmp", &["python3"]);
    let (a, b) = (lab.a(), lab.b());
    let (veth_a, veth_b) = (lab.hosts.veth_a.clone(), lab.hosts.veth_b.clone());
    lab.capture();
    lab.run(
        &b,
        &[
            "ip",
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "1",
            "mcast_querier",
            "1",
            "mcast_igmp_version",
            "3",
            "mcast_mld_version",
            "2",
            "mcast_startup_query_interval",
            "100",
            "mcast_query_interval",
            "200",
            "mcast_query_response_interval",
            "50",
        ],
    );
    lab.run(&b, &["ip", "addr", "flush", "dev", &veth_b]);
    lab.run(&b, &["ip", "link", "set", &veth_b, "master", "br0"]);
    lab.run(&b, &["ip", "addr", "add", "198.18.0.2/24", "dev", "br0"]);
    lab.run(
        &b,
        &[
            "ip",
            "addr",
            "add",
            "fd00:198:18::2/64",
            "dev",
            "br0",
            "nodad",
        ],
    );
    lab.run(&b, &["ip", "link", "set", "br0", "up"]);
    const JOIN: &str = r#"
import socket, struct, sys, time
dev = sys.argv[1]
idx = socket.if_nametoindex(dev)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("239.1.1.1") + socket.inet_aton("198.18.0.1"))
# IP_ADD_SOURCE_MEMBERSHIP: group, interface, source (struct ip_mreq_source).
for src in ("198.18.0.5", "198.18.0.6"):
    s.setsockopt(socket.IPPROTO_IP, 39, socket.inet_aton("232.1.1.1") + socket.inet_aton("198.18.0.1") + socket.inet_aton(src))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, "ff05::1:3") + struct.pack("@I", idx))
time.sleep(float(sys.argv[2]))
s.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, socket.inet_aton("239.1.1.1") + socket.inet_aton("198.18.0.1"))
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_LEAVE_GROUP, socket.inet_pton(socket.AF_INET6, "ff05::1:3") + struct.pack("@I", idx))
time.sleep(0.3)
"#;
    // v3 and MLD v2 while the querier asks (it starts with a burst of queries).
    lab.run(&a, &["python3", "-c", JOIN, &veth_a, "2.5"]);
    // IGMP v2 and v1, MLD v1: the kernel speaks the version it is told to.
    let conf4 = format!("net.ipv4.conf.{veth_a}.force_igmp_version");
    let conf6 = format!("net.ipv6.conf.{veth_a}.force_mld_version");
    for (v4, v6) in [("2", "1"), ("1", "1")] {
        sysctl(&lab, &a, &format!("{conf4}={v4}"));
        sysctl(&lab, &a, &format!("{conf6}={v6}"));
        lab.run(&a, &["python3", "-c", JOIN, &veth_a, "0.5"]);
    }
    lab.compare(&[
        "igmp query v3",
        "igmp v3 report",
        "igmp v2 report 239.1.1.1",
        "igmp leave 239.1.1.1",
        "igmp v1 report 239.1.1.1",
        "multicast listener query v2",
        "multicast listener report v2",
        "multicast listener reportmax resp delay: 0 addr: ff05::1:3",
        "multicast listener donemax resp delay: 0 addr: ff05::1:3",
    ]);
}

/// avahi-daemon in B (D-Bus off, its own host name, the workstation service): probes,
/// announcements over IPv4 and IPv6, and its answers to dig's unicast queries on port 5353.
/// avahi keeps its pid file where it was built to (/run/avahi-daemon/pid), removes it on
/// SIGTERM, and leaves the directory (removed here when the test made it).
#[test]
fn avahi_mdns_matches_tcpdump() {
    let _run = RunDirs::new(&["/run/avahi-daemon"]);
    let mut lab = Lab::new("avahi", &["avahi-daemon", "dig"]);
    let (a, b) = (lab.a(), lab.b());
    let conf = lab.write(
        "avahi.conf",
        &format!(
            "[server]\nhost-name=ptcap-test\ndomain-name=local\nuse-ipv4=yes\nuse-ipv6=yes\n\
             allow-interfaces={}\nenable-dbus=no\nratelimit-interval-usec=1000000\nratelimit-burst=1000\n\
             [wide-area]\nenable-wide-area=no\n[publish]\npublish-workstation=yes\npublish-hinfo=yes\n\
             publish-addresses=yes\n",
            lab.hosts.veth_b
        ),
    );
    lab.capture();
    let av = lab.daemon(
        &b,
        "avahi",
        &[
            "avahi-daemon",
            "-f",
            &conf,
            "--no-chroot",
            "--no-drop-root",
            "--no-rlimits",
            "--debug",
        ],
    );
    let log = lab.path("avahi.log");
    wait_for("avahi's start-up", 20, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("Server startup complete"))
    });
    sleep(Duration::from_millis(1500));
    lab.run(
        &a,
        &[
            "dig",
            "+tries=1",
            "+time=2",
            "-p",
            "5353",
            "@198.18.0.2",
            "ptcap-test.local",
            "A",
        ],
    );
    lab.run(
        &a,
        &[
            "dig",
            "+tries=1",
            "+time=2",
            "-p",
            "5353",
            &format!("@{ADDR6_B}"),
            "_workstation._tcp.local",
            "PTR",
        ],
    );
    lab.run(
        &a,
        &[
            "dig",
            "+tries=1",
            "+time=2",
            "-p",
            "5353",
            "@198.18.0.2",
            "-x",
            ADDR_B,
        ],
    );
    lab.stop(av);
    lab.compare(&[
        "(Cache flush) A 198.18.0.2",
        "_workstation._tcp.local",
        "ANY (QM)?",
        "HINFO",
    ]);
}

/// lldpd in B (LLDP-MED on, a 1 s transmit interval, its own system name and description),
/// and its shutdown LLDPDU (TTL 0) when it stops.
#[test]
fn lldpd_lldp_matches_tcpdump() {
    let _run = RunDirs::new(&["/run/lldpd"]);
    let mut lab = Lab::new("lldpd", &["lldpd"]);
    let b = lab.b();
    let conf = lab.write(
        "lldpd.conf",
        "configure lldp tx-interval 1\nconfigure system hostname ptcap-lldp\n\
         configure system description \"ptcap test host\"\nconfigure lldp portidsubtype ifname\n",
    );
    let sock = lab.path("lldpd.sock").display().to_string();
    // lldpd's privilege separation chroots to /run/lldpd, which its package does not create
    // without systemd's tmpfiles (removed at the end when the test made it).
    std::fs::create_dir_all("/run/lldpd").unwrap();
    lab.capture();
    let veth_b = lab.hosts.veth_b.clone();
    let ll = lab.daemon(
        &b,
        "lldpd",
        &[
            "lldpd", "-d", "-I", &veth_b, "-u", &sock, "-O", &conf, "-M", "4",
        ],
    );
    sleep(Duration::from_millis(3500));
    lab.stop(ll);
    lab.compare(&[
        "LLDP, length",
        "System Name TLV (5), length 10: ptcap-lldp",
        "TTL 0s",
    ]);
}

/// keepalived (VRRP only) in B: VRRPv2 with simple authentication, VRRPv3 over IPv4 with two
/// addresses and over IPv6, its gratuitous ARPs and neighbour advertisements, and the priority 0
/// adverts it sends when it stops.
#[test]
fn keepalived_vrrp_matches_tcpdump() {
    let mut lab = Lab::new("vrrp", &["keepalived"]);
    let b = lab.b();
    let dev = lab.hosts.veth_b.clone();
    let conf = lab.write(
        "keepalived.conf",
        &format!(
            "global_defs {{\n router_id ptcap_test\n enable_script_security\n vrrp_garp_master_repeat 1\n}}\n\
             vrrp_instance v2 {{\n state MASTER\n interface {dev}\n virtual_router_id 42\n priority 150\n advert_int 1\n\
             authentication {{\n auth_type PASS\n auth_pass ptcap\n }}\n virtual_ipaddress {{\n 198.18.0.50/24\n }}\n}}\n\
             vrrp_instance v3 {{\n state MASTER\n interface {dev}\n version 3\n virtual_router_id 43\n priority 100\n advert_int 1\n\
             virtual_ipaddress {{\n 198.18.0.51/24\n 198.18.0.52/24\n }}\n}}\n\
             vrrp_instance v6 {{\n state MASTER\n interface {dev}\n version 3\n virtual_router_id 44\n priority 200\n advert_int 1\n\
             virtual_ipaddress {{\n fd00:198:18::50/64\n }}\n}}\n"
        ),
    );
    let dir = lab.dir.path().display().to_string();
    lab.capture();
    let ka = lab.daemon(
        &b,
        "keepalived",
        &[
            "keepalived",
            "-n",
            "-l",
            "-P",
            "-f",
            &conf,
            "-p",
            &format!("{dir}/keepalived.pid"),
            "-r",
            &format!("{dir}/vrrp.pid"),
        ],
    );
    lab.wait_pid_file("keepalived", "keepalived.pid", ka);
    // The instances become master after about 3 advert intervals; then two more adverts.
    let log = lab.path("keepalived.log");
    wait_for("keepalived's three masters", 20, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.matches("Entering MASTER STATE").count() >= 3)
    });
    sleep(Duration::from_millis(2200));
    lab.stop(ka);
    lab.compare(&[
        "VRRPv2, Advertisement, vrid 42, prio 150, authtype simple",
        "VRRPv3, Advertisement, vrid 43, prio 100",
        "VRRPv3, Advertisement, vrid 44, prio 200",
        "prio 0",
        "addrs(2): 198.18.0.51,198.18.0.52",
    ]);
}

/// redis-server in B, redis-cli in A: one connection of commands and replies of every RESP type
/// (simple strings, errors, integers, bulk and nil, arrays), then a value larger than a segment.
#[test]
fn redis_resp_matches_tcpdump() {
    let mut lab = Lab::new("redis", &["redis-server", "redis-cli"]);
    let (a, b) = (lab.a(), lab.b());
    let dir = lab.dir.path().display().to_string();
    lab.capture();
    let rs = lab.daemon(
        &b,
        "redis",
        &[
            "redis-server",
            "--bind",
            ADDR_B,
            "--port",
            "6379",
            "--daemonize",
            "no",
            "--pidfile",
            &format!("{dir}/redis.pid"),
            "--dir",
            &dir,
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
        ],
    );
    lab.wait_pid_file("redis", "redis.pid", rs);
    wait_for("redis to answer", 10, || {
        lab.try_run(&a, &["redis-cli", "-h", ADDR_B, "PING"])
            .contains("PONG")
    });
    let cmds = lab.write(
        "cmds",
        "SET greeting hello\nGET greeting\nINCR counter\nINCRBY counter 41\nRPUSH list a b c\n\
         LRANGE list 0 -1\nHSET h field value\nHGETALL h\nGET missing\nNOSUCHCOMMAND x\n\
         DEL greeting\nEXISTS greeting\n",
    );
    let mut c = lab.hosts.cmd(&a, "redis-cli");
    c.args(["-h", ADDR_B])
        .stdin(std::fs::File::open(&cmds).unwrap());
    ptcap_tests::netns::run(&mut c);
    let big = "x".repeat(2000);
    lab.run(&a, &["redis-cli", "-h", ADDR_B, "SET", "big", &big]);
    lab.run(&a, &["redis-cli", "-h", ADDR_B, "GET", "big"]);
    lab.stop(rs);
    lab.compare(&[
        "RESP \"SET\" \"greeting\" \"hello\"",
        "RESP \"OK\"",
        "RESP \"ERR",
        "RESP null",
    ]);
}

/// util-linux logger sending syslog over UDP to B (RFC 3164 and RFC 5424, several facilities
/// and severities), received by a socket there.
#[test]
fn logger_syslog_matches_tcpdump() {
    let mut lab = Lab::new("syslog", &["logger", "python3"]);
    let (a, b) = (lab.a(), lab.b());
    lab.capture();
    let sink = lab.daemon(
        &b,
        "sink",
        &[
            "python3", "-c",
            "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('198.18.0.2', 514))\nwhile True: s.recv(65535)",
        ],
    );
    sleep(Duration::from_millis(300));
    for (fmt, prio, msg) in [
        ("--rfc3164", "user.notice", "hello from ptcap"),
        ("--rfc3164", "local3.err", "disk almost full"),
        ("--rfc5424", "daemon.info", "structured hello"),
        ("--rfc5424=notq", "auth.crit", "no time quality"),
        ("--rfc3164", "kern.emerg", "panic: ptcap test"),
        (
            "--rfc5424",
            "local7.debug",
            "debug line with [brackets] and \"quotes\"",
        ),
    ] {
        lab.run(
            &a,
            &[
                "logger",
                "-n",
                ADDR_B,
                "-P",
                "514",
                "-d",
                fmt,
                "-p",
                prio,
                "-t",
                "ptcap-test",
                msg,
            ],
        );
    }
    lab.stop(sink);
    lab.compare(&[
        "Facility user (1), Severity notice (5)",
        "Facility local3 (19), Severity error (3)",
        // logger may not send the kernel facility: it sends kern.emerg as user.emerg.
        "Facility user (1), Severity emergency (0)",
        "Msg: ",
    ]);
}

/// MPTCP between Python sockets (IPPROTO_MPTCP) with a second address that B signals (ADD_ADDR,
/// then MP_JOIN), and TCP Fast Open (a cookie request, then data in the SYN with the cookie),
/// set per namespace by sysctl.
#[test]
fn mptcp_and_tfo_match_tcpdump() {
    // The one kernel feature this file may do without: said, not silent.
    if std::fs::metadata("/proc/sys/net/mptcp/enabled").is_err() {
        eprintln!(
            "mptcp_and_tfo: SKIPPED: net.mptcp.enabled does not exist (a kernel without MPTCP)"
        );
        return;
    }
    let mut lab = Lab::new("mptcp", &["python3"]);
    let (a, b) = (lab.a(), lab.b());
    lab.run(
        &b,
        &[
            "ip",
            "addr",
            "add",
            "198.18.0.3/24",
            "dev",
            &lab.hosts.veth_b,
        ],
    );
    for ns in [&a, &b] {
        sysctl(&lab, ns, "net.mptcp.enabled=1");
        sysctl(&lab, ns, "net.ipv4.tcp_fastopen=3");
        lab.run(
            ns,
            &[
                "ip",
                "mptcp",
                "limits",
                "set",
                "subflows",
                "2",
                "add_addr_accepted",
                "2",
            ],
        );
    }
    lab.run(
        &b,
        &[
            "ip",
            "mptcp",
            "endpoint",
            "add",
            "198.18.0.3",
            "dev",
            &lab.hosts.veth_b,
            "signal",
        ],
    );
    lab.capture();
    const SERVER: &str = r#"
import socket, threading
def serve(proto, port, tfo):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if tfo: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
    s.bind(("0.0.0.0", port)); s.listen(8)
    while True:
        c, _ = s.accept()
        while True:
            d = c.recv(4096)
            if not d: break
            c.sendall(b"echo " + d)
        c.close()
threading.Thread(target=serve, args=(262, 8000, False), daemon=True).start()
serve(6, 8001, True)
"#;
    const CLIENT: &str = r#"
import socket, sys, time
host = sys.argv[1]
for _ in range(100):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
        s.connect((host, 8000)); break
    except OSError:
        s.close(); time.sleep(0.05)
s.sendall(b"first over mptcp"); s.recv(100)
time.sleep(1.0)  # ADD_ADDR arrives, the second subflow joins
for i in range(3):
    s.sendall(b"more data %d" % i); s.recv(100); time.sleep(0.1)
s.close()
for i in range(2):  # the first asks for a cookie, the second carries data in its SYN
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.sendto(b"fast open %d" % i, socket.MSG_FASTOPEN, (host, 8001))
    t.recv(100); t.close(); time.sleep(0.2)
"#;
    let srv = lab.daemon(&b, "server", &["python3", "-c", SERVER]);
    lab.run(&a, &["python3", "-c", CLIENT, ADDR_B]);
    sleep(Duration::from_millis(300));
    lab.stop(srv);
    lab.compare(&[
        "mptcp 12 capable",
        "mptcp 16 add-addr",
        "mptcp 12 join",
        "mptcp 26 dss",
        "tfo  cookiereq",
        "tfo  cookie ",
    ]);
}

/// ICMP and ICMPv6 errors made by a router: B forwards, A routes test prefixes through it.
/// TTL / hop limit exceeded, redirects (B sends back out of the interface it received on),
/// net unreachable (no route), host unreachable and administratively prohibited (unreachable
/// and prohibit routes), fragmentation needed / packet too big (a route with a locked
/// MTU of 1280), port unreachable and TCP resets from a closed port, and pings with the record
/// route and timestamp IP options; and pings of 3,000 bytes, fragmented over IPv4 and IPv6.
#[test]
fn icmp_errors_match_tcpdump() {
    let mut lab = Lab::new("icmp", &["ping", "python3"]);
    let (a, b) = (lab.a(), lab.b());
    sysctl(&lab, &b, "net.ipv4.ip_forward=1");
    sysctl(&lab, &b, "net.ipv6.conf.all.forwarding=1");
    lab.run(&a, &["ip", "route", "add", "198.18.4.0/22", "via", ADDR_B]);
    lab.run(
        &a,
        &[
            "ip",
            "-6",
            "route",
            "add",
            "fd00:198:20::/48",
            "via",
            ADDR6_B,
        ],
    );
    for r in [
        &["ip", "route", "add", "198.18.5.0/25", "via", ADDR_A][..],
        &[
            "ip",
            "route",
            "add",
            "198.18.5.128/25",
            "via",
            ADDR_A,
            "mtu",
            "lock",
            "1280",
        ],
        &["ip", "route", "add", "unreachable", "198.18.6.0/24"],
        &["ip", "route", "add", "prohibit", "198.18.7.0/24"],
        &[
            "ip",
            "-6",
            "route",
            "add",
            "fd00:198:20:5::/64",
            "via",
            ADDR6_A,
        ],
        &[
            "ip",
            "-6",
            "route",
            "add",
            "fd00:198:20:15::/64",
            "via",
            ADDR6_A,
            "mtu",
            "1280",
        ],
        &[
            "ip",
            "-6",
            "route",
            "add",
            "unreachable",
            "fd00:198:20:6::/64",
        ],
        &["ip", "-6", "route", "add", "prohibit", "fd00:198:20:7::/64"],
    ] {
        lab.run(&b, r);
    }
    lab.capture();
    let ping = |args: &[&str]| {
        let mut v = vec!["ping", "-n", "-c", "1", "-W", "1"];
        v.extend_from_slice(args);
        lab.try_run(&a, &v);
    };
    ping(&["-t", "1", "198.18.5.9"]);
    ping(&["198.18.5.10"]);
    ping(&["-M", "do", "-s", "1400", "198.18.5.130"]);
    ping(&["198.18.4.9"]);
    ping(&["198.18.6.9"]);
    ping(&["198.18.7.9"]);
    ping(&["-R", ADDR_B]);
    ping(&["-T", "tsonly", ADDR_B]);
    ping(&["-T", "tsandaddr", ADDR_B]);
    // Fragments: IPv4 (offsets, more-fragments) and IPv6 (fragment headers), both ways.
    ping(&["-s", "3000", ADDR_B]);
    ping(&["-6", "-s", "3000", ADDR6_B]);
    ping(&["-6", "-t", "1", "fd00:198:20:5::9"]);
    ping(&["-6", "fd00:198:20:5::10"]);
    ping(&["-6", "-M", "do", "-s", "1400", "fd00:198:20:15::9"]);
    ping(&["-6", "fd00:198:20:4::9"]);
    ping(&["-6", "fd00:198:20:6::9"]);
    ping(&["-6", "fd00:198:20:7::9"]);
    const CLOSED: &str = r#"
import socket, sys
for fam, host in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
    u = socket.socket(fam, socket.SOCK_DGRAM); u.settimeout(0.5)
    u.connect((host, 9999)); u.send(b"to a closed port")
    try: u.recv(100)
    except OSError: pass
    t = socket.socket(fam, socket.SOCK_STREAM); t.settimeout(1)
    try: t.connect((host, 9998))
    except OSError: pass
"#;
    lab.run(&a, &["python3", "-c", CLOSED, ADDR_B, ADDR6_B]);
    lab.compare(&[
        "time exceeded in-transit",
        "redirect 198.18.5.10 to host 198.18.0.1",
        "need to frag (mtu 1280)",
        "net 198.18.4.9 unreachable",
        "host 198.18.6.9 unreachable",
        "unreachable prohibited",
        "udp port 9999 unreachable",
        "RR",
        "TS",
        "time exceeded in-transit for fd00:198:20:5::9",
        "packet too big",
        "unreachable route fd00:198:20:4::9",
        "unreachable prohibited fd00:198:20:7::9",
        "udp port 9999",
        "Flags [R.]",
        "flags [+], proto ICMP (1), length 1500",
        ":0|1448) ICMP6, echo request",
    ]);
}

/// ICMPv6 node information queries (RFC 4620) from iputils ping (`-N`) to B: names, IPv6
/// and IPv4 addresses, with IPv6, IPv4 and name subjects. Linux does not answer them, so the
/// replies stay crafted (`printers_diff`). ping waits a second for each.
#[test]
fn icmp6_node_information_queries_match_tcpdump() {
    let mut lab = Lab::new("nodeinfo", &["ping"]);
    let a = lab.a();
    lab.capture();
    let subject6 = format!("subject-ipv6={ADDR6_B}");
    let subject4 = format!("subject-ipv4={ADDR_B}");
    for q in [
        &["name"][..],
        &["ipv6"],
        &["ipv6-all"],
        &["ipv6-global", "-N", "ipv6-linklocal"],
        &["ipv4"],
        &["ipv4-all"],
        &["ipv6", "-N", &subject6],
        &["name", "-N", &subject4],
        &["ipv4", "-N", "subject-name=www.ptcap.test"],
        &["name", "-N", "subject-fqdn=www.ptcap.test"],
    ] {
        let mut args = vec!["ping", "-6", "-c", "1", "-W", "1"];
        for o in q.iter().copied() {
            if o != "-N" && args.last() != Some(&"-N") {
                args.push("-N");
            }
            args.push(o);
        }
        args.push(ADDR6_B);
        lab.try_run(&a, &args);
    }
    // ping's default subject is the address it pings; IPv4 addresses (qtype 4) are
    // `unknown` to tcpdump 4.99.3; a subject-name is a name without its root label.
    lab.compare(&[
        "node information query (DNS name, subject=fd00:198:18::2)",
        "node information query (node addresses [GL], subject=fd00:198:18::2)",
        "node information query (unknown, subject=fd00:198:18::2)",
        "(DNS name, subject=198.18.0.2)",
        "(unknown, subject=DNS name, \"www.ptcap.test.\")",
        "(DNS name, subject=DNS name, \"www.ptcap.test\")",
    ]);
}

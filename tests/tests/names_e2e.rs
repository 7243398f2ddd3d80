//! Remote names end to end (issue 13): real traffic between two namespaces captured by ptcap.
//! Two clients in A (198.18.N.1 and .11) ask a DNS server in B for www.shop.test (a CNAME
//! chain to edge.cdn.test; A and AAAA), get each another address, and connect: plain TCP,
//! HTTP with `Host:`, a TLS ClientHello with SNI (Python's ssl module). Every flow gets the
//! right names and sources; names are per client (client 2 never resolved client 1's address,
//! so its flow there has none); tshark reads the same names from the same file; `-j 1` and
//! `-j 4 --chunk-size 4096` give identical output; `--report` is self-contained and carries
//! the `--stats --json` figures.
//!
//! Needs root, tshark and python3.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use ptcap_tests::names::{start_server, CLIENT};
use ptcap_tests::pair::{NamespacePair, Running};
use ptcap_tests::{ptanalyze_bin, ptcap_bin, run_checked};

const SUBNET: u32 = 213;
const V6_WEB: &str = "fd00:198:213::7";
const V6_CLIENT: &str = "fd00:198:213::1";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn analyze(args: &[&str]) -> String {
    let out = Command::new(ptanalyze_bin()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ptanalyze {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

type Names = BTreeSet<(String, String)>;

fn names_of(v: &serde_json::Value) -> Names {
    v["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_string(),
                n["source"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> Names {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn names_from_dns_sni_and_http_per_client() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut net = NamespacePair::new("names", "e2e", SUBNET);
    net.link();
    let n = format!("198.18.{SUBNET}");
    let (a, b) = (net.a.clone(), net.b.clone());
    for (ns, dev, addr) in [
        (&a, "va", format!("{n}.11/24")),
        (&b, "vb", format!("{n}.7/24")),
        (&b, "vb", format!("{n}.8/24")),
        (&a, "va", format!("{V6_CLIENT}/64")),
        (&b, "vb", format!("{V6_WEB}/64")),
    ] {
        run_checked(&["ip", "-n", ns, "addr", "add", &addr, "dev", dev, "nodad"]);
    }
    let dir = net.dir("names");
    let file = dir.join("names.pcapng");
    let f = file.to_str().unwrap().to_string();
    let bin = ptcap_bin();
    let cap = Running::start(&mut net, &a, &[bin.to_str().unwrap(), "-i", "va", "-w", &f]);
    let _server = start_server(&mut net, &b, V6_WEB);
    net.run_in(
        &a,
        &[
            "python3",
            "-c",
            CLIENT,
            &n,
            &format!("{n}.1"),
            "one",
            V6_CLIENT,
        ],
    );
    net.run_in(
        &a,
        &["python3", "-c", CLIENT, &n, &format!("{n}.11"), "two"],
    );
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = cap.stop(Some("-INT"));
    assert_eq!(code, 0, "{stderr:?}");
    // To look at the capture and its report by hand.
    if let Some(keep) = std::env::var_os("NAMES_E2E_KEEP") {
        std::fs::copy(&file, std::path::Path::new(&keep).join("names.pcapng")).unwrap();
    }

    // Every flow's names.
    let flows_json = analyze(&["--flows", "--json", &f]);
    let flows: Vec<serde_json::Value> = flows_json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["type"] == "flow")
        .collect();
    let find = |init: &str, resp: &str, port: u64| -> &serde_json::Value {
        flows
            .iter()
            .find(|f| {
                f["initiator"]["addr"] == init
                    && f["responder"]["addr"] == resp
                    && f["responder"]["port"] == port
            })
            .unwrap_or_else(|| panic!("no flow {init} -> {resp}:{port} in {flows_json}"))
    };
    let dns = [("www.shop.test", "dns"), ("edge.cdn.test", "dns")];
    let c1 = format!("{n}.1");
    let c2 = format!("{n}.11");
    let (w7, w8) = (format!("{n}.7"), format!("{n}.8"));
    assert_eq!(names_of(&find(&c1, &w7, 9000)["responder"]), set(&dns));
    let mut http = dns.to_vec();
    http.push(("www.shop.test", "http"));
    assert_eq!(names_of(&find(&c1, &w7, 8080)["responder"]), set(&http));
    let mut sni = dns.to_vec();
    sni.push(("secure.shop.test", "sni"));
    assert_eq!(names_of(&find(&c1, &w7, 8443)["responder"]), set(&sni));
    // The AAAA, asked over IPv4, names the IPv6 address for the same client: the addresses
    // differ, the process that received the answer is the one that connects.
    let v6 = find(V6_CLIENT, V6_WEB, 9000);
    assert_eq!(names_of(&v6["responder"]), set(&dns));
    // Client 2 got .8 and never resolved .7.
    assert_eq!(names_of(&find(&c2, &w8, 9000)["responder"]), set(&dns));
    assert_eq!(names_of(&find(&c2, &w7, 9000)["responder"]), set(&[]));
    // The DNS server itself has no name.
    assert!(names_of(&find(&c1, &format!("{n}.2"), 53)["responder"]).is_empty());

    // Text shows the names beside the address.
    let text = analyze(&["--flows", &f]);
    assert!(
        text.contains(&format!(
            "{w7}:8443 (secure.shop.test,www.shop.test,edge.cdn.test)"
        )),
        "{text}"
    );

    // tshark reads the same names from the same file.
    let t = run_checked(&[
        "tshark",
        "-r",
        &f,
        "-d",
        "tcp.port==8443,tls",
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-e",
        "ip.dst",
        "-e",
        "dns.qry.name",
        "-e",
        "dns.a",
        "-e",
        "dns.aaaa",
        "-e",
        "tls.handshake.extensions_server_name",
        "-e",
        "http.host",
        "-Y",
        "dns.flags.response == 1 || tls.handshake.type == 1 || http.request",
    ]);
    let mut theirs: BTreeSet<String> = BTreeSet::new();
    for line in t.lines() {
        let c: Vec<&str> = line.split('|').collect();
        if !c[1].is_empty() {
            for addr in c[2]
                .split(',')
                .chain(c[3].split(','))
                .filter(|a| !a.is_empty())
            {
                theirs.insert(format!("dns {} {addr} for {}", c[1], c[0]));
            }
        }
        if !c[4].is_empty() {
            theirs.insert(format!("sni {}", c[4]));
        }
        if !c[5].is_empty() {
            theirs.insert(format!("http {}", c[5].split(':').next().unwrap()));
        }
    }
    let mut ours: BTreeSet<String> = BTreeSet::new();
    for fl in &flows {
        for (name, source) in names_of(&fl["responder"]) {
            match source.as_str() {
                "sni" | "http" => {
                    ours.insert(format!("{source} {name}"));
                }
                _ => {}
            }
        }
    }
    // Each DNS answer tshark decodes names that address, for that client, in our flows.
    for line in theirs.iter().filter(|l| l.starts_with("dns ")) {
        let w: Vec<&str> = line.split(' ').collect();
        let (qname, addr, client) = (w[1], w[2], w[4]);
        let named = flows.iter().any(|fl| {
            fl["responder"]["addr"] == addr
                && (fl["initiator"]["addr"] == client || addr.contains(':'))
                && names_of(&fl["responder"]).contains(&(qname.to_string(), "dns".to_string()))
        });
        let connected = flows
            .iter()
            .any(|fl| fl["responder"]["addr"] == addr && fl["initiator"]["addr"] == client);
        if connected {
            assert!(named, "tshark: {line}; ours: {flows_json}");
        }
    }
    let theirs_app: BTreeSet<String> = theirs
        .iter()
        .filter(|l| !l.starts_with("dns "))
        .cloned()
        .collect();
    assert_eq!(ours, theirs_app, "tshark: {t}");
    assert!(theirs.len() >= 5, "{t}");

    // The same output with one thread and with several and small chunks.
    for args in [
        vec!["--flows", "--json"],
        vec!["--stats", "--json"],
        vec!["--flows"],
        vec!["--stats"],
    ] {
        let mut one = vec!["-j", "1"];
        one.extend(&args);
        one.push(&f);
        let mut many = vec!["-j", "4", "--chunk-size", "4096"];
        many.extend(&args);
        many.push(&f);
        assert_eq!(analyze(&one), analyze(&many), "{args:?}");
    }

    // Stats: per-owner destinations by name.
    let stats: serde_json::Value =
        serde_json::from_str(analyze(&["--stats", "--json", &f]).lines().next().unwrap()).unwrap();
    let dests = stats["report"]["destinations"].as_array().unwrap();
    assert!(
        dests.iter().any(|o| o["kind"] == "process"
            && o["destinations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["name"] == "secure.shop.test" || d["name"] == "www.shop.test")),
        "{stats}"
    );

    // The report: self-contained, its embedded figures are --stats --json's.
    let html_path = dir.join("report.html");
    let h = html_path.to_str().unwrap();
    analyze(&["--report", h, &f]);
    let html = std::fs::read_to_string(&html_path).unwrap();
    check_report(&html, &stats);
    if let Some(keep) = std::env::var_os("NAMES_E2E_KEEP") {
        std::fs::copy(&html_path, std::path::Path::new(&keep).join("report.html")).unwrap();
    }
    report_in_chromium(&html_path, &stats);
}

/// Debian's headless Chromium, when installed (scripts/setup.sh installs it): the page runs
/// without a console message, draws the chart and the map, shows `--stats --json`'s figures,
/// and its flow table sorts (`#sort=` clicks the headers).
fn report_in_chromium(page: &std::path::Path, stats: &serde_json::Value) {
    if Command::new("chromium").arg("--version").output().is_err() {
        eprintln!("chromium not installed: the rendering check is skipped");
        return;
    }
    let profile = page.with_extension("profile");
    let dump = |hash: &str| -> String {
        let out = Command::new("timeout")
            .args([
                "120",
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
            ])
            .args([
                "--disable-background-networking",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(format!("file://{}{hash}", page.display()))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let console: Vec<&str> = err.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(console.is_empty(), "console messages: {console:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let dom = dump("#sort=packets");
    assert!(
        dom.contains(r#"data-rendered="1""#),
        "the script did not finish: {dom}"
    );
    for svg in ["chart-svg", "map-svg"] {
        let at = dom
            .find(&format!(r#"id="{svg}""#))
            .unwrap_or_else(|| panic!("no {svg}"));
        let end = at + dom[at..].find("</svg>").unwrap();
        assert!(dom[at..end].matches("<path").count() > 0, "{svg} is empty");
    }
    let lower = dom.to_ascii_lowercase();
    assert!(!lower.contains("src=") && !lower.contains("href="), "{dom}");
    let figure = |key: &str| -> String {
        let tag = format!(r#"data-figure="{key}">"#);
        let at = dom.find(&tag).unwrap_or_else(|| panic!("no figure {key}")) + tag.len();
        dom[at..at + dom[at..].find('<').unwrap()].to_string()
    };
    let t = &stats["report"]["totals"];
    let commas = |n: u64| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    assert_eq!(figure("packets"), commas(t["packets"].as_u64().unwrap()));
    assert_eq!(figure("flows"), commas(t["flows"].as_u64().unwrap()));
    assert_eq!(
        figure("drops"),
        commas(t["drops"]["packets"].as_u64().unwrap())
    );
    assert_eq!(
        figure("remote_endpoints"),
        commas(t["remote_endpoints"].as_u64().unwrap())
    );
    // The packets column (the 6th) as the table shows it.
    let column = |dom: &str| -> Vec<u64> {
        let body = &dom[dom.find("<tbody>").unwrap()..dom.find("</tbody>").unwrap()];
        body.split("<tr>")
            .skip(1)
            .map(|row| {
                let cell = row.split("<td").nth(6).unwrap();
                let text = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
                text.replace(',', "").parse().unwrap()
            })
            .collect()
    };
    let down = column(&dom);
    assert!(down.len() >= 2, "{dom}");
    assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
    let up = column(&dump("#sort=packets,packets"));
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
    assert_ne!(down, up);
    let _ = std::fs::remove_dir_all(&profile);
}

/// No external resource, and the embedded data's stats equal `stats`.
pub fn check_report(html: &str, stats: &serde_json::Value) {
    let lower = html.to_ascii_lowercase();
    for bad in ["src=", "href=", "<link", "@import", "url("] {
        assert!(
            !lower.contains(bad),
            "the report refers to something: {bad}"
        );
    }
    assert!(!lower.contains("https://"), "the report names an https URL");
    for (i, _) in lower.match_indices("http://") {
        assert!(
            lower[i..].starts_with("http://www.w3.org/2000/svg"),
            "the report names a URL at {i}"
        );
    }
    let start = html
        .find(r#"<script id="data" type="application/json">"#)
        .expect("data element")
        + r#"<script id="data" type="application/json">"#.len();
    let end = start + html[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(&data["stats"], stats);
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
}

/// IPv4 on a RAW link: `proto` from `src` to `dst`, `l4` after the header.
fn ip4(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let total = (20 + l4.len()) as u16;
    let [hi, lo] = total.to_be_bytes();
    let mut p = vec![0x45, 0, hi, lo, 0, 1, 0x40, 0, 64, proto, 0, 0];
    p.extend(src);
    p.extend(dst);
    p.extend(l4);
    p
}

fn tcp(sport: u16, dport: u16, seq: u32, flags: u8) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(sport.to_be_bytes());
    t.extend(dport.to_be_bytes());
    t.extend(seq.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    t.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t
}

/// Two containers with one address (each its own network namespace): web1 resolves
/// api.shop.test and connects, web2 connects to the same address without resolving; a SYN of
/// web2's is dropped. The name is web1's only; the report shows the drop and the figures.
#[test]
fn names_are_per_container_and_the_report_shows_drops() {
    use formats::meta::{ContainerInfo, DropInfo, PacketMeta, ProcessInfo, Role};
    use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
    use formats::pcapng::{linktype, Direction};
    use std::sync::Arc;
    let owner = |name: &str, pid: u32, role: Role| PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid,
            comm: "curl".into(),
            exe: "/usr/bin/curl".into(),
            ..Default::default()
        })),
        container: Some(Arc::new(ContainerInfo {
            id: format!("{pid:064}"),
            name: name.into(),
            ..Default::default()
        })),
        role,
        ..Default::default()
    };
    let web1_in = owner("web1", 11, Role::Receiver);
    let web1_out = owner("web1", 11, Role::Sender);
    let web2_out = owner("web2", 22, Role::Sender);
    let web2_drop = PacketMeta {
        drop: Some(Arc::new(DropInfo {
            reason: "NETFILTER_DROP".into(),
            location: "nft_do_chain+0x46f".into(),
        })),
        ..web2_out.clone()
    };
    let (me, dns, api) = ([198, 18, 0, 1], [198, 18, 3, 53], [198, 18, 3, 7]);
    let mut answer = vec![0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    answer.extend(b"\x03api\x04shop\x04test\x00\x00\x01\x00\x01");
    answer.extend([0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4]);
    answer.extend(api);
    let mut udp = Vec::new();
    udp.extend(53u16.to_be_bytes());
    udp.extend(5000u16.to_be_bytes());
    udp.extend(((8 + answer.len()) as u16).to_be_bytes());
    udp.extend([0, 0]);
    udp.extend(&answer);
    let frames: Vec<(Vec<u8>, Direction, &PacketMeta)> = vec![
        (ip4(17, dns, me, &udp), Direction::In, &web1_in),
        (
            ip4(6, me, api, &tcp(40000, 443, 1, 0x02)),
            Direction::Out,
            &web1_out,
        ),
        (
            ip4(6, api, me, &tcp(443, 40000, 9, 0x12)),
            Direction::In,
            &web1_in,
        ),
        (
            ip4(6, me, api, &tcp(40001, 443, 5, 0x02)),
            Direction::Out,
            &web2_out,
        ),
        (
            ip4(6, me, api, &tcp(40001, 443, 5, 0x02)),
            Direction::Out,
            &web2_drop,
        ),
    ];
    let dir = ptcap_tests::TempDir::new("names-containers");
    let file = dir.path().join("c.pcapng");
    let mut w = PcapngWriter::new(Vec::new(), WriterConfig::new("ptcap-test", "0")).unwrap();
    let raw = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::RAW, 262_144))
        .unwrap();
    for (i, (f, d, m)) in frames.iter().enumerate() {
        let ts = 1_800_000_000_000_000_000 + i as u64 * 1_000_000;
        w.write_packet(raw, ts, f.len() as u32, f, Some(*d), m)
            .unwrap();
    }
    std::fs::write(&file, w.finish().unwrap()).unwrap();
    let f = file.to_str().unwrap();
    let flows: Vec<serde_json::Value> = analyze(&["--flows", "--json", f])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["type"] == "flow")
        .collect();
    let of_port = |p: u64| {
        flows
            .iter()
            .find(|f| f["initiator"]["port"] == p)
            .unwrap_or_else(|| panic!("no flow from port {p}: {flows:?}"))
    };
    assert_eq!(
        names_of(&of_port(40000)["responder"]),
        set(&[("api.shop.test", "dns")])
    );
    assert!(names_of(&of_port(40001)["responder"]).is_empty());
    let stats: serde_json::Value =
        serde_json::from_str(analyze(&["--stats", "--json", f]).lines().next().unwrap()).unwrap();
    assert_eq!(
        stats["report"]["names_of_one_container"],
        serde_json::json!([{"name": "api.shop.test", "container": "web1", "flows": 1, "bytes": 80}])
    );
    let page = dir.path().join("c.html");
    analyze(&["--report", page.to_str().unwrap(), f]);
    let html = std::fs::read_to_string(&page).unwrap();
    check_report(&html, &stats);
    assert_eq!(stats["report"]["totals"]["drops"]["packets"], 1);
    report_in_chromium(&page, &stats);
}

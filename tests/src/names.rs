//! The name-learning tests' peers (issue 13): a DNS server with a CNAME chain and the TCP
//! services behind its names, and a client that resolves and connects, both small Python
//! programs run in the test's namespaces (`python3 -c SERVER NET V6WEB`,
//! `python3 -c CLIENT NET SRC PLAN [V6SRC]`).

use std::process::Stdio;

use crate::pair::{NamespacePair, Running};

/// Starts [`SERVER`] in `ns` for the pair's subnet, its AAAA `v6_web` (the addresses must be
/// on `ns`'s interface), and waits until it listens; it is killed with the pair.
pub fn start_server(net: &mut NamespacePair, ns: &str, v6_web: &str) -> Running {
    let n = format!("198.18.{}", net.subnet);
    Running::start_until(
        net,
        ns,
        &["python3", "-c", SERVER, &n, v6_web],
        Stdio::null(),
        "ready",
    )
}

/// DNS on 198.18.N.2:53 (UDP): www.shop.test CNAME edge.cdn.test, whose A depends on the
/// client (.1 gets .7, .11 gets .8) and whose AAAA is V6_WEB. TCP 9000: reads, answers `ok`;
/// 8080: HTTP; 8443: reads the ClientHello and closes (no TLS server is needed for SNI).
pub const SERVER: &str = r#"
import socket, struct, sys, threading
net, v6web = sys.argv[1], sys.argv[2]
def name(msg, at):
    out = []
    while msg[at]:
        l = msg[at]; out.append(msg[at+1:at+1+l].decode()); at += 1 + l
    return ".".join(out), at + 1
def enc(n):
    return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".")) + b"\0"
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind((net + ".2", 53))
def dns():
    s = udp
    while True:
        q, (caddr, cport) = s.recvfrom(512)
        qid = q[:2]
        qname, at = name(q, 12)
        qtype = struct.unpack("!H", q[at:at+2])[0]
        question = q[12:at+4]
        answers = []
        if qname == "www.shop.test":
            answers.append(b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, len(enc("edge.cdn.test"))) + enc("edge.cdn.test"))
            edge = 12 + len(question) + 12
            if qtype == 1:
                last = 7 if caddr.endswith(".1") else 8
                answers.append(struct.pack("!HHHIH", 0xc000 | edge, 1, 1, 60, 4) + socket.inet_aton(net + "." + str(last)))
            elif qtype == 28:
                answers.append(struct.pack("!HHHIH", 0xc000 | edge, 28, 1, 60, 16) + socket.inet_pton(socket.AF_INET6, v6web))
        r = qid + struct.pack("!HHHHH", 0x8180, 1, len(answers), 0, 0) + question + b"".join(answers)
        s.sendto(r, (caddr, cport))
def serve(c, port):
    try:
        d = c.recv(65536)
        if port == 8080:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        elif port == 9000:
            c.sendall(b"ok")
    finally:
        c.close()
def listener(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(16)
    return s, port
def tcp(s, port):
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, port), daemon=True).start()
socks = [listener(socket.AF_INET, "0.0.0.0", p) for p in (9000, 8080, 8443)]
socks.append(listener(socket.AF_INET6, v6web, 9000))
threading.Thread(target=dns, daemon=True).start()
for s, p in socks:
    threading.Thread(target=tcp, args=(s, p), daemon=True).start()
print("ready", file=sys.stderr, flush=True)
threading.Event().wait()
"#;

/// Asks the server for `www.shop.test` from `src`, then connects as the plan says: `one`
/// (from .1: TCP, HTTP, TLS to the A, TCP to the AAAA from V6SRC), `late` (from .1: TCP to .7
/// from port 40041, the A asked from 40042, TCP to it from 40043), else (from .11: TCP to its
/// A, then to .7, which it never resolved).
pub const CLIENT: &str = r#"
import socket, ssl, struct, sys
net, src, plan = sys.argv[1], sys.argv[2], sys.argv[3]
def ask(qtype, sport):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, sport)); s.settimeout(3)
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x04shop\x04test\x00" + struct.pack("!HH", qtype, 1)
    s.sendto(q, (net + ".2", 53))
    r, _ = s.recvfrom(512)
    s.close()
    fam = socket.AF_INET if qtype == 1 else socket.AF_INET6
    n = 4 if qtype == 1 else 16
    return socket.inet_ntop(fam, r[-n:])
def connect(addr, port, sport, payload=None, sni=None, srcaddr=None):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.bind((srcaddr or src, sport)); c.settimeout(3)
    c.connect((addr, port))
    if sni:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        try:
            ctx.wrap_socket(c, server_hostname=sni)
        except (ssl.SSLError, OSError):
            pass
    else:
        c.sendall(payload or b"hello\n")
        while c.recv(65536): pass
    c.close()
if plan == "one":
    a = ask(1, 40001)
    connect(a, 9000, 40011)
    connect(a, 8080, 40012, b"GET / HTTP/1.1\r\nHost: www.shop.test:8080\r\nUser-Agent: t\r\n\r\n")
    connect(a, 8443, 40013, sni="secure.shop.test")
    a6 = ask(28, 40002)
    connect(a6, 9000, 40014, srcaddr=sys.argv[4])
elif plan == "late":
    # The address before any answer named it, then the name, then the address again.
    connect(net + ".7", 9000, 40041)
    a = ask(1, 40042)
    connect(a, 9000, 40043)
else:
    a = ask(1, 40021)
    connect(a, 9000, 40031)
    # Client 1's address, which this client never resolved.
    connect(net + ".7", 9000, 40032)
print("done", a, file=sys.stderr, flush=True)
"#;

//! The node harness itself (tests/src/node.rs): masquerade out of the uplink, the DNAT
//! port-forward into a container, the forward-chain drop, and clean-up.

use std::process::Stdio;

use ptcap_tests::node::{Node, NodeRules};

/// A TCP server in `ns` on `port` that writes the peer's address to each client and closes.
fn server(node: &mut Node, ns: &str, port: u16) -> ptcap_tests::node::Process {
    let py = format!(
        "import socket,sys\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
         s.bind(('0.0.0.0',{port}));s.listen(16);print('ready',file=sys.stderr,flush=True)\n\
         while True:\n c,a=s.accept();c.sendall(a[0].encode());c.close()\n"
    );
    node.start_until(ns, &["python3", "-c", &py], Stdio::null(), "ready")
}

/// What the server at `ip:port` saw as the client's address, or the connect error.
fn connect(node: &Node, ns: &str, ip: &str, port: u16, timeout: f32) -> String {
    let py = format!(
        "import socket\ntry:\n s=socket.create_connection(('{ip}',{port}),timeout={timeout});print(s.recv(100).decode())\n\
         except Exception as e:\n print('error',type(e).__name__)\n"
    );
    node.run_in(ns, &["python3", "-c", &py]).trim().to_string()
}

#[test]
fn node_forwards_masquerades_port_forwards_and_drops() {
    let mut node = Node::new("harness", NodeRules::default());
    let out_ns = node.outside.ns.clone();
    let c0 = node.containers[0].clone();
    let c1 = node.containers[1].clone();
    let out_ip = node.outside.ip.clone();
    let _s80 = server(&mut node, &out_ns, 80);
    let _s81 = server(&mut node, &out_ns, 81);
    let _c1srv = server(&mut node, &c1.ns, 80);

    // Masqueraded: the outside host sees the node's uplink address.
    assert_eq!(connect(&node, &c0.ns, &out_ip, 80, 5.0), node.uplink_ip);
    assert_eq!(connect(&node, &c1.ns, &out_ip, 80, 5.0), node.uplink_ip);
    // Port-forwarded: the outside reaches container 1's server through the uplink address.
    assert_eq!(
        connect(&node, &out_ns, &node.uplink_ip.clone(), 8080, 5.0),
        node.outside.ip
    );
    // Dropped: container 0 to port 81 times out; container 1 to port 81 is not dropped.
    assert_eq!(
        connect(&node, &c0.ns, &out_ip, 81, 1.5),
        "error TimeoutError"
    );
    assert_eq!(connect(&node, &c1.ns, &out_ip, 81, 5.0), node.uplink_ip);
    // No route back: the outside cannot reach a container directly.
    assert!(connect(&node, &out_ns, &c1.ip, 80, 1.0).starts_with("error"));

    let names = node.namespaces();
    drop(node);
    let left = ptcap_tests::run_checked(&["ip", "netns", "list"]);
    for ns in names {
        assert!(!left.contains(&ns), "{ns} left behind: {left}");
    }
}

/* Shared between the eBPF programs (*.bpf.c) and user space (bpf/src/lib.rs mirrors these
 * layouts with #[repr(C)] structs; keep them in step). Fixed-width types only. */
#ifndef PTCAP_EVENTS_H
#define PTCAP_EVENTS_H

/* Every record in the ring buffer starts with struct ptcap_event_header; `type` says what
 * follows, so socket and process events can share the ring (and its ordering) later. */
#define PTCAP_EVENT_PACKET 1
#define PTCAP_EVENT_SOCK 2 /* struct ptcap_sock_event */
#define PTCAP_EVENT_PROC 3 /* struct ptcap_proc_event */
#define PTCAP_EVENT_DROP 4 /* struct ptcap_drop_event: a packet the kernel freed as dropped */

/* Largest snapshot length the kernel side copies (tcpdump's default, 256 KiB). */
#define PTCAP_MAX_SNAPLEN 262144
/* Packets accumulated in the ring (bytes) before the reader is woken; below that, user space
 * picks them up at its poll timeout (poll_loop in capture/src/session.rs). A record wakes it
 * when it takes the unread bytes across the threshold, not every record above it: between the
 * wake-up and the reader's first published position every record would raise an irq_work,
 * paid by the sender (ptcap_wakeup_flags). Beyond PTCAP_WAKEUP_ALWAYS unread bytes (a
 * crossing two CPUs raced past, a reader that slept through it) every record wakes it again. */
#define PTCAP_WAKEUP_BYTES (256 * 1024)
#define PTCAP_WAKEUP_ALWAYS (1024 * 1024)
/* cBPF programs are at most BPF_MAXINSNS long. */
#define PTCAP_MAX_FILTER_INSNS 4096
/* Filter programs loaded at once (one per link type in use). */
#define PTCAP_MAX_FILTERS 4
/* Interfaces a capture can cover (per-interface counters). */
#define PTCAP_MAX_IFACES 1024
/* Network namespaces captured at once (`ptcap --netns`, repeatable): namespace n's interfaces
 * are keyed in `ifaces` (and named in events) by ifindex | (n << PTCAP_NETNS_SHIFT); each has
 * its own copy of the packet programs, which bakes n in. */
#define PTCAP_MAX_NETNS 8
#define PTCAP_NETNS_SHIFT 24

#define PTCAP_DIR_IN 0
#define PTCAP_DIR_OUT 1

/* struct ptcap_packet_event.flags */
#define PTCAP_PKT_REJECTED 1   /* the filter rejected it (delivered only in check mode) */
#define PTCAP_PKT_VLAN 2       /* an offloaded 802.1Q/802.1ad tag was put back into the bytes */
#define PTCAP_PKT_COPY_FAILED 4 /* bpf_skb_load_bytes failed: no bytes follow */
#define PTCAP_PKT_NAT 8        /* a struct ptcap_nat follows the cap_len packet bytes */
#define PTCAP_PKT_CT_MISS 16   /* conntrack had no entry for it when the program looked (a
                                * connection's first packet at ingress); not set where the
                                * namespace has no conntrack (ct_possible) */

/* struct ptcap_iface_config.flags */
#define PTCAP_IFACE_FILTER 1   /* run filter number `filter` */
#define PTCAP_IFACE_ETHERNET 2 /* the data starts at an Ethernet header (VLAN re-insertion) */

struct ptcap_event_header {
	__u16 type;
	__u16 header_len; /* bytes up to the payload that follows the record's header */
};

struct ptcap_packet_event {
	__u16 type;        /* PTCAP_EVENT_PACKET */
	__u16 header_len;  /* sizeof(struct ptcap_packet_event): packet bytes start here */
	__u8 direction;    /* PTCAP_DIR_* */
	__u8 flags;        /* PTCAP_PKT_* */
	__u16 reserved;
	__u32 ifindex;
	__u32 wire_len;    /* length on the wire (skb->len, plus a re-inserted VLAN tag) */
	__u32 cap_len;     /* bytes that follow */
	__u32 filter_ret;  /* what the filter returned (0 = reject, else the snapshot length) */
	__u64 ts_ns;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 socket_cookie; /* bpf_get_socket_cookie(skb); 0 when the skb has no socket */
};

/* ---- drops (drops.bpf.h) ---------------------------------------------------------------------- */

/* Bytes of a dropped packet copied at most (from its network header; the linear part only). */
#define PTCAP_DROP_MAX_BYTES 8192
/* Drop events per CPU per second at most: a drop storm costs a bounded amount (the excess is
 * counted in ptcap_drop_stats.rate_limited). */
#define PTCAP_DROP_RATE 20000

/* struct ptcap_drop_event.flags */
#define PTCAP_DROP_MAC 1 /* mac[0..14] holds the packet's Ethernet header */

/* A packet the kernel dropped (tracepoint skb:kfree_skb), presented as raw IP: the bytes that
 * follow start at the network header. */
struct ptcap_drop_event {
	__u16 type;        /* PTCAP_EVENT_DROP */
	__u16 header_len;  /* sizeof(struct ptcap_drop_event): packet bytes start here */
	__u8 pkt_type;     /* skb->pkt_type: PACKET_HOST 0 .. PACKET_OUTGOING 4 */
	__u8 flags;        /* PTCAP_DROP_* */
	__u16 protocol;    /* ETH_P_IP or ETH_P_IPV6 (host order) */
	__u32 ifindex;     /* skb->dev (else its route's device, else skb_iif) */
	__u32 reason;      /* enum skb_drop_reason, the running kernel's value */
	__u32 wire_len;    /* bytes from the network header to the end of the packet */
	__u32 cap_len;     /* bytes that follow */
	__u32 filter_ret;  /* the raw-IP filter's result (snaplen when there is no filter) */
	__u32 reserved;
	__u64 ts_ns;       /* bpf_ktime_get_ns() */
	__u64 location;    /* the tracepoint's `location`: the kernel address that freed it */
	__u64 netns;       /* inode number of the device's network namespace */
	__u64 socket_cookie; /* skb->sk's cookie when it has one, else 0 */
	__u8 mac[16];      /* PTCAP_DROP_MAC: the Ethernet header (14 bytes) */
};

/* Value of the per-CPU `drop_stats` array (one entry). */
struct ptcap_drop_stats {
	__u64 seen;         /* drops with a reason of interest on a captured interface */
	__u64 accepted;     /* of those, what the filter accepted */
	__u64 ring_drops;   /* accepted drop events the ring buffer had no room for */
	__u64 rate_limited; /* accepted drop events over PTCAP_DROP_RATE per CPU per second */
};

/* struct ptcap_nat.flags: the conntrack entry's IPS_SRC_NAT / IPS_DST_NAT status bits. */
#define PTCAP_NAT_SRC 1
#define PTCAP_NAT_DST 2

/* The conntrack entry of a NATed connection's packet, when the packet's tuple is not the one its
 * owner's socket sees: with SNAT alone, a packet between the NAT and the responder (it matches
 * neither the entry's original tuple nor its inverse); with DNAT, any packet that is not in the
 * responder's form (the uplink side of a port-forward, where the responder owns it). Appended after the packet bytes when
 * PTCAP_PKT_NAT is set (so the bytes stay at header_len; the record may be unaligned). The
 * original tuple is the connection as its originator's socket sees it (before SNAT/DNAT);
 * the reply tuple is what the responder sends (the responder's socket's view: src = its end).
 * Addresses in network order (IPv4 in the first 4 bytes), ports in host order. */
struct ptcap_nat {
	__u8 family;   /* AF_INET 2, AF_INET6 10 */
	__u8 protocol; /* IPPROTO_TCP 6, IPPROTO_UDP 17 */
	__u8 flags;    /* PTCAP_NAT_* */
	__u8 reserved;
	__u16 orig_sport;
	__u16 orig_dport;
	__u16 reply_sport;
	__u16 reply_dport;
	__u8 orig_src[16];
	__u8 orig_dst[16];
	__u8 reply_src[16];
	__u8 reply_dst[16];
};

/* ---- attribution (attribution.bpf.h) ---------------------------------------------------------- */

/* struct ptcap_sock_event.kind */
#define PTCAP_SOCK_CREATE 1      /* cgroup/sock_create: a process made a socket */
#define PTCAP_SOCK_RELEASE 2     /* cgroup/sock_release: closed */
#define PTCAP_SOCK_BIND 3        /* cgroup/post_bind4/6: local address and port */
#define PTCAP_SOCK_LISTEN 4      /* sockops TCP_LISTEN: a TCP server (process context) */
#define PTCAP_SOCK_OWNER 5       /* connect/sendmsg/recvmsg by a process other than the recorded owner */
#define PTCAP_SOCK_ACTIVE_EST 6  /* sockops: client connection established (4-tuple) */
#define PTCAP_SOCK_PASSIVE_EST 7 /* sockops: accepted child established (4-tuple; owner = listener's) */
#define PTCAP_SOCK_FLOW 8        /* cgroup_skb: a packet of this socket with a tuple not seen before */

/* struct ptcap_sock_event.flags */
#define PTCAP_SOCKF_PROCESS 1    /* pid/tid/uid/gid/comm/cgroup_id are the current process's */
#define PTCAP_SOCKF_INGRESS 2    /* FLOW: learnt from a received packet */

/* Socket and flow events. Addresses in network order (IPv4 in the first 4 bytes), ports in host
 * order, local/remote from the socket's point of view. */
struct ptcap_sock_event {
	__u16 type;       /* PTCAP_EVENT_SOCK */
	__u16 header_len; /* sizeof(struct ptcap_sock_event) */
	__u8 kind;        /* PTCAP_SOCK_* */
	__u8 family;      /* AF_INET 2, AF_INET6 10; 0 unknown */
	__u8 protocol;    /* IPPROTO_*; ICMP echo: ports hold the echo id */
	__u8 sock_type;   /* SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_RAW 3 */
	__u32 pid;        /* tgid (PTCAP_SOCKF_PROCESS) */
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u16 local_port;
	__u16 remote_port;
	__u32 flags;      /* PTCAP_SOCKF_* */
	__u64 ts_ns;
	__u64 cookie;     /* socket cookie */
	__u64 netns_cookie;
	__u64 cgroup_id;
	__u8 local_addr[16];
	__u8 remote_addr[16];
	char comm[16];
};

/* struct ptcap_proc_event.kind */
#define PTCAP_PROC_EXEC 1
#define PTCAP_PROC_FORK 2
#define PTCAP_PROC_EXIT 3
#define PTCAP_PROC_RENAME 4 /* task_rename of a thread-group leader: comm only (no args) */

#define PTCAP_MAX_FILENAME 256
#define PTCAP_MAX_ARGS 1024

struct ptcap_proc_event {
	__u16 type;       /* PTCAP_EVENT_PROC */
	__u16 header_len; /* sizeof(struct ptcap_proc_event): the args bytes start here */
	__u8 kind;        /* PTCAP_PROC_* */
	__u8 reserved[3];
	__u32 pid;        /* tgid (fork: the child's) */
	__u32 tid;
	__u32 ppid;       /* parent's tgid */
	__u32 uid;
	__u32 gid;
	__u32 args_len;   /* bytes of argv (NUL-separated) after the header; EXEC only */
	__u64 ts_ns;
	__u64 cgroup_id;
	char comm[16];
	char filename[PTCAP_MAX_FILENAME]; /* EXEC: the path given to execve */
	__u64 start_boottime; /* EXEC: task->start_boottime (ns; /proc/PID/stat field 22 in ticks) */
};

/* Value of the `ifaces` map (key: ifindex | namespace number << PTCAP_NETNS_SHIFT). */
struct ptcap_iface_config {
	__u32 slot;   /* index into `iface_stats` */
	__u32 filter; /* which filter program, when PTCAP_IFACE_FILTER */
	__u32 flags;  /* PTCAP_IFACE_* */
};

/* Value of the per-CPU `iface_stats` array (index: slot). */
struct ptcap_iface_stats {
	__u64 seen;       /* packets the hook saw */
	__u64 accepted;   /* packets the filter accepted (tcpdump's "received by filter") */
	__u64 ring_drops; /* accepted packets the ring buffer had no room for */
	__u64 copy_errors;
};

/* ---- the filter translated to eBPF (bpf/src/jit.rs) -------------------------------------------- */

/* The place a program keeps for the translated filter (PTCAP_JIT_PLACE in capture.bpf.c):
 * PTCAP_JIT_INSNS no-op jumps after a marker that user space finds and overwrites, same length,
 * before load. A typical expression takes 20-100 instructions per link type; a translation
 * that does not fit falls back to the interpreter. */
#define PTCAP_JIT_INSNS 2048
#define PTCAP_JIT_MAGIC 0x7470746a
/* Bytes of the view a tc program copies into its scratch before the filter runs (then the
 * buffer holds min(len, PTCAP_JIT_HEAD) bytes, an invariant the translation relies on);
 * deeper loads call bpf_skb_load_bytes. */
#define PTCAP_JIT_HEAD 256
/* Placeholder flags: loads beyond the buffer call bpf_skb_load_bytes on the program's context
 * (tc); without it they reject (the drop program's copy is all there is, as for libpcap's
 * caplen). */
#define PTCAP_JIT_HELPER 1

/* What the translated filter reads and writes, in the scratch record before its header. */
struct ptcap_jit_frame {
	__u32 len;     /* the view's length (libpcap's wire length): loads beyond it reject */
	__u32 head;    /* view bytes in the buffer */
	__u32 slot;    /* which filter */
	__u32 ret;     /* the verdict: 0 rejects, else bytes to keep */
	__u32 shift;   /* helper loads: view offset - shift is the skb offset (a re-inserted tag) */
	__u32 reserved;
	__u32 mem[16]; /* cBPF's scratch memory M[] */
	__u8 tmp[8];   /* bpf_skb_load_bytes' destination */
};

/* One classic BPF instruction, as struct sock_filter / struct bpf_insn. */
struct ptcap_cbpf_insn {
	__u16 code;
	__u8 jt;
	__u8 jf;
	__u32 k;
};

#endif

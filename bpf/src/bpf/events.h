/* Shared between the eBPF programs (*.bpf.c) and user space (bpf/src/lib.rs mirrors these
 * layouts with #[repr(C)] structs; keep them in step). Fixed-width types only. */
#ifndef PTCAP_EVENTS_H
#define PTCAP_EVENTS_H

/* Every record in the ring buffer starts with struct ptcap_event_header; `type` says what
 * follows, so socket and process events can share the ring (and its ordering) later. */
#define PTCAP_EVENT_PACKET 1

/* Largest snapshot length the kernel side copies (tcpdump's default, 256 KiB). */
#define PTCAP_MAX_SNAPLEN 262144
/* cBPF programs are at most BPF_MAXINSNS long. */
#define PTCAP_MAX_FILTER_INSNS 4096
/* Filter programs loaded at once (one per link type in use). */
#define PTCAP_MAX_FILTERS 4
/* Interfaces a capture can cover (per-interface counters). */
#define PTCAP_MAX_IFACES 1024

#define PTCAP_DIR_IN 0
#define PTCAP_DIR_OUT 1

/* struct ptcap_packet_event.flags */
#define PTCAP_PKT_REJECTED 1   /* the filter rejected it (delivered only in check mode) */
#define PTCAP_PKT_VLAN 2       /* an offloaded 802.1Q/802.1ad tag was put back into the bytes */
#define PTCAP_PKT_COPY_FAILED 4 /* bpf_skb_load_bytes failed: no bytes follow */

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

/* Value of the `ifaces` map (key: ifindex). */
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

/* One classic BPF instruction, as struct sock_filter / struct bpf_insn. */
struct ptcap_cbpf_insn {
	__u16 code;
	__u8 jt;
	__u8 jf;
	__u32 k;
};

#endif

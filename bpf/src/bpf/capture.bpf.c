// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Packet capture at tcx (or tc clsact) ingress and egress: every packet of the chosen
 * interfaces passes libpcap's compiled filter (classic BPF, translated to eBPF by user space
 * into PTCAP_JIT_PLACE, else run by the interpreter below) and,
 * when accepted, goes to user space through the one ring buffer as a ptcap_packet_event
 * followed by its first min(len, snaplen, filter result) bytes. The programs never change
 * traffic: they always return TCX_NEXT (== TC_ACT_UNSPEC). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Keeps clang from moving a bounds check to a copy of the variable the verifier does not see. */
#define barrier_var(var) asm volatile("" : "+r"(var))

/* Set by user space before load. */
const volatile __u32 snaplen = PTCAP_MAX_SNAPLEN;
/* Check mode: deliver rejected packets too (flagged), whole, so user space can compare the
 * kernel's verdict with libpcap's on the same bytes. */
const volatile __u8 deliver_rejected = 0;
/* Some interface may run a filter (an expression was given). 0 leaves all filter code out of
 * the packet programs: the verifier knows the frozen value and never reaches it (the
 * interpreter's `bpf_loop` callback was most of a packet program's verification, issue 12:
 * 130-190 ms per program). The per-interface PTCAP_IFACE_FILTER flag still decides when it
 * is 1. */
const volatile __u8 filters_on = 1;
/* With filters_on: 1 runs the filters as eBPF code user space translated from them and put in
 * the programs' placeholders (PTCAP_JIT_PLACE), 0 interprets them (a translation too long for
 * the placeholder). Either way the verifier prunes the other. */
const volatile __u8 filters_jit = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* user space resizes it */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PTCAP_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct ptcap_iface_config);
} ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PTCAP_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct ptcap_iface_stats);
} iface_stats SEC(".maps");

/* Filter n occupies entries [n * PTCAP_MAX_FILTER_INSNS, (n + 1) * PTCAP_MAX_FILTER_INSNS). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PTCAP_MAX_FILTERS * PTCAP_MAX_FILTER_INSNS);
	__type(key, __u32);
	__type(value, struct ptcap_cbpf_insn);
} filters SEC(".maps");

/* One scratch record per CPU (a per-CPU array value cannot exceed 32 KiB): the event is built
 * here and handed to bpf_ringbuf_output with its real length, so a 60-byte ACK takes 60 bytes of
 * ring, not snaplen. tc programs do not nest on a CPU, so one slot per CPU is enough. */
struct scratch {
	struct ptcap_jit_frame jit; /* the translated filter's (before hdr: short offsets to data) */
	struct ptcap_packet_event hdr;
	__u8 data[PTCAP_MAX_SNAPLEN + sizeof(struct ptcap_nat)]; /* bytes, then a NAT trailer */
	struct ptcap_nat nat; /* built here (the stack is full), then copied after the bytes */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* user space sets it to the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* ---- the packet as libpcap would see it ---------------------------------------------------- */

/* What the filter and the copy see: the skb's bytes, with an offloaded VLAN tag put back after
 * the MAC addresses (as libpcap does on Linux), so `vlan` filters and the saved bytes agree with
 * tcpdump's. */
struct view {
	struct __sk_buff *skb;
	__u32 len;   /* length of the view (skb->len + 4 with a re-inserted tag) */
	__u32 vlan;  /* a tag is re-inserted at offset 12 */
	__u8 tag[4];
	/* A dropped packet (drops.bpf.h): the bytes are this CPU's `drop_scratch` data, `caplen`
	 * of them (`len` is the length on the wire, as libpcap's `len`); `skb` is unused. */
	__u32 buf;
	__u32 caplen;
};

static __always_inline int drop_buf_load(struct view *v, __u32 off, __u32 n, __u32 *out);

static __always_inline int view_byte(struct view *v, __u32 off, __u8 *out)
{
	if (off < 12)
		return bpf_skb_load_bytes(v->skb, off, out, 1);
	if (off < 16) {
		*out = v->tag[(off - 12) & 3];
		return 0;
	}
	return bpf_skb_load_bytes(v->skb, off - 4, out, 1);
}

/* Loads n (1, 2 or 4) bytes at off in network order; fails out of bounds, as libpcap does. */
static __always_inline int view_load(struct view *v, __u32 off, __u32 n, __u32 *out)
{
	__u8 b[4] = {};

	if ((__u64)off + n > v->len)
		return -1;
	if (!v->vlan) {
		if (n == 1) {
			if (bpf_skb_load_bytes(v->skb, off, b, 1))
				return -1;
			*out = b[0];
		} else if (n == 2) {
			if (bpf_skb_load_bytes(v->skb, off, b, 2))
				return -1;
			*out = ((__u32)b[0] << 8) | b[1];
		} else {
			if (bpf_skb_load_bytes(v->skb, off, b, 4))
				return -1;
			*out = ((__u32)b[0] << 24) | ((__u32)b[1] << 16) | ((__u32)b[2] << 8) | b[3];
		}
		return 0;
	}
	__u32 val = 0;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (i < n) {
			if (view_byte(v, off + i, &b[0]))
				return -1;
			val = (val << 8) | b[0];
		}
	}
	*out = val;
	return 0;
}

/* ---- classic BPF interpreter ----------------------------------------------------------------- */

/* cBPF opcode fields (linux/filter.h, pcap/bpf.h). */
#define CB_CLASS(c) ((c) & 0x07)
#define CB_LD 0x00
#define CB_LDX 0x01
#define CB_ST 0x02
#define CB_STX 0x03
#define CB_ALU 0x04
#define CB_JMP 0x05
#define CB_RET 0x06
#define CB_MISC 0x07
#define CB_SIZE(c) ((c) & 0x18)
#define CB_W 0x00
#define CB_H 0x08
#define CB_B 0x10
#define CB_MODE(c) ((c) & 0xe0)
#define CB_IMM 0x00
#define CB_ABS 0x20
#define CB_IND 0x40
#define CB_MEM 0x60
#define CB_LEN 0x80
#define CB_MSH 0xa0
#define CB_OP(c) ((c) & 0xf0)
#define CB_ADD 0x00
#define CB_SUB 0x10
#define CB_MUL 0x20
#define CB_DIV 0x30
#define CB_OR 0x40
#define CB_AND 0x50
#define CB_LSH 0x60
#define CB_RSH 0x70
#define CB_NEG 0x80
#define CB_MOD 0x90
#define CB_XOR 0xa0
#define CB_JA 0x00
#define CB_JEQ 0x10
#define CB_JGT 0x20
#define CB_JGE 0x30
#define CB_JSET 0x40
#define CB_SRC(c) ((c) & 0x08)
#define CB_X 0x08
#define CB_RVAL(c) ((c) & 0x18)
#define CB_RA 0x10
#define CB_MISCOP(c) ((c) & 0xf8)
#define CB_TAX 0x00
#define CB_TXA 0x80

struct cbpf_state {
	struct view *v;
	__u32 base; /* first entry of the program in `filters` */
	__u32 pc;
	__u32 A;
	__u32 X;
	__u32 ret;
	__u32 M[16];
};

static __always_inline __u32 size_bytes(__u16 code)
{
	switch (CB_SIZE(code)) {
	case CB_W:
		return 4;
	case CB_H:
		return 2;
	default:
		return 1;
	}
}

/* Loads n bytes at off from the view: the skb (tc), or the dropped packet's copy. Two
 * interpreters are built, one per source (`buf` is a constant), because a tracing program may
 * not even contain a call to bpf_skb_load_bytes. */
#define VIEW_LOAD(buf, v, off, n, out) \
	((buf) ? drop_buf_load(v, off, n, out) : view_load(v, off, n, out))

/* One instruction; returns 1 to stop (st->ret holds the verdict). Mirrors libpcap's
 * bpf_filter(): out-of-bounds loads and division by zero reject the packet. */
static __always_inline long cbpf_step_on(__u64 i, void *ctx, const int buf)
{
	struct cbpf_state *st = ctx;
	__u32 idx = st->base + st->pc;
	struct ptcap_cbpf_insn *in;
	__u32 val, off, src;
	__u16 code;
	__u32 k;

	in = bpf_map_lookup_elem(&filters, &idx);
	if (!in || st->pc >= PTCAP_MAX_FILTER_INSNS)
		goto reject;
	code = in->code;
	k = in->k;
	st->pc++;

	switch (CB_CLASS(code)) {
	case CB_LD:
		switch (CB_MODE(code)) {
		case CB_ABS:
		case CB_IND:
			off = k;
			if (CB_MODE(code) == CB_IND) {
				off = st->X + k;
				if (off < st->X) /* wrapped: libpcap rejects */
					goto reject;
			}
			if (VIEW_LOAD(buf, st->v, off, size_bytes(code), &val))
				goto reject;
			st->A = val;
			return 0;
		case CB_LEN:
			st->A = st->v->len;
			return 0;
		case CB_IMM:
			st->A = k;
			return 0;
		case CB_MEM:
			st->A = st->M[k & 15];
			return 0;
		}
		goto reject;
	case CB_LDX:
		switch (CB_MODE(code)) {
		case CB_IMM:
			st->X = k;
			return 0;
		case CB_MEM:
			st->X = st->M[k & 15];
			return 0;
		case CB_LEN:
			st->X = st->v->len;
			return 0;
		case CB_MSH:
			if (VIEW_LOAD(buf, st->v, k, 1, &val))
				goto reject;
			st->X = (val & 0xf) << 2;
			return 0;
		}
		goto reject;
	case CB_ST:
		st->M[k & 15] = st->A;
		return 0;
	case CB_STX:
		st->M[k & 15] = st->X;
		return 0;
	case CB_ALU:
		src = CB_SRC(code) == CB_X ? st->X : k;
		switch (CB_OP(code)) {
		case CB_ADD:
			st->A += src;
			return 0;
		case CB_SUB:
			st->A -= src;
			return 0;
		case CB_MUL:
			st->A *= src;
			return 0;
		case CB_DIV:
			if (src == 0)
				goto reject;
			st->A /= src;
			return 0;
		case CB_MOD:
			if (src == 0)
				goto reject;
			st->A %= src;
			return 0;
		case CB_AND:
			st->A &= src;
			return 0;
		case CB_OR:
			st->A |= src;
			return 0;
		case CB_XOR:
			st->A ^= src;
			return 0;
		case CB_LSH:
			st->A = src < 32 ? st->A << (src & 31) : 0;
			return 0;
		case CB_RSH:
			st->A = src < 32 ? st->A >> (src & 31) : 0;
			return 0;
		case CB_NEG:
			st->A = -st->A;
			return 0;
		}
		goto reject;
	case CB_JMP:
		if (CB_OP(code) == CB_JA) {
			st->pc += k;
			return 0;
		}
		src = CB_SRC(code) == CB_X ? st->X : k;
		switch (CB_OP(code)) {
		case CB_JEQ:
			st->pc += st->A == src ? in->jt : in->jf;
			return 0;
		case CB_JGT:
			st->pc += st->A > src ? in->jt : in->jf;
			return 0;
		case CB_JGE:
			st->pc += st->A >= src ? in->jt : in->jf;
			return 0;
		case CB_JSET:
			st->pc += (st->A & src) ? in->jt : in->jf;
			return 0;
		}
		goto reject;
	case CB_RET:
		st->ret = CB_RVAL(code) == CB_RA ? st->A : k;
		return 1;
	case CB_MISC:
		if (CB_MISCOP(code) == CB_TAX)
			st->X = st->A;
		else
			st->A = st->X;
		return 0;
	}
reject:
	st->ret = 0;
	return 1;
}

static long cbpf_step(__u64 i, void *ctx)
{
	return cbpf_step_on(i, ctx, 0);
}

static long cbpf_step_buf(__u64 i, void *ctx)
{
	return cbpf_step_on(i, ctx, 1);
}

/* Runs filter number `filter` over the view (`buf`: a dropped packet's copy, a constant);
 * returns libpcap's result (0 = reject). */
static __always_inline __u32 run_filter_on(struct view *v, __u32 filter, const int buf)
{
	struct cbpf_state st = {};

	st.v = v;
	st.base = (filter % PTCAP_MAX_FILTERS) * PTCAP_MAX_FILTER_INSNS;
	/* A program that runs off its end (cannot happen with libpcap's output) rejects. */
	bpf_loop(PTCAP_MAX_FILTER_INSNS, buf ? cbpf_step_buf : cbpf_step, &st, 0);
	return st.ret;
}

static __always_inline __u32 run_filter(struct view *v, __u32 filter)
{
	return run_filter_on(v, filter, 0);
}

/* ---- the filter translated to eBPF ----------------------------------------------------------- */

#define PT_STR_(x) #x
#define PT_STR(x) PT_STR_(x)

/* The translated filter's place (bpf/src/jit.rs overwrites it before load, keeping its length).
 * The marker: r0 = PTCAP_JIT_MAGIC, then moves that tell the translator what the compiler chose
 * and what the buffer is: r1 = the context's register, r2 = the frame's (a struct
 * ptcap_jit_frame in a map value), r3 = the buffer's offset from the frame, r4 = the bytes the
 * buffer can hold (a bound the verifier can check the loads against), r5 = PTCAP_JIT_* flags.
 * The code may use r0-r7 (clobbered) and must leave the context's and the frame's registers as
 * they were; it ends by falling through, with the verdict in frame->ret. Until overwritten the
 * place is no-op jumps; without filters_jit it is dead code the verifier removes. */
#define PTCAP_JIT_PLACE(ctx, frame, buf_off, buf_max, flags)                                     \
	asm volatile("r0 = " PT_STR(PTCAP_JIT_MAGIC) "\n\t"                                        \
		     "r1 = %[c]\n\t"                                                                \
		     "r2 = %[f]\n\t"                                                                \
		     "r3 = %[d]\n\t"                                                                \
		     "r4 = %[h]\n\t"                                                                \
		     "r5 = %[fl]\n\t"                                                               \
		     ".rept " PT_STR(PTCAP_JIT_INSNS) "\n\t"                                        \
		     "goto +0\n\t"                                                                  \
		     ".endr\n\t"                                                                    \
		     :                                                                               \
		     : [c] "r"(ctx), [f] "r"(frame), [d] "i"(buf_off), [h] "i"(buf_max),             \
		       [fl] "i"(flags)                                                               \
		     : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "memory")

/* ---- NAT: the conntrack entry behind a translated packet --------------------------------------- */

/* Set by user space before load. 0 leaves the lookup out: the verifier removes the dead branch,
 * so the same object loads on a kernel without the conntrack kfuncs (user space retries with 0
 * when the load with 1 fails, and falls back to ctnetlink). */
const volatile __u8 nat_lookup = 0;

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts,
					 __u32 opts__sz) __ksym __weak;
extern void bpf_ct_release(struct nf_conn *ct) __ksym __weak;

#define PT_IPS_SRC_NAT 16 /* enum ip_conntrack_status */
#define PT_IPS_DST_NAT 32
/* struct bpf_ct_opts as kernels before conntrack zones (6.11) know it; later ones accept it. */
#define PT_CT_OPTS_OLD_SZ 12
#define PT_ETH_P_IP_ 0x0800
#define PT_ETH_P_IPV6_ 0x86DD

/* A TCP/UDP packet's tuple; addresses and ports in network order. */
struct pkt_tuple {
	__u32 src[4];
	__u32 dst[4];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 proto;
};

/* Direct packet access (no helper calls): the headers of a TCP/UDP packet are in the skb's
 * linear part; when they are not, the packet is not looked up. */
static __always_inline int pkt_tuple_parse(struct __sk_buff *skb, __u32 l3, struct pkt_tuple *t)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u16 *ports;

	if (l3 > 14)
		return -1;
	if (skb->protocol == bpf_htons(PT_ETH_P_IP_)) {
		struct iphdr *ip = data + l3;
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			return -1;
		if (ip->frag_off & bpf_htons(0x1fff)) /* a later fragment has no ports */
			return -1;
		t->family = 2;
		t->proto = ip->protocol;
		t->src[0] = ip->saddr;
		t->dst[0] = ip->daddr;
		ihl = (ip->ihl & 0xf) * 4;
		if (ihl < sizeof(*ip))
			return -1;
		ports = (void *)ip + ihl;
	} else if (skb->protocol == bpf_htons(PT_ETH_P_IPV6_)) {
		struct ipv6hdr *ip6 = data + l3;

		if ((void *)(ip6 + 1) > end)
			return -1;
		t->family = 10;
		t->proto = ip6->nexthdr; /* extension headers: not looked up */
		__builtin_memcpy(t->src, &ip6->saddr, 16);
		__builtin_memcpy(t->dst, &ip6->daddr, 16);
		ports = (void *)(ip6 + 1);
	} else {
		return -1;
	}
	if (t->proto != 6 && t->proto != 17)
		return -1;
	if ((void *)(ports + 2) > end)
		return -1;
	t->sport = ports[0];
	t->dport = ports[1];
	return 0;
}

/* The packet carries a full local socket whose own tuple is the packet's: nothing rewrote it
 * (the common case for a host's own traffic on egress), so the lookup is skipped. */
static __always_inline int own_socket_tuple(struct __sk_buff *skb, struct pkt_tuple *t)
{
	struct bpf_sock *sk = skb->sk;
	__u32 fam, sport, dport, a0, a1, a2, a3, b0, b1, b2, b3;

	if (!sk)
		return 0;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	/* Every field read at its own constant offset: the verifier refuses arithmetic on a
	 * socket pointer, which clang emits for fields compared under && otherwise. */
	fam = sk->family;
	sport = sk->src_port;
	dport = sk->dst_port;
	barrier_var(fam);
	barrier_var(sport);
	barrier_var(dport);
	if (bpf_htons((__u16)sport) != t->sport || (__u16)dport != t->dport)
		return 0;
	if (t->family == 2) {
		a0 = sk->src_ip4;
		b0 = sk->dst_ip4;
		barrier_var(a0);
		barrier_var(b0);
		return fam == 2 && a0 == t->src[0] && b0 == t->dst[0];
	}
	if (fam != 10)
		return 0;
	a0 = sk->src_ip6[0];
	barrier_var(a0);
	a1 = sk->src_ip6[1];
	barrier_var(a1);
	a2 = sk->src_ip6[2];
	barrier_var(a2);
	a3 = sk->src_ip6[3];
	barrier_var(a3);
	b0 = sk->dst_ip6[0];
	barrier_var(b0);
	b1 = sk->dst_ip6[1];
	barrier_var(b1);
	b2 = sk->dst_ip6[2];
	barrier_var(b2);
	b3 = sk->dst_ip6[3];
	barrier_var(b3);
	return a0 == t->src[0] && a1 == t->src[1] && a2 == t->src[2] && a3 == t->src[3] &&
	       b0 == t->dst[0] && b1 == t->dst[1] && b2 == t->dst[2] && b3 == t->dst[3];
}

static __always_inline int addr_eq(const __u32 *a, const __u32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* Fills *out and returns 1 when the packet belongs to a NATed conntrack entry and its tuple is
 * not its owner's view (see struct ptcap_nat); sets PTCAP_PKT_CT_MISS when there is no entry
 * (user space may ask ctnetlink later: a first packet's entry exists by then). One lookup: tc
 * ingress runs before netfilter, so a packet has the tuple conntrack itself looks up (an entry's
 * original or reply tuple); tc egress runs after it, so a translated packet has the inverse of
 * the other direction's tuple (and an untranslated one is found that way too). */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/* Conntrack's own PRE_ROUTING hooks (nf_conntrack_proto.c), for ct_possible: their addresses,
 * which the verifier resolves from the BTF ids libbpf gives. Conntrack registers its hooks of
 * a family together (PRE_ROUTING, LOCAL_OUT, the confirm hooks), so the one tells. Weak: a
 * kernel without them (conntrack not built, or not in its BTF) leaves them 0. Each is a search
 * of the kernel's BTF by libbpf at load (about a millisecond): two, not four. */
extern unsigned int ipv4_conntrack_in(void *priv, struct sk_buff *skb,
				      const struct nf_hook_state *state) __ksym __weak;
extern unsigned int ipv6_conntrack_in(void *priv, struct sk_buff *skb,
				      const struct nf_hook_state *state) __ksym __weak;

/* Whether the hook list `entries` (a struct nf_hook_entries, or NULL) holds `fn`; up to 16
 * entries are looked at, and a longer list is taken to hold it. */
static __always_inline int hook_list_has(struct nf_hook_entries *entries, __u64 fn)
{
	__u16 n = 0;
	int i;

	if (!entries)
		return 0;
	if (bpf_core_read(&n, sizeof(n), &entries->num_hook_entries))
		return 1;
	for (i = 0; i < 16; i++) {
		__u64 f = 0;

		if (i >= n)
			return 0;
		if (bpf_core_read(&f, sizeof(f), &entries->hooks[i].hook))
			return 1;
		if (f == fn)
			return 1;
	}
	return 1;
}

/* Whether conntrack can hold an entry for the packet in its device's namespace. Conntrack runs
 * in a namespace only once something there needs it (NAT, a stateful rule): it then hooks
 * PRE_ROUTING and LOCAL_OUT of the family. Without its hooks the lookup, a hash of the tuple
 * in the global table that costs a third of the program, would miss (issue 12). Conntrack's
 * own hook functions are looked for, not just any hook: a namespace with a bridge has
 * br_netfilter's `ip_sabotage_in` at PRE_ROUTING (where bridge-nf-call-iptables is on), and
 * every bridged packet of a node without NAT was looked up in vain, in the kernel and then
 * again in user space. */
__noinline int ct_possible(struct __sk_buff *skb)
{
	struct sk_buff *k;
	struct net_device *dev;
	struct net *net = 0;
	void *hooks[4] = {}; /* NF_INET_PRE_ROUTING .. NF_INET_LOCAL_OUT */
	int v4 = skb->protocol == bpf_htons(0x0800);
	__u64 in;

	if (!bpf_ksym_exists(bpf_cast_to_kern_ctx))
		return 1;
	k = bpf_cast_to_kern_ctx(skb);
	/* The device and its namespace as typed pointers (plain loads); the hook table with a
	 * probe: the verifier walking struct net's members for every state that reaches here
	 * doubled the program's verification time. */
	dev = k->dev;
	if (!dev)
		return 1;
	net = dev->nd_net.net;
	if (!net)
		return 1;
	if (v4 ? bpf_core_read(hooks, sizeof(hooks), &net->nf.hooks_ipv4[0])
	       : bpf_core_read(hooks, sizeof(hooks), &net->nf.hooks_ipv6[0]))
		return 1;
	if (!hooks[0] && !hooks[3])
		return 0;
	in = v4 ? (__u64)ipv4_conntrack_in : (__u64)ipv6_conntrack_in;
	if (!in)
		return 1; /* cannot tell conntrack's hooks from others */
	return hook_list_has(hooks[0], in);
}

static __always_inline int nat_of(struct __sk_buff *skb, __u32 l3, __u8 direction,
				  struct ptcap_nat *out, __u8 *flags)
{
	struct bpf_ct_opts opts = {};
	struct bpf_sock_tuple bt = {};
	struct pkt_tuple t = {};
	struct nf_conn *ct;
	unsigned long status;
	int inv = direction == PTCAP_DIR_OUT, i;
	__u32 sz, *o_src, *o_dst, *r_src, *r_dst;
	__u16 o_sport, o_dport;

	if (!bpf_ksym_exists(bpf_skb_ct_lookup))
		return 0;
	/* No conntrack in the namespace: no entry now, none later (not PTCAP_PKT_CT_MISS, which
	 * has user space ask ctnetlink for an entry still to come: a query per flow, and a cache
	 * lookup per packet, for nothing). */
	if (!ct_possible(skb))
		return 0;
	if (pkt_tuple_parse(skb, l3, &t))
		return 0;
	/* Only on egress: at ingress a packet that crossed a veth still carries the sender's socket
	 * of the other namespace, whose tuple says nothing about this namespace's NAT. */
	if (inv && own_socket_tuple(skb, &t))
		return 0;
	if (t.family == 2) {
		bt.ipv4.saddr = inv ? t.dst[0] : t.src[0];
		bt.ipv4.daddr = inv ? t.src[0] : t.dst[0];
		bt.ipv4.sport = inv ? t.dport : t.sport;
		bt.ipv4.dport = inv ? t.sport : t.dport;
		sz = sizeof(bt.ipv4);
	} else {
		__builtin_memcpy(bt.ipv6.saddr, inv ? t.dst : t.src, 16);
		__builtin_memcpy(bt.ipv6.daddr, inv ? t.src : t.dst, 16);
		bt.ipv6.sport = inv ? t.dport : t.sport;
		bt.ipv6.dport = inv ? t.sport : t.dport;
		sz = sizeof(bt.ipv6);
	}
	opts.netns_id = -1; /* BPF_F_CURRENT_NETNS: the namespace of the packet's device */
	opts.l4proto = t.proto;
	ct = bpf_skb_ct_lookup(skb, &bt, sz, &opts, PT_CT_OPTS_OLD_SZ);
	if (!ct) {
		*flags |= PTCAP_PKT_CT_MISS;
		return 0;
	}
	status = ct->status;
	if (!(status & (PT_IPS_SRC_NAT | PT_IPS_DST_NAT))) {
		bpf_ct_release(ct);
		return 0;
	}
	o_src = (__u32 *)out->orig_src;
	o_dst = (__u32 *)out->orig_dst;
	r_src = (__u32 *)out->reply_src;
	r_dst = (__u32 *)out->reply_dst;
	/* u3.all holds an IPv4 address in its first word; the rest is left zero. */
	for (i = 0; i < 4; i++) {
		int keep = t.family == 10 || i == 0;

		o_src[i] = keep ? ct->tuplehash[0].tuple.src.u3.all[i] : 0;
		o_dst[i] = keep ? ct->tuplehash[0].tuple.dst.u3.all[i] : 0;
		r_src[i] = keep ? ct->tuplehash[1].tuple.src.u3.all[i] : 0;
		r_dst[i] = keep ? ct->tuplehash[1].tuple.dst.u3.all[i] : 0;
	}
	o_sport = ct->tuplehash[0].tuple.src.u.all;
	o_dport = ct->tuplehash[0].tuple.dst.u.all;
	out->orig_sport = bpf_ntohs(o_sport);
	out->orig_dport = bpf_ntohs(o_dport);
	out->reply_sport = bpf_ntohs(ct->tuplehash[1].tuple.src.u.all);
	out->reply_dport = bpf_ntohs(ct->tuplehash[1].tuple.dst.u.all);
	bpf_ct_release(ct);
	/* With SNAT alone the originator owns the connection: its own form needs nothing. With
	 * DNAT the responder does, and the originator's form is the translated one for it. */
	if (!(status & PT_IPS_DST_NAT)) {
		if (addr_eq(t.src, o_src) && addr_eq(t.dst, o_dst) && t.sport == o_sport &&
		    t.dport == o_dport)
			return 0; /* the originator's packet, not rewritten (yet) */
		if (addr_eq(t.src, o_dst) && addr_eq(t.dst, o_src) && t.sport == o_dport &&
		    t.dport == o_sport)
			return 0; /* a reply, already translated back */
	}
	out->family = t.family;
	out->protocol = t.proto;
	out->flags = ((status & PT_IPS_SRC_NAT) ? PTCAP_NAT_SRC : 0) |
		     ((status & PT_IPS_DST_NAT) ? PTCAP_NAT_DST : 0);
	out->reserved = 0;
	return 1;
}

/* ---- the hook ---------------------------------------------------------------------------------- */

/* The wake-up thresholds (events.h), lowered by user space for a ring too small for them
 * (`-B`): an eighth and half of the ring. */
const volatile __u64 wakeup_bytes = PTCAP_WAKEUP_BYTES;
const volatile __u64 wakeup_always = PTCAP_WAKEUP_ALWAYS;

/* bpf_ringbuf_output's flags for a record of `len` bytes (events.h, PTCAP_WAKEUP_BYTES). */
static __always_inline __u64 ptcap_wakeup_flags(__u64 len)
{
	__u64 unread = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	if ((unread < wakeup_bytes && unread + len >= wakeup_bytes) || unread >= wakeup_always)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void count_drop(struct ptcap_iface_stats *stats)
{
	if (stats)
		stats->ring_drops++;
}

/* Copies the view's bytes [0, cap) to data; nonzero when the skb has fewer. */
static __always_inline int copy_head(struct __sk_buff *skb, struct view *v, __u8 *data,
				     __u32 cap)
{
	if (v->vlan) {
		__u64 head = cap < 12 ? cap : 12;

		barrier_var(head);
		if (head > 12)
			head = 12;
		if (head > 0 && bpf_skb_load_bytes(skb, 0, data, head))
			return -1;
		data[12] = v->tag[0];
		data[13] = v->tag[1];
		data[14] = v->tag[2];
		data[15] = v->tag[3];
		if (cap > 16) {
			__u64 rest = cap - 16;

			barrier_var(rest);
			if (rest > PTCAP_MAX_SNAPLEN - 16)
				rest = PTCAP_MAX_SNAPLEN - 16;
			barrier_var(rest);
			if (rest > 0 && bpf_skb_load_bytes(skb, 12, data + 16, rest))
				return -1;
		}
	} else if (cap > 0) {
		__u64 n = cap;

		barrier_var(n);
		if (n > PTCAP_MAX_SNAPLEN)
			n = PTCAP_MAX_SNAPLEN;
		barrier_var(n);
		if (n > 0 && bpf_skb_load_bytes(skb, 0, data, n))
			return -1;
	}
	return 0;
}

/* Copies the view's bytes [PTCAP_JIT_HEAD, cap) to data, after copy_head's first
 * PTCAP_JIT_HEAD. */
static __always_inline int copy_tail(struct __sk_buff *skb, struct view *v, __u8 *data,
				     __u32 cap)
{
	__u64 n = cap - PTCAP_JIT_HEAD;

	barrier_var(n);
	if (n > PTCAP_MAX_SNAPLEN - PTCAP_JIT_HEAD)
		n = PTCAP_MAX_SNAPLEN - PTCAP_JIT_HEAD;
	barrier_var(n);
	if (n > 0 && bpf_skb_load_bytes(skb, PTCAP_JIT_HEAD - (v->vlan ? 4 : 0),
					data + PTCAP_JIT_HEAD, n))
		return -1;
	return 0;
}

/* One program for both hooks (issue 12's start-up: the packet program is most of the verifier's
 * work, and the two copies were the same code): user space sets one_program where the kernel has
 * bpf_cast_to_kern_ctx (6.2+), attaches the ingress program to both hooks and leaves the egress
 * copies unloaded. The hook is then the one sk_buff's tc_at_ingress names: tcx and tc clsact set
 * it on ingress and clear it on egress. Elsewhere each program has its fixed direction. */
const volatile __u8 one_program = 0;

static __always_inline __u8 hook_direction(struct __sk_buff *skb, __u8 fixed)
{
	struct sk_buff *k;

	if (!one_program || !bpf_ksym_exists(bpf_cast_to_kern_ctx) ||
	    !bpf_core_field_exists(k->tc_at_ingress))
		return fixed;
	k = bpf_cast_to_kern_ctx(skb);
	return BPF_CORE_READ_BITFIELD(k, tc_at_ingress) ? PTCAP_DIR_IN : PTCAP_DIR_OUT;
}

static __always_inline int capture_packet(struct __sk_buff *skb, __u8 fixed_direction, __u32 netns_no)
{
	__u8 direction = hook_direction(skb, fixed_direction);
	/* The interface's key (events.h, PTCAP_NETNS_SHIFT); namespace 0's is its ifindex. */
	__u32 ifindex = skb->ifindex | (netns_no << PTCAP_NETNS_SHIFT);
	struct ptcap_iface_config *cfg;
	struct ptcap_iface_stats *stats;
	struct scratch *s;
	struct view v = {};
	__u32 ret, cap, cpu, slot;
	__u8 flags = 0, copied;

	cfg = bpf_map_lookup_elem(&ifaces, &ifindex);
	if (!cfg)
		return TCX_NEXT;
	slot = cfg->slot;
	stats = bpf_map_lookup_elem(&iface_stats, &slot);
	if (stats)
		stats->seen++;

	v.skb = skb;
	v.len = skb->len;
	if ((cfg->flags & PTCAP_IFACE_ETHERNET) && skb->vlan_present) {
		__u32 proto = skb->vlan_proto; /* __be16 in the low bytes */
		__u32 tci = skb->vlan_tci;

		v.vlan = 1;
		v.len += 4;
		v.tag[0] = proto & 0xff;
		v.tag[1] = (proto >> 8) & 0xff;
		v.tag[2] = (tci >> 8) & 0xff;
		v.tag[3] = tci & 0xff;
	}

	cpu = bpf_get_smp_processor_id();
	s = bpf_map_lookup_elem(&scratch, &cpu);
	if (!s) {
		count_drop(stats);
		return TCX_NEXT;
	}

	ret = snaplen;
	copied = 0; /* the view's first min(len, PTCAP_JIT_HEAD) bytes are in s->data */
	if (filters_on && (cfg->flags & PTCAP_IFACE_FILTER)) {
		if (filters_jit) {
			/* The translated filter reads the first bytes from the scratch (they are the
			 * first bytes to keep too), deeper ones with bpf_skb_load_bytes. */
			__u32 head = v.len < PTCAP_JIT_HEAD ? v.len : PTCAP_JIT_HEAD;

			if (copy_head(skb, &v, s->data, head)) {
				if (stats)
					stats->copy_errors++;
				ret = 0; /* in a register: the verifier then ends this path here */
			} else {
				copied = 1;
				s->jit.len = v.len;
				s->jit.head = head;
				s->jit.slot = cfg->filter;
				s->jit.shift = v.vlan ? 4 : 0;
				s->jit.ret = 0;
				PTCAP_JIT_PLACE(skb, &s->jit,
						__builtin_offsetof(struct scratch, data) -
						    __builtin_offsetof(struct scratch, jit),
						PTCAP_JIT_HEAD, PTCAP_JIT_HELPER);
				ret = s->jit.ret;
			}
		} else {
			ret = run_filter(&v, cfg->filter);
		}
	}
	if (ret == 0) {
		if (!deliver_rejected)
			return TCX_NEXT;
		flags |= PTCAP_PKT_REJECTED;
	} else if (stats) {
		stats->accepted++;
	}
	if (v.vlan)
		flags |= PTCAP_PKT_VLAN;

	cap = v.len;
	if (cap > snaplen)
		cap = snaplen;
	if (!deliver_rejected && cap > ret)
		cap = ret;
	if (cap > PTCAP_MAX_SNAPLEN)
		cap = PTCAP_MAX_SNAPLEN;
	/* Only for packets that are kept and only where the data has no in-band VLAN tag. */
	if (nat_lookup && ret != 0 &&
	    nat_of(skb, (cfg->flags & PTCAP_IFACE_ETHERNET) ? 14 : 0, direction, &s->nat, &flags))
		flags |= PTCAP_PKT_NAT;

	if (!copied) {
		if (copy_head(skb, &v, s->data, cap))
			goto copy_failed;
	} else if (cap > PTCAP_JIT_HEAD) {
		/* then the view is longer: its first PTCAP_JIT_HEAD bytes are there */
		if (copy_tail(skb, &v, s->data, cap))
			goto copy_failed;
	}
	goto send;

copy_failed:
	if (stats)
		stats->copy_errors++;
	flags |= PTCAP_PKT_COPY_FAILED;
	cap = 0;
send:;
	__u64 trailer = 0;

	if (flags & PTCAP_PKT_NAT) {
		__u64 at = cap;

		barrier_var(at);
		if (at > PTCAP_MAX_SNAPLEN)
			at = PTCAP_MAX_SNAPLEN;
		__builtin_memcpy(s->data + at, &s->nat, sizeof(s->nat));
		trailer = sizeof(s->nat);
	}
	s->hdr.type = PTCAP_EVENT_PACKET;
	s->hdr.header_len = sizeof(struct ptcap_packet_event);
	s->hdr.direction = direction;
	s->hdr.flags = flags;
	s->hdr.reserved = 0;
	s->hdr.ifindex = ifindex;
	s->hdr.wire_len = v.len;
	s->hdr.cap_len = cap;
	s->hdr.filter_ret = ret;
	s->hdr.ts_ns = bpf_ktime_get_ns();
	s->hdr.socket_cookie = bpf_get_socket_cookie(skb);
	__u64 size = cap;

	barrier_var(size);
	if (size > PTCAP_MAX_SNAPLEN)
		size = PTCAP_MAX_SNAPLEN;
	barrier_var(size);
	/* Wake the reader only once a batch has accumulated: a wakeup per packet costs more than
	 * the packet at tens of thousands of packets per second. User space polls with a short
	 * timeout, so a trickle still arrives within milliseconds. */
	__u64 len = sizeof(struct ptcap_packet_event) + size + trailer;

	if (bpf_ringbuf_output(&events, &s->hdr, len, ptcap_wakeup_flags(len)))
		count_drop(stats);
	return TCX_NEXT;
}

/* tcx/* sets the expected attach type; a tcx link accepts a tc program on either hook, and tc
 * clsact ignores it. `capture` is the ingress program, and with one_program both hooks'. */
SEC("tcx/ingress")
int capture(struct __sk_buff *skb)
{
	return capture_packet(skb, PTCAP_DIR_IN, 0);
}

SEC("tcx/egress")
int capture_egress(struct __sk_buff *skb)
{
	return capture_packet(skb, PTCAP_DIR_OUT, 0);
}

/* The copies for namespaces 1 .. PTCAP_MAX_NETNS - 1 (`--netns` given several times). A tc
 * program cannot tell the namespace of its device without kernel-pointer walks, and an
 * attachment passes it nothing: the number is baked into each copy. User space loads only the
 * copies it needs (autoload), so one namespace costs what it did. */
#define PTCAP_NETNS_COPY(n)                                                                    \
	SEC("tcx/ingress")                                                                      \
	int capture_##n(struct __sk_buff *skb)                                                  \
	{                                                                                       \
		return capture_packet(skb, PTCAP_DIR_IN, n);                                    \
	}                                                                                       \
	SEC("tcx/egress")                                                                       \
	int capture_egress_##n(struct __sk_buff *skb)                                           \
	{                                                                                       \
		return capture_packet(skb, PTCAP_DIR_OUT, n);                                   \
	}
PTCAP_NETNS_COPY(1)
PTCAP_NETNS_COPY(2)
PTCAP_NETNS_COPY(3)
PTCAP_NETNS_COPY(4)
PTCAP_NETNS_COPY(5)
PTCAP_NETNS_COPY(6)
PTCAP_NETNS_COPY(7)

/* Socket, flow and process events for attribution share the `events` ring. */
#include "attribution.bpf.h"
/* So do the packets the kernel dropped. */
#include "drops.bpf.h"

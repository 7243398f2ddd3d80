// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Packet capture at tcx (or tc clsact) ingress and egress: every packet of the chosen
 * interfaces passes libpcap's compiled filter (classic BPF, run by the interpreter below) and,
 * when accepted, goes to user space through the one ring buffer as a ptcap_packet_event
 * followed by its first min(len, snaplen, filter result) bytes. The programs never change
 * traffic: they always return TCX_NEXT (== TC_ACT_UNSPEC). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Keeps clang from moving a bounds check to a copy of the variable the verifier does not see. */
#define barrier_var(var) asm volatile("" : "+r"(var))

/* Set by user space before load. */
const volatile __u32 snaplen = PTCAP_MAX_SNAPLEN;
/* Check mode: deliver rejected packets too (flagged), whole, so user space can compare the
 * kernel's verdict with libpcap's on the same bytes. */
const volatile __u8 deliver_rejected = 0;

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
	struct ptcap_packet_event hdr;
	__u8 data[PTCAP_MAX_SNAPLEN];
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

/* ---- the hook ---------------------------------------------------------------------------------- */

static __always_inline void count_drop(struct ptcap_iface_stats *stats)
{
	if (stats)
		stats->ring_drops++;
}

static __always_inline int capture(struct __sk_buff *skb, __u8 direction)
{
	__u32 ifindex = skb->ifindex;
	struct ptcap_iface_config *cfg;
	struct ptcap_iface_stats *stats;
	struct scratch *s;
	struct view v = {};
	__u32 ret, cap, cpu, slot;
	__u8 flags = 0;

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
		flags |= PTCAP_PKT_VLAN;
	}

	ret = snaplen;
	if (cfg->flags & PTCAP_IFACE_FILTER)
		ret = run_filter(&v, cfg->filter);
	if (ret == 0) {
		if (!deliver_rejected)
			return TCX_NEXT;
		flags |= PTCAP_PKT_REJECTED;
	} else if (stats) {
		stats->accepted++;
	}

	cap = v.len;
	if (cap > snaplen)
		cap = snaplen;
	if (!deliver_rejected && cap > ret)
		cap = ret;

	cpu = bpf_get_smp_processor_id();
	s = bpf_map_lookup_elem(&scratch, &cpu);
	if (!s) {
		count_drop(stats);
		return TCX_NEXT;
	}
	if (cap > PTCAP_MAX_SNAPLEN)
		cap = PTCAP_MAX_SNAPLEN;

	if (v.vlan) {
		__u64 head = cap < 12 ? cap : 12;

		barrier_var(head);
		if (head > 12)
			head = 12;
		if (head > 0 && bpf_skb_load_bytes(skb, 0, s->data, head))
			goto copy_failed;
		s->data[12] = v.tag[0];
		s->data[13] = v.tag[1];
		s->data[14] = v.tag[2];
		s->data[15] = v.tag[3];
		if (cap > 16) {
			__u64 rest = cap - 16;

			barrier_var(rest);
			if (rest > PTCAP_MAX_SNAPLEN - 16)
				rest = PTCAP_MAX_SNAPLEN - 16;
			barrier_var(rest);
			if (rest > 0 && bpf_skb_load_bytes(skb, 12, s->data + 16, rest))
				goto copy_failed;
		}
	} else if (cap > 0) {
		__u64 n = cap;

		barrier_var(n);
		if (n > PTCAP_MAX_SNAPLEN)
			n = PTCAP_MAX_SNAPLEN;
		barrier_var(n);
		if (n > 0 && bpf_skb_load_bytes(skb, 0, s->data, n))
			goto copy_failed;
	}
	goto send;

copy_failed:
	if (stats)
		stats->copy_errors++;
	flags |= PTCAP_PKT_COPY_FAILED;
	cap = 0;
send:
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
	__u64 rb_flags = BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= PTCAP_WAKEUP_BYTES)
		rb_flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, s, sizeof(struct ptcap_packet_event) + size, rb_flags))
		count_drop(stats);
	return TCX_NEXT;
}

/* tcx/* sets the expected attach type, which tcx links require; tc clsact ignores it. */
SEC("tcx/ingress")
int capture_ingress(struct __sk_buff *skb)
{
	return capture(skb, PTCAP_DIR_IN);
}

SEC("tcx/egress")
int capture_egress(struct __sk_buff *skb)
{
	return capture(skb, PTCAP_DIR_OUT);
}

/* Socket, flow and process events for attribution share the `events` ring. */
#include "attribution.bpf.h"
/* So do the packets the kernel dropped. */
#include "drops.bpf.h"

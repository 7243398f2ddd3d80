/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Packet fate, drops: the tracepoint skb:kfree_skb (tp_btf; a tracepoint, so no kprobes needed)
 * fires for every skb the kernel frees as dropped, with the reason (enum skb_drop_reason) and
 * the freeing code's address. For a packet of a captured interface (the `ifaces` map, in the
 * capture's network namespace) with a reason other than SKB_CONSUMED / NOT_SPECIFIED (unless
 * `drops_all`), the bytes from the network header are copied (raw IP, linear part, at most
 * PTCAP_DROP_MAX_BYTES), the capture's filter compiled for raw IP runs on them, and an accepted
 * one goes to the `events` ring as a ptcap_drop_event, so its order with the packets is kept.
 * Reason values are the running kernel's (CO-RE enum relocations); names are decoded in user
 * space from its BTF. Bounded: at most PTCAP_DROP_RATE events per CPU per second, the rest and
 * those the ring has no room for are counted, never waited for. Included by capture.bpf.c
 * after attribution.bpf.h (it uses the filter code, the ring and the interface table). */
#ifndef PTCAP_DROPS_BPF_H
#define PTCAP_DROPS_BPF_H

/* The captured network namespaces' inode numbers, in the order of their numbers (the high bits,
 * << PTCAP_NETNS_SHIFT, of their interfaces' keys in `ifaces`); set by user space before load.
 * Frozen data, not a hash map: every drop on the host is checked against them, and the
 * verifier knows the count, so the loop is as long as the capture has namespaces. */
const volatile __u64 drop_netns_inum[PTCAP_MAX_NETNS] = {};
const volatile __u32 drop_netns_count = 0;

/* Set by user space before load. */
const volatile __u8 drops_all = 0;         /* also SKB_CONSUMED and NOT_SPECIFIED */
const volatile __u32 drops_filter = 0;     /* the raw-IP filter's slot, when drops_filtered */
const volatile __u8 drops_filtered = 0;
const volatile __u32 drops_rate = PTCAP_DROP_RATE;

struct drop_scratch {
	struct ptcap_jit_frame jit; /* the translated filter's (before hdr: short offsets to data) */
	struct ptcap_drop_event hdr;
	__u8 data[PTCAP_DROP_MAX_BYTES];
	/* Rate window (per CPU): start and events in it. */
	__u64 window_ns;
	__u32 window_events;
	/* A program is building a record on this CPU (an interrupt's drop then skips). */
	__u32 busy;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct drop_scratch);
} drop_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ptcap_drop_stats);
} drop_stats SEC(".maps");

static __always_inline int drop_buf_load(struct view *v, __u32 off, __u32 n, __u32 *out)
{
	__u32 zero = 0, val = 0;
	struct drop_scratch *d = bpf_map_lookup_elem(&drop_scratch, &zero);

	if (!d || (__u64)off + n > v->caplen)
		return -1;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (i < n)
			val = (val << 8) | d->data[(off + i) & (PTCAP_DROP_MAX_BYTES - 1)];
	}
	*out = val;
	return 0;
}

#define PT_ETH_P_IP 0x0800
#define PT_ETH_P_IPV6 0x86dd
#define PT_PACKET_OUTGOING 4

SEC("tp_btf/kfree_skb")
int BPF_PROG(ptcap_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct ptcap_drop_stats *stats;
	struct ptcap_iface_config *cfg;
	struct net_device *dev;
	struct drop_scratch *d;
	struct view v = {};
	__u32 zero = 0, ifindex, ret, ns_bits;
	__u16 proto, nh, mh;
	unsigned char *head;
	__u64 now, netns = 0;
	__u32 len, tail, cap;

	if (!drops_all && (reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED) ||
			   reason == bpf_core_enum_value(enum skb_drop_reason,
							 SKB_DROP_REASON_NOT_SPECIFIED)))
		return 0;
	/* Plain loads through the typed pointers (tp_btf: the verifier turns a load from a
	 * kernel pointer into one that reads 0 where it would fault), not bpf_probe_read_kernel
	 * calls: every drop anywhere on the host comes here, most of them in namespaces not
	 * captured (issue 12: 79 ns per drop with six probe reads, the sender's cost in a flood
	 * that fills its receiver's socket queue). */
	proto = bpf_ntohs(skb->protocol);
	if (proto != PT_ETH_P_IP && proto != PT_ETH_P_IPV6)
		return 0;
	dev = skb->dev;
	if (dev) {
		struct net *net = dev->nd_net.net;

		ifindex = dev->ifindex;
		netns = net ? net->ns.inum : 0;
	} else {
		/* Not yet on a device (a local packet dropped before output): its route's, through
		 * an untyped pointer (probe reads). */
		struct dst_entry *dst = (void *)(skb->_skb_refdst & ~1UL);

		if (dst)
			dev = BPF_CORE_READ(dst, dev);
		if (dev) {
			ifindex = BPF_CORE_READ(dev, ifindex);
			netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		} else {
			ifindex = skb->skb_iif;
		}
	}
	ns_bits = ~0U;
#pragma unroll
	for (int i = 0; i < PTCAP_MAX_NETNS; i++) {
		if (i < drop_netns_count && drop_netns_inum[i] == netns) {
			ns_bits = (__u32)i << PTCAP_NETNS_SHIFT;
			break;
		}
	}
	if (ns_bits == ~0U)
		return 0;
	ifindex |= ns_bits; /* the interface's key, as the packet programs name it */
	cfg = bpf_map_lookup_elem(&ifaces, &ifindex);
	if (!cfg)
		return 0;
	d = bpf_map_lookup_elem(&drop_scratch, &zero);
	stats = bpf_map_lookup_elem(&drop_stats, &zero);
	if (!d || !stats)
		return 0;
	stats->seen++;
	if (d->busy)
		return 0;
	d->busy = 1;

	head = BPF_CORE_READ(skb, head);
	nh = BPF_CORE_READ(skb, network_header);
	mh = BPF_CORE_READ(skb, mac_header);
	tail = BPF_CORE_READ(skb, tail);
	len = BPF_CORE_READ(skb, len);
	/* skb->len counts from skb->data; the packet from its network header is longer by what
	 * was pulled since (or shorter by what is still in front of it). */
	__u64 data_off = (unsigned char *)BPF_CORE_READ(skb, data) - head;
	__s64 wire = (__s64)len + (__s64)data_off - (__s64)nh;
	if (wire <= 0 || wire > 0xffffff || tail <= nh)
		goto out;
	cap = tail - nh; /* the linear part */
	if (cap > wire)
		cap = wire;
	if (cap > snaplen)
		cap = snaplen;
	__u64 n = cap;

	barrier_var(n);
	if (n > PTCAP_DROP_MAX_BYTES)
		n = PTCAP_DROP_MAX_BYTES;
	barrier_var(n);
	if (n == 0 || n > PTCAP_DROP_MAX_BYTES)
		goto out;
	if (bpf_probe_read_kernel(d->data, n, head + nh))
		goto out;
	cap = n;

	v.buf = 1;
	v.len = wire;
	v.caplen = cap;
	ret = snaplen;
	if (drops_filtered && filters_jit) {
		/* The copy is all the filter sees (loads beyond it reject, as beyond libpcap's
		 * caplen). */
		d->jit.len = wire;
		d->jit.head = cap;
		d->jit.slot = drops_filter;
		d->jit.shift = 0;
		d->jit.ret = 0;
		PTCAP_JIT_PLACE(ctx, &d->jit,
				__builtin_offsetof(struct drop_scratch, data) -
				    __builtin_offsetof(struct drop_scratch, jit),
				PTCAP_DROP_MAX_BYTES, 0);
		ret = d->jit.ret;
	} else if (drops_filtered) {
		ret = run_filter_on(&v, drops_filter, 1);
	}
	if (ret == 0)
		goto out;
	stats->accepted++;
	if (cap > ret)
		cap = ret;

	now = bpf_ktime_get_ns();
	if (now - d->window_ns >= 1000000000ULL) {
		d->window_ns = now;
		d->window_events = 0;
	}
	if (d->window_events >= drops_rate) {
		stats->rate_limited++;
		goto out;
	}
	d->window_events++;

	d->hdr.type = PTCAP_EVENT_DROP;
	d->hdr.header_len = sizeof(struct ptcap_drop_event);
	d->hdr.pkt_type = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
	d->hdr.flags = 0;
	d->hdr.protocol = proto;
	d->hdr.ifindex = ifindex;
	d->hdr.reason = reason;
	d->hdr.wire_len = wire;
	d->hdr.cap_len = cap;
	d->hdr.filter_ret = ret;
	d->hdr.reserved = 0;
	d->hdr.ts_ns = now;
	d->hdr.location = (__u64)location;
	d->hdr.netns = netns;
	d->hdr.socket_cookie = 0;
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (sk)
		d->hdr.socket_cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	__builtin_memset(d->hdr.mac, 0, sizeof(d->hdr.mac));
	/* The Ethernet header, when the packet has one right before its network header. */
	if (mh != (__u16)~0U && mh + 14 == nh && dev && BPF_CORE_READ(dev, type) == 1 &&
	    !bpf_probe_read_kernel(d->hdr.mac, 14, head + mh))
		d->hdr.flags |= PTCAP_DROP_MAC;

	__u64 size = cap;
	barrier_var(size);
	if (size > PTCAP_DROP_MAX_BYTES)
		size = PTCAP_DROP_MAX_BYTES;
	barrier_var(size);
	__u64 rec_len = sizeof(struct ptcap_drop_event) + size;

	if (bpf_ringbuf_output(&events, &d->hdr, rec_len, ptcap_wakeup_flags(rec_len)))
		stats->ring_drops++;
out:
	d->busy = 0;
	return 0;
}

#endif

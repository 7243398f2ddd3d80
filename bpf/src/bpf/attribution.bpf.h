/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Attribution without kprobes: who owns each socket, and which socket each flow belongs to.
 * Included by capture.bpf.c so that every event shares the packets' ring buffer (`events`):
 * a socket's creation, its first flow record and the exec of its process reach user space
 * before the packets that depend on them.
 *
 * - cgroup/sock_create: every socket a process creates (cookie -> pid, tid, uid, gid, comm,
 *   cgroup, network namespace).
 * - cgroup/post_bind4/6: local address and port of bound sockets (servers).
 * - cgroup/connect4/6, sendmsg4/6, recvmsg4/6: process context on a socket; an event only when
 *   the process differs from the socket's recorded owner (fd passing, a forked child using the
 *   parent's socket), so the owner stays the process that actually uses the socket.
 * - cgroup/sock_release: the socket is closed (user space evicts it lazily: packets of a closed
 *   TCP socket, FIN and the last ACKs, still follow).
 * - sockops: TCP_LISTEN (the socket is a server), ACTIVE_ESTABLISHED (client 4-tuple) and
 *   PASSIVE_ESTABLISHED (the accepted child: its own cookie, its 4-tuple; its owner is the
 *   listener's, found in user space by the netns and local port).
 * - cgroup_skb/egress and ingress: tuple learning where the socket still is. Every packet a
 *   socket sends or receives passes here with skb->sk, in the socket's own network namespace,
 *   whatever interfaces ptcap watches; a flow event goes out when its (netns, protocol, local,
 *   remote) tuple is new or changed owner, so the host-side copy of the packet (a veth peer, a
 *   bridge, forwarded) is matched by its tuple. This replaces the DESIGN's per-namespace tcx
 *   "observer": no interface of another namespace needs to be found, watched or attached, it
 *   covers loopback and namespaces created later, and egress learning runs before the packet
 *   reaches any tcx hook (ip_finish_output precedes the device), so the flow record always
 *   precedes the packet in the ring.
 * - tp_btf sched_process_exec/fork/exit: the process table stays fresh (exe, argv read from
 *   the new image's memory at exec, so short-lived processes keep their arguments).
 * - tp_btf task_rename: a thread-group leader's new comm (prctl(PR_SET_NAME), a write to
 *   /proc/PID/comm). Busybox's shell runs its applets as execve("/proc/self/exe", ["nc", ..])
 *   and then renames itself: the exec alone names such a process "exe".
 * Every program returns "allow" and changes nothing. */
#ifndef PTCAP_ATTRIBUTION_BPF_H
#define PTCAP_ATTRIBUTION_BPF_H

#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define PT_AF_INET 2
#define PT_AF_INET6 10
#define PT_ETH_P_IP 0x0800
#define PT_ETH_P_IPV6 0x86DD

/* Last process seen using a socket (cookie -> tgid): events only on change. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} sock_owner SEC(".maps");

/* Flow tuples already reported: the FULL tuple (network namespace, family, protocol, local and
 * remote address and port) -> the socket cookie last reported for it. */
struct flow_key {
	__u64 netns;
	__u8 local[16];
	__u8 remote[16];
	__u16 lport;
	__u16 rport;
	__u8 family;
	__u8 proto;
	__u8 pad[2];
};

_Static_assert(sizeof(struct flow_key) == 48, "flow_key_eq compares six words");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 131072);
	__type(key, struct flow_key);
	__type(value, __u64);
} flow_seen SEC(".maps");

/* Per socket, the flow tuple it last reported or found reported (flow_learn's fast path): a
 * socket's every packet has the same tuple unless it is unconnected, and the socket's own
 * storage is found without hashing the 48-byte key, nor touching the LRU's shared state. Valid
 * only while flow_gen is what it was then: flow_gen changes whenever flow_seen gets a new or
 * changed entry, so a tuple another socket took over is looked up again. */
struct flow_memo {
	struct flow_key k;
	__u64 gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct flow_memo);
} flow_last SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} flow_gen SEC(".maps");

/* Counts events the ring had no room for (index 0: socket events, 1: process events). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} attr_drops SEC(".maps");

static __always_inline void attr_drop(__u32 idx)
{
	__u64 *n = bpf_map_lookup_elem(&attr_drops, &idx);

	if (n)
		(*n)++;
}

static __always_inline void fill_process(struct ptcap_sock_event *e)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();

	e->pid = pt >> 32;
	e->tid = (__u32)pt;
	e->uid = (__u32)ug;
	e->gid = ug >> 32;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->flags |= PTCAP_SOCKF_PROCESS;
}

static __always_inline struct ptcap_sock_event *sock_event_new(__u8 kind)
{
	struct ptcap_sock_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		attr_drop(0);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = PTCAP_EVENT_SOCK;
	e->header_len = sizeof(*e);
	e->kind = kind;
	e->ts_ns = bpf_ktime_get_ns();
	return e;
}

static __always_inline void sock_fields(struct ptcap_sock_event *e, struct bpf_sock *sk)
{
	e->family = sk->family;
	e->protocol = sk->protocol;
	e->sock_type = sk->type;
}

/* ---- socket lifetime (process context) ------------------------------------------------------ */

SEC("cgroup/sock_create")
int ptcap_sock_create(struct bpf_sock *sk)
{
	struct ptcap_sock_event *e = sock_event_new(PTCAP_SOCK_CREATE);
	__u64 cookie = bpf_get_socket_cookie(sk);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	bpf_map_update_elem(&sock_owner, &cookie, &tgid, BPF_ANY);
	if (!e)
		return 1;
	sock_fields(e, sk);
	e->cookie = cookie;
	e->netns_cookie = bpf_get_netns_cookie(sk);
	fill_process(e);
	bpf_ringbuf_submit(e, 0);
	return 1;
}

SEC("cgroup/sock_release")
int ptcap_sock_release(struct bpf_sock *sk)
{
	struct ptcap_sock_event *e;
	__u64 cookie = bpf_get_socket_cookie(sk);

	if (!bpf_map_lookup_elem(&sock_owner, &cookie))
		return 1; /* never reported: nothing to evict */
	bpf_map_delete_elem(&sock_owner, &cookie);
	e = sock_event_new(PTCAP_SOCK_RELEASE);
	if (!e)
		return 1;
	sock_fields(e, sk);
	e->cookie = cookie;
	bpf_ringbuf_submit(e, 0);
	return 1;
}

static __always_inline int post_bind(struct bpf_sock *sk, int v6)
{
	struct ptcap_sock_event *e = sock_event_new(PTCAP_SOCK_BIND);

	if (!e)
		return 1;
	sock_fields(e, sk);
	e->cookie = bpf_get_socket_cookie(sk);
	e->netns_cookie = bpf_get_netns_cookie(sk);
	e->local_port = sk->src_port;
	if (v6) {
		__u32 a[4];

		a[0] = sk->src_ip6[0];
		a[1] = sk->src_ip6[1];
		a[2] = sk->src_ip6[2];
		a[3] = sk->src_ip6[3];
		__builtin_memcpy(e->local_addr, a, 16);
	} else {
		__u32 a = sk->src_ip4;

		__builtin_memcpy(e->local_addr, &a, 4);
	}
	fill_process(e);
	bpf_ringbuf_submit(e, 0);
	return 1;
}

SEC("cgroup/post_bind4")
int ptcap_post_bind4(struct bpf_sock *sk)
{
	return post_bind(sk, 0);
}

SEC("cgroup/post_bind6")
int ptcap_post_bind6(struct bpf_sock *sk)
{
	return post_bind(sk, 1);
}

/* connect, sendmsg, recvmsg: report the process when it is not the socket's recorded owner. */
static __always_inline int sock_addr_use(struct bpf_sock_addr *ctx, int v6)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *owner = bpf_map_lookup_elem(&sock_owner, &cookie);
	struct ptcap_sock_event *e;

	if (owner && *owner == tgid)
		return 1;
	bpf_map_update_elem(&sock_owner, &cookie, &tgid, BPF_ANY);
	e = sock_event_new(PTCAP_SOCK_OWNER);
	if (!e)
		return 1;
	e->family = ctx->family;
	e->protocol = ctx->protocol;
	e->sock_type = ctx->type;
	e->cookie = cookie;
	e->netns_cookie = bpf_get_netns_cookie(ctx);
	e->remote_port = bpf_ntohs((__u16)ctx->user_port);
	if (v6) {
		__u32 a[4];

		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
		__builtin_memcpy(e->remote_addr, a, 16);
	} else {
		__u32 a = ctx->user_ip4;

		__builtin_memcpy(e->remote_addr, &a, 4);
	}
	fill_process(e);
	bpf_ringbuf_submit(e, 0);
	return 1;
}

SEC("cgroup/connect4")
int ptcap_connect4(struct bpf_sock_addr *ctx)
{
	return sock_addr_use(ctx, 0);
}

SEC("cgroup/connect6")
int ptcap_connect6(struct bpf_sock_addr *ctx)
{
	return sock_addr_use(ctx, 1);
}

SEC("cgroup/sendmsg4")
int ptcap_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_addr_use(ctx, 0);
}

SEC("cgroup/sendmsg6")
int ptcap_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_addr_use(ctx, 1);
}

SEC("cgroup/recvmsg4")
int ptcap_recvmsg4(struct bpf_sock_addr *ctx)
{
	return sock_addr_use(ctx, 0);
}

SEC("cgroup/recvmsg6")
int ptcap_recvmsg6(struct bpf_sock_addr *ctx)
{
	return sock_addr_use(ctx, 1);
}

/* ---- TCP state (sockops; not named `sockops`: that clashes with a vmlinux symbol) ----------- */

SEC("sockops")
int ptcap_tcp_ops(struct bpf_sock_ops *skops)
{
	struct ptcap_sock_event *e;
	__u32 op = skops->op;
	__u8 kind;

	if (op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		kind = PTCAP_SOCK_ACTIVE_EST;
	else if (op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		kind = PTCAP_SOCK_PASSIVE_EST;
	else if (op == BPF_SOCK_OPS_TCP_LISTEN_CB)
		kind = PTCAP_SOCK_LISTEN;
	else
		return 1;
	e = sock_event_new(kind);
	if (!e)
		return 1;
	e->family = skops->family;
	e->protocol = 6;
	e->sock_type = 1;
	e->cookie = bpf_get_socket_cookie(skops);
	e->netns_cookie = bpf_get_netns_cookie(skops);
	e->local_port = skops->local_port;
	e->remote_port = bpf_ntohl(skops->remote_port) >> 16;
	if (skops->family == PT_AF_INET6) {
		__u32 l[4], r[4];

		l[0] = skops->local_ip6[0];
		l[1] = skops->local_ip6[1];
		l[2] = skops->local_ip6[2];
		l[3] = skops->local_ip6[3];
		r[0] = skops->remote_ip6[0];
		r[1] = skops->remote_ip6[1];
		r[2] = skops->remote_ip6[2];
		r[3] = skops->remote_ip6[3];
		__builtin_memcpy(e->local_addr, l, 16);
		__builtin_memcpy(e->remote_addr, r, 16);
	} else {
		__u32 l = skops->local_ip4, r = skops->remote_ip4;

		__builtin_memcpy(e->local_addr, &l, 4);
		__builtin_memcpy(e->remote_addr, &r, 4);
	}
	bpf_ringbuf_submit(e, 0);
	return 1;
}

/* ---- tuple learning (cgroup_skb) --------------------------------------------------------------- */

/* Parses the packet at the network header; fills key with src as "local" (swap for ingress).
 * With helper calls: for headers beyond the skb's linear part (flow_parse's slow path). */
static __always_inline int flow_parse_copied(struct __sk_buff *skb, struct flow_key *k)
{
	__u32 l4off;
	__u8 proto;

	if (skb->protocol == bpf_htons(PT_ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return -1;
		k->family = PT_AF_INET;
		proto = ip.protocol;
		__builtin_memcpy(k->local, &ip.saddr, 4);
		__builtin_memcpy(k->remote, &ip.daddr, 4);
		if (ip.frag_off & bpf_htons(0x1fff))
			proto = 0; /* a later fragment: no ports */
		l4off = (ip.ihl & 0xf) * 4;
	} else if (skb->protocol == bpf_htons(PT_ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return -1;
		k->family = PT_AF_INET6;
		proto = ip6.nexthdr;
		__builtin_memcpy(k->local, &ip6.saddr, 16);
		__builtin_memcpy(k->remote, &ip6.daddr, 16);
		l4off = sizeof(ip6);
	} else {
		return -1;
	}
	k->proto = proto;
	if (proto == 6 || proto == 17 || proto == 136 /* UDP-Lite */ || proto == 132 /* SCTP */) {
		__u16 ports[2];

		if (bpf_skb_load_bytes(skb, l4off, ports, 4))
			return 0;
		k->lport = bpf_ntohs(ports[0]);
		k->rport = bpf_ntohs(ports[1]);
	} else if (proto == 1 || proto == 58) {
		__u8 h[8];

		if (bpf_skb_load_bytes(skb, l4off, h, 8))
			return 0;
		/* Echo request/reply (ICMP 8/0, ICMPv6 128/129): the echo id in both port slots, so
		 * a request and its reply are the same flow in opposite orientations. */
		if ((proto == 1 && (h[0] == 8 || h[0] == 0)) || (proto == 58 && (h[0] == 128 || h[0] == 129))) {
			__u16 id = ((__u16)h[4] << 8) | h[5];

			k->lport = id;
			k->rport = id;
		}
	}
	return 0;
}

/* The ports (or the ICMP echo id in both) from the transport header at `l4`, 8 bytes there. */
static __always_inline void flow_ports(struct flow_key *k, const __u8 *l4)
{
	__u8 proto = k->proto;

	if (proto == 6 || proto == 17 || proto == 136 || proto == 132) {
		k->lport = ((__u16)l4[0] << 8) | l4[1];
		k->rport = ((__u16)l4[2] << 8) | l4[3];
	} else if ((proto == 1 && (l4[0] == 8 || l4[0] == 0)) ||
		   (proto == 58 && (l4[0] == 128 || l4[0] == 129))) {
		__u16 id = ((__u16)l4[4] << 8) | l4[5];

		k->lport = id;
		k->rport = id;
	}
}

/* The same as flow_parse_copied, reading the headers in place (cgroup_skb's direct packet
 * access: skb->data is the network header) where the skb's linear part holds them, as it
 * does for nearly every packet: two bpf_skb_load_bytes calls and their copies fewer on every
 * packet of every socket (issue 12: this program runs on the sender's and the receiver's
 * socket for each packet). */
static __always_inline int flow_parse(struct __sk_buff *skb, struct flow_key *k)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 *l4;
	__u8 proto;

	if (skb->protocol == bpf_htons(PT_ETH_P_IP)) {
		struct iphdr *ip = data;
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			return flow_parse_copied(skb, k);
		k->family = PT_AF_INET;
		proto = ip->protocol;
		__builtin_memcpy(k->local, &ip->saddr, 4);
		__builtin_memcpy(k->remote, &ip->daddr, 4);
		if (ip->frag_off & bpf_htons(0x1fff))
			proto = 0; /* a later fragment: no ports */
		ihl = (ip->ihl & 0xf) * 4;
		l4 = data + ihl;
	} else if (skb->protocol == bpf_htons(PT_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;

		if ((void *)(ip6 + 1) > end)
			return flow_parse_copied(skb, k);
		k->family = PT_AF_INET6;
		proto = ip6->nexthdr;
		__builtin_memcpy(k->local, &ip6->saddr, 16);
		__builtin_memcpy(k->remote, &ip6->daddr, 16);
		l4 = (void *)(ip6 + 1);
	} else {
		return -1;
	}
	k->proto = proto;
	if (proto != 6 && proto != 17 && proto != 136 && proto != 132 && proto != 1 && proto != 58)
		return 0;
	if ((void *)(l4 + 8) > end) {
		/* A datagram shorter than 8 bytes after its header has its ports read as the
		 * copying parser reads them (4 bytes for the ports, 8 for ICMP). */
		__builtin_memset(k, 0, sizeof(*k));
		return flow_parse_copied(skb, k);
	}
	flow_ports(k, l4);
	return 0;
}

static __always_inline void flow_swap(struct flow_key *k)
{
	__u8 t[16];
	__u16 p;

	__builtin_memcpy(t, k->local, 16);
	__builtin_memcpy(k->local, k->remote, 16);
	__builtin_memcpy(k->remote, t, 16);
	p = k->lport;
	k->lport = k->rport;
	k->rport = p;
}

static __always_inline int flow_key_eq(const struct flow_key *a, const struct flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4] &&
	       x[5] == y[5];
}

static __always_inline void flow_memo_set(struct flow_memo *m, const struct flow_key *k, __u64 gen)
{
	if (!m)
		return;
	__builtin_memcpy(&m->k, k, sizeof(*k));
	m->gen = gen;
}

static __always_inline int flow_learn(struct __sk_buff *skb, int ingress)
{
	struct flow_key k = {};
	struct ptcap_sock_event *e;
	struct bpf_sock *sk = skb->sk;
	struct flow_memo *memo;
	__u64 cookie, *seen, *gen;
	__u32 zero = 0;

	if (!sk)
		return 1;
	if (flow_parse(skb, &k))
		return 1;
	if (ingress)
		flow_swap(&k);
	k.netns = bpf_get_netns_cookie(skb);
	gen = bpf_map_lookup_elem(&flow_gen, &zero);
	if (!gen)
		return 1;
	memo = bpf_sk_storage_get(&flow_last, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (memo && memo->gen == *gen && flow_key_eq(&memo->k, &k))
		return 1;
	cookie = bpf_get_socket_cookie(skb);
	seen = bpf_map_lookup_elem(&flow_seen, &k);
	if (seen && *seen == cookie) {
		flow_memo_set(memo, &k, *gen);
		return 1;
	}
	bpf_map_update_elem(&flow_seen, &k, &cookie, BPF_ANY);
	flow_memo_set(memo, &k, __sync_add_and_fetch(gen, 1));
	e = sock_event_new(PTCAP_SOCK_FLOW);
	if (!e)
		return 1;
	e->family = k.family;
	e->protocol = k.proto;
	sk = bpf_sk_fullsock(sk); /* a request or timewait socket has no type */
	e->sock_type = sk ? sk->type : 0;
	e->cookie = cookie;
	e->netns_cookie = k.netns;
	e->local_port = k.lport;
	e->remote_port = k.rport;
	__builtin_memcpy(e->local_addr, k.local, 16);
	__builtin_memcpy(e->remote_addr, k.remote, 16);
	if (ingress)
		e->flags |= PTCAP_SOCKF_INGRESS;
	bpf_ringbuf_submit(e, 0);
	return 1;
}

SEC("cgroup_skb/egress")
int ptcap_flow_egress(struct __sk_buff *skb)
{
	return flow_learn(skb, 0);
}

SEC("cgroup_skb/ingress")
int ptcap_flow_ingress(struct __sk_buff *skb)
{
	return flow_learn(skb, 1);
}

/* ---- processes (tp_btf) ------------------------------------------------------------------------- */

/* `args`: room for argv after the header (exec only; the size must be a constant). */
static __always_inline struct ptcap_proc_event *proc_event_new(__u8 kind, int args)
{
	struct ptcap_proc_event *e =
		bpf_ringbuf_reserve(&events, args ? sizeof(*e) + PTCAP_MAX_ARGS : sizeof(*e), 0);

	if (!e) {
		attr_drop(1);
		return NULL;
	}
	e->type = PTCAP_EVENT_PROC;
	e->header_len = sizeof(*e);
	e->kind = kind;
	e->reserved[0] = e->reserved[1] = e->reserved[2] = 0;
	e->args_len = 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->filename[0] = 0;
	e->start_boottime = 0;
	return e;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ptcap_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ptcap_proc_event *e = proc_event_new(PTCAP_PROC_EXEC, 1);
	__u64 pt = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();
	unsigned long start, end;
	__u64 len;

	if (!e)
		return 0;
	e->pid = pt >> 32;
	e->tid = (__u32)pt;
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->uid = (__u32)ug;
	e->gid = ug >> 32;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	e->start_boottime = BPF_CORE_READ(p, start_boottime);
	start = BPF_CORE_READ(p, mm, arg_start);
	end = BPF_CORE_READ(p, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > PTCAP_MAX_ARGS)
		len = PTCAP_MAX_ARGS;
	barrier_var(len);
	if (len > 0 && len <= PTCAP_MAX_ARGS) {
		__u8 *args = (__u8 *)(e + 1);

		if (bpf_probe_read_user(args, len, (void *)start) == 0)
			e->args_len = len;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ptcap_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ptcap_proc_event *e;
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u64 ug;

	if (ptgid == ctgid)
		return 0; /* a new thread, not a process */
	e = proc_event_new(PTCAP_PROC_FORK, 0);
	if (!e)
		return 0;
	ug = bpf_get_current_uid_gid();
	e->pid = ctgid;
	e->tid = BPF_CORE_READ(child, pid);
	e->ppid = ptgid;
	e->uid = (__u32)ug;
	e->gid = ug >> 32;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), child->comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ptcap_exit, struct task_struct *p)
{
	struct ptcap_proc_event *e;
	__u64 pt = bpf_get_current_pid_tgid();

	if ((__u32)pt != (pt >> 32))
		return 0; /* a thread other than the leader */
	e = proc_event_new(PTCAP_PROC_EXIT, 0);
	if (!e)
		return 0;
	e->pid = pt >> 32;
	e->tid = (__u32)pt;
	e->ppid = 0;
	e->uid = 0;
	e->gid = 0;
	e->cgroup_id = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/task_rename")
int BPF_PROG(ptcap_rename, struct task_struct *task, const char *comm)
{
	struct ptcap_proc_event *e;
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u32 tid = BPF_CORE_READ(task, pid);

	if (tgid != tid)
		return 0; /* a thread's name: not the process's comm */
	e = proc_event_new(PTCAP_PROC_RENAME, 0);
	if (!e)
		return 0;
	e->pid = tgid;
	e->tid = tid;
	e->ppid = 0;
	e->uid = 0;
	e->gid = 0;
	e->cgroup_id = 0;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#endif

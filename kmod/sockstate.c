// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sockets moved between nodes. Everything goes through the kernel's TCP
 * repair interface (the setsockopt() options CRIU uses, called here with
 * kernel pointers), in the order it needs: repair mode, bind, queue
 * sequence numbers, connect, options, queues, windows. What that interface
 * cannot set, the RTT estimate and the byte counters, is set under the
 * socket lock. While a flow is frozen its timers are stopped and the hooks
 * keep its packets (flow.c), so the state captured stays true.
 *
 * A segment that passed the hook just before the flow was in may still
 * reach the socket after the freeze, or after the capture. Nothing waits
 * for it, because it can do no harm: whatever the socket answers is
 * dropped by the hook on the way out, so a late segment is acknowledged
 * by nobody and its sender sends it again, to whoever holds the
 * connection then; an acknowledgement the capture missed only makes the
 * acceptor send octets again that the client already has.
 */

#include "sockstate.h"
#include "flow.h"
#include "netns.h"
#include "service.h"
#include "tcpstate.h"

#include <linux/file.h>
#include <linux/net.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <net/inet6_hashtables.h>
#include <net/inet_connection_sock.h>
#include <net/ipv6.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <uapi/linux/gecko.h>

#define FIN_OUT_STATES (TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 | TCPF_LAST_ACK | TCPF_CLOSING)
#define FIN_IN_STATES (TCPF_CLOSE_WAIT | TCPF_LAST_ACK | TCPF_CLOSING)
/* A connection's, from its establishment until its socket closes: what is captured or mirrored. */
#define CONNECTED_STATES (TCPF_ESTABLISHED | FIN_OUT_STATES | FIN_IN_STATES)

static int repair_opt(struct sock *sk, int opt, const void *val, unsigned int len)
{
	return tcp_setsockopt(sk, SOL_TCP, opt, KERNEL_SOCKPTR((void *)val), len);
}

static int repair_int(struct sock *sk, int opt, int val)
{
	return repair_opt(sk, opt, &val, sizeof(val));
}

struct socket *gecko_sock_lookup(struct gecko_net *gn, int fd, struct netlink_ext_ack *extack)
{
	struct socket *sock;
	int err;

	sock = sockfd_lookup(fd, &err);
	if (!sock) {
		NL_SET_ERR_MSG_MOD(extack, "not a socket of the calling process");
		return ERR_PTR(err);
	}
	if (!sock->sk || sock->sk->sk_family != AF_INET6 || sock->type != SOCK_STREAM ||
	    sock->sk->sk_protocol != IPPROTO_TCP) {
		NL_SET_ERR_MSG_MOD(extack, "not an IPv6 TCP socket");
		sockfd_put(sock);
		return ERR_PTR(-EPROTOTYPE);
	}
	if (!net_eq(sock_net(sock->sk), gn->net)) {
		NL_SET_ERR_MSG_MOD(extack, "the socket belongs to another network namespace");
		sockfd_put(sock);
		return ERR_PTR(-EXDEV);
	}
	return sock;
}

/* The caller's socket @fd, with gn->lock held: for unlock_socket(). */
static struct socket *lock_socket(struct gecko_net *gn, int fd, struct netlink_ext_ack *extack)
{
	struct socket *sock = gecko_sock_lookup(gn, fd, extack);

	if (!IS_ERR(sock))
		mutex_lock(&gn->lock);
	return sock;
}

static void unlock_socket(struct gecko_net *gn, struct socket *sock)
{
	mutex_unlock(&gn->lock);
	sockfd_put(sock);
}

/* The flow of @sk, which must be in one of the @states (a mask). */
static struct gecko_flow *flow_of(struct gecko_net *gn, struct sock *sk, unsigned int states,
				  struct netlink_ext_ack *extack)
{
	struct gecko_flow_key key;
	struct gecko_flow *flow;

	gecko_flow_key_of(sk, &key);
	flow = gecko_flow_find(gn, &key);
	/* A recovered connection's ARRIVED flow keeps its socket, which runs. */
	if (!flow || flow->sk != sk || flow->state == GECKO_FLOW_ARRIVED) {
		NL_SET_ERR_MSG_MOD(extack, "the socket is neither frozen nor being restored");
		return ERR_PTR(-ENOENT);
	}
	if (!(BIT(flow->state) & states)) {
		if (flow->state == GECKO_FLOW_RESTORING)
			NL_SET_ERR_MSG_MOD(extack, "the socket's queues are still being restored");
		else
			NL_SET_ERR_MSG_MOD(extack, "the socket is being restored, not frozen");
		return ERR_PTR(-EBUSY);
	}
	return flow;
}

/*
 * The timestamp clock the restored socket goes on from. Pacing stamps each
 * segment with its departure time (tcp_wstamp_ns), which runs ahead of the
 * clock by what pacing still owes: the peer may hold a TSval from that
 * future already. A clock restored behind it would have the peer drop
 * everything as old (PAWS) until it caught up, and a handoff every second
 * could keep it behind for good.
 */
static u32 ts_clock(const struct tcp_sock *tp)
{
	return tcp_ns_to_ts(max_t(u64, tcp_clock_ns(), tp->tcp_wstamp_ns)) + tp->tsoffset;
}

/* Reads @sk's state, its queues excepted. Caller holds the socket lock. */
static void read_state(struct sock *sk, struct gecko_tcp_state *st)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	bool fin_out = BIT(sk->sk_state) & FIN_OUT_STATES;
	bool fin_in = BIT(sk->sk_state) & FIN_IN_STATES;
	u32 snd_end = tp->write_seq - fin_out;	/* after the last octet queued */
	u32 una = before(snd_end, tp->snd_una) ? snd_end : tp->snd_una;
	u32 nxt = before(snd_end, tp->snd_nxt) ? snd_end : tp->snd_nxt;

	memset(st, 0, sizeof(*st));
	st->state = sk->sk_state;
	if (tp->rx_opt.sack_ok)
		st->flags |= GECKO_TCP_STATE_F_SACK;
	if (tp->rx_opt.wscale_ok) {
		st->flags |= GECKO_TCP_STATE_F_WSCALE;
		st->snd_wscale = tp->rx_opt.snd_wscale;
		st->rcv_wscale = tp->rx_opt.rcv_wscale;
	}
	if (tp->rx_opt.tstamp_ok) {
		st->flags |= GECKO_TCP_STATE_F_TIMESTAMPS;
		st->ts_val = ts_clock(tp);
	}
	if (fin_out)
		st->flags |= GECKO_TCP_STATE_F_FIN_OUT;
	if (fin_in)
		st->flags |= GECKO_TCP_STATE_F_FIN_IN;
	st->mss_clamp = tp->rx_opt.mss_clamp;
	st->rcv_nxt = tp->rcv_nxt;
	st->write_seq = tp->write_seq;
	/* An application that read the peer's FIN read past the data. */
	st->inq_len = after(tp->rcv_nxt - fin_in, tp->copied_seq) ? tp->rcv_nxt - fin_in - tp->copied_seq : 0;
	st->outq_len = snd_end - una;
	st->unsq_len = snd_end - nxt;
	st->snd_wl1 = tp->snd_wl1;
	st->snd_wnd = tp->snd_wnd;
	st->max_window = tp->max_window;
	st->rcv_wnd = tp->rcv_wnd;
	st->rcv_wup = tp->rcv_wup;
	st->srtt_us = tp->srtt_us >> 3;
	st->rttvar_us = tp->rttvar_us;
	st->rto_us = jiffies_to_usecs(inet_csk(sk)->icsk_rto);
	/* The kernel's counters include the FINs, once acknowledged or received. */
	st->bytes_sent = tp->bytes_acked - (tp->snd_una - una) + st->outq_len;
	st->bytes_received = tp->bytes_received - fin_in;
	st->local = sk->sk_v6_rcv_saddr;
	st->remote = sk->sk_v6_daddr;
	st->local_port = inet_sk(sk)->inet_num;
	st->remote_port = ntohs(inet_sk(sk)->inet_dport);
	st->snd_buf = READ_ONCE(sk->sk_sndbuf);
	st->rcv_buf = READ_ONCE(sk->sk_rcvbuf);
}

/*
 * Copying the octets [from, from + len) of a queue out of its skbs, in
 * sequence order. A segment queued partly over what came before (a
 * retransmission) overlaps it: only what is past @next is copied.
 */
struct span {
	u32 from;
	u32 len;
	u8 *dst;
	u32 next;	/* the octets before it are copied */
};

static int copy_skb(struct span *s, const struct sk_buff *skb, u32 seq)
{
	u32 lo = after(s->next, seq) ? s->next : seq;
	u32 hi = before(s->from + s->len, seq + skb->len) ? s->from + s->len : seq + skb->len;
	int err;

	if (!before(lo, hi))
		return 0;
	if (after(lo, s->next))
		return -EIO;	/* a hole */
	err = skb_copy_bits(skb, lo - seq, s->dst + (lo - s->from), hi - lo);
	if (!err)
		s->next = hi;
	return err;
}

static int copy_queues(struct sock *sk, const struct gecko_tcp_state *st, u8 *inq, u8 *outq)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 out_from = st->write_seq - !!(st->flags & GECKO_TCP_STATE_F_FIN_OUT) - st->outq_len;
	struct span in = { tp->copied_seq, st->inq_len, inq, tp->copied_seq };
	struct span out = { out_from, st->outq_len, outq, out_from };
	struct sk_buff *skb;
	int err = 0;

	skb_queue_walk(&sk->sk_receive_queue, skb) {
		/* A SYN in the queue (Fast Open) takes a sequence number, not an octet. */
		u32 seq = TCP_SKB_CB(skb)->seq + !!(TCP_SKB_CB(skb)->tcp_flags & TCPHDR_SYN);

		err = err ?: copy_skb(&in, skb, seq);
	}
	skb_rbtree_walk(skb, &sk->tcp_rtx_queue)
		err = err ?: copy_skb(&out, skb, TCP_SKB_CB(skb)->seq);
	skb_queue_walk(&sk->sk_write_queue, skb)
		err = err ?: copy_skb(&out, skb, TCP_SKB_CB(skb)->seq);
	if (err)
		return err;
	return in.next == in.from + in.len && out.next == out.from + out.len ? 0 : -EIO;
}

static int freeze(struct gecko_net *gn, struct sock *sk, u32 timeout_ms,
		  struct netlink_ext_ack *extack)
{
	struct gecko_flow_key key;
	struct gecko_flow *flow;
	int ret;

	if (!(BIT(sk->sk_state) & CONNECTED_STATES)) {
		NL_SET_ERR_MSG_MOD(extack, "the connection is not established");
		return -ENOTCONN;
	}
	if (tcp_sk(sk)->repair) {
		NL_SET_ERR_MSG_MOD(extack, "the socket is in repair mode already");
		return -EBUSY;
	}
	if (READ_ONCE(tcp_sk(sk)->urg_data)) {
		NL_SET_ERR_MSG_MOD(extack, "urgent data is pending: not handed off");
		return -EOPNOTSUPP;
	}
	if (!gecko_service_find(gn, &sk->sk_v6_rcv_saddr)) {
		NL_SET_ERR_MSG_MOD(extack, "the socket's address is no service's");
		return -EADDRNOTAVAIL;
	}
	gecko_flow_key_of(sk, &key);
	flow = gecko_flow_add(gn, &key, sk, GECKO_FLOW_FROZEN, timeout_ms, NULL, extack);
	if (IS_ERR(flow))
		return PTR_ERR(flow);
	flow->reuse = sk->sk_reuse;
	ret = repair_int(sk, TCP_REPAIR, TCP_REPAIR_ON);
	if (ret) {
		gecko_flow_remove(gn, flow);
		NL_SET_ERR_MSG_MOD(extack, "cannot put the socket in repair mode");
		return ret;
	}
	lock_sock(sk);
	inet_csk_clear_xmit_timers(sk);
	release_sock(sk);
	return 0;
}

int gecko_sock_freeze(struct gecko_net *gn, int fd, u32 timeout_ms,
		      struct netlink_ext_ack *extack)
{
	struct socket *sock = lock_socket(gn, fd, extack);
	int ret;

	if (IS_ERR(sock))
		return PTR_ERR(sock);
	ret = freeze(gn, sock->sk, timeout_ms, extack);
	unlock_socket(gn, sock);
	return ret;
}

static u8 *capture(struct gecko_net *gn, struct sock *sk, size_t *len,
		   struct netlink_ext_ack *extack)
{
	struct gecko_tcp_state st;
	struct gecko_flow *flow;
	u8 *buf;
	int ret;

	flow = flow_of(gn, sk, BIT(GECKO_FLOW_FROZEN) | BIT(GECKO_FLOW_COMMITTED), extack);
	if (IS_ERR(flow))
		return ERR_CAST(flow);
	lock_sock(sk);
	/* A late segment (see the top) may have armed them again. */
	inet_csk_clear_xmit_timers(sk);
	read_state(sk, &st);
	ret = gecko_tcp_state_validate(&st);
	if (ret) {
		release_sock(sk);
		NL_SET_ERR_MSG_MOD(extack, "the connection's state cannot be restored");
		return ERR_PTR(ret);
	}
	*len = GECKO_TCP_STATE_HDR_LEN + st.inq_len + st.outq_len;
	buf = kvmalloc(*len, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		release_sock(sk);
		NL_SET_ERR_MSG_MOD(extack, "out of memory for the state");
		return ERR_PTR(-ENOMEM);
	}
	gecko_tcp_state_encode(&st, buf);
	ret = copy_queues(sk, &st, buf + GECKO_TCP_STATE_HDR_LEN,
			  buf + GECKO_TCP_STATE_HDR_LEN + st.inq_len);
	release_sock(sk);
	if (ret) {
		kvfree_sensitive(buf, *len);
		NL_SET_ERR_MSG_MOD(extack, "the socket's queues do not hold what its sequence numbers say");
		return ERR_PTR(ret);
	}
	return buf;
}

u8 *gecko_sock_capture(struct gecko_net *gn, int fd, size_t *len,
		       struct netlink_ext_ack *extack)
{
	struct socket *sock = lock_socket(gn, fd, extack);
	u8 *buf;

	if (IS_ERR(sock))
		return ERR_CAST(sock);
	buf = capture(gn, sock->sk, len, extack);
	unlock_socket(gn, sock);
	return buf;
}

int gecko_sock_snapshot(struct gecko_net *gn, const struct gecko_flow_key *key, u8 *hdr,
			struct netlink_ext_ack *extack)
{
	struct gecko_tcp_state st;
	struct sock *sk;
	int ret = 0;

	rcu_read_lock();
	sk = __inet6_lookup_established(gn->net, &tcp_hashinfo, &key->remote, key->remote_port,
					&key->local, ntohs(key->local_port), 0, 0);
	ret = gecko_service_find(gn, &key->local) ? 0 : -EADDRNOTAVAIL;
	rcu_read_unlock();
	if (ret || !sk || !sk_fullsock(sk)) {
		if (sk)
			sock_gen_put(sk);
		if (ret)
			NL_SET_ERR_MSG_MOD(extack, "the local address is no service's");
		else
			NL_SET_ERR_MSG_MOD(extack, "no established connection of G with these addresses and ports");
		return ret ?: -ENOENT;
	}
	/*
	 * Its program may have closed it since the lookup: a socket aborted
	 * (SO_LINGER 0) or disconnected has lost its peer's port and maybe
	 * its local address; a mirror of that would name no connection.
	 */
	lock_sock(sk);
	if (!(BIT(sk->sk_state) & CONNECTED_STATES)) {
		release_sock(sk);
		sock_gen_put(sk);
		NL_SET_ERR_MSG_MOD(extack, "the connection ended");
		return -ENOENT;
	}
	read_state(sk, &st);
	release_sock(sk);
	sock_gen_put(sk);
	st.flags |= GECKO_TCP_STATE_F_SNAPSHOT;
	gecko_tcp_state_encode(&st, hdr);
	return 0;
}

/* The socket @sock becomes the connection @st, frozen, its queues empty. */
static int setup(struct socket *sock, const struct gecko_tcp_state *st,
		 struct netlink_ext_ack *extack)
{
	bool fin_in = st->flags & GECKO_TCP_STATE_F_FIN_IN;
	bool fin_out = st->flags & GECKO_TCP_STATE_F_FIN_OUT;
	bool ts = st->flags & GECKO_TCP_STATE_F_TIMESTAMPS;
	struct sockaddr_in6 local = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(st->local_port),
		.sin6_addr = st->local,
	};
	struct sockaddr_in6 remote = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(st->remote_port),
		.sin6_addr = st->remote,
	};
	struct tcp_repair_opt opts[4];
	struct sock *sk = sock->sk;
	struct tcp_sock *tp = tcp_sk(sk);
	int n = 0, ret;

	ret = kernel_bind(sock, (struct sockaddr *)&local, sizeof(local));
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot bind to the state's local address and port");
		return ret;
	}
	/* Where the queues start: set while the socket is closed, before connect. */
	ret = repair_int(sk, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE) ?:
	      repair_int(sk, TCP_QUEUE_SEQ, st->rcv_nxt - fin_in - st->inq_len) ?:
	      repair_int(sk, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) ?:
	      repair_int(sk, TCP_QUEUE_SEQ, st->write_seq - fin_out - st->outq_len);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot set the queues' sequence numbers");
		return ret;
	}
	/* In repair mode no SYN leaves: the socket is established at once. */
	ret = kernel_connect(sock, (struct sockaddr *)&remote, sizeof(remote), 0);
	if (ret) {
		if (ret == -EADDRNOTAVAIL)
			NL_SET_ERR_MSG_MOD(extack, "a socket of this node holds the connection already");
		else
			NL_SET_ERR_MSG_MOD(extack, "cannot connect to the state's peer");
		return ret;
	}

	opts[n++] = (struct tcp_repair_opt){ TCPOPT_MSS, st->mss_clamp };
	if (st->flags & GECKO_TCP_STATE_F_WSCALE)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_WINDOW,
						     st->snd_wscale | st->rcv_wscale << 16 };
	if (st->flags & GECKO_TCP_STATE_F_SACK)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERM, 0 };
	if (ts)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	ret = repair_opt(sk, TCP_REPAIR_OPTIONS, opts, n * sizeof(opts[0]));
	if (!ret && ts)
		ret = repair_int(sk, TCP_TIMESTAMP, st->ts_val);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot set the connection's TCP options");
		return ret;
	}

	lock_sock(sk);
	/* connect() sized headers by this node's sysctls, not by what was agreed. */
	tp->tcp_header_len = sizeof(struct tcphdr) + (ts ? TCPOLEN_TSTAMP_ALIGNED : 0);
	tcp_sync_mss(sk, inet_csk(sk)->icsk_pmtu_cookie);
	if (st->srtt_us) {
		tp->srtt_us = st->srtt_us << 3;
		tp->mdev_us = tp->mdev_max_us = tp->rttvar_us = st->rttvar_us;
		tp->rtt_seq = tp->snd_nxt;
	}
	if (st->rto_us)
		inet_csk(sk)->icsk_rto = usecs_to_jiffies(st->rto_us);
	/* Queueing the octets counts them again. */
	tp->bytes_received = st->bytes_received - st->inq_len;
	tp->bytes_acked = st->bytes_sent - st->outq_len;
	/* Room for the queues, until finish() gives the donor's sizes back. */
	WRITE_ONCE(sk->sk_rcvbuf, max_t(int, sk->sk_rcvbuf, 2 * st->inq_len + SZ_64K));
	WRITE_ONCE(sk->sk_sndbuf, max_t(int, sk->sk_sndbuf, 2 * st->outq_len + SZ_64K));
	release_sock(sk);
	return 0;
}

/* Repair mode makes this silent: no FIN, no RST. */
static void disconnect(struct sock *sk)
{
	lock_sock(sk);
	if (sk->sk_state != TCP_CLOSE)
		tcp_disconnect(sk, 0);
	release_sock(sk);
}

/* The queues are in: the windows, the peer's FIN, and the flow is RESTORED. */
static int finish(struct gecko_flow *flow, struct netlink_ext_ack *extack)
{
	const struct gecko_tcp_state *st = &flow->st;
	struct tcp_repair_window win = {
		.snd_wl1 = st->snd_wl1,
		.snd_wnd = st->snd_wnd,
		.max_window = st->max_window,
		.rcv_wnd = st->rcv_wnd,
		.rcv_wup = st->rcv_wup,
	};
	struct sock *sk = flow->sk;
	struct tcp_sock *tp = tcp_sk(sk);
	int ret;

	lock_sock(sk);
	if (st->flags & GECKO_TCP_STATE_F_FIN_IN) {
		/* What receiving the FIN does (tcp_fin()), but no ACK is due. */
		WRITE_ONCE(tp->rcv_nxt, tp->rcv_nxt + 1);
		tp->bytes_received++;
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
		sock_set_flag(sk, SOCK_DONE);
		tcp_set_state(sk, TCP_CLOSE_WAIT);
	}
	/* Queueing the sent octets armed the timers of a connection still frozen. */
	inet_csk_clear_xmit_timers(sk);
	/*
	 * The donor's buffer sizes, not the room the queues took: else each
	 * handoff would let the application queue twice what it had.
	 */
	if (st->snd_buf)
		WRITE_ONCE(sk->sk_sndbuf, max_t(int, st->snd_buf, SOCK_MIN_SNDBUF));
	if (st->rcv_buf)
		WRITE_ONCE(sk->sk_rcvbuf, max_t(int, st->rcv_buf, SOCK_MIN_RCVBUF));
	release_sock(sk);

	ret = repair_opt(sk, TCP_REPAIR_WINDOW, &win, sizeof(win));
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot set the connection's windows");
		return ret;
	}
	gecko_flow_set_state(flow, GECKO_FLOW_RESTORED);
	return 0;
}

static void key_of_state(const struct gecko_tcp_state *st, struct gecko_flow_key *key)
{
	memset(key, 0, sizeof(*key));
	key->local = st->local;
	key->remote = st->remote;
	key->local_port = htons(st->local_port);
	key->remote_port = htons(st->remote_port);
}

/* The snapshot @st becomes its connection at the numbers of the answer to its probe. */
static int recover(struct gecko_net *gn, struct gecko_tcp_state *st, struct netlink_ext_ack *extack)
{
	struct gecko_probe_seg answer;
	struct gecko_flow_key key;
	struct gecko_flow *flow;
	bool answered = false;
	int ret;

	key_of_state(st, &key);
	flow = gecko_flow_find(gn, &key);
	if (flow && flow->state == GECKO_FLOW_PROBING) {
		spin_lock_bh(&flow->held.lock);
		answered = flow->answered;
		answer = flow->answer;
		spin_unlock_bh(&flow->held.lock);
	}
	if (!answered) {
		NL_SET_ERR_MSG_MOD(extack, "a snapshot is restored where its peer stands: probe the connection until it answers");
		return -ENOENT;
	}
	ret = gecko_probe_recover(st, &answer);
	if (ret == -EOPNOTSUPP)
		NL_SET_ERR_MSG_MOD(extack, "only an established connection is recovered from a snapshot");
	else if (ret == -EPROTO)
		NL_SET_ERR_MSG_MOD(extack, "the answer's timestamps do not match the snapshot's options");
	else if (ret)
		NL_SET_ERR_MSG_MOD(extack, "the answer's numbers do not follow the snapshot's: another connection's");
	return ret;
}

static int restore(struct gecko_net *gn, struct socket *sock, const struct gecko_tcp_state *st,
		   bool recovered, u32 timeout_ms, const struct in6_addr *donor,
		   struct netlink_ext_ack *extack)
{
	struct sock *sk = sock->sk;
	struct gecko_flow_key key;
	struct gecko_flow *flow;
	int ret;

	if (!gecko_service_find(gn, &st->local)) {
		NL_SET_ERR_MSG_MOD(extack, "the state's local address is no service's here");
		return -EADDRNOTAVAIL;
	}
	if (sk->sk_state != TCP_CLOSE || inet_sk(sk)->inet_num) {
		NL_SET_ERR_MSG_MOD(extack, "the socket must be new: never bound nor connected");
		return -EISCONN;
	}
	key_of_state(st, &key);
	/* In before the socket is connected, so that no packet meets it unfrozen. */
	flow = gecko_flow_add(gn, &key, sk, GECKO_FLOW_RESTORING, timeout_ms, donor, extack);
	if (IS_ERR(flow))
		return PTR_ERR(flow);
	flow->recovered = recovered;
	flow->st = *st;
	flow->inq_left = st->inq_len;
	flow->sent_left = st->outq_len - st->unsq_len;
	flow->unsent_left = st->unsq_len;
	if (st->unsq_len) {
		flow->unsent = kvmalloc(st->unsq_len, GFP_KERNEL_ACCOUNT);
		if (!flow->unsent) {
			gecko_flow_remove(gn, flow);
			NL_SET_ERR_MSG_MOD(extack, "out of memory");
			return -ENOMEM;
		}
	}

	flow->reuse = sk->sk_reuse;
	ret = repair_int(sk, TCP_REPAIR, TCP_REPAIR_ON);
	if (ret) {
		gecko_flow_remove(gn, flow);
		NL_SET_ERR_MSG_MOD(extack, "cannot put the socket in repair mode");
		return ret;
	}
	ret = setup(sock, st, extack);
	if (!ret && !flow->inq_left && !flow->sent_left && !flow->unsent_left)
		ret = finish(flow, extack);
	if (ret) {
		disconnect(sk);
		gecko_flow_remove(gn, flow);
	}
	return ret;
}

int gecko_sock_restore(struct gecko_net *gn, int fd, const u8 *hdr, size_t len,
		       u32 timeout_ms, const struct in6_addr *donor,
		       struct netlink_ext_ack *extack)
{
	struct gecko_tcp_state st;
	struct socket *sock;
	bool snapshot;
	int ret;

	ret = gecko_tcp_state_decode_header(hdr, len, &st);
	if (ret) {
		if (ret == -EPROTONOSUPPORT)
			NL_SET_ERR_MSG_MOD(extack, "unknown version of the TCP state format");
		else
			NL_SET_ERR_MSG_MOD(extack, "malformed or impossible TCP state header");
		return ret;
	}
	if (!gecko_addr_usable(&st.remote)) {
		NL_SET_ERR_MSG_MOD(extack, "the state's peer address is not a unicast address");
		return -EINVAL;
	}
	sock = lock_socket(gn, fd, extack);
	if (IS_ERR(sock))
		return PTR_ERR(sock);
	/* Under the lock: the answer taken is the PROBING flow's the restore replaces. */
	snapshot = st.flags & GECKO_TCP_STATE_F_SNAPSHOT;
	ret = snapshot ? recover(gn, &st, extack) : 0;
	if (!ret)
		ret = restore(gn, sock, &st, snapshot, timeout_ms, donor, extack);
	unlock_socket(gn, sock);
	return ret;
}

/* Queues @len octets at @data in the repair queue @queue of @sock. */
static int queue(struct socket *sock, int queue, const u8 *data, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct kvec vec;
	int ret;

	ret = repair_int(sock->sk, TCP_REPAIR_QUEUE, queue);
	while (!ret && len) {
		vec.iov_base = (void *)data;
		vec.iov_len = len;
		ret = kernel_sendmsg(sock, &msg, &vec, 1, len);
		if (ret <= 0)
			return ret ?: -ENOBUFS;
		data += ret;
		len -= ret;
		ret = 0;
	}
	return ret;
}

static int restore_data(struct gecko_net *gn, struct socket *sock, const u8 *data, size_t len,
			struct netlink_ext_ack *extack)
{
	struct gecko_flow *flow;
	size_t in, sent;
	int ret = 0;

	flow = flow_of(gn, sock->sk, BIT(GECKO_FLOW_RESTORING), extack);
	if (IS_ERR(flow))
		return PTR_ERR(flow);
	if (len > (size_t)flow->inq_left + flow->sent_left + flow->unsent_left) {
		NL_SET_ERR_MSG_MOD(extack, "more octets than the state's queues hold");
		return -EMSGSIZE;
	}
	in = min_t(size_t, len, flow->inq_left);
	sent = min_t(size_t, len - in, flow->sent_left);
	if (in)
		ret = queue(sock, TCP_RECV_QUEUE, data, in);
	if (!ret && sent)
		ret = queue(sock, TCP_SEND_QUEUE, data + in, sent);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot queue the octets: out of socket memory");
	} else {
		/* Kept for the thaw: queued now, they would count as sent. */
		if (len > in + sent)
			memcpy(flow->unsent + flow->st.unsq_len - flow->unsent_left, data + in + sent,
			       len - in - sent);
		flow->inq_left -= in;
		flow->sent_left -= sent;
		flow->unsent_left -= len - in - sent;
		if (!flow->inq_left && !flow->sent_left && !flow->unsent_left)
			ret = finish(flow, extack);
	}
	if (ret) {
		/* Half a connection is none: the caller closes the socket. */
		disconnect(sock->sk);
		gecko_flow_remove(gn, flow);
	}
	return ret;
}

int gecko_sock_restore_data(struct gecko_net *gn, int fd, const u8 *data, size_t len,
			    struct netlink_ext_ack *extack)
{
	struct socket *sock = lock_socket(gn, fd, extack);
	int ret;

	if (IS_ERR(sock))
		return PTR_ERR(sock);
	ret = restore_data(gn, sock, data, len, extack);
	unlock_socket(gn, sock);
	return ret;
}

/*
 * Queues @len octets the donor's application had written but its kernel
 * never sent, as this socket's own unsent data. Past the buffer size (and
 * TCP_NOTSENT_LOWAT) this once: the donor had them queued, and the owner
 * may write nothing before them. The caller holds the socket's lock.
 */
static int queue_unsent(struct sock *sk, u8 *data, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	struct kvec vec = { .iov_base = data, .iov_len = len };
	int sndbuf = READ_ONCE(sk->sk_sndbuf);
	u32 lowat = tcp_sk(sk)->notsent_lowat;
	int ret;

	iov_iter_kvec(&msg.msg_iter, WRITE, &vec, 1, len);
	WRITE_ONCE(sk->sk_sndbuf, INT_MAX);
	WRITE_ONCE(tcp_sk(sk)->notsent_lowat, UINT_MAX);
	ret = tcp_sendmsg_locked(sk, &msg, len);
	WRITE_ONCE(tcp_sk(sk)->notsent_lowat, lowat);
	WRITE_ONCE(sk->sk_sndbuf, sndbuf);
	if (ret < 0)
		return ret;
	return ret == len ? 0 : -ENOBUFS;
}

/*
 * A restored socket starts with the initial congestion window, but holds
 * as sent all the donor had in flight: with more in flight than its window
 * it could send nothing, a lost segment's retransmission included, until
 * its retransmission timer fired, and a connection handed on again before
 * that would never recover. The donor's window held at least that much:
 * the restored one goes on from there, in congestion avoidance.
 */
static void open_window(struct tcp_sock *tp)
{
	if (tp->packets_out <= tcp_snd_cwnd(tp))
		return;
	tcp_snd_cwnd_set(tp, tp->packets_out);
	tp->snd_ssthresh = tp->packets_out;
}

/*
 * How long a restored socket waits before it resends what it holds as in
 * flight: twice the RTT, as a loss probe waits, but TCP_RTO_MIN at least,
 * not a whole RTO. The window probe's answer tells it in one RTT what the
 * client lacks; if that does not start the recovery (segments dropped at
 * the freeze make holes), a connection handed on again before its RTO
 * would never resend.
 */
static unsigned long first_timeout(struct sock *sk)
{
	unsigned long probe = usecs_to_jiffies(2 * (tcp_sk(sk)->srtt_us >> 3));

	return min(inet_csk(sk)->icsk_rto, max(probe, TCP_RTO_MIN));
}

/*
 * The connection runs again. A restored one gets what the donor's
 * application had done that its kernel had not: the octets never sent,
 * then the FIN. If they cannot be queued the connection is reset: the
 * client must not take a cut stream for a whole one. The packets held
 * are delivered last, once the socket is whole, and before any later one.
 */
static int thaw(struct gecko_net *gn, struct gecko_flow *flow)
{
	bool restored = flow->state == GECKO_FLOW_RESTORED;
	bool fin = restored && (flow->st.flags & GECKO_TCP_STATE_F_FIN_OUT);
	size_t unsent_len = restored ? flow->st.unsq_len : 0;
	u8 *unsent = restored ? flow->unsent : NULL;
	struct sock *sk = flow->sk;
	int ret = 0;

	flow->unsent = NULL;
	sock_hold(sk);
	/* What it sends leaves (the window probe first); what arrives waits. */
	gecko_flow_set_state(flow, GECKO_FLOW_DRAINING);
	repair_int(sk, TCP_REPAIR, TCP_REPAIR_OFF);
	lock_sock(sk);
	/* So that its program, started again, binds its port beside what is left of it. */
	sk->sk_reuse = flow->reuse;
	if (restored)
		open_window(tcp_sk(sk));
	if (unsent_len)
		ret = queue_unsent(sk, unsent, unsent_len);
	if (!ret && fin) {
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SEND_SHUTDOWN);
		tcp_shutdown(sk, SEND_SHUTDOWN);
	}
	if (ret)
		tcp_disconnect(sk, 0);
	else if (sk->sk_state != TCP_CLOSE && tcp_sk(sk)->packets_out)
		inet_csk_reset_xmit_timer(sk, ICSK_TIME_RETRANS,
					  restored ? first_timeout(sk) : inet_csk(sk)->icsk_rto, TCP_RTO_MAX);
	release_sock(sk);
	gecko_flow_resume(gn, flow);
	sock_put(sk);
	kvfree(unsent);
	return ret;
}

/* Drops @flow's socket; its packets go to the care-of address @forward, if given. */
static void drop(struct gecko_net *gn, struct gecko_flow *flow, const struct in6_addr *forward)
{
	const struct gecko_service *svc = forward ? gecko_service_find(gn, &flow->key.local) : NULL;

	disconnect(flow->sk);
	gecko_flow_moved(gn, flow, svc ? &svc->coa : NULL, forward);
}

int gecko_sock_thaw(struct gecko_net *gn, int fd, struct netlink_ext_ack *extack)
{
	struct socket *sock = lock_socket(gn, fd, extack);
	struct gecko_flow *flow;
	int ret;

	if (IS_ERR(sock))
		return PTR_ERR(sock);
	flow = flow_of(gn, sock->sk, BIT(GECKO_FLOW_FROZEN) | BIT(GECKO_FLOW_COMMITTED) |
			     BIT(GECKO_FLOW_RESTORED), extack);
	if (IS_ERR(flow)) {
		ret = PTR_ERR(flow);
	} else {
		ret = thaw(gn, flow);
		if (ret)
			NL_SET_ERR_MSG_MOD(extack, "cannot queue the octets never sent: the connection was reset");
	}
	unlock_socket(gn, sock);
	return ret;
}

int gecko_sock_drop(struct gecko_net *gn, int fd, const struct in6_addr *forward,
		    struct netlink_ext_ack *extack)
{
	struct socket *sock = lock_socket(gn, fd, extack);
	struct gecko_flow *flow;
	int ret = 0;

	if (IS_ERR(sock))
		return PTR_ERR(sock);
	flow = flow_of(gn, sock->sk, BIT(GECKO_FLOW_FROZEN) | BIT(GECKO_FLOW_COMMITTED) |
			     BIT(GECKO_FLOW_RESTORING) | BIT(GECKO_FLOW_RESTORED), extack);
	ret = PTR_ERR_OR_ZERO(flow);
	if (!ret && forward)
		ret = gecko_flow_check_acceptor(flow, forward, extack);
	if (!ret)
		drop(gn, flow, forward);
	unlock_socket(gn, sock);
	return ret;
}

int gecko_sock_commit(struct gecko_net *gn, int fd, u32 timeout_ms, const struct in6_addr *forward,
		      struct netlink_ext_ack *extack)
{
	struct socket *sock = lock_socket(gn, fd, extack);
	const struct gecko_service *svc;
	struct gecko_flow *flow;
	int ret = 0;

	if (IS_ERR(sock))
		return PTR_ERR(sock);
	flow = flow_of(gn, sock->sk, BIT(GECKO_FLOW_FROZEN) | BIT(GECKO_FLOW_COMMITTED), extack);
	if (IS_ERR(flow)) {
		ret = PTR_ERR(flow);
		goto out;
	}
	svc = forward ? gecko_service_find(gn, &flow->key.local) : NULL;
	if (forward && !svc) {
		NL_SET_ERR_MSG_MOD(extack, "G has no service here to pass its packets on from");
		ret = -EADDRNOTAVAIL;
		goto out;
	}
	/* From now on the module may drop it, never thaw it (flow.c's rules). */
	gecko_flow_set_state(flow, GECKO_FLOW_COMMITTED);
	gecko_flow_set_timeout(gn, flow, timeout_ms);
	if (forward)
		ret = gecko_flow_pass_on(gn, flow, &svc->coa, forward, extack);
out:
	unlock_socket(gn, sock);
	return ret;
}

void gecko_sock_expire(struct gecko_net *gn, struct gecko_flow *flow)
{
	lockdep_assert_held(&gn->lock);
	if (gecko_flow_rule(flow->state)->expiry == GECKO_FLOW_THAW)
		thaw(gn, flow);
	else
		drop(gn, flow, NULL);
}

#if IS_ENABLED(CONFIG_GECKO_KUNIT_TEST)
void gecko_sock_read_state(struct sock *sk, struct gecko_tcp_state *st)
{
	read_state(sk, st);
}

int gecko_sock_copy_queues(struct sock *sk, const struct gecko_tcp_state *st, u8 *inq, u8 *outq)
{
	return copy_queues(sk, st, inq, outq);
}

void gecko_sock_open_window(struct sock *sk)
{
	open_window(tcp_sk(sk));
}
#endif

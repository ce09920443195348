// SPDX-License-Identifier: GPL-2.0-only
/*
 * A guard holds a reference to a socket's file, so that the socket
 * outlives its program's descriptors. Every GECKO_GUARD_INTERVAL_MS the
 * guards are checked: one whose socket nobody else holds any more is
 * released. If its program still runs, it closed the socket, and the
 * release closes it as the program asked (its FIN leaves a check later).
 * If the program died, the connection ends without a word: in repair
 * mode, so that the close sends neither FIN nor reset, and its flow
 * MOVED for GECKO_SOCK_FENCE_TIMEOUT, so that what its client still sends
 * it here is dropped, not answered with a reset, until the backup took
 * the client over.
 */

#include <linux/file.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/inet_sock.h>
#include <net/tcp.h>

#include <uapi/linux/gecko.h>

#include "flow.h"
#include "guard.h"
#include "limits.h"
#include "netns.h"
#include "service.h"
#include "sockstate.h"

struct gecko_guard {
	struct list_head list;		/* in gecko_net.guards, under its lock */
	struct file *file;		/* a reference: the socket stays open */
	struct pid *owner;		/* the thread group that guarded it */
};

static bool owner_gone(struct pid *owner)
{
	struct task_struct *task;
	bool gone;

	rcu_read_lock();
	task = pid_task(owner, PIDTYPE_TGID);
	gone = !task || (READ_ONCE(task->flags) & PF_EXITING);
	rcu_read_unlock();
	return gone;
}

/* @sk's connection ends without a word, and what its client sends it here is dropped for a while. */
static void fence(struct gecko_net *gn, struct sock *sk)
{
	struct gecko_flow_key key;
	struct gecko_flow *flow;
	int on = TCP_REPAIR_ON;

	lockdep_assert_held(&gn->lock);
	gecko_flow_key_of(sk, &key);
	flow = gecko_flow_find(gn, &key);
	/* Frozen, committed or being restored: its flow says what becomes of it. */
	if (flow && !gecko_flow_rule(flow->state)->replaceable)
		return;
	if (!tcp_sk(sk)->repair && tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR, KERNEL_SOCKPTR(&on), sizeof(on)))
		return;
	/* Past the flows limit, the client may get a reset; the connection is lost either way. */
	if (IS_ERR(gecko_flow_add(gn, &key, NULL, GECKO_FLOW_MOVED, GECKO_SOCK_FENCE_TIMEOUT, NULL, NULL)))
		return;
	gecko_counter_inc(gn->net, GECKO_COUNTER_FENCED);
}

static void release(struct gecko_guard *g)
{
	list_del(&g->list);
	fput(g->file);
	put_pid(g->owner);
	kfree(g);
}

static void check_work(struct work_struct *work)
{
	struct gecko_net *gn = container_of(to_delayed_work(work), struct gecko_net, guard_gc);
	struct gecko_guard *g, *tmp;

	mutex_lock(&gn->lock);
	list_for_each_entry_safe(g, tmp, &gn->guards, list) {
		struct sock *sk = sock_from_file(g->file)->sk;

		if (file_count(g->file) > 1 && READ_ONCE(sk->sk_state) != TCP_CLOSE)
			continue;
		if (file_count(g->file) == 1 && READ_ONCE(sk->sk_state) != TCP_CLOSE && owner_gone(g->owner))
			fence(gn, sk);
		gn->nr_guards--;
		release(g);
	}
	if (!list_empty(&gn->guards))
		queue_delayed_work(system_wq, &gn->guard_gc, msecs_to_jiffies(GECKO_GUARD_INTERVAL_MS));
	mutex_unlock(&gn->lock);
}

void gecko_guards_init(struct gecko_net *gn)
{
	INIT_LIST_HEAD(&gn->guards);
	INIT_DELAYED_WORK(&gn->guard_gc, check_work);
}

int gecko_sock_guard(struct gecko_net *gn, int fd, struct netlink_ext_ack *extack)
{
	struct socket *sock = gecko_sock_lookup(gn, fd, extack);
	struct gecko_guard *g;
	int ret = 0;

	if (IS_ERR(sock))
		return PTR_ERR(sock);
	mutex_lock(&gn->lock);
	if (!gecko_service_find(gn, &sock->sk->sk_v6_rcv_saddr)) {
		NL_SET_ERR_MSG_MOD(extack, "the socket's address is no service's");
		ret = -EADDRNOTAVAIL;
		goto out;
	}
	if (!(BIT(READ_ONCE(sock->sk->sk_state)) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))) {
		NL_SET_ERR_MSG_MOD(extack, "the connection is not established");
		ret = -ENOTCONN;
		goto out;
	}
	list_for_each_entry(g, &gn->guards, list)
		if (g->file == sock->file)
			goto out;	/* guarded already */
	ret = gecko_limit_check(gn, GECKO_LIMITS_A_FLOWS, gn->nr_guards, extack);
	if (ret)
		goto out;
	g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
	if (!g) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory for the guard");
		ret = -ENOMEM;
		goto out;
	}
	g->file = get_file(sock->file);
	g->owner = get_pid(task_tgid(current));
	list_add_tail(&g->list, &gn->guards);
	gn->nr_guards++;
	if (gn->nr_guards == 1)
		queue_delayed_work(system_wq, &gn->guard_gc, msecs_to_jiffies(GECKO_GUARD_INTERVAL_MS));
out:
	mutex_unlock(&gn->lock);
	sockfd_put(sock);
	return ret;
}

void gecko_guards_uninit(struct gecko_net *gn)
{
	struct gecko_guard *g;

	cancel_delayed_work_sync(&gn->guard_gc);
	mutex_lock(&gn->lock);
	while ((g = list_first_entry_or_null(&gn->guards, struct gecko_guard, list))) {
		gn->nr_guards--;
		release(g);
	}
	mutex_unlock(&gn->lock);
}

/**
 * @file net.c  UDP sockets of src/net/ on loopback: open, send and
 *              receive, batch drain, the per-wake-up cap, batched
 *              sends, oversize
 *              datagrams, DSCP, bad addresses, close from a handler;
 *              TCP listen and accept
 */
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <re.h>
#include "net/net.h"
#include "test.h"

enum {
	BATCH_N = 100,
};

struct rx {
	struct net_udp *u;
	struct sa src;
	uint8_t last[64];
	size_t lastlen;
	unsigned n;
	unsigned bad;                /* out of order or corrupted */
	bool close_in_h;
	bool stop;                   /* re_cancel() on the first */
};


static void recv_h(const struct sa *src, uint8_t *buf, size_t len,
		   void *arg)
{
	struct rx *rx = arg;

	rx->src = *src;
	rx->lastlen = min(len, sizeof(rx->last));
	memcpy(rx->last, buf, rx->lastlen);
	++rx->n;

	if (rx->close_in_h)
		rx->u = mem_deref(rx->u);

	if (rx->stop)
		re_cancel();
}


/* Datagram i: i as two bytes, then i % 40 bytes of (i + k) */
static size_t seq_fill(uint8_t *p, unsigned i)
{
	size_t k, len = 2 + i % 40;

	p[0] = (uint8_t)(i >> 8);
	p[1] = (uint8_t)i;
	for (k = 2; k < len; k++)
		p[k] = (uint8_t)(i + k);

	return len;
}


static void seq_h(const struct sa *src, uint8_t *buf, size_t len,
		  void *arg)
{
	struct rx *rx = arg;
	uint8_t want[64];

	(void)src;

	if (len != seq_fill(want, rx->n) || memcmp(buf, want, len))
		++rx->bad;

	++rx->n;
}


static int open_lo(struct net_udp **up, size_t maxpkt, net_udp_recv_h *rh,
		   struct rx *rx, struct sa *addr)
{
	struct sa laddr;
	int err;

	(void)sa_set_str(&laddr, "127.0.0.1", 0);

	err = net_udp_open(up, &laddr, maxpkt, rh, rx);
	if (err)
		return err;

	if (rx)
		rx->u = *up;

	return addr ? net_udp_local(*up, addr) : 0;
}


/* Readable within a second (kernel loopback is near-instant) */
static int readable(const struct net_udp *u)
{
	struct pollfd pfd;

	pfd.fd = net_udp_fd(u);
	pfd.events = POLLIN;
	pfd.revents = 0;

	return poll(&pfd, 1, 1000) == 1 ? 0 : ETIMEDOUT;
}


static void timeout_h(void *arg)
{
	int *errp = arg;

	*errp = ETIMEDOUT;
	re_cancel();
}


/* Open, local address, a datagram each way through libre's loop */
int test_net_udp_loop(void)
{
	struct net_udp *a = NULL, *b = NULL;
	struct rx ra, rb;
	struct sa aa, ba;
	struct tmr tmr;
	int err, lerr = 0;

	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	tmr_init(&tmr);

	TEST_ERR(open_lo(&a, 1500, recv_h, &ra, &aa));
	TEST_ERR(open_lo(&b, 1500, recv_h, &rb, &ba));
	TEST_ASSERT(sa_port(&aa) != 0 && sa_port(&ba) != sa_port(&aa));
	TEST_ASSERT(sa_cmp(&aa, &ba, SA_ADDR));

	TEST_ERR(net_udp_send(a, &ba, (const uint8_t *)"hello", 5));
	rb.stop = true;
	tmr_start(&tmr, 2000, timeout_h, &lerr);
	TEST_ERR(re_main(NULL));
	TEST_ERR(lerr);
	TEST_EQ(rb.n, 1);
	TEST_EQ(rb.lastlen, 5);
	TEST_ASSERT(!memcmp(rb.last, "hello", 5));
	TEST_ASSERT(sa_cmp(&rb.src, &aa, SA_ALL));

	/* an empty datagram is one too */
	TEST_ERR(net_udp_send(b, &aa, NULL, 0));
	TEST_ERR(readable(a));
	TEST_EQ(net_udp_drain(a), 1);
	TEST_EQ(ra.n, 1);
	TEST_EQ(ra.lastlen, 0);
	TEST_ASSERT(sa_cmp(&ra.src, &ba, SA_ALL));

	/* nothing queued: nothing read, no handler */
	TEST_EQ(net_udp_drain(a), 0);
	TEST_EQ(ra.n, 1);

 out:
	tmr_cancel(&tmr);
	mem_deref(a);
	mem_deref(b);
	return err;
}


/* BATCH_N queued datagrams: at most NET_UDP_WAKE_MAX per wake-up, in
   order and intact, NET_UDP_BATCH per read where recvmmsg() exists */
int test_net_udp_batch(void)
{
	struct net_udp *tx = NULL, *u = NULL;
	struct net_udp_stats st;
	struct rx rx;
	struct sa addr;
	uint8_t buf[64];
	unsigned i, reads;
	int err;

	memset(&rx, 0, sizeof(rx));
	TEST_ERR(open_lo(&u, 1500, seq_h, &rx, &addr));
	TEST_ERR(open_lo(&tx, 1500, seq_h, NULL, NULL));

	for (i = 0; i < BATCH_N; i++)
		TEST_ERR(net_udp_send(tx, &addr, buf, seq_fill(buf, i)));

	TEST_ERR(readable(u));
	(void)sys_msleep(20);

	TEST_EQ(net_udp_drain(u), NET_UDP_WAKE_MAX);
	TEST_EQ(rx.n, NET_UDP_WAKE_MAX);
	TEST_EQ(net_udp_drain(u), BATCH_N - NET_UDP_WAKE_MAX);
	TEST_EQ(rx.n, BATCH_N);
	TEST_EQ(rx.bad, 0);
	TEST_EQ(net_udp_drain(u), 0);

	/* 64 = 4 x 16, then 36 = 16 + 16 + 4 */
	reads = (NET_UDP_WAKE_MAX + NET_UDP_BATCH - 1) / NET_UDP_BATCH +
		(BATCH_N - NET_UDP_WAKE_MAX + NET_UDP_BATCH - 1) /
		NET_UDP_BATCH;
	net_udp_stats(u, &st);
	TEST_EQ(st.rx, BATCH_N);
	TEST_EQ(st.rx_oversize, 0);
	TEST_EQ(st.reads, net_udp_mmsg() ? reads : BATCH_N);

 out:
	mem_deref(tx);
	mem_deref(u);
	return err;
}


static void turn_h(void *arg)
{
	(void)arg;
	re_cancel();
}


/* Batched sends (net_udp_tx_batch; the shared media port's): a full
   queue leaves at once, the rest after the loop's turn, all in order
   and intact; a socket freed with datagrams queued sends them; a
   socket may read more than NET_UDP_WAKE_MAX per wake-up
   (net_udp_wake_max_set) */
int test_net_udp_tx_batch(void)
{
	struct net_udp *tx = NULL, *u = NULL;
	struct net_udp_stats st;
	struct rx rx;
	struct sa addr;
	struct tmr tmr;
	uint8_t buf[64];
	unsigned i, full = BATCH_N / NET_UDP_TXQ;
	int err, rcv = 0, rcv0 = 0;
	socklen_t len = sizeof(rcv);

	memset(&rx, 0, sizeof(rx));
	tmr_init(&tmr);
	TEST_ERR(open_lo(&u, 1500, seq_h, &rx, &addr));
	TEST_ERR(open_lo(&tx, 1500, seq_h, NULL, NULL));

	TEST_EQ(net_udp_tx_batch(NULL), EINVAL);
	TEST_EQ(net_udp_wake_max_set(u, 0), EINVAL);
	if (!net_udp_mmsg()) {
		TEST_EQ(net_udp_tx_batch(tx), ENOTSUP);
		goto out;
	}
	TEST_ERR(net_udp_tx_batch(tx));
	TEST_ERR(net_udp_tx_batch(tx));          /* again: no change */
	TEST_ERR(net_udp_wake_max_set(u, 4 * BATCH_N));

	/* a larger receive buffer than the default */
	TEST_ASSERT(!getsockopt(net_udp_fd(u), SOL_SOCKET, SO_RCVBUF, &rcv0,
				&len));
	TEST_ERR(net_udp_rcvbuf_set(u, 4 << 20));
	len = sizeof(rcv);
	TEST_ASSERT(!getsockopt(net_udp_fd(u), SOL_SOCKET, SO_RCVBUF, &rcv,
				&len));
	TEST_ASSERT(rcv >= rcv0);

	for (i = 0; i < BATCH_N; i++)
		TEST_ERR(net_udp_send(tx, &addr, buf, seq_fill(buf, i)));

	/* the full queues left, one sendmmsg() each */
	net_udp_stats(tx, &st);
	TEST_EQ(st.tx, BATCH_N);
	TEST_EQ(st.writes, full);
	TEST_EQ(st.tx_dropped, 0);
	TEST_ERR(readable(u));
	(void)sys_msleep(20);
	TEST_EQ(net_udp_drain(u), full * NET_UDP_TXQ);  /* > WAKE_MAX */
	TEST_EQ(net_udp_drain(u), 0);

	/* the rest after the loop's turn */
	tmr_start(&tmr, 1, turn_h, NULL);
	TEST_ERR(re_main(NULL));
	net_udp_stats(tx, &st);
	TEST_EQ(st.writes, full + 1);
	TEST_ERR(readable(u));
	(void)sys_msleep(20);
	TEST_EQ(net_udp_drain(u), BATCH_N - full * NET_UDP_TXQ);
	TEST_EQ(rx.n, BATCH_N);
	TEST_EQ(rx.bad, 0);

	/* freed with two queued: they are sent */
	rx.n = 0;
	TEST_ERR(net_udp_send(tx, &addr, buf, seq_fill(buf, 0)));
	TEST_ERR(net_udp_send(tx, &addr, buf, seq_fill(buf, 1)));
	tx = mem_deref(tx);
	TEST_ERR(readable(u));
	(void)sys_msleep(20);
	TEST_EQ(net_udp_drain(u), 2);
	TEST_EQ(rx.n, 2);
	TEST_EQ(rx.bad, 0);

 out:
	tmr_cancel(&tmr);
	mem_deref(tx);
	mem_deref(u);
	return err;
}


/* Longer than maxpkt: dropped and counted; maxpkt itself passes */
int test_net_udp_oversize(void)
{
	struct net_udp *tx = NULL, *u = NULL;
	struct net_udp_stats st;
	uint8_t big[NET_UDP_PKT_MAX + 100];
	struct rx rx;
	struct sa addr;
	int err;

	memset(&rx, 0, sizeof(rx));
	memset(big, 0xa5, sizeof(big));
	TEST_ERR(open_lo(&u, 100, recv_h, &rx, &addr));
	TEST_ERR(open_lo(&tx, 100, recv_h, NULL, NULL));

	TEST_ERR(net_udp_send(tx, &addr, big, 101));
	TEST_ERR(net_udp_send(tx, &addr, big, sizeof(big)));
	big[99] = 0x5a;
	TEST_ERR(net_udp_send(tx, &addr, big, 100));
	TEST_ERR(readable(u));
	(void)sys_msleep(20);

	TEST_EQ(net_udp_drain(u), 3);
	TEST_EQ(rx.n, 1);
	TEST_EQ(rx.lastlen, 64);
	net_udp_stats(u, &st);
	TEST_EQ(st.rx, 1);
	TEST_EQ(st.rx_oversize, 2);

 out:
	mem_deref(tx);
	mem_deref(u);
	return err;
}


static int tos_get(const struct net_udp *u, int level, int opt)
{
	int tos = -1;
	socklen_t len = sizeof(tos);

	if (getsockopt(net_udp_fd(u), level, opt, &tos, &len))
		return -1;

	return tos;
}


/* DSCP 46 (EF) is TOS/traffic class 184, or ENOTSUP; 64 is refused */
int test_net_udp_dscp(void)
{
	struct net_udp *u = NULL, *u6 = NULL;
	struct sa laddr;
	int err, e;

	TEST_ERR(open_lo(&u, 1500, recv_h, NULL, NULL));

	e = net_udp_dscp_set(u, 46);
	TEST_ASSERT(e == 0 || e == ENOTSUP);
	if (!e)
		TEST_EQ(tos_get(u, IPPROTO_IP, IP_TOS), 46 << 2);
	TEST_EQ(net_udp_dscp_set(u, 64), EINVAL);
	TEST_EQ(net_udp_dscp_set(NULL, 46), EINVAL);

	(void)sa_set_str(&laddr, "::1", 0);
	if (net_udp_open(&u6, &laddr, 1500, recv_h, NULL))
		goto out;            /* no IPv6 loopback here */

	e = net_udp_dscp_set(u6, 10);
	TEST_ASSERT(e == 0 || e == ENOTSUP);
	if (!e)
		TEST_EQ(tos_get(u6, IPPROTO_IPV6, IPV6_TCLASS), 10 << 2);

 out:
	mem_deref(u);
	mem_deref(u6);
	return err;
}


/* Bad arguments and addresses get a clear error and leave nothing */
int test_net_udp_errors(void)
{
	struct net_udp *u = NULL, *v = NULL;
	struct sa laddr, addr, none, v6;
	uint8_t b = 0;
	int err;

	(void)sa_set_str(&laddr, "127.0.0.1", 0);
	sa_init(&none, AF_UNSPEC);
	(void)sa_set_str(&v6, "::1", 9);

	TEST_EQ(net_udp_open(NULL, &laddr, 1500, recv_h, NULL), EINVAL);
	TEST_EQ(net_udp_open(&u, NULL, 1500, recv_h, NULL), EINVAL);
	TEST_EQ(net_udp_open(&u, &laddr, 1500, NULL, NULL), EINVAL);
	TEST_EQ(net_udp_open(&u, &laddr, 0, recv_h, NULL), EINVAL);
	TEST_EQ(net_udp_open(&u, &laddr, NET_UDP_PKT_MAX + 1, recv_h, NULL),
		EINVAL);
	TEST_EQ(net_udp_open(&u, &none, 1500, recv_h, NULL), EAFNOSUPPORT);
	(void)sa_set_str(&addr, "192.0.2.1", 0);     /* TEST-NET-1 */
	TEST_EQ(net_udp_open(&u, &addr, 1500, recv_h, NULL), EADDRNOTAVAIL);
	TEST_ASSERT(u == NULL);

	TEST_ERR(open_lo(&u, 1500, recv_h, NULL, &addr));
	TEST_EQ(net_udp_open(&v, &addr, 1500, recv_h, NULL), EADDRINUSE);
	TEST_ASSERT(v == NULL);

	TEST_EQ(net_udp_send(u, NULL, &b, 1), EINVAL);
	TEST_EQ(net_udp_send(NULL, &addr, &b, 1), EINVAL);
	TEST_EQ(net_udp_send(u, &addr, NULL, 1), EINVAL);
	TEST_EQ(net_udp_send(u, &v6, &b, 1), EAFNOSUPPORT);
	TEST_EQ(net_udp_send(u, &none, &b, 1), EAFNOSUPPORT);
	TEST_EQ(net_udp_local(NULL, &addr), EINVAL);
	TEST_EQ(net_udp_fd(NULL), -1);
	TEST_EQ(net_udp_drain(NULL), 0);

 out:
	mem_deref(u);
	mem_deref(v);
	return err;
}


/* A handler that closes its socket ends the drain: the rest of the
   batch is not delivered and nothing touches the freed socket */
int test_net_udp_close_in_handler(void)
{
	struct net_udp *tx = NULL;
	struct rx rx;
	struct sa addr;
	unsigned i;
	int err;

	memset(&rx, 0, sizeof(rx));
	rx.close_in_h = true;
	TEST_ERR(open_lo(&rx.u, 1500, recv_h, &rx, &addr));
	TEST_ERR(open_lo(&tx, 1500, recv_h, NULL, NULL));

	for (i = 0; i < 5; i++)
		TEST_ERR(net_udp_send(tx, &addr, (const uint8_t *)"x", 1));
	TEST_ERR(readable(rx.u));
	(void)sys_msleep(20);

	TEST_ASSERT(net_udp_drain(rx.u) >= 1);
	TEST_EQ(rx.n, 1);
	TEST_ASSERT(rx.u == NULL);

 out:
	mem_deref(tx);
	mem_deref(rx.u);
	return err;
}


struct tcpx {
	struct tcp_sock *ts;
	struct tcp_conn *srv;
	struct tcp_conn *cli;
	unsigned up;               /* accepted, connected: 2 stops */
	int err;
};


static void tcpx_step(struct tcpx *x)
{
	if (++x->up == 2 || x->err)
		re_cancel();
}


static void tcpx_conn_h(const struct sa *peer, void *arg)
{
	struct tcpx *x = arg;

	(void)peer;
	x->err = net_tcp_accept(&x->srv, x->ts, NULL, NULL, NULL, x);
	tcpx_step(x);
}


static void tcpx_estab_h(void *arg)
{
	tcpx_step(arg);
}


/* Listen with a backlog on a port of its own, accept with TCP_NODELAY */
int test_net_tcp(void)
{
	struct tcp_sock *ts2 = NULL;
	struct sa laddr, addr;
	struct tcpx x;
	struct tmr tmr;
	int err, lerr = 0, on = 0;
	socklen_t len = sizeof(on);

	memset(&x, 0, sizeof(x));
	tmr_init(&tmr);
	(void)sa_set_str(&laddr, "127.0.0.1", 0);

	TEST_ERR(net_tcp_listen(&x.ts, &laddr, 8, tcpx_conn_h, &x));
	TEST_ERR(tcp_sock_local_get(x.ts, &addr));
	TEST_ASSERT(sa_port(&addr) != 0);

	TEST_ERR(tcp_connect(&x.cli, &addr, tcpx_estab_h, NULL, NULL, &x));
	tmr_start(&tmr, 2000, timeout_h, &lerr);
	TEST_ERR(re_main(NULL));
	TEST_ERR(lerr);
	TEST_ERR(x.err);
	TEST_EQ(x.up, 2);
	TEST_ASSERT(x.srv != NULL);
	TEST_ASSERT(!getsockopt(tcp_conn_fd(x.srv), IPPROTO_TCP, TCP_NODELAY,
				&on, &len));
	TEST_ASSERT(on != 0);

	/* bad arguments */
	TEST_EQ(net_tcp_listen(&ts2, &laddr, 0, tcpx_conn_h, &x), EINVAL);
	TEST_EQ(net_tcp_listen(&ts2, NULL, 8, tcpx_conn_h, &x), EINVAL);
	TEST_ASSERT(ts2 == NULL);
	TEST_EQ(net_tcp_listen(NULL, &laddr, 8, tcpx_conn_h, &x), EINVAL);

 out:
	tmr_cancel(&tmr);
	mem_deref(x.cli);
	mem_deref(x.srv);
	mem_deref(x.ts);
	return err;
}

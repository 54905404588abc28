/**
 * @file udp.c  UDP sockets on plain BSD socket calls (POSIX or lwIP)
 *
 * A wake-up drains the socket: recvmmsg() fills up to NET_UDP_BATCH
 * buffers per call where the C library has it, else recvfrom() is
 * called until EAGAIN; after NET_UDP_WAKE_MAX datagrams the socket
 * yields to the loop (readiness is level-triggered: it comes back).
 *
 * The receive buffers are the module's, shared by every socket: the
 * loop is single-threaded and a handler finishes with its datagram
 * before the next one is read. Nothing is allocated per datagram. A
 * datagram longer than maxpkt (read as maxpkt + 1 bytes) is dropped.
 *
 * A handler may close its own socket: the drain holds a reference and
 * stops when it is the last holder.
 *
 * The monotonic time is read once per batch (net_udp_rx_time): the
 * arrival time of what a handler is given, for RTP jitter, without a
 * clock read per datagram.
 *
 * A socket many peers send through (the AGW's shared browser-side port)
 * may batch what it sends (net_udp_tx_batch): datagrams are copied into
 * a queue of the socket's and leave in one sendmmsg() when the loop has
 * run every handler of its turn (a 0 ms libre timer: libre polls timers
 * after the descriptors) or when NET_UDP_TXQ are queued. Order is kept.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "net_sys.h"
#include "net.h"


struct txq;

struct net_udp {
	int fd;
	int af;
	size_t maxpkt;
	net_udp_recv_h *rh;
	void *arg;
	struct net_udp_stats stats;
	unsigned wake_max;          /* datagrams per wake-up, then yield  */
	struct txq *txq;            /* batched sends (net_udp_tx_batch)   */
	struct le txle;             /* in txl while txq holds datagrams  */
};

/* One batch of received datagrams */
static uint8_t rx_buf[NET_UDP_BATCH][NET_UDP_PKT_MAX + 1];
static struct sa rx_src[NET_UDP_BATCH];
static size_t rx_len[NET_UDP_BATCH];
static uint64_t rx_time;            /* us, monotonic, of the batch      */


static void tx_flush(struct net_udp *u);


static void destructor(void *arg)
{
	struct net_udp *u = arg;

	if (u->txq) {
		tx_flush(u);
		mem_deref(u->txq);
	}

	if (u->fd >= 0) {
		net_sys_unlisten(u->fd);
		(void)net_sys_close(u->fd);
	}
}


#ifdef NET_HAVE_MMSG

static struct mmsghdr rx_msg[NET_UDP_BATCH];
static struct iovec rx_iov[NET_UDP_BATCH];


/* Up to want datagrams in one call; fewer: the queue is empty */
static unsigned rx_batch(struct net_udp *u, unsigned want)
{
	unsigned i;
	int n;

	for (i = 0; i < want; i++) {
		rx_iov[i].iov_base = rx_buf[i];
		rx_iov[i].iov_len  = u->maxpkt + 1;
		memset(&rx_msg[i].msg_hdr, 0, sizeof(rx_msg[i].msg_hdr));
		rx_msg[i].msg_hdr.msg_iov     = &rx_iov[i];
		rx_msg[i].msg_hdr.msg_iovlen  = 1;
		rx_msg[i].msg_hdr.msg_name    = &rx_src[i].u;
		rx_msg[i].msg_hdr.msg_namelen = sizeof(rx_src[i].u);
	}

	n = net_sys_recvmmsg(u->fd, rx_msg, want, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;

	++u->stats.reads;

	for (i = 0; i < (unsigned)n; i++) {
		rx_src[i].len = rx_msg[i].msg_hdr.msg_namelen;
		rx_len[i]     = rx_msg[i].msg_len;
	}

	return (unsigned)n;
}

#else

/* recvfrom() until want datagrams or EAGAIN */
static unsigned rx_batch(struct net_udp *u, unsigned want)
{
	unsigned i;
	ssize_t n;

	for (i = 0; i < want; i++) {

		rx_src[i].len = sizeof(rx_src[i].u);
		n = net_sys_recvfrom(u->fd, rx_buf[i], u->maxpkt + 1, 0,
				     &rx_src[i].u.sa, &rx_src[i].len);
		if (n < 0)
			break;

		rx_len[i] = (size_t)n;
		++u->stats.reads;
	}

	return i;
}

#endif


#ifdef NET_HAVE_MMSG

/* What a batching socket has queued */
struct txq {
	unsigned n;
	struct mmsghdr msg[NET_UDP_TXQ];
	struct iovec iov[NET_UDP_TXQ];
	struct sa dst[NET_UDP_TXQ];
	uint8_t buf[NET_UDP_TXQ][NET_UDP_PKT_MAX];
};

static struct list txl;             /* sockets with queued datagrams    */
static struct tmr txt;              /* flushes them after the turn      */


/* Send what the socket queued, in as few sendmmsg() calls as the
   system takes; a datagram it refuses is dropped (as sendto() would),
   a full send buffer (EAGAIN) drops the rest */
static void tx_flush(struct net_udp *u)
{
	struct txq *q = u->txq;
	unsigned off = 0;
	int n;

	list_unlink(&u->txle);
	if (!list_head(&txl))
		tmr_cancel(&txt);

	while (off < q->n) {

		n = net_sys_sendmmsg(u->fd, &q->msg[off], q->n - off, 0);
		++u->stats.writes;
		if (n > 0) {
			off += (unsigned)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			u->stats.tx_dropped += q->n - off;
			break;
		}

		++u->stats.tx_dropped;
		++off;
	}

	q->n = 0;
}


static void txt_h(void *arg)
{
	struct le *le;
	(void)arg;

	while ((le = list_head(&txl)))
		tx_flush(le->data);
}


static int tx_queue(struct net_udp *u, const struct sa *dst,
		    const uint8_t *buf, size_t len)
{
	struct txq *q = u->txq;
	unsigned i = q->n;

	if (len > NET_UDP_PKT_MAX)
		return EMSGSIZE;

	if (len)
		memcpy(q->buf[i], buf, len);
	q->dst[i] = *dst;
	q->iov[i].iov_base = q->buf[i];
	q->iov[i].iov_len  = len;
	memset(&q->msg[i].msg_hdr, 0, sizeof(q->msg[i].msg_hdr));
	q->msg[i].msg_hdr.msg_iov     = &q->iov[i];
	q->msg[i].msg_hdr.msg_iovlen  = 1;
	q->msg[i].msg_hdr.msg_name    = &q->dst[i].u;
	q->msg[i].msg_hdr.msg_namelen = dst->len;
	++u->stats.tx;

	if (++q->n == 1) {
		list_append(&txl, &u->txle, u);
		if (!tmr_isrunning(&txt))
			tmr_start(&txt, 0, txt_h, NULL);
	}

	if (q->n == NET_UDP_TXQ)
		tx_flush(u);

	return 0;
}

#else

struct txq {
	unsigned n;
};


static void tx_flush(struct net_udp *u)
{
	(void)u;
}


static int tx_queue(struct net_udp *u, const struct sa *dst,
		    const uint8_t *buf, size_t len)
{
	(void)u;
	(void)dst;
	(void)buf;
	(void)len;
	return ENOTSUP;
}

#endif


/* false: the owner let go of the socket in a handler */
static bool deliver(struct net_udp *u, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {

		if (rx_len[i] > u->maxpkt) {
			++u->stats.rx_oversize;
			continue;
		}

		++u->stats.rx;
		u->rh(&rx_src[i], rx_buf[i], rx_len[i], u->arg);

		if (mem_nrefs(u) == 1)
			return false;
	}

	return true;
}


/**
 * Read what is queued on a socket, at most NET_UDP_WAKE_MAX datagrams
 * (net_udp_wake_max_set),
 * and hand each to the receive handler. The readiness seam: the
 * default build calls it from libre's fd_listen(); with NET_LWIP the
 * loop that polls net_udp_fd() calls it. Not from a receive handler.
 *
 * @param u UDP socket
 *
 * @return Number of datagrams read (oversize ones included)
 */
unsigned net_udp_drain(struct net_udp *u)
{
	unsigned total = 0, want, n;

	if (!u || u->fd < 0)
		return 0;

	mem_ref(u);

	while (total < u->wake_max) {

		want = min(NET_UDP_BATCH, u->wake_max - total);
		n = rx_batch(u, want);
		if (!n)
			break;

		rx_time = net_udp_now();
		total += n;

		if (!deliver(u, n) || n < want)
			break;
	}

	mem_deref(u);

	return total;
}


/**
 * The monotonic clock
 *
 * @return Microseconds
 */
uint64_t net_udp_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);

	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}


/**
 * When the datagrams being delivered were read (one clock read per
 * batch, net_udp_drain)
 *
 * @return Monotonic microseconds (net_udp_now), 0 before any read
 */
uint64_t net_udp_rx_time(void)
{
	return rx_time;
}


static void read_h(int flags, void *arg)
{
	(void)flags;
	(void)net_udp_drain(arg);
}


static int nonblock(int fd)
{
	int fl = net_sys_fcntl(fd, F_GETFL, 0);

	if (fl < 0 || net_sys_fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return errno;

	return 0;
}


/**
 * Open a UDP socket bound to a local address; readiness through
 * libre's fd_listen() (NET_LWIP: the owner's loop, net_udp_drain())
 *
 * @param up     Returned socket
 * @param laddr  Local address and port (0: any port), IPv4 or IPv6
 * @param maxpkt Longest datagram taken, 1..NET_UDP_PKT_MAX; longer
 *               ones are dropped
 * @param rh     Receive handler
 * @param arg    Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int net_udp_open(struct net_udp **up, const struct sa *laddr,
		 size_t maxpkt, net_udp_recv_h *rh, void *arg)
{
	struct net_udp *u;
	int err;

	if (!up || !laddr || !rh || !maxpkt || maxpkt > NET_UDP_PKT_MAX)
		return EINVAL;

	if (sa_af(laddr) != AF_INET && sa_af(laddr) != AF_INET6)
		return EAFNOSUPPORT;

	u = mem_zalloc(sizeof(*u), destructor);
	if (!u)
		return ENOMEM;

	u->af     = sa_af(laddr);
	u->maxpkt = maxpkt;
	u->wake_max = NET_UDP_WAKE_MAX;
	u->rh     = rh;
	u->arg    = arg;

	u->fd = net_sys_socket(u->af, SOCK_DGRAM, IPPROTO_UDP);
	if (u->fd < 0) {
		err = errno;
		goto out;
	}

	err = nonblock(u->fd);
	if (err)
		goto out;

	if (net_sys_bind(u->fd, &laddr->u.sa, laddr->len) < 0) {
		err = errno;
		goto out;
	}

	err = net_sys_listen(u->fd, read_h, u);

 out:
	if (err)
		mem_deref(u);
	else
		*up = u;

	return err;
}


/**
 * Send a datagram
 *
 * @param u   UDP socket
 * @param dst Destination, of the socket's address family
 * @param buf Datagram
 * @param len Length
 *
 * @return 0 if success, otherwise errorcode (EAGAIN: the socket's send
 *         buffer is full, the datagram is not sent)
 */
int net_udp_send(struct net_udp *u, const struct sa *dst,
		 const uint8_t *buf, size_t len)
{
	if (!u || !dst || (!buf && len))
		return EINVAL;

	if (sa_af(dst) != u->af)
		return EAFNOSUPPORT;

	if (u->txq)
		return tx_queue(u, dst, buf, len);

	++u->stats.writes;
	if (net_sys_sendto(u->fd, buf, len, 0, &dst->u.sa, dst->len) < 0)
		return errno;

	++u->stats.tx;

	return 0;
}


/**
 * Let a socket read more datagrams per wake-up than NET_UDP_WAKE_MAX
 * before it yields to the loop: for a socket that carries the traffic
 * of many peers that would each have had a socket of their own (one
 * turn of the loop serves every ready socket, so a socket that yields
 * after 64 while hundreds of others are ready falls behind for good)
 *
 * @param u UDP socket
 * @param n Datagrams per wake-up, at least 1
 *
 * @return 0 if success, otherwise errorcode
 */
int net_udp_wake_max_set(struct net_udp *u, unsigned n)
{
	if (!u || !n)
		return EINVAL;

	u->wake_max = n;

	return 0;
}


/**
 * Batch what a socket sends: net_udp_send() queues the datagram, and
 * the queue leaves in one sendmmsg() after the loop has run its turn's
 * handlers, or when NET_UDP_TXQ datagrams are queued. For a socket that
 * many peers' traffic leaves through; a datagram the system refuses
 * then counts in tx_dropped instead of failing net_udp_send().
 *
 * @param u UDP socket
 *
 * @return 0 if success, ENOTSUP without sendmmsg(), otherwise errorcode
 */
int net_udp_tx_batch(struct net_udp *u)
{
	if (!u)
		return EINVAL;

#ifdef NET_HAVE_MMSG
	if (u->txq)
		return 0;

	u->txq = mem_zalloc(sizeof(*u->txq), NULL);

	return u->txq ? 0 : ENOMEM;
#else
	return ENOTSUP;
#endif
}


/**
 * Get the local address of a socket (the port bind chose)
 *
 * @param u     UDP socket
 * @param laddr Returned address
 *
 * @return 0 if success, otherwise errorcode
 */
int net_udp_local(const struct net_udp *u, struct sa *laddr)
{
	if (!u || !laddr)
		return EINVAL;

	laddr->len = sizeof(laddr->u);
	if (net_sys_getsockname(u->fd, &laddr->u.sa, &laddr->len) < 0)
		return errno;

	return 0;
}


/**
 * Mark what a socket sends with a DSCP (net_udp_dscp())
 *
 * @param u    UDP socket
 * @param dscp Code point, 0..63
 *
 * @return 0 if success, ENOTSUP where the option is missing, otherwise
 *         errorcode
 */
int net_udp_dscp_set(struct net_udp *u, uint8_t dscp)
{
	if (!u)
		return EINVAL;

	return net_udp_dscp(u->fd, u->af, dscp);
}


/**
 * Ask for a larger receive buffer (a socket many peers send to): beyond
 * the system's cap (net.core.rmem_max) where permitted (SO_RCVBUFFORCE,
 * CAP_NET_ADMIN), else up to the cap
 *
 * @param u     UDP socket
 * @param bytes Buffer size
 *
 * @return 0 if success, ENOTSUP where the option is missing, otherwise
 *         errorcode
 */
int net_udp_rcvbuf_set(struct net_udp *u, int bytes)
{
	if (!u || bytes <= 0)
		return EINVAL;

#ifdef SO_RCVBUFFORCE
	if (!net_sys_setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes,
				sizeof(bytes)))
		return 0;
#endif
#ifdef SO_RCVBUF
	if (net_sys_setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &bytes,
			       sizeof(bytes)))
		return errno;

	return 0;
#else
	return ENOTSUP;
#endif
}


/**
 * Get the receive buffer a socket has (what the system reports:
 * Linux counts its overhead in, twice what was asked)
 *
 * @param u UDP socket
 *
 * @return Bytes, -1 if unknown
 */
int net_udp_rcvbuf(const struct net_udp *u)
{
#ifdef SO_RCVBUF
	int bytes = -1;
	socklen_t len = sizeof(bytes);

	if (!u || net_sys_getsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &bytes,
				     &len))
		return -1;

	return bytes;
#else
	(void)u;
	return -1;
#endif
}


/**
 * Get a socket's descriptor: for a loop that polls it (NET_LWIP: an
 * lwIP socket) and for tests that read its options
 *
 * @param u UDP socket
 *
 * @return Descriptor, -1 if none
 */
int net_udp_fd(const struct net_udp *u)
{
	return u ? u->fd : -1;
}


/**
 * Tell whether sockets read in batches (recvmmsg() compiled in)
 *
 * @return true if recvmmsg(), false if one recvfrom() per datagram
 */
bool net_udp_mmsg(void)
{
#ifdef NET_HAVE_MMSG
	return true;
#else
	return false;
#endif
}


/**
 * Get a socket's counters
 *
 * @param u  UDP socket
 * @param st Returned counters
 */
void net_udp_stats(const struct net_udp *u, struct net_udp_stats *st)
{
	if (!st)
		return;

	if (u)
		*st = u->stats;
	else
		memset(st, 0, sizeof(*st));
}

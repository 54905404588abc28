/**
 * @file conn.c  One WWSF connection: TCP, TLS and an HTTP session
 *
 * There is no plain-HTTP mode: whatever is not a TLS handshake (plain
 * HTTP on the port included) fails the handshake, is logged and
 * closed. When the session ends, what is queued is sent, then the
 * connection lingers a moment reading and discarding, so a last
 * response is not lost to a TCP reset.
 */
#include <re.h>
#include "../core/log.h"
#include "../core/stats.h"
#include "../net/net.h"
#include "../admit/admit.h"
#include "wwsf.h"
#include "wwsf_int.h"

#define LOG_MODULE "wwsf"

enum {
	LINGER_MS = 1000,
	DRAIN_MS  = 10000,     /* queued bytes must leave within this */
};

enum conn_state {
	C_TLS = 0,
	C_HTTP,
	C_DRAIN,     /* session ended, sending what is queued */
	C_LINGER,
};

struct wwsf_conn {
	struct le le;
	struct wwsf *w;
	struct sa peer;
	struct tcp_conn *tc;
	struct tls_conn *sc;
	struct wwsf_sess *sess;
	struct admit_addr *addr; /**< Its source address's count         */
	struct tmr tmr;        /**< Linger                               */
	uint64_t deadline;     /**< TLS handshake or drain               */
	enum conn_state state;
};


static void destructor(void *arg)
{
	struct wwsf_conn *conn = arg;

	tmr_cancel(&conn->tmr);
	list_unlink(&conn->le);
	mem_deref(conn->sess);
	mem_deref(conn->sc);
	mem_deref(conn->tc);

	if (conn->addr) {
		--conn->addr->n_open;
		mem_deref(conn->addr);
	}
}


static void linger_timeout(void *arg)
{
	mem_deref(arg);
}


static void discard_recv(struct mbuf *mb, void *arg)
{
	(void)mb;
	(void)arg;
}


static void tcp_closed(int err, void *arg)
{
	struct wwsf_conn *conn = arg;

	if (conn->state == C_TLS)
		log_info("%J: TLS handshake failed or closed: %m",
			 &conn->peer, err ? err : ECONNRESET);
	else if (err && conn->state == C_HTTP)
		log_debug("%J: closed: %m", &conn->peer, err);

	mem_deref(conn);
}


static void linger(struct wwsf_conn *conn)
{
	(void)tcp_set_send(conn->tc, NULL);
	conn->state = C_LINGER;
	tmr_start(&conn->tmr, LINGER_MS, linger_timeout, conn);
}


static void tcp_writable(void *arg);


/* After each step of the session: keep streaming, or wind down */
static void update(struct wwsf_conn *conn)
{
	if (conn->state != C_HTTP)
		return;

	if (!wwsf_sess_done(conn->sess)) {
		(void)tcp_set_send(conn->tc, wwsf_sess_sending(conn->sess) ?
				   tcp_writable : NULL);
		return;
	}

	tcp_set_handlers(conn->tc, NULL, discard_recv, tcp_closed, conn);

	if (!tcp_conn_txqsz(conn->tc)) {
		linger(conn);
		return;
	}

	conn->state = C_DRAIN;
	conn->deadline = tmr_jiffies() + DRAIN_MS;
	(void)tcp_set_send(conn->tc, tcp_writable);
}


/* libre calls this when the send queue is empty */
static void tcp_writable(void *arg)
{
	struct wwsf_conn *conn = mem_ref(arg);

	if (conn->state == C_HTTP) {
		wwsf_sess_drain(conn->sess);
		update(conn);
	}
	else if (conn->state == C_DRAIN) {
		linger(conn);
	}

	mem_deref(conn);
}


static void tcp_recv(struct mbuf *mb, void *arg)
{
	struct wwsf_conn *conn = mem_ref(arg);

	if (conn->state == C_HTTP) {
		wwsf_sess_recv(conn->sess, mbuf_buf(mb), mbuf_get_left(mb));
		update(conn);
	}

	mem_deref(conn);
}


static void tls_estab(void *arg)
{
	struct wwsf_conn *conn = arg;

	log_debug("%J: TLS up (%s)", &conn->peer, tls_cipher_name(conn->sc));
	conn->state = C_HTTP;
}


static int sess_send(struct mbuf *mb, void *arg)
{
	struct wwsf_conn *conn = arg;

	return tcp_send(conn->tc, mb);
}


static size_t sess_txq(void *arg)
{
	struct wwsf_conn *conn = arg;

	return tcp_conn_txqsz(conn->tc);
}


/**
 * Check a connection's deadlines (the listener calls this for every
 * connection twice a second)
 *
 * @param conn Connection (may be freed)
 * @param now  Current time (tmr_jiffies())
 */
void wwsf_conn_tick(struct wwsf_conn *conn, uint64_t now)
{
	switch (conn->state) {

	case C_TLS:
		if (now < conn->deadline)
			break;

		log_info("%J: TLS handshake timeout", &conn->peer);
		mem_deref(conn);
		break;

	case C_HTTP:
		mem_ref(conn);
		wwsf_sess_tick(conn->sess, now);
		update(conn);
		mem_deref(conn);
		break;

	case C_DRAIN:
		if (now < conn->deadline)
			break;

		log_info("%J: last response not read, closing", &conn->peer);
		mem_deref(conn);
		break;

	default:
		break;
	}
}


/**
 * At the connection cap: drop the oldest connection still in its TLS
 * handshake to make room, so sockets that handshake a byte at a time
 * cannot lock the page out until they time out (issue 13)
 *
 * @param w Listener
 *
 * @return true if one was dropped
 */
bool wwsf_conn_evict_oldest(struct wwsf *w)
{
	struct le *le;

	for (le = w->conns.head; le; le = le->next) {
		struct wwsf_conn *conn = le->data;

		if (conn->state != C_TLS)
			continue;

		log_debug("%J: dropped in TLS handshake for a newer "
			  "connection", &conn->peer);
		stats_inc(STAT_HS_DROPPED);
		mem_deref(conn);
		return true;
	}

	return false;
}


/**
 * Accept an incoming TCP connection and start TLS (on failure the
 * connection is rejected here)
 *
 * @param w    Listener
 * @param peer Client address
 *
 * @return 0 if success, otherwise errorcode
 */
int wwsf_conn_accept(struct wwsf *w, const struct sa *peer)
{
	struct wwsf_conn *conn;
	int err;

	conn = mem_zalloc(sizeof(*conn), destructor);
	if (!conn) {
		tcp_reject(w->ts);
		return ENOMEM;
	}

	conn->w = w;
	conn->peer = *peer;
	conn->state = C_TLS;
	conn->deadline = tmr_jiffies() + WWSF_HEAD_TMO;
	list_append(&w->conns, &conn->le, conn);

	conn->addr = admit_get(w->ht_addr, peer);
	if (!conn->addr) {
		tcp_reject(w->ts);
		mem_deref(conn);
		return ENOMEM;
	}
	++conn->addr->n_open;

	err = net_tcp_accept(&conn->tc, w->ts, tls_estab, tcp_recv,
			     tcp_closed, conn);
	if (!err)
		err = tls_start_tcp(&conn->sc, w->tls, conn->tc, 0);
	if (err)
		goto out;

	err = wwsf_sess_alloc(&conn->sess, w->site, peer, sess_send,
			      sess_txq, conn);

 out:
	if (err) {
		log_warn("%J: accept failed: %m", peer, err);
		mem_deref(conn);
	}

	return err;
}

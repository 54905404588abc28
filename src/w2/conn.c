/**
 * @file conn.c  One W2 connection: TLS, HTTP Upgrade policy, WebSocket,
 *               SIP messages
 *
 * The Upgrade must carry an allowed Origin (else 403, checklist D-1)
 * and offer the "sip" subprotocol (else 400, D-2). Each WebSocket
 * message is one SIP message (RFC 7118 5.2).
 *
 * Admission (see w2.c for the accept side): an address with
 * w2_connections_per_address upgraded connections gets 503 with
 * Retry-After, like the whole listener at max_connections.
 */
#include <string.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/stats.h"
#include "../core/trim.h"
#include "../net/net.h"
#include "../ws/ws.h"
#include "../sip/sipx.h"
#include "../httpx/httpx.h"
#include "../admit/admit.h"
#include "w2.h"
#include "w2_int.h"

#define LOG_MODULE "w2"

enum {
	HTTP_REQ_MAX = 8192,
	HTTP_HDR_MAX = 64,     /* header lines in the Upgrade request */
	LINGER_MS    = 1000,
	RETRY_AFTER  = 30,
};

enum conn_state {
	C_TLS = 0,
	C_HTTP,
	C_WS,
	C_LINGER,   /* error response sent, closing */
};

struct w2_conn {
	struct le le;
	struct le sle;         /**< In w2->pending in the TLS/HTTP stage,
				    then in w2->ht_ws once upgraded      */
	struct admit_addr *addr; /**< Its source address's counters      */
	uint64_t id;           /**< Unique for the process lifetime      */
	char *origin;          /**< Allowed origin it matched (conf's)  */
	struct w2 *w2;
	struct sa peer;
	struct tcp_conn *tc;
	struct tls_conn *sc;
	struct ws_conn *wc;
	struct mbuf *hbuf;
	uint64_t deadline;     /**< End of the TLS + Upgrade stage, or
				    of the linger after an error response
				    (checked by the W2 tick)             */
	enum conn_state state;
};


/* Leave the TLS/HTTP stage's counts (upgraded, refused or gone) */
static void pending_leave(struct w2_conn *conn)
{
	--conn->w2->n_pending;
	--conn->addr->n_pending;
	trim_note(W2_TRIM_HANDSHAKE);
	list_unlink(&conn->sle);
}


static void destructor(void *arg)
{
	struct w2_conn *conn = arg;
	struct w2 *w2 = conn->w2;

	list_unlink(&conn->le);
	hash_unlink(&conn->sle);

	if (conn->state == C_WS && w2->closeh)
		w2->closeh(conn, w2->arg);

	if (conn->state == C_WS) {
		--w2->n_ws;
		--conn->addr->n_open;
	}
	else if (conn->state != C_LINGER && conn->addr) {
		pending_leave(conn);
	}

	mem_deref(conn->wc);
	mem_deref(conn->sc);
	mem_deref(conn->tc);
	mem_deref(conn->hbuf);
	mem_deref(conn->origin);
	mem_deref(conn->addr);

	trim_note(W2_TRIM_GONE);
	w2_conn_gone(w2);
}


static void discard_recv(struct mbuf *mb, void *arg)
{
	(void)mb;
	(void)arg;
}


static void tcp_closed(int err, void *arg)
{
	struct w2_conn *conn = arg;

	if (conn->state == C_TLS || conn->state == C_HTTP)
		log_info("%J: closed before upgrade: %m", &conn->peer,
			 err ? err : ECONNRESET);

	mem_deref(conn);
}


/* Answer the Upgrade with an error and close after a short linger, so
   the response is not lost to a reset */
static void http_reject(struct w2_conn *conn, uint16_t scode,
			const char *status, const char *reason)
{
	struct mbuf *mb = mbuf_alloc(256);

	stats_inc(STAT_WS_REJECTED);
	log_info("%J: upgrade rejected with %u: %s", &conn->peer, scode,
		 reason);

	if (mb) {
		(void)mbuf_printf(mb, "HTTP/1.1 %u %s\r\n"
				  "Content-Type: text/plain\r\n"
				  "Content-Length: %zu\r\n"
				  "%s"
				  "Connection: close\r\n"
				  "\r\n%s\n",
				  scode, status, strlen(reason) + 1,
				  scode == 503 ? "Retry-After: 30\r\n" : "",
				  reason);
		mb->pos = 0;
		(void)tcp_send(conn->tc, mb);
		mem_deref(mb);
	}

	pending_leave(conn);
	conn->state = C_LINGER;
	conn->hbuf = mem_deref(conn->hbuf);
	tcp_set_handlers(conn->tc, NULL, discard_recv, tcp_closed, conn);
	conn->deadline = tmr_jiffies() + LINGER_MS;
}


static void ws_closed(int err, uint16_t code, void *arg)
{
	struct w2_conn *conn = arg;

	/* a page closed or reloaded (1000, 1001) is no news */
	if (err)
		log_info("%J: WebSocket closed, code %u (%s): %m",
			 &conn->peer, code, ws_close_reason(code), err);
	else
		log_msg(code == 1000 || code == 1001 ? LOG_LVL_DEBUG :
			LOG_LVL_INFO, LOG_MODULE, "%J: WebSocket closed, code "
			"%u (%s)", &conn->peer, code, ws_close_reason(code));

	mem_deref(conn);
}


/**
 * Send one SIP message to the browser
 *
 * @param conn W2 connection
 * @param mb   SIP message from mb->pos
 *
 * @return 0 if success, otherwise errorcode
 */
int w2_conn_send(struct w2_conn *conn, const struct mbuf *mb)
{
	const uint8_t *p;
	size_t n;
	int err;

	if (!conn || !mb)
		return EINVAL;

	if (conn->state != C_WS)
		return ENOTCONN;

	p = mbuf_buf(mb);
	n = mbuf_get_left(mb);

	err = ws_conn_send(conn->wc, ws_utf8_valid(p, n) ? WS_TEXT : WS_BIN,
			   p, n);
	if (err == ENOBUFS) {
		log_warn("%J: send queue full, closing", &conn->peer);
		ws_conn_close(conn->wc, WS_CLOSE_POLICY, "send queue full");
	}

	return err;
}


/**
 * Answer a request from the browser; a request too broken to answer
 * closes the WebSocket with 1007
 *
 * @param conn   W2 connection
 * @param msg    SIP request
 * @param scode  Status code
 * @param reason Reason phrase
 * @param hdrs   Extra header lines ending in CRLF, or NULL
 */
void w2_conn_reply(struct w2_conn *conn, const struct sip_msg *msg,
		   uint16_t scode, const char *reason, const char *hdrs)
{
	struct mbuf *mb = mbuf_alloc(512);
	int err;

	if (!mb)
		return;

	err = sipx_reply(mb, msg, scode, reason, hdrs);
	if (!err) {
		mb->pos = 0;
		stats_sip_response(true, scode);
		(void)w2_conn_send(conn, mb);
	}
	else if (err == EBADMSG) {
		log_info("%J: SIP request cannot be answered, closing with "
			 "1007", &conn->peer);
		ws_conn_close(conn->wc, WS_CLOSE_INVALID, "unanswerable SIP");
	}

	mem_deref(mb);
}


/**
 * Answer what W2 answers itself: OPTIONS (a keepalive and a
 * reachability probe) and, until routing to the core is configured,
 * everything else with 501
 *
 * @param conn W2 connection
 * @param msg  SIP request
 *
 * @return true (handled)
 */
bool w2_local_request(struct w2_conn *conn, const struct sip_msg *msg)
{
	if (!pl_strcmp(&msg->met, "OPTIONS")) {
		w2_conn_reply(conn, msg, 200, "OK",
			  "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, "
			  "MESSAGE, REGISTER, SUBSCRIBE, NOTIFY, PRACK, "
			  "UPDATE, INFO, REFER\r\n"
			  "Accept: application/sdp\r\n");
		return true;
	}

	if (!pl_strcmp(&msg->met, "ACK"))
		return true;

	log_info("%J: %r not routed: no route to the core", &conn->peer,
		 &msg->met);
	w2_conn_reply(conn, msg, 501, "Not Implemented", NULL);

	return true;
}


static void ws_msg(enum ws_opcode op, struct mbuf *mb, void *arg)
{
	struct w2_conn *conn = mem_ref(arg);
	struct sip_msg *msg = NULL;
	const char *reason = NULL;
	int err;
	(void)op;

	err = sipx_decode(&msg, mbuf_buf(mb), mbuf_get_left(mb));
	if (err && msg) {
		uint16_t scode = sipx_fault(err, &reason);

		log_info("%J: bad SIP %s: %s", &conn->peer,
			 msg->req ? "request" : "response", reason);
		if (msg->req && pl_strcmp(&msg->met, "ACK"))
			w2_conn_reply(conn, msg, scode, reason, NULL);
		goto out;
	}
	if (err) {
		log_info("%J: unparsable SIP message (%zu bytes), closing "
			 "with 1007", &conn->peer, mbuf_get_left(mb));
		ws_conn_close(conn->wc, WS_CLOSE_INVALID, "not SIP");
		goto out;
	}

	if (sipx_validate(msg, &reason)) {
		log_info("%J: bad SIP %s: %s", &conn->peer,
			 msg->req ? "request" : "response", reason);
		if (msg->req && pl_strcmp(&msg->met, "ACK"))
			w2_conn_reply(conn, msg, 400, reason, NULL);
		goto out;
	}

	if (conn->w2->siph && conn->w2->siph(conn, msg, conn->w2->arg))
		goto out;

	if (msg->req)
		(void)w2_local_request(conn, msg);
	else
		log_debug("%J: response %u dropped: no transaction",
			  &conn->peer, msg->scode);

 out:
	mem_deref(msg);
	mem_deref(conn);
}


static int ws_start(struct w2_conn *conn, const struct ws_upgrade *up)
{
	const struct imsedge_conf *cf = conn->w2->conf;
	struct ws_conn_prm prm;
	struct mbuf *mb;
	int err;

	memset(&prm, 0, sizeof(prm));
	prm.max_message   = cf->w2_max_message;
	prm.ping_interval = cf->w2_ping_interval * 1000;
	prm.idle_timeout  = cf->w2_idle_timeout * 1000;

	mb = mbuf_alloc(256);
	if (!mb)
		return ENOMEM;

	err = ws_upgrade_accept(mb, up, "sip");
	if (!err) {
		mb->pos = 0;
		err = tcp_send(conn->tc, mb);
	}
	mem_deref(mb);
	if (err)
		return err;

	err = ws_conn_alloc(&conn->wc, conn->tc, &prm, ws_msg, ws_closed,
			    conn);
	if (err)
		return err;

	/* a reference to the configured string, not a copy: it outlives a
	   reload that drops it from the list */
	conn->origin = mem_ref((char *)conf_origin_find(conn->w2->conf,
							&up->origin));
	if (!conn->origin)
		return EPERM;

	pending_leave(conn);
	++conn->w2->n_ws;
	++conn->addr->n_open;
	conn->state = C_WS;
	conn->id = ++conn->w2->next_id;
	hash_append(conn->w2->ht_ws, (uint32_t)conn->id, &conn->sle, conn);

	stats_inc(STAT_WS_OPENED);
	log_info("%J: WebSocket open (origin %r, %u connections)",
		 &conn->peer, &up->origin, conn->w2->n_ws);

	return 0;
}


static void upgrade(struct w2_conn *conn, const struct http_msg *msg)
{
	const struct w2 *w2 = conn->w2;
	struct ws_upgrade up;
	const char *reason = NULL;
	int scode;

	scode = ws_upgrade_decode(&up, msg, &reason);
	if (scode) {
		http_reject(conn, (uint16_t)scode, scode == 405 ?
			    "Method Not Allowed" : scode == 426 ?
			    "Upgrade Required" : "Bad Request", reason);
		return;
	}

	if (!conf_origin_allowed(w2->conf, &up.origin)) {
		char why[160];

		(void)re_snprintf(why, sizeof(why), "origin '%r' not allowed",
				  &up.origin);
		stats_inc(STAT_ORIGIN_REFUSED);
		log_security("origin_refused", &conn->peer,
			     "origin=\"%r\" where=w2", &up.origin);
		http_reject(conn, 403, "Forbidden", pl_isset(&up.origin) ?
			    why : "no Origin");
		return;
	}

	if (!ws_upgrade_has_protocol(&up, "sip")) {
		http_reject(conn, 400, "Bad Request",
			    "Sec-WebSocket-Protocol does not offer sip");
		return;
	}

	if (w2->n_ws >= w2->conf->max_connections) {
		http_reject(conn, 503, "Service Unavailable",
			    "connection limit reached");
		return;
	}

	if (conn->addr->n_open >= w2->conf->w2_connections_per_address) {
		admit_refused(conn->addr, "connections_limited",
			      &conn->peer,
				w2->conf->w2_connections_per_address);
		http_reject(conn, 503, "Service Unavailable",
			    "connection limit for this address reached");
		return;
	}

	if (ws_start(conn, &up)) {
		log_warn("%J: cannot start WebSocket", &conn->peer);
		mem_deref(conn);
	}
}


static void http_recv(struct w2_conn *conn, struct mbuf *mb)
{
	struct http_msg *msg = NULL;
	const char *why = NULL;
	struct mbuf *rest;
	int err, scode;

	if (!conn->hbuf) {
		conn->hbuf = mbuf_alloc(1024);
		if (!conn->hbuf)
			goto fail;
	}

	if (conn->hbuf->end + mbuf_get_left(mb) > HTTP_REQ_MAX) {
		http_reject(conn, 431, "Request Header Fields Too Large",
			    "upgrade request too large");
		return;
	}

	conn->hbuf->pos = conn->hbuf->end;
	if (mbuf_write_mem(conn->hbuf, mbuf_buf(mb), mbuf_get_left(mb)))
		goto fail;
	conn->hbuf->pos = 0;

	err = http_msg_decode(&msg, conn->hbuf, true);
	if (err == ENODATA) {
		conn->hbuf->pos = 0;
		return;
	}
	if (err) {
		http_reject(conn, 400, "Bad Request", "malformed HTTP");
		return;
	}

	scode = httpx_head_check(conn->hbuf->buf, conn->hbuf->pos,
				 HTTP_HDR_MAX, &why);
	if (!scode)
		scode = httpx_host_check(msg, &why);
	if (scode) {
		mem_deref(msg);
		http_reject(conn, (uint16_t)scode, scode == 431 ?
			    "Request Header Fields Too Large" : "Bad Request",
			    why);
		return;
	}

	/* frames the client sent right behind its request */
	rest = mem_ref(conn->hbuf);
	upgrade(conn, msg);
	mem_deref(msg);

	/* the request buffer is not needed after the Upgrade */
	if (conn->state == C_WS)
		conn->hbuf = mem_deref(conn->hbuf);

	if (conn->state == C_WS && mbuf_get_left(rest))
		(void)ws_conn_recv(conn->wc, rest);

	mem_deref(rest);
	return;

 fail:
	mem_deref(conn);
}


static void tcp_recv(struct mbuf *mb, void *arg)
{
	struct w2_conn *conn = mem_ref(arg);

	if (conn->state == C_HTTP)
		http_recv(conn, mb);

	mem_deref(conn);
}


static void tls_estab(void *arg)
{
	struct w2_conn *conn = arg;

	log_debug("%J: TLS up (%s)", &conn->peer, tls_cipher_name(conn->sc));
	conn->state = C_HTTP;
}


/**
 * Check a connection's deadlines (W2 calls this for every connection
 * a few times a second; see ws_conn_tick)
 *
 * @param conn W2 connection (may be freed)
 * @param now  Current time (tmr_jiffies())
 */
void w2_conn_tick(struct w2_conn *conn, uint64_t now)
{
	switch (conn->state) {

	case C_TLS:
	case C_HTTP:
		if (now < conn->deadline)
			break;

		log_info("%J: handshake timeout in %s stage", &conn->peer,
			 conn->state == C_TLS ? "TLS" : "HTTP");
		mem_deref(conn);
		break;

	case C_WS:
		ws_conn_tick(conn->wc, now);
		break;

	case C_LINGER:
		if (now >= conn->deadline)
			mem_deref(conn);
		break;

	default:
		break;
	}
}


/**
 * Accept an incoming TCP connection and start TLS (on failure the
 * connection is rejected here)
 *
 * @param w2   W2 listener
 * @param peer Peer address
 *
 * @return 0 if success, otherwise errorcode
 */
int w2_conn_accept(struct w2 *w2, const struct sa *peer)
{
	struct w2_conn *conn;
	int err;

	conn = mem_zalloc(sizeof(*conn), destructor);
	if (!conn)
		return ENOMEM;

	conn->w2   = w2;
	conn->peer = *peer;
	conn->state = C_TLS;
	list_append(&w2->conns, &conn->le, conn);

	conn->addr = admit_get(w2->ht_addr, peer);
	if (!conn->addr) {
		err = ENOMEM;
		goto out;
	}

	++w2->n_pending;
	++conn->addr->n_pending;
	list_append(&w2->pending, &conn->sle, conn);

	err = net_tcp_accept(&conn->tc, w2->ts, tls_estab, tcp_recv,
			     tcp_closed, conn);
	if (!err)
		err = tls_start_tcp(&conn->sc, w2->tls, conn->tc, 0);
	if (err)
		goto out;

	conn->deadline = tmr_jiffies() +
		(uint64_t)w2->conf->w2_handshake_timeout * 1000;

 out:
	if (err) {
		log_warn("%J: accept failed: %m", peer, err);
		mem_deref(conn);
	}

	return err;
}


/**
 * Drop a connection still in the TLS or HTTP stage to make room for a
 * new one (the listener's pending cap; the peer sees the TCP close)
 *
 * @param conn W2 connection (freed)
 */
void w2_conn_evict(struct w2_conn *conn)
{
	log_debug("%J: dropped in %s stage for a newer connection",
		  &conn->peer, conn->state == C_TLS ? "TLS" : "HTTP");
	mem_deref(conn);
}


/**
 * Close one connection for shutdown: WebSocket close 1001, or drop
 *
 * @param conn W2 connection
 */
void w2_conn_shutdown(struct w2_conn *conn)
{
	if (conn->state == C_WS)
		ws_conn_close(conn->wc, WS_CLOSE_GOING_AWAY, "shutting down");
	else
		mem_deref(conn);
}


/**
 * Close a connection's WebSocket with a code and reason (the eP-CSCF:
 * its registration ended in the network)
 *
 * @param conn   W2 connection
 * @param code   WebSocket close code
 * @param reason Close reason
 */
void w2_conn_close(struct w2_conn *conn, uint16_t code, const char *reason)
{
	if (conn && conn->state == C_WS)
		ws_conn_close(conn->wc, code, reason);
}


/**
 * Peer address of a connection
 *
 * @param conn W2 connection
 *
 * @return Address
 */
const struct sa *w2_conn_peer(const struct w2_conn *conn)
{
	return conn ? &conn->peer : NULL;
}


static bool id_cmp(struct le *le, void *arg)
{
	const struct w2_conn *conn = le->data;

	return conn->id == *(const uint64_t *)arg;
}


/**
 * Find an open WebSocket connection by its id
 *
 * @param w2 W2 listener
 * @param id Connection id
 *
 * @return Connection, or NULL if it has gone
 */
struct w2_conn *w2_conn_find(const struct w2 *w2, uint64_t id)
{
	if (!w2 || !id)
		return NULL;

	return list_ledata(hash_lookup(w2->ht_ws, (uint32_t)id, id_cmp, &id));
}


/**
 * Unique id of an upgraded connection (0 before the upgrade)
 *
 * @param conn W2 connection
 *
 * @return Id
 */
uint64_t w2_conn_id(const struct w2_conn *conn)
{
	return conn ? conn->id : 0;
}


/**
 * Origin the WebSocket was opened from, spelled as the w2_origin line
 * it matched (case-insensitively)
 *
 * @param conn W2 connection
 *
 * @return Origin, or NULL
 */
const char *w2_conn_origin(const struct w2_conn *conn)
{
	return conn ? conn->origin : NULL;
}

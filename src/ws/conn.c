/**
 * @file conn.c  WebSocket connection after the upgrade (server side)
 *
 * Client frames must be masked; fragmented messages are reassembled up
 * to prm.max_message (larger: close 1009); text must be UTF-8 (else
 * 1007). A ping goes out every ping_interval; a peer that sends nothing
 * in reply within one more interval is dead and its TCP is dropped.
 *
 * Pings and the idle timeout are deadlines checked by ws_conn_tick(),
 * which the owner calls for all its connections once a second: a
 * thousand connections then put nothing in libre's timer list, which
 * short SIP transaction timers would otherwise walk past on every
 * insertion.
 *
 * Receive and reassembly buffers are charged to the process-wide
 * buffer budget (core/budget.h). When it is spent the largest holder is
 * evicted first; a connection that still finds no room, or is evicted,
 * is closed with 1013 (Try Again Later: the server is overloaded for
 * now, RFC 6455 7.4.1 / IANA registry), not 1009, which says that this
 * message is too big whatever the load. After our close frame a peer
 * may have at most RX_CLOSING_MAX bytes buffered; more drops the TCP.
 */
#include <string.h>
#include <re.h>
#include "../core/budget.h"
#include "ws.h"

enum {
	RX_MIN         = 1024,
	RX_CLOSING_MAX = 4096,
};

enum state {
	ST_OPEN = 0,
	ST_CLOSING,     /* our close frame sent, waiting for the peer's */
	ST_CLOSED,
};

struct ws_conn {
	struct ws_conn_prm prm;
	struct tcp_conn *tc;
	struct mbuf *rx;       /**< Bytes not yet decoded                */
	struct mbuf *msg;      /**< Message being reassembled            */
	enum ws_opcode msg_op; /**< Opcode of msg, WS_CONT if none       */
	uint64_t ping_due;     /**< Next ping (jiffies), 0 = off         */
	uint64_t idle_due;     /**< Idle close (jiffies), 0 = off        */
	struct tmr tmr_close;
	enum state state;
	uint16_t code;         /**< Close code sent or received          */
	bool pong_wait;
	struct budget_holder bh; /**< Bytes of rx and msg               */
	ws_msg_h *msgh;
	ws_closed_h *closedh;
	void *arg;
};


static void destructor(void *arg)
{
	struct ws_conn *wc = arg;

	tmr_cancel(&wc->tmr_close);
	mem_deref(wc->tc);
	mem_deref(wc->rx);
	mem_deref(wc->msg);
	budget_release(&wc->bh);
}


/* Make *mbp hold at least need bytes, charged to the budget first */
static int buf_reserve(struct ws_conn *wc, struct mbuf **mbp, size_t need)
{
	size_t have = *mbp ? (*mbp)->size : 0;
	size_t cap  = wc->prm.max_message + 2 * WS_FRAME_HDR_MAX + RX_MIN;
	size_t want;
	int err;

	if (*mbp && need <= have)
		return 0;

	want = max(need, min(2 * have, cap));
	want = max(want, (size_t)RX_MIN);

	err = budget_take(&wc->bh, want - have);
	if (err)
		return err;

	if (*mbp)
		err = mbuf_resize(*mbp, want);
	else if (!(*mbp = mbuf_alloc(want)))
		err = ENOMEM;

	if (err)
		budget_give(&wc->bh, want - have);

	return err;
}


static void buf_drop(struct ws_conn *wc, struct mbuf **mbp)
{
	if (!*mbp)
		return;

	budget_give(&wc->bh, (*mbp)->size);
	*mbp = mem_deref(*mbp);
}


/* Terminal: drop TCP and tell the owner, once */
static void conn_closed(struct ws_conn *wc, int err)
{
	ws_closed_h *h = wc->closedh;

	if (wc->state == ST_CLOSED)
		return;

	wc->state = ST_CLOSED;
	wc->ping_due = 0;
	wc->idle_due = 0;
	tmr_cancel(&wc->tmr_close);
	wc->tc = mem_deref(wc->tc);
	wc->closedh = NULL;

	if (h)
		h(err, wc->code, wc->arg);
}


static int send_frame(struct ws_conn *wc, enum ws_opcode op,
		      const uint8_t *p, size_t n)
{
	struct mbuf *mb;
	int err;

	if (!wc->tc)
		return ENOTCONN;

	if (tcp_conn_txqsz(wc->tc) + n > wc->prm.txq_max)
		return ENOBUFS;

	mb = mbuf_alloc(n + WS_FRAME_HDR_MAX);
	if (!mb)
		return ENOMEM;

	err = ws_frame_encode(mb, op, true, p, n);
	if (!err) {
		mb->pos = 0;
		err = tcp_send(wc->tc, mb);
	}

	mem_deref(mb);
	return err;
}


static void close_timeout(void *arg)
{
	conn_closed(arg, ETIMEDOUT);
}


/**
 * Start the closing handshake (RFC 6455 7.1.2)
 *
 * @param wc     WebSocket connection
 * @param code   Close code
 * @param reason Optional reason text (truncated to fit a control frame)
 */
void ws_conn_close(struct ws_conn *wc, uint16_t code, const char *reason)
{
	uint8_t buf[125];
	size_t n = 0;

	if (!wc || wc->state != ST_OPEN)
		return;

	buf[0] = code >> 8;
	buf[1] = code & 0xff;
	if (reason) {
		n = min(strlen(reason), sizeof(buf) - 2);
		memcpy(buf + 2, reason, n);
	}

	wc->code  = code;
	wc->state = ST_CLOSING;
	wc->ping_due = 0;
	wc->idle_due = 0;

	if (send_frame(wc, WS_CLOSE, buf, n + 2)) {
		conn_closed(wc, EPIPE);
		return;
	}

	tmr_start(&wc->tmr_close, wc->prm.close_timeout, close_timeout, wc);
}


/**
 * Check a connection's deadlines: send a ping when one is due, drop a
 * peer that did not answer the last one, close an idle connection
 *
 * @param wc  WebSocket connection
 * @param now Current time (tmr_jiffies())
 */
void ws_conn_tick(struct ws_conn *wc, uint64_t now)
{
	if (!wc || wc->state != ST_OPEN)
		return;

	if (wc->idle_due && now >= wc->idle_due) {
		ws_conn_close(wc, WS_CLOSE_GOING_AWAY, "idle timeout");
		return;
	}

	if (!wc->ping_due || now < wc->ping_due)
		return;

	if (wc->pong_wait) {
		wc->code = WS_CLOSE_GOING_AWAY;
		conn_closed(wc, ETIMEDOUT);
		return;
	}

	wc->pong_wait = true;
	wc->ping_due  = now + wc->prm.ping_interval;
	(void)send_frame(wc, WS_PING, (const uint8_t *)"ka", 2);
}


static bool close_code_valid(uint16_t code)
{
	if (code >= 3000 && code <= 4999)
		return true;

	return (code >= 1000 && code <= 1003) ||
		(code >= 1007 && code <= 1011);
}


static int on_close(struct ws_conn *wc, const uint8_t *p, size_t n)
{
	uint16_t code = WS_CLOSE_NO_STATUS;

	if (n == 1)
		return EPROTO;

	if (n >= 2) {
		code = (uint16_t)(p[0] << 8 | p[1]);
		if (!close_code_valid(code) || !ws_utf8_valid(p + 2, n - 2))
			return EPROTO;
	}

	if (wc->state == ST_OPEN) {
		/* echo the code, as RFC 6455 5.5.1 suggests */
		wc->code = code;
		(void)send_frame(wc, WS_CLOSE, p, n >= 2 ? 2 : 0);
	}

	conn_closed(wc, 0);

	return 0;
}


static int deliver(struct ws_conn *wc, enum ws_opcode op, struct mbuf *mb)
{
	if (op == WS_TEXT && !ws_utf8_valid(mbuf_buf(mb), mbuf_get_left(mb)))
		return EILSEQ;

	if (wc->prm.idle_timeout)
		wc->idle_due = tmr_jiffies() + wc->prm.idle_timeout;

	wc->msgh(op, mb, wc->arg);

	return 0;
}


static int on_data(struct ws_conn *wc, const struct ws_frame *f,
		   struct mbuf *payload)
{
	size_t n = mbuf_get_left(payload);
	int err;

	if (f->opcode != WS_CONT) {
		if (wc->msg_op != WS_CONT)
			return EPROTO;  /* new message inside a message */

		if (f->fin)
			return deliver(wc, f->opcode, payload);

		err = buf_reserve(wc, &wc->msg, n);
		if (err)
			return err;
		wc->msg_op = f->opcode;
	}
	else if (wc->msg_op == WS_CONT) {
		return EPROTO;          /* continuation of nothing */
	}

	if (wc->msg->end + n > wc->prm.max_message)
		return EMSGSIZE;

	err = buf_reserve(wc, &wc->msg, wc->msg->end + n);
	if (err)
		return err;

	err = mbuf_write_mem(wc->msg, mbuf_buf(payload), n);
	if (err || !f->fin)
		return err;

	wc->msg->pos = 0;
	err = deliver(wc, wc->msg_op, wc->msg);
	if (wc->state != ST_CLOSED) {
		buf_drop(wc, &wc->msg);
		wc->msg_op = WS_CONT;
	}

	return err;
}


static int on_frame(struct ws_conn *wc, const struct ws_frame *f,
		    struct mbuf *payload)
{
	wc->pong_wait = false;

	switch (f->opcode) {

	case WS_CONT:
	case WS_TEXT:
	case WS_BIN:
		if (wc->state != ST_OPEN)
			return 0;  /* data after our close is discarded */
		return on_data(wc, f, payload);

	case WS_CLOSE:
		return on_close(wc, mbuf_buf(payload),
				mbuf_get_left(payload));

	case WS_PING:
		if (wc->state == ST_OPEN)
			(void)send_frame(wc, WS_PONG, mbuf_buf(payload),
					 mbuf_get_left(payload));
		return 0;

	default:
		return 0;
	}
}


static uint16_t err2code(int err)
{
	switch (err) {

	case EMSGSIZE: return WS_CLOSE_TOO_BIG;
	case ENOSPC:   return WS_CLOSE_TRY_AGAIN;
	case EILSEQ:   return WS_CLOSE_INVALID;
	case ENOMEM:   return WS_CLOSE_INTERNAL;
	default:       return WS_CLOSE_PROTOCOL;
	}
}


static size_t budget(const struct ws_conn *wc)
{
	size_t used = wc->msg ? wc->msg->end : 0;

	return wc->prm.max_message - min(used, wc->prm.max_message);
}


/* Control frames (<= 125 bytes) are always accepted */
static size_t f_max(const struct ws_conn *wc)
{
	return max(budget(wc), (size_t)125);
}


static int decode_all(struct ws_conn *wc)
{
	while (wc->rx && wc->state != ST_CLOSED) {
		struct ws_frame f;
		struct mbuf payload;
		size_t start = wc->rx->pos;
		int err;

		err = ws_frame_decode(&f, wc->rx, f_max(wc));
		if (err == ENODATA) {
			wc->rx->pos = start;
			return 0;
		}
		if (err)
			return err;

		if (!f.masked)
			return EPROTO;  /* RFC 6455 5.1 */

		payload.buf  = wc->rx->buf;
		payload.size = wc->rx->size;
		payload.pos  = wc->rx->pos;
		payload.end  = wc->rx->pos + (size_t)f.len;
		wc->rx->pos  = payload.end;

		err = on_frame(wc, &f, &payload);
		if (err)
			return err;

		if (wc->rx && !mbuf_get_left(wc->rx))
			buf_drop(wc, &wc->rx);
	}

	return 0;
}


static int rx_append(struct ws_conn *wc, struct mbuf *mb)
{
	size_t n = mbuf_get_left(mb), left;
	int err;

	left = wc->rx ? mbuf_get_left(wc->rx) : 0;

	/* after our close frame only the peer's close is of interest */
	if (wc->state != ST_OPEN && left + n > RX_CLOSING_MAX)
		return EMSGSIZE;

	if (wc->rx && wc->rx->pos) {
		memmove(wc->rx->buf, mbuf_buf(wc->rx), left);
		wc->rx->pos = 0;
		wc->rx->end = left;
	}

	/* one frame of the largest message plus a header and the next
	   frame's start: anything more is not a frame we would accept */
	if (left + n > wc->prm.max_message + 2 * WS_FRAME_HDR_MAX + 4096)
		return EMSGSIZE;

	err = buf_reserve(wc, &wc->rx, left + n);
	if (err)
		return err;

	wc->rx->pos = wc->rx->end;
	if (mbuf_write_mem(wc->rx, mbuf_buf(mb), n))
		return ENOMEM;
	wc->rx->pos = 0;

	return 0;
}


/**
 * Feed received bytes (already decrypted) to the connection
 *
 * @param wc WebSocket connection
 * @param mb Received bytes
 *
 * @return 0 if success, otherwise errorcode (the connection is closing)
 */
int ws_conn_recv(struct ws_conn *wc, struct mbuf *mb)
{
	int err;

	if (!wc || !mb)
		return EINVAL;

	if (wc->state == ST_CLOSED)
		return ENOTCONN;

	mem_ref(wc);

	err = rx_append(wc, mb);
	if (!err)
		err = decode_all(wc);

	if (err && wc->state != ST_CLOSED) {
		uint16_t code = err2code(err);

		if (wc->state == ST_OPEN) {
			ws_conn_close(wc, code, ws_close_reason(code));
		}
		else {
			wc->code = code;
			conn_closed(wc, err);
		}

		/* nothing buffered is of use after an error */
		buf_drop(wc, &wc->rx);
		buf_drop(wc, &wc->msg);
		wc->msg_op = WS_CONT;
	}

	mem_deref(wc);

	return err;
}


/* Another connection needs the room: let go of the buffers, close 1013 */
static void evict(void *arg)
{
	struct ws_conn *wc = arg;

	buf_drop(wc, &wc->rx);
	buf_drop(wc, &wc->msg);
	wc->msg_op = WS_CONT;

	if (wc->state == ST_OPEN)
		ws_conn_close(wc, WS_CLOSE_TRY_AGAIN, "server buffers full");
}


static void tcp_recv_handler(struct mbuf *mb, void *arg)
{
	(void)ws_conn_recv(arg, mb);
}


static void tcp_close_handler(int err, void *arg)
{
	struct ws_conn *wc = arg;

	if (wc->state == ST_OPEN)
		wc->code = 1006;  /* closed abnormally, RFC 6455 7.1.5 */

	conn_closed(wc, err ? err : ECONNRESET);
}


/**
 * Take over an upgraded TCP connection
 *
 * @param wcp     Returned WebSocket connection
 * @param tc      TCP connection (a reference is kept); NULL makes a
 *                detached connection that only parses (tests, fuzzing)
 * @param prm     Limits and timers
 * @param msgh    Called with each complete text or binary message
 * @param closedh Called once when the connection has ended
 * @param arg     Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int ws_conn_alloc(struct ws_conn **wcp, struct tcp_conn *tc,
		  const struct ws_conn_prm *prm, ws_msg_h *msgh,
		  ws_closed_h *closedh, void *arg)
{
	struct ws_conn *wc;

	if (!wcp || !prm || !msgh || !closedh || !prm->max_message)
		return EINVAL;

	wc = mem_zalloc(sizeof(*wc), destructor);
	if (!wc)
		return ENOMEM;

	wc->prm     = *prm;
	wc->tc      = mem_ref(tc);
	wc->msg_op  = WS_CONT;
	wc->msgh    = msgh;
	wc->closedh = closedh;
	wc->arg     = arg;
	budget_holder_init(&wc->bh, evict, wc);

	if (!wc->prm.close_timeout)
		wc->prm.close_timeout = 2000;
	if (!wc->prm.txq_max)
		wc->prm.txq_max = 262144;

	if (tc) {
		tcp_conn_txqsz_set(tc, wc->prm.txq_max + 2 * WS_FRAME_HDR_MAX);
		tcp_set_handlers(tc, NULL, tcp_recv_handler,
				 tcp_close_handler, wc);
	}

	if (wc->prm.ping_interval)
		wc->ping_due = tmr_jiffies() + wc->prm.ping_interval;
	if (wc->prm.idle_timeout)
		wc->idle_due = tmr_jiffies() + wc->prm.idle_timeout;

	*wcp = wc;

	return 0;
}


/**
 * Send one message in a single frame
 *
 * @param wc WebSocket connection
 * @param op WS_TEXT or WS_BIN
 * @param p  Payload
 * @param n  Length
 *
 * @return 0 if success, ENOBUFS if the peer does not read fast enough,
 *         otherwise errorcode
 */
int ws_conn_send(struct ws_conn *wc, enum ws_opcode op,
		 const uint8_t *p, size_t n)
{
	if (!wc || (op != WS_TEXT && op != WS_BIN))
		return EINVAL;

	if (wc->state != ST_OPEN)
		return ENOTCONN;

	return send_frame(wc, op, p, n);
}


/**
 * Tell whether messages can be sent
 *
 * @param wc WebSocket connection
 *
 * @return true if open
 */
bool ws_conn_is_open(const struct ws_conn *wc)
{
	return wc && wc->state == ST_OPEN;
}

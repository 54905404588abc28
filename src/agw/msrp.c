/**
 * @file msrp.c  eIMS-AGW: MSRP over a data channel (RFC 8873) <-> MSRP
 *               over TCP toward the core (RFC 4975), application-agnostic
 *               (23.334 5.19; D-45)
 *
 * One relay per data-channel m-line whose a=dcmap names an MSRP channel.
 * The AGW is an MSRP endpoint on each side, a back-to-back relay: toward
 * the browser its URI is msrp://<W3 address>/<id>;dc, toward the core
 * msrp://<core address>:<port>/<id>;tcp, and a message crossing it gets
 * To-Path and From-Path of the other side (the peer's path, the AGW's
 * own URI); nothing else of it changes: methods, Message-ID, Byte-Range,
 * reports, bodies and content types pass as they are. A message whose
 * To-Path does not start with the AGW's URI of that side is dropped.
 *
 * The core side: a TCP port from the media port range, listening from
 * the offer on (the SDP says a=setup:actpass); the core's answer decides
 * (RFC 6135): passive or no a=setup, the AGW connects to the core (its
 * c=/m= address when it answers a=msrp-cema, RFC 6714, otherwise the
 * first URI of its a=path) and sends a bodiless SEND at once (RFC 4975
 * 5.4); active, it accepts one connection (which may arrive before the
 * answer has passed the eP-CSCF). Messages from the browser
 * wait (at most MSRP_MAX_MSG bytes) until the connection is up.
 *
 * The data channel carries one MSRP message per data-channel message.
 * A chunk from TCP larger than MSRP_DC_MAX bytes (RFC 8831 6.6 keeps
 * data-channel messages within 16 KiB) goes to the browser as several
 * chunks; their transaction ids are the AGW's own except the last
 * piece's, and the responses to the AGW's own ids are not relayed.
 *
 * When the core's connection is lost (or closed for bad input), the
 * MSRP channel is closed toward the browser: there is no reconnecting.
 */
#include <string.h>
#include <re.h>
#include "../net/net.h"
#include "../tls/dtls.h"
#include "../srtp/srtp.h"
#include "../core/log.h"
#include "../dc/dc.h"
#include "../msrp/msrp.h"
#include "agw.h"
#include "agw_int.h"

#define LOG_MODULE "agw"

enum {
	MSRP_DC_MAX   = 16384,       /* one data-channel message         */
	MSRP_PIECE    = 14336,       /* body bytes of a piece            */
	OWN_TIDS      = 32,          /* transactions of the AGW's own    */
	ID_LEN        = 16,
};

struct agw_msrp {
	struct le le;                /* In sess->msrpl                   */
	struct agw_sess *sess;
	unsigned idx;                /* m-line                           */
	unsigned tid;                /* W3 transport (its channels)      */
	uint16_t sid;                /* The MSRP data channel            */
	uint16_t port;               /* Core-side TCP port (pool)        */
	struct tcp_sock *ts;
	struct tcp_conn *tc;
	bool up;
	bool active;                 /* The AGW connected                */
	bool peer_set;
	struct mbuf *rx;             /* TCP bytes not yet a message      */
	struct mbuf *pend;           /* To the core, before it is up     */
	char b_path[AGW_MSRP_PATH];  /* The browser's path               */
	char c_path[AGW_MSRP_PATH];  /* The core's a=path                */
	char w3_uri[AGW_MSRP_URI];   /* Own, toward the browser          */
	char core_uri[AGW_MSRP_URI]; /* Own, toward the core             */
	char own[OWN_TIDS][ID_LEN + 1]; /* Transaction ids of our own    */
	unsigned owni;
	uint64_t to_core, to_browser, dropped;
};


static void rand_id(char *id)
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i;

	for (i = 0; i < ID_LEN; i++)
		id[i] = a[rand_u32() % (sizeof(a) - 1)];
	id[ID_LEN] = '\0';
}


static void destructor(void *arg)
{
	struct agw_msrp *r = arg;

	log_info("session %s m-line %u: MSRP relay ended: %llu messages to"
		 " the core, %llu to the browser, %llu dropped",
		 r->sess->label, r->idx, (unsigned long long)r->to_core,
		 (unsigned long long)r->to_browser,
		 (unsigned long long)r->dropped);

	list_unlink(&r->le);
	r->tc = mem_deref(r->tc);
	r->ts = mem_deref(r->ts);
	if (r->port)
		agw_port_release(r->sess->agw, r->port, false);
	mem_deref(r->rx);
	mem_deref(r->pend);
}


static struct agw_msrp *find(const struct agw_sess *s, unsigned idx)
{
	struct le *le;

	for (le = s->msrpl.head; le; le = le->next) {
		struct agw_msrp *r = le->data;

		if (r->idx == idx)
			return r;
	}

	return NULL;
}


/* the message's To-Path starts with the AGW's own URI of that side */
static bool for_us(const struct msrp_msg *m, const char *own)
{
	struct pl uri, sess, mine, osess;

	pl_set_str(&mine, own);

	return msrp_path_first(&uri, &m->to_path) &&
		msrp_uri_session(&sess, &uri) &&
		msrp_uri_session(&osess, &mine) && !pl_cmp(&sess, &osess);
}


static bool own_tid(struct agw_msrp *r, const struct pl *tid)
{
	unsigned i;

	for (i = 0; i < OWN_TIDS; i++) {
		if (r->own[i][0] && !pl_strcmp(tid, r->own[i])) {
			r->own[i][0] = '\0';
			return true;
		}
	}

	return false;
}


static const char *new_tid(struct agw_msrp *r)
{
	char *id = r->own[r->owni++ % OWN_TIDS];

	rand_id(id);

	return id;
}


static int core_send(struct agw_msrp *r, struct mbuf *mb)
{
	mb->pos = 0;

	if (r->up)
		return tcp_send(r->tc, mb);

	if (r->pend->end + mb->end > MSRP_MAX_MSG)
		return ENOBUFS;

	return mbuf_write_mem(r->pend, mb->buf, mb->end);
}


static struct agw_w3 *w3_of(const struct agw_msrp *r)
{
	return agw_sess_w3(r->sess, r->tid);
}


static int dc_send(struct agw_msrp *r, struct mbuf *mb)
{
	struct agw_w3 *w3 = w3_of(r);

	if (!w3 || !w3->dc || !dc_chan_info(w3->dc, r->sid))
		return ENOTCONN;

	return dc_chan_send(w3->dc, r->sid, true, mb->buf, mb->end);
}


/* the core's connection is gone, so is the MSRP session (RFC 4975: no
   reconnecting here): the data channel is closed toward the browser by
   a stream reset (D-46), its chat ends */
static void core_gone(struct agw_msrp *r)
{
	struct agw_w3 *w3 = w3_of(r);

	r->tc = mem_deref(r->tc);
	r->up = false;

	if (!w3 || !w3->dc || !dc_chan_info(w3->dc, r->sid))
		return;

	log_info("session %s: MSRP data channel %u closed: the core's "
		 "connection is gone", r->sess->label, r->sid);
	(void)dc_chan_close(w3->dc, r->sid);
}


/* a message from the core: to the browser, split if it is too large */
static void from_core(struct agw_msrp *r, const struct msrp_msg *m)
{
	struct mbuf *mb;
	size_t i, n, off = 0;
	int err = 0;

	if (!for_us(m, r->core_uri)) {
		log_info("session %s: MSRP %r %r from the core not for this "
			 "session (To-Path %r): dropped", r->sess->label,
			 &m->tid, m->req ? &m->method : &m->reason,
			 &m->to_path);
		++r->dropped;
		return;
	}

	if (!m->req && own_tid(r, &m->tid))
		return;

	mb = mbuf_alloc(m->len + 512);
	if (!mb)
		return;

	n = m->len + 512 > MSRP_DC_MAX ? msrp_pieces(m, MSRP_PIECE) : 1;
	if (n == 1) {
		err = msrp_encode(mb, m, r->b_path, r->w3_uri);
		if (!err)
			err = dc_send(r, mb);
	}

	for (i = 0; n > 1 && !err && i < n; i++) {
		size_t len = m->body.l - off < MSRP_PIECE ?
			m->body.l - off : MSRP_PIECE;
		char tid[MSRP_TID_MAX + 1];

		if (i + 1 < n)
			str_ncpy(tid, new_tid(r), sizeof(tid));
		else
			(void)pl_strcpy(&m->tid, tid, sizeof(tid));

		mbuf_reset(mb);
		err = msrp_encode_piece(mb, m, r->b_path, r->w3_uri, tid,
					off, len);
		if (!err)
			err = dc_send(r, mb);
		off += len;
	}

	if (err) {
		log_info("session %s: MSRP %r to the browser: %m",
			 r->sess->label, &m->tid, err);
		++r->dropped;
	}
	else
		++r->to_browser;

	mem_deref(mb);
}


static void core_recv_h(struct mbuf *mb, void *arg)
{
	struct agw_msrp *r = arg;
	struct msrp_msg m;
	int err;

	err = mbuf_write_mem(r->rx, mbuf_buf(mb), mbuf_get_left(mb));

	while (!err && r->rx->end) {
		size_t left;

		err = msrp_decode(&m, r->rx->buf, r->rx->end);
		if (err)
			break;

		from_core(r, &m);
		if (!r->tc)
			return;

		/* keep what follows the message */
		left = r->rx->end - m.len;
		memmove(r->rx->buf, r->rx->buf + m.len, left);
		r->rx->end = left;
		r->rx->pos = left;      /* the next bytes go after them */
	}

	if (err && err != ENODATA) {
		log_warn("session %s: MSRP from the core: %m: connection "
			 "closed", r->sess->label, err);
		core_gone(r);
	}
}


static void core_close_h(int err, void *arg)
{
	struct agw_msrp *r = arg;

	log_info("session %s: MSRP connection to the core closed (%m)",
		 r->sess->label, err);
	core_gone(r);
}


/* RFC 4975 5.4: the active side sends a SEND at once, no body */
static int bind_send(struct agw_msrp *r)
{
	struct mbuf *mb = mbuf_alloc(512);
	const char *tid = new_tid(r);
	char msgid[ID_LEN + 1];
	int err;

	if (!mb)
		return ENOMEM;

	rand_id(msgid);
	err = mbuf_printf(mb, "MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: %s"
			  "\r\nMessage-ID: %s\r\nByte-Range: 1-0/0\r\n"
			  "-------%s$\r\n", tid, r->c_path, r->core_uri,
			  msgid, tid);
	if (!err) {
		mb->pos = 0;
		err = tcp_send(r->tc, mb);
	}

	mem_deref(mb);

	return err;
}


static void core_estab_h(void *arg)
{
	struct agw_msrp *r = arg;
	int err = 0;

	log_info("session %s: MSRP connection to the core up",
		 r->sess->label);
	r->up = true;

	if (r->active)
		err = bind_send(r);

	if (!err && r->pend->end) {
		r->pend->pos = 0;
		err = tcp_send(r->tc, r->pend);
		mbuf_reset(r->pend);
	}

	if (err)
		log_warn("session %s: MSRP to the core: %m", r->sess->label,
			 err);
}


static void core_conn_h(const struct sa *peer, void *arg)
{
	struct agw_msrp *r = arg;
	int err;

	/* one connection; it may come before the answer reaches us */
	if (r->tc) {
		log_info("session %s: MSRP connection from %J refused",
			 r->sess->label, peer);
		tcp_reject(r->ts);
		return;
	}

	err = net_tcp_accept(&r->tc, r->ts, core_estab_h, core_recv_h,
			     core_close_h, r);
	if (err)
		log_warn("session %s: MSRP accept: %m", r->sess->label, err);
}


struct bind_arg {
	struct agw_msrp *r;
	struct sa addr;
};


static int bind_h(uint16_t port, void *arg)
{
	struct bind_arg *b = arg;

	sa_set_port(&b->addr, port);

	return net_tcp_listen(&b->r->ts, &b->addr, 1, core_conn_h, b->r);
}


/**
 * An MSRP channel on a data-channel m-line: the AGW relays it to the
 * core over TCP (again for the same m-line keeps the relay)
 *
 * @param s    Session
 * @param idx  m-line index
 * @param prm  The browser's side
 * @param info Returned: the AGW's core-side address, port and URIs
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_sess_msrp(struct agw_sess *s, unsigned idx,
		  const struct agw_msrp_prm *prm, struct agw_msrp_info *info)
{
	struct agw_w3 *w3;
	struct agw_msrp *r;
	struct bind_arg b;
	struct sa adv;
	char id[ID_LEN + 1];
	int err;

	if (!s || !prm || !info || !prm->b_path[0])
		return EINVAL;

	w3 = agw_sess_w3(s, prm->tid);
	if (!w3)
		return ENOENT;

	r = find(s, idx);
	if (r) {
		r->tid = prm->tid;
		r->sid = prm->sid;
		str_ncpy(r->b_path, prm->b_path, sizeof(r->b_path));
		goto out;
	}

	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;

	r->sess = s;
	r->idx  = idx;
	r->tid  = prm->tid;
	r->sid  = prm->sid;
	str_ncpy(r->b_path, prm->b_path, sizeof(r->b_path));
	list_append(&s->msrpl, &r->le, r);

	r->rx   = mbuf_alloc(4096);
	r->pend = mbuf_alloc(1024);
	if (!r->rx || !r->pend) {
		err = ENOMEM;
		goto error;
	}

	b.r = r;
	b.addr = s->agw->conf.media_core_addr;
	err = agw_port_take(s->agw, false, bind_h, &b, &r->port);
	if (err)
		goto error;

	agw_advertised(&adv, &s->agw->conf.media_core_public,
		       &s->agw->conf.media_core_addr, r->port);
	rand_id(id);
	(void)re_snprintf(r->core_uri, sizeof(r->core_uri),
			  "msrp://%J/%s;tcp", &adv, id);
	rand_id(id);
	(void)re_snprintf(r->w3_uri, sizeof(r->w3_uri), "msrp://%J/%s;dc",
			  &w3->laddr, id);

	log_info("session %s m-line %u: MSRP relay, data channel %u <-> "
		 "TCP %J", s->label, idx, r->sid, &adv);

 out:
	agw_advertised(&info->core, &s->agw->conf.media_core_public,
		       &s->agw->conf.media_core_addr, r->port);
	str_ncpy(info->core_uri, r->core_uri, sizeof(info->core_uri));
	str_ncpy(info->w3_uri, r->w3_uri, sizeof(info->w3_uri));

	return 0;

 error:
	mem_deref(r);
	return err;
}


/**
 * The core's side of an MSRP relay (from its SDP answer)
 *
 * @param s    Session
 * @param idx  m-line index
 * @param peer The core's path, address and whether the AGW connects
 *
 * @return 0 if success, ENOENT no relay on the m-line, otherwise
 *         errorcode
 */
int agw_sess_msrp_peer(struct agw_sess *s, unsigned idx,
		       const struct agw_msrp_peer *peer)
{
	struct agw_msrp *r;
	struct sa laddr;
	int err;

	if (!s || !peer || !peer->path[0])
		return EINVAL;

	r = find(s, idx);
	if (!r)
		return ENOENT;

	str_ncpy(r->c_path, peer->path, sizeof(r->c_path));
	if (r->peer_set)
		return 0;

	r->peer_set = true;
	if (!peer->connect || r->tc)
		return 0;

	/* the AGW connects: the listening socket goes (the port stays
	   taken until the relay ends), from the core-side address */
	r->ts = mem_deref(r->ts);
	r->active = true;
	laddr = s->agw->conf.media_core_addr;
	sa_set_port(&laddr, 0);
	err = tcp_connect_bind(&r->tc, &peer->addr, core_estab_h, core_recv_h,
			       core_close_h, &laddr, r);
	if (err) {
		log_warn("session %s: MSRP connect to %J: %m", s->label,
			 &peer->addr, err);
		return err;
	}

	log_info("session %s m-line %u: MSRP connecting to %J", s->label,
		 idx, &peer->addr);

	return 0;
}


/**
 * A message on a data channel: MSRP toward the core if the channel is a
 * relay's
 *
 * @param w3  Transport
 * @param sid Stream id
 * @param p   Message
 * @param n   Its length
 *
 * @return true if it was the MSRP channel's (taken, or dropped)
 */
bool agw_msrp_dc_recv(struct agw_w3 *w3, uint16_t sid, const uint8_t *p,
		      size_t n)
{
	struct agw_msrp *r = NULL;
	struct msrp_msg m;
	struct mbuf *mb;
	struct le *le;
	int err;

	for (le = w3->sess->msrpl.head; le; le = le->next) {
		struct agw_msrp *x = le->data;

		if (x->tid == w3->tid && x->sid == sid)
			r = x;
	}

	if (!r)
		return false;

	err = msrp_decode(&m, p, n);
	if (!err && m.len != n)
		err = EBADMSG;
	if (!err && !for_us(&m, r->w3_uri))
		err = ENOENT;
	if (!err && !r->c_path[0])
		err = ENOTCONN;
	if (err) {
		log_info("session %s: MSRP from the browser (%zu bytes): %m:"
			 " dropped", w3->sess->label, n, err);
		++r->dropped;
		return true;
	}

	/* a response to a piece of the AGW's own (from_core) */
	if (!m.req && own_tid(r, &m.tid))
		return true;

	mb = mbuf_alloc(n + 512);
	err = mb ? msrp_encode(mb, &m, r->c_path, r->core_uri) : ENOMEM;
	if (!err)
		err = core_send(r, mb);
	mem_deref(mb);

	if (err) {
		log_info("session %s: MSRP %r to the core: %m",
			 w3->sess->label, &m.tid, err);
		++r->dropped;
	}
	else
		++r->to_core;

	return true;
}

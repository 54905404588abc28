/**
 * @file w3.c  eIMS-AGW browser-side (W3) transport: one UDP port that
 *             carries STUN, DTLS and SRTP/SRTCP (RFC 7983), the DTLS
 *             association and the SRTP keys it exports
 *
 * The DTLS session exists once the browser's side is known (role and
 * fingerprint from SDP). As client (a=setup:active) the AGW starts the
 * handshake when a check has succeeded; as server it answers the first
 * ClientHello with a HelloVerifyRequest bound to the sender's address.
 * DTLS and media are taken only from addresses that passed a check
 * (ice.c); the AGW sends to the selected one.
 */
#include <string.h>
#include <re.h>
#include "../net/net.h"
#include "../tls/dtls.h"
#include "../tls/tlsx.h"
#include "../srtp/srtp.h"
#include "../core/log.h"
#include "../core/stats.h"
#include "agw.h"
#include "agw_int.h"

#define LOG_MODULE "agw"

enum {
	KEY_MAX = 32 + 14,           /* SRTP master key + salt */
};

static const char ice_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


static void destructor(void *arg)
{
	struct agw_w3 *w3 = arg;

	tmr_cancel(&w3->tmr_consent);
	agw_dc_free(w3);             /* its ABORT still leaves over DTLS */
	mem_deref(w3->dtls);
	mem_deref(w3->srtp);
	agw_shared_detach(w3);
	while (w3->sockc)
		mem_deref(w3->sockv[--w3->sockc].us);
	w3->us = NULL;
	if (!w3->shared)
		agw_port_release(w3->sess->agw, w3->port, false);
	list_unlink(&w3->le);
}


static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n--)
		*v++ = 0;
}


/* ice-char (RFC 8839): [A-Za-z0-9+/], 6 random bits each */
static int ice_string(char *s, size_t len)
{
	uint8_t rnd[AGW_PWD_LEN];
	size_t i;
	int err;

	if (len > sizeof(rnd))
		return EINVAL;

	err = tls_random(rnd, len);
	if (err)
		return err;

	for (i = 0; i < len; i++)
		s[i] = ice_chars[rnd[i] & 63];
	s[len] = '\0';

	return 0;
}


static int ice_credentials(char *ufrag, char *pwd)
{
	int err;

	err = ice_string(ufrag, AGW_UFRAG_LEN);
	if (!err)
		err = ice_string(pwd, AGW_PWD_LEN);

	return err;
}


static void w3_recv(const struct sa *src, uint8_t *buf, size_t len,
		    void *arg);


/**
 * The W3 addresses: media_listen, or each of w3_addrv
 *
 * @param agw The AGW
 * @param n   Returned count
 *
 * @return Addresses
 */
const struct sa *agw_w3_addrs(const struct agw *agw, unsigned *n)
{
	*n = agw->conf.w3_addrc ? agw->conf.w3_addrc : 1;

	return agw->conf.w3_addrc ? agw->conf.w3_addrv :
		&agw->conf.media_listen;
}


/* One socket per address, all on this port (else none: the pool tries
   the next port) */
static int bind_h(uint16_t port, void *arg)
{
	struct agw_w3 *w3 = arg;
	struct agw *agw = w3->sess->agw;
	const struct sa *addrv;
	unsigned i, n;
	int err = 0;

	addrv = agw_w3_addrs(agw, &n);
	for (i = 0; i < n && !err; i++) {
		struct agw_w3_sock *k = &w3->sockv[i];

		k->w3 = w3;
		err = agw_udp_open(agw, &k->us, &addrv[i], port, w3_recv, k);
		if (!err)
			++w3->sockc;
	}

	if (err) {
		while (w3->sockc) {
			struct agw_w3_sock *k = &w3->sockv[--w3->sockc];

			k->us = mem_deref(k->us);
		}
		return err;
	}

	w3->us = w3->sockv[0].us;
	return 0;
}


/**
 * The socket to send to a browser address from: the one it last sent
 * to, else the first of its address family
 *
 * @param w3  Transport
 * @param dst Browser address
 *
 * @return Socket
 */
struct net_udp *agw_w3_sock_for(const struct agw_w3 *w3,
				const struct sa *dst)
{
	unsigned i;

	/* one address: no choice (and no getsockname() per packet) */
	if (w3->sockc <= 1)
		return w3->us;

	for (i = 0; i < ARRAY_SIZE(w3->routev); i++) {
		if (w3->routev[i].us && sa_cmp(&w3->routev[i].src, dst,
					       SA_ALL))
			return w3->routev[i].us;
	}

	for (i = 0; i < w3->sockc; i++) {
		struct sa la;

		if (!net_udp_local(w3->sockv[i].us, &la) &&
		    sa_af(&la) == sa_af(dst))
			return w3->sockv[i].us;
	}

	return w3->us;
}


/* Remember which socket a source sent to (the last few sources) */
static void route_note(struct agw_w3 *w3, const struct sa *src,
		       struct net_udp *us)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(w3->routev); i++) {
		if (w3->routev[i].us && sa_cmp(&w3->routev[i].src, src,
					       SA_ALL)) {
			w3->routev[i].us = us;
			return;
		}
	}

	w3->routev[w3->routei].src = *src;
	w3->routev[w3->routei].us = us;
	w3->routei = (w3->routei + 1) % ARRAY_SIZE(w3->routev);
}


/**
 * Allocate a W3 transport: a port on media_listen, ICE credentials
 *
 * @param wp  Returned transport (owned by the session)
 * @param s   Session
 * @param tid Transport id
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_w3_alloc(struct agw_w3 **wp, struct agw_sess *s, unsigned tid)
{
	struct agw_w3 *w3;
	int err;

	w3 = mem_zalloc(sizeof(*w3), destructor);
	if (!w3)
		return ENOMEM;

	w3->sess = s;
	w3->tid  = tid;
	tmr_init(&w3->tmr_consent);

	err = ice_credentials(w3->ufrag, w3->pwd);
	if (err)
		goto out;

	if (s->agw->shared) {
		unsigned tries = 8;

		/* the ufrag finds the transport: unique on the port */
		while ((err = agw_shared_attach(s->agw->shared, w3)) ==
		       EADDRINUSE && --tries) {
			err = ice_credentials(w3->ufrag, w3->pwd);
			if (err)
				goto out;
		}
	}
	else {
		err = agw_port_take(s->agw, false, bind_h, w3, &w3->port);
	}
	if (err)
		goto out;

	w3->laddr = s->agw->conf.media_listen;
	sa_set_port(&w3->laddr, w3->port);
	list_append(&s->w3l, &w3->le, w3);

 out:
	if (err)
		mem_deref(w3);
	else
		*wp = w3;

	return err;
}


/**
 * Get what the AGW's SDP says about a W3 transport
 *
 * @param w3   Transport
 * @param info Returned parameters
 */
void agw_w3_info(const struct agw_w3 *w3, struct agw_w3_info *info)
{
	memset(info, 0, sizeof(*info));

	agw_advertised(&info->cand, &w3->sess->agw->conf.media_public,
		       &w3->laddr, w3->port);

	/* a host candidate for each further address, unless an address is
	   advertised instead (NAT) */
	if (!sa_isset(&w3->sess->agw->conf.media_public, SA_ADDR)) {
		unsigned i;

		for (i = 1; i < w3->sockc; i++)
			(void)net_udp_local(w3->sockv[i].us,
					    &info->morev[info->morec++]);
	}
	str_ncpy(info->ufrag, w3->ufrag, sizeof(info->ufrag));
	str_ncpy(info->pwd, w3->pwd, sizeof(info->pwd));
	str_ncpy(info->fingerprint, w3->sess->agw->fingerprint,
		 sizeof(info->fingerprint));
}


static int w3_send_h(struct mbuf *mb, void *arg)
{
	struct agw_w3 *w3 = arg;

	if (!w3->have_peer || w3->sess->closed)
		return ENOTCONN;

	return net_udp_send(agw_w3_sock_for(w3, &w3->peer), &w3->peer,
			    mbuf_buf(mb), mbuf_get_left(mb));
}


static int srtp_setup(struct agw_w3 *w3)
{
	uint8_t cli[KEY_MAX], srv[KEY_MAX];
	enum srtp_suite suite;
	bool client = dtls_sess_role(w3->dtls) == DTLS_CLIENT;
	int err;

	err = dtls_sess_srtp_keys(w3->dtls, &suite, cli, sizeof(cli), srv,
				  sizeof(srv));
	if (err)
		goto out;

	/* the client's write key protects what the client sends */
	w3->srtp = mem_deref(w3->srtp);
	err = srtpx_alloc(&w3->srtp, suite, client ? cli : srv,
			  client ? srv : cli);
	w3->suite = suite;

 out:
	wipe(cli, sizeof(cli));
	wipe(srv, sizeof(srv));

	return err;
}


static void w3_estab_h(void *arg)
{
	struct agw_w3 *w3 = arg;
	int err;

	err = srtp_setup(w3);
	if (err && !agw_dc_only(w3)) {
		log_warn("transport %u: SRTP keys: %m", w3->tid, err);
		agw_sess_close(w3->sess, AGW_CLOSE_ERROR);
		return;
	}

	stats_inc(STAT_DTLS_OK);
	if (err)
		log_info("transport %u: DTLS up with %J", w3->tid,
			 &w3->peer);
	else
		log_info("transport %u: DTLS-SRTP up with %J: %s", w3->tid,
			 &w3->peer, srtp_suite_name(w3->suite));

	agw_dc_dtls_up(w3);
}


static void w3_close_h(int err, void *arg)
{
	struct agw_w3 *w3 = arg;

	if (err == EAUTH)
		log_info("transport %u: DTLS: the browser's certificate is not"
			 " the one in its SDP", w3->tid);
	else
		log_info("transport %u: DTLS closed: %m", w3->tid, err);

	if (err != ECONNRESET)
		stats_inc(STAT_DTLS_FAILED);
	w3->srtp = mem_deref(w3->srtp);
	agw_sess_close(w3->sess, err == ECONNRESET ? AGW_CLOSE_DTLS_CLOSED :
		       AGW_CLOSE_DTLS);
}


static int dtls_new(struct agw_w3 *w3)
{
	struct agw *agw = w3->sess->agw;
	struct dtls_sess *dtls;
	int err;

	err = dtls_sess_alloc(&dtls, agw->tls,
			      w3->rprm.setup == AGW_SETUP_ACTIVE ?
			      DTLS_CLIENT : DTLS_SERVER,
			      w3_send_h, w3_estab_h, agw_dc_dtls_recv,
			      w3_close_h, w3);
	if (err)
		return err;

	err = dtls_sess_set_peer_fingerprint(dtls, w3->rprm.fp_type,
					     w3->rprm.fp, w3->rprm.fp_len);
	if (err) {
		mem_deref(dtls);
		return err;
	}

	dtls_sess_set_mtu(dtls, AGW_DTLS_MTU);

	mem_deref(w3->dtls);
	w3->dtls     = dtls;
	w3->clid_set = false;
	w3->srtp     = mem_deref(w3->srtp);
	w3->srtp_seen = false;
	agw_dc_dtls_new(w3);

	return 0;
}


static bool same_dtls(const struct agw_w3_prm *a, const struct agw_w3_prm *b)
{
	return a->fp_type == b->fp_type && a->fp_len == b->fp_len &&
		a->setup == b->setup && !memcmp(a->fp, b->fp, a->fp_len);
}


static bool same_ice(const struct agw_w3_prm *a, const struct agw_w3_prm *b)
{
	return !strcmp(a->ufrag, b->ufrag) && !strcmp(a->pwd, b->pwd);
}


/**
 * Give a transport the browser's side; a change of fingerprint, role
 * or ICE credentials starts a new DTLS association, and in an answer
 * (the browser offered an ICE restart) new local ICE credentials
 *
 * @param w3     Transport
 * @param prm    Browser's parameters
 * @param answer The AGW answers (agw_sess_transport())
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_w3_remote(struct agw_w3 *w3, const struct agw_w3_prm *prm,
		  bool answer)
{
	struct agw_w3_prm old = w3->rprm;
	char ufrag[sizeof(w3->ufrag)], pwd[sizeof(w3->pwd)];
	bool had = w3->have_remote;
	bool restart;
	int err;

	if (prm->fp_len > sizeof(prm->fp) ||
	    !memchr(prm->ufrag, 0, sizeof(prm->ufrag)) ||
	    !memchr(prm->pwd, 0, sizeof(prm->pwd)))
		return EINVAL;

	if (had && old.relay == prm->relay && same_dtls(&old, prm) &&
	    same_ice(&old, prm))
		return 0;

	restart = had && !same_ice(&old, prm);
	if (restart && answer) {
		unsigned tries = 8;

		do {
			err = ice_credentials(ufrag, pwd);
			if (!err && w3->shared)
				err = agw_shared_rekey(w3->sess->agw->shared,
						       w3, ufrag);
		} while (err == EADDRINUSE && --tries);
		if (err)
			return err;
	}

	w3->rprm = *prm;

	/* a relayed data channel: the DTLS association is the browser's
	   and the core's (dcrelay.c) */
	w3->relay = prm->relay;
	if (prm->relay) {
		w3->dtls = mem_deref(w3->dtls);
		w3->srtp = mem_deref(w3->srtp);
	}
	/* RFC 8842 5.4: an ICE restart alone keeps the DTLS association;
	   a new fingerprint or role starts a new one */
	else if (!had || old.relay || !same_dtls(&old, prm)) {
		err = dtls_new(w3);
		if (err) {
			w3->rprm = old;
			w3->relay = old.relay;
			return err;
		}
	}

	w3->have_remote = true;
	if (restart) {
		if (answer) {
			str_ncpy(w3->ufrag, ufrag, sizeof(w3->ufrag));
			str_ncpy(w3->pwd, pwd, sizeof(w3->pwd));
		}

		agw_ice_restart(w3);
	}

	log_debug("transport %u: remote side set (DTLS %s)", w3->tid,
		  prm->setup == AGW_SETUP_ACTIVE ? "client" : "server");

	/* not from inside a handler: start cannot close the session */
	agw_w3_peer_ready(w3);

	return 0;
}


/**
 * A check succeeded or the remote side became known: a DTLS client
 * starts its handshake toward the selected address. Nothing may touch
 * the transport after this.
 *
 * @param w3 Transport
 */
void agw_w3_peer_ready(struct agw_w3 *w3)
{
	int err;

	if (!w3->dtls || !w3->have_peer || w3->sess->closed ||
	    dtls_sess_role(w3->dtls) != DTLS_CLIENT)
		return;

	err = dtls_sess_start(w3->dtls);
	if (err)
		log_warn("transport %u: DTLS start: %m", w3->tid, err);
}


/**
 * Count a datagram from the browser that is not relayed: on the first
 * stream of the transport (before SRTP it cannot be told apart)
 *
 * @param w3 Transport
 */
void agw_w3_drop(struct agw_w3 *w3)
{
	struct le *le;

	for (le = w3->sess->streaml.head; le; le = le->next) {
		struct agw_stream *st = le->data;

		if (st->w3 == w3) {
			++st->stats.w3_dropped;
			return;
		}
	}
}


static void clid_set(struct agw_w3 *w3, const struct sa *src)
{
	uint8_t id[18];
	size_t len;

	if (sa_af(src) == AF_INET6) {
		sa_in6(src, id);
		len = 16;
	}
	else {
		uint32_t a = sa_in(src);

		id[0] = (uint8_t)(a >> 24);
		id[1] = (uint8_t)(a >> 16);
		id[2] = (uint8_t)(a >> 8);
		id[3] = (uint8_t)a;
		len = 4;
	}

	id[len++] = (uint8_t)(sa_port(src) >> 8);
	id[len++] = (uint8_t)sa_port(src);

	(void)dtls_sess_set_client_id(w3->dtls, id, len);
	w3->clid_set = true;
}


/* The session may be gone when this returns */
static void dtls_recv(struct agw_w3 *w3, const struct sa *src,
		      const uint8_t *p, size_t n)
{
	if (w3->relay) {
		agw_dcrelay_from_w3(w3, src, p, n);
		return;
	}

	if (!w3->dtls || !agw_ice_checked(w3, src)) {
		agw_w3_drop(w3);
		return;
	}

	if (dtls_sess_role(w3->dtls) == DTLS_SERVER && !w3->clid_set)
		clid_set(w3, src);

	(void)dtls_sess_recv(w3->dtls, p, n);
}


/* RFC 7983 demultiplexing by the first byte */
static void w3_recv(const struct sa *src, uint8_t *p, size_t n, void *arg)
{
	struct agw_w3_sock *k = arg;
	struct agw_w3 *w3 = k->w3;

	if (w3->sockc > 1)
		route_note(w3, src, k->us);

	if (!n || n > AGW_PKT_MAX || w3->sess->closed) {
		agw_w3_drop(w3);
		return;
	}

	if (p[0] <= 3)
		agw_ice_recv(w3, src, p, n);
	else if (p[0] >= 20 && p[0] <= 63)
		dtls_recv(w3, src, p, n);
	else if (p[0] >= 128 && p[0] <= 191)
		agw_relay_w3(w3, src, p, n);
	else
		agw_w3_drop(w3);
}


/**
 * A datagram for the transport from the shared port (shared.c)
 *
 * @param k   The transport's socket entry it arrived on
 * @param src Source address
 * @param p   Datagram
 * @param n   Length
 */
void agw_w3_input(struct agw_w3_sock *k, const struct sa *src, uint8_t *p,
		  size_t n)
{
	w3_recv(src, p, n, k);
}


/**
 * Feed a datagram as if received on the transport's socket (fuzzing)
 *
 * @param w3  Transport
 * @param src Source address
 * @param mb  Datagram
 */
void agw_w3_recv_test(struct agw_w3 *w3, const struct sa *src,
		      struct mbuf *mb)
{
	w3_recv(src, mbuf_buf(mb), mbuf_get_left(mb), &w3->sockv[0]);
}

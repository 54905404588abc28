/**
 * @file ice.c  eIMS-AGW ICE-lite (RFC 8445/8839) on a W3 transport:
 *              answering connectivity checks, nomination, consent
 *              freshness (RFC 7675)
 *
 * A lite agent only answers. A Binding request is answered if its
 * USERNAME is "<AGW ufrag>:<browser ufrag>" (the browser's part is not
 * checked while its SDP is not known yet), MESSAGE-INTEGRITY verifies
 * with the AGW's password and FINGERPRINT is right. Errors (RFC 5389
 * 10.1.2): no USERNAME, MESSAGE-INTEGRITY or PRIORITY is a 400, a wrong
 * username or integrity a 401, both without MESSAGE-INTEGRITY; a bad or
 * missing FINGERPRINT, indications and responses are dropped silently.
 * Role conflicts are not handled (the lite agent is always controlled).
 *
 * The source of a good check is remembered as checked (a few, the
 * oldest forgotten first, never the selected one). The selected address
 * is the nominated one (USE-CANDIDATE), until then the last checked.
 * Every good check from it refreshes consent; after consent_timeout
 * seconds without one the session closes.
 */
#include <string.h>
#include <re.h>
#include "../net/net.h"
#include "../tls/dtls.h"
#include "../srtp/srtp.h"
#include "../core/log.h"
#include "agw.h"
#include "agw_int.h"

#define LOG_MODULE "agw"


/**
 * Tell whether an address passed a check
 *
 * @param w3  Transport
 * @param src Address
 *
 * @return true if it did
 */
bool agw_ice_checked(const struct agw_w3 *w3, const struct sa *src)
{
	unsigned i;

	for (i = 0; i < w3->checkedc; i++) {

		if (sa_cmp(&w3->checked[i].addr, src, SA_ALL))
			return true;
	}

	return false;
}


/**
 * ICE restart (new credentials): the selected pair keeps carrying
 * media until the browser nominates again
 *
 * @param w3 Transport
 */
void agw_ice_restart(struct agw_w3 *w3)
{
	w3->nominated = false;
}


/* The oldest entry that is not the selected address */
static struct agw_checked *checked_victim(struct agw_w3 *w3)
{
	struct agw_checked *v = NULL;
	unsigned i;

	for (i = 0; i < w3->checkedc; i++) {
		struct agw_checked *c = &w3->checked[i];

		if (w3->have_peer && sa_cmp(&c->addr, &w3->peer, SA_ALL))
			continue;

		if (!v || c->ts < v->ts)
			v = c;
	}

	return v;
}


static void checked_add(struct agw_w3 *w3, const struct sa *src,
			uint64_t now)
{
	struct agw_checked *c = NULL;
	unsigned i;

	for (i = 0; i < w3->checkedc && !c; i++) {

		if (sa_cmp(&w3->checked[i].addr, src, SA_ALL))
			c = &w3->checked[i];
	}

	if (!c && w3->checkedc < AGW_CHECKED_MAX)
		c = &w3->checked[w3->checkedc++];

	if (!c)
		c = checked_victim(w3);

	if (!c)
		return;

	c->addr = *src;
	c->ts   = now;
}


static void consent_h(void *arg)
{
	struct agw_w3 *w3 = arg;
	uint64_t tmo = (uint64_t)w3->sess->agw->conf.consent_timeout * 1000;
	uint64_t age = tmr_jiffies() - w3->consent_ts;

	if (age < tmo) {
		tmr_start(&w3->tmr_consent, tmo - age, consent_h, w3);
		return;
	}

	log_info("transport %u: no consent from %J for %llu ms", w3->tid,
		 &w3->peer, (unsigned long long)age);

	/* may free the session */
	agw_sess_close(w3->sess, AGW_CLOSE_CONSENT);
}


static void consent_refresh(struct agw_w3 *w3, uint64_t now)
{
	uint32_t tmo = w3->sess->agw->conf.consent_timeout;

	w3->consent_ts = now;

	if (tmo && !tmr_isrunning(&w3->tmr_consent))
		tmr_start(&w3->tmr_consent, (uint64_t)tmo * 1000, consent_h,
			  w3);
}


static void checked(struct agw_w3 *w3, const struct sa *src, bool use_cand)
{
	uint64_t now = tmr_jiffies();
	bool change = !w3->have_peer || !sa_cmp(&w3->peer, src, SA_ALL);

	checked_add(w3, src, now);
	if (w3->shared)
		agw_shared_learn(w3->sess->agw->shared, w3, src);

	if (change && (use_cand || !w3->nominated)) {
		log_info("transport %u: %s %J", w3->tid,
			 use_cand ? "nominated" : "checked", src);
		w3->peer = *src;
		w3->have_peer = true;
	}

	if (use_cand)
		w3->nominated = true;

	if (sa_cmp(&w3->peer, src, SA_ALL))
		consent_refresh(w3, now);
}


/* 0, or the STUN error code to answer with */
static uint16_t check_req(const struct agw_w3 *w3,
			  const struct stun_msg *msg)
{
	const struct stun_attr *user;
	const char *u, *colon;
	size_t lu;
	int err;

	user = stun_msg_attr(msg, STUN_ATTR_USERNAME);
	if (!user || !stun_msg_attr(msg, STUN_ATTR_MSG_INTEGRITY))
		return 400;

	u = user->v.username;
	colon = strchr(u, ':');
	if (!colon)
		return 401;

	lu = (size_t)(colon - u);
	if (lu != strlen(w3->ufrag) || memcmp(u, w3->ufrag, lu))
		return 401;

	if (w3->have_remote && strcmp(colon + 1, w3->rprm.ufrag))
		return 401;

	err = stun_msg_chk_mi(msg, (const uint8_t *)w3->pwd,
			      strlen(w3->pwd));
	if (err)
		return 401;

	if (!stun_msg_attr(msg, STUN_ATTR_PRIORITY))
		return 400;

	return 0;
}


static bool is_check(const struct stun_msg *msg)
{
	return stun_msg_method(msg) == STUN_METHOD_BINDING &&
		stun_msg_class(msg) == STUN_CLASS_REQUEST &&
		stun_msg_mcookie(msg) &&
		!stun_msg_chk_fingerprint(msg);
}


/* A success response (integrity with our password, the mapped address)
   or an error response (400 or 401, nothing signed) */
static int reply_encode(struct mbuf *mb, const struct agw_w3 *w3,
			const struct sa *src, const struct stun_msg *msg,
			uint16_t scode)
{
	struct stun_errcode ec;

	if (!scode)
		return stun_msg_encode(mb, stun_msg_method(msg),
				       STUN_CLASS_SUCCESS_RESP,
				       stun_msg_tid(msg), NULL,
				       (const uint8_t *)w3->pwd,
				       strlen(w3->pwd), true, 0x00, 1,
				       STUN_ATTR_XOR_MAPPED_ADDR, src);

	ec.code   = scode;
	ec.reason = scode == 400 ? "Bad Request" : "Unauthorized";

	return stun_msg_encode(mb, stun_msg_method(msg),
			       STUN_CLASS_ERROR_RESP, stun_msg_tid(msg), &ec,
			       NULL, 0, true, 0x00, 0);
}


static int reply(struct agw_w3 *w3, const struct sa *src,
		 const struct stun_msg *msg, uint16_t scode)
{
	struct mbuf *mb = mbuf_alloc(256);
	int err;

	if (!mb)
		return ENOMEM;

	err = reply_encode(mb, w3, src, msg, scode);
	if (!err)
		err = net_udp_send(agw_w3_sock_for(w3, src), src, mb->buf,
				   mb->end);

	mem_deref(mb);

	return err;
}


/**
 * Decode a STUN message from a datagram (the message keeps a reference
 * to a copy of it)
 *
 * @param msgp Returned message
 * @param p    Datagram
 * @param n    Length
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_stun_decode(struct stun_msg **msgp, const uint8_t *p, size_t n)
{
	struct mbuf *mb = mbuf_alloc(n ? n : 1);
	int err;

	if (!mb)
		return ENOMEM;

	err = mbuf_write_mem(mb, p, n);
	if (!err) {
		mb->pos = 0;
		err = stun_msg_decode(msgp, mb, NULL);
	}

	mem_deref(mb);
	return err;
}


/**
 * Handle a STUN datagram from the browser (first byte 0..3). The
 * session may be gone when this returns.
 *
 * @param w3  Transport
 * @param src Source address
 * @param p   Datagram
 * @param n   Length
 */
void agw_ice_recv(struct agw_w3 *w3, const struct sa *src,
		  const uint8_t *p, size_t n)
{
	struct stun_msg *msg = NULL;
	uint16_t scode;
	bool use_cand;
	int err;

	if (agw_stun_decode(&msg, p, n) || !is_check(msg)) {
		agw_w3_drop(w3);
		goto out;
	}

	scode = check_req(w3, msg);
	use_cand = !scode && stun_msg_attr(msg, STUN_ATTR_USE_CAND);

	err = reply(w3, src, msg, scode);
	if (err)
		log_debug("transport %u: STUN reply to %J: %m", w3->tid, src,
			  err);

	if (scode) {
		log_debug("transport %u: check from %J refused (%u)",
			  w3->tid, src, scode);
		goto out;
	}

	mem_deref(msg);
	checked(w3, src, use_cand);
	agw_w3_peer_ready(w3);
	return;

 out:
	mem_deref(msg);
}

/**
 * @file dc.c  eIMS-AGW as a data-channel endpoint (23.334 5.20.1): the
 *             SCTP association (src/dc) of a W3 transport, over its DTLS
 *             association (RFC 8261)
 *
 * The hook into the transport is small: the association is made with
 * each new DTLS association of a transport that carries a
 * data-channel m-line (agw_dc_dtls_new), started once DTLS is up
 * (agw_dc_dtls_up; DTLS itself is only taken from ICE-checked
 * addresses) and fed DTLS application data (agw_dc_dtls_recv). A
 * data-channel m-line added by a re-offer starts at once when DTLS is
 * already up.
 *
 * The AGW accepts channels up to max_datachannels and closes a channel
 * whose message exceeds dc_max_message. An MSRP channel agreed in SDP
 * is relayed to TCP (msrp.c), a T.140 channel of a real-time text
 * stream goes to rtt.c; other channels' messages are counted and
 * dropped.
 *
 * A T.140 channel opened by DCEP alone (subprotocol "t140", no a=dcmap)
 * is refused with a stream reset: RFC 8865 negotiates a T.140 channel
 * in SDP (a=dcmap/a=dcsa: direction, cps, hlang), and without it no
 * m=text was agreed with the core, so its text would go nowhere; the
 * browser gets real-time text by a re-offer with a=dcmap (the product
 * page does so). A re-INVITE toward the core adding m=text for it is
 * not done.
 */
#include <string.h>
#include <re.h>
#include "../net/net.h"
#include "../tls/dtls.h"
#include "../srtp/srtp.h"
#include "../core/log.h"
#include "../dc/dc.h"
#include "agw.h"
#include "agw_int.h"

#define LOG_MODULE "agw"


static int sctp_send_h(const uint8_t *p, size_t n, void *arg)
{
	struct agw_w3 *w3 = arg;

	if (!w3->dtls || w3->sess->closed ||
	    !dtls_sess_established(w3->dtls))
		return ENOTCONN;

	return dtls_sess_send(w3->dtls, p, n);
}


static bool chan_open_h(const struct dc_chan_info *ci, void *arg)
{
	struct agw_w3 *w3 = arg;

	if (!ci->negotiated && !str_casecmp(ci->proto, "t140")) {
		log_info("transport %u: data channel %u '%s' (t140) opened by "
			 "DCEP: refused, T.140 is agreed in SDP (a=dcmap, "
			 "RFC 8865)", w3->tid, ci->sid, ci->label);
		return false;
	}

	log_info("transport %u: data channel %u '%s' (%s) open", w3->tid,
		 ci->sid, ci->label, ci->proto[0] ? ci->proto : "-");

	return true;
}


static void chan_recv_h(uint16_t sid, enum dc_ppid ppid, const uint8_t *p,
		      size_t n, void *arg)
{
	struct agw_w3 *w3 = arg;

	if (agw_rtt_from_dc(w3, sid, p, n) ||
	    agw_msrp_dc_recv(w3, sid, p, n))
		return;

	log_debug("transport %u: data channel %u: %zu bytes (%s), not"
		  " interworked", w3->tid, sid, n,
		  ppid == DC_PPID_BINARY ? "binary" : "string");
}


static void chan_close_h(uint16_t sid, void *arg)
{
	struct agw_w3 *w3 = arg;

	log_info("transport %u: data channel %u closed", w3->tid, sid);
}


static void stats_log(const struct agw_w3 *w3, const char *why)
{
	struct dc_stats st;

	dc_assoc_stats(w3->dc, &st);
	log_info("transport %u: SCTP association ended (%s): %u channels "
		 "(%u refused), %llu messages in, %llu out", w3->tid, why,
		 st.opened, st.refused, (unsigned long long)st.rx_msgs,
		 (unsigned long long)st.tx_msgs);
}


static void assoc_close_h(int err, void *arg)
{
	struct agw_w3 *w3 = arg;

	stats_log(w3, err ? "lost" : "shut down by the browser");

	/* the call's audio goes on; channels need a new DTLS association */
	w3->dc = mem_deref(w3->dc);
}


/**
 * The transport goes (the call ended): its association too, with an
 * ABORT while DTLS can still carry it
 *
 * @param w3 Transport
 */
void agw_dc_free(struct agw_w3 *w3)
{
	if (!w3->dc)
		return;

	stats_log(w3, "call ended");
	w3->dc = mem_deref(w3->dc);
}


/* channels agreed in SDP (RFC 8864): open without DCEP (D-44) */
static void negotiated(struct agw_w3 *w3)
{
	size_t i;

	for (i = 0; i < w3->dcprm.mapc; i++) {
		const struct agw_dcmap *m = &w3->dcprm.mapv[i];
		int err;

		err = dc_chan_negotiated(w3->dc, m->sid, m->label, m->proto);
		if (err)
			log_info("transport %u: data channel %u (SDP): %m",
				 w3->tid, m->sid, err);
		else
			log_info("transport %u: data channel %u '%s' (%s) "
				 "agreed in SDP", w3->tid, m->sid, m->label,
				 m->proto[0] ? m->proto : "-");
	}
}


static int dc_make(struct agw_w3 *w3)
{
	static const struct dc_handlers h = {
		sctp_send_h, chan_open_h, chan_recv_h, chan_close_h,
		assoc_close_h
	};
	const struct agw_conf *ac = &w3->sess->agw->conf;
	struct dc_conf c;
	int err;

	memset(&c, 0, sizeof(c));
	c.max_channels = ac->max_datachannels;
	c.max_message  = ac->dc_max_message;
	c.max_send     = w3->dcprm.max_message;
	c.local_port   = DC_SCTP_PORT;
	c.remote_port  = w3->dcprm.sctp_port;

	w3->dc = mem_deref(w3->dc);
	err = dc_assoc_alloc(&w3->dc, &c,
			     dtls_sess_role(w3->dtls) == DTLS_CLIENT, &h, w3);
	if (err) {
		log_warn("transport %u: SCTP association: %m", w3->tid, err);
		return err;
	}

	negotiated(w3);

	return 0;
}


/**
 * A transport got a new DTLS association: a new SCTP association for
 * it, if it carries data channels
 *
 * @param w3 Transport
 */
void agw_dc_dtls_new(struct agw_w3 *w3)
{
	w3->dc = mem_deref(w3->dc);

	if (w3->dc_want && w3->dtls)
		(void)dc_make(w3);
}


/**
 * DTLS is up on a transport: SCTP starts (RFC 8261 4)
 *
 * @param w3 Transport
 */
void agw_dc_dtls_up(struct agw_w3 *w3)
{
	int err;

	if (!w3->dc)
		return;

	err = dc_assoc_start(w3->dc);
	if (err) {
		log_warn("transport %u: SCTP start: %m", w3->tid, err);
		w3->dc = mem_deref(w3->dc);
	}
}


/**
 * DTLS application data: SCTP packets (dtls_recv_h)
 *
 * @param mb  Record payload
 * @param arg Transport
 */
void agw_dc_dtls_recv(struct mbuf *mb, void *arg)
{
	struct agw_w3 *w3 = arg;

	if (w3->dc && !w3->sess->closed)
		dc_assoc_input(w3->dc, mbuf_buf(mb), mbuf_get_left(mb));
}


/** true if a transport carries data channels and no RTP stream */
bool agw_dc_only(const struct agw_w3 *w3)
{
	struct le *le;

	if (!w3->dc_want)
		return false;

	for (le = w3->sess->streaml.head; le; le = le->next) {
		const struct agw_stream *st = le->data;

		if (st->w3 == w3 && !st->rtt)
			return false;
	}

	return true;
}


/**
 * Whether the AGW terminates data channels (config datachannel)
 *
 * @param agw AGW
 *
 * @return true if so
 */
bool agw_dc_enabled(const struct agw *agw)
{
	return agw && agw->conf.datachannel;
}


/**
 * A data-channel m-line (UDP/DTLS/SCTP webrtc-datachannel) on a W3
 * transport: the AGW terminates SCTP on it. Again for the same
 * transport (a re-offer) keeps the association unless the browser's
 * sctp-port changed.
 *
 * @param s    Session
 * @param idx  m-line index
 * @param prm  What the browser's SDP says
 * @param info Returned: what the AGW's SDP says
 *
 * @return 0 if success, ENOTSUP data channels are off, ENOENT no such
 *         transport, otherwise errorcode
 */
int agw_sess_datachannel(struct agw_sess *s, unsigned idx,
			 const struct agw_dc_prm *prm,
			 struct agw_dc_info *info)
{
	struct agw_w3 *w3;
	bool same;

	if (!s || !prm || !info || !prm->sctp_port)
		return EINVAL;

	if (!agw_dc_enabled(s->agw))
		return ENOTSUP;

	w3 = agw_sess_w3(s, prm->tid);
	if (!w3)
		return ENOENT;

	info->sctp_port   = DC_SCTP_PORT;
	info->max_message = s->agw->conf.dc_max_message;

	same = w3->dc_want && w3->dcprm.sctp_port == prm->sctp_port;
	w3->dcprm   = *prm;
	w3->dc_want = true;

	if (same && w3->dc)
		return 0;

	log_debug("session %p m-line %u: data channels on transport %u",
		  s, idx, prm->tid);

	if (!w3->dtls)
		return 0;

	if (dc_make(w3))
		return ENOMEM;

	if (dtls_sess_established(w3->dtls))
		agw_dc_dtls_up(w3);

	return 0;
}

/**
 * @file rtt.c  Real-time text: the T.140 data channel of a W3 transport
 *              (RFC 8865) <-> RFC 4103 RTP text on a core-side stream
 *              (D-63)
 *
 * The core-side stream is an ordinary one (its own RTP/RTCP port pair,
 * latching) whose RTP does not go to the browser as SRTP: st->rtt takes
 * it. From the core, t140_rx puts packets in order, fills gaps from
 * RED and marks a loss with U+FFFD after T140_WAIT_MS; the text goes to
 * the browser as one string message on the channel. From the browser,
 * each message's text goes to t140_tx, which gathers it for 300 ms and
 * sends it with two redundant generations. RTCP from the core is
 * taken and dropped (the AGW sends none for text). Text has nowhere to
 * go while the channel or the core's address is not there: it is
 * counted as dropped.
 */
#include <string.h>
#include <re.h>
#include "../net/net.h"
#include "../tls/dtls.h"
#include "../srtp/srtp.h"
#include "../core/log.h"
#include "../dc/dc.h"
#include "../t140/t140.h"
#include "agw.h"
#include "agw_int.h"

#define LOG_MODULE "agw"


struct agw_rtt {
	struct agw_stream *st;       /**< Owner (not a reference)          */
	struct agw_rtt_prm prm;
	struct t140_tx *tx;          /**< Toward the core                  */
	struct t140_rx *rx;          /**< From the core                    */
};


static void destructor(void *arg)
{
	struct agw_rtt *r = arg;

	mem_deref(r->tx);
	mem_deref(r->rx);
}


static int send_h(const uint8_t *p, size_t n, void *arg)
{
	struct agw_stream *st = ((struct agw_rtt *)arg)->st;
	int err;

	if (st->sess->closed)
		return ENOTCONN;

	err = agw_core_send(st, false, p, n);
	if (err) {
		++st->stats.w3_dropped;
		return err;
	}

	++st->stats.w3_pkts;
	st->stats.w3_bytes += n;

	return 0;
}


static void text_h(const uint8_t *p, size_t n, void *arg)
{
	struct agw_rtt *r = arg;
	struct agw_stream *st = r->st;
	struct agw_w3 *w3 = st->w3;
	int err = ENOTCONN;

	if (!n)
		return;

	if (w3 && w3->dc && !st->sess->closed)
		err = dc_chan_send(w3->dc, r->prm.sid, false, p, n);

	if (err) {
		log_debug("stream %u: %zu bytes of text not sent to the "
			  "browser: %m", st->idx, n, err);
		++st->stats.core_dropped;
		return;
	}

	++st->stats.core_pkts;
	st->stats.core_bytes += n;
}


/* (re)make the sender and receiver when payload types change */
static int rtt_prm(struct agw_rtt *r, const struct agw_rtt_prm *prm)
{
	const struct agw_rtt_prm *o = &r->prm;
	int err;

	if (!r->tx || o->tx_t140 != prm->tx_t140 ||
	    o->tx_red != prm->tx_red) {
		r->tx = mem_deref(r->tx);
		err = t140_tx_alloc(&r->tx, prm->tx_t140, prm->tx_red,
				    send_h, r);
		if (err)
			return err;
	}

	if (!r->rx || o->rx_t140 != prm->rx_t140 ||
	    o->rx_red != prm->rx_red) {
		r->rx = mem_deref(r->rx);
		err = t140_rx_alloc(&r->rx, prm->rx_t140, prm->rx_red,
				    text_h, r);
		if (err)
			return err;
	}

	r->prm = *prm;

	return 0;
}


static bool pts_ok(uint8_t t140, uint8_t red)
{
	return t140 < 128 && red < 128 && t140 != red;
}


/**
 * Real-time text on m-line idx: a core-side RTP stream for RFC 4103
 * text, tied to the T.140 data channel prm->sid of transport prm->tid.
 * Again for the same idx (the core's answer, a re-offer) updates the
 * payload types and channel and keeps the ports.
 *
 * @param s    Session
 * @param idx  m-line index (the data-channel m-line's)
 * @param prm  Transport, channel and payload types
 * @param info Returned core-side addresses (optional)
 *
 * @return 0 if success, ENOENT no such transport, ENOSPC no ports,
 *         EINVAL bad payload types, otherwise errorcode
 */
int agw_sess_rtt(struct agw_sess *s, unsigned idx,
		 const struct agw_rtt_prm *prm, struct agw_stream_info *info)
{
	struct agw_stream_prm sp;
	struct agw_stream *st;
	struct agw_rtt *r;
	bool is_new;
	int err;

	if (!s || !prm || !pts_ok(prm->rx_t140, prm->rx_red) ||
	    !pts_ok(prm->tx_t140, prm->tx_red))
		return EINVAL;

	is_new = !agw_sess_stream_find(s, idx);

	memset(&sp, 0, sizeof(sp));
	sp.tid = prm->tid;
	err = agw_sess_stream(s, idx, &sp, info);
	if (err)
		return err;

	st = agw_sess_stream_find(s, idx);
	if (!st)
		return ENOENT;

	r = st->rtt;
	if (!r) {
		r = mem_zalloc(sizeof(*r), destructor);
		if (!r) {
			err = ENOMEM;
			goto out;
		}
		r->st = st;
		st->rtt = r;
	}

	err = rtt_prm(r, prm);

	log_debug("stream %u: real-time text on data channel %u of "
		  "transport %u (t140 %u/%u, red %u/%u)", idx, prm->sid,
		  prm->tid, prm->rx_t140, prm->tx_t140, prm->rx_red,
		  prm->tx_red);

 out:
	if (err && is_new)
		mem_deref(st);

	return err;
}


/**
 * Text from the browser on a data channel: to the core if it is the
 * T.140 channel of a stream on this transport
 *
 * @param w3  Transport
 * @param sid Channel
 * @param p   Message (UTF-8)
 * @param n   Length
 *
 * @return true if taken (the message is T.140)
 */
bool agw_rtt_from_dc(struct agw_w3 *w3, uint16_t sid, const uint8_t *p,
		     size_t n)
{
	struct le *le;

	for (le = w3->sess->streaml.head; le; le = le->next) {
		struct agw_stream *st = le->data;
		int err;

		if (st->w3 != w3 || !st->rtt || st->rtt->prm.sid != sid)
			continue;

		err = t140_tx_text(st->rtt->tx, p, n);
		if (err) {
			log_info("stream %u: %zu bytes of text from the "
				 "browser dropped: %m", st->idx, n, err);
			++st->stats.w3_dropped;
		}

		return true;
	}

	return false;
}


/**
 * RTP or RTCP from the core on a real-time text stream
 *
 * @param r    Its text path
 * @param p    Packet
 * @param n    Length
 * @param rtcp RTCP (dropped)
 */
void agw_rtt_from_core(struct agw_rtt *r, const uint8_t *p, size_t n,
		       bool rtcp)
{
	struct agw_stream *st = r->st;

	if (rtcp || st->sess->closed || t140_rx_packet(r->rx, p, n))
		++st->stats.core_dropped;
}

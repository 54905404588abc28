/**
 * @file rtt.c  Real-time text: a T.140 data channel (RFC 8865) of a
 *              browser's data-channel m-line becomes `m=text ... RTP/AVP`
 *              (RFC 4103, with RED) toward the core (D-63)
 *
 * A browser offer's data-channel m-line with a channel agreed in SDP
 * for T.140 (`a=dcmap:<id> ...subprotocol="t140"`, or label "t140"
 * without a subprotocol) is written toward the core, in its place, as
 * `m=text <port> RTP/AVP <red> <t140>` on the AGW's core-side address
 * (t140/1000, red/1000 with `a=fmtp:<red> <t140>/<t140>/<t140>`). The
 * AGW (agw_sess_rtt) ties the stream to the channel. The core's answer
 * gives the payload types the AGW sends with and its address; a core
 * that rejects the text m-line leaves the channel without a far end.
 * The browser's answer is the data-channel answer either way (dc.c).
 *
 * Not done: a core offer of m=text (it is not mapped to a data channel
 * toward the browser); a core re-offer in a call with real-time text
 * does not keep it (sdpx_rtt_write_back: the browser's data-channel
 * m-line is offered back rejected, so that the rest of it works).
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"
#include "sdpx.h"

enum {
	PT_T140 = 98,                /* Offered toward the core          */
	PT_RED  = 100,
};


static bool is_t140(const struct agw_dcmap *d)
{
	if (d->proto[0])
		return !str_casecmp(d->proto, "t140");

	return !str_casecmp(d->label, "t140");
}


/* the first T.140 channel agreed in SDP, if any */
static bool t140_sid(const struct sdpx_ml *ml, uint16_t *sid)
{
	size_t i;

	for (i = 0; i < ml->dcmapc; i++) {
		if (is_t140(&ml->dcmapv[i])) {
			*sid = ml->dcmapv[i].sid;
			return true;
		}
	}

	return false;
}


/**
 * Browser offer: each data-channel m-line with a T.140 channel gets a
 * core-side text stream (after sdpx_dc_streams)
 *
 * @return 0 if success, otherwise what ops->rtt returns
 */
int sdpx_rtt_offer(struct sdpx_call *call, const struct sdpx_ops *ops,
		   void *arg)
{
	size_t i;
	int err;

	for (i = 0; i < call->mlc; i++) {
		struct sdpx_ml *ml = &call->mlv[i];
		struct agw_rtt_prm prm;

		ml->rtt = false;
		ml->rtt_ok = false;

		if (!ml->dc || ml->rejected || !ops || !ops->rtt ||
		    !t140_sid(ml, &ml->rtt_sid))
			continue;

		memset(&prm, 0, sizeof(prm));
		prm.tid = ml->tid;
		prm.sid = ml->rtt_sid;
		prm.rx_t140 = prm.tx_t140 = PT_T140;
		prm.rx_red  = prm.tx_red  = PT_RED;

		err = ops->rtt(arg, (unsigned)i, &prm, &ml->core);
		if (err)
			return err;

		ml->rtt = true;
	}

	return 0;
}


/**
 * Write the text m-line toward the core in place of the data-channel one
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_rtt_write_offer(struct mbuf *mb, const struct sdpx_ml *ml)
{
	static const uint8_t ptv[] = {PT_RED, PT_T140};
	int err;

	err  = sdpx_write_mline(mb, "text", sa_port(&ml->core.rtp),
				"RTP/AVP", ptv, ARRAY_SIZE(ptv));
	err |= sdpx_write_conn(mb, &ml->core.rtp);
	err |= sdpx_write_rtcp(mb, &ml->core);
	err |= mbuf_printf(mb, "a=rtpmap:%u red/1000\r\n"
			   "a=rtpmap:%u t140/1000\r\n"
			   "a=fmtp:%u %u/%u/%u\r\n"
			   "a=sendrecv\r\n", PT_RED, PT_T140, PT_RED,
			   PT_T140, PT_T140, PT_T140);

	return err;
}


/**
 * A core offer's m=text in the place of the browser's data-channel
 * m-line (a re-offer in a call with real-time text): not mapped to a
 * T.140 channel (not done), but offered back rejected as what the
 * browser has there, so that the rest of the re-offer (hold) works; the
 * core gets m=text rejected in the answer
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_rtt_write_back(struct mbuf *mb, const struct sdpx_ml *ml)
{
	(void)ml;

	return mbuf_write_str(mb, "m=application 0 UDP/DTLS/SCTP "
			      "webrtc-datachannel\r\n");
}


/* the answer's payload type of enc/1000, or 0 */
static uint8_t pt_of(const struct sdpx_media *m, const char *enc)
{
	uint32_t rate, chans;
	struct pl e;
	size_t i;

	for (i = 0; i < m->ptc; i++) {
		if (sdpx_rtpmap(m, m->ptv[i], &e, &rate, &chans) &&
		    !pl_strcasecmp(&e, enc) && rate == 1000)
			return m->ptv[i];
	}

	return 0;
}


/**
 * The core's answer to a text m-line: its payload types to the AGW. A
 * rejected one, or one without t140/1000, leaves the channel without a
 * far end (rtt_ok false).
 *
 * @return 0 if success, EBADMSG no c=, otherwise what ops->rtt returns
 */
int sdpx_rtt_answer(struct sdpx_ml *ml, const struct sdpx_media *m,
		    unsigned idx, const struct sdpx_ops *ops, void *arg)
{
	struct agw_rtt_prm prm;
	uint8_t t140, red;
	int err;

	ml->rtt_ok = false;

	if (!ops->rtt || !m->port || !m->rtp ||
	    pl_strcasecmp(&m->type, "text"))
		return 0;

	if (!m->has_conn)
		return EBADMSG;

	t140 = pt_of(m, "t140");
	red  = pt_of(m, "red");
	if (!t140 || t140 == red)
		return 0;

	memset(&prm, 0, sizeof(prm));
	prm.tid = ml->tid;
	prm.sid = ml->rtt_sid;
	prm.rx_t140 = PT_T140;
	prm.rx_red  = PT_RED;
	prm.tx_t140 = t140;
	prm.tx_red  = red;

	err = ops->rtt(arg, idx, &prm, NULL);
	ml->rtt_ok = !err;

	return err;
}

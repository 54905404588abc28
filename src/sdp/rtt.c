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
 * The other way, a core offer's `m=text` (RTP/AVP(F), t140/1000, a
 * port) becomes a data-channel m-line toward the browser in the BUNDLE
 * group (actpass, a=sctp-port, `a=dcmap:<id> label="t140";
 * subprotocol="t140"`, id 100 or the call's channel), the AGW gets the
 * channel, the text stream with the core's payload types and the
 * core's address; the browser's answer gives its SCTP port and the core
 * is answered m=text with its payload types. The m-line is then `text`
 * on the core's side and `application` on the browser's (ml->dc_back),
 * which sdpx_answer_check and later offers respect; a core m=text the
 * AGW cannot take where the browser has a data channel is offered back
 * as that m-line rejected (sdpx_rtt_write_back).
 *
 * What RFC 8865 4.2 carries in a=dcsa for the T.140 channel maps to
 * the text m-line's own attributes both ways: `a=dcsa:<id> fmtp:-
 * <params>` (cps) <-> `a=fmtp:<t140> <params>`, `a=dcsa:<id>
 * hlang-send:` / `hlang-recv:` <-> `a=hlang-send:` / `a=hlang-recv:`
 * (RFC 8373).
 *
 * Not done: T.140 opened by DCEP alone.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"
#include "sdpx.h"

enum {
	PT_T140   = 98,              /* Offered toward the core          */
	PT_RED    = 100,
	RTT_SID   = 100,             /* Offered toward the browser       */
	SCTP_PORT = 5000,            /* Browser's until it answers       */
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


static bool lang_attr(const struct pl *name)
{
	return !pl_strcasecmp(name, "hlang-send") ||
		!pl_strcasecmp(name, "hlang-recv");
}


/* the browser's a=dcsa:<sid> lines as the text m-line's attributes */
static int dcsa_to_text(struct mbuf *mb, const struct sdpx_media *m,
			uint16_t sid, uint8_t t140)
{
	struct pl name, arg, id, rest, an, av;
	const char *sp, *colon;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < m->linec; i++) {

		if (m->linev[i].type != 'a')
			continue;

		sdpx_attr_split(&m->linev[i].val, &name, &arg);
		sp = pl_strchr(&arg, ' ');
		if (pl_strcasecmp(&name, "dcsa") || !sp)
			continue;

		id.p = arg.p;
		id.l = sp - arg.p;
		rest.p = sp + 1;
		rest.l = arg.l - id.l - 1;
		if (!sdpx_digits(&id, 5) || pl_u32(&id) != sid)
			continue;

		colon = pl_strchr(&rest, ':');
		if (!colon)
			continue;

		an.p = rest.p;
		an.l = colon - rest.p;
		av.p = colon + 1;
		av.l = rest.l - an.l - 1;

		if (!pl_strcasecmp(&an, "fmtp") && av.l > 2 &&
		    !strncmp(av.p, "- ", 2)) {
			pl_advance(&av, 2);
			err = mbuf_printf(mb, "a=fmtp:%u %r\r\n", t140, &av);
		}
		else if (lang_attr(&an) && av.l) {
			err = mbuf_printf(mb, "a=%r:%r\r\n", &an, &av);
		}
	}

	return err;
}


/* the core's text m-line attributes as a=dcsa lines of the channel */
static int text_to_dcsa(struct mbuf *mb, const struct sdpx_media *m,
			uint16_t sid, uint8_t t140)
{
	struct pl name, arg;
	const char *sp;
	size_t i;
	int pt, err = 0;

	for (i = 0; !err && i < m->linec; i++) {

		if (m->linev[i].type != 'a')
			continue;

		sdpx_attr_split(&m->linev[i].val, &name, &arg);
		if (lang_attr(&name) && arg.l) {
			err = mbuf_printf(mb, "a=dcsa:%u %r:%r\r\n", sid,
					  &name, &arg);
			continue;
		}

		sp = pl_strchr(&arg, ' ');
		if (!pl_strcasecmp(&name, "fmtp") && sp &&
		    sdpx_pt_of(&arg, &pt) && pt == t140 &&
		    sp + 1 < arg.p + arg.l)
			err = mbuf_printf(mb, "a=dcsa:%u fmtp:- %b\r\n", sid,
					  sp + 1, arg.l - (sp + 1 - arg.p));
	}

	return err;
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

		/* one m-line toward the core: MSRP (msrp.c) goes first */
		if (!ml->dc || ml->rejected || ml->msrp || !ops || !ops->rtt ||
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
int sdpx_rtt_write_offer(struct mbuf *mb, const struct sdpx_ml *ml,
			 const struct sdpx_media *m)
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
	err |= dcsa_to_text(mb, m, ml->rtt_sid, PT_T140);

	return err;
}


/**
 * The core's answer to a text m-line, as a=dcsa lines of the T.140
 * channel in the browser's answer (cps, languages)
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_rtt_write_dcsa(struct mbuf *mb, const struct sdpx_ml *ml,
			const struct sdpx_media *m)
{
	if (!ml->rtt || !ml->rtt_ok || pl_strcasecmp(&m->type, "text"))
		return 0;

	return text_to_dcsa(mb, m, ml->rtt_sid, pt_of(m, "t140"));
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


/* --- a core offer of m=text: a T.140 channel toward the browser -------- */

/**
 * A core offer's m-line: true if it is RFC 4103 text the AGW can take
 * (RTP/AVP(F) m=text with a port and t140/1000) and the ops can; its
 * payload types are kept in ml
 */
bool sdpx_rtt_core_text(struct sdpx_ml *ml, const struct sdpx_media *m,
			const struct sdpx_ops *ops)
{
	uint8_t t140, red;

	if (!ops || !ops->rtt || !ops->datachannel || !m->port || !m->rtp ||
	    !m->has_conn || pl_strcasecmp(&m->type, "text"))
		return false;

	t140 = pt_of(m, "t140");
	red  = pt_of(m, "red");
	if (!t140 || t140 == red)
		return false;

	ml->rtt_t140 = t140;
	ml->rtt_red  = red;

	return true;
}


/**
 * Core offer: the AGW gets the channel (agreed in SDP, stream id
 * RTT_SID) on the m-line's transport, a text stream and the core's
 * address
 *
 * @return 0 if success, otherwise what an op returns
 */
int sdpx_rtt_core_offer(struct sdpx_ml *ml, unsigned idx,
			const struct sdpx_media *m,
			const struct sdpx_ops *ops, void *arg)
{
	struct agw_dc_prm dp;
	struct agw_rtt_prm rp;
	struct sa rtp, rtcp;
	int err;

	if (!ml->rtt_sid)
		ml->rtt_sid = RTT_SID;

	memset(&dp, 0, sizeof(dp));
	dp.tid = ml->tid;
	dp.sctp_port = ml->dcinfo.sctp_port ? ml->dcinfo.sctp_port :
		SCTP_PORT;
	dp.mapv[0].sid = ml->rtt_sid;
	str_ncpy(dp.mapv[0].label, "t140", sizeof(dp.mapv[0].label));
	str_ncpy(dp.mapv[0].proto, "t140", sizeof(dp.mapv[0].proto));
	dp.mapc = 1;

	err = ops->datachannel(arg, idx, &dp, &ml->dcinfo);
	if (err)
		return err;

	memcpy(ml->dcmapv, dp.mapv, sizeof(ml->dcmapv));
	ml->dcmapc = dp.mapc;

	memset(&rp, 0, sizeof(rp));
	rp.tid = ml->tid;
	rp.sid = ml->rtt_sid;
	rp.rx_t140 = rp.tx_t140 = ml->rtt_t140;
	rp.rx_red  = rp.tx_red  = ml->rtt_red;

	err = ops->rtt(arg, idx, &rp, &ml->core);
	if (err)
		return err;

	sdpx_core_peer(&rtp, &rtcp, m, false);

	return ops->core_peer(arg, idx, &rtp, &rtcp);
}


/**
 * Write the data-channel m-line offered to the browser for a core's
 * m=text: the AGW's transport (actpass), SCTP and the T.140 channel
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_rtt_write_dc_offer(struct mbuf *mb, const struct sdpx_call *call,
			    const struct sdpx_ml *ml,
			    const struct sdpx_media *m)
{
	const struct agw_w3_info *info = &call->tpv[ml->tid].info;
	int err;

	err  = mbuf_printf(mb, "m=application %u UDP/DTLS/SCTP "
			   "webrtc-datachannel\r\n", sa_port(&info->cand));
	err |= sdpx_write_conn(mb, &info->cand);
	err |= mbuf_printf(mb, "a=mid:%s\r\n", ml->mid);
	err |= mbuf_printf(mb, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n",
			   info->ufrag, info->pwd);
	err |= mbuf_printf(mb, "a=fingerprint:%s\r\n", info->fingerprint);
	err |= mbuf_printf(mb, "a=setup:actpass\r\n"
			   "a=candidate:1 1 udp 2130706431 %j %u typ host\r\n"
			   "a=end-of-candidates\r\n",
			   &info->cand, sa_port(&info->cand));
	err |= mbuf_printf(mb, "a=sctp-port:%u\r\na=max-message-size:%u\r\n"
			   "a=dcmap:%u label=\"t140\";"
			   "subprotocol=\"t140\"\r\n",
			   ml->dcinfo.sctp_port, ml->dcinfo.max_message,
			   ml->rtt_sid);
	err |= text_to_dcsa(mb, m, ml->rtt_sid, ml->rtt_t140);

	return err;
}


/**
 * The browser's answer to the data-channel m-line of a core's m=text:
 * its SCTP parameters to the AGW (the channel as offered); port 0 or
 * another m-line declines the text
 *
 * @return 0 if success, EPROTO malformed SCTP attributes, otherwise
 *         what ops->datachannel returns
 */
int sdpx_rtt_browser_answer(struct sdpx_ml *ml, const struct sdpx_media *m,
			    unsigned idx, const struct sdpx_ops *ops,
			    void *arg)
{
	struct agw_dc_prm dp;
	int err;

	ml->declined = !m->port || !sdpx_dc_media(m);
	if (ml->declined)
		return 0;

	err = sdpx_dc_prm(&dp, m);
	if (err)
		return err;

	dp.tid = ml->tid;
	memcpy(dp.mapv, ml->dcmapv, sizeof(dp.mapv));
	dp.mapc = ml->dcmapc;

	return ops->datachannel(arg, idx, &dp, &ml->dcinfo);
}


/**
 * The answer to the core's m=text: the AGW's text stream with the
 * core's payload types
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_rtt_write_core_answer(struct mbuf *mb, const struct sdpx_ml *ml,
			       const struct sdpx_media *m)
{
	uint8_t ptv[2];
	size_t ptc = 0;
	int err;

	if (ml->rtt_red)
		ptv[ptc++] = ml->rtt_red;
	ptv[ptc++] = ml->rtt_t140;

	err  = sdpx_write_mline(mb, "text", sa_port(&ml->core.rtp),
				"RTP/AVP", ptv, ptc);
	err |= sdpx_write_conn(mb, &ml->core.rtp);
	err |= sdpx_write_rtcp(mb, &ml->core);
	if (ml->rtt_red)
		err |= mbuf_printf(mb, "a=rtpmap:%u red/1000\r\n"
				   "a=fmtp:%u %u/%u/%u\r\n", ml->rtt_red,
				   ml->rtt_red, ml->rtt_t140, ml->rtt_t140,
				   ml->rtt_t140);
	err |= mbuf_printf(mb, "a=rtpmap:%u t140/1000\r\na=sendrecv\r\n",
			   ml->rtt_t140);
	if (!ml->declined && sdpx_dc_media(m))
		err |= dcsa_to_text(mb, m, ml->rtt_sid, ml->rtt_t140);

	return err;
}

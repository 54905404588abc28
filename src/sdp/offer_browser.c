/**
 * @file offer_browser.c  Core offer -> browser offer
 *
 * The usable m-lines (RTP/AVP(F) audio and video with a port) share one
 * W3 transport in one BUNDLE group, mids "0", "1", ... by index. The AGW
 * offers it (a=setup:actpass), gets a stream per m-line and the core's
 * addresses from the offer. The browser gets UDP/TLS/RTP/SAVPF with
 * ICE-lite, the codecs it can take and the core's direction. An audio
 * m-line without a common codec fails the offer (ENOTSUP, 488 with
 * Warning 305); a video one, or another medium, is offered rejected.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"
#include "sdpx.h"


#define BROWSER_PROTO "UDP/TLS/RTP/SAVPF"


static bool plain_rtp(const struct sdpx_media *m)
{
	return !pl_strcasecmp(&m->proto, "RTP/AVP") ||
		!pl_strcasecmp(&m->proto, "RTP/AVPF");
}


static int classify_one(struct sdpx_ml *ml, const struct sdpx_sdp *sdp,
			const struct sdpx_media *m, const struct sdpx_ops *ops)
{
	const bool was_rtt = ml->rtt;
	size_t codecs;

	sdpx_ml_store(ml, m);
	ml->dc_back = was_rtt && !pl_strcasecmp(&m->type, "text");

	/* a data-channel capable core: relayed on a transport of its own
	   (dcrelay.c) */
	if (sdpx_dcrelay_offered(m, true)) {
		if (!m->has_conn)
			return EBADMSG;
		ml->dcrelay = true;
		ml->rejected = false;
		ml->grp = -1;
		ml->core_dir = SDPX_SENDRECV;
		return 0;
	}

	/* real-time text: a T.140 data channel toward the browser (rtt.c) */
	if (sdpx_rtt_core_text(ml, m, ops)) {
		ml->rtt = ml->dc = ml->dc_back = true;
		ml->rejected = false;
		ml->grp = 0;
		ml->core_dir = SDPX_SENDRECV;
		return 0;
	}
	ml->avpf = !pl_strcasecmp(&m->proto, "RTP/AVPF");
	sdpx_avpf_core_offer(ml, m);
	ml->core_rtcp_mux = sdpx_attr_find(m->linev, m->linec, "rtcp-mux",
					   NULL);
	ml->core_dir = sdpx_dir(sdp, m);
	memcpy(ml->cptv, m->ptv, m->ptc);
	ml->cptc = m->ptc;
	ml->bptc = 0;

	ml->rejected = ml->kind == SDPX_OTHER || !plain_rtp(m) || !m->port;
	ml->grp = ml->rejected ? -1 : 0;
	if (ml->rejected)
		return 0;

	if (!m->has_conn)
		return EBADMSG;

	ml->xc = 0;
	codecs = sdpx_codec_filter(ml->bptv, &ml->bptc, m);
	if (codecs)
		return 0;

	/* none a browser has: transcoded, if the AGW can (xcode.c) */
	if (sdpx_xcode_core_offer(ml, m, ops))
		return 0;

	if (ml->kind == SDPX_AUDIO)
		return ENOTSUP;

	ml->rejected = true;
	ml->grp = -1;

	return 0;
}


static bool mid_taken(const struct sdpx_call *call, const char *mid)
{
	size_t i;

	for (i = 0; i < call->mlc; i++) {
		if (!strcmp(call->mlv[i].mid, mid))
			return true;
	}

	return false;
}


/* m-lines keep the mid the browser knows them by (JSEP); new ones are
   named by their index */
static void mids(struct sdpx_call *call)
{
	char mid[SDPX_TOKEN_SZ];
	size_t i;

	for (i = 0; i < call->mlc; i++) {

		if (call->mlv[i].mid[0])
			continue;

		(void)re_snprintf(mid, sizeof(mid), "%zu", i);
		if (mid_taken(call, mid))
			(void)re_snprintf(mid, sizeof(mid), "m%zu", i);

		str_ncpy(call->mlv[i].mid, mid, sizeof(call->mlv[i].mid));
	}
}


static int classify(struct sdpx_call *call, const struct sdpx_sdp *sdp,
		    const struct sdpx_ops *ops)
{
	bool any = false;
	size_t i;
	int err;

	for (i = 0; i < sdp->mc; i++) {

		err = classify_one(&call->mlv[i], sdp, &sdp->mv[i], ops);
		if (err)
			return err;

		any |= !call->mlv[i].rejected;
	}

	mids(call);

	return any ? 0 : ENOENT;
}


static int streams(struct sdpx_call *call, const struct sdpx_sdp *sdp,
		   const struct sdpx_ops *ops, void *arg)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < call->mlc; i++) {
		struct sdpx_ml *ml = &call->mlv[i];
		uint32_t clockv[SDPX_MAX_FMT];
		struct agw_stream_prm prm;
		struct sa rtp, rtcp;

		if (ml->rejected)
			continue;

		if (ml->rtt) {
			err = sdpx_rtt_core_offer(ml, (unsigned)i, &sdp->mv[i],
						  ops, arg);
			continue;
		}

		if (ml->dcrelay) {
			err = sdpx_dcrelay_stream(ml, (unsigned)i, &sdp->mv[i],
						  ops, arg);
			continue;
		}

		memset(&prm, 0, sizeof(prm));
		prm.tid = ml->tid;
		prm.core_rtcp_mux = ml->core_rtcp_mux;
		prm.ptv = ml->bptv;
		prm.ptc = ml->bptc;
		sdpx_clock(clockv, &prm, &sdp->mv[i]);
		sdpx_core_peer(&rtp, &rtcp, &sdp->mv[i], ml->core_rtcp_mux);
		prm.core_peer = &rtp;

		err = ops->stream(arg, (unsigned)i, &prm, &ml->core);
		if (err)
			break;

		err = ops->core_peer(arg, (unsigned)i, &rtp, &rtcp);
	}

	return err;
}


/* the BUNDLE group's transport, and one per relayed data channel */
static int transport(struct sdpx_call *call, const struct sdpx_ops *ops,
		     void *arg)
{
	struct sdpx_tp *tp;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < call->mlc; i++) {

		if (call->mlv[i].rejected || !sdpx_tid_leader(call, i))
			continue;

		tp = &call->tpv[call->mlv[i].tid];

		err = ops->transport(arg, call->mlv[i].tid, NULL, &tp->info);
		tp->used = !err;
	}

	return err;
}


static int write_media(struct mbuf *mb, const struct sdpx_call *call,
		       const struct sdpx_ml *ml, const struct sdpx_sdp *sdp,
		       const struct sdpx_media *m)
{
	const struct sdpx_tp *tp = &call->tpv[ml->tid];
	int err;

	if (ml->dcrelay)
		return sdpx_dcrelay_write_browser(mb, call, ml, sdp, m);

	if (ml->rtt)
		return sdpx_rtt_write_dc_offer(mb, call, ml, m);

	if (ml->rejected) {
		err  = ml->dc_back ? sdpx_rtt_write_back(mb, ml) :
			sdpx_write_rejected(mb, ml, ml->kind != SDPX_OTHER &&
					    m->rtp ? BROWSER_PROTO : NULL);
		err |= mbuf_printf(mb, "a=mid:%s\r\n", ml->mid);
		return err;
	}

	err  = sdpx_write_mline(mb, ml->media, sa_port(&tp->info.cand),
				BROWSER_PROTO, ml->bptv, ml->bptc);
	err |= sdpx_write_lines(mb, m, 'i');
	err |= sdpx_write_conn(mb, &tp->info.cand);
	err |= sdpx_write_lines(mb, m, 'b');
	err |= sdpx_write_w3(mb, ml->mid, &tp->info, "actpass");
	err |= sdpx_write_static_rtpmaps(mb, m, ml->bptv, ml->bptc);
	err |= sdpx_write_attrs(mb, m, SDPX_TO_BROWSER, ml->bptv, ml->bptc,
				true);
	err |= sdpx_xcode_write_browser(mb, ml, true);
	err |= mbuf_printf(mb, "a=%s\r\n", sdpx_dir_name(ml->core_dir));

	return err;
}


static int write_offer(struct mbuf *mb, const struct sdpx_call *call,
		       const struct sdpx_sdp *sdp)
{
	const struct sdpx_tp *tp = sdpx_first_tp(call);
	size_t i;
	int err;

	err  = sdpx_write_head(mb, sdp, call->bsess, call->bver,
			       tp ? &tp->info.cand : NULL, false);
	err |= mbuf_write_str(mb, "a=ice-lite\r\n");
	err |= sdpx_write_group(mb, call);
	err |= sdpx_write_sess_attrs(mb, sdp, SDPX_TO_BROWSER);

	for (i = 0; !err && i < call->mlc; i++)
		err = write_media(mb, call, &call->mlv[i], sdp,
				  &sdp->mv[i]);

	return err;
}


/**
 * Rewrite the core's offer into an offer to the browser
 *
 * @param out        Output (SDP written at its position; position and
 *                   end restored on error)
 * @param callp      The call's state (allocated if *callp is NULL)
 * @param core_offer The core's SDP offer
 * @param ops        The AGW
 * @param arg        Handler argument of ops
 *
 * @return 0 if success, EBADMSG/EMSGSIZE malformed, ENOTSUP no common
 *         audio codec, ENOENT no usable audio or video, otherwise
 *         errorcode
 */
int sdpx_offer_to_browser(struct mbuf *out, struct sdpx_call **callp,
			  const struct pl *core_offer,
			  const struct sdpx_ops *ops, void *arg)
{
	const size_t pos = out ? out->pos : 0, end = out ? out->end : 0;
	struct sdpx_sdp *sdp = NULL;
	struct sdpx_call *next = NULL;
	int err;

	if (!out || !callp || !core_offer || !ops || !ops->transport ||
	    !ops->stream || !ops->core_peer)
		return EINVAL;

	err = sdpx_parse(&sdp, core_offer);
	if (err)
		goto out;

	err = sdpx_call_stage(&next, *callp, sdp->mc);
	if (err)
		goto out;

	err = classify(next, sdp, ops);
	if (err)
		goto out;

	sdpx_tids_assign(next);

	err = transport(next, ops, arg);
	if (err)
		goto out;

	err = streams(next, sdp, ops, arg);
	if (err)
		goto out;

	next->offerer = SDPX_CORE;
	next->answered = false;
	++next->bver;

	err = write_offer(out, next, sdp);
	if (err)
		goto out;

	sdpx_call_commit(callp, next);
	next = NULL;

 out:
	if (err) {
		out->pos = pos;
		out->end = end;
		mem_deref(next);
	}
	mem_deref(sdp);

	return err;
}

/**
 * @file offer_core.c  Browser offer -> core offer (D-24..D-27)
 *
 * Each BUNDLE group, and each usable m-line outside one, is a W3
 * transport: the AGW gets the browser's ICE credentials, fingerprint
 * and its own DTLS role, then a stream per usable m-line. The core gets
 * RTP/AVP on the AGW's core-side ports with the same payload types, the
 * codec attributes and the direction, and nothing of ICE, DTLS, BUNDLE,
 * rtcp-mux or SSRC signalling. Data-channel m-lines (dc.c) the AGW
 * terminates; they and other m-lines go to the core rejected.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"
#include "sdpx.h"


static bool dtls_rtp(const struct sdpx_media *m)
{
	return !pl_strcasecmp(&m->proto, "UDP/TLS/RTP/SAVPF") ||
		!pl_strcasecmp(&m->proto, "UDP/TLS/RTP/SAVP");
}


static int mids(struct sdpx_call *call, const struct sdpx_sdp *sdp)
{
	struct pl mid;
	size_t i, j;

	for (i = 0; i < sdp->mc; i++) {
		struct sdpx_ml *ml = &call->mlv[i];

		ml->mid[0] = '\0';
		if (!sdpx_attr_find(sdp->mv[i].linev, sdp->mv[i].linec,
				    "mid", &mid))
			continue;

		if (!mid.l || mid.l >= sizeof(ml->mid) || pl_strchr(&mid, ' '))
			return EPROTO;

		(void)pl_strcpy(&mid, ml->mid, sizeof(ml->mid));

		for (j = 0; j < i; j++) {
			if (!strcmp(call->mlv[j].mid, ml->mid))
				return EPROTO;
		}
	}

	return 0;
}


/* a=group:BUNDLE <mid>...: m-lines named get the group's index */
static void groups(struct sdpx_call *call, const struct sdpx_sdp *sdp)
{
	struct pl name, arg, rest, tok;
	int grp = 0;
	size_t i, j;

	for (i = 0; i < sdp->sessc && grp < SDPX_MAX_GROUP; i++) {

		if (sdp->linev[i].type != 'a')
			continue;

		sdpx_attr_split(&sdp->linev[i].val, &name, &arg);
		rest = arg;
		if (pl_strcasecmp(&name, "group") ||
		    !sdpx_token(&rest, &tok) || pl_strcasecmp(&tok, "BUNDLE"))
			continue;

		while (sdpx_token(&rest, &tok)) {
			for (j = 0; j < call->mlc; j++) {
				struct sdpx_ml *ml = &call->mlv[j];

				if (ml->grp < 0 && ml->mid[0] &&
				    !pl_strcmp(&tok, ml->mid))
					ml->grp = grp;
			}
		}

		++grp;
	}
}


/* the m-line carrying a transport's parameters: the first of its group
   with a port (the offerer's BUNDLE tag), else itself */
static const struct sdpx_media *tag_of(const struct sdpx_call *call,
				       const struct sdpx_sdp *sdp, size_t i)
{
	const int grp = call->mlv[i].grp;
	size_t j;

	for (j = 0; grp >= 0 && j < sdp->mc; j++) {
		if (call->mlv[j].grp == grp && sdp->mv[j].port)
			return &sdp->mv[j];
	}

	return &sdp->mv[i];
}


static int classify(struct sdpx_call *call, const struct sdpx_sdp *sdp,
		    bool dc)
{
	bool any = false;
	size_t i;
	int err;

	for (i = 0; i < sdp->mc; i++) {
		struct sdpx_ml *ml = &call->mlv[i];
		const struct sdpx_media *m = &sdp->mv[i];
		const bool text = ml->dc_back;

		sdpx_ml_store(ml, m);
		/* the core has m=text there since its re-offer (rtt.c) */
		ml->dc_back = text && sdpx_dc_media(m);
		ml->grp = -1;
		ml->avpf = false;
		ml->core_rtcp_mux = false;
		ml->core_dir = sdpx_dir(sdp, m);
		memcpy(ml->bptv, m->ptv, m->ptc);
		ml->bptc = m->ptc;
		ml->cptc = 0;
	}

	err = mids(call, sdp);
	if (err)
		return err;

	groups(call, sdp);

	for (i = 0; i < sdp->mc; i++) {
		struct sdpx_ml *ml = &call->mlv[i];
		const struct sdpx_media *m = &sdp->mv[i];
		const bool bundle_only = ml->grp >= 0 &&
			sdpx_attr_find(m->linev, m->linec, "bundle-only",
				       NULL);

		ml->dc = dc && sdpx_dc_media(m);
		ml->rejected = (!ml->dc && (ml->kind == SDPX_OTHER ||
					    !dtls_rtp(m))) ||
			(!m->port && !bundle_only);

		if (ml->dc)
			continue;

		if (!ml->rejected && !sdpx_attr(sdp, m, "rtcp-mux", NULL) &&
		    !sdpx_attr(sdp, tag_of(call, sdp, i), "rtcp-mux", NULL))
			return EPROTO;

		any |= !ml->rejected;
	}

	return any ? 0 : ENOENT;
}


/* with ops NULL only check that every transport has its parameters */
static int transports(struct sdpx_call *call, const struct sdpx_sdp *sdp,
		      const struct sdpx_ops *ops, void *arg)
{
	struct agw_w3_prm prm;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < call->mlc; i++) {
		const struct sdpx_media *tag;
		struct sdpx_tp *tp;
		bool actpass;

		if (call->mlv[i].rejected || !sdpx_tid_leader(call, i))
			continue;

		tag = tag_of(call, sdp, i);
		tp  = &call->tpv[call->mlv[i].tid];

		err = sdpx_w3_prm(&prm, sdp, tag);
		if (err)
			break;

		err = sdpx_w3_setup(sdp, tag, true, &actpass, &prm.setup);
		if (err || !ops)
			continue;

		/* a re-offer's actpass keeps the association's roles */
		if (actpass && tp->used)
			prm.setup = tp->setup;

		err = ops->transport(arg, call->mlv[i].tid, &prm, &tp->info);
		tp->setup = prm.setup;
		tp->used = !err;
	}

	return err;
}


static int streams(struct sdpx_call *call, const struct sdpx_sdp *sdp,
		   const struct sdpx_ops *ops, void *arg)
{
	uint32_t ssrcv[SDPX_MAX_SSRC], clockv[SDPX_MAX_FMT];
	size_t i;
	int err = 0;

	for (i = 0; !err && i < call->mlc; i++) {
		struct sdpx_ml *ml = &call->mlv[i];
		struct agw_stream_prm prm;

		if (ml->rejected || ml->dc)
			continue;

		memset(&prm, 0, sizeof(prm));
		prm.tid   = ml->tid;
		prm.ssrcv = ssrcv;
		prm.ptv   = ml->bptv;
		prm.ptc   = ml->bptc;
		sdpx_clock(clockv, &prm, &sdp->mv[i]);

		err = sdpx_ssrcs(&sdp->mv[i], ssrcv, &prm.ssrcc);
		if (err || !ops)
			continue;

		err = ops->stream(arg, (unsigned)i, &prm, &ml->core);
		sdpx_xcode_offer(ml, &sdp->mv[i], ops);
	}

	return err;
}


static int write_media(struct mbuf *mb, const struct sdpx_ml *ml,
		       const struct sdpx_media *m)
{
	uint8_t ptv[SDPX_MAX_FMT];
	size_t ptc;
	int err;

	if (ml->msrp)
		return sdpx_msrp_write_offer(mb, ml, m);

	if (ml->rtt)
		return sdpx_rtt_write_offer(mb, ml);

	if (ml->dc_back)
		return mbuf_write_str(mb, "m=text 0 RTP/AVP 98\r\n");

	if (ml->rejected || ml->dc)
		return sdpx_write_rejected(mb, ml, ml->kind != SDPX_OTHER &&
					   m->rtp ? "RTP/AVP" : NULL);

	ptc  = sdpx_xcode_pts(ptv, ml);
	err  = sdpx_write_mline(mb, ml->media, sa_port(&ml->core.rtp),
				"RTP/AVP", ptv, ptc);
	err |= sdpx_write_lines(mb, m, 'i');
	err |= sdpx_write_conn(mb, &ml->core.rtp);
	err |= sdpx_write_lines(mb, m, 'b');
	err |= sdpx_write_rtcp(mb, &ml->core);
	err |= sdpx_write_attrs(mb, m, SDPX_TO_CORE, ml->bptv, ml->bptc,
				false);
	err |= sdpx_xcode_write_offer(mb, ml);
	err |= mbuf_printf(mb, "a=%s\r\n", sdpx_dir_name(ml->core_dir));

	return err;
}


static int write_offer(struct mbuf *mb, const struct sdpx_call *call,
		       const struct sdpx_sdp *sdp)
{
	const struct sa *addr = sdpx_core_addr(call);
	size_t i;
	int err;

	err  = sdpx_write_head(mb, sdp, call->csess, call->cver, addr, true);
	err |= sdpx_write_sess_attrs(mb, sdp, SDPX_TO_CORE);

	for (i = 0; !err && i < call->mlc; i++)
		err = write_media(mb, &call->mlv[i], &sdp->mv[i]);

	return err;
}


/**
 * Rewrite a browser's offer into the offer toward the core
 *
 * @param out           Output (SDP written at its position; position
 *                      and end restored on error)
 * @param callp         The call's state (allocated if *callp is NULL)
 * @param browser_offer The browser's SDP offer
 * @param ops           The AGW
 * @param arg           Handler argument of ops
 *
 * @return 0 if success, EBADMSG/EMSGSIZE malformed, EPROTO no ICE
 *         credentials, fingerprint or rtcp-mux, ENOENT no usable audio
 *         or video, otherwise errorcode
 */
int sdpx_offer_to_core(struct mbuf *out, struct sdpx_call **callp,
		       const struct pl *browser_offer,
		       const struct sdpx_ops *ops, void *arg)
{
	struct sdpx_sdp *sdp = NULL;
	struct sdpx_call *next = NULL;
	const size_t pos = out ? out->pos : 0, end = out ? out->end : 0;
	int err;

	if (!out || !callp || !browser_offer || !ops || !ops->transport ||
	    !ops->stream)
		return EINVAL;

	err = sdpx_parse(&sdp, browser_offer);
	if (err)
		goto out;

	err = sdpx_call_stage(&next, *callp, sdp->mc);
	if (err)
		goto out;

	err = classify(next, sdp, ops->datachannel != NULL);
	if (err)
		goto out;

	sdpx_tids_assign(next);

	err = transports(next, sdp, NULL, NULL);
	if (err)
		goto out;

	err = streams(next, sdp, NULL, NULL);
	if (!err)
		err = sdpx_dc_streams(next, sdp, NULL, NULL);
	if (err)
		goto out;

	err = transports(next, sdp, ops, arg);
	if (err)
		goto out;

	err = streams(next, sdp, ops, arg);
	if (!err)
		err = sdpx_dc_streams(next, sdp, ops, arg);
	if (!err)
		err = sdpx_rtt_offer(next, ops, arg);
	if (err)
		goto out;

	next->offerer = SDPX_BROWSER;
	next->answered = false;
	++next->cver;

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

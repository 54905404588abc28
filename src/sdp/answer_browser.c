/**
 * @file answer_browser.c  Core answer -> browser answer (D-28..D-30)
 *
 * The AGW learns the core's RTP and RTCP addresses per accepted m-line.
 * The browser gets the AGW's W3 transport on every accepted m-line
 * (UDP/TLS/RTP/SAVPF, mid, ICE-lite credentials and host candidate,
 * fingerprint, active or passive, rtcp-mux), the payload types and
 * codec attributes the core chose and its direction. An m-line the core
 * or the offer rejected is rejected with port 0, keeping its mid.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"
#include "sdpx.h"


static int accept_media(struct sdpx_call *call, const struct sdpx_sdp *sdp,
			const struct sdpx_ops *ops, void *arg)
{
	size_t i;
	int err;

	for (i = 0; i < sdp->mc; i++) {
		struct sdpx_ml *ml = &call->mlv[i];
		const struct sdpx_media *m = &sdp->mv[i];

		if (ml->dcrelay) {  /* relayed as it is (dcrelay.c) */
			ml->declined = ml->rejected || !m->port ||
				!sdpx_dc_media(m);
			if (!ml->declined && !m->has_conn)
				return EBADMSG;
			continue;
		}

		/* the AGW answers data channels itself (dc.c) */
		ml->declined = ml->rejected ||
			(!ml->dc && (!m->port || !m->rtp));
		if (ml->rtt && !ml->declined) {
			err = sdpx_rtt_answer(ml, m, (unsigned)i, ops, arg);
			if (err)
				return err;
		}
		if (ml->dc && !ml->declined) {
			err = sdpx_msrp_answer(ml, m, (unsigned)i, ops, arg);
			if (err)
				return err;
		}
		if (ml->declined || ml->dc)
			continue;

		if (!m->has_conn)
			return EBADMSG;

		ml->core_dir = sdpx_dir(sdp, m);
		if (ml->xc || ml->xcoded) {
			err = sdpx_xcode_answer(ml, m, (unsigned)i, ops, arg);
			if (err)
				return err;
			if (ml->xcoded)
				continue;
		}

		ml->cptc = sdpx_pt_common(ml->cptv, m, ml->bptv, ml->bptc);
		if (!ml->cptc)
			return EPROTO;

		ml->core_dir = sdpx_dir(sdp, m);
	}

	return 0;
}


static int core_peers(const struct sdpx_call *call,
		      const struct sdpx_sdp *sdp,
		      const struct sdpx_ops *ops, void *arg)
{
	struct sa rtp, rtcp;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < call->mlc; i++) {

		if (call->mlv[i].declined ||
		    (call->mlv[i].dc && !call->mlv[i].rtt_ok))
			continue;

		/* no rtcp-mux was offered to the core (but one port for
		   a relayed data channel) */
		sdpx_core_peer(&rtp, &rtcp, &sdp->mv[i],
			       call->mlv[i].dcrelay);
		err = ops->core_peer(arg, (unsigned)i, &rtp, &rtcp);
	}

	return err;
}


static int write_media(struct mbuf *mb, const struct sdpx_call *call,
		       const struct sdpx_ml *ml, const struct sdpx_sdp *sdp,
		       const struct sdpx_media *m)
{
	const struct sdpx_tp *tp = &call->tpv[ml->tid];
	int err;

	if (ml->declined) {
		err = sdpx_write_rejected(mb, ml, NULL);
		if (ml->mid[0])
			err |= mbuf_printf(mb, "a=mid:%s\r\n", ml->mid);
		return err;
	}

	if (ml->dcrelay)
		return sdpx_dcrelay_write_browser(mb, call, ml, sdp, m);

	if (ml->dc)
		return sdpx_dc_write(mb, call, ml) |
			sdpx_msrp_write_dcsa(mb, ml, m) |
			sdpx_rtt_write_dcsa(mb, ml, m);

	err  = sdpx_write_mline(mb, ml->media, sa_port(&tp->info.cand),
				ml->proto, ml->cptv, ml->cptc);
	err |= sdpx_write_lines(mb, m, 'i');
	err |= sdpx_write_conn(mb, &tp->info.cand);
	err |= sdpx_write_lines(mb, m, 'b');
	err |= sdpx_write_w3(mb, ml->mid, &tp->info,
			     tp->setup == AGW_SETUP_ACTIVE ? "active" :
			     "passive");
	err |= sdpx_write_attrs(mb, m, SDPX_TO_BROWSER, ml->cptv, ml->cptc,
				true);
	err |= sdpx_xcode_write_browser(mb, ml, false);
	err |= mbuf_printf(mb, "a=%s\r\n", sdpx_dir_name(ml->core_dir));

	return err;
}


static int write_answer(struct mbuf *mb, const struct sdpx_call *call,
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
 * Rewrite the core's answer into the answer to the browser's offer
 *
 * @param out         Output (SDP written at its position; position and
 *                    end restored on error)
 * @param call        The call (its last offer came from the browser)
 * @param core_answer The core's SDP answer
 * @param ops         The AGW
 * @param arg         Handler argument of ops
 *
 * @return 0 if success, EBADMSG/EMSGSIZE malformed, EPROTO if the answer
 *         does not match the offer, otherwise errorcode
 */
int sdpx_answer_to_browser(struct mbuf *out, struct sdpx_call *call,
			   const struct pl *core_answer,
			   const struct sdpx_ops *ops, void *arg)
{
	const size_t pos = out ? out->pos : 0, end = out ? out->end : 0;
	struct sdpx_sdp *sdp = NULL;
	struct sdpx_call *next = NULL;
	int err;

	if (!out || !call || !core_answer || !ops || !ops->core_peer)
		return EINVAL;

	err = sdpx_parse(&sdp, core_answer);
	if (err)
		goto out;

	err = sdpx_answer_check(call, sdp, SDPX_BROWSER);
	if (err)
		goto out;

	err = sdpx_call_stage(&next, call, call->mlc);
	if (err)
		goto out;

	err = accept_media(next, sdp, ops, arg);
	if (err)
		goto out;

	err = core_peers(next, sdp, ops, arg);
	if (err)
		goto out;

	/* a repeated answer (183, then 200) keeps the version */
	if (!next->answered)
		++next->bver;
	next->answered = true;

	err = write_answer(out, next, sdp);
	if (err)
		goto out;

	sdpx_call_commit(&call, next);
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

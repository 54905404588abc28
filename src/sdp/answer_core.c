/**
 * @file answer_core.c  Browser answer -> core answer
 *
 * The AGW learns the browser's ICE credentials, fingerprint and, from
 * its a=setup, its own DTLS role (browser active: AGW passive; browser
 * passive: AGW active). The core gets its offered profile on the AGW's
 * core-side ports, the payload types and codec attributes the browser
 * chose and its direction; a=rtcp-mux only if the core offered it; the
 * profile RTP/AVPF if the core offered it, also by capability
 * negotiation (a=acfg, avpf.c), with the browser's feedback lines.
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

		if (ml->rtt && !ml->rejected) {  /* m=text (rtt.c) */
			err = sdpx_rtt_browser_answer(ml, m, (unsigned)i, ops,
						      arg);
			if (err)
				return err;
			continue;
		}

		if (ml->dcrelay) {  /* relayed as it is (dcrelay.c) */
			ml->declined = ml->rejected || !m->port ||
				!sdpx_dc_media(m);
			continue;
		}

		ml->declined = ml->rejected || !m->port || !m->rtp;
		if (ml->declined)
			continue;

		ml->core_dir = sdpx_dir(sdp, m);
		if (ml->xc) {  /* offered for transcoding (xcode.c) */
			err = sdpx_xcode_browser_answer(ml, m, (unsigned)i,
							ops, arg);
			if (err)
				return err;
			continue;
		}
		if (ml->xcoded && ops->xcode) {
			(void)ops->xcode(arg, (unsigned)i, NULL);
			ml->xcoded = false;
		}

		ml->cptc = sdpx_pt_common(ml->cptv, m, ml->bptv, ml->bptc);
		if (!ml->cptc)
			return EPROTO;
	}

	return 0;
}


/* with ops NULL only check the browser's parameters */
static int transports(struct sdpx_call *call, const struct sdpx_sdp *sdp,
		      const struct sdpx_ops *ops, void *arg)
{
	struct agw_w3_prm prm;
	size_t i, j;
	int err = 0;

	for (i = 0; !err && i < call->mlc; i++) {
		const struct sdpx_ml *ml = &call->mlv[i];

		if (ml->declined)
			continue;

		/* the first accepted m-line of each transport carries it */
		for (j = 0; j < i; j++) {
			if (!call->mlv[j].declined &&
			    call->mlv[j].tid == ml->tid)
				break;
		}
		if (j < i)
			continue;

		err = sdpx_w3_prm(&prm, sdp, &sdp->mv[i]);
		if (err)
			break;

		err = sdpx_w3_setup(sdp, &sdp->mv[i], false, NULL,
				    &prm.setup);
		if (err || !ops)
			continue;

		prm.relay = ml->dcrelay;
		err = ops->transport_remote(arg, ml->tid, &prm);
		call->tpv[ml->tid].setup = prm.setup;
	}

	return err;
}


static int write_media(struct mbuf *mb, const struct sdpx_ml *ml,
		       const struct sdpx_sdp *sdp, const struct sdpx_media *m)
{
	int err;

	if (ml->declined)
		return sdpx_write_rejected(mb, ml, NULL);

	if (ml->dcrelay)
		return sdpx_dcrelay_write_core(mb, ml, sdp, m);

	if (ml->rtt)
		return sdpx_rtt_write_core_answer(mb, ml, m);

	err  = sdpx_write_mline(mb, ml->media, sa_port(&ml->core.rtp),
				ml->acfg ? "RTP/AVPF" : ml->proto, ml->cptv,
				ml->cptc);
	err |= sdpx_write_lines(mb, m, 'i');
	err |= sdpx_write_conn(mb, &ml->core.rtp);
	err |= sdpx_write_lines(mb, m, 'b');
	if (ml->core_rtcp_mux)
		err |= mbuf_write_str(mb, "a=rtcp-mux\r\n");
	else
		err |= sdpx_write_rtcp(mb, &ml->core);
	err |= sdpx_write_attrs(mb, m, SDPX_TO_CORE, ml->cptv, ml->cptc,
				ml->avpf || ml->acfg);
	if (ml->acfg)
		err |= mbuf_printf(mb, "a=acfg:%u t=%u\r\n", ml->acfg,
				   ml->acfg_t);
	err |= sdpx_xcode_write_core_answer(mb, ml);
	err |= mbuf_printf(mb, "a=%s\r\n", sdpx_dir_name(ml->core_dir));

	return err;
}


static int write_answer(struct mbuf *mb, const struct sdpx_call *call,
			const struct sdpx_sdp *sdp)
{
	size_t i;
	int err;

	err  = sdpx_write_head(mb, sdp, call->csess, call->cver,
			       sdpx_core_addr(call), true);
	err |= sdpx_write_sess_attrs(mb, sdp, SDPX_TO_CORE);

	for (i = 0; !err && i < call->mlc; i++)
		err = write_media(mb, &call->mlv[i], sdp, &sdp->mv[i]);

	return err;
}


/**
 * Rewrite the browser's answer into the answer to the core's offer
 *
 * @param out            Output (SDP written at its position; position
 *                       and end restored on error)
 * @param call           The call (its last offer came from the core)
 * @param browser_answer The browser's SDP answer
 * @param ops            The AGW
 * @param arg            Handler argument of ops
 *
 * @return 0 if success, EBADMSG/EMSGSIZE malformed, EPROTO if the answer
 *         does not match the offer or lacks ICE credentials, fingerprint
 *         or a valid a=setup, otherwise errorcode
 */
int sdpx_answer_to_core(struct mbuf *out, struct sdpx_call *call,
			const struct pl *browser_answer,
			const struct sdpx_ops *ops, void *arg)
{
	const size_t pos = out ? out->pos : 0, end = out ? out->end : 0;
	struct sdpx_sdp *sdp = NULL;
	struct sdpx_call *next = NULL;
	int err;

	if (!out || !call || !browser_answer || !ops ||
	    !ops->transport_remote)
		return EINVAL;

	err = sdpx_parse(&sdp, browser_answer);
	if (err)
		goto out;

	err = sdpx_answer_check(call, sdp, SDPX_CORE);
	if (err)
		goto out;

	err = sdpx_call_stage(&next, call, call->mlc);
	if (err)
		goto out;

	err = accept_media(next, sdp, ops, arg);
	if (err)
		goto out;

	err = transports(next, sdp, NULL, NULL);
	if (err)
		goto out;

	err = transports(next, sdp, ops, arg);
	if (err)
		goto out;

	if (!next->answered)
		++next->cver;
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

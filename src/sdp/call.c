/**
 * @file call.c  Per-call SDP state: staging and commit, W3 transport ids,
 *               what the answers must match
 *
 * A rewrite works on a staged copy of the call (sdpx_call_stage) and
 * swaps it in only when it succeeded (sdpx_call_commit), so a rejected
 * SDP leaves the call as it was.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"
#include "sdpx.h"


static void destructor(void *arg)
{
	struct sdpx_call *call = arg;

	mem_deref(call->mlv);
	mem_deref(call->tpv);
}


/**
 * A working copy of a call (a new call if call is NULL) with mlc m-lines
 *
 * @param nextp Returned copy
 * @param call  Current state, or NULL
 * @param mlc   m-lines of the SDP being rewritten
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_call_stage(struct sdpx_call **nextp, const struct sdpx_call *call,
		    size_t mlc)
{
	struct sdpx_call *next;
	size_t i, tpc;
	int err = 0;

	next = mem_zalloc(sizeof(*next), destructor);
	if (!next)
		return ENOMEM;

	tpc = max(call ? call->tpc : 0, mlc);
	next->mlv = mem_zalloc(max(mlc, 1) * sizeof(*next->mlv), NULL);
	next->tpv = mem_zalloc(max(tpc, 1) * sizeof(*next->tpv), NULL);
	if (!next->mlv || !next->tpv) {
		err = ENOMEM;
		goto out;
	}

	if (call) {
		next->offerer  = call->offerer;
		next->answered = call->answered;
		next->csess = call->csess;
		next->cver  = call->cver;
		next->bsess = call->bsess;
		next->bver  = call->bver;
		memcpy(next->mlv, call->mlv,
		       min(mlc, call->mlc) * sizeof(*next->mlv));
		memcpy(next->tpv, call->tpv, call->tpc * sizeof(*next->tpv));
	}
	else {
		/* o= session ids: positive 62-bit numbers (RFC 3264 5) */
		next->csess = rand_u64() >> 2;
		next->bsess = rand_u64() >> 2;
	}

	for (i = call ? call->mlc : 0; i < mlc; i++)
		next->mlv[i].grp = -1;

	next->mlc = mlc;
	next->tpc = tpc;

 out:
	if (err)
		mem_deref(next);
	else
		*nextp = next;

	return err;
}


/**
 * Make a staged copy the call's state (and the call, if there was none)
 *
 * @param callp The call (*callp NULL: becomes next)
 * @param next  Staged copy, consumed
 */
void sdpx_call_commit(struct sdpx_call **callp, struct sdpx_call *next)
{
	struct sdpx_call tmp;

	if (!*callp) {
		*callp = next;
		return;
	}

	tmp = **callp;
	**callp = *next;
	*next = tmp;

	mem_deref(next);
}


/** true if m-line i is the first one using its W3 transport */
bool sdpx_tid_leader(const struct sdpx_call *call, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++) {
		const struct sdpx_ml *ml = &call->mlv[j];

		if (!ml->rejected && ml->has_tid &&
		    ml->tid == call->mlv[i].tid)
			return false;
	}

	return true;
}


static unsigned tid_pick(const struct sdpx_call *call, size_t i,
			 uint32_t claimed)
{
	const int grp = call->mlv[i].grp;
	unsigned tid;
	size_t j;

	/* the tid a member had, if no other transport took it yet */
	for (j = i; j < call->mlc; j++) {
		const struct sdpx_ml *ml = &call->mlv[j];

		if (j != i && (grp < 0 || ml->grp != grp))
			continue;

		if (!ml->rejected && ml->has_tid && ml->tid < call->tpc &&
		    !(claimed & (1u << ml->tid)))
			return ml->tid;
	}

	for (tid = 0; claimed & (1u << tid); tid++)
		;

	return tid;
}


/**
 * Give every accepted m-line a W3 transport: one per BUNDLE group (grp),
 * one per m-line outside a group. An m-line keeps its tid (so the AGW
 * keeps its port) unless another transport of this offer took it.
 *
 * @param call Staged call with rejected and grp set for every m-line
 */
void sdpx_tids_assign(struct sdpx_call *call)
{
	bool done[SDPX_MAX_MEDIA] = {false};
	uint32_t claimed = 0;
	size_t i, j;

	for (i = 0; i < call->mlc; i++) {
		if (call->mlv[i].rejected)
			call->mlv[i].has_tid = false;
	}

	for (i = 0; i < call->mlc; i++) {
		const int grp = call->mlv[i].grp;
		unsigned tid;

		if (call->mlv[i].rejected || done[i])
			continue;

		tid = tid_pick(call, i, claimed);
		claimed |= 1u << tid;

		for (j = i; j < call->mlc; j++) {
			struct sdpx_ml *ml = &call->mlv[j];

			if (ml->rejected ||
			    (j != i && (grp < 0 || ml->grp != grp)))
				continue;

			ml->tid = tid;
			ml->has_tid = true;
			done[j] = true;
		}
	}
}


/** Remember an offered m-line's media, proto and first format */
void sdpx_ml_store(struct sdpx_ml *ml, const struct sdpx_media *m)
{
	(void)pl_strcpy(&m->type, ml->media, sizeof(ml->media));
	(void)pl_strcpy(&m->proto, ml->proto, sizeof(ml->proto));
	(void)pl_strcpy(&m->fmt1, ml->fmt, sizeof(ml->fmt));
	ml->kind = sdpx_kind(m);
	ml->declined = false;
	ml->dc = false;
	ml->rtt = false;
	ml->dc_back = false;
	ml->msrp = false;
	ml->dcrelay = false;
}


/** The first W3 transport of the call (for o=), or NULL */
const struct sdpx_tp *sdpx_first_tp(const struct sdpx_call *call)
{
	size_t i;

	for (i = 0; i < call->mlc; i++) {
		if (call->mlv[i].has_tid)
			return &call->tpv[call->mlv[i].tid];
	}

	return NULL;
}


/** The AGW's first core-side address (for o= and c=), or NULL */
const struct sa *sdpx_core_addr(const struct sdpx_call *call)
{
	size_t i;

	for (i = 0; i < call->mlc; i++) {
		const struct sdpx_ml *ml = &call->mlv[i];

		if (!ml->rejected && sa_isset(&ml->core.rtp, SA_ADDR))
			return &ml->core.rtp;
	}

	return NULL;
}


/**
 * The core's RTP and RTCP addresses of an m-line: c= and port; RTCP on
 * the same port if muxed, else a=rtcp (RFC 3605), else port + 1
 */
void sdpx_core_peer(struct sa *rtp, struct sa *rtcp,
		    const struct sdpx_media *m, bool mux)
{
	*rtp = m->conn;
	sa_set_port(rtp, m->port);

	if (mux || !sdpx_rtcp_addr(m, rtcp)) {
		*rtcp = *rtp;
		if (!mux && m->port < 65535)
			sa_set_port(rtcp, m->port + 1);
	}
}


/**
 * Check that an answer may be rewritten: the other side made the last
 * offer and the answer has the offer's m-lines, media by media
 *
 * @return 0 if so, otherwise EPROTO
 */
int sdpx_answer_check(const struct sdpx_call *call,
		      const struct sdpx_sdp *sdp, enum sdpx_offerer offerer)
{
	size_t i;

	if (call->offerer != offerer || sdp->mc != call->mlc)
		return EPROTO;

	for (i = 0; i < sdp->mc; i++) {
		const struct sdpx_ml *ml = &call->mlv[i];

		/* a T.140 channel is m=text on the core's side (rtt.c),
		   an MSRP one m=message (msrp.c) */
		const bool core = offerer == SDPX_BROWSER;
		const char *want = ml->msrp ? "message" : ml->media;

		if (core && (ml->rtt || ml->dc_back))
			want = "text";
		else if (!core && ml->dc_back)
			want = "application";

		if (pl_strcasecmp(&sdp->mv[i].type, want))
			return EPROTO;
	}

	return 0;
}


/**
 * The payload types of an answer that were offered, in answer order
 *
 * @return how many
 */
size_t sdpx_pt_common(uint8_t *ptv, const struct sdpx_media *m,
		      const uint8_t *offv, size_t offc)
{
	size_t i, n = 0;

	for (i = 0; i < m->ptc; i++) {
		if (sdpx_pt_has(offv, offc, m->ptv[i]))
			ptv[n++] = m->ptv[i];
	}

	return n;
}


/**
 * Whether a SIP message carries an SDP body
 *
 * @param msg SIP message (its buffer positioned at the body, as decoded)
 *
 * @return true if Content-Type is application/sdp and the body is not
 *         empty
 */
bool sdpx_is_sdp(const struct sip_msg *msg)
{
	if (!msg || !msg->mb)
		return false;

	return msg_ctype_cmp(&msg->ctyp, "application", "sdp") &&
		mbuf_get_left(msg->mb) > 0;
}

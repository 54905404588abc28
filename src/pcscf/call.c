/**
 * @file call.c  Calls through the eP-CSCF as IMS-ALG: SDP interworking
 *               (src/sdp) driving the eIMS-AGW (src/agw), and ending a
 *               call on the browser's behalf (D-40)
 *
 * A call is one leg: a Call-ID, the flow of its browser and the browser's
 * tag in the dialog. A call between two browsers of this eP-CSCF passes
 * twice with one Call-ID (out through the core and back), as two legs,
 * each with its own media session. SDP
 * from the browser goes through sdpx_offer_to_core/sdpx_answer_to_core,
 * SDP from the core through sdpx_offer_to_browser/sdpx_answer_to_browser.
 * The dialog is followed as it passes so that, when the WebSocket closes
 * or the browser's consent expires, a BYE can go to the core at once.
 */
#include <string.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../agw/agw.h"
#include "../sdp/sdpx.h"
#include "../w2/w2.h"
#include "../cdr/cdr.h"
#include "pcscf.h"
#include "pcscf_int.h"

#define LOG_MODULE "call"

enum {
	CALL_BYE_GRACE_MS = 2000, /* DTLS closed: the browser's BYE within */
};

enum offer {
	OFFER_NONE = 0,
	OFFER_BROWSER,       /* an offer from the browser awaits an answer */
	OFFER_CORE,          /* an offer from the core awaits an answer    */
};

struct call {
	struct le le;
	struct pcscf *p;
	struct flow *fl;
	char *callid;
	char *btag;          /**< The browser's tag, once known           */
	bool from_browser;   /**< The browser sent the initial INVITE      */
	bool emergency;
	bool confirmed;
	bool op_end;         /**< Ended by us while ringing: cancelled,
				  `end` already says why                  */
	char *aor;           /**< The registered identity it is for, if
				  any (a binding's AOR)                   */
	enum offer offer;
	struct sdpx_call *sdp;
	struct agw_sess *media;
	/* the dialog as the browser's side of it, to send a BYE */
	char *target;        /**< Remote target on the core side          */
	char *route;         /**< Route set toward the core, comma-joined */
	char *from;          /**< From: the browser's end, with tag       */
	char *to;            /**< To: the core's end, with tag            */
	uint32_t cseq;       /**< Highest CSeq the browser's end used     */
	struct sip_request *bye;
	struct cdr *cdr;     /**< Its record, logged when it ends         */
	enum cdr_end end;    /**< Why it ended                            */
	struct tmr tmr_bye;  /**< DTLS closed: the browser's BYE is due   */
};


static void call_destructor(void *arg)
{
	struct call *c = arg;

	list_unlink(&c->le);
	tmr_cancel(&c->tmr_bye);
	if (c->cdr) {
		struct agw_stats st;

		agw_sess_totals(c->media, &st);
		cdr_emit(c->cdr, c->end, &st);
		mem_deref(c->cdr);
	}
	mem_deref(c->media);
	mem_deref(c->sdp);
	mem_deref(c->callid);
	mem_deref(c->aor);
	mem_deref(c->btag);
	mem_deref(c->target);
	mem_deref(c->route);
	mem_deref(c->from);
	mem_deref(c->to);
	mem_deref(c->bye);
}


/* sdpx ops: thin wrappers over the AGW session */
static int op_transport(void *arg, unsigned tid, const struct agw_w3_prm *prm,
			struct agw_w3_info *info)
{
	struct call *c = arg;

	return agw_sess_transport(c->media, tid, prm, info);
}


static int op_transport_remote(void *arg, unsigned tid,
			       const struct agw_w3_prm *prm)
{
	struct call *c = arg;

	return agw_sess_transport_remote(c->media, tid, prm);
}


static int op_stream(void *arg, unsigned idx, const struct agw_stream_prm *prm,
		     struct agw_stream_info *info)
{
	struct call *c = arg;

	return agw_sess_stream(c->media, idx, prm, info);
}


static int op_core_peer(void *arg, unsigned idx, const struct sa *rtp,
			const struct sa *rtcp)
{
	struct call *c = arg;

	return agw_sess_core_peer(c->media, idx, rtp, rtcp);
}


static int op_datachannel(void *arg, unsigned idx,
			  const struct agw_dc_prm *prm,
			  struct agw_dc_info *info)
{
	struct call *c = arg;

	return agw_sess_datachannel(c->media, idx, prm, info);
}


static int op_rtt(void *arg, unsigned idx, const struct agw_rtt_prm *prm,
		  struct agw_stream_info *info)
{
	struct call *c = arg;

	return agw_sess_rtt(c->media, idx, prm, info);
}


static int op_msrp(void *arg, unsigned idx, const struct agw_msrp_prm *prm,
		   struct agw_msrp_info *info)
{
	struct call *c = arg;

	return agw_sess_msrp(c->media, idx, prm, info);
}


static int op_msrp_peer(void *arg, unsigned idx,
			const struct agw_msrp_peer *peer)
{
	struct call *c = arg;

	return agw_sess_msrp_peer(c->media, idx, peer);
}


#ifdef IMSEDGE_TRANSCODE
static int op_xcode(void *arg, unsigned idx, const struct agw_xcode_prm *prm)
{
	struct call *c = arg;

	return agw_sess_xcode(c->media, idx, prm);
}
#endif


static const struct sdpx_ops ops = {
	op_transport, op_transport_remote, op_stream, op_core_peer, NULL,
	NULL
};

/* with data channels (config datachannel yes) */
static const struct sdpx_ops ops_dc = {
	op_transport, op_transport_remote, op_stream, op_core_peer,
	op_datachannel, NULL, op_rtt, op_msrp, op_msrp_peer
};

#ifdef IMSEDGE_TRANSCODE
/* the same with transcoding: offers while the AGW has it on and room
   for one more (an answer may take up what its offer offered) */
static const struct sdpx_ops ops_x = {
	op_transport, op_transport_remote, op_stream, op_core_peer, NULL,
	op_xcode
};

static const struct sdpx_ops ops_dc_x = {
	op_transport, op_transport_remote, op_stream, op_core_peer,
	op_datachannel, op_xcode, op_rtt, op_msrp, op_msrp_peer
};
#endif


static const struct sdpx_ops *call_ops(const struct call *c, bool offer)
{
	const bool dc = agw_dc_enabled(c->p->agw);

#ifdef IMSEDGE_TRANSCODE
	if (!offer || agw_xcode_enabled(c->p->agw))
		return dc ? &ops_dc_x : &ops_x;
#else
	(void)offer;
#endif
	return dc ? &ops_dc : &ops;
}


/* Which leg: a Call-ID, on a flow (NULL: any), with the browser's tag
   (unset: any), in a role (-1: either, 1: the browser called, 0: it
   was called) */
struct leg {
	const struct pl *callid;
	const struct flow *fl;
	const struct pl *btag;
	int from_browser;
};


static bool leg_cmp(struct le *le, void *arg)
{
	const struct call *c = le->data;
	const struct leg *k = arg;

	if (pl_strcmp(k->callid, c->callid))
		return false;

	if (k->fl && c->fl != k->fl)
		return false;

	if (k->from_browser >= 0 && c->from_browser != (k->from_browser > 0))
		return false;

	return !pl_isset(k->btag) || !c->btag || !pl_strcmp(k->btag, c->btag);
}


static struct call *leg_find(struct pcscf *p, const struct pl *callid,
			     const struct flow *fl, const struct pl *btag,
			     int from_browser)
{
	struct leg k = {callid, fl, btag, from_browser};

	return list_ledata(list_apply(&p->calls, true, leg_cmp, &k));
}


/**
 * The call leg a request belongs to
 *
 * @param p            eP-CSCF
 * @param fl           Flow of the leg's browser, NULL for any
 * @param msg          Request
 * @param from_browser The browser sent it (else the core did)
 *
 * @return Call, or NULL
 */
struct call *call_find(struct pcscf *p, const struct flow *fl,
		       const struct sip_msg *msg, bool from_browser)
{
	/* an initial request: the leg it started */
	if (!pl_isset(&msg->to.tag))
		return leg_find(p, &msg->callid, fl, NULL, from_browser);

	/* in a dialog: the browser's own tag is From when it sends */
	return leg_find(p, &msg->callid, fl, from_browser ? &msg->from.tag :
			&msg->to.tag, -1);
}


/* The browser closed DTLS and sent no BYE in time */
static void bye_due(void *arg)
{
	struct call *c = arg;

	c->end = CDR_END_DTLS_CLOSED;
	call_release(c, "DTLS closed by the browser");
}


static void media_closed(enum agw_close_reason reason, void *arg)
{
	struct call *c = arg;

	/* a browser hanging up closes DTLS just before its BYE: wait for
	   the BYE rather than send one of our own (a second BYE) */
	if (reason == AGW_CLOSE_DTLS_CLOSED) {
		log_debug("%s: the browser closed DTLS; its BYE is due",
			  c->callid);
		tmr_start(&c->tmr_bye, CALL_BYE_GRACE_MS, bye_due, c);
		return;
	}

	log_info("%s: media ended (%s): releasing the call", c->callid,
		 reason == AGW_CLOSE_CONSENT ? "consent expired" :
		 reason == AGW_CLOSE_DTLS ? "DTLS failed" : "error");

	c->end = reason == AGW_CLOSE_CONSENT ? CDR_END_CONSENT_LOST :
		reason == AGW_CLOSE_DTLS ? CDR_END_DTLS_FAILED :
		CDR_END_MEDIA_ERROR;
	call_release(c, "media ended");
}


/* The identity a call is for: the caller's (From) when the browser
   calls, the called one (To) when the core does */
static int call_aor(struct call *c, const struct sip_msg *msg)
{
	const struct binding *b = flow_identity(c->fl, c->from_browser ?
						&msg->from.auri :
						&msg->to.auri);

	return b ? str_dup(&c->aor, b->aor) : 0;
}


static int call_alloc(struct call **cp, struct pcscf *p, struct flow *fl,
		      const struct sip_msg *msg, bool from_browser,
		      bool emergency)
{
	struct call *c;
	int err;

	if (!p->agw)
		return ENOSYS;

	c = mem_zalloc(sizeof(*c), call_destructor);
	if (!c)
		return ENOMEM;

	c->p = p;
	c->fl = fl;
	c->from_browser = from_browser;
	c->emergency = emergency;
	c->end = CDR_END_SHUTDOWN;    /* unless something else ends it */
	tmr_init(&c->tmr_bye);

	err = cdr_alloc(&c->cdr, msg, from_browser, emergency);
	if (!err)
		err = pl_strdup(&c->callid, &msg->callid);
	if (!err && from_browser)
		err = pl_strdup(&c->btag, &msg->from.tag);
	if (!err)
		err = call_aor(c, msg);
	if (!err)
		err = agw_sess_alloc(&c->media, p->agw, emergency,
				     media_closed, c);
	if (err) {
		c->cdr = mem_deref(c->cdr);
		mem_deref(c);
		return err;
	}

	agw_sess_label(c->media, c->callid);
	list_append(&p->calls, &c->le, c);
	*cp = c;

	return 0;
}


static bool has_sdp(const struct sip_msg *msg)
{
	return mbuf_get_left(msg->mb) &&
		!pl_strcasecmp(&msg->ctyp.type, "application") &&
		!pl_strcasecmp(&msg->ctyp.subtype, "sdp");
}


static void body_of(struct pl *pl, const struct sip_msg *msg)
{
	pl->p = (const char *)mbuf_buf(msg->mb);
	pl->l = mbuf_get_left(msg->mb);
}


static int keep_str(char **dst, const struct pl *pl)
{
	*dst = mem_deref(*dst);

	return pl_strdup(dst, pl);
}


static int contact_target(char **dst, const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct pl uri;

	if (!h || pc_hdr_value_uri(&uri, &h->val))
		return EBADMSG;

	return keep_str(dst, &uri);
}


struct rr {
	struct pcscf *p;
	struct mbuf *mb;
	bool reverse;
};


static bool rr_collect(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct rr *r = arg;
	uint64_t id;
	(void)msg;

	if (pc_route_is_ours(r->p, &hdr->val, &id))
		return false;

	if (!r->reverse) {
		(void)mbuf_printf(r->mb, "%s%r", r->mb->end ? ", " : "",
				  &hdr->val);
		return false;
	}

	/* prepend: the UAC's route set is the Record-Route reversed */
	{
		struct mbuf *tmp = mbuf_alloc(r->mb->end + hdr->val.l + 2);

		if (!tmp)
			return true;

		(void)mbuf_printf(tmp, "%r%s%b", &hdr->val,
				  r->mb->end ? ", " : "", r->mb->buf,
				  r->mb->end);
		mbuf_reset(r->mb);
		(void)mbuf_write_mem(r->mb, tmp->buf, tmp->end);
		mem_deref(tmp);
	}

	return false;
}


static int route_set(struct call *c, const struct sip_msg *msg,
		     bool reverse)
{
	struct rr r = {c->p, mbuf_alloc(256), reverse};
	int err = 0;

	if (!r.mb)
		return ENOMEM;

	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_RECORD_ROUTE, rr_collect,
				&r);

	c->route = mem_deref(c->route);
	if (r.mb->end)
		err = re_sdprintf(&c->route, "%b", r.mb->buf, r.mb->end);

	mem_deref(r.mb);
	return err;
}


/* The dialog from the core's 2xx to the browser's INVITE */
static int dialog_uac(struct call *c, const struct sip_msg *req,
		      const struct sip_msg *rsp)
{
	int err;

	err  = contact_target(&c->target, rsp);
	err |= route_set(c, rsp, true);
	err |= keep_str(&c->from, &sip_msg_hdr(req, SIP_HDR_FROM)->val);
	err |= keep_str(&c->to, &sip_msg_hdr(rsp, SIP_HDR_TO)->val);
	c->cseq = max(c->cseq, req->cseq.num);

	return err;
}


/* The dialog from the core's INVITE and the browser's 2xx */
static int dialog_uas(struct call *c, const struct sip_msg *req,
		      const struct sip_msg *rsp)
{
	int err;

	err  = contact_target(&c->target, req);
	err |= route_set(c, req, false);
	err |= keep_str(&c->from, &sip_msg_hdr(rsp, SIP_HDR_TO)->val);
	err |= keep_str(&c->to, &sip_msg_hdr(req, SIP_HDR_FROM)->val);

	return err;
}


struct byetx {
	struct sip_request *req;
	char *callid;
};


static void byetx_destructor(void *arg)
{
	struct byetx *b = arg;

	mem_deref(b->req);
	mem_deref(b->callid);
}


static void bye_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct byetx *b = arg;

	if (msg && msg->scode < 200)
		return;

	if (err)
		log_info("%s: BYE to the core failed: %m", b->callid, err);
	else
		log_info("%s: BYE to the core answered %u", b->callid,
			 msg ? msg->scode : 0);
	mem_deref(b);
}


/* End a confirmed call toward the core on the browser's behalf */
static int send_bye(struct call *c, const char *why)
{
	struct byetx *b;
	struct mbuf *mb;
	struct pl ruri, hop = PL_INIT;
	int err;

	if (!c->target || !c->from || !c->to)
		return EINVAL;

	b = mem_zalloc(sizeof(*b), byetx_destructor);
	mb = mbuf_alloc(512);
	if (!b || !mb) {
		err = ENOMEM;
		goto out;
	}

	err = str_dup(&b->callid, c->callid);
	err |= mbuf_printf(mb, "Max-Forwards: 70\r\n");
	if (c->route) {
		err |= mbuf_printf(mb, "Route: %s\r\n", c->route);
		pl_set_str(&hop, c->route);
		if (pl_strchr(&hop, ','))
			hop.l = pl_strchr(&hop, ',') - hop.p;
	}
	err |= mbuf_printf(mb, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
			   "CSeq: %u BYE\r\n"
			   "Reason: SIP;cause=480;text=\"%s\"\r\n"
			   "Content-Length: 0\r\n\r\n",
			   c->from, c->to, c->callid, c->cseq + 1, why);
	if (err)
		goto out;

	pl_set_str(&ruri, c->target);
	err = pc_send_core(c->p, &(struct pl)PL("BYE"), &ruri, mb,
			   pl_isset(&hop) ? &hop : &ruri, &b->req, bye_resp,
			   b);

 out:
	if (err)
		mem_deref(b);
	mem_deref(mb);
	return err;
}


/**
 * Release a call: its media at once, and a BYE to the core if the call
 * was answered and has not been ended by a BYE already
 *
 * @param c   Call
 * @param why Reason text
 */
void call_release(struct call *c, const char *why)
{
	if (!c)
		return;

	if (c->confirmed) {
		int err = send_bye(c, why);

		if (err)
			log_info("%s: released (%s), BYE to the core failed: "
				 "%m", c->callid, why, err);
		else
			log_info("%s: released (%s), BYE to the core",
				 c->callid, why);
	}
	else {
		log_info("%s: released (%s)", c->callid, why);
	}

	mem_deref(c);
}


/**
 * A flow has gone: end every call on it (D-40)
 *
 * @param p  eP-CSCF
 * @param fl Flow
 */
void call_flow_gone(struct pcscf *p, struct flow *fl)
{
	struct le *le = p->calls.head;

	while (le) {
		struct call *c = le->data;

		le = le->next;
		if (c->fl == fl) {
			c->end = CDR_END_WS_CLOSED;
			call_release(c, "WebSocket closed");
		}
	}
}


static int new_body(struct mbuf **bodyp)
{
	*bodyp = mbuf_alloc(1024);

	return *bodyp ? 0 : ENOMEM;
}


static uint16_t sdp_status(int err)
{
	switch (err) {

	case 0:         return 0;
	case EOVERFLOW: return 503;
	case ENOSPC:    return 503;
	case ENOMEM:    return 500;
	default:        return 488;
	}
}


static bool is_met(const struct sip_msg *msg, const char *met)
{
	return 0 == pl_strcmp(msg->req ? &msg->met : &msg->cseq.met, met);
}


/* SDP in a message from the browser toward the core */
static int browser_sdp(struct call *c, const struct sip_msg *msg,
		       bool offer_ok, struct mbuf **bodyp)
{
	struct pl sdp;
	int err;

	body_of(&sdp, msg);

	err = new_body(bodyp);
	if (err)
		return err;

	if (c->offer == OFFER_CORE) {
		err = sdpx_answer_to_core(*bodyp, c->sdp, &sdp,
					  call_ops(c, false), c);
		if (!err)
			c->offer = OFFER_NONE;
	}
	else if (offer_ok) {
		err = sdpx_offer_to_core(*bodyp, &c->sdp, &sdp,
					 call_ops(c, true), c);
		if (!err)
			c->offer = OFFER_BROWSER;
	}
	else {
		err = EPROTO;
	}

	if (err)
		*bodyp = mem_deref(*bodyp);

	return err;
}


/* SDP in a message from the core toward the browser */
static int core_sdp(struct call *c, const struct sip_msg *msg, bool offer_ok,
		    struct mbuf **bodyp)
{
	struct pl sdp;
	int err;

	body_of(&sdp, msg);

	err = new_body(bodyp);
	if (err)
		return err;

	if (c->offer == OFFER_BROWSER || (!offer_ok && c->sdp)) {
		/* an answer, or the same answer again (183, then 200) */
		err = sdpx_answer_to_browser(*bodyp, c->sdp, &sdp,
					     call_ops(c, false), c);
		if (!err)
			c->offer = OFFER_NONE;
	}
	else if (offer_ok) {
		err = sdpx_offer_to_browser(*bodyp, &c->sdp, &sdp,
					    call_ops(c, true), c);
		if (!err)
			c->offer = OFFER_CORE;
	}
	else {
		err = EPROTO;
	}

	if (err)
		*bodyp = mem_deref(*bodyp);

	return err;
}


/* Requests that may carry an offer (RFC 3261, 3311, 3262) */
static bool may_offer(const struct sip_msg *req)
{
	return is_met(req, "INVITE") || is_met(req, "UPDATE") ||
		is_met(req, "PRACK");
}


/* The call of a request; a new one for an initial INVITE. *cp stays
   NULL for requests outside calls */
static uint16_t call_get(struct call **cp, struct pcscf *p, struct flow *fl,
			 const struct sip_msg *msg, bool from_browser,
			 bool emergency)
{
	int err;

	*cp = call_find(p, fl, msg, from_browser);
	if (*cp)
		return 0;

	if (!is_met(msg, "INVITE") || pl_isset(&msg->to.tag))
		return 0;   /* not a call: MESSAGE, SUBSCRIBE, ... */

	err = call_alloc(cp, p, fl, msg, from_browser, emergency);

	return err == ENOSYS ? 488 : sdp_status(err);
}


/* After an SDP rewrite of a request: a failed initial offer ends the
   call before it starts */
static uint16_t sdp_done(struct call *c, const struct sip_msg *msg, int err,
			 const char *from)
{
	if (err) {
		log_info("%s: SDP from the %s not usable: %m", c->callid, from,
			 err);
		if (!pl_isset(&msg->to.tag))
			mem_deref(c);
	}

	return sdp_status(err);
}


/**
 * A request from the browser, before it goes to the core: a new call,
 * its SDP rewritten, or its end
 *
 * @param p         eP-CSCF
 * @param fl        Flow
 * @param msg       Request
 * @param emergency An emergency call (never refused for the call limit)
 * @param bodyp     Set to the body to send instead, if any
 *
 * @return 0, or a status code to answer the browser with
 */
uint16_t call_browser_request(struct pcscf *p, struct flow *fl,
			      const struct sip_msg *msg, bool emergency,
			      struct mbuf **bodyp)
{
	struct call *c;
	uint16_t scode;
	int err;

	*bodyp = NULL;

	scode = call_get(&c, p, fl, msg, true, emergency);
	if (scode || !c)
		return scode;

	if (emergency)      /* only ever an initial INVITE: a new call */
		log_warn("%s: emergency call to %r", c->callid, &msg->ruri);

	c->cseq = max(c->cseq, msg->cseq.num);

	if (is_met(msg, "BYE")) {
		c->end = CDR_END_HANGUP_BROWSER;
		mem_deref(c);      /* the browser ends it: media goes now */
		return 0;
	}

	if (!has_sdp(msg))
		return 0;

	err = browser_sdp(c, msg, may_offer(msg), bodyp);

	return sdp_done(c, msg, err, "browser");
}


/**
 * A response from the core to a request of the browser, before it is
 * relayed: the answer (or a late offer) rewritten, early media, the
 * dialog remembered, or the end of a call that failed
 *
 * @param p     eP-CSCF
 * @param fl    Flow of the browser, NULL if it has gone
 * @param req   The browser's request
 * @param rsp   The core's response
 * @param bodyp Set to the body to send instead, if any
 */
void call_core_response(struct pcscf *p, const struct flow *fl,
			const struct sip_msg *req, const struct sip_msg *rsp,
			struct mbuf **bodyp)
{
	struct call *c = call_find(p, fl, req, true);
	const struct sip_hdr *pem;
	int err;

	*bodyp = NULL;

	if (!c || rsp->scode < 101)
		return;

	if (is_met(req, "INVITE") && rsp->scode >= 300) {
		if (!pl_isset(&req->to.tag)) {
			cdr_status(c->cdr, rsp->scode);
			if (!c->op_end)
				c->end = cdr_end_of(rsp->scode);
			call_release(c, cdr_end_name(c->end));
		}
		return;
	}

	if (has_sdp(rsp) && rsp->scode < 300) {
		err = core_sdp(c, rsp, is_met(req, "INVITE") && !has_sdp(req),
			       bodyp);
		if (err)
			log_info("%s: SDP from the core not usable: %m",
				 c->callid, err);
	}

	pem = sip_msg_xhdr(rsp, "P-Early-Media");
	if (pem && (re_regex(pem->val.p, pem->val.l, "sendrecv") == 0 ||
		    re_regex(pem->val.p, pem->val.l, "sendonly") == 0))
		agw_sess_early_media(c->media, true);

	if (is_met(req, "INVITE") && rsp->scode < 300 && rsp->scode >= 200) {
		cdr_answered(c->cdr);
		cdr_sdp(c->cdr, has_sdp(rsp) ? rsp : req);
		agw_sess_early_media(c->media, true);
		c->confirmed = true;
		(void)dialog_uac(c, req, rsp);
	}
}


/**
 * A request from the core, before it goes to the browser
 *
 * @param p     eP-CSCF
 * @param fl    Flow of the browser
 * @param msg   Request
 * @param bodyp Set to the body to send instead, if any
 *
 * @return 0, or a status code to answer the core with
 */
uint16_t call_core_request(struct pcscf *p, struct flow *fl,
			   const struct sip_msg *msg, struct mbuf **bodyp)
{
	struct call *c;
	uint16_t scode;
	int err;

	*bodyp = NULL;

	scode = call_get(&c, p, fl, msg, false, false);
	if (scode || !c)
		return scode;

	if (is_met(msg, "BYE")) {
		c->end = CDR_END_HANGUP_CORE;
		mem_deref(c);     /* the core ends it */
		return 0;
	}

	if (!has_sdp(msg))
		return 0;

	err = core_sdp(c, msg, may_offer(msg), bodyp);

	return sdp_done(c, msg, err, "core");
}


/**
 * A response from the browser to a request of the core, before it is
 * relayed
 *
 * @param p     eP-CSCF
 * @param fl    Flow of the browser
 * @param req   The core's request
 * @param rsp   The browser's response
 * @param bodyp Set to the body to send instead, if any
 */
void call_browser_response(struct pcscf *p, const struct flow *fl,
			   const struct sip_msg *req,
			   const struct sip_msg *rsp, struct mbuf **bodyp)
{
	struct call *c = call_find(p, fl, req, false);
	int err;

	*bodyp = NULL;

	if (!c || rsp->scode < 101)
		return;

	/* the browser's tag, from its first answer that has one */
	if (!c->btag && pl_isset(&rsp->to.tag) &&
	    pl_strdup(&c->btag, &rsp->to.tag))
		return;

	if (is_met(req, "INVITE") && rsp->scode >= 300) {
		if (!pl_isset(&req->to.tag)) {
			/* 487: the caller (the core) cancelled, not a decline */
			cdr_status(c->cdr, rsp->scode);
			if (!c->op_end)
				c->end = cdr_end_of(rsp->scode);
			call_release(c, cdr_end_name(c->end));
		}
		return;
	}

	if (has_sdp(rsp) && rsp->scode < 300) {
		err = browser_sdp(c, rsp, is_met(req, "INVITE") &&
				  !has_sdp(req), bodyp);
		if (err)
			log_info("%s: SDP from the browser not usable: %m",
				 c->callid, err);
	}

	if (is_met(req, "INVITE") && rsp->scode >= 200 && rsp->scode < 300) {
		cdr_answered(c->cdr);
		cdr_sdp(c->cdr, has_sdp(rsp) ? rsp : req);
		agw_sess_early_media(c->media, true);
		c->confirmed = true;
		(void)dialog_uas(c, req, rsp);
	}
}


/**
 * Tell whether a request is an emergency call (D-39): a SOS service URN
 * or a configured emergency number as the Request-URI's user
 *
 * @param p   eP-CSCF
 * @param msg Request
 *
 * @return true if emergency
 */
bool call_is_emergency(const struct pcscf *p, const struct sip_msg *msg)
{
	struct le *le;
	struct pl user;

	if (!is_met(msg, "INVITE") || pl_isset(&msg->to.tag))
		return false;

	if (pc_prefix(&msg->ruri, "urn:service:sos"))
		return true;

	if (pc_prefix(&msg->ruri, "tel:")) {
		user.p = msg->ruri.p + 4;
		user.l = msg->ruri.l - 4;
		if (pl_strchr(&user, ';'))
			user.l = pl_strchr(&user, ';') - user.p;
	}
	else {
		user = msg->uri.user;
		if (pl_strchr(&user, ';'))
			user.l = pl_strchr(&user, ';') - user.p;
	}

	for (le = p->conf->emergency_numbers.head; le; le = le->next) {
		const struct conf_str *s = le->data;

		if (!pl_strcmp(&user, s->val))
			return true;
	}

	return false;
}


/**
 * Print Content-Length and a replacement body
 *
 * @param mb   Buffer
 * @param body Body (from pos 0 to end)
 *
 * @return 0 if success, otherwise errorcode
 */
int call_print_body(struct mbuf *mb, const struct mbuf *body)
{
	return mbuf_printf(mb, "Content-Length: %zu\r\n\r\n%b", body->end,
			   body->buf, body->end);
}


/**
 * Print the call legs for imsedge -s: Call-ID, direction, parties,
 * state, duration, codec, packets each way (cdr.c prints each)
 *
 * @param p    eP-CSCF
 * @param mb   Output
 * @param json JSON objects separated by commas, else a line each
 *
 * @return 0 if success, otherwise errorcode
 */
int call_status(const struct pcscf *p, struct mbuf *mb, bool json)
{
	struct le *le;
	int err = 0;

	for (le = p->calls.head; le && !err; le = le->next) {
		const struct call *c = le->data;
		struct agw_stats st;

		agw_sess_totals(c->media, &st);
		err = cdr_status_print(mb, c->cdr, c->confirmed ?
				       "connected" : "setup", &st, json,
				       le == p->calls.head);
	}

	return err;
}


/* End a call on our own account: a ringing one is cancelled (its final
   response then releases it), an answered one released with a BYE to
   the core */
static void call_end(struct call *c, enum cdr_end end, const char *why)
{
	struct pl cid;

	c->end = end;
	pl_set_str(&cid, c->callid);

	if (!c->confirmed && !c->op_end &&
	    (c->from_browser ? orig_cancel_invite(c->p, &cid) :
	     term_cancel_invite(c->p, &cid))) {
		c->op_end = true;
		log_info("%s: cancelled (%s, ringing)", c->callid, why);
		return;
	}

	call_release(c, why);
}


/**
 * End a call leg on the operator's word (imsedge -s end CALLID): its
 * media at once, a BYE to the core if it was answered
 *
 * @param p      eP-CSCF
 * @param callid Call-ID
 *
 * @return 0 if success, ENOENT if there is no such call
 */
int call_end_by_callid(struct pcscf *p, const struct pl *callid)
{
	struct call *c = leg_find(p, callid, NULL, NULL, -1);

	if (!c)
		return ENOENT;

	call_end(c, CDR_END_OPERATOR, "ended by the operator");
	return 0;
}


/**
 * An identity of a flow is no longer registered (the network ended it,
 * or its token was revoked): end its calls. Calls with no identity of
 * their own end when the flow has none left; emergency calls go on.
 *
 * @param p   eP-CSCF
 * @param fl  Flow
 * @param aor The identity (a binding's AOR)
 * @param why For the log
 */
void call_identity_gone(struct pcscf *p, const struct flow *fl,
			const char *aor, const char *why)
{
	struct le *le = p->calls.head;

	while (le) {
		struct call *c = le->data;

		le = le->next;
		if (c->fl != fl || c->emergency)
			continue;

		if (c->aor ? !str_casecmp(c->aor, aor) : !fl->regl.head)
			call_end(c, CDR_END_DEREGISTERED, why);
	}
}

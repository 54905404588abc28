/**
 * @file term.c  Requests from the core toward browsers (24.229 5.2.6.4,
 *               5.2.8), and the browsers' responses
 *
 * The top Route names this eP-CSCF: the Path it put in the REGISTER,
 * or its Record-Route; the flow token in it names the WebSocket the
 * request goes out on (D-22). A flow whose WebSocket has gone gets
 * 430 Flow Failed (RFC 5626; D-21); a transaction pending on it when it
 * goes gets 480.
 */
#include <string.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../core/stats.h"
#include "../sip/sipx.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"

#define LOG_MODULE "pcscf"

enum { NON_INVITE_WAIT = 32000 };

struct ttx {
	struct le he;
	struct pcscf *p;
	struct flow *fl;
	struct sip_msg *msg;      /**< The request from the core         */
	struct sip_strans *st;
	struct tmr tmr;
	char branch[24];
};


static void ttx_destructor(void *arg)
{
	struct ttx *ttx = arg;

	tmr_cancel(&ttx->tmr);
	hash_unlink(&ttx->he);

	/* never leave the core waiting */
	if (ttx->st)
		(void)sip_treply(&ttx->st, ttx->p->sip, ttx->msg, 500,
				 "Server Internal Error");

	mem_deref(ttx->st);
	mem_deref(ttx->msg);
}


static void ttx_finish(struct ttx *ttx, uint16_t scode, const char *reason)
{
	if (ttx->st)
		(void)sip_treply(&ttx->st, ttx->p->sip, ttx->msg, scode,
				 reason);
	mem_deref(ttx);
}


static void ttx_timeout(void *arg)
{
	struct ttx *ttx = arg;

	log_info("%s: no final answer from the browser to %r", ttx->fl->token,
		 &ttx->msg->met);
	ttx_finish(ttx, 408, "Request Timeout");
}


static int send_cancel(struct ttx *ttx)
{
	const struct sip_msg *m = ttx->msg;
	struct mbuf *mb = mbuf_alloc(512);
	int err;

	if (!mb)
		return ENOMEM;

	err = mbuf_printf(mb, "CANCEL %r SIP/2.0\r\n"
			  "Via: SIP/2.0/WSS %J;branch=%s\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: %r\r\n"
			  "To: %r\r\n"
			  "Call-ID: %r\r\n"
			  "CSeq: %u CANCEL\r\n"
			  "Content-Length: 0\r\n\r\n",
			  &m->ruri, &ttx->p->w2_addr, ttx->branch,
			  &sip_msg_hdr(m, SIP_HDR_FROM)->val,
			  &sip_msg_hdr(m, SIP_HDR_TO)->val,
			  &m->callid, m->cseq.num);
	if (!err && ttx->fl->conn) {
		mb->pos = 0;
		err = w2_conn_send(ttx->fl->conn, mb);
	}

	mem_deref(mb);
	return err;
}


/* The core cancelled a pending INVITE: libre has answered the CANCEL;
   pass it on, the browser's 487 will follow */
static void cancel_handler(void *arg)
{
	struct ttx *ttx = arg;

	if (send_cancel(ttx))
		ttx_finish(ttx, 487, "Request Terminated");
}


struct routes {
	struct pcscf *p;
	struct mbuf *mb;      /**< NULL: only find our entries          */
	uint64_t id;          /**< Flow named by our entries            */
	unsigned ours;        /**< Our entries popped from the top      */
	bool leading;
};


static bool route_scan(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct routes *r = arg;
	uint64_t id;
	(void)msg;

	if (r->leading && pc_route_is_ours(r->p, &hdr->val, &id)) {
		++r->ours;
		if (id)
			r->id = id;
		return false;
	}

	r->leading = false;
	if (r->mb)
		(void)mbuf_printf(r->mb, "Route: %r\r\n", &hdr->val);

	return false;
}


static bool skip_fwd(const struct sip_hdr *hdr, void *arg)
{
	(void)arg;

	return hdr->id == SIP_HDR_ROUTE || hdr->id == SIP_HDR_MAX_FORWARDS;
}


/* The request as it goes to the browser, with our Via on top */
static int print_request(struct mbuf *mb, struct pcscf *p, struct flow *fl,
			 const struct sip_msg *msg, const char *branch,
			 const struct mbuf *body)
{
	struct routes r = {p, mb, 0, 0, true};
	uint32_t fwd = 0;
	int err;

	(void)trust_maxfwd(msg, &fwd);   /* checked in term_request() */

	err = mbuf_printf(mb, "%r %r SIP/2.0\r\n"
			  "Via: SIP/2.0/WSS %J;branch=%s\r\n",
			  &msg->met, &msg->ruri, &p->w2_addr, branch);

	if (pc_dialog_forming(&msg->met) && !pl_isset(&msg->to.tag))
		err |= mbuf_printf(mb, "Record-Route: <sip:%s@%J;lr;ob>\r\n"
				   "Record-Route: <sip:%J;lr>\r\n",
				   fl->token, &p->mw_addr, &p->mw_addr);

	err |= mbuf_printf(mb, "Max-Forwards: %u\r\n", fwd);
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_ROUTE, route_scan, &r);
	err |= pc_print_hdrs(mb, msg, skip_fwd, NULL);
	err |= body ? call_print_body(mb, body) : pc_print_body(mb, msg);

	return err;
}


static int send_request(struct pcscf *p, struct flow *fl,
			const struct sip_msg *msg, char *branch, size_t sz,
			const struct mbuf *body)
{
	struct mbuf *mb = mbuf_alloc(1024 + mbuf_get_left(msg->mb) +
				     (body ? body->end : 0));
	int err;

	if (!mb)
		return ENOMEM;

	(void)re_snprintf(branch, sz, "z9hG4bK%016llx", rand_u64());

	err = print_request(mb, p, fl, msg, branch, body);
	if (!err) {
		mb->pos = 0;
		err = w2_conn_send(fl->conn, mb);
	}

	mem_deref(mb);
	return err;
}


static bool local_request(struct pcscf *p, const struct sip_msg *msg)
{
	if (!pl_strcmp(&msg->met, "OPTIONS")) {
		(void)sip_reply(p->sip, msg, 200, "OK");
		return true;
	}

	if (!pl_strcmp(&msg->met, "ACK"))
		return true;

	/* our own reg event subscriptions' (D-58): libre's sipevent */
	if (p->evsock && regevent_notify(msg))
		return false;

	log_info("%J: %r %r on Mw does not route through a flow (Route: %r)",
		 &msg->src, &msg->met, &msg->ruri,
		 sip_msg_hdr(msg, SIP_HDR_ROUTE) ?
		 &sip_msg_hdr(msg, SIP_HDR_ROUTE)->val : &pl_null);
	(void)sip_reply(p->sip, msg, 404, "Not Found");

	return true;
}


static int ttx_start(struct pcscf *p, struct flow *fl,
		     const struct sip_msg *msg)
{
	struct ttx *ttx = mem_zalloc(sizeof(*ttx), ttx_destructor);
	bool invite = !pl_strcmp(&msg->met, "INVITE");
	struct mbuf *body = NULL;
	uint16_t scode;
	int err;

	if (!ttx)
		return ENOMEM;

	ttx->p   = p;
	ttx->fl  = fl;
	ttx->msg = mem_ref((void *)msg);

	err = sip_strans_alloc(&ttx->st, p->sip, msg, cancel_handler, ttx);
	if (err)
		goto out;

	if (invite)
		(void)sip_treply(&ttx->st, p->sip, msg, 100, "Trying");

	scode = call_core_request(p, fl, msg, &body);
	if (scode == 488) {
		(void)sip_treplyf(&ttx->st, NULL, p->sip, msg, false, 488,
				  "Not Acceptable Here",
				  "Warning: 305 imsedge \"Incompatible media "
				  "format\"\r\nContent-Length: 0\r\n\r\n");
		mem_deref(ttx);
		return EPROTO;
	}
	else if (scode) {
		ttx_finish(ttx, scode, scode == 503 ? "Service Unavailable" :
			   "Server Internal Error");
		return EPROTO;
	}

	err = send_request(p, fl, msg, ttx->branch, sizeof(ttx->branch),
			   body);
	mem_deref(body);
	if (err)
		goto out;

	hash_append(p->ttx, hash_joaat_str(ttx->branch), &ttx->he, ttx);
	tmr_start(&ttx->tmr, invite ? PC_TIMER_C : NON_INVITE_WAIT,
		  ttx_timeout, ttx);

 out:
	if (err)
		ttx_finish(ttx, 480, "Temporarily Unavailable");

	return err;
}


/**
 * Handle a request arriving on Mw (a libre SIP listener)
 *
 * @param msg Request
 * @param arg eP-CSCF
 *
 * @return true (handled)
 */
bool term_request(const struct sip_msg *msg, void *arg)
{
	struct pcscf *p = arg;
	struct routes r = {p, NULL, 0, 0, true};
	struct w2_conn *conn;
	struct flow *fl;
	char branch[24];
	const char *why;
	uint32_t fwd;
	int err;

	stats_sip_request(false, &msg->met);

	/* RFC 4475: what does not validate is a 400 (when it can be
	   answered at all) with a log line, as on W2 */
	if (sipx_validate(msg, &why)) {
		log_info("%J: bad SIP request on Mw (%s): %s", &msg->src,
			 sip_transp_name(msg->tp), why);
		if (pl_strcmp(&msg->met, "ACK") && sipx_answerable(msg))
			(void)sip_reply(p->sip, msg, 400, why);
		return true;
	}

	/* what we relay, OPTIONS to a user included, needs a hop left; no
	   arithmetic on header values can wrap (D-55) */
	err = trust_maxfwd(msg, &fwd);
	if (err && (pl_strcmp(&msg->met, "OPTIONS") ||
		    pl_isset(&msg->uri.user))) {
		log_info("%J: %r: %s", &msg->src, &msg->met, err == ELOOP ?
			 "Max-Forwards reached 0" : "bad Max-Forwards");
		if (pl_strcmp(&msg->met, "ACK"))
			(void)sip_reply(p->sip, msg, err == ELOOP ? 483 : 400,
					err == ELOOP ? "Too Many Hops" :
					"Bad Max-Forwards");
		return true;
	}

	if (!pl_strcmp(&msg->met, "REGISTER")) {
		(void)sip_reply(p->sip, msg, 403, "REGISTER Not Accepted "
				"On Mw");
		return true;
	}

	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_ROUTE, route_scan, &r);
	if (!r.ours || !r.id)
		return local_request(p, msg);

	conn = w2_conn_find(p->w2, r.id);
	if (!conn) {
		log_info("%J: %r for a flow that has gone: 430", &msg->src,
			 &msg->met);
		if (pl_strcmp(&msg->met, "ACK"))
			(void)sip_reply(p->sip, msg, 430, "Flow Failed");
		return true;
	}

	fl = flow_get(p, conn);
	if (!fl) {
		(void)sip_reply(p->sip, msg, 500, "Server Internal Error");
		return true;
	}

	if (!pl_strcmp(&msg->met, "ACK")) {
		struct mbuf *body = NULL;

		(void)call_core_request(p, fl, msg, &body);
		(void)send_request(p, fl, msg, branch, sizeof(branch), body);
		mem_deref(body);
		return true;
	}

	/* D-56, D-57: a registration that has ended, or an identity that
	   has moved on, gets nothing through this flow */
	if (!pl_isset(&msg->to.tag) && life_stale_target(p, fl, msg)) {
		log_info("%s: %r for %r: not registered on this flow, 430",
			 fl->token, &msg->met, &msg->to.auri);
		(void)sip_reply(p->sip, msg, 430, "Flow Failed");
		return true;
	}

	(void)ttx_start(p, fl, msg);

	return true;
}


static bool branch_cmp(struct le *le, void *arg)
{
	const struct ttx *ttx = le->data;

	return 0 == pl_strcmp(arg, ttx->branch);
}


/**
 * Relay a browser's response to the core
 *
 * @param p   eP-CSCF
 * @param fl  Flow it came on
 * @param msg Response, our Via on top
 */
void term_response(struct pcscf *p, struct flow *fl,
		   const struct sip_msg *msg)
{
	struct ttx *ttx;
	struct mbuf *mb, *body = NULL;
	struct sa dst;
	int err;

	ttx = list_ledata(hash_lookup(p->ttx, hash_joaat_pl(&msg->via.branch),
				      branch_cmp, (void *)&msg->via.branch));
	if (!ttx || ttx->fl != fl) {
		log_debug("%s: response %u matches no transaction",
			  fl->token, msg->scode);
		return;
	}

	/* the answer to our CANCEL stays here */
	if (!pl_strcmp(&msg->cseq.met, "CANCEL"))
		return;

	call_browser_response(p, fl, ttx->msg, msg, &body);
	stats_sip_response(false, msg->scode);

	mb = mbuf_alloc(512 + mbuf_get_left(msg->mb) +
			(body ? body->end : 0));
	if (!mb) {
		mem_deref(body);
		return;
	}

	err  = pc_response_relay(mb, msg, NULL, NULL);
	err |= body ? call_print_body(mb, body) : pc_print_body(mb, msg);
	mem_deref(body);
	if (!err) {
		mb->pos = 0;
		sip_reply_addr(&dst, ttx->msg, true);
		err = sip_strans_reply(&ttx->st, p->sip, ttx->msg, &dst,
				       msg->scode, mb);
		if (err)
			log_info("%s: response not relayed to the core: %m",
				 fl->token, err);
	}

	mem_deref(mb);

	if (msg->scode >= 200 || err)
		mem_deref(ttx);
}


static bool flow_gone_h(struct le *le, void *arg)
{
	struct ttx *ttx = le->data;

	if (ttx->fl == arg)
		ttx_finish(ttx, 480, "Temporarily Unavailable");

	return false;
}


/**
 * A flow has gone: answer what is pending on it with 480
 *
 * @param p  eP-CSCF
 * @param fl Flow
 */
void term_flow_gone(struct pcscf *p, struct flow *fl)
{
	(void)hash_apply(p->ttx, flow_gone_h, fl);
}


static bool invite_of(struct le *le, void *arg)
{
	const struct ttx *ttx = le->data;

	return ttx->st && !pl_strcmp(&ttx->msg->met, "INVITE") &&
		!pl_cmp(&ttx->msg->callid, (const struct pl *)arg);
}


/**
 * Stop a call of this Call-ID that the core placed and that still rings
 * at the browser (imsedge -s end): CANCEL toward the browser, whose 487
 * goes to the core, as when the core cancels
 *
 * @param p      eP-CSCF
 * @param callid Call-ID
 *
 * @return true if an INVITE was pending and is being cancelled
 */
bool term_cancel_invite(struct pcscf *p, const struct pl *callid)
{
	struct le *le = hash_apply(p->ttx, invite_of, (void *)callid);

	if (!le)
		return false;

	cancel_handler(le->data);
	return true;
}

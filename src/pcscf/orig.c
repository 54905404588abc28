/**
 * @file orig.c  Requests from browsers toward the core, and the
 *               responses coming back (24.229 5.2.6.3, 5.2.7)
 *
 * Only a registered flow may send anything but REGISTER; an initial
 * request must name one of its registered identities, gets it asserted
 * in P-Asserted-Identity and the Service-Route as its route set (D-20
 * for users without tokens). Dialog-forming requests get two
 * Record-Route entries: one facing the core, one (with the flow token)
 * facing the browser.
 */
#include <string.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../core/stats.h"
#include "../jwt/jwt.h"
#include "../tls/tlsx.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"

#define LOG_MODULE "pcscf"

enum { ACK_WAIT = 32000 };

struct otx {
	struct le le;
	struct pcscf *p;
	struct flow *fl;          /**< NULL once the flow has gone       */
	struct sip_msg *msg;      /**< The request as the browser sent it */
	struct sip_request *req;
	struct jwt_claims *claims; /**< REGISTER with a verified token    */
	struct tmr tmr;
	bool invite;
	bool reg;
	bool prov;
	uint16_t scode;           /**< Final status, 0 until then        */
};

static void otx_destructor(void *arg)
{
	struct otx *otx = arg;

	tmr_cancel(&otx->tmr);
	list_unlink(&otx->le);
	mem_deref(otx->req);
	mem_deref(otx->msg);
	mem_deref(otx->claims);
}


static void reply(struct otx *otx, uint16_t scode, const char *reason)
{
	if (otx->fl && otx->fl->conn)
		w2_conn_reply(otx->fl->conn, otx->msg, scode, reason, NULL);
}


static void relay_response(struct otx *otx, const struct sip_msg *rsp)
{
	struct mbuf *mb, *body = NULL;
	int err;

	/* calls follow the core's answers even when the browser has gone */
	call_core_response(otx->p, otx->fl, otx->msg, rsp, &body);
	stats_sip_response(true, rsp->scode);

	if (!otx->fl || !otx->fl->conn) {
		mem_deref(body);
		return;
	}

	mb = mbuf_alloc(512 + mbuf_get_left(rsp->mb) +
			(body ? body->end : 0));
	if (!mb) {
		mem_deref(body);
		return;
	}

	err = pc_response_relay(mb, rsp, otx->reg ? reg_skip_rsp : NULL,
				NULL);
	if (otx->reg)
		err |= reg_print_challenge(mb, rsp);
	err |= body ? call_print_body(mb, body) : pc_print_body(mb, rsp);
	mem_deref(body);

	if (!err) {
		mb->pos = 0;
		(void)w2_conn_send(otx->fl->conn, mb);
	}

	mem_deref(mb);
}


static void otx_timeout(void *arg)
{
	struct otx *otx = arg;

	if (otx->scode) {              /* waited long enough for an ACK */
		mem_deref(otx);
		return;
	}

	if (otx->invite && otx->prov) { /* Timer C: give up on the callee */
		sip_request_cancel(otx->req);
		return;
	}

	log_info("%r to %r: no answer from the core in %u s",
		 &otx->msg->met, &otx->msg->ruri, otx->p->conf->mw_timeout);
	otx->req = mem_deref(otx->req);
	reply(otx, 408, "Request Timeout");
	mem_deref(otx);
}


static void resp_handler(int err, const struct sip_msg *rsp, void *arg)
{
	struct otx *otx = arg;

	if (err || !rsp) {
		log_info("%r to %r failed toward the core: %m",
			 &otx->msg->met, &otx->msg->ruri, err);
		reply(otx, err == ETIMEDOUT ? 408 : 503,
		      err == ETIMEDOUT ? "Request Timeout" :
		      "Service Unavailable");
		mem_deref(otx);
		return;
	}

	if (rsp->scode < 200) {
		otx->prov = true;
		if (otx->invite)
			tmr_start(&otx->tmr, PC_TIMER_C, otx_timeout, otx);

		/* 100 is hop by hop (RFC 3261 16.7) */
		if (rsp->scode > 100)
			relay_response(otx, rsp);
		return;
	}

	otx->scode = rsp->scode;

	if (otx->reg && otx->fl)
		reg_response(otx->p, otx->fl, otx->msg, rsp, otx->claims);

	relay_response(otx, rsp);

	/* keep a failed INVITE so the browser's ACK is absorbed here (the
	   core was ACKed hop by hop) */
	if (otx->invite && rsp->scode >= 300)
		tmr_start(&otx->tmr, ACK_WAIT, otx_timeout, otx);
	else
		mem_deref(otx);
}


/* The same INVITE transaction of this flow: Call-ID, CSeq number, top
   Via branch (another WebSocket cannot ACK or CANCEL it) */
static struct otx *otx_find(struct pcscf *p, const struct flow *fl,
			    const struct sip_msg *msg)
{
	struct le *le;

	for (le = p->otxl.head; le; le = le->next) {
		struct otx *otx = le->data;

		if (otx->invite && otx->fl == fl &&
		    !pl_cmp(&otx->msg->callid, &msg->callid) &&
		    otx->msg->cseq.num == msg->cseq.num &&
		    !pl_cmp(&otx->msg->via.branch, &msg->via.branch))
			return otx;
	}

	return NULL;
}


struct routes {
	struct pcscf *p;
	struct mbuf *mb;
	bool leading;        /**< Still popping our own entries         */
};


static bool route_print(const struct sip_hdr *hdr, const struct sip_msg *msg,
			void *arg)
{
	struct routes *r = arg;
	uint64_t id;
	(void)msg;

	if (r->leading && pc_route_is_ours(r->p, &hdr->val, &id))
		return false;

	r->leading = false;

	(void)mbuf_printf(r->mb, "Route: %r\r\n", &hdr->val);
	return false;
}


/* The first entry of a comma-joined Service-Route */
static void sr_first(struct pl *hop, const struct binding *b)
{
	const char *c;

	pl_set_str(hop, b->service_route);
	c = pl_strchr(hop, ',');
	if (c)
		hop->l = c - hop->p;
}


/* D-54: where a request from W2 goes: the first Service-Route entry of
   the registration it speaks for (or of any on the flow), else
   mw_next_hop (hop unset); never a host the browser names */
static void core_hop(const struct flow *fl, const struct sip_msg *msg,
		     struct pl *hop)
{
	const struct binding *b = flow_identity(fl, &msg->from.auri);
	struct le *le;

	*hop = pl_null;

	for (le = fl->regl.head; le && !(b && b->service_route);
	     le = le->next)
		b = le->data;

	if (b && b->service_route)
		sr_first(hop, b);
}


/* Headers of an in-dialog or initial request that do not cross as they
   are: the trust table (trust.c) decides */
static int print_fwd(struct mbuf *mb, const struct sip_msg *msg)
{
	int err;

	err  = trust_print_auth(mb, msg, NULL, NULL);
	err |= pc_print_hdrs(mb, msg, trust_skip, NULL);

	return err;
}


static int send_to_core(struct pcscf *p, struct otx *otx,
			const struct sip_msg *msg, struct mbuf *mb,
			const struct pl *hop, bool stateful)
{
	return pc_send_core(p, &msg->met, &msg->ruri, mb, hop,
			    stateful ? &otx->req : NULL,
			    stateful ? resp_handler : NULL, otx);
}


/* An ACK for a 2xx (or anything without a transaction here): forward
   statelessly toward the core (D-54) */
static void ack_forward(struct pcscf *p, struct flow *fl,
			const struct sip_msg *msg, uint32_t fwd)
{
	struct mbuf *mb = mbuf_alloc(1024 + mbuf_get_left(msg->mb));
	struct routes r = {p, mb, true};
	struct mbuf *body = NULL;
	struct pl hop;
	int err;

	if (!mb)
		return;

	(void)call_browser_request(p, fl, msg, false, &body);

	err = mbuf_printf(mb, "Max-Forwards: %u\r\n", fwd);
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_ROUTE, route_print, &r);
	err |= print_fwd(mb, msg);
	err |= body ? call_print_body(mb, body) : pc_print_body(mb, msg);
	mem_deref(body);

	core_hop(fl, msg, &hop);
	if (!err)
		err = send_to_core(p, NULL, msg, mb, &hop, false);

	if (err)
		log_info("ACK not forwarded: %m", err);

	mem_deref(mb);
}


/* D-20: an ACK needs no token only for an INVITE transaction or a call
   of this WebSocket; an ACK cannot be answered, so a refused one is
   dropped with a log line */
static void ack(struct pcscf *p, struct flow *fl, const struct sip_msg *msg,
		uint32_t fwd)
{
	struct otx *otx = otx_find(p, fl, msg);
	const char *why = "Not Registered";

	if (otx && otx->scode >= 300) {
		mem_deref(otx);    /* hop-by-hop ACK: done here */
		return;
	}

	if (fl->regl.head && (otx || call_find(p, fl, msg, true) ||
			      !webauth_request(p, fl, msg, &why))) {
		ack_forward(p, fl, msg, fwd);
		return;
	}

	log_info("%J: ACK %r dropped: %s", w2_conn_peer(fl->conn),
		 &msg->ruri, why);
}


/* D-20: CANCEL needs no token only for an INVITE of this WebSocket */
static void cancel(struct pcscf *p, struct flow *fl, const struct sip_msg *msg)
{
	struct otx *otx = otx_find(p, fl, msg);
	const char *why;

	if (!otx) {
		if (webauth_request(p, fl, msg, &why)) {
			log_info("%J: CANCEL %r rejected: %s",
				 w2_conn_peer(fl->conn), &msg->ruri, why);
			w2_conn_reply(fl->conn, msg, 403, why, NULL);
			return;
		}

		w2_conn_reply(fl->conn, msg, 481,
			      "Call/Transaction Does Not Exist", NULL);
		return;
	}

	w2_conn_reply(fl->conn, msg, 200, "OK", NULL);

	if (!otx->scode && otx->req)
		sip_request_cancel(otx->req);
}


/* The identity to assert as the core gave it (the registered AOR or a
   P-Associated-URI), never the browser's spelling of it (D-53) */
static const char *asserted(const struct binding *b, const struct pl *id)
{
	struct le *le;
	struct pl a;

	pl_set_str(&a, b->aor);
	if (pc_uri_eq(&a, id))
		return b->aor;

	for (le = b->assoc.head; le; le = le->next) {
		const struct pc_str *s = le->data;

		pl_set_str(&a, s->s);
		if (pc_uri_eq(&a, id))
			return s->s;
	}

	return b->aor;
}


static int print_initial(struct mbuf *mb, struct pcscf *p, struct flow *fl,
			 const struct sip_msg *msg, const struct binding *b,
			 const struct pl *id, struct pl *hop)
{
	uint8_t icid[16];
	int err;

	/* our own charging vector (24.229 5.2.6.3.3; D-53) */
	err = tls_random(icid, sizeof(icid));
	if (err)
		return err;

	err = mbuf_printf(mb, "P-Charging-Vector: icid-value=%w;"
			  "icid-generated-at=%j\r\n", icid, sizeof(icid),
			  &p->mw_addr);

	if (pc_dialog_forming(&msg->met))
		err |= mbuf_printf(mb, "Record-Route: <sip:%J;lr>\r\n"
				   "Record-Route: <sip:%s@%J;lr;ob>\r\n",
				   &p->mw_addr, fl->token, &p->mw_addr);

	if (b->service_route) {
		err |= mbuf_printf(mb, "Route: %s\r\n", b->service_route);
		sr_first(hop, b);
	}

	err |= mbuf_printf(mb, "P-Asserted-Identity: <%s>\r\n",
			   asserted(b, id));

	return err;
}


static int identity(struct pl *id, const struct sip_msg *msg)
{
	const struct sip_hdr *ppi;

	ppi = sip_msg_hdr(msg, SIP_HDR_P_PREFERRED_IDENTITY);
	if (ppi)
		return pc_hdr_value_uri(id, &ppi->val);

	*id = msg->from.auri;
	return 0;
}


static int otx_alloc(struct otx **otxp, struct pcscf *p, struct flow *fl,
		     const struct sip_msg *msg)
{
	struct otx *otx = mem_zalloc(sizeof(*otx), otx_destructor);

	if (!otx)
		return ENOMEM;

	otx->p      = p;
	otx->fl     = fl;
	otx->msg    = mem_ref((void *)msg);
	otx->invite = !pl_strcmp(&msg->met, "INVITE");
	otx->reg    = !pl_strcmp(&msg->met, "REGISTER");
	list_append(&p->otxl, &otx->le, otx);

	*otxp = otx;
	return 0;
}


/* A client transaction toward the core, bounded by mw_timeout */
static int otx_send(struct pcscf *p, struct flow *fl,
		    const struct sip_msg *msg, struct mbuf *mb,
		    const struct pl *hop, struct jwt_claims *claims,
		    const char **why)
{
	struct otx *otx = NULL;
	int err;

	err = otx_alloc(&otx, p, fl, msg);
	if (err)
		return err;

	otx->claims = mem_ref(claims);

	err = send_to_core(p, otx, msg, mb, hop, true);
	if (err) {
		*why = "Service Unavailable";
		mem_deref(otx);
		return err;
	}

	tmr_start(&otx->tmr, p->conf->mw_timeout * 1000, otx_timeout, otx);

	return 0;
}


static int forward(struct pcscf *p, struct flow *fl,
		   const struct sip_msg *msg, uint32_t fwd, const char **why,
		   uint16_t *scode)
{
	struct pl hop = PL_INIT, id;
	struct routes r = {p, NULL, true};
	const struct binding *b = NULL;
	struct mbuf *mb, *body = NULL;
	bool initial = !pl_isset(&msg->to.tag);
	bool sos = call_is_emergency(p, msg);
	int err;

	if (!fl->regl.head && !sos) {
		*why = "Not Registered";
		return EPERM;
	}

	if (initial && !sos) {
		if (identity(&id, msg) || !(b = flow_identity(fl, &id))) {
			*why = "Identity Not Registered";
			return EPERM;
		}
	}

	/* D-59: the browser hears of a network deregistration itself */
	if (!pl_strcmp(&msg->met, "SUBSCRIBE") &&
	    sip_msg_hdr_has_value(msg, SIP_HDR_EVENT, "reg"))
		fl->regev = true;

	*scode = call_browser_request(p, fl, msg, sos, &body);
	if (*scode) {
		*why = *scode == 488 ? "Not Acceptable Here" :
			*scode == 503 ? "Service Unavailable" :
			"Server Internal Error";
		return EPROTO;
	}

	mb = mbuf_alloc(1024 + mbuf_get_left(msg->mb) +
			(body ? body->end : 0));
	if (!mb) {
		mem_deref(body);
		return ENOMEM;
	}

	err = mbuf_printf(mb, "Max-Forwards: %u\r\n", fwd);

	if (sos) {
		/* D-39: to the emergency next hop when there is one */
		if (pc_dialog_forming(&msg->met))
			err |= mbuf_printf(mb, "Record-Route: <sip:%J;lr>\r\n"
					   "Record-Route: <sip:%s@%J;lr;ob>\r\n",
					   &p->mw_addr, fl->token,
					   &p->mw_addr);
		if (p->emergency_hop)
			pl_set_str(&hop, p->emergency_hop);
	}
	else if (initial) {
		err |= print_initial(mb, p, fl, msg, b, &id, &hop);
	}
	else {
		r.mb = mb;
		(void)sip_msg_hdr_apply(msg, true, SIP_HDR_ROUTE, route_print,
					&r);
		core_hop(fl, msg, &hop);
	}

	err |= print_fwd(mb, msg);
	err |= body ? call_print_body(mb, body) : pc_print_body(mb, msg);
	if (!err)
		err = otx_send(p, fl, msg, mb, &hop, NULL, why);

	mem_deref(body);
	mem_deref(mb);
	return err;
}


static int forward_register(struct pcscf *p, struct flow *fl,
			    const struct sip_msg *msg, const char **why)
{
	struct jwt_claims *c = NULL;
	struct mbuf *mb = NULL;
	struct pl tok;
	int err;

	/* D-11: a Bearer token takes the web path; nothing reaches the
	   core unless it verifies (D-13) */
	err = webauth_bearer(msg, &tok);
	if (err == EBADMSG) {
		*why = JWT_REASON_MALFORMED;
		return EACCES;
	}
	else if (!err) {
		err = webauth_register(p, fl, msg, &tok, &c, why);
		if (err)
			return EACCES;
	}
	else if (fl->web) {
		*why = "Token required";
		return EACCES;
	}

	if (reg_over_limit(p, fl, msg)) {
		*why = "Too Many Registrations";
		err = EOVERFLOW;
		goto out;
	}

	mb = mbuf_alloc(1024 + mbuf_get_left(msg->mb));
	if (!mb) {
		err = ENOMEM;
		goto out;
	}

	err = reg_print_request(mb, p, fl, msg, c);
	if (err == EBADMSG)
		*why = "Malformed Contact";
	else if (!err)
		err = otx_send(p, fl, msg, mb, NULL, c, why);

 out:
	mem_deref(c);
	mem_deref(mb);
	return err;
}


/* Proxy-Require with tags the eP-CSCF does not know: 420 (not for ACK
   and CANCEL, which take no extensions) */
static bool proxy_require_refused(struct flow *fl, const struct sip_msg *msg)
{
	char hdr[256];
	int err;

	if (!pl_strcmp(&msg->met, "ACK") || !pl_strcmp(&msg->met, "CANCEL"))
		return false;

	err = trust_proxy_require(msg, hdr, sizeof(hdr));
	if (!err)
		return false;

	log_info("%J: %r %r rejected: Proxy-Require %s",
		 w2_conn_peer(fl->conn), &msg->met, &msg->ruri,
		 err == ENOTSUP ? "not supported" : "malformed");
	if (err == ENOTSUP)
		w2_conn_reply(fl->conn, msg, 420, "Bad Extension", hdr);
	else
		w2_conn_reply(fl->conn, msg, 400, "Bad Proxy-Require", NULL);

	return true;
}


/**
 * Handle a request from a browser
 *
 * @param p   eP-CSCF
 * @param fl  Flow it came on
 * @param msg Request (valid per sipx_validate)
 *
 * @return true (handled)
 */
bool orig_request(struct pcscf *p, struct flow *fl, const struct sip_msg *msg)
{
	const char *why = "Server Internal Error";
	uint16_t scode = 0;
	uint32_t fwd = 0;
	int err;

	stats_sip_request(true, &msg->met);

	/* the trust boundary first (D-52, D-55) */
	err = trust_check(msg, &why);
	if (!err && trust_maxfwd(msg, &fwd) == ELOOP) {
		why = "Too Many Hops";
		err = ELOOP;
	}
	if (err) {
		log_info("%J: %r %r rejected: %s", w2_conn_peer(fl->conn),
			 &msg->met, &msg->ruri, why);
		if (pl_strcmp(&msg->met, "ACK"))
			w2_conn_reply(fl->conn, msg, err == ELOOP ? 483 :
				      err == EBADMSG ? 400 :
				      err == EPROTONOSUPPORT ? 416 : 403,
				      why, NULL);
		return true;
	}

	if (proxy_require_refused(fl, msg))
		return true;

	if (!pl_strcmp(&msg->met, "ACK")) {
		ack(p, fl, msg, fwd);
		return true;
	}

	if (!pl_strcmp(&msg->met, "CANCEL")) {
		cancel(p, fl, msg);
		return true;
	}

	if (!call_is_emergency(p, msg) && !flow_rate_ok(fl)) {
		log_info("%J: request rate over %u/s, 503",
			 w2_conn_peer(fl->conn), p->conf->w2_rate_limit);
		w2_conn_reply(fl->conn, msg, 503, "Service Unavailable",
			      "Retry-After: 1\r\n");
		return true;
	}

	if (!pl_strcmp(&msg->met, "REGISTER"))
		err = forward_register(p, fl, msg, &why);
	else if (!(err = webauth_request(p, fl, msg, &why))) {
		if (call_ended_bye(p, fl, msg))
			return true;
		err = forward(p, fl, msg, fwd, &why, &scode);
	}

	if (!err)
		return true;

	log_info("%J: %r %r rejected: %s", w2_conn_peer(fl->conn),
		 &msg->met, &msg->ruri, why);
	if (err == EACCES)
		stats_token_refused(why);
	if (err == EACCES)
		log_security("token_refused", w2_conn_peer(fl->conn),
			     "method=%r reason=\"%s\"", &msg->met, why);

	if (scode == 488)
		w2_conn_reply(fl->conn, msg, 488, why,
			      "Warning: 305 imsedge \"Incompatible media "
			      "format\"\r\n");
	else if (scode)
		w2_conn_reply(fl->conn, msg, scode, why, NULL);
	else if (err == EPERM || err == EACCES)
		w2_conn_reply(fl->conn, msg, 403, why, NULL);
	else if (err == EBADMSG)
		w2_conn_reply(fl->conn, msg, 400, why, NULL);
	else if (err == EOVERFLOW)
		w2_conn_reply(fl->conn, msg, 503, why, "Retry-After: 60\r\n");
	else
		w2_conn_reply(fl->conn, msg, 503, why, NULL);

	return true;
}


/**
 * A flow has gone: its transactions toward the core go on (the core
 * still answers) but nothing is relayed any more
 *
 * @param p  eP-CSCF
 * @param fl Flow
 */
void orig_flow_gone(struct pcscf *p, struct flow *fl)
{
	struct le *le;

	for (le = p->otxl.head; le; le = le->next) {
		struct otx *otx = le->data;

		if (otx->fl != fl)
			continue;

		otx->fl = NULL;

		/* a call still ringing: stop it at the core */
		if (otx->invite && !otx->scode && otx->req)
			sip_request_cancel(otx->req);
	}
}


/**
 * Stop a call of this Call-ID that the browser placed and that still
 * rings (imsedge -s end): CANCEL toward the core; its 487 ends the call
 * at the browser as a cancel of its own would
 *
 * @param p      eP-CSCF
 * @param callid Call-ID
 *
 * @return true if an INVITE was pending and is being cancelled
 */
bool orig_cancel_invite(struct pcscf *p, const struct pl *callid)
{
	struct le *le;

	for (le = p->otxl.head; le; le = le->next) {
		struct otx *otx = le->data;

		if (!otx->invite || otx->scode || !otx->req ||
		    pl_cmp(&otx->msg->callid, callid))
			continue;

		sip_request_cancel(otx->req);
		return true;
	}

	return false;
}

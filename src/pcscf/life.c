/**
 * @file life.c  How registrations end at the eP-CSCF (24.371 6A; TS
 *               23.228 U.2.1.3; 24.229 5.2.5)
 *
 * A binding made with a token lives no longer than the token (D-19,
 * D-56), and no longer than the token is unrevoked (D-60). When such a
 * binding ends for any reason but the browser's own deregistration, this
 * eP-CSCF deregisters it toward the core itself, with the same Trusted
 * Node Authentication that registered it (Expires 0, integrity-protected
 * "auth-done"): when the token expires, when it is revoked, when the
 * WebSocket closes (D-21) and when the pool identity it holds moves to
 * another token (D-57). Digest and AKA bindings are the core's to end.
 *
 * A pool lease belongs to the token (jti) that holds it; only that
 * token's end releases it (the WAF checks the jti), and once an identity
 * has a new holder, nothing for it reaches an old WebSocket.
 */
#include <string.h>
#include <time.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../jwt/jwt.h"
#include "../tls/tlsx.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"

#define LOG_MODULE "pcscf"

/** One deregistration of ours toward the core, until it is answered */
struct dreg {
	struct le le;
	struct sip_request *req;
	char *aor;
};


static void dreg_destructor(void *arg)
{
	struct dreg *d = arg;

	list_unlink(&d->le);
	mem_deref(d->req);
	mem_deref(d->aor);
}


static void dreg_resp(int err, const struct sip_msg *rsp, void *arg)
{
	struct dreg *d = arg;

	if (err)
		log_warn("deregistration of %s toward the core failed: %m",
			 d->aor, err);
	else if (rsp->scode < 200)
		return;
	else
		log_info("deregistration of %s: core answered %u %r", d->aor,
			 rsp->scode, &rsp->reason);

	mem_deref(d);
}


static int print_dereg(struct mbuf *mb, struct pcscf *p,
		       const struct binding *b)
{
	struct uri uri;
	struct pl pl;
	uint8_t icid[16];
	int err;

	pl_set_str(&pl, b->ruri);
	err = uri_decode(&uri, &pl);
	if (!err)
		err = tls_random(icid, sizeof(icid));
	if (err)
		return err;

	return mbuf_printf(mb, "Max-Forwards: 70\r\n"
			   "To: <%s>\r\n"
			   "From: <%s>;tag=%016llx\r\n"
			   "Call-ID: %016llx@%J\r\n"
			   "CSeq: 1 REGISTER\r\n"
			   "Contact: %s;expires=0\r\n"
			   "Expires: 0\r\n"
			   "Path: <sip:%s@%J;lr;ob>\r\n"
			   "Require: path\r\n"
			   "Supported: path\r\n"
			   "Authorization: Digest username=\"%s\", "
			   "realm=\"%r\", uri=\"%s\", nonce=\"\", "
			   "response=\"\", integrity-protected=\"auth-done\""
			   "\r\n"
			   "P-Visited-Network-ID: %s\r\n"
			   "P-Charging-Vector: icid-value=%w;"
			   "icid-generated-at=%j\r\n"
			   "Content-Length: 0\r\n\r\n",
			   b->aor, b->aor, (unsigned long long)rand_u64(),
			   (unsigned long long)rand_u64(), &p->mw_addr,
			   b->contact, b->flow->token, &p->mw_addr, b->impi,
			   &uri.host, b->ruri, p->conf->visited_network_id,
			   icid, sizeof(icid), &p->mw_addr);
}


/* REGISTER with Expires 0 for a token binding, as the eP-CSCF that
   vouched for it (TNA) */
static int deregister(struct pcscf *p, const struct binding *b)
{
	static const struct pl met = PL("REGISTER");
	struct dreg *d;
	struct mbuf *mb;
	struct pl ruri;
	int err;

	if (!b->web || !b->ruri || !b->contact || !b->impi)
		return EINVAL;

	d = mem_zalloc(sizeof(*d), dreg_destructor);
	mb = mbuf_alloc(1024);
	if (!d || !mb) {
		err = ENOMEM;
		goto out;
	}

	err = str_dup(&d->aor, b->aor);
	if (!err)
		err = print_dereg(mb, p, b);
	if (err)
		goto out;

	pl_set_str(&ruri, b->ruri);
	err = pc_send_core(p, &met, &ruri, mb, NULL, &d->req, dreg_resp, d);
	if (!err)
		list_append(&p->dregl, &d->le, d);

 out:
	if (err)
		mem_deref(d);
	mem_deref(mb);

	return err;
}


/**
 * End a binding: deregister it toward the core if it was made with a
 * token, release its pool lease (the WAF checks that this token holds
 * it), drop it, and with LIFE_CALLS end the calls of its identity on
 * the flow
 *
 * @param b   Binding (freed)
 * @param how LIFE_DEREG, LIFE_RELEASE, LIFE_CALLS (flags)
 * @param why For the log line (NULL: logged already)
 */
void life_binding_end(struct binding *b, unsigned how, const char *why)
{
	struct flow *fl = b->flow;
	struct pcscf *p = fl->p;
	const struct jwt_claims *c = b->claims;
	char *aor = (how & LIFE_CALLS) ? mem_ref(b->aor) : NULL;
	int err;

	if (why)
		log_info("%s: %s deregistered: %s", b->flow->token, b->aor,
			 why);

	if ((how & LIFE_DEREG) && b->web) {
		err = deregister(p, b);
		if (err)
			log_warn("%s: cannot deregister %s toward the core: %m",
				 b->flow->token, b->aor, err);
	}

	if ((how & LIFE_RELEASE) && c && c->pool && p->leaseh)
		(void)p->leaseh(c->iss, b->aor, c->jti ? c->jti : "", true,
				p->lease_arg);

	mem_deref(b);

	/* once the binding is off the flow: calls with no identity of
	   their own end when the flow has none left */
	if (aor) {
		call_identity_gone(p, fl, aor, why ? why : "deregistered");
		mem_deref(aor);
	}
}


struct moved {
	const struct flow *fl;
	struct pl aor;
};


static bool moved_apply(struct le *le, void *arg)
{
	struct flow *fl = le->data;
	struct moved *m = arg;
	struct le *lb;

	if (fl == m->fl)
		return false;

	for (lb = fl->regl.head; lb; lb = lb->next) {
		struct binding *b = lb->data;
		struct pl aor;

		pl_set_str(&aor, b->aor);
		if (b->claims && b->claims->pool && pc_uri_eq(&aor, &m->aor)) {
			life_binding_end(b, LIFE_DEREG, "its pool identity "
					 "moved to another token");
			return false;   /* at most one per flow */
		}
	}

	return false;
}


/**
 * A pool identity was registered with a token on a flow: its bindings
 * on other flows (older holders) end, toward the core too (D-57)
 *
 * @param p  eP-CSCF
 * @param fl The new holder's flow
 * @param b  The new holder's binding
 */
void life_lease_moved(struct pcscf *p, const struct flow *fl,
		      const struct binding *b)
{
	struct moved m;

	m.fl = fl;
	pl_set_str(&m.aor, b->aor);

	(void)hash_apply(p->flows, moved_apply, &m);
}


/**
 * Whether a request from the core for a flow targets nothing that flow
 * holds: the flow has no binding left (its token ended, it was
 * revoked), or the identity is a pool identity it no longer holds
 * (D-56, D-57)
 *
 * @param p   eP-CSCF
 * @param fl  Flow named by the Route
 * @param msg Initial request from the core
 *
 * @return true if it must not reach the browser
 */
bool life_stale_target(struct pcscf *p, const struct flow *fl,
		       const struct sip_msg *msg)
{
	const struct sip_hdr *cpi;
	struct pl id = msg->to.auri;
	struct le *le;

	if (!fl->regl.head)
		return true;

	cpi = sip_msg_xhdr(msg, "P-Called-Party-ID");
	if (cpi && pc_hdr_value_uri(&id, &cpi->val))
		id = msg->to.auri;

	if (flow_identity(fl, &id))
		return false;

	/* an identity this flow does not hold: refused only if it is one
	   of a pool's, which belongs to its current holder alone */
	for (le = p->conf->pools.head; le; le = le->next) {
		const struct conf_pool *cp = le->data;

		if (webauth_pool_holds(p->conf, cp->name, &id))
			return true;
	}

	return false;
}


/**
 * Whether our own WAF has revoked a token (D-60)
 *
 * @param p eP-CSCF
 * @param c The token's claims
 *
 * @return true if revoked
 */
bool life_revoked(const struct pcscf *p, const struct jwt_claims *c)
{
	return p->revh && c && p->revh(c, p->rev_arg);
}


static bool revoke_apply(struct le *le, void *arg)
{
	struct flow *fl = le->data;
	struct pcscf *p = arg;
	struct le *lb = fl->regl.head;

	while (lb) {
		struct binding *b = lb->data;

		lb = lb->next;
		if (b->claims && life_revoked(p, b->claims)) {
			life_binding_end(b, LIFE_DEREG | LIFE_RELEASE |
					 LIFE_CALLS, "its token was revoked");
		}
	}

	/* the cached token too: the next request verifies afresh */
	if (fl->claims && life_revoked(p, fl->claims)) {
		fl->tok = mem_deref(fl->tok);
		fl->claims = mem_deref(fl->claims);
	}

	return false;
}


/**
 * End the bindings whose tokens our WAF has revoked since (logout, a
 * removed user; D-60)
 *
 * @param p eP-CSCF
 */
void pcscf_revoke_check(struct pcscf *p)
{
	if (!p || !p->revh)
		return;

	(void)hash_apply(p->flows, revoke_apply, p);
}


/**
 * Ask our WAF about revoked tokens
 *
 * @param p    eP-CSCF
 * @param revh Revocation check, or NULL
 * @param arg  Its argument
 */
void pcscf_set_revocation(struct pcscf *p, pcscf_revoked_h *revh, void *arg)
{
	if (!p)
		return;

	p->revh = revh;
	p->rev_arg = arg;
}

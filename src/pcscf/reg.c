/**
 * @file reg.c  Registration at the eP-CSCF (24.229 5.2.2; 24.371 6.4.1):
 *              the REGISTER edits toward the core and the bindings kept
 *              from the 200 OK
 *
 * Toward the core: Path with the flow token, Require/Supported path,
 * P-Visited-Network-ID, a fresh P-Charging-Vector, no Security-Client
 * or sec-agree (D-4..D-6), and the integrity-protected parameter:
 * "tls-connected" for IMS-AKA, "tls-pending" then "tls-yes" for Digest
 * (D-7, D-10). Toward the browser: no ck/ik in the challenge and no
 * Security-Server (D-8, D-9).
 */
#include <string.h>
#include <time.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../core/stats.h"
#include "../jwt/jwt.h"
#include "../sip/sipx.h"
#include "../tls/tlsx.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"


/* IMS-AKA (its Authorization names an AKA algorithm), for the metrics */
static bool reg_is_aka(const struct sip_msg *req)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_AUTHORIZATION);

	return h && pc_auth_is_aka(&h->val);
}

#define LOG_MODULE "pcscf"


static void str_destructor(void *arg)
{
	struct pc_str *s = arg;

	mem_deref(s->s);
}


static void binding_destructor(void *arg)
{
	struct binding *b = arg;

	tmr_cancel(&b->tmr);
	list_unlink(&b->le);
	list_flush(&b->assoc);
	mem_deref(b->aor);
	mem_deref(b->impi);
	mem_deref(b->service_route);
	mem_deref(b->rsub);
	mem_deref(b->claims);
	mem_deref(b->ruri);
	mem_deref(b->contact);

	if (b->flow)
		--b->flow->p->nreg;
}


/* REGISTER-only edits on top of the trust table (trust.c) */
static bool skip_reg(const struct sip_hdr *hdr, void *arg)
{
	const struct jwt_claims *c = arg;

	if (trust_skip(hdr, NULL))
		return true;

	switch (hdr->id) {

	case SIP_HDR_CONTACT:
	case SIP_HDR_EXPIRES:
		return c != NULL;   /* webauth_print_register() prints them */

	case SIP_HDR_REQUIRE:
	case SIP_HDR_PROXY_REQUIRE:
	case SIP_HDR_SUPPORTED:
		return true;        /* print_tags() prints them */

	default:
		return false;
	}
}


struct tokens {
	struct mbuf *mb;
	const char *drop;
	const char *add;
	bool add_seen;
	unsigned n;
};


static bool token_print(const struct sip_hdr *hdr, const struct sip_msg *msg,
			void *arg)
{
	struct tokens *t = arg;
	struct pl list = hdr->val;
	(void)msg;

	while (list.l) {
		const char *c = pl_strchr(&list, ',');
		struct pl tok;

		tok.p = list.p;
		tok.l = c ? (size_t)(c - list.p) : list.l;
		list.l -= tok.l + (c ? 1 : 0);
		list.p += tok.l + (c ? 1 : 0);

		pc_trim(&tok);
		if (!tok.l || (t->drop && !pl_strcasecmp(&tok, t->drop)))
			continue;

		if (t->add && !pl_strcasecmp(&tok, t->add))
			t->add_seen = true;

		if (t->n++)
			(void)mbuf_write_mem(t->mb, (const uint8_t *)", ", 2);
		(void)mbuf_write_pl(t->mb, &tok);
	}

	return false;
}


/* One header line from the option tags of all headers of an id, minus
   one tag, plus one tag */
static int print_tags(struct mbuf *mb, const struct sip_msg *msg,
		      enum sip_hdrid id, const char *name, const char *drop,
		      const char *add)
{
	struct tokens t = {NULL, drop, add, false, 0};
	struct mbuf *val = mbuf_alloc(64);
	int err = 0;

	if (!val)
		return ENOMEM;

	t.mb = val;
	(void)sip_msg_hdr_apply(msg, true, id, token_print, &t);

	if (add && !t.add_seen)
		(void)mbuf_printf(val, "%s%s", t.n++ ? ", " : "", add);

	if (t.n)
		err = mbuf_printf(mb, "%s: %b\r\n", name, val->buf, val->end);

	mem_deref(val);
	return err;
}


static void unquote(struct pl *v)
{
	if (v->l >= 2 && v->p[0] == '"' && v->p[v->l - 1] == '"') {
		++v->p;
		v->l -= 2;
	}
}


/* The Digest username, read with the one parameter scanner */
static int auth_username(struct pl *user, const struct pl *val)
{
	struct pl scheme, params;
	int err;

	err = sipx_auth_split(val, &scheme, &params);
	if (!err)
		err = sipx_param_get(&params, ',', "username", user);
	if (!err)
		unquote(user);

	return err;
}


/* Our integrity-protected value for a Digest Authorization (D-7, D-10);
   the browser's own never crosses (trust.c, D-52) */
static const char *auth_ip(const struct pl *scheme, const struct pl *params,
			   void *arg)
{
	const struct flow *fl = arg;
	struct pl alg, user;

	if (pl_strcasecmp(scheme, "Digest"))
		return NULL;

	if (!sipx_param_get(params, ',', "algorithm", &alg)) {
		unquote(&alg);
		if (pc_prefix(&alg, "AKAv"))
			return "tls-connected";
	}

	if (!sipx_param_get(params, ',', "username", &user) &&
	    fl->impi_bound) {
		unquote(&user);
		if (!pl_strcmp(&user, fl->impi_bound))
			return "tls-yes";
	}

	return "tls-pending";
}


/**
 * Print the headers and body of a REGISTER toward the core (after the
 * request line and our Via)
 *
 * @param mb  Buffer
 * @param p   eP-CSCF
 * @param fl  Flow the REGISTER came on
 * @param msg REGISTER from the browser
 * @param c   Claims of its verified token, NULL without one
 *
 * @return 0 if success, otherwise errorcode
 */
int reg_print_request(struct mbuf *mb, struct pcscf *p, struct flow *fl,
		      const struct sip_msg *msg, const struct jwt_claims *c)
{
	uint8_t icid[16];
	uint32_t fwd;
	int err;

	err = trust_maxfwd(msg, &fwd);
	if (!err)
		err = tls_random(icid, sizeof(icid));
	if (err)
		return err;

	err  = mbuf_printf(mb, "Path: <sip:%s@%J;lr;ob>\r\n", fl->token,
			   &p->mw_addr);
	err |= mbuf_printf(mb, "Max-Forwards: %u\r\n", fwd);
	err |= print_tags(mb, msg, SIP_HDR_REQUIRE, "Require", "sec-agree",
			  "path");
	err |= print_tags(mb, msg, SIP_HDR_PROXY_REQUIRE, "Proxy-Require",
			  "sec-agree", NULL);
	err |= print_tags(mb, msg, SIP_HDR_SUPPORTED, "Supported",
			  "sec-agree", "path");
	err |= mbuf_printf(mb, "P-Visited-Network-ID: %s\r\n",
			   p->conf->visited_network_id);
	err |= mbuf_printf(mb, "P-Charging-Vector: icid-value=%w;"
			   "icid-generated-at=%j\r\n", icid, sizeof(icid),
			   &p->mw_addr);
	if (err)
		return err;

	if (c)
		err = webauth_print_register(mb, msg, c);
	else
		err = trust_print_auth(mb, msg, auth_ip, fl);

	err |= pc_print_hdrs(mb, msg, skip_reg, (void *)c);
	err |= pc_print_body(mb, msg);

	return err;
}


/**
 * Headers of a REGISTER response not relayed as they are
 *
 * @param hdr Header
 * @param arg Unused
 *
 * @return true to skip
 */
bool reg_skip_rsp(const struct sip_hdr *hdr, void *arg)
{
	(void)arg;

	return hdr->id == SIP_HDR_SECURITY_SERVER ||
		hdr->id == SIP_HDR_WWW_AUTHENTICATE ||
		hdr->id == SIP_HDR_PROXY_AUTHENTICATE;
}


static bool chall_print(const struct sip_hdr *hdr, const struct sip_msg *msg,
			void *arg)
{
	static const char * const drop[] = {"ck", "ik"};
	struct mbuf *mb = arg;
	(void)msg;

	(void)mbuf_write_pl(mb, &hdr->name);
	(void)mbuf_write_u8(mb, ':');
	(void)pc_strip_params(mb, &hdr->val, drop, ARRAY_SIZE(drop));
	(void)mbuf_write_str(mb, "\r\n");

	return false;
}


/**
 * Print the challenges of a 401/407 without the AKA keys
 *
 * @param mb  Buffer
 * @param rsp Response from the core
 *
 * @return 0 if success, otherwise errorcode
 */
int reg_print_challenge(struct mbuf *mb, const struct sip_msg *rsp)
{
	(void)sip_msg_hdr_apply(rsp, true, SIP_HDR_WWW_AUTHENTICATE,
				chall_print, mb);
	(void)sip_msg_hdr_apply(rsp, true, SIP_HDR_PROXY_AUTHENTICATE,
				chall_print, mb);
	return 0;
}


static struct binding *binding_find(struct flow *fl, const struct pl *aor)
{
	struct le *le;

	for (le = fl->regl.head; le; le = le->next) {
		struct binding *b = le->data;
		struct pl a;

		pl_set_str(&a, b->aor);
		if (pc_uri_eq(&a, aor))
			return b;
	}

	return NULL;
}


/* The registration ran out: the core's expiry or, for a token, the
   token's (D-56) */
static void binding_expired(void *arg)
{
	struct binding *b = arg;
	bool tok = b->claims && b->claims->exp <= (int64_t)time(NULL);

	log_info("%s: registration of %s expired%s", b->flow->token, b->aor,
		 tok ? " with its token" : "");
	life_binding_end(b, LIFE_DEREG | LIFE_RELEASE, NULL);
}


struct contact_match {
	struct pl uri;       /* the Contact of the REGISTER */
	int32_t expires;
};


/* An expiry the core granted, read without wrapping: not digits or
   over 2^31 is the default (RFC 4475 3.1.2.4) */
static int32_t expiry(const struct pl *pl)
{
	uint32_t v;

	if (sipx_u32(pl, &v) || v > INT32_MAX)
		return 3600;

	return (int32_t)v;
}


static bool contact_expires(const struct sip_hdr *hdr,
			    const struct sip_msg *msg, void *arg)
{
	struct contact_match *m = arg;
	struct sip_addr addr;
	struct pl ex;
	(void)msg;

	if (sip_addr_decode(&addr, &hdr->val) ||
	    !pc_uri_eq(&addr.auri, &m->uri))
		return false;

	if (!sipx_param_get(&addr.params, ';', "expires", &ex))
		m->expires = expiry(&ex);
	else if (pl_isset(&msg->expires))
		m->expires = expiry(&msg->expires);

	return true;
}


static bool list_add_uri(const struct sip_hdr *hdr, const struct sip_msg *msg,
			 void *arg)
{
	struct list *l = arg;
	struct pc_str *s;
	struct pl uri;
	(void)msg;

	if (pc_hdr_value_uri(&uri, &hdr->val))
		return false;

	s = mem_zalloc(sizeof(*s), str_destructor);
	if (!s || pl_strdup(&s->s, &uri)) {
		mem_deref(s);
		return true;
	}

	list_append(l, &s->le, s);
	return false;
}


static bool route_join(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct mbuf *mb = arg;
	(void)msg;

	if (mb->end)
		(void)mbuf_write_mem(mb, (const uint8_t *)", ", 2);
	(void)mbuf_write_pl(mb, &hdr->val);
	return false;
}


/* What our own deregistration needs: the R-URI and the Contact, with
   the parameters a registrar matches a binding by (RFC 5626 4.2) */
static int contact_keep(struct binding *b, const struct sip_msg *req)
{
	const struct sip_hdr *ct = sip_msg_hdr(req, SIP_HDR_CONTACT);
	struct sip_addr addr;
	struct pl inst = PL_INIT, regid = PL_INIT;

	b->ruri = mem_deref(b->ruri);
	b->contact = mem_deref(b->contact);

	if (!ct || sip_addr_decode(&addr, &ct->val))
		return 0;

	(void)sipx_param_get(&addr.params, ';', "+sip.instance", &inst);
	(void)sipx_param_get(&addr.params, ';', "reg-id", &regid);

	return re_sdprintf(&b->ruri, "%r", &req->ruri) |
		re_sdprintf(&b->contact, "<%r>%s%r%s%r", &addr.auri,
			    pl_isset(&inst) ? ";+sip.instance=" : "", &inst,
			    pl_isset(&regid) ? ";reg-id=" : "", &regid);
}


/**
 * How long a binding lives: the core's expiry, and never beyond its
 * token (D-19, D-56)
 *
 * @param b       Binding
 * @param expires Seconds the core granted
 *
 * @return Milliseconds
 */
uint64_t reg_binding_ms(const struct binding *b, uint32_t expires)
{
	uint64_t ms = (uint64_t)expires * 1000;
	int64_t left;

	if (!b->claims)
		return ms;

	left = b->claims->exp - (int64_t)time(NULL);
	if (left < 0)
		left = 0;

	return min(ms, (uint64_t)left * 1000);
}


static int binding_update(struct binding *b, const struct sip_msg *req,
			  const struct sip_msg *rsp, uint32_t expires,
			  const struct jwt_claims *c)
{
	struct mbuf *sr = mbuf_alloc(128);
	const struct sip_hdr *hdr;
	struct pl user;
	int err = 0;

	if (!sr)
		return ENOMEM;

	list_flush(&b->assoc);
	(void)sip_msg_hdr_apply(rsp, true, SIP_HDR_P_ASSOCIATED_URI,
				list_add_uri, &b->assoc);

	b->service_route = mem_deref(b->service_route);
	(void)sip_msg_hdr_apply(rsp, true, SIP_HDR_SERVICE_ROUTE, route_join,
				sr);
	if (sr->end)
		err = re_sdprintf(&b->service_route, "%b", sr->buf, sr->end);

	hdr = sip_msg_hdr(req, SIP_HDR_AUTHORIZATION);
	b->impi = mem_deref(b->impi);
	b->claims = mem_deref(b->claims);
	b->web = c != NULL;
	if (c) {
		err |= str_dup(&b->impi, c->impi);
		b->claims = mem_ref((void *)c);
	}
	else if (hdr && !auth_username(&user, &hdr->val))
		err |= pl_strdup(&b->impi, &user);
	else
		err |= pl_strdup(&b->impi, &req->to.uri.user);

	err |= contact_keep(b, req);

	tmr_start(&b->tmr, reg_binding_ms(b, expires), binding_expired, b);

	mem_deref(sr);
	return err;
}


/**
 * Tell whether a REGISTER would add a binding beyond max_registrations
 *
 * @param p   eP-CSCF
 * @param fl  Flow
 * @param req REGISTER
 *
 * @return true if over the limit
 */
bool reg_over_limit(struct pcscf *p, struct flow *fl,
		    const struct sip_msg *req)
{
	return !binding_find(fl, &req->to.auri) &&
		p->nreg >= p->conf->max_registrations;
}


/**
 * Keep what a final response to a REGISTER says: the binding with its
 * Service-Route and P-Associated-URI, or its removal
 *
 * @param p   eP-CSCF
 * @param fl  Flow
 * @param req REGISTER as the browser sent it
 * @param rsp Final response from the core
 * @param c   Claims of the token it carried, or NULL
 */
void reg_response(struct pcscf *p, struct flow *fl,
		  const struct sip_msg *req, const struct sip_msg *rsp,
		  const struct jwt_claims *c)
{
	struct contact_match m = {PL_INIT, -1};
	const struct sip_hdr *ct;
	bool aka;
	struct binding *b;

	if (rsp->scode < 200 || rsp->scode >= 300)
		return;

	ct = sip_msg_hdr(req, SIP_HDR_CONTACT);
	if (ct && !pc_hdr_value_uri(&m.uri, &ct->val))
		(void)sip_msg_hdr_apply(rsp, true, SIP_HDR_CONTACT,
					contact_expires, &m);

	b = binding_find(fl, &req->to.auri);

	if (m.expires <= 0) {
		if (b)
			life_binding_end(b, LIFE_RELEASE, "by the browser");
		return;
	}

	if (!b) {
		b = mem_zalloc(sizeof(*b), binding_destructor);
		if (!b || pl_strdup(&b->aor, &req->to.auri)) {
			mem_deref(b);
			return;
		}

		b->flow = fl;
		++p->nreg;
		list_append(&fl->regl, &b->le, b);
	}

	if (binding_update(b, req, rsp, (uint32_t)m.expires, c)) {
		mem_deref(b);
		return;
	}

	if (c)
		fl->web = true;
	else {
		fl->impi_bound = mem_deref(fl->impi_bound);
		(void)str_dup(&fl->impi_bound, b->impi);
	}

	aka = !c && reg_is_aka(req);
	stats_inc(c ? STAT_REG_TOKEN : aka ? STAT_REG_AKA : STAT_REG_DIGEST);
	b->mech = c ? "token" : aka ? "aka" : "digest";
	log_info("%s: %s registered for %d s (%u identities)%s", fl->token,
		 b->aor, m.expires, list_count(&b->assoc),
		 c ? ", until its token ends" : "");

	/* D-58: the core tells us when it ends the registration */
	if (regevent_subscribe(p, b))
		log_warn("%s: cannot subscribe to the reg event of %s",
			 fl->token, b->aor);

	/* D-57: a pool identity's new holder alone gets its traffic */
	if (c && c->pool)
		life_lease_moved(p, fl, b);
}


/**
 * Drop every binding of a flow whose WebSocket has gone: token bindings
 * are deregistered toward the core at once (D-21), Digest and AKA ones
 * stay there until they expire and their requests get 430 (RFC 5626).
 * Pool leases stay with their token: the page may come back with it.
 *
 * @param p  eP-CSCF
 * @param fl Flow
 */
void binding_flush(struct pcscf *p, struct flow *fl)
{
	(void)p;

	while (fl->regl.head) {
		struct binding *b = fl->regl.head->data;

		if (b->web)
			life_binding_end(b, LIFE_DEREG, "its WebSocket closed");
		else
			mem_deref(b);
	}
}

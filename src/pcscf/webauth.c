/**
 * @file webauth.c  Web authentication at the eP-CSCF (24.371 6.4.2/6.4.3;
 *                  TS 23.228 U.2.1.3): Bearer tokens and Trusted Node
 *                  Authentication toward the core
 *
 * A REGISTER with "Authorization: Bearer" takes this path (D-11), in
 * either syntax (D-12). The token must verify with a key of its issuer
 * (algorithm pinned), be current, name this eP-CSCF as audience, come
 * from the WWSF whose page opened the WebSocket, and cover the identity
 * being registered, from its pool if it is a pool identity (D-13..D-15,
 * D-18). Any failure is a 403 and nothing goes to the core. A REGISTER
 * that passes goes on with the Bearer replaced by a TNA Digest header
 * (integrity-protected="auth-done", D-16, D-17) and an Expires no later
 * than the token's expiry (D-19). Once a flow has registered with a
 * token, every request on it must carry a valid token (D-20); tokens are
 * never forwarded to the core.
 */
#include <string.h>
#include <strings.h>
#include <time.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../jwt/jwt.h"
#include "../sip/sipx.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"

#define LOG_MODULE "pcscf"

enum { EXPIRES_DEFAULT = 3600 };  /* RFC 3261 10.2.1.1 */


static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}


struct bearer {
	struct pl val;
	unsigned n;
};


static bool bearer_find(const struct sip_hdr *hdr, const struct sip_msg *msg,
			void *arg)
{
	struct bearer *b = arg;
	struct pl scheme, rest;
	(void)msg;

	if (pl_strcasecmp(&hdr->name, "Authorization") ||
	    sipx_auth_split(&hdr->val, &scheme, &rest) ||
	    pl_strcasecmp(&scheme, "Bearer"))
		return false;

	b->val = rest;
	pc_trim(&b->val);
	++b->n;

	return false;
}


/* "access_token="TOKEN"", read with the one parameter scanner: exactly
   one parameter */
static int access_token(const struct pl *val, struct pl *tok)
{
	struct pl rest = *val, name, v;
	int err;

	err = sipx_param_next(&rest, ',', &name, &v);
	if (err || pl_strcasecmp(&name, "access_token") || !pl_isset(&v))
		return EBADMSG;

	if (sipx_param_next(&rest, ',', &name, tok) != ENOENT)
		return EBADMSG;

	if (v.l >= 2 && v.p[0] == '"') {
		++v.p;
		v.l -= 2;
	}

	*tok = v;
	return 0;
}


/**
 * Find a Bearer token in a request's Authorization headers: RFC 8898's
 * "Bearer TOKEN" or the draft's "Bearer access_token="TOKEN"" (D-12)
 *
 * @param msg Request
 * @param tok Returned token text
 *
 * @return 0 if found, ENOENT if none, EBADMSG if malformed or repeated
 */
int webauth_bearer(const struct sip_msg *msg, struct pl *tok)
{
	struct bearer b = {PL_INIT, 0};
	int err;

	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_AUTHORIZATION, bearer_find,
				&b);
	if (!b.n)
		return ENOENT;
	if (b.n > 1)
		return EBADMSG;

	if (pc_prefix(&b.val, "access_token")) {
		err = access_token(&b.val, tok);
		if (err)
			return err;
	}
	else {
		*tok = b.val;
	}

	/* token68: no blanks, commas, quotes or escapes */
	if (!tok->l || pl_strchr(tok, ' ') || pl_strchr(tok, ',') ||
	    pl_strchr(tok, '"') || pl_strchr(tok, '\t') ||
	    pl_strchr(tok, '\\') || pl_strchr(tok, '\r') ||
	    pl_strchr(tok, '\n'))
		return EBADMSG;

	return 0;
}


/**
 * Tell whether an identity belongs to a configured pool (D-18)
 *
 * @param conf Configuration
 * @param pool Pool name from the token
 * @param uri  Identity
 *
 * @return true if the pool exists and holds the identity
 */
bool webauth_pool_holds(const struct imsedge_conf *conf, const char *pool,
			const struct pl *uri)
{
	struct conf_pool_tmpl t;
	struct pl tmpl;
	struct le *le;

	for (le = conf->pools.head; le; le = le->next) {
		const struct conf_pool *cp = le->data;

		if (strcmp(cp->name, pool))
			continue;

		pl_set_str(&tmpl, cp->tmpl);
		return !conf_pool_parse(&t, &tmpl) &&
			conf_pool_index(&t, uri, NULL);
	}

	return false;
}


static bool impu_covered(const struct jwt_claims *c, const struct pl *uri)
{
	size_t i;

	for (i = 0; i < c->impuc; i++) {
		struct pl u;

		pl_set_str(&u, c->impu[i]);
		if (pc_uri_eq(&u, uri))
			return true;
	}

	return false;
}


/* Verify, with the flow's last good token as a cache: ECDSA costs
   milliseconds on a router and every request carries the token */
static int verify(struct pcscf *p, struct flow *fl, const struct pl *tok,
		  const struct jwt_claims **cp, const char **why)
{
	struct jwt_claims *c = NULL;
	const char *origin;
	int err;

	if (fl->tok && !pl_strcmp(tok, fl->tok)) {
		if (fl->claims->exp <= now_s()) {
			*why = JWT_REASON_EXPIRED;
			return EACCES;
		}

		if (life_revoked(p, fl->claims)) {
			*why = "Token revoked";
			return EACCES;
		}

		*cp = fl->claims;
		return 0;
	}

	err = jwt_verify(&c, tok, p->ring, now_s(), why);
	if (err)
		return err;

	if (!jwt_claims_aud_has(c, p->conf->w2_public_url)) {
		*why = "Token audience mismatch";
		err = EACCES;
		goto out;
	}

	/* D-15: the WWSF whose page opened this WebSocket issued it */
	origin = w2_conn_origin(fl->conn);
	if (!origin || strcasecmp(origin, c->iss)) {
		*why = "Token issuer not allowed for this origin";
		err = EACCES;
		goto out;
	}

	if (c->exp <= now_s()) {
		*why = JWT_REASON_EXPIRED;
		err = EACCES;
		goto out;
	}

	/* D-60: logged out, or the user was removed */
	if (life_revoked(p, c)) {
		*why = "Token revoked";
		err = EACCES;
		goto out;
	}

	fl->tok = mem_deref(fl->tok);
	fl->claims = mem_deref(fl->claims);
	err = pl_strdup(&fl->tok, tok);
	if (err)
		goto out;

	fl->claims = mem_ref(c);
	*cp = c;

 out:
	mem_deref(c);
	return err;
}


/**
 * Check a REGISTER that carries a Bearer token (D-11..D-15, D-18)
 *
 * @param p   eP-CSCF
 * @param fl  Flow
 * @param msg REGISTER
 * @param tok Token text (from webauth_bearer)
 * @param cp  Returned claims (a reference)
 * @param why Reason phrase for the 403 on failure
 *
 * @return 0 if the token allows this registration, otherwise errorcode
 */
int webauth_register(struct pcscf *p, struct flow *fl,
		     const struct sip_msg *msg, const struct pl *tok,
		     struct jwt_claims **cp, const char **why)
{
	const struct jwt_claims *c;
	int err;

	if (!p->ring) {
		*why = "Web authentication not enabled";
		return EACCES;
	}

	if (verify(p, fl, tok, &c, why))
		return EACCES;

	if (!impu_covered(c, &msg->to.auri)) {
		*why = "Identity not covered by the token";
		return EACCES;
	}

	if (c->pool) {
		if (!webauth_pool_holds(p->conf, c->pool, &msg->to.auri)) {
			*why = "Identity not in the WWSF's pool";
			return EACCES;
		}

		if (p->leaseh) {
			char *impu = NULL;
			bool held;

			/* the identity being registered, as its binding will
			   release it */
			err = pl_strdup(&impu, &msg->to.auri);
			if (err)
				return err;

			held = p->leaseh(c->iss, impu, c->jti, false,
					 p->lease_arg);
			mem_deref(impu);
			if (!held) {
				*why = "Pool identity not leased to this token";
				return EACCES;
			}
		}
	}

	*cp = mem_ref((void *)c);
	return 0;
}


/**
 * Check a request other than REGISTER on a flow registered with a token:
 * it must carry a valid token of the same registration (D-20). ACK and
 * CANCEL are exempt (they complete or stop a checked INVITE).
 *
 * @param p   eP-CSCF
 * @param fl  Flow
 * @param msg Request
 * @param why Reason phrase for the 403 on failure
 *
 * @return 0 if allowed, otherwise errorcode
 */
int webauth_request(struct pcscf *p, struct flow *fl,
		    const struct sip_msg *msg, const char **why)
{
	const struct jwt_claims *c;
	struct le *le;
	struct pl tok;
	int err;

	/* a token that does not scan is refused on any flow */
	err = webauth_bearer(msg, &tok);
	if (err == ENOENT && !fl->web)
		return 0;
	if (err) {
		*why = err == ENOENT ? "Token required" : JWT_REASON_MALFORMED;
		return EACCES;
	}

	if (!p->ring) {
		*why = "Web authentication not enabled";
		return EACCES;
	}

	/* every failure is a 403, whatever the verifier's error */
	if (verify(p, fl, &tok, &c, why))
		return EACCES;

	if (!fl->web)
		return 0;

	for (le = fl->regl.head; le; le = le->next) {
		const struct binding *b = le->data;
		struct pl aor;

		pl_set_str(&aor, b->aor);
		if (b->web && impu_covered(c, &aor))
			return 0;
	}

	*why = "Token not for this registration";
	return EACCES;
}


struct contacts {
	struct mbuf *mb;
	int err;
};


/* One Contact without its expires parameter, its header params read
   with the one parameter scanner (a Contact that does not scan is
   refused: its expires could outlive the token, D-19) */
static bool contact_print(const struct sip_hdr *hdr, const struct sip_msg *msg,
			  void *arg)
{
	struct contacts *ct = arg;
	struct sip_addr addr;
	struct pl val = hdr->val, rest, name, v;
	int err;
	(void)msg;

	pc_trim(&val);
	if (!pl_strcmp(&val, "*")) {
		ct->err |= mbuf_write_str(ct->mb, "Contact: *\r\n");
		return false;
	}

	if (sip_addr_decode(&addr, &val)) {
		ct->err = EBADMSG;
		return true;
	}

	rest = addr.params;
	if (pl_isset(&rest))
		val.l = rest.p - val.p;

	err = mbuf_printf(ct->mb, "Contact: %r", &val);
	while (!err && !(err = sipx_param_next(&rest, ';', &name, &v))) {
		if (!pl_strcasecmp(&name, "expires"))
			continue;

		err = mbuf_printf(ct->mb, ";%r%s%r", &name,
				  pl_isset(&v) ? "=" : "", &v);
	}

	if (err != ENOENT) {
		ct->err = err ? err : EBADMSG;
		return true;
	}

	ct->err |= mbuf_write_str(ct->mb, "\r\n");
	return false;
}


/* The expiry asked for; a value that does not fit is the default
   (RFC 4475 3.1.2.4) */
static uint32_t expires_requested(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr addr;
	struct pl ex;
	uint32_t v;

	if (hdr && !sip_addr_decode(&addr, &hdr->val) &&
	    !sipx_param_get(&addr.params, ';', "expires", &ex))
		return sipx_u32(&ex, &v) ? EXPIRES_DEFAULT : v;

	if (pl_isset(&msg->expires))
		return sipx_u32(&msg->expires, &v) ? EXPIRES_DEFAULT : v;

	return EXPIRES_DEFAULT;
}


/**
 * Print the TNA Authorization (D-16, D-17), the Contacts and an Expires
 * capped at the token's remaining lifetime (D-19)
 *
 * @param mb  Buffer
 * @param msg REGISTER from the browser
 * @param c   Its token's claims
 *
 * @return 0 if success, otherwise errorcode
 */
int webauth_print_register(struct mbuf *mb, const struct sip_msg *msg,
			   const struct jwt_claims *c)
{
	int64_t left = c->exp - now_s();
	uint32_t expires = expires_requested(msg);
	struct contacts ct = {mb, 0};
	int err;

	/* the IMPI goes into a quoted-string the core trusts (D-52) */
	if (strpbrk(c->impi, "\"\\\r\n"))
		return EBADMSG;

	if (left < 1)
		left = 1;
	if ((int64_t)expires > left)
		expires = (uint32_t)left;

	err = mbuf_printf(mb, "Authorization: Digest username=\"%s\", "
			  "realm=\"%r\", uri=\"%r\", nonce=\"\", "
			  "response=\"\", integrity-protected=\"auth-done\""
			  "\r\n", c->impi, &msg->uri.host, &msg->ruri);
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_CONTACT, contact_print,
				&ct);
	err |= ct.err;
	err |= mbuf_printf(mb, "Expires: %u\r\n", expires);

	return err;
}

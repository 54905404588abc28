/**
 * @file trust.c  The trust boundary: what of a browser's request (W2)
 *                crosses to the core (Mw)
 *
 * The core trusts what a P-CSCF asserts (24.229 5.2.6.3; 33.203 U.2):
 * identities, charging, the visited network, routes and, above all, the
 * integrity-protected parameter of Authorization, which tells the
 * S-CSCF the user is already authenticated (D-52). A browser must not be
 * able to set any of them. The table below is the whole header policy,
 * one row per header, matched by name in any case or compact form
 * (never by libre's 12-bit name hash, which other names can share).
 * Headers not in the table cross unchanged.
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "../core/conf.h"
#include "../sip/sipx.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"


struct trust_row {
	const char *name;
	size_t len;              /**< strlen(name)                        */
	char compact;            /**< RFC 3261 7.3.3 compact form, or 0   */
	enum trust_act act;
	const char *why;         /**< The clause, for the reviewer        */
};

/*
 * W2 -> Mw, per header. DROP: never crosses. OWN: removed; the eP-CSCF
 * writes its own where one belongs. AUTH: Bearer dropped, any
 * integrity-protected removed, whatever the scheme (D-52).
 */
#define ROW(name, compact, act, why) \
	{name, sizeof(name) - 1, compact, act, why}

static const struct trust_row rows[] = {
ROW("Authorization",        0,  TR_AUTH, "24.229 5.2.2; 33.203 U.2 (D-52)"),
ROW("Proxy-Authorization",  0,  TR_AUTH, "24.229 5.2.2; 33.203 U.2 (D-52)"),
ROW("P-Asserted-Identity",  0,  TR_OWN,  "5.2.6.3.3: the P-CSCF asserts"),
ROW("P-Preferred-Identity", 0,  TR_OWN,  "5.2.6.3.3: chooses the PAI"),
ROW("P-Charging-Vector",    0,  TR_OWN,  "5.2.2.1, 5.2.6.3: icid is ours"),
ROW("P-Charging-Function-Addresses", 0, TR_DROP, "5.2.6.3: network only"),
ROW("P-Visited-Network-ID", 0,  TR_OWN,  "5.2.2.1: REGISTER, ours"),
ROW("Path",                 0,  TR_OWN,  "5.2.2.1: REGISTER, ours"),
ROW("Service-Route",        0,  TR_DROP, "5.2.2.2: S-CSCF to UE only"),
ROW("P-Associated-URI",     0,  TR_DROP, "5.2.2.2: S-CSCF to UE only"),
ROW("P-Served-User",        0,  TR_DROP, "5.4.3.2: S-CSCF to AS only"),
ROW("P-Profile-Key",        0,  TR_DROP, "5.3.2: I-CSCF to S-CSCF only"),
ROW("P-User-Database",      0,  TR_DROP, "5.3.1: I-CSCF to S-CSCF only"),
ROW("P-Asserted-Service",   0,  TR_DROP, "5.2.6.3.3: asserted by the P-CSCF"),
ROW("P-Access-Network-Info", 0, TR_DROP, "5.2.6.3: we provide none"),
ROW("P-Called-Party-ID",    0,  TR_DROP, "5.4.3.3: S-CSCF to UE only"),
ROW("P-Private-Network-Indication", 0, TR_DROP, "5.2.6.3.3: network only"),
ROW("P-Media-Authorization", 0, TR_DROP, "RFC 3313: network only"),
ROW("P-Debug-ID",           0,  TR_DROP, "5.2.6.3: network only"),
ROW("Relayed-Charge",       0,  TR_DROP, "29.658: network only"),
ROW("Restoration-Info",     0,  TR_DROP, "5.2.6.3: network only"),
ROW("Security-Client",      0,  TR_DROP, "33.203 X: no IPsec on W2 (D-6)"),
ROW("Security-Server",      0,  TR_DROP, "33.203 X: no IPsec on W2 (D-9)"),
ROW("Security-Verify",      0,  TR_DROP, "33.203 X: no IPsec on W2 (D-6)"),
ROW("Route",                0,  TR_OWN,  "5.2.6.3: Service-Route (D-54)"),
ROW("Record-Route",         0,  TR_OWN,  "5.2.6.3.3: ours only"),
ROW("Max-Forwards",         0,  TR_OWN,  "RFC 3261 16.6: decremented"),
ROW("Content-Length",       'l', TR_OWN, "RFC 3261 20.14: recomputed"),
};


/* A length check first: this runs for every header of every request,
   several times (trust_skip, trust_check, trust_print_auth) */
static bool name_is(const struct pl *name, const struct trust_row *r)
{
	if (r->compact && name->l == 1)
		return (name->p[0] | 0x20) == r->compact;

	return name->l == r->len && !strncasecmp(name->p, r->name, r->len);
}


/**
 * What the trust boundary does with one header from W2
 *
 * @param name Header name as received
 *
 * @return Action (TR_KEEP for headers not in the table)
 */
enum trust_act trust_hdr(const struct pl *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		if (name_is(name, &rows[i]))
			return rows[i].act;
	}

	return TR_KEEP;
}


/**
 * Skip handler (pc_hdr_skip_h): true for every header that does not
 * cross as it is
 *
 * @param hdr Header
 * @param arg Unused
 *
 * @return true to skip
 */
bool trust_skip(const struct sip_hdr *hdr, void *arg)
{
	(void)arg;

	return trust_hdr(&hdr->name) != TR_KEEP;
}


static bool is_ip(const struct pl *name)
{
	return !pl_strcasecmp(name, "integrity-protected");
}


static bool has_ip_text(const char *p, size_t n)
{
	static const char ip[] = "integrity-protected";
	size_t i;

	for (i = 0; i + sizeof(ip) - 1 <= n; i++) {
		if ((p[i] | 0x20) == 'i' &&
		    !strncasecmp(p + i, ip, sizeof(ip) - 1))
			return true;
	}

	return false;
}


/* One credential: the scheme, then auth-params that scan to the end */
static int auth_check(const struct pl *val, const char **why)
{
	struct pl scheme, rest, name, v;
	int err;

	if (sipx_auth_split(val, &scheme, &rest)) {
		*why = "Malformed credentials";
		return EBADMSG;
	}

	if (!pl_strcasecmp(&scheme, "Bearer"))
		return 0;   /* webauth reads it; it never crosses */

	if (has_ip_text(scheme.p, scheme.l)) {
		*why = "Forged credentials";
		return EACCES;
	}

	while (!(err = sipx_param_next(&rest, ',', &name, &v))) {

		if (is_ip(&name))
			continue;   /* removed; ours is added where due */

		/* a quoted-pair is where parsers disagree on where a string
		   ends, and a core may look for integrity-protected with a
		   pattern: refused in credentials from browsers (D-52) */
		if (pl_strchr(&v, '\\') || has_ip_text(v.p, v.l) ||
		    has_ip_text(name.p, name.l)) {
			*why = "Forged credentials";
			return EACCES;
		}
	}

	if (err != ENOENT) {
		*why = "Malformed credentials";
		return EBADMSG;
	}

	return 0;
}


/* The schemes a request from W2 may address (RFC 3261 16.3 step 2:
   416 for the others): SIP, SIPS, tel (TS 24.229 5.1.2A) and urn
   (emergency service URNs, RFC 5031) */
static bool ruri_scheme_known(const struct pl *scheme)
{
	return !pl_strcasecmp(scheme, "sip") ||
		!pl_strcasecmp(scheme, "sips") ||
		!pl_strcasecmp(scheme, "tel") ||
		!pl_strcasecmp(scheme, "urn");
}


/* Headers in a URI: a '?' after the userinfo. The user part may hold
   '?' (RFC 3261 25.1 user-unreserved; RFC 4475 3.1.1.2 intmeth), the
   host, port and parameters never; a '@' cannot appear unescaped after
   the userinfo, so the first one ends it */
static bool ruri_headers(const struct pl *ruri)
{
	const char *q = pl_strchr(ruri, '?');
	const char *at = pl_strchr(ruri, '@');
	struct pl rest;

	if (!q)
		return false;
	if (!at || q > at)
		return true;

	rest.p = at;
	rest.l = ruri->l - (size_t)(at - ruri->p);

	return pl_strchr(&rest, '?') != NULL;
}


/**
 * Check a request from W2 at the trust boundary before anything of it
 * is used: credentials that scan, no hidden integrity-protected, a
 * usable Max-Forwards
 *
 * @param msg Request
 * @param why Reason phrase on failure
 *
 * @return 0 if it may go on, EBADMSG (400), EACCES (403) or
 *         EPROTONOSUPPORT (416)
 */
int trust_check(const struct sip_msg *msg, const char **why)
{
	struct le *le;
	uint32_t fwd;
	int err;

	for (le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (trust_hdr(&hdr->name) != TR_AUTH)
			continue;

		err = auth_check(&hdr->val, why);
		if (err)
			return err;
	}

	if (!ruri_scheme_known(&msg->uri.scheme)) {
		*why = "Unsupported URI Scheme";
		return EPROTONOSUPPORT;
	}

	/* headers embedded in the Request-URI mean nothing in a request
	   (RFC 3261 19.1.5) but a core might apply them: refused */
	if (ruri_headers(&msg->ruri)) {
		*why = "Headers in Request-URI";
		return EBADMSG;
	}

	err = trust_maxfwd(msg, &fwd);
	if (err && err != ELOOP) {
		*why = "Bad Max-Forwards";
		return EBADMSG;
	}

	return 0;
}


/**
 * The Max-Forwards a request goes on with (RFC 3261 16.6 step 3): one
 * less; 70 when absent or, per RFC 4475 3.1.2.4, over 255
 *
 * @param msg Request
 * @param fwd Returned value to send
 *
 * @return 0 if success, ELOOP if it reached 0 (483), EBADMSG if
 *         malformed or repeated
 */
int trust_maxfwd(const struct sip_msg *msg, uint32_t *fwd)
{
	const struct sip_hdr *hdr = NULL;
	struct le *le;
	uint32_t v;
	int err;

	for (le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *h = le->data;

		if (pl_strcasecmp(&h->name, "Max-Forwards"))
			continue;
		if (hdr)
			return EBADMSG;
		hdr = h;
	}

	if (!hdr) {
		*fwd = 70;
		return 0;
	}

	err = sipx_u32(&hdr->val, &v);
	if (err == ERANGE || (!err && v > 255))
		v = 71;
	else if (err)
		return EBADMSG;

	if (!v)
		return ELOOP;

	*fwd = v - 1;
	return 0;
}


/* One credential without integrity-protected, rewritten param by param
   (it was checked by trust_check) */
static int auth_print(struct mbuf *mb, const struct sip_hdr *hdr,
		      const char *ip)
{
	struct pl scheme, rest, name, v;
	bool first = true;
	int err;

	if (sipx_auth_split(&hdr->val, &scheme, &rest))
		return EBADMSG;

	err = mbuf_write_pl(mb, &hdr->name);
	err |= mbuf_write_mem(mb, (const uint8_t *)": ", 2);
	err |= mbuf_write_pl(mb, &scheme);

	while (!err && !sipx_param_next(&rest, ',', &name, &v)) {
		if (is_ip(&name))
			continue;

		err = pc_print_param(mb, first, &name, &v);
		first = false;
	}

	if (ip)
		err |= mbuf_printf(mb, "%sintegrity-protected=\"%s\"",
				   first ? " " : ", ", ip);

	return err | mbuf_write_str(mb, "\r\n");
}


/**
 * Print the Authorization and Proxy-Authorization headers of a request
 * from W2 as they cross: Bearer dropped, every integrity-protected
 * removed, and ours added where the handler asks for one
 *
 * @param mb  Buffer
 * @param msg Request (checked by trust_check)
 * @param iph Our integrity-protected value per Authorization, or NULL
 * @param arg Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int trust_print_auth(struct mbuf *mb, const struct sip_msg *msg,
		     trust_ip_h *iph, void *arg)
{
	struct le *le;
	int err = 0;

	for (le = msg->hdrl.head; le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		struct pl scheme, rest;
		const char *ip = NULL;

		if (trust_hdr(&hdr->name) != TR_AUTH)
			continue;

		if (sipx_auth_split(&hdr->val, &scheme, &rest))
			return EBADMSG;

		if (!pl_strcasecmp(&scheme, "Bearer"))
			continue;

		if (iph && !pl_strcasecmp(&hdr->name, "Authorization"))
			ip = iph(&scheme, &rest, arg);

		err = auth_print(mb, hdr, ip);
	}

	return err;
}


struct unsup {
	char *buf;
	size_t sz;
	size_t n;
	bool bad;
};


static bool tag_check(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	struct unsup *u = arg;
	struct pl tag = hdr->val;
	int n;
	(void)msg;

	pc_trim(&tag);

	if (!pl_strcasecmp(&tag, "sec-agree"))
		return false;

	if (!sipx_token(&tag)) {
		u->bad = true;
		return true;
	}

	n = re_snprintf(u->buf + u->n, u->sz - u->n, "%s%r",
			u->n ? ", " : "Unsupported: ", &tag);
	if (n > 0 && (size_t)n < u->sz - u->n)
		u->n += (size_t)n;

	return false;
}


/**
 * Proxy-Require option tags the eP-CSCF does not support (RFC 3261
 * 16.3 step 5: 420 with Unsupported); sec-agree is understood (TS
 * 24.229; it is taken off toward the core)
 *
 * @param msg Request
 * @param hdr Returned "Unsupported: ..." header line with CRLF
 * @param sz  Size of hdr
 *
 * @return 0 if none, ENOTSUP (420) if some, EBADMSG if a tag is not one
 */
int trust_proxy_require(const struct sip_msg *msg, char *hdr, size_t sz)
{
	struct unsup u = { hdr, sz - 2, 0, false };

	if (!msg || !hdr || sz < 32)
		return EINVAL;

	hdr[0] = '\0';
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_PROXY_REQUIRE, tag_check,
				&u);
	if (u.bad)
		return EBADMSG;
	if (!u.n)
		return 0;

	memcpy(hdr + u.n, "\r\n", 3);
	return ENOTSUP;
}

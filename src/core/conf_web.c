/**
 * @file conf_web.c  Configuration keys of the WWSF/WAF and of web
 *                   authentication at the eP-CSCF
 *
 * wwsf_listen turns the WWSF on; it then needs token_key and
 * w2_public_url. waf_pubkey alone (tokens from an external WAF) needs
 * w2_public_url, the eP-CSCF's identity in the tokens' "aud".
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "conf.h"
#include "conf_int.h"

enum {
	NAME_MAX_LEN = 32,
	POOL_DIGITS  = 9,        /* an index, as written in a template     */
};


static void pool_destructor(void *arg)
{
	struct conf_pool *pool = arg;

	mem_deref(pool->name);
	mem_deref(pool->tmpl);
}


static void wafkey_destructor(void *arg)
{
	struct conf_waf_key *k = arg;

	mem_deref(k->issuer);
	mem_deref(k->file);
}


/**
 * Free the WWSF/WAF part of a configuration
 *
 * @param conf Configuration
 */
void conf_web_free(struct imsedge_conf *conf)
{
	list_flush(&conf->pools);
	list_flush(&conf->waf_keys);
	mem_deref(conf->wwsf_root);
	mem_deref(conf->wwsf_users);
	mem_deref(conf->wwsf_origin);
	mem_deref(conf->token_key);
	mem_deref(conf->w2_public_url);
	mem_deref(conf->metrics_token);
}


/**
 * Set the WWSF/WAF defaults
 *
 * @param conf Configuration
 */
void conf_web_defaults(struct imsedge_conf *conf)
{
	conf->token_lifetime = 3600;
	conf->wwsf_connections_per_address = 32;
}


/* Case-insensitive prefix test */
static bool prefix(const struct pl *pl, const char *pfx)
{
	size_t n = strlen(pfx);

	return pl->l >= n && !strncasecmp(pl->p, pfx, n);
}


/* Split "A B" at the first run of blanks; false unless both are set */
static bool split2(const struct pl *val, struct pl *a, struct pl *b)
{
	const char *p = val->p, *end = val->p + val->l;

	while (p < end && *p != ' ' && *p != '\t')
		++p;

	a->p = val->p;
	a->l = p - val->p;

	while (p < end && (*p == ' ' || *p == '\t'))
		++p;

	b->p = p;
	b->l = end - p;

	return a->l && b->l;
}


static int set_str(char **dst, const struct pl *val)
{
	*dst = mem_deref(*dst);

	return pl_strdup(dst, val);
}


int k_wwsf_listen(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_addr(ctx, &ctx->conf->wwsf_listen, val);
}


int k_wwsf_root(struct ctx *ctx, const struct pl *val)
{
	return set_str(&ctx->conf->wwsf_root, val);
}


int k_wwsf_users(struct ctx *ctx, const struct pl *val)
{
	return set_str(&ctx->conf->wwsf_users, val);
}


int k_wwsf_connections_per_address(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->wwsf_connections_per_address,
			      val, 1, 1000000);
}


/* A bearer token for scraping /metrics over the WWSF's HTTPS: 32 to 256
   characters of RFC 6750's b64token, so it goes in a header unchanged
   and is long enough not to be guessed */
int k_metrics_token(struct ctx *ctx, const struct pl *val)
{
	size_t i;

	if (val->l < 32 || val->l > 256)
		return conf_fail(ctx, "metrics_token must be 32 to 256 "
				 "characters (it has %zu); e.g. the output "
				 "of: head -c 32 /dev/urandom | base64",
				 val->l);

	for (i = 0; i < val->l; i++) {
		char c = val->p[i];

		if (!isalnum((unsigned char)c) && !strchr("-._~+/=", c))
			return conf_fail(ctx, "metrics_token: character "
					 "'%c' is not allowed (letters, "
					 "digits and -._~+/= only)", c);
	}

	return set_str(&ctx->conf->metrics_token, val);
}


int k_wwsf_origin(struct ctx *ctx, const struct pl *val)
{
	if (!conf_origin_valid(val) || !prefix(val, "https://"))
		return conf_fail(ctx, "'%r' is not an origin like "
				 "https://host[:port]", val);

	return set_str(&ctx->conf->wwsf_origin, val);
}


int k_token_key(struct ctx *ctx, const struct pl *val)
{
	return set_str(&ctx->conf->token_key, val);
}


int k_token_lifetime(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->token_lifetime, val, 10,
			      86400);
}


/* The scheme of a pool template: only SIP and tel URIs */
static bool pool_scheme_ok(const struct pl *pre)
{
	return prefix(pre, "sip:") || prefix(pre, "sips:") ||
		prefix(pre, "tel:");
}


/* Template text around the range: visible ASCII, nothing JSON or a
   config line would need to escape or split at */
static bool pool_text_ok(const struct pl *pl)
{
	size_t i;

	for (i = 0; i < pl->l; i++) {
		const uint8_t c = (uint8_t)pl->p[i];

		if (c <= 0x20 || c >= 0x7f || strchr("{}\"\\,", c))
			return false;
	}

	return true;
}


/* 1 to POOL_DIGITS decimal digits, no leading zero: one way to write
   each index, so a URI is one identity or none */
static bool pool_number(uint32_t *v, const char *p, size_t n)
{
	size_t i;

	if (n < 1 || n > POOL_DIGITS || (n > 1 && p[0] == '0'))
		return false;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (uint32_t)(p[i] - '0');
	}

	return true;
}


/**
 * Parse an identity pool template: a sip:, sips: or tel: URI with
 * exactly one {LO-HI} range, LO <= HI, at most CONF_POOL_MAX numbers,
 * no leading zeros, visible ASCII without quotes, backslashes or commas
 *
 * @param t    Returned template (points into tmpl)
 * @param tmpl Template, e.g. sip:guest{1-50}@ims.test
 *
 * @return 0 if valid, otherwise EINVAL
 */
int conf_pool_parse(struct conf_pool_tmpl *t, const struct pl *tmpl)
{
	const char *open, *close, *dash, *end;

	if (!t || !pl_isset(tmpl))
		return EINVAL;

	end = tmpl->p + tmpl->l;
	open = pl_strchr(tmpl, '{');
	close = open ? memchr(open, '}', (size_t)(end - open)) : NULL;
	dash = close ? memchr(open, '-', (size_t)(close - open)) : NULL;
	if (!dash ||
	    !pool_number(&t->lo, open + 1, (size_t)(dash - open - 1)) ||
	    !pool_number(&t->hi, dash + 1, (size_t)(close - dash - 1)) ||
	    t->lo > t->hi || t->hi - t->lo >= CONF_POOL_MAX)
		return EINVAL;

	t->pre.p = tmpl->p;
	t->pre.l = (size_t)(open - tmpl->p);
	t->suf.p = close + 1;
	t->suf.l = (size_t)(end - close - 1);

	/* no second range: the text around this one has no braces */
	if (!pool_scheme_ok(&t->pre) || !pool_text_ok(&t->pre) ||
	    !pool_text_ok(&t->suf))
		return EINVAL;

	return 0;
}


/**
 * Find which identity of a pool template a URI is: the text before the
 * range compared without case (the scheme), the rest exactly
 *
 * @param t   Template (from conf_pool_parse)
 * @param uri The URI, e.g. sip:guest7@ims.test
 * @param idx Returned index (optional)
 *
 * @return true if the URI is one of the template's identities
 */
bool conf_pool_index(const struct conf_pool_tmpl *t, const struct pl *uri,
		     uint32_t *idx)
{
	uint32_t n;

	if (!t || !pl_isset(uri) || uri->l <= t->pre.l + t->suf.l)
		return false;

	if (strncasecmp(uri->p, t->pre.p, t->pre.l) ||
	    memcmp(uri->p + uri->l - t->suf.l, t->suf.p, t->suf.l))
		return false;

	if (!pool_number(&n, uri->p + t->pre.l,
			 uri->l - t->pre.l - t->suf.l) ||
	    n < t->lo || n > t->hi)
		return false;

	if (idx)
		*idx = n;

	return true;
}


/**
 * Write the URI of one identity of a pool template
 *
 * @param buf Buffer
 * @param sz  Its size
 * @param t   Template (from conf_pool_parse)
 * @param idx Index
 *
 * @return 0 if success, EOVERFLOW if buf is too small, otherwise errorcode
 */
int conf_pool_uri(char *buf, size_t sz, const struct conf_pool_tmpl *t,
		  uint32_t idx)
{
	if (!buf || !t)
		return EINVAL;

	return re_snprintf(buf, sz, "%r%u%r", &t->pre, idx, &t->suf) < 0 ?
		EOVERFLOW : 0;
}


static bool name_valid(const struct pl *name)
{
	size_t i;

	if (name->l > NAME_MAX_LEN)
		return false;

	for (i = 0; i < name->l; i++) {
		char c = name->p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}

	return true;
}


static struct conf_pool *pool_find(const struct imsedge_conf *conf,
				   const struct pl *name)
{
	struct le *le;

	for (le = conf->pools.head; le; le = le->next) {
		struct conf_pool *pool = le->data;

		if (!pl_strcmp(name, pool->name))
			return pool;
	}

	return NULL;
}


int k_identity_pool(struct ctx *ctx, const struct pl *val)
{
	struct conf_pool_tmpl t;
	struct conf_pool *pool;
	struct pl name, tmpl;
	int err;

	if (!split2(val, &name, &tmpl) || !name_valid(&name))
		return conf_fail(ctx, "'%r' is not NAME TEMPLATE (NAME: "
				 "letters, digits, - and _)", val);

	if (conf_pool_parse(&t, &tmpl))
		return conf_fail(ctx, "'%r' is not a sip:, sips: or tel: URI "
				 "with one {FIRST-LAST} range of at most "
				 "%u numbers", &tmpl, CONF_POOL_MAX);

	if (pool_find(ctx->conf, &name))
		return conf_fail(ctx, "identity pool '%r' given twice", &name);

	pool = mem_zalloc(sizeof(*pool), pool_destructor);
	if (!pool)
		return ENOMEM;

	err  = pl_strdup(&pool->name, &name);
	err |= pl_strdup(&pool->tmpl, &tmpl);
	if (err) {
		mem_deref(pool);
		return err;
	}

	list_append(&ctx->conf->pools, &pool->le, pool);
	return 0;
}


int k_waf_pubkey(struct ctx *ctx, const struct pl *val)
{
	struct conf_waf_key *k;
	struct pl iss, file;
	int err;

	if (!split2(val, &iss, &file) || !conf_origin_valid(&iss))
		return conf_fail(ctx, "'%r' is not ISSUER FILE (ISSUER: the "
				 "WWSF's origin, https://host[:port])", val);

	k = mem_zalloc(sizeof(*k), wafkey_destructor);
	if (!k)
		return ENOMEM;

	k->line = ctx->line;
	err  = pl_strdup(&k->issuer, &iss);
	err |= pl_strdup(&k->file, &file);
	if (err) {
		mem_deref(k);
		return err;
	}

	list_append(&ctx->conf->waf_keys, &k->le, k);
	return 0;
}


int k_w2_public_url(struct ctx *ctx, const struct pl *val)
{
	size_t i;

	if (val->l <= 6 || !prefix(val, "wss://") ||
	    val->p[6] == '/' || val->p[6] == ':')
		goto bad;

	for (i = 6; i < val->l; i++) {
		if (val->p[i] <= ' ' || val->p[i] > '~' || val->p[i] == '"')
			goto bad;
	}

	return set_str(&ctx->conf->w2_public_url, val);

 bad:
	return conf_fail(ctx, "'%r' is not a wss:// URL", val);
}


/* https://HOST[:PORT] from the host of w2_public_url and our port */
static int origin_default(struct imsedge_conf *conf)
{
	struct pl hostport, host;
	uint16_t port = sa_port(&conf->wwsf_listen);

	if (re_regex(conf->w2_public_url, strlen(conf->w2_public_url),
		     "wss://[^/?#]+", &hostport))
		return EINVAL;

	host = hostport;
	if (hostport.p[0] == '[') {
		const char *rb = pl_strchr(&hostport, ']');

		host.l = rb ? (size_t)(rb - hostport.p) + 1 : hostport.l;
	}
	else {
		const char *colon = pl_strchr(&hostport, ':');

		if (colon)
			host.l = colon - hostport.p;
	}

	if (port == 443)
		return re_sdprintf(&conf->wwsf_origin, "https://%r", &host);

	return re_sdprintf(&conf->wwsf_origin, "https://%r:%u", &host, port);
}


/**
 * Check the WWSF/WAF keys against each other and fill in defaults
 *
 * @param ctx Parser context
 *
 * @return 0 if success, EINVAL with the reason in ctx, or errorcode
 */
int conf_web_finish(struct ctx *ctx)
{
	struct imsedge_conf *conf = ctx->conf;
	bool wwsf = sa_isset(&conf->wwsf_listen, SA_PORT);
	struct pl origin;
	int err;

	if (!wwsf && (conf->wwsf_users || conf->token_key ||
		      conf->pools.head || conf->wwsf_origin ||
		      conf->metrics_token))
		return conf_fail(ctx, "wwsf_users, token_key, identity_pool, "
				 "wwsf_origin and metrics_token need "
				 "wwsf_listen");

	if ((wwsf || conf->waf_keys.head) && !conf->w2_public_url)
		return conf_fail(ctx, "missing key 'w2_public_url' (the "
				 "wss:// URL browsers reach W2 at)");

	if (!wwsf)
		return 0;

	if (!conf->token_key)
		return conf_fail(ctx, "missing key 'token_key' (the WAF's "
				 "signing key; imsedge -k FILE makes one)");

	if (!conf->wwsf_root) {
		err = str_dup(&conf->wwsf_root, "/usr/share/imsedge/www");
		if (err)
			return err;
	}

	if (!conf->wwsf_origin) {
		err = origin_default(conf);
		if (err)
			return err;
	}

	/* the page we serve may open W2 */
	pl_set_str(&origin, conf->wwsf_origin);
	if (!conf_origin_allowed(conf, &origin))
		return conf_str_append(&conf->origins, &origin);

	return 0;
}

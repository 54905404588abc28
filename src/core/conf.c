/**
 * @file conf.c  imsedge configuration: parse, validate, free
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "conf.h"
#include "file.h"
#include "conf_int.h"

/* opus_complexity's default: the board's (Makefile OPUS_COMPLEXITY, low on
   soft-float MIPS) */
#ifndef IMSEDGE_OPUS_COMPLEXITY
#define IMSEDGE_OPUS_COMPLEXITY 5
#endif

enum {
	CONF_FILE_MAX = 65536,
	CONF_LINE_MAX = 1024,
};

typedef int (conf_key_h)(struct ctx *ctx, const struct pl *val);

struct conf_key {
	const char *name;
	conf_key_h *h;
	bool repeat;
	bool required;
};


static void vals_free(struct imsedge_conf *conf);


static void destructor(void *arg)
{
	struct imsedge_conf *conf = arg;

	list_flush(&conf->origins);
	list_flush(&conf->emergency_numbers);
	mem_deref(conf->mw_emergency_next_hop);
	mem_deref(conf->path);
	mem_deref(conf->tls_cert);
	mem_deref(conf->tls_key);
	mem_deref(conf->mw_next_hop);
	mem_deref(conf->visited_network_id);
	mem_deref(conf->crypto_provider);
	mem_deref(conf->media_if);
	mem_deref(conf->control_socket);
	mem_deref(conf->key_lines);
	vals_free(conf);
	conf_web_free(conf);
}


static void str_destructor(void *arg)
{
	struct conf_str *s = arg;

	mem_deref(s->val);
}


/* Append a copy of a string to a list of struct conf_str */
int conf_str_append(struct list *l, const struct pl *val)
{
	struct conf_str *s = mem_zalloc(sizeof(*s), str_destructor);
	int err;

	if (!s)
		return ENOMEM;

	err = pl_strdup(&s->val, val);
	if (err) {
		mem_deref(s);
		return err;
	}

	list_append(l, &s->le, s);
	return 0;
}


int conf_fail(struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)re_vsnprintf(ctx->err, ctx->errsz, fmt, ap);
	va_end(ap);

	return EINVAL;
}


int conf_parse_addr(struct ctx *ctx, struct sa *sa, const struct pl *val)
{
	int err = sa_decode(sa, val->p, val->l);

	if (err || !sa_port(sa))
		return conf_fail(ctx, "'%r' is not an ADDR:PORT", val);

	return 0;
}


int conf_parse_u32(struct ctx *ctx, uint32_t *v, const struct pl *val,
		     uint32_t min, uint32_t max)
{
	uint64_t n;
	size_t i;

	if (!val->l || val->l > 10)
		goto bad;

	for (i = 0; i < val->l; i++) {
		if (val->p[i] < '0' || val->p[i] > '9')
			goto bad;
	}

	n = pl_u64(val);
	if (n < min || n > max)
		goto bad;

	*v = (uint32_t)n;
	return 0;

 bad:
	return conf_fail(ctx, "'%r' is not a number in %u..%u", val, min, max);
}


int conf_parse_bool(struct ctx *ctx, bool *v, const struct pl *val)
{
	if (!pl_strcasecmp(val, "yes") || !pl_strcasecmp(val, "true") ||
	    !pl_strcmp(val, "1")) {
		*v = true;
		return 0;
	}
	if (!pl_strcasecmp(val, "no") || !pl_strcasecmp(val, "false") ||
	    !pl_strcmp(val, "0")) {
		*v = false;
		return 0;
	}

	return conf_fail(ctx, "'%r' is not yes or no", val);
}


static int k_w2_listen(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_addr(ctx, &ctx->conf->w2_listen, val);
}


static int k_mw_listen(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_addr(ctx, &ctx->conf->mw_listen, val);
}


static int k_tls_cert(struct ctx *ctx, const struct pl *val)
{
	return pl_strdup(&ctx->conf->tls_cert, val);
}


static int k_tls_key(struct ctx *ctx, const struct pl *val)
{
	return pl_strdup(&ctx->conf->tls_key, val);
}


static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' ||
		c == '[' || c == ']' || c == ':';
}


/* An Origin as RFC 6454 serializes it: scheme "://" host [":" port] */
bool conf_origin_valid(const struct pl *val)
{
	const char *p = val->p, *end = val->p + val->l, *colon = NULL;
	const char *host;

	if (val->l > 8 && !strncasecmp(p, "https://", 8))
		p += 8;
	else if (val->l > 7 && !strncasecmp(p, "http://", 7))
		p += 7;
	else
		return false;

	host = p;
	for (; p < end; p++) {
		if (!host_char(*p))
			return false;
		if (*p == ':' && *host != '[')
			colon = p;
		if (*p == ']')
			colon = NULL;
	}

	if (p == host || (colon && (colon == host || colon + 1 == end)))
		return false;

	for (p = colon ? colon + 1 : end; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
	}

	return true;
}


static int k_w2_origin(struct ctx *ctx, const struct pl *val)
{
	if (!conf_origin_valid(val))
		return conf_fail(ctx, "'%r' is not an origin like "
			    "https://host[:port]", val);

	return conf_str_append(&ctx->conf->origins, val);
}


static int k_mw_next_hop(struct ctx *ctx, const struct pl *val)
{
	struct uri uri;
	struct pl pl = *val;

	if (uri_decode(&uri, &pl) || (pl_strcmp(&uri.scheme, "sip") &&
				      pl_strcmp(&uri.scheme, "sips")))
		return conf_fail(ctx, "'%r' is not a SIP URI", val);

	return pl_strdup(&ctx->conf->mw_next_hop, val);
}


static int k_visited_network_id(struct ctx *ctx, const struct pl *val)
{
	size_t i;

	for (i = 0; i < val->l; i++) {
		char c = val->p[i];

		if (c <= ' ' || c == '"' || c == ',' || c == ';' || c > '~')
			return conf_fail(ctx, "'%r' is not a network name (token "
				    "characters only)", val);
	}

	ctx->conf->visited_network_id =
		mem_deref(ctx->conf->visited_network_id);

	return pl_strdup(&ctx->conf->visited_network_id, val);
}


static int k_mw_timeout(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->mw_timeout, val, 1, 64);
}


static int k_max_registrations(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->max_registrations, val, 1,
			 1000000);
}


static int k_w2_rate_limit(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->w2_rate_limit, val, 0, 10000);
}


static int k_mw_emergency_next_hop(struct ctx *ctx, const struct pl *val)
{
	struct uri uri;
	struct pl pl = *val;

	if (uri_decode(&uri, &pl) || (pl_strcmp(&uri.scheme, "sip") &&
				      pl_strcmp(&uri.scheme, "sips")))
		return conf_fail(ctx, "'%r' is not a SIP URI", val);

	return pl_strdup(&ctx->conf->mw_emergency_next_hop, val);
}


static int k_emergency_number(struct ctx *ctx, const struct pl *val)
{
	size_t i;

	for (i = 0; i < val->l; i++) {
		char c = val->p[i];

		if (!((c >= '0' && c <= '9') || c == '*' || c == '#' ||
		      (c == '+' && i == 0)))
			return conf_fail(ctx, "'%r' is not a dialled number", val);
	}

	return conf_str_append(&ctx->conf->emergency_numbers, val);
}


static int k_max_connections(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->max_connections, val, 1, 1000000);
}


static int k_w2_max_message(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->w2_max_message, val,
			 1024, 1048576);
}


static int k_w2_max_pending(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->w2_max_pending, val, 1,
			      1000000);
}


static int k_w2_pending_per_address(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->w2_pending_per_address, val,
			      1, 1000000);
}


static int k_w2_connections_per_address(struct ctx *ctx,
					const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->w2_connections_per_address,
			      val, 1, 1000000);
}


static int k_buffer_budget(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->buffer_budget, val,
			      1048576, 1073741824);
}


static int k_w2_ping_interval(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->w2_ping_interval, val, 0, 3600);
}


static int k_w2_idle_timeout(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->w2_idle_timeout, val, 1, 86400);
}


static int k_w2_handshake_timeout(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->w2_handshake_timeout, val, 1, 120);
}


/* ADDR:PORT on loopback, or a PORT on 127.0.0.1: the metrics are plain
   HTTP, for local scrapers only */
static int k_metrics_listen(struct ctx *ctx, const struct pl *val)
{
	struct sa *sa = &ctx->conf->metrics_listen;
	uint32_t port;

	if (pl_strchr(val, ':')) {
		int err = conf_parse_addr(ctx, sa, val);

		if (err)
			return err;
	}
	else if (conf_parse_u32(ctx, &port, val, 1, 65535))
		return conf_fail(ctx, "'%r' is not an ADDR:PORT or a PORT", val);
	else
		(void)sa_set_str(sa, "127.0.0.1", (uint16_t)port);

	if (!sa_is_loopback(sa))
		return conf_fail(ctx, "'%r' is not a loopback address (this "
				 "listener is plain HTTP, for local scrapers; "
				 "for scrapers elsewhere set metrics_token and "
				 "scrape https://WWSF/metrics)", val);

	return 0;
}


static int k_control_socket(struct ctx *ctx, const struct pl *val)
{
	if (val->p[0] != '/' || val->l > 100)
		return conf_fail(ctx, "'%r' is not an absolute path of at most "
				 "100 bytes", val);

	ctx->conf->control_socket = mem_deref(ctx->conf->control_socket);

	return pl_strdup(&ctx->conf->control_socket, val);
}


static int k_crypto_provider(struct ctx *ctx, const struct pl *val)
{
	if (pl_strcmp(val, "software") && pl_strcmp(val, "afalg"))
		return conf_fail(ctx, "'%r' is not one of software, afalg", val);

	return pl_strdup(&ctx->conf->crypto_provider, val);
}


static int k_log_level(struct ctx *ctx, const struct pl *val)
{
	char name[16];

	if (val->l >= sizeof(name))
		goto bad;

	pl_strcpy(val, name, sizeof(name));
	if (!log_level_decode(&ctx->conf->log_level, name))
		return 0;

 bad:
	return conf_fail(ctx, "'%r' is not one of debug, info, warn, error", val);
}


static int k_log_syslog(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_bool(ctx, &ctx->conf->log_syslog, val);
}


/* audio transcoding (issue 11): only in a build with TRANSCODE=1 */
static int k_transcoding(struct ctx *ctx, const struct pl *val)
{
	int err = conf_parse_bool(ctx, &ctx->conf->transcoding, val);

#ifndef IMSEDGE_TRANSCODE
	if (!err && ctx->conf->transcoding)
		return conf_fail(ctx, "transcoding is not built in "
				 "(TRANSCODE=0)");
#endif
	return err;
}


static int k_max_transcoded_calls(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->max_transcoded_calls, val, 0,
			      100000);
}


static int k_opus_complexity(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->opus_complexity, val, 0, 10);
}


static int k_mw_reg_event(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_bool(ctx, &ctx->conf->mw_reg_event, val);
}


static const struct conf_key keys[] = {
	{"mw_reg_event",         k_mw_reg_event,         false, false},
	{"w2_listen",            k_w2_listen,            false, true },
	{"tls_cert",             k_tls_cert,             false, true },
	{"tls_key",              k_tls_key,              false, true },
	{"w2_origin",            k_w2_origin,            true,  true },
	{"max_connections",      k_max_connections,      false, false},
	{"w2_max_message",       k_w2_max_message,       false, false},
	{"w2_ping_interval",     k_w2_ping_interval,     false, false},
	{"w2_idle_timeout",      k_w2_idle_timeout,      false, false},
	{"w2_handshake_timeout", k_w2_handshake_timeout, false, false},
	{"w2_max_pending",       k_w2_max_pending,       false, false},
	{"w2_pending_per_address", k_w2_pending_per_address, false, false},
	{"w2_connections_per_address", k_w2_connections_per_address,
	 false, false},
	{"buffer_budget",        k_buffer_budget,        false, false},
	{"mw_listen",            k_mw_listen,            false, true },
	{"mw_next_hop",          k_mw_next_hop,          false, true },
	{"visited_network_id",   k_visited_network_id,   false, false},
	{"mw_timeout",           k_mw_timeout,           false, false},
	{"max_registrations",    k_max_registrations,    false, false},
	{"w2_rate_limit",        k_w2_rate_limit,        false, false},
	{"media_listen",         k_media_listen,         false, false},
	{"media_core_addr",      k_media_core_addr,      false, false},
	{"media_public",         k_media_public,         false, false},
	{"media_core_public",    k_media_core_public,    false, false},
	{"rtp_ports",            k_rtp_ports,            false, false},
	{"max_calls",            k_max_calls,            false, false},
	{"media_dscp",           k_media_dscp,           false, false},
	{"media_port_shared",    k_media_port_shared,    false, false},
	{"media_core_port_shared", k_media_core_port_shared, false, false},
	{"consent_timeout",      k_consent_timeout,      false, false},
	{"datachannel",          k_datachannel,          false, false},
	{"max_datachannels",     k_max_datachannels,     false, false},
	{"dc_max_message",       k_dc_max_message,       false, false},
	{"core_datachannel",     k_core_datachannel,     false, false},
	{"mw_emergency_next_hop", k_mw_emergency_next_hop, false, false},
	{"emergency_number",     k_emergency_number,     true,  false},
	{"wwsf_listen",          k_wwsf_listen,          false, false},
	{"wwsf_root",            k_wwsf_root,            false, false},
	{"wwsf_users",           k_wwsf_users,           false, false},
	{"wwsf_origin",          k_wwsf_origin,          false, false},
	{"wwsf_connections_per_address", k_wwsf_connections_per_address,
	 false, false},
	{"token_key",            k_token_key,            false, false},
	{"token_lifetime",       k_token_lifetime,       false, false},
	{"identity_pool",        k_identity_pool,        true,  false},
	{"waf_pubkey",           k_waf_pubkey,           true,  false},
	{"w2_public_url",        k_w2_public_url,        false, false},
	{"crypto_provider",      k_crypto_provider,      false, false},
	{"metrics_listen",       k_metrics_listen,       false, false},
	{"metrics_token",        k_metrics_token,        false, false},
	{"control_socket",       k_control_socket,       false, false},
	{"log_level",            k_log_level,            false, false},
	{"log_syslog",           k_log_syslog,           false, false},
	{"transcoding",          k_transcoding,          false, false},
	{"max_transcoded_calls", k_max_transcoded_calls, false, false},
	{"opus_complexity",      k_opus_complexity,      false, false},
	{"core_codecs",          k_core_codecs,          false, false},
	{"amr_wb_mode_set",      k_amr_wb_mode_set,      false, false},
};


static void vals_free(struct imsedge_conf *conf)
{
	size_t i;

	if (!conf->key_vals)
		return;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		mem_deref(conf->key_vals[i]);

	conf->key_vals = mem_deref(conf->key_vals);
}


static const struct conf_key *key_find(const struct pl *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (0 == pl_strcmp(name, keys[i].name))
			return &keys[i];
	}

	return NULL;
}


static void defaults(struct imsedge_conf *conf)
{
	conf->max_connections      = 1024;
	conf->w2_max_message       = 65536;
	conf->w2_ping_interval     = 30;
	conf->w2_idle_timeout      = 600;
	conf->w2_handshake_timeout = 10;
	conf->w2_pending_per_address     = 32;
	conf->w2_connections_per_address = 256;
	conf->buffer_budget        = 33554432;
	conf->mw_timeout           = 10;
	conf->max_registrations    = 1000;
	conf->w2_rate_limit        = 20;
	conf->log_level            = LOG_LVL_INFO;
	conf->log_syslog           = false;
#ifdef IMSEDGE_TRANSCODE
	conf->transcoding          = true;
#endif
	conf->max_transcoded_calls = 16;
	conf->opus_complexity      = IMSEDGE_OPUS_COMPLEXITY;
	conf->mw_reg_event         = false;
	conf_media_defaults(conf);
	conf_web_defaults(conf);
	conf_dc_defaults(conf);
	conf_xcode_defaults(conf);
}


static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}


/* Split one line into key and value; both empty for a blank/comment */
static void split_line(struct pl *line, struct pl *key, struct pl *val)
{
	const char *p = line->p, *end = line->p + line->l;

	while (p < end && is_space(*p))
		++p;
	while (end > p && is_space(end[-1]))
		--end;

	key->p = p;
	key->l = 0;
	val->p = end;
	val->l = 0;

	if (p == end || *p == '#')
		return;

	while (p < end && !is_space(*p))
		++p;
	key->l = p - key->p;

	while (p < end && is_space(*p))
		++p;
	val->p = p;
	val->l = end - p;
}


/* Keep each key's text (repeated keys: one line each), to tell which
   keys a reload changed */
static int val_keep(struct imsedge_conf *conf, size_t i, const struct pl *val)
{
	char *old = conf->key_vals[i], *s = NULL;
	int err;

	err = re_sdprintf(&s, "%s%r\n", old ? old : "", val);
	if (err)
		return err;

	mem_deref(old);
	conf->key_vals[i] = s;
	return 0;
}


static int parse_line(struct ctx *ctx, uint8_t *seen, const struct pl *key,
		      const struct pl *val)
{
	const struct conf_key *k = key_find(key);
	int err;

	if (!k)
		return conf_fail(ctx, "unknown key '%r'", key);

	if (seen[k - keys] && !k->repeat)
		return conf_fail(ctx, "key '%s' given twice", k->name);

	seen[k - keys] = 1;
	ctx->conf->key_lines[k - keys] = ctx->line;

	if (!val->l)
		return conf_fail(ctx, "key '%s' needs a value", k->name);

	err = k->h(ctx, val);

	return err ? err : val_keep(ctx->conf, k - keys, val);
}


static int check_required(struct ctx *ctx, const uint8_t *seen,
			  conf_report_h *reph, void *arg)
{
	char line[320];
	int err = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!keys[i].required || seen[i])
			continue;

		err = conf_fail(ctx, "missing required key '%s'",
				keys[i].name);
		if (!reph)
			break;

		(void)re_snprintf(line, sizeof(line), "%s: %s",
				  ctx->conf->path, ctx->err);
		reph(line, arg);
	}

	return err;
}


static int add_number(struct imsedge_conf *conf, const char *num)
{
	struct pl pl;

	pl_set_str(&pl, num);

	return conf_str_append(&conf->emergency_numbers, &pl);
}


/* Values that default to others, and checks across keys */
static int finish(struct ctx *ctx)
{
	struct imsedge_conf *conf = ctx->conf;
	int err = 0;

	if (sa_isset(&conf->media_listen, SA_ADDR) &&
	    !sa_isset(&conf->media_core_addr, SA_ADDR))
		conf->media_core_addr = conf->media_listen;

	/* 0: not given; a quarter of max_connections, at least 64 */
	if (!conf->w2_max_pending)
		conf->w2_max_pending = max(conf->max_connections / 4,
					   (uint32_t)64);

	if (conf->buffer_budget < 2 * conf->w2_max_message)
		return conf_fail(ctx, "buffer_budget %u is below twice "
				 "w2_max_message (%u)", conf->buffer_budget,
				 conf->w2_max_message);

	if (!conf->emergency_numbers.head) {
		err  = add_number(conf, "112");
		err |= add_number(conf, "911");
	}

	return err ? err : conf_web_finish(ctx);
}


/* Parse every line; each problem goes to reph (if set), the first one
   to errbuf. Without reph parsing stops at the first problem. */
static int parse(struct imsedge_conf **confp, const char *name,
		 const char *text, size_t len, char *errbuf, size_t errsz,
		 conf_report_h *reph, void *arg)
{
	uint8_t seen[ARRAY_SIZE(keys)] = {0};
	char reason[256] = "", line1[320];
	struct ctx ctx = {NULL, reason, sizeof(reason), 0};
	const char *p = text, *end = text + len;
	int err = 0, first = 0;

	ctx.conf = mem_zalloc(sizeof(*ctx.conf), destructor);
	if (!ctx.conf)
		return ENOMEM;

	defaults(ctx.conf);

	ctx.conf->key_lines = mem_zalloc(sizeof(unsigned) *
					 ARRAY_SIZE(keys), NULL);
	ctx.conf->key_vals = mem_zalloc(sizeof(char *) *
					ARRAY_SIZE(keys), NULL);
	err  = ctx.conf->key_lines && ctx.conf->key_vals ? 0 : ENOMEM;
	err |= str_dup(&ctx.conf->path, name);
	err |= str_dup(&ctx.conf->visited_network_id, "imsedge");
	err |= str_dup(&ctx.conf->control_socket, CONF_CONTROL_SOCKET);
	if (err)
		goto out;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		struct pl ln, key, val;

		ln.p = p;
		ln.l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		p = nl ? nl + 1 : end;
		++ctx.line;

		if (ln.l > CONF_LINE_MAX)
			err = conf_fail(&ctx, "line longer than %u bytes",
					CONF_LINE_MAX);
		else if (memchr(ln.p, '\0', ln.l))
			err = conf_fail(&ctx, "NUL byte in line");
		else {
			split_line(&ln, &key, &val);
			err = key.l ? parse_line(&ctx, seen, &key, &val) : 0;
		}

		if (err == EINVAL) {
			(void)re_snprintf(line1, sizeof(line1), "%s:%u: %s",
					  name, ctx.line, reason);
			if (!first)
				(void)str_ncpy(errbuf, line1, errsz);
			first = first ? first : err;
			if (!reph)
				goto out;
			reph(line1, arg);
			err = 0;
		}
		else if (err)
			goto out;
	}

	err = check_required(&ctx, seen, reph, arg);
	if (err && !first)
		(void)re_snprintf(errbuf, errsz, "%s: %s", name, reason);
	first = first ? first : err;
	if (first) {
		err = first;
		goto out;
	}

	err = finish(&ctx);
	if (err == EINVAL) {
		(void)re_snprintf(errbuf, errsz, "%s: %s", name, reason);
		if (reph)
			reph(errbuf, arg);
	}

 out:
	if (err)
		mem_deref(ctx.conf);
	else
		*confp = ctx.conf;

	return err;
}


/**
 * Parse a configuration held in memory
 *
 * @param confp  Returned configuration
 * @param name   File name, for error messages
 * @param text   Contents
 * @param len    Length of contents
 * @param errbuf Buffer for "NAME:LINE: reason" on error
 * @param errsz  Size of errbuf
 *
 * @return 0 if success, otherwise errorcode
 */
int conf_parse(struct imsedge_conf **confp, const char *name,
	       const char *text, size_t len, char *errbuf, size_t errsz)
{
	if (!confp || !name || (!text && len) || !errbuf || !errsz)
		return EINVAL;

	return parse(confp, name, text, len, errbuf, errsz, NULL, NULL);
}


/* Read and parse; problems as parse() */
static int load(struct imsedge_conf **confp, const char *path,
		char *errbuf, size_t errsz, conf_report_h *reph, void *arg)
{
	struct mbuf *mb;
	int err;

	mb = mbuf_alloc(4096);
	if (!mb)
		return ENOMEM;

	err = file_read(mb, path, CONF_FILE_MAX);
	if (!err)
		err = parse(confp, path, (char *)mb->buf, mb->end,
			    errbuf, errsz, reph, arg);
	else {
		if (err == EFBIG)
			(void)re_snprintf(errbuf, errsz, "%s: larger than %u "
					  "bytes", path, CONF_FILE_MAX);
		else
			(void)re_snprintf(errbuf, errsz, "%s: cannot read: "
					  "%m", path, err);
		if (reph)
			reph(errbuf, arg);
	}

	mem_deref(mb);
	return err;
}


/**
 * Load and parse a configuration file
 *
 * @param confp  Returned configuration
 * @param path   File to read
 * @param errbuf Buffer for "FILE:LINE: reason" on error
 * @param errsz  Size of errbuf
 *
 * @return 0 if success, otherwise errorcode
 */
int conf_load(struct imsedge_conf **confp, const char *path,
	      char *errbuf, size_t errsz)
{
	if (!confp || !path || !errbuf || !errsz)
		return EINVAL;

	return load(confp, path, errbuf, errsz, NULL, NULL);
}


/**
 * Load and parse a configuration file reporting every problem, not just
 * the first (imsedge -t)
 *
 * @param confp Returned configuration (set only if there is no problem)
 * @param path  File to read
 * @param reph  Called with each "FILE:LINE: reason"
 * @param arg   Its argument
 *
 * @return 0 if no problem, otherwise errorcode
 */
int conf_check(struct imsedge_conf **confp, const char *path,
	       conf_report_h *reph, void *arg)
{
	char errbuf[320] = "";

	if (!confp || !path || !reph)
		return EINVAL;

	return load(confp, path, errbuf, sizeof(errbuf), reph, arg);
}


/**
 * The line a key was (last) given on
 *
 * @param conf Configuration
 * @param key  Key name
 *
 * @return Line number, 0 if the key was not given
 */
unsigned conf_line(const struct imsedge_conf *conf, const char *key)
{
	struct pl name;
	const struct conf_key *k;

	if (!conf || !conf->key_lines || !key)
		return 0;

	pl_set_str(&name, key);
	k = key_find(&name);

	return k ? conf->key_lines[k - keys] : 0;
}


/**
 * Find an Origin header value in the allowed list (exact match,
 * case-insensitive for scheme and host as RFC 6454 serializes them)
 *
 * @param conf   Configuration
 * @param origin Value of the Origin header
 *
 * @return The configured origin (a mem object: mem_ref it to keep it
 *         beyond a reload), or NULL if not allowed
 */
const char *conf_origin_find(const struct imsedge_conf *conf,
			     const struct pl *origin)
{
	struct le *le;

	if (!conf || !pl_isset(origin))
		return NULL;

	for (le = conf->origins.head; le; le = le->next) {
		const struct conf_str *s = le->data;

		if (0 == pl_strcasecmp(origin, s->val))
			return s->val;
	}

	return NULL;
}


/**
 * Check an Origin header value against the allowed list
 * (conf_origin_find)
 *
 * @param conf   Configuration
 * @param origin Value of the Origin header
 *
 * @return true if allowed
 */
bool conf_origin_allowed(const struct imsedge_conf *conf,
			 const struct pl *origin)
{
	return conf_origin_find(conf, origin) != NULL;
}


/* Keys SIGHUP applies; a change of any other needs a restart */
static const char *reloadable[] = {
	"tls_cert", "tls_key", "w2_origin", "max_connections",
	"w2_max_message", "w2_ping_interval", "w2_idle_timeout",
	"w2_handshake_timeout", "wwsf_users", "log_level", "log_syslog",
	"w2_max_pending", "w2_pending_per_address",
	"w2_connections_per_address", "buffer_budget",
};


static bool is_reloadable(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(reloadable); i++) {
		if (!strcmp(name, reloadable[i]))
			return true;
	}

	return false;
}


/**
 * Which keys changed between two configurations that SIGHUP does not
 * apply (they need a restart)
 *
 * @param a   Running configuration
 * @param b   Reloaded configuration
 * @param buf Returned names, separated by ", " (may be truncated)
 * @param sz  Size of buf
 *
 * @return true if any such key changed
 */
bool conf_restart_needed(const struct imsedge_conf *a,
			 const struct imsedge_conf *b, char *buf, size_t sz)
{
	size_t i, n = 0;

	if (!a || !b || !buf || !sz || !a->key_vals || !b->key_vals)
		return false;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *x = a->key_vals[i], *y = b->key_vals[i];

		if ((!x && !y) || (x && y && !strcmp(x, y)) ||
		    is_reloadable(keys[i].name))
			continue;

		(void)re_snprintf(buf + n, sz - n, "%s%s", n ? ", " : "",
				  keys[i].name);
		n = strlen(buf);
	}

	return n > 0;
}


/**
 * Buckets for a hash table that holds about one entry per connection
 * (flows, W2 connections, SIP transactions): the power of two at or
 * above half of max_connections, 256 to 32768, so that a lookup at the
 * connection cap walks one or two entries and a small router's tables
 * stay small (8 KiB each at the default 1024)
 *
 * @param conf Configuration
 *
 * @return Number of buckets (a power of two)
 */
uint32_t conf_conn_buckets(const struct imsedge_conf *conf)
{
	uint32_t want = conf ? conf->max_connections / 2 : 0;
	uint32_t n = 256;

	while (n < want && n < 32768)
		n <<= 1;

	return n;
}

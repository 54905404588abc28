/**
 * @file conf_media.c  Configuration keys of the eIMS-AGW's media plane:
 *                     media_listen, media_core_addr, media_public,
 *                     media_core_public, rtp_ports, max_calls,
 *                     media_dscp, media_port_shared,
 *                     media_core_port_shared, consent_timeout
 */
#include <re.h>
#include "conf.h"
#include "conf_int.h"


static int parse_ip(struct ctx *ctx, struct sa *sa, const struct pl *val)
{
	if (sa_set(sa, val, 0))
		return conf_fail(ctx, "'%r' is not an IP address", val);

	return 0;
}


/* An interface name as Linux allows it (IFNAMSIZ - 1 characters) */
static bool ifname_valid(const struct pl *val)
{
	size_t i;

	if (!val->l || val->l > 15)
		return false;

	for (i = 0; i < val->l; i++) {
		char c = val->p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == '@'))
			return false;
	}

	return true;
}


/* An IP address, "any" (every address of the host) or an interface
   name (its addresses); the names are resolved at start */
int k_media_listen(struct ctx *ctx, const struct pl *val)
{
	struct sa *sa = &ctx->conf->media_listen;

	if (!sa_set(sa, val, 0) && !sa_is_any(sa))
		return 0;

	if (sa_af(sa) == AF_INET || sa_af(sa) == AF_INET6) {
		sa_init(sa, AF_UNSPEC);    /* 0.0.0.0 or :: is "any" */
		return str_dup(&ctx->conf->media_if, "any");
	}

	if (!ifname_valid(val))
		return conf_fail(ctx, "'%r' is not an IP address, an interface "
				 "name or any", val);

	return pl_strdup(&ctx->conf->media_if, val);
}


int k_media_core_addr(struct ctx *ctx, const struct pl *val)
{
	return parse_ip(ctx, &ctx->conf->media_core_addr, val);
}


/* Addresses the AGW advertises instead of the ones it listens on, for
   1:1 NAT and port forwards (the ports stay the same) */
int k_media_public(struct ctx *ctx, const struct pl *val)
{
	return parse_ip(ctx, &ctx->conf->media_public, val);
}


int k_media_core_public(struct ctx *ctx, const struct pl *val)
{
	return parse_ip(ctx, &ctx->conf->media_core_public, val);
}


int k_rtp_ports(struct ctx *ctx, const struct pl *val)
{
	struct pl lo, hi;
	uint32_t a, b;
	int err;

	if (re_regex(val->p, val->l, "[0-9]+-[0-9]+", &lo, &hi) ||
	    lo.l + hi.l + 1 != val->l)
		return conf_fail(ctx, "'%r' is not a port range MIN-MAX", val);

	err  = conf_parse_u32(ctx, &a, &lo, 1024, 65534);
	err |= err ? 0 : conf_parse_u32(ctx, &b, &hi, 1025, 65535);
	if (err)
		return EINVAL;

	if (b < a + 3)
		return conf_fail(ctx, "'%r' holds fewer than 4 ports", val);

	ctx->conf->rtp_port_min = (uint16_t)a;
	ctx->conf->rtp_port_max = (uint16_t)b;

	return 0;
}


int k_max_calls(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->max_calls, val, 1, 100000);
}


/* media_core_port_shared yes|no: one core-side port pair for all calls */
int k_media_core_port_shared(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_bool(ctx, &ctx->conf->media_core_port_shared, val);
}


/* media_port_shared yes|no: one browser-side port for all calls */
int k_media_port_shared(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_bool(ctx, &ctx->conf->media_port_shared, val);
}


int k_media_dscp(struct ctx *ctx, const struct pl *val)
{
	uint32_t v;
	int err = conf_parse_u32(ctx, &v, val, 0, 63);

	if (!err)
		ctx->conf->media_dscp = (uint8_t)v;

	return err;
}


int k_consent_timeout(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->consent_timeout, val, 1, 3600);
}


void conf_media_defaults(struct imsedge_conf *conf)
{
	conf->rtp_port_min           = 30000;
	conf->rtp_port_max           = 39999;
	conf->max_calls              = 100;
	conf->consent_timeout        = 30;
	conf->media_port_shared      = true;
	conf->media_core_port_shared = true;
}

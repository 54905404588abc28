/**
 * @file conf_dc.c  Configuration keys of data channels at the eIMS-AGW:
 *                  datachannel, max_datachannels, dc_max_message,
 *                  core_datachannel
 */
#include <re.h>
#include "conf.h"
#include "conf_int.h"


/** datachannel yes|no: terminate UDP/DTLS/SCTP m-lines (RFC 8841) */
int k_datachannel(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_bool(ctx, &ctx->conf->datachannel, val);
}


/** max_datachannels N: open channels per SCTP association */
int k_max_datachannels(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->max_datachannels, val, 1,
			      1024);
}


/** dc_max_message BYTES: largest message taken (a=max-message-size) */
int k_dc_max_message(struct ctx *ctx, const struct pl *val)
{
	return conf_parse_u32(ctx, &ctx->conf->dc_max_message, val, 1024,
			      1048576);
}


/**
 * core_datachannel relay|terminate: a browser's data-channel m-line goes
 * to the core as it is (a DC-capable core, TS 26.114 DCMTSI), or the
 * AGW terminates it
 */
int k_core_datachannel(struct ctx *ctx, const struct pl *val)
{
	if (!pl_strcasecmp(val, "relay"))
		ctx->conf->core_dc_relay = true;
	else if (!pl_strcasecmp(val, "terminate"))
		ctx->conf->core_dc_relay = false;
	else
		return conf_fail(ctx, "'%r' is not relay or terminate", val);

	return 0;
}


void conf_dc_defaults(struct imsedge_conf *conf)
{
	conf->datachannel      = true;
	conf->max_datachannels = 16;
	conf->dc_max_message   = 65536;
}

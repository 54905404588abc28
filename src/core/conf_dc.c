/**
 * @file conf_dc.c  Configuration keys of data channels at the eIMS-AGW:
 *                  datachannel, max_datachannels, dc_max_message
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


void conf_dc_defaults(struct imsedge_conf *conf)
{
	conf->datachannel      = true;
	conf->max_datachannels = 16;
	conf->dc_max_message   = 65536;
}

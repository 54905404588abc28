/**
 * @file none.c  Data channels left out of the build (board option
 *               DATACHANNEL=0): no usrsctp is linked. Every association
 *               fails to start with ENOTSUP; the AGW never asks for one
 *               (agw_dc_enabled() is false), so data-channel m-lines it
 *               would terminate are rejected, while relayed ones
 *               (core_datachannel relay, a core's offer) still pass: the
 *               relay forwards DTLS and needs no SCTP.
 */
#include <string.h>
#include <re.h>
#include "dc.h"


int dc_assoc_alloc(struct dc_assoc **ap, const struct dc_conf *conf,
		   bool dtls_client, const struct dc_handlers *h, void *arg)
{
	(void)ap;
	(void)conf;
	(void)dtls_client;
	(void)h;
	(void)arg;

	return ENOTSUP;
}


int dc_assoc_start(struct dc_assoc *a)
{
	(void)a;

	return ENOTSUP;
}


void dc_assoc_input(struct dc_assoc *a, const uint8_t *p, size_t n)
{
	(void)a;
	(void)p;
	(void)n;
}


bool dc_assoc_up(const struct dc_assoc *a)
{
	(void)a;

	return false;
}


void dc_assoc_stats(const struct dc_assoc *a, struct dc_stats *st)
{
	(void)a;

	if (st)
		memset(st, 0, sizeof(*st));
}


int dc_chan_open(struct dc_assoc *a, uint16_t *sidp, const char *label,
		 const char *proto)
{
	(void)a;
	(void)sidp;
	(void)label;
	(void)proto;

	return ENOTSUP;
}


int dc_chan_negotiated(struct dc_assoc *a, uint16_t sid, const char *label,
		       const char *proto)
{
	(void)a;
	(void)sid;
	(void)label;
	(void)proto;

	return ENOTSUP;
}


int dc_chan_send(struct dc_assoc *a, uint16_t sid, bool binary,
		 const uint8_t *p, size_t n)
{
	(void)a;
	(void)sid;
	(void)binary;
	(void)p;
	(void)n;

	return ENOTSUP;
}


int dc_chan_close(struct dc_assoc *a, uint16_t sid)
{
	(void)a;
	(void)sid;

	return ENOTSUP;
}


const struct dc_chan_info *dc_chan_info(const struct dc_assoc *a,
					uint16_t sid)
{
	(void)a;
	(void)sid;

	return NULL;
}


void dc_close(void)
{
}

/**
 * @file dc.c  Data-channel m-lines (RFC 8841): `m=application ...
 *             UDP/DTLS/SCTP webrtc-datachannel`, a=sctp-port and
 *             a=max-message-size, terminated by the AGW (D-41)
 *
 * A browser's data-channel m-line gets a W3 transport like media (its
 * own or its BUNDLE group's) and an SCTP association in the AGW; the
 * core is offered it rejected (port 0): nothing of it is interworked
 * toward the core yet. The browser's answer is the AGW's own:
 * transport, a=sctp-port, a=max-message-size.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"
#include "sdpx.h"

enum {
	SCTP_PORT_DEF = 5000,        /* RFC 8841 5: absent a=sctp-port   */
	MAX_MSG_DEF   = 65536,       /* RFC 8841 6: absent ...-size      */
};


/** true if an m-line is a data-channel one the AGW can terminate */
bool sdpx_dc_media(const struct sdpx_media *m)
{
	return !pl_strcasecmp(&m->type, "application") &&
		!pl_strcasecmp(&m->proto, "UDP/DTLS/SCTP") &&
		!pl_strcmp(&m->fmts, "webrtc-datachannel");
}


static int attr_u32(uint32_t *v, const struct sdpx_media *m,
		    const char *name, uint32_t min, uint32_t max,
		    uint32_t def)
{
	struct pl arg;
	uint64_t x;

	if (!sdpx_attr_find(m->linev, m->linec, name, &arg)) {
		*v = def;
		return 0;
	}

	if (!sdpx_digits(&arg, 10))
		return EPROTO;

	x = pl_u64(&arg);
	if (x < min || x > max)
		return EPROTO;

	*v = (uint32_t)x;

	return 0;
}


/**
 * The browser's SCTP parameters of a data-channel m-line
 *
 * @param prm Returned (tid not set)
 * @param m   m-line
 *
 * @return 0 if success, EPROTO a malformed attribute
 */
int sdpx_dc_prm(struct agw_dc_prm *prm, const struct sdpx_media *m)
{
	uint32_t port;
	int err;

	memset(prm, 0, sizeof(*prm));

	err = attr_u32(&port, m, "sctp-port", 1, 65535, SCTP_PORT_DEF);
	if (err)
		return err;

	err = attr_u32(&prm->max_message, m, "max-message-size", 0,
		       UINT32_MAX, MAX_MSG_DEF);
	prm->sctp_port = (uint16_t)port;

	return err;
}


/**
 * Tell the AGW about the call's data-channel m-lines (ops NULL: only
 * check them)
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_dc_streams(struct sdpx_call *call, const struct sdpx_sdp *sdp,
		    const struct sdpx_ops *ops, void *arg)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < call->mlc; i++) {
		struct sdpx_ml *ml = &call->mlv[i];
		struct agw_dc_prm prm;

		if (ml->rejected || !ml->dc)
			continue;

		err = sdpx_dc_prm(&prm, &sdp->mv[i]);
		if (err || !ops)
			continue;

		prm.tid = ml->tid;
		err = ops->datachannel(arg, (unsigned)i, &prm, &ml->dcinfo);
	}

	return err;
}


/**
 * Write the AGW's answer to a browser's data-channel m-line
 *
 * @param mb   Buffer
 * @param call The call
 * @param ml   The m-line (accepted, with a transport)
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_dc_write(struct mbuf *mb, const struct sdpx_call *call,
		  const struct sdpx_ml *ml)
{
	const struct sdpx_tp *tp = &call->tpv[ml->tid];
	const struct agw_w3_info *info = &tp->info;
	int err;

	err  = mbuf_printf(mb, "m=application %u UDP/DTLS/SCTP "
			   "webrtc-datachannel\r\n", sa_port(&info->cand));
	err |= sdpx_write_conn(mb, &info->cand);
	if (ml->mid[0])
		err |= mbuf_printf(mb, "a=mid:%s\r\n", ml->mid);
	err |= mbuf_printf(mb, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n",
			   info->ufrag, info->pwd);
	err |= mbuf_printf(mb, "a=fingerprint:%s\r\n", info->fingerprint);
	err |= mbuf_printf(mb, "a=setup:%s\r\n",
			   tp->setup == AGW_SETUP_ACTIVE ? "active" :
			   "passive");
	err |= mbuf_printf(mb, "a=candidate:1 1 udp 2130706431 %j %u typ host"
			   "\r\na=end-of-candidates\r\n",
			   &info->cand, sa_port(&info->cand));
	err |= mbuf_printf(mb, "a=sctp-port:%u\r\na=max-message-size:%u\r\n",
			   ml->dcinfo.sctp_port, ml->dcinfo.max_message);

	return err;
}

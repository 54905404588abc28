/**
 * @file dc.c  Data-channel m-lines (RFC 8841): `m=application ...
 *             UDP/DTLS/SCTP webrtc-datachannel`, a=sctp-port and
 *             a=max-message-size, terminated by the AGW (D-41)
 *
 * A browser's data-channel m-line gets a W3 transport like media (its
 * own or its BUNDLE group's) and an SCTP association in the AGW; the
 * core is offered it rejected (port 0), or as m=message when it
 * carries an MSRP channel (msrp.c). The browser's answer is the AGW's own:
 * transport, a=sctp-port, a=max-message-size, and the a=dcmap channels
 * (RFC 8864) it opened without DCEP (D-44).
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


/* "..." without quotes inside, shorter than sz */
static int quoted(char *dst, size_t sz, const struct pl *v)
{
	struct pl in;

	if (v->l < 2 || v->p[0] != '"' || v->p[v->l - 1] != '"')
		return EPROTO;

	in.p = v->p + 1;
	in.l = v->l - 2;
	if (in.l >= sz || pl_strchr(&in, '"'))
		return EPROTO;

	return pl_strcpy(&in, dst, sz);
}


static void trim(struct pl *pl)
{
	while (pl->l && pl->p[0] == ' ')
		pl_advance(pl, 1);
	while (pl->l && pl->p[pl->l - 1] == ' ')
		--pl->l;
}


/* label="..." or subprotocol="..."; other options are not used here */
static int dcmap_opt(struct agw_dcmap *d, const struct pl *opt)
{
	const char *eq = pl_strchr(opt, '=');
	struct pl name, val;

	if (!eq)
		return EPROTO;

	name.p = opt->p;
	name.l = eq - opt->p;
	val.p = eq + 1;
	val.l = opt->l - name.l - 1;
	trim(&name);
	trim(&val);

	if (!pl_strcasecmp(&name, "label"))
		return quoted(d->label, sizeof(d->label), &val);

	if (!pl_strcasecmp(&name, "subprotocol"))
		return quoted(d->proto, sizeof(d->proto), &val);

	return 0;
}


/* a=dcmap:<stream-id> [<opt>*(";" <opt>)] (RFC 8864 5.1) */
static int dcmap_parse(struct agw_dcmap *d, const struct pl *arg)
{
	const char *sp = pl_strchr(arg, ' ');
	struct pl id = *arg, opts = PL_INIT, opt;
	int err = 0;

	memset(d, 0, sizeof(*d));

	if (sp) {
		id.l = sp - arg->p;
		opts.p = sp + 1;
		opts.l = arg->l - id.l - 1;
	}

	if (!sdpx_digits(&id, 5) || pl_u32(&id) > 65534)
		return EPROTO;

	d->sid = (uint16_t)pl_u32(&id);

	while (!err && opts.l) {
		const char *semi = pl_strchr(&opts, ';');

		opt.p = opts.p;
		opt.l = semi ? (size_t)(semi - opts.p) : opts.l;
		pl_advance(&opts, semi ? opt.l + 1 : opt.l);
		trim(&opt);
		if (opt.l)
			err = dcmap_opt(d, &opt);
	}

	return err;
}


/**
 * The channels a data-channel m-line agrees in SDP (a=dcmap), at most
 * AGW_DCMAP_MAX (further ones are not taken, so not answered)
 *
 * @param mapv Returned channels
 * @param mapc Returned count
 * @param m    m-line
 *
 * @return 0 if success, EPROTO a malformed or repeated a=dcmap
 */
int sdpx_dc_maps(struct agw_dcmap *mapv, size_t *mapc,
		 const struct sdpx_media *m)
{
	struct pl name, arg;
	struct agw_dcmap d;
	size_t i, j, n = 0;
	int err;

	for (i = 0; i < m->linec; i++) {

		if (m->linev[i].type != 'a')
			continue;

		sdpx_attr_split(&m->linev[i].val, &name, &arg);
		if (pl_strcasecmp(&name, "dcmap"))
			continue;

		err = dcmap_parse(&d, &arg);
		if (err)
			return err;

		for (j = 0; j < n; j++) {
			if (mapv[j].sid == d.sid)
				return EPROTO;
		}

		if (n < AGW_DCMAP_MAX)
			mapv[n++] = d;
	}

	*mapc = n;

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
	if (err)
		return err;

	return sdpx_dc_maps(prm->mapv, &prm->mapc, m);
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
		memcpy(ml->dcmapv, prm.mapv, sizeof(ml->dcmapv));
		ml->dcmapc = prm.mapc;
		if (!err)
			err = sdpx_msrp_offer(ml, &sdp->mv[i], (unsigned)i,
					      ops, arg);
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
	size_t i;
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

	/* RFC 8864: the channels agreed, as offered */
	for (i = 0; i < ml->dcmapc; i++) {
		const struct agw_dcmap *d = &ml->dcmapv[i];

		err |= mbuf_printf(mb, "a=dcmap:%u label=\"%s\"", d->sid,
				   d->label);
		if (d->proto[0])
			err |= mbuf_printf(mb, ";subprotocol=\"%s\"",
					   d->proto);
		err |= mbuf_write_str(mb, "\r\n");
	}

	return err;
}

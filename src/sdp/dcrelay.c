/**
 * @file dcrelay.c  Data-channel m-lines relayed end to end toward a
 *                  data-channel capable core (TS 26.114 DCMTSI): the AGW
 *                  ends neither DTLS nor SCTP
 *
 * Per call: a browser's offered data-channel m-line (with a port) is
 * relayed when the core is configured data-channel capable
 * (sdpx_dcrelay_set(), config core_datachannel relay) and the browser
 * gave it a transport of its own (sdpx_dcrelay_own(): else the AGW
 * terminates it as before); a core's offered one always is. The m-line gets a W3 transport of its own,
 * outside any BUNDLE group (the AGW ends the DTLS of bundled media),
 * and a core-side port (agw_stream_prm.dcrelay). What the two ends say
 * about DTLS and SCTP passes untouched both ways: a=fingerprint,
 * a=setup, a=tls-id, a=sctp-port, a=max-message-size, a=dcmap, a=dcsa
 * and any other attribute, the fingerprint, setup and tls-id of the
 * session level copied into the m-line when it has none of its own.
 * Only the transport is rewritten: toward the core c=/port are the
 * AGW's core-side port and ICE is dropped; toward the browser c=/port,
 * a=mid and ICE-lite credentials and candidates are the AGW's.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"
#include "sdpx.h"


static bool relay_on;


/**
 * Whether a browser's data-channel m-line goes to the core as it is
 * (core_datachannel relay)
 *
 * @param on Relay, else the AGW terminates it (dc.c)
 */
void sdpx_dcrelay_set(bool on)
{
	relay_on = on;
}


/**
 * Whether an offered data-channel m-line is relayed
 *
 * @param m     The m-line
 * @param core  Offered by the core (else by the browser)
 *
 * @return true if so
 */
bool sdpx_dcrelay_offered(const struct sdpx_media *m, bool core)
{
	return (core || relay_on) && m->port && sdpx_dc_media(m);
}


/* a=candidate's address and port (RFC 8839 5.1: foundation, component,
   transport, priority, address, port, ...) */
static bool cand_addr(struct pl *addr, struct pl *port, const struct pl *arg)
{
	struct pl rest = *arg, tok;
	int k;

	for (k = 0; k < 4; k++) {
		if (!sdpx_token(&rest, &tok))
			return false;
	}

	return sdpx_token(&rest, addr) && sdpx_token(&rest, port);
}


/* every candidate of m is one of tag's (none: true) */
static bool same_cands(const struct sdpx_media *m,
		       const struct sdpx_media *tag)
{
	struct pl name, arg, a1, p1, a2, p2;
	size_t i, j;

	for (i = 0; i < m->linec; i++) {
		bool found = false;

		if (m->linev[i].type != 'a')
			continue;

		sdpx_attr_split(&m->linev[i].val, &name, &arg);
		if (pl_strcasecmp(&name, "candidate") ||
		    !cand_addr(&a1, &p1, &arg))
			continue;

		for (j = 0; j < tag->linec && !found; j++) {

			if (tag->linev[j].type != 'a')
				continue;

			sdpx_attr_split(&tag->linev[j].val, &name, &arg);
			found = !pl_strcasecmp(&name, "candidate") &&
				cand_addr(&a2, &p2, &arg) &&
				!pl_cmp(&a1, &a2) && !pl_cmp(&p1, &p2);
		}

		if (!found)
			return false;
	}

	return true;
}


/**
 * Whether a browser's m-line has a transport of its own, so that the
 * answer may take it out of its BUNDLE group (RFC 8843 7.3.3): outside
 * a group, or not the group's tag and with a candidate the tag does not
 * have. Chromium's max-bundle offer shares the tag's candidates (or has
 * none yet) and refuses an answer that removes the m-line from the
 * group, so such an m-line is not relayed.
 *
 * @param call The staged call (grp set)
 * @param sdp  The browser's offer
 * @param i    m-line index
 *
 * @return true if so
 */
bool sdpx_dcrelay_own(const struct sdpx_call *call,
		      const struct sdpx_sdp *sdp, size_t i)
{
	const int grp = call->mlv[i].grp;
	size_t j;

	if (grp < 0)
		return true;

	for (j = 0; j < sdp->mc; j++) {

		if (call->mlv[j].grp != grp || !sdp->mv[j].port)
			continue;

		if (j == i)
			return false;

		return !same_cands(&sdp->mv[i], &sdp->mv[j]);
	}

	return false;
}


/* attributes of the transport a side has of its own */
static bool transport_attr(const struct pl *name)
{
	static const char *v[] = {
		"candidate", "remote-candidates", "end-of-candidates", "mid",
		"bundle-only", "rtcp-mux", "rtcp-mux-only", "group",
		"rtcp",
	};
	size_t i;

	if (name->l >= 4 && !strncasecmp(name->p, "ice-", 4))
		return true;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (!pl_strcasecmp(name, v[i]))
			return true;
	}

	return false;
}


static int write_passing(struct mbuf *mb, const struct sdpx_sdp *sdp,
			 const struct sdpx_media *m)
{
	static const char *sess[] = {"fingerprint", "setup", "tls-id"};
	struct pl name, arg;
	size_t i, j;
	int err = 0;

	for (i = 0; !err && i < m->linec; i++) {
		const struct sdpx_line *l = &m->linev[i];

		if (l->type != 'a')
			continue;

		sdpx_attr_split(&l->val, &name, &arg);
		if (!transport_attr(&name))
			err = mbuf_printf(mb, "a=%r\r\n", &l->val);
	}

	for (j = 0; !err && j < ARRAY_SIZE(sess); j++) {

		if (sdpx_attr_find(m->linev, m->linec, sess[j], NULL))
			continue;

		for (i = 0; !err && i < sdp->sessc; i++) {
			const struct sdpx_line *l = &sdp->linev[i];

			if (l->type != 'a')
				continue;

			sdpx_attr_split(&l->val, &name, &arg);
			if (!pl_strcasecmp(&name, sess[j]))
				err = mbuf_printf(mb, "a=%r\r\n", &l->val);
		}
	}

	return err;
}


static int write_mline(struct mbuf *mb, const struct sdpx_media *m,
		       uint16_t port, const struct sa *conn)
{
	int err;

	err  = mbuf_printf(mb, "m=%r %u %r %r\r\n", &m->type, port,
			   &m->proto, &m->fmts);
	err |= sdpx_write_lines(mb, m, 'i');
	err |= sdpx_write_conn(mb, conn);
	err |= sdpx_write_lines(mb, m, 'b');

	return err;
}


/**
 * The core-side stream of a relayed m-line (and the core's address
 * when its SDP is given)
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_dcrelay_stream(struct sdpx_ml *ml, unsigned idx,
			const struct sdpx_media *core_m,
			const struct sdpx_ops *ops, void *arg)
{
	struct agw_stream_prm prm;
	struct sa peer, rtcp;
	int err;

	memset(&prm, 0, sizeof(prm));
	prm.tid = ml->tid;
	prm.core_rtcp_mux = true;
	prm.dcrelay = true;

	err = ops->stream(arg, idx, &prm, &ml->core);
	if (err || !core_m)
		return err;

	sdpx_core_peer(&peer, &rtcp, core_m, true);

	return ops->core_peer(arg, idx, &peer, &rtcp);
}


/**
 * Write a relayed m-line toward the core: the AGW's core-side port,
 * the browser's DTLS and SCTP attributes
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_dcrelay_write_core(struct mbuf *mb, const struct sdpx_ml *ml,
			    const struct sdpx_sdp *sdp,
			    const struct sdpx_media *m)
{
	return write_mline(mb, m, sa_port(&ml->core.rtp), &ml->core.rtp) |
		write_passing(mb, sdp, m);
}


/**
 * Write a relayed m-line toward the browser: the AGW's W3 transport
 * (ICE-lite, its own, never bundled), the core's DTLS and SCTP
 * attributes
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_dcrelay_write_browser(struct mbuf *mb, const struct sdpx_call *call,
			       const struct sdpx_ml *ml,
			       const struct sdpx_sdp *sdp,
			       const struct sdpx_media *m)
{
	const struct agw_w3_info *info = &call->tpv[ml->tid].info;
	unsigned i;
	int err;

	err = write_mline(mb, m, sa_port(&info->cand), &info->cand);
	if (ml->mid[0])
		err |= mbuf_printf(mb, "a=mid:%s\r\n", ml->mid);
	err |= mbuf_printf(mb, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n",
			   info->ufrag, info->pwd);
	err |= mbuf_printf(mb, "a=candidate:1 1 udp 2130706431 %j %u typ "
			   "host\r\n", &info->cand, sa_port(&info->cand));
	for (i = 0; i < info->morec && i < ARRAY_SIZE(info->morev); i++)
		err |= mbuf_printf(mb, "a=candidate:%u 1 udp %u %j %u typ "
				   "host\r\n", i + 2,
				   (126u << 24) | ((65534u - i) << 8) | 255u,
				   &info->morev[i], sa_port(&info->morev[i]));
	err |= mbuf_write_str(mb, "a=end-of-candidates\r\n");
	err |= write_passing(mb, sdp, m);

	return err;
}

/**
 * @file msrp.c  MSRP over a data channel (RFC 8873) in SDP <-> an MSRP
 *               m-line toward the core (RFC 4975 8, RFC 6714; D-45)
 *
 * A browser's data-channel m-line with an a=dcmap channel whose
 * subprotocol is "MSRP" and an a=dcsa path for it is offered to the core
 * as `m=message <port> TCP/MSRP *` in its place, with the AGW's
 * core-side address and TCP port, a=path (the AGW's URI), a=setup:actpass
 * (RFC 6135), a=msrp-cema (RFC 6714) and the channel's other a=dcsa
 * attributes as they are (accept-types, accept-wrapped-types, max-size:
 * application-agnostic, 23.334 5.19). The core's answer gives its a=path,
 * a=setup and address to the AGW (agw_sess_msrp_peer); the browser's
 * answer is the AGW's data-channel m-line (dc.c) with a=dcsa lines for
 * the channel: the AGW's own path and the core's other attributes.
 *
 * The m-lines of both sides stay one to one: a data-channel m-line maps
 * to one m=message line, so its other channels are not interworked.
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"
#include "sdpx.h"


/* a=dcsa:<sid> <attr> for sid; returns the attribute in *attr */
static bool dcsa_next(const struct sdpx_media *m, size_t *ip, uint16_t sid,
		      struct pl *attr)
{
	struct pl name, arg, id;
	const char *sp;

	for (; *ip < m->linec; (*ip)++) {

		if (m->linev[*ip].type != 'a')
			continue;

		sdpx_attr_split(&m->linev[*ip].val, &name, &arg);
		if (pl_strcasecmp(&name, "dcsa"))
			continue;

		sp = pl_strchr(&arg, ' ');
		if (!sp)
			continue;

		id.p = arg.p;
		id.l = sp - arg.p;
		if (!sdpx_digits(&id, 5) || pl_u32(&id) != sid)
			continue;

		attr->p = sp + 1;
		attr->l = arg.l - id.l - 1;
		(*ip)++;
		return true;
	}

	return false;
}


/* attributes the AGW writes itself on each side */
static bool own_attr(const struct pl *attr)
{
	static const char *const own[] = {
		"path", "setup", "msrp-cema", "connection", "sendrecv",
		"sendonly", "recvonly", "inactive", "mid",
	};
	struct pl name, arg;
	size_t i;

	sdpx_attr_split(attr, &name, &arg);
	for (i = 0; i < ARRAY_SIZE(own); i++) {
		if (!pl_strcasecmp(&name, own[i]))
			return true;
	}

	return false;
}


static const struct agw_dcmap *msrp_map(const struct sdpx_ml *ml)
{
	size_t i;

	for (i = 0; i < ml->dcmapc; i++) {
		if (!str_casecmp(ml->dcmapv[i].proto, "MSRP"))
			return &ml->dcmapv[i];
	}

	return NULL;
}


/**
 * A browser's data-channel m-line: relay its MSRP channel, if it has one
 * (after sdpx_dc_streams took its a=dcmap lines)
 *
 * @param ml  The m-line (data channels the AGW terminates)
 * @param m   The browser's m-line
 * @param idx Its index
 * @param ops The AGW (NULL: only check)
 * @param arg Handler argument of ops
 *
 * @return 0 if success, EPROTO an MSRP channel without a usable path,
 *         otherwise errorcode
 */
int sdpx_msrp_offer(struct sdpx_ml *ml, const struct sdpx_media *m,
		    unsigned idx, const struct sdpx_ops *ops, void *arg)
{
	const struct agw_dcmap *map = msrp_map(ml);
	struct agw_msrp_prm prm;
	struct pl attr, name, val;
	size_t i = 0;
	int err;

	ml->msrp = false;
	if (!map || (ops && !ops->msrp))
		return 0;

	memset(&prm, 0, sizeof(prm));
	prm.tid = ml->tid;
	prm.sid = map->sid;

	while (dcsa_next(m, &i, map->sid, &attr)) {
		sdpx_attr_split(&attr, &name, &val);
		if (pl_strcasecmp(&name, "path"))
			continue;
		if (prm.b_path[0] || !val.l || val.l >= sizeof(prm.b_path))
			return EPROTO;
		(void)pl_strcpy(&val, prm.b_path, sizeof(prm.b_path));
	}

	if (!prm.b_path[0])
		return EPROTO;

	if (!ops)
		return 0;

	err = ops->msrp(arg, idx, &prm, &ml->msrpinfo);
	if (err)
		return err;

	ml->msrp = true;
	ml->msrp_sid = map->sid;

	return 0;
}


/**
 * Write the m=message line offered to the core for a relayed MSRP
 * channel
 *
 * @param mb Buffer
 * @param ml The m-line
 * @param m  The browser's m-line (its a=dcsa lines)
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_msrp_write_offer(struct mbuf *mb, const struct sdpx_ml *ml,
			  const struct sdpx_media *m)
{
	const struct agw_msrp_info *info = &ml->msrpinfo;
	struct pl attr;
	size_t i = 0;
	int err;

	err  = mbuf_printf(mb, "m=message %u TCP/MSRP *\r\n",
			   sa_port(&info->core));
	err |= sdpx_write_conn(mb, &info->core);
	err |= mbuf_printf(mb, "a=path:%s\r\na=setup:actpass\r\n"
			   "a=msrp-cema\r\n", info->core_uri);

	while (!err && dcsa_next(m, &i, ml->msrp_sid, &attr)) {
		if (!own_attr(&attr))
			err = mbuf_printf(mb, "a=%r\r\n", &attr);
	}

	err |= mbuf_write_str(mb, "a=sendrecv\r\n");

	return err;
}


/* host:port of an MSRP URI's authority, if it is an IP address */
static bool uri_addr(struct sa *sa, const struct pl *uri)
{
	struct pl auth;
	const char *slash;

	if (uri->l < 8 || strncasecmp(uri->p, "msrp://", 7))
		return false;

	auth.p = uri->p + 7;
	auth.l = uri->l - 7;
	slash = pl_strchr(&auth, '/');
	if (!slash)
		return false;
	auth.l = slash - auth.p;

	return !sa_decode(sa, auth.p, auth.l) && sa_port(sa);
}


/**
 * The core's answer to a relayed MSRP m-line: its path, role and
 * address to the AGW. An m-line the core rejected ends the relay's use
 * (the browser's answer then has no a=dcsa for it).
 *
 * @param ml  The m-line
 * @param m   The core's answer m-line
 * @param idx Its index
 * @param ops The AGW
 * @param arg Handler argument of ops
 *
 * @return 0 if success, EPROTO no a=path or no address, otherwise
 *         errorcode
 */
int sdpx_msrp_answer(struct sdpx_ml *ml, const struct sdpx_media *m,
		     unsigned idx, const struct sdpx_ops *ops, void *arg)
{
	struct agw_msrp_peer peer;
	struct pl path, setup, uri;

	if (!ml->msrp)
		return 0;

	if (!m->port || pl_strcasecmp(&m->type, "message") ||
	    pl_strcasecmp(&m->proto, "TCP/MSRP")) {
		ml->msrp = false;
		return 0;
	}

	memset(&peer, 0, sizeof(peer));
	if (!sdpx_attr_find(m->linev, m->linec, "path", &path) ||
	    !path.l || path.l >= sizeof(peer.path))
		return EPROTO;
	(void)pl_strcpy(&path, peer.path, sizeof(peer.path));

	/* RFC 6135: an answer without a=setup is passive (the offerer
	   connects, as in RFC 4975) */
	peer.connect = !sdpx_attr_find(m->linev, m->linec, "setup",
				       &setup) ||
		pl_strcasecmp(&setup, "active");

	/* RFC 6714: with CEMA the c=/m= address, else the path's URI */
	uri = path;
	if (pl_strchr(&uri, ' '))
		uri.l = pl_strchr(&uri, ' ') - uri.p;
	if (sdpx_attr_find(m->linev, m->linec, "msrp-cema", NULL) ||
	    !uri_addr(&peer.addr, &uri)) {
		if (!m->has_conn)
			return EPROTO;
		peer.addr = m->conn;
		sa_set_port(&peer.addr, m->port);
	}

	return ops->msrp_peer(arg, idx, &peer);
}


/**
 * The a=dcsa lines of the browser's answer for a relayed MSRP channel:
 * the AGW's path and the core's other attributes
 *
 * @param mb Buffer
 * @param ml The m-line
 * @param m  The core's answer m-line
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_msrp_write_dcsa(struct mbuf *mb, const struct sdpx_ml *ml,
			 const struct sdpx_media *m)
{
	size_t i;
	int err;

	if (!ml->msrp)
		return 0;

	err = mbuf_printf(mb, "a=dcsa:%u path:%s\r\n", ml->msrp_sid,
			  ml->msrpinfo.w3_uri);

	for (i = 0; !err && i < m->linec; i++) {
		const struct sdpx_line *l = &m->linev[i];

		if (l->type != 'a' || own_attr(&l->val))
			continue;

		err = mbuf_printf(mb, "a=dcsa:%u %r\r\n", ml->msrp_sid,
				  &l->val);
	}

	return err;
}

/**
 * @file write.c  Writing SDP lines (CRLF) from the model and the AGW's
 *                parameters
 *
 * A session is written as v= o= s= [i= u= e= p=] [c=] [b=] t= a=...,
 * a medium as m= [i=] c= [b=] a=... (RFC 8866 order). Lines of the input
 * that are not rewritten pass through in their order; k=, r= and z=
 * are dropped.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"


static char ipv(const struct sa *sa)
{
	return sa_af(sa) == AF_INET6 ? '6' : '4';
}


/* "IN IP4 <addr>", 0.0.0.0 if there is none */
static int write_addr(struct mbuf *mb, const struct sa *sa)
{
	if (!sa || !sa_isset(sa, SA_ADDR))
		return mbuf_write_str(mb, "IN IP4 0.0.0.0");

	return mbuf_printf(mb, "IN IP%c %j", ipv(sa), sa);
}


static int write_sess_lines(struct mbuf *mb, const struct sdpx_sdp *sdp,
			    const char *types)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < sdp->sessc; i++) {
		const struct sdpx_line *l = &sdp->linev[i];

		if (strchr(types, l->type))
			err = mbuf_printf(mb, "%c=%r\r\n", l->type, &l->val);
	}

	return err;
}


/**
 * Write the session description up to and including t=
 *
 * @param mb   Output
 * @param sdp  Input SDP (its i= u= e= p= b= pass)
 * @param sess o= session id
 * @param ver  o= version
 * @param addr o= (and c=) address
 * @param conn Write a session-level c=
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_write_head(struct mbuf *mb, const struct sdpx_sdp *sdp,
		    uint64_t sess, uint32_t ver, const struct sa *addr,
		    bool conn)
{
	int err;

	err  = mbuf_printf(mb, "v=0\r\no=- %llu %u ",
			   (unsigned long long)sess, ver);
	err |= write_addr(mb, addr);
	err |= mbuf_write_str(mb, "\r\ns=-\r\n");
	err |= write_sess_lines(mb, sdp, "iuep");
	if (conn)
		err |= sdpx_write_conn(mb, addr);
	err |= write_sess_lines(mb, sdp, "b");
	err |= mbuf_write_str(mb, "t=0 0\r\n");

	return err;
}


int sdpx_write_conn(struct mbuf *mb, const struct sa *addr)
{
	int err;

	err  = mbuf_write_str(mb, "c=");
	err |= write_addr(mb, addr);
	err |= mbuf_write_str(mb, "\r\n");

	return err;
}


int sdpx_write_mline(struct mbuf *mb, const char *media, uint16_t port,
		     const char *proto, const uint8_t *ptv, size_t ptc)
{
	size_t i;
	int err;

	/* an m-line needs a format (RFC 8866 5.14): never write one without */
	if (!ptc)
		return EPROTO;

	err = mbuf_printf(mb, "m=%s %u %s", media, port, proto);
	for (i = 0; i < ptc; i++)
		err |= mbuf_printf(mb, " %u", ptv[i]);
	err |= mbuf_write_str(mb, "\r\n");

	return err;
}


/**
 * Write a rejected m-line: port 0, the offered media and first format
 *
 * @param mb    Output
 * @param ml    m-line state
 * @param proto Proto to write, NULL for the offered one
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_write_rejected(struct mbuf *mb, const struct sdpx_ml *ml,
			const char *proto)
{
	return mbuf_printf(mb, "m=%s 0 %s %s\r\n", ml->media,
			   proto ? proto : ml->proto, ml->fmt);
}


/** Write the m-line's own lines of one type (i= or b=) */
int sdpx_write_lines(struct mbuf *mb, const struct sdpx_media *m, char type)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < m->linec; i++) {
		const struct sdpx_line *l = &m->linev[i];

		if (l->type == type)
			err = mbuf_printf(mb, "%c=%r\r\n", type, &l->val);
	}

	return err;
}


static bool attr_passes(const struct sdpx_line *l, enum sdpx_to to,
			const uint8_t *ptv, size_t ptc, bool fb)
{
	struct pl name, arg;
	int pt;

	sdpx_attr_split(&l->val, &name, &arg);

	if (sdpx_strip(to, &name))
		return false;

	if (!pl_strcasecmp(&name, "rtcp-fb")) {
		if (!fb || (to == SDPX_TO_CORE && !sdpx_fb_to_core(&arg)))
			return false;
	}
	else if (pl_strcasecmp(&name, "rtpmap") &&
		 pl_strcasecmp(&name, "fmtp")) {
		return true;
	}

	if (!ptv || !sdpx_pt_of(&arg, &pt))
		return false;

	return pt < 0 || sdpx_pt_has(ptv, ptc, pt);
}


/**
 * Write the a= lines that pass toward one side: not on its strip list,
 * and rtpmap/fmtp/rtcp-fb only for the payload types written
 *
 * @param mb  Output
 * @param m   Input m-line
 * @param to  Side the SDP goes to
 * @param ptv Payload types of the written m-line
 * @param ptc Count
 * @param fb  Keep rtcp-fb (an AVPF profile)
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_write_attrs(struct mbuf *mb, const struct sdpx_media *m,
		     enum sdpx_to to, const uint8_t *ptv, size_t ptc,
		     bool fb)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < m->linec; i++) {
		const struct sdpx_line *l = &m->linev[i];

		if (l->type == 'a' && attr_passes(l, to, ptv, ptc, fb))
			err = mbuf_printf(mb, "a=%r\r\n", &l->val);
	}

	return err;
}


/** Write the session-level a= lines that pass toward one side */
int sdpx_write_sess_attrs(struct mbuf *mb, const struct sdpx_sdp *sdp,
			  enum sdpx_to to)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < sdp->sessc; i++) {
		const struct sdpx_line *l = &sdp->linev[i];

		if (l->type == 'a' && attr_passes(l, to, NULL, 0, false))
			err = mbuf_printf(mb, "a=%r\r\n", &l->val);
	}

	return err;
}


/** a=rtcp toward the core when RTCP is not on the next port (RFC 3605) */
int sdpx_write_rtcp(struct mbuf *mb, const struct agw_stream_info *info)
{
	if (sa_cmp(&info->rtp, &info->rtcp, SA_ADDR) &&
	    sa_port(&info->rtcp) == sa_port(&info->rtp) + 1)
		return 0;

	return mbuf_printf(mb, "a=rtcp:%u IN IP%c %j\r\n",
			   sa_port(&info->rtcp), ipv(&info->rtcp),
			   &info->rtcp);
}


/**
 * Write the W3 transport of a browser-facing m-line: mid, ICE-lite
 * credentials and host candidate (RFC 8839), fingerprint and role
 * (RFC 8842), rtcp-mux
 *
 * @param mb    Output
 * @param mid   mid ("" for none)
 * @param info  The AGW's transport
 * @param setup a=setup value
 *
 * @return 0 if success, otherwise errorcode
 */
int sdpx_write_w3(struct mbuf *mb, const char *mid,
		  const struct agw_w3_info *info, const char *setup)
{
	unsigned i;
	int err = 0;

	if (mid[0])
		err = mbuf_printf(mb, "a=mid:%s\r\n", mid);

	err |= mbuf_printf(mb, "a=ice-ufrag:%b\r\na=ice-pwd:%b\r\n",
			   info->ufrag, strnlen(info->ufrag,
						sizeof(info->ufrag)),
			   info->pwd, strnlen(info->pwd, sizeof(info->pwd)));
	err |= mbuf_printf(mb, "a=fingerprint:%b\r\n", info->fingerprint,
			   strnlen(info->fingerprint,
				   sizeof(info->fingerprint)));
	err |= mbuf_printf(mb, "a=setup:%s\r\na=rtcp-mux\r\n", setup);
	err |= mbuf_printf(mb, "a=candidate:1 1 udp 2130706431 %j %u typ host"
			   "\r\n", &info->cand, sa_port(&info->cand));

	/* further host candidates (media_listen any or an interface): the
	   same type preference, a lower local preference each (RFC 8445
	   5.1.2.1) */
	for (i = 0; i < info->morec && i < ARRAY_SIZE(info->morev); i++)
		err |= mbuf_printf(mb, "a=candidate:%u 1 udp %u %j %u typ "
				   "host\r\n", i + 2,
				   (126u << 24) | ((65534u - i) << 8) | 255u,
				   &info->morev[i], sa_port(&info->morev[i]));

	err |= mbuf_printf(mb, "a=end-of-candidates\r\n");

	return err;
}


/** Write a=group:BUNDLE per group of accepted, bundled m-lines */
int sdpx_write_group(struct mbuf *mb, const struct sdpx_call *call)
{
	int grp, err = 0;
	size_t i;

	for (grp = 0; !err && grp < SDPX_MAX_GROUP; grp++) {
		bool any = false;

		for (i = 0; !err && i < call->mlc; i++) {
			const struct sdpx_ml *ml = &call->mlv[i];

			if (ml->grp != grp || ml->rejected || ml->declined ||
			    !ml->mid[0])
				continue;

			err = mbuf_printf(mb, "%s %s",
					  any ? "" : "a=group:BUNDLE",
					  ml->mid);
			any = true;
		}

		if (any)
			err |= mbuf_write_str(mb, "\r\n");
	}

	return err;
}

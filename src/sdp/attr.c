/**
 * @file attr.c  SDP attributes: lookup, direction, payload types, SSRCs
 *               and what each side must not see
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"


/* Attributes that never reach the core (D-24..D-27): ICE, DTLS, BUNDLE,
   WebRTC RTP extensions and SSRC signalling, data channels. Direction,
   a=rtcp and capability negotiation (avpf.c) are written by the
   rewrite itself. */
static const char *strip_core[] = {
	"candidate", "remote-candidates", "end-of-candidates",
	"fingerprint", "setup", "tls-id", "connection", "group", "mid",
	"msid", "msid-semantic", "ssrc", "ssrc-group", "extmap",
	"extmap-allow-mixed", "rtcp-mux", "rtcp-mux-only", "rtcp-rsize",
	"rtcp", "bundle-only", "rid", "simulcast", "sctp-port", "sctpmap",
	"max-message-size", "identity", "crypto", "key-mgmt",
	"sendrecv", "sendonly", "recvonly", "inactive",
	"tcap", "pcfg", "acfg",
};

/* Attributes of the core that the browser does not get: its transport
   (the AGW's replaces it), keying, SSRC signalling the AGW does not
   translate */
static const char *strip_browser[] = {
	"candidate", "remote-candidates", "end-of-candidates",
	"fingerprint", "setup", "tls-id", "connection", "group", "mid",
	"msid", "msid-semantic", "ssrc", "ssrc-group", "extmap",
	"extmap-allow-mixed", "rtcp-mux", "rtcp-mux-only", "rtcp-rsize",
	"rtcp", "bundle-only", "crypto", "key-mgmt",
	"sendrecv", "sendonly", "recvonly", "inactive",
	"tcap", "pcfg", "acfg", "csup", "creq",
};

static const char *dir_names[] = {
	"sendrecv", "sendonly", "recvonly", "inactive"
};


/**
 * Next space-separated token
 *
 * @param rest Text left (advanced past the token)
 * @param tok  Returned token
 *
 * @return true if there was one
 */
bool sdpx_token(struct pl *rest, struct pl *tok)
{
	size_t i = 0;

	while (i < rest->l && (rest->p[i] == ' ' || rest->p[i] == '\t'))
		++i;

	if (i == rest->l) {
		pl_advance(rest, (ssize_t)i);
		return false;
	}

	tok->p = rest->p + i;
	while (i < rest->l && rest->p[i] != ' ' && rest->p[i] != '\t')
		++i;

	tok->l = rest->p + i - tok->p;
	pl_advance(rest, (ssize_t)i);

	return true;
}


/** true if pl is 1..max decimal digits */
bool sdpx_digits(const struct pl *pl, size_t max)
{
	size_t i;

	if (!pl->l || pl->l > max)
		return false;

	for (i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return false;
	}

	return true;
}


void sdpx_attr_split(const struct pl *val, struct pl *name, struct pl *arg)
{
	const char *colon = pl_strchr(val, ':');

	name->p = val->p;
	name->l = colon ? (size_t)(colon - val->p) : val->l;
	arg->p  = colon ? colon + 1 : val->p + val->l;
	arg->l  = colon ? val->l - name->l - 1 : 0;
}


bool sdpx_attr_find(const struct sdpx_line *linev, size_t linec,
		    const char *name, struct pl *arg)
{
	struct pl n, a;
	size_t i;

	for (i = 0; i < linec; i++) {

		if (linev[i].type != 'a')
			continue;

		sdpx_attr_split(&linev[i].val, &n, &a);
		if (pl_strcasecmp(&n, name))
			continue;

		if (arg)
			*arg = a;

		return true;
	}

	return false;
}


/** An attribute of an m-line, else of the session */
bool sdpx_attr(const struct sdpx_sdp *sdp, const struct sdpx_media *m,
	       const char *name, struct pl *arg)
{
	if (m && sdpx_attr_find(m->linev, m->linec, name, arg))
		return true;

	return sdpx_attr_find(sdp->linev, sdp->sessc, name, arg);
}


static bool dir_find(const struct sdpx_line *linev, size_t linec,
		     enum sdpx_dir *dir)
{
	bool found = false;
	size_t i, d;

	for (i = 0; i < linec; i++) {

		if (linev[i].type != 'a')
			continue;

		for (d = 0; d < ARRAY_SIZE(dir_names); d++) {
			if (!pl_strcasecmp(&linev[i].val, dir_names[d])) {
				*dir = (enum sdpx_dir)d;
				found = true;
			}
		}
	}

	return found;
}


/** Direction of an m-line: its own, else the session's, else sendrecv */
enum sdpx_dir sdpx_dir(const struct sdpx_sdp *sdp,
		       const struct sdpx_media *m)
{
	enum sdpx_dir dir = SDPX_SENDRECV;

	if (dir_find(m->linev, m->linec, &dir))
		return dir;

	(void)dir_find(sdp->linev, sdp->sessc, &dir);

	return dir;
}


const char *sdpx_dir_name(enum sdpx_dir dir)
{
	return (size_t)dir < ARRAY_SIZE(dir_names) ? dir_names[dir] :
		"sendrecv";
}


enum sdpx_kind sdpx_kind(const struct sdpx_media *m)
{
	if (!pl_strcasecmp(&m->type, "audio"))
		return SDPX_AUDIO;

	if (!pl_strcasecmp(&m->type, "video"))
		return SDPX_VIDEO;

	return SDPX_OTHER;
}


/**
 * Payload type an rtpmap, fmtp or rtcp-fb argument starts with
 *
 * @param arg Attribute argument
 * @param pt  Returned payload type, -1 for "*"
 *
 * @return true if it starts with one
 */
bool sdpx_pt_of(const struct pl *arg, int *pt)
{
	struct pl rest = *arg, tok;

	if (!sdpx_token(&rest, &tok))
		return false;

	if (!pl_strcmp(&tok, "*")) {
		*pt = -1;
		return true;
	}

	if (!sdpx_digits(&tok, 3))
		return false;

	*pt = (int)pl_u32(&tok);

	return *pt <= 127;
}


bool sdpx_pt_has(const uint8_t *ptv, size_t ptc, int pt)
{
	size_t i;

	for (i = 0; i < ptc; i++) {
		if (ptv[i] == pt)
			return true;
	}

	return false;
}


/**
 * The rtpmap of a payload type: <encoding>/<clock rate>[/<channels>]
 *
 * @return true if the m-line has a well-formed one
 */
bool sdpx_rtpmap(const struct sdpx_media *m, uint8_t pt, struct pl *enc,
		 uint32_t *rate, uint32_t *chans)
{
	struct pl name, arg, rest, tok, r, c;
	size_t i;
	int p;

	for (i = 0; i < m->linec; i++) {

		if (m->linev[i].type != 'a')
			continue;

		sdpx_attr_split(&m->linev[i].val, &name, &arg);
		if (pl_strcasecmp(&name, "rtpmap") || !sdpx_pt_of(&arg, &p) ||
		    p != pt)
			continue;

		rest = arg;
		(void)sdpx_token(&rest, &tok);
		if (!sdpx_token(&rest, &tok))
			return false;

		c.l = 0;
		if (re_regex(tok.p, tok.l, "[^/]+/[0-9]+[/]*[0-9]*",
			     enc, &r, NULL, &c))
			return false;

		*rate  = pl_u32(&r);
		*chans = c.l ? pl_u32(&c) : 1;

		return true;
	}

	return false;
}


bool sdpx_strip(enum sdpx_to to, const struct pl *name)
{
	const char **v = to == SDPX_TO_CORE ? strip_core : strip_browser;
	size_t n = to == SDPX_TO_CORE ? ARRAY_SIZE(strip_core) :
		ARRAY_SIZE(strip_browser);
	size_t i;

	if (name->l >= 4 && !strncasecmp(name->p, "ice-", 4))
		return true;

	if (name->l >= 9 && !strncasecmp(name->p, "x-google-", 9))
		return true;

	for (i = 0; i < n; i++) {
		if (!pl_strcasecmp(name, v[i]))
			return true;
	}

	return false;
}


/**
 * The distinct SSRCs of an m-line's a=ssrc lines
 *
 * @param m      m-line
 * @param ssrcv  Returned SSRCs (SDPX_MAX_SSRC entries)
 * @param ssrcc  Returned count
 *
 * @return 0 if success, EBADMSG if malformed, EPROTO if too many
 */
int sdpx_ssrcs(const struct sdpx_media *m, uint32_t *ssrcv, size_t *ssrcc)
{
	struct pl name, arg, rest, tok;
	size_t i, j, n = 0;
	uint64_t v;

	for (i = 0; i < m->linec; i++) {

		if (m->linev[i].type != 'a')
			continue;

		sdpx_attr_split(&m->linev[i].val, &name, &arg);
		if (pl_strcasecmp(&name, "ssrc"))
			continue;

		rest = arg;
		if (!sdpx_token(&rest, &tok) || !sdpx_digits(&tok, 10))
			return EBADMSG;

		v = pl_u64(&tok);
		if (v > UINT32_MAX)
			return EBADMSG;

		for (j = 0; j < n && ssrcv[j] != v; j++)
			;
		if (j < n)
			continue;

		if (n >= SDPX_MAX_SSRC)
			return EPROTO;

		ssrcv[n++] = (uint32_t)v;
	}

	*ssrcc = n;

	return 0;
}


/**
 * An m-line's RTCP address from a=rtcp:<port> [IN IP4 <addr>] (RFC 3605)
 *
 * @param m    m-line (with a connection address)
 * @param rtcp Returned address
 *
 * @return true if it has a well-formed one
 */
bool sdpx_rtcp_addr(const struct sdpx_media *m, struct sa *rtcp)
{
	struct pl arg, rest, port, nt, at, addr;
	struct sa sa = m->conn;

	if (!sdpx_attr_find(m->linev, m->linec, "rtcp", &arg))
		return false;

	rest = arg;
	if (!sdpx_token(&rest, &port) || !sdpx_digits(&port, 5) ||
	    pl_u32(&port) > 65535)
		return false;

	if (sdpx_token(&rest, &nt)) {
		if (!sdpx_token(&rest, &at) || !sdpx_token(&rest, &addr) ||
		    pl_strcmp(&nt, "IN") || sa_set(&sa, &addr, 0))
			return false;
		if (sa_af(&sa) != (pl_strcmp(&at, "IP6") ? AF_INET :
				   AF_INET6))
			return false;
	}

	*rtcp = sa;
	sa_set_port(rtcp, (uint16_t)pl_u32(&port));

	return true;
}

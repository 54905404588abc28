/**
 * @file parse.c  SDP text -> line model, bounded (RFC 8866 syntax)
 *
 * Two passes: the first checks every line and the limits and counts the
 * lines, the second fills one line array that the sections point into.
 * Lines end in LF or CRLF; empty lines are skipped; any other control
 * character (a lone CR among them) makes the SDP malformed, so nothing
 * that passes through can start a line of its own.
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"


static void destructor(void *arg)
{
	struct sdpx_sdp *sdp = arg;

	mem_deref(sdp->linev);
}


static bool next_line(struct pl *rest, struct pl *line)
{
	const char *lf;

	if (!rest->l)
		return false;

	lf = memchr(rest->p, '\n', rest->l);
	line->p = rest->p;
	line->l = lf ? (size_t)(lf - rest->p) : rest->l;
	pl_advance(rest, lf ? (ssize_t)line->l + 1 : (ssize_t)line->l);

	if (line->l && line->p[line->l - 1] == '\r')
		--line->l;

	return true;
}


static int check_line(const struct pl *line)
{
	size_t i;

	if (line->l > SDPX_MAX_LLEN)
		return EMSGSIZE;

	if (line->l < 2 || line->p[0] < 'a' || line->p[0] > 'z' ||
	    line->p[1] != '=')
		return EBADMSG;

	for (i = 2; i < line->l; i++) {
		const uint8_t c = (uint8_t)line->p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return EBADMSG;
	}

	return 0;
}


static int count_lines(const struct pl *pl, size_t *np)
{
	struct pl rest = *pl, line;
	size_t n = 0, sect = 0, mc = 0;
	int err;

	while (next_line(&rest, &line)) {

		if (!line.l)
			continue;

		err = check_line(&line);
		if (err)
			return err;

		if (line.p[0] == 'm') {
			if (++mc > SDPX_MAX_MEDIA)
				return EMSGSIZE;
			sect = 0;
		}

		if (++sect > SDPX_MAX_LINES)
			return EMSGSIZE;

		++n;
	}

	*np = n;

	return 0;
}


/* <port>[/<number of ports>] */
static int parse_port(uint16_t *port, const struct pl *tok)
{
	struct pl p = *tok, n = PL_INIT;
	const char *slash = pl_strchr(tok, '/');

	if (slash) {
		p.l = slash - tok->p;
		n.p = slash + 1;
		n.l = tok->l - p.l - 1;
		if (!sdpx_digits(&n, 5))
			return EBADMSG;
	}

	if (!sdpx_digits(&p, 5) || pl_u32(&p) > 65535)
		return EBADMSG;

	*port = (uint16_t)pl_u32(&p);

	return 0;
}


static int parse_fmts(struct sdpx_media *m)
{
	struct pl rest = m->fmts, tok;
	uint32_t pt;

	while (sdpx_token(&rest, &tok)) {

		if (!m->fmt1.p)
			m->fmt1 = tok;

		if (!m->rtp)
			continue;

		if (!sdpx_digits(&tok, 3) || (pt = pl_u32(&tok)) > 127)
			return EBADMSG;

		if (sdpx_pt_has(m->ptv, m->ptc, (int)pt))
			return EBADMSG;

		if (m->ptc >= SDPX_MAX_FMT)
			return EMSGSIZE;

		m->ptv[m->ptc++] = (uint8_t)pt;
	}

	return m->fmt1.l < SDPX_TOKEN_SZ ? 0 : EBADMSG;
}


/* an RTP profile: "RTP/" in the proto, in any case, as every proto
   comparison here is (a proto the writers take for RTP must have had its
   formats parsed as payload types) */
static bool has_rtp(const struct pl *proto)
{
	size_t i;

	for (i = 0; i + 4 <= proto->l; i++) {
		if (!strncasecmp(proto->p + i, "RTP/", 4))
			return true;
	}

	return false;
}


/* m=<media> <port>[/<n>] <proto> <fmt> ... */
static int parse_mline(struct sdpx_media *m, const struct pl *val)
{
	struct pl rest = *val, port;
	int err;

	if (!sdpx_token(&rest, &m->type) || !sdpx_token(&rest, &port) ||
	    !sdpx_token(&rest, &m->proto))
		return EBADMSG;

	if (m->type.l >= SDPX_TOKEN_SZ || m->proto.l >= SDPX_TOKEN_SZ)
		return EBADMSG;

	err = parse_port(&m->port, &port);
	if (err)
		return err;

	while (rest.l && (rest.p[0] == ' ' || rest.p[0] == '\t'))
		pl_advance(&rest, 1);
	while (rest.l && (rest.p[rest.l-1] == ' ' ||
			  rest.p[rest.l-1] == '\t'))
		--rest.l;

	if (!rest.l)
		return EBADMSG;

	m->fmts = rest;
	m->rtp = has_rtp(&m->proto);

	return parse_fmts(m);
}


/* c=IN IP4 <addr>[/ttl[/n]] or c=IN IP6 <addr>[/n] */
static int parse_conn(struct sa *sa, const struct pl *val)
{
	struct pl rest = *val, nt, at, addr, extra;
	const char *slash;
	int af;

	if (!sdpx_token(&rest, &nt) || !sdpx_token(&rest, &at) ||
	    !sdpx_token(&rest, &addr) || sdpx_token(&rest, &extra))
		return EBADMSG;

	if (pl_strcmp(&nt, "IN"))
		return EBADMSG;

	if (!pl_strcmp(&at, "IP4"))
		af = AF_INET;
	else if (!pl_strcmp(&at, "IP6"))
		af = AF_INET6;
	else
		return EBADMSG;

	slash = pl_strchr(&addr, '/');
	if (slash)
		addr.l = slash - addr.p;

	if (sa_set(sa, &addr, 0) || sa_af(sa) != af)
		return EBADMSG;

	return 0;
}


static int fill(struct sdpx_sdp *sdp, const struct pl *pl)
{
	struct pl rest = *pl, line, val;
	struct sdpx_media *m = NULL;
	struct sa sconn;
	bool has_sconn = false;
	size_t n = 0, i;
	int err = 0;

	while (!err && next_line(&rest, &line)) {
		struct sdpx_line *l;

		if (!line.l)
			continue;

		l = &sdp->linev[n++];
		l->type = line.p[0];
		l->val.p = line.p + 2;
		l->val.l = line.l - 2;
		val = l->val;

		if (n == 1 && (l->type != 'v' || pl_strcmp(&val, "0")))
			return EBADMSG;

		if (l->type == 'm') {
			m = &sdp->mv[sdp->mc++];
			m->linev = sdp->linev + n;
			err = parse_mline(m, &val);
		}
		else if (m) {
			++m->linec;
			if (l->type == 'c' && !m->has_conn) {
				err = parse_conn(&m->conn, &val);
				m->has_conn = true;
			}
		}
		else {
			++sdp->sessc;
			if (l->type == 'c' && !has_sconn) {
				err = parse_conn(&sconn, &val);
				has_sconn = true;
			}
		}
	}

	for (i = 0; !err && has_sconn && i < sdp->mc; i++) {
		if (!sdp->mv[i].has_conn) {
			sdp->mv[i].conn = sconn;
			sdp->mv[i].has_conn = true;
		}
	}

	return err;
}


/**
 * Parse an SDP into a line model that points into its text
 *
 * @param sdpp Returned model
 * @param pl   SDP text (must outlive the model)
 *
 * @return 0 if success, EBADMSG if malformed, EMSGSIZE beyond a limit
 */
int sdpx_parse(struct sdpx_sdp **sdpp, const struct pl *pl)
{
	struct sdpx_sdp *sdp;
	size_t n;
	int err;

	if (!sdpp || !pl || (!pl->p && pl->l))
		return EINVAL;

	if (pl->l > SDPX_MAX_SIZE)
		return EMSGSIZE;

	err = count_lines(pl, &n);
	if (err)
		return err;

	if (!n)
		return EBADMSG;

	sdp = mem_zalloc(sizeof(*sdp), destructor);
	if (!sdp)
		return ENOMEM;

	sdp->linev = mem_zalloc(n * sizeof(*sdp->linev), NULL);
	if (!sdp->linev) {
		err = ENOMEM;
		goto out;
	}

	err = fill(sdp, pl);

 out:
	if (err)
		mem_deref(sdp);
	else
		*sdpp = sdp;

	return err;
}

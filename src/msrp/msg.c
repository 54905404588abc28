/**
 * @file msg.c  MSRP message parser (RFC 4975 9): start line, headers,
 *              body and end-line, bounded and length-checked throughout
 *
 * The message ends at the first CRLF "-------" transaction-id flag CRLF
 * after the start line (the sender keeps that string out of the body,
 * RFC 4975 6); the body is what lies between the blank line after the
 * headers and that end-line.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "msrp.h"

enum {
	START_MAX = 5 + MSRP_TID_MAX + 1 + 64 + 2, /* start line + CRLF   */
	MSRP_METHOD_MAX = 32,
	RANGE_DIGITS = 19,            /* fits uint64_t                   */
};


static bool ident_char(uint8_t c, bool first)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;

	return !first && (c == '.' || c == '-' || c == '+' || c == '%' ||
			  c == '=');
}


/* "CRLF" from pos, below end; returns its index or end */
static size_t find_crlf(const uint8_t *p, size_t pos, size_t end)
{
	for (; pos + 1 < end; pos++) {
		if (p[pos] == '\r' && p[pos + 1] == '\n')
			return pos;
	}

	return end;
}


static int start_line(struct msrp_msg *msg, const uint8_t *p, size_t n)
{
	size_t i = 5, t;

	if (n < 5 || memcmp(p, "MSRP ", 5))
		return EBADMSG;

	for (t = i; i < n && ident_char(p[i], i == t); i++)
		;
	if (i - t < MSRP_TID_MIN || i - t > MSRP_TID_MAX || i >= n ||
	    p[i] != ' ')
		return EBADMSG;

	msg->tid.p = (const char *)p + t;
	msg->tid.l = i - t;
	++i;

	/* response: 3DIGIT [SP comment] */
	if (n - i >= 3 && isdigit(p[i]) && isdigit(p[i + 1]) &&
	    isdigit(p[i + 2]) && (n - i == 3 || p[i + 3] == ' ')) {

		msg->req = false;
		msg->scode = (uint16_t)((p[i] - '0') * 100 +
					(p[i + 1] - '0') * 10 + p[i + 2] - '0');
		if (msg->scode < 100)
			return EBADMSG;
		i += 3;
		if (i < n)
			++i;
		msg->reason.p = (const char *)p + i;
		msg->reason.l = n - i;
		return 0;
	}

	/* request: 1*UPALPHA */
	msg->req = true;
	msg->method.p = (const char *)p + i;
	msg->method.l = n - i;
	if (!msg->method.l || msg->method.l > MSRP_METHOD_MAX)
		return EBADMSG;

	for (; i < n; i++) {
		if (p[i] < 'A' || p[i] > 'Z')
			return EBADMSG;
	}

	return 0;
}


static bool range_num(uint64_t *v, const struct pl *pl, bool star)
{
	if (star && pl->l == 1 && pl->p[0] == '*') {
		*v = 0;
		return true;
	}

	if (!pl->l || pl->l > RANGE_DIGITS)
		return false;

	for (size_t i = 0; i < pl->l; i++) {
		if (!isdigit((unsigned char)pl->p[i]))
			return false;
	}

	*v = pl_u64(pl);

	return true;
}


/**
 * Decode a Byte-Range value: range-start "-" range-end "/" total, end
 * and total may be "*" (returned as 0)
 *
 * @param r  Returned range
 * @param pl Header value
 *
 * @return 0 if success, EBADMSG malformed or inconsistent
 */
int msrp_range_decode(struct msrp_range *r, const struct pl *pl)
{
	struct pl s, e, t;

	if (!r || !pl)
		return EINVAL;

	if (re_regex(pl->p, pl->l, "[0-9]+-[0-9*]+/[0-9*]+", &s, &e, &t))
		return EBADMSG;

	/* the pattern must cover the whole value */
	if (s.p != pl->p || t.p + t.l != pl->p + pl->l)
		return EBADMSG;

	if (!range_num(&r->start, &s, false) ||
	    !range_num(&r->end, &e, true) ||
	    !range_num(&r->total, &t, true) || !r->start)
		return EBADMSG;

	if (r->end && r->end + 1 < r->start)
		return EBADMSG;

	if (r->total && r->end > r->total)
		return EBADMSG;

	return 0;
}


static int header(struct msrp_msg *msg, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	struct msrp_hdr *h;
	struct pl *dst = NULL;
	size_t i;

	if (!colon || colon == p)
		return EBADMSG;

	if (msg->hdrc >= MSRP_MAX_HDRS)
		return EMSGSIZE;

	h = &msg->hdrv[msg->hdrc++];
	h->name.p = p;
	h->name.l = colon - p;
	for (i = 0; i < h->name.l; i++) {
		uint8_t c = (uint8_t)p[i];

		if (c <= ' ' || c >= 0x7f)
			return EBADMSG;
	}

	h->val.p = colon + 1;
	h->val.l = n - h->name.l - 1;
	while (h->val.l && h->val.p[0] == ' ')
		pl_advance(&h->val, 1);
	while (h->val.l && h->val.p[h->val.l - 1] == ' ')
		--h->val.l;

	if (!pl_strcasecmp(&h->name, "To-Path"))
		dst = &msg->to_path;
	else if (!pl_strcasecmp(&h->name, "From-Path"))
		dst = &msg->from_path;
	else if (!pl_strcasecmp(&h->name, "Message-ID"))
		dst = &msg->msgid;
	else if (!pl_strcasecmp(&h->name, "Content-Type"))
		dst = &msg->ctype;
	else if (!pl_strcasecmp(&h->name, "Byte-Range")) {
		if (msg->has_range)
			return EBADMSG;
		msg->has_range = true;
		return msrp_range_decode(&msg->range, &h->val);
	}

	if (!dst)
		return 0;

	if (dst->p || !h->val.l)    /* repeated or empty */
		return EBADMSG;

	*dst = h->val;

	return 0;
}


/* the end-line: CRLF "-------" tid flag CRLF at or after from */
static int end_line(size_t *ep, const uint8_t *p, size_t n, size_t from,
		    const struct pl *tid)
{
	const size_t ml = 9 + tid->l;
	size_t e;

	for (e = from; e + ml <= n; e++) {

		if (p[e] != '\r' || p[e + 1] != '\n' ||
		    memcmp(p + e + 2, "-------", 7) ||
		    memcmp(p + e + 9, tid->p, tid->l))
			continue;

		if (e + ml + 3 > n)
			return ENODATA;

		if (p[e + ml] != '$' && p[e + ml] != '+' &&
		    p[e + ml] != '#')
			continue;

		if (p[e + ml + 1] != '\r' || p[e + ml + 2] != '\n')
			return EBADMSG;

		*ep = e;
		return 0;
	}

	return n >= MSRP_MAX_MSG ? EMSGSIZE : ENODATA;
}


static int headers_body(struct msrp_msg *msg, const uint8_t *p,
			size_t pos, size_t e)
{
	int err;

	/* every header line ends with CRLF, the last one at e */
	while (pos < e + 2) {
		size_t crlf = find_crlf(p, pos, e + 2);

		if (crlf == pos) {
			if (crlf + 2 > e)
				return EBADMSG;
			msg->has_body = true;
			msg->body.p = (const char *)p + crlf + 2;
			msg->body.l = e - (crlf + 2);
			break;
		}

		err = header(msg, (const char *)p + pos, crlf - pos);
		if (err)
			return err;

		pos = crlf + 2;
	}

	if (!msg->to_path.p || !msg->from_path.p)
		return EBADMSG;

	if (!msg->req && msg->has_body)
		return EBADMSG;

	/* a chunk's Byte-Range covers its body exactly (RFC 4975 7.1.1) */
	if (msg->has_body && msg->has_range) {
		const struct msrp_range *r = &msg->range;
		const uint64_t last = r->start - 1 + msg->body.l;

		if ((r->end && msg->body.l && r->end != last) ||
		    (r->total && last > r->total))
			return EBADMSG;
	}

	return 0;
}


/**
 * Decode the MSRP message at the front of a buffer
 *
 * @param msg Returned message (points into p)
 * @param p   Bytes
 * @param n   Number of bytes
 *
 * @return 0 if success (msg->len bytes taken), ENODATA the message is
 *         not complete yet, EMSGSIZE longer than MSRP_MAX_MSG or too
 *         many headers, EBADMSG malformed
 */
int msrp_decode(struct msrp_msg *msg, const uint8_t *p, size_t n)
{
	size_t sl, e;
	int err;

	if (!msg || !p)
		return EINVAL;

	memset(msg, 0, sizeof(*msg));

	if (n < 5)
		return memcmp(p, "MSRP ", n) ? EBADMSG : ENODATA;

	sl = find_crlf(p, 0, n < START_MAX ? n : START_MAX);
	if (sl == (n < START_MAX ? n : START_MAX))
		return n < START_MAX && !memcmp(p, "MSRP ", 5) ?
			ENODATA : EBADMSG;

	err = start_line(msg, p, sl);
	if (err)
		return err;

	err = end_line(&e, p, n < MSRP_MAX_MSG ? n : MSRP_MAX_MSG, sl,
		       &msg->tid);
	if (err == ENODATA && n >= MSRP_MAX_MSG)
		return EMSGSIZE;
	if (err)
		return err;

	err = headers_body(msg, p, sl + 2, e);
	if (err)
		return err;

	msg->flag = (enum msrp_flag)p[e + 9 + msg->tid.l];
	msg->len  = e + 9 + msg->tid.l + 3;

	return 0;
}


/**
 * The first URI of a To-Path or From-Path value
 *
 * @param uri  Returned URI
 * @param path Header value
 *
 * @return true if there is one
 */
bool msrp_path_first(struct pl *uri, const struct pl *path)
{
	const char *sp;

	if (!uri || !path || !path->l)
		return false;

	*uri = *path;
	sp = pl_strchr(uri, ' ');
	if (sp)
		uri->l = sp - uri->p;

	return uri->l > 0;
}


/**
 * The session-id of an MSRP URI: msrp://authority/session-id;transport
 *
 * @param sess Returned session-id
 * @param uri  URI
 *
 * @return true if the URI has one
 */
bool msrp_uri_session(struct pl *sess, const struct pl *uri)
{
	struct pl rest;
	const char *slash, *semi;

	if (!sess || !uri)
		return false;

	if (uri->l > 7 && !strncasecmp(uri->p, "msrp://", 7)) {
		rest.p = uri->p + 7;
		rest.l = uri->l - 7;
	}
	else if (uri->l > 8 && !strncasecmp(uri->p, "msrps://", 8)) {
		rest.p = uri->p + 8;
		rest.l = uri->l - 8;
	}
	else
		return false;

	slash = pl_strchr(&rest, '/');
	if (!slash)
		return false;

	sess->p = slash + 1;
	sess->l = rest.l - (sess->p - rest.p);
	semi = pl_strchr(sess, ';');
	if (semi)
		sess->l = semi - sess->p;

	return sess->l > 0;
}

/**
 * @file sipx.c  SIP helpers over libre's parser: validation and replies
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "sipx.h"
#include "sipx_int.h"


static bool clen_valid(const struct pl *clen)
{
	size_t i;

	if (clen->l > 9)
		return false;

	for (i = 0; i < clen->l; i++) {
		if (clen->p[i] < '0' || clen->p[i] > '9')
			return false;
	}

	return true;
}


static int decode(struct sip_msg **msgp, const uint8_t *p, size_t n)
{
	struct mbuf *mb;
	int err;

	/* the message keeps a reference to its buffer */
	mb = mbuf_alloc(n ? n : 1);
	if (!mb)
		return ENOMEM;

	err = mbuf_write_mem(mb, p, n);
	if (err)
		goto out;
	mb->pos = 0;

	/* ENODATA (no end of headers), ENOENT (a header's regex found
	   no match) and the like: malformed */
	err = sip_msg_decode(msgp, mb);
	if (err && err != ENOMEM)
		err = EBADMSG;
	if (err)
		goto out;

	/* libre leaves the body after the headers; on a message transport
	   Content-Length may be absent, but if present it must match */
	if (pl_isset(&(*msgp)->clen) &&
	    (!clen_valid(&(*msgp)->clen) ||
	     pl_u32(&(*msgp)->clen) != mbuf_get_left(mb)))
		err = EMSGSIZE;

 out:
	mem_deref(mb);
	return err;
}


static bool digits(const uint8_t *p, size_t n, size_t *i)
{
	size_t s = *i;

	while (*i < n && p[*i] >= '0' && p[*i] <= '9')
		++*i;

	return *i > s && *i - s <= 3;
}


/*
 * "SIP/d.d/" as "SIP/2.0/" in the header section, so that libre takes
 * a Via of another version (its Via parser wants 2.0); same length, so
 * the original bytes can be put back over the decoded message
 */
static void vias_as_20(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 8 <= n; i++) {
		if (!memcmp(p + i, "\r\n\r\n", 4))
			return;

		if (!memcmp(p + i, "SIP/", 4) && isdigit(p[i + 4]) &&
		    p[i + 5] == '.' && isdigit(p[i + 6]) && p[i + 7] == '/')
			memcpy(p + i + 4, "2.0", 3);
	}
}


/* A Request-Line as it came: its parts, and how it differs from
   "Method SP Request-URI SP SIP/2.0 CRLF" (RFC 3261 7.1) */
struct rline {
	size_t met;      /**< Method length                         */
	size_t uri;      /**< Request-URI start                     */
	size_t urie;     /**< Request-URI end                       */
	size_t ver;      /**< SIP-Version start                     */
	size_t eol;      /**< Index of the CR                       */
	bool clean;      /**< Single SPs, no space in or after them */
	bool v2;         /**< Version 2.0                           */
	bool upper;      /**< "SIP" in upper case                   */
};


static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}


/* The first line as a Request-Line of any spacing and version: method,
   then whitespace, the URI (spaces allowed), whitespace and a version
   SIP/digits.digits, maybe whitespace, CRLF; false if it is not one */
static bool rline_parse(struct rline *rl, const uint8_t *p, size_t n)
{
	size_t i, e, v, vend;

	memset(rl, 0, sizeof(*rl));

	for (e = 0; e < n && p[e] != '\r' && p[e] != '\n'; e++)
		;
	if (e + 2 > n || p[e] != '\r' || p[e + 1] != '\n')
		return false;
	rl->eol = e;

	for (i = 0; i < e && !is_ws(p[i]); i++)
		;
	rl->met = i;
	if (!i || i == e)
		return false;

	while (e > i && is_ws(p[e - 1]))
		--e;
	vend = e;
	for (v = e; v > i && !is_ws(p[v - 1]); v--)
		;
	rl->ver = v;
	if (v == i || e - v < 4 || strncasecmp((const char *)p + v, "SIP/", 4))
		return false;

	i = v + 4;
	if (!digits(p, e, &i) || i >= e || p[i++] != '.' ||
	    !digits(p, e, &i) || i != e)
		return false;

	for (i = rl->met; i < v && is_ws(p[i]); i++)
		;
	rl->uri = i;
	for (e = v; e > i && is_ws(p[e - 1]); e--)
		;
	rl->urie = e;
	if (rl->uri == rl->urie)
		return false;

	rl->v2 = vend - v == 7 && !memcmp(p + v + 4, "2.0", 3);
	rl->upper = !memcmp(p + v, "SIP", 3);
	rl->clean = rl->uri == rl->met + 1 && p[rl->met] == ' ' &&
		rl->ver == rl->urie + 1 && p[rl->urie] == ' ' &&
		vend == rl->eol;
	for (i = rl->uri; rl->clean && i < rl->urie; i++)
		rl->clean = !is_ws(p[i]);

	return true;
}


/* The message with its Request-Line as libre takes it: single SPs, no
   space in the URI, SIP/2.0; returns the new length of the line */
static size_t rline_fix(uint8_t *q, const uint8_t *p, const struct rline *rl)
{
	size_t i, k = 0;

	memcpy(q, p, rl->met);
	k = rl->met;
	q[k++] = ' ';
	for (i = rl->uri; i < rl->urie; i++) {
		if (!is_ws(p[i]))
			q[k++] = p[i];
	}
	memcpy(q + k, " SIP/2.0", 8);

	return k + 8;
}


/**
 * Decode one whole SIP message (as carried in one WebSocket message or
 * one UDP datagram, so a short body is malformed, not "more to come")
 *
 * A message whose headers decode but that is at fault in a way a
 * response can name is returned with *msgp set and an error the caller
 * turns into a status with sipx_fault(): another SIP version (RFC 4475
 * 3.1.2.16: 505), a Request-Line with extra whitespace (3.1.2.8, 3.1.2.9,
 * 3.1.2.10: 400), a Content-Length that is not the body's (3.1.2.2,
 * 3.1.2.3, 3.1.2.18, or a second message after the first: 400), a To,
 * From, CSeq or Content-Type libre cannot decode (3.3.4 unksm2, 3.1.2.6
 * quotbal: 400 naming it; standin.c). "sip/2.0" is taken as 2.0 (RFC
 * 3261 7.1: case-insensitive).
 *
 * @param msgp Returned message
 * @param p    Bytes
 * @param n    Length
 *
 * @return 0 if success, EBADMSG if malformed (no message), ENOMEM;
 *         with the message: EPROTONOSUPPORT, EILSEQ, EMSGSIZE or
 *         one of sipx_standin_err()
 */
int sipx_decode(struct sip_msg **msgp, const uint8_t *p, size_t n)
{
	struct rline rl;
	unsigned bad;
	uint8_t *q;
	size_t len, rest;
	int err;

	if (!msgp || !p)
		return EINVAL;

	err = decode(msgp, p, n);
	if (err != EBADMSG)
		return err;

	if (!rline_parse(&rl, p, n))
		return err;

	rest = n - rl.eol;
	q = mem_alloc(rl.eol + 8 + rest, NULL);
	if (!q)
		return ENOMEM;

	len = rline_fix(q, p, &rl);
	memcpy(q + len, p + rl.eol, rest);
	bad = sipx_standin(p + rl.eol, rest, q + len);
	if (rl.clean && rl.v2 && rl.upper && !bad) {
		mem_deref(q);   /* nothing to repair */
		return err;
	}
	vias_as_20(q + len, rest);

	err = decode(msgp, q, len + rest);
	mem_deref(q);
	if (err && err != EMSGSIZE)
		return err;

	/* the headers as they came (same lengths): a 505 copies its Via */
	memcpy((*msgp)->mb->buf + len, p + rl.eol, rest);

	if (!(*msgp)->req) {
		*msgp = mem_deref(*msgp);
		return EBADMSG;
	}

	if (!rl.v2)
		return EPROTONOSUPPORT;

	if (!rl.clean)
		return EILSEQ;

	return bad ? sipx_standin_err(*msgp, bad) : err;
}


/**
 * The status and reason for a message sipx_decode() returned at fault
 *
 * @param err    Its error
 * @param reason Returned reason phrase
 *
 * @return Status code
 */
uint16_t sipx_fault(int err, const char **reason)
{
	switch (err) {

	case EPROTONOSUPPORT:
		*reason = "Version Not Supported";
		return 505;

	case EILSEQ:
		*reason = "Bad Request-Line";
		return 400;

	case EMSGSIZE:
		*reason = "Bad Content-Length";
		return 400;

	default:
		if (!sipx_standin_reason(err, reason))
			*reason = "Bad Request";
		return 400;
	}
}


/* Headers that may appear once (RFC 3261 20; RFC 4475 3.1.2.19) */
static const char * const single[] = {
	"Call-ID", "i", "CSeq", "From", "f", "To", "t", "Max-Forwards",
	"Content-Length", "l", "Content-Type", "c", "Expires",
};


static bool name_single(const struct pl *name, const char **full)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(single); i++) {
		if (!pl_strcasecmp(name, single[i])) {
			/* the long form names the header in the reason */
			*full = single[i][1] ? single[i] : single[i - 1];
			return true;
		}
	}

	return false;
}


/* Every header name a token; the single ones not repeated, whatever
   the case or form */
/* The reason a bad value of a header holding one address gets; NULL
   for the other headers */
static const char *addr_reason(const struct sip_hdr *hdr)
{
	switch (hdr->id) {

	case SIP_HDR_FROM:    return "Bad From";
	case SIP_HDR_TO:      return "Bad To";
	case SIP_HDR_CONTACT: return "Bad Contact";
	default:              return NULL;
	}
}


static int hdrs_check(const struct sip_msg *msg, const char **reason)
{
	const char *seen[ARRAY_SIZE(single)];
	size_t n = 0, i;
	struct le *le;

	for (le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		const char *full, *bad;

		if (!sipx_token(&hdr->name)) {
			*reason = "Bad header name";
			return EBADMSG;
		}

		bad = addr_reason(hdr);
		if (bad && sipx_addr_check(&hdr->val)) {
			*reason = bad;
			return EBADMSG;
		}

		if (!name_single(&hdr->name, &full))
			continue;

		for (i = 0; i < n; i++) {
			if (seen[i] == full) {
				*reason = "Header repeated";
				return EBADMSG;
			}
		}

		if (n < ARRAY_SIZE(seen))
			seen[n++] = full;
	}

	return 0;
}


/* A Request-URI without what no URI may hold unescaped (RFC 3986 2;
   RFC 4475 3.1.2.11, 3.1.2.12): quotes, angle brackets, backslashes,
   controls */
static bool ruri_valid(const struct pl *ruri)
{
	size_t i;

	for (i = 0; i < ruri->l; i++) {
		unsigned char c = ruri->p[i];

		if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\{}|^`", c))
			return false;
	}

	return ruri->l > 0;
}


static int numbers_check(const struct sip_msg *msg, const char **reason)
{
	const struct sip_hdr *cseq = sip_msg_hdr(msg, SIP_HDR_CSEQ);
	struct pl num;
	uint32_t v;

	/* the sequence number must fit 32 bits (RFC 3261 8.1.1.5) */
	if (re_regex(cseq->val.p, cseq->val.l, "[ \t\r\n]*[^ \t\r\n]+",
		     NULL, &num) || sipx_u32(&num, &v) ||
	    !sipx_token(&msg->cseq.met)) {
		*reason = "Bad CSeq";
		return EBADMSG;
	}

	/* RFC 4475 3.1.2.3 (ncl) on transports that do not read it */
	if (pl_isset(&msg->clen) && sipx_u32(&msg->clen, &v)) {
		*reason = "Bad Content-Length";
		return EBADMSG;
	}

	/* over 255 is taken as absent (RFC 4475 3.1.2.4), not digits is
	   not */
	if (pl_isset(&msg->maxfwd) &&
	    sipx_u32(&msg->maxfwd, &v) == EBADMSG) {
		*reason = "Bad Max-Forwards";
		return EBADMSG;
	}

	return 0;
}


/* "SIP/2.0 SP 3DIGIT SP" (RFC 3261 7.2; RFC 4475 3.1.2.? bigcode: libre
   reads 4294967301 as 5) */
static bool status_line_valid(const struct sip_msg *msg)
{
	const char *p = msg->ver.p + msg->ver.l;
	const char *end = (const char *)msg->mb->buf + msg->mb->end;

	if (msg->ver.l != 7 || pl_strcasecmp(&msg->ver, "SIP/2.0"))
		return false;

	if (end - p < 5 || p[0] != ' ' || !isdigit((uint8_t)p[1]) ||
	    !isdigit((uint8_t)p[2]) || !isdigit((uint8_t)p[3]) ||
	    (p[4] != ' ' && p[4] != '\r'))
		return false;

	return msg->scode >= 100 && msg->scode <= 699;
}


/**
 * Check the headers every request and response needs (RFC 3261 8.1.1):
 * Via (a branch is not required of RFC 2543 peers, RFC 4475 3.3.15),
 * From, To, Call-ID, CSeq; header names are tokens, single headers are
 * not repeated, numbers fit; a request's method is a token and its URI
 * holds nothing a URI cannot. Max-Forwards may be absent (a proxy adds
 * one, RFC 3261 16.6).
 *
 * @param msg    SIP message
 * @param reason Set to a reason phrase on failure
 *
 * @return 0 if valid, otherwise EBADMSG
 */
int sipx_validate(const struct sip_msg *msg, const char **reason)
{
	if (!msg || !reason)
		return EINVAL;

	if (!sip_msg_hdr(msg, SIP_HDR_VIA) || !pl_isset(&msg->via.sentby)) {
		*reason = "Missing or bad Via";
		return EBADMSG;
	}

	if (!sip_msg_hdr(msg, SIP_HDR_FROM) || !pl_isset(&msg->from.auri)) {
		*reason = "Missing or bad From";
		return EBADMSG;
	}

	if (!sip_msg_hdr(msg, SIP_HDR_TO) || !pl_isset(&msg->to.auri)) {
		*reason = "Missing or bad To";
		return EBADMSG;
	}

	if (!pl_isset(&msg->callid)) {
		*reason = "Missing Call-ID";
		return EBADMSG;
	}

	if (!sip_msg_hdr(msg, SIP_HDR_CSEQ) || !pl_isset(&msg->cseq.met)) {
		*reason = "Missing or bad CSeq";
		return EBADMSG;
	}

	if (!msg->req && !status_line_valid(msg)) {
		*reason = "Bad Status-Line";
		return EBADMSG;
	}

	if (msg->req && pl_cmp(&msg->cseq.met, &msg->met)) {
		*reason = "CSeq method does not match";
		return EBADMSG;
	}

	if (msg->req && (!sipx_token(&msg->met) || !ruri_valid(&msg->ruri))) {
		*reason = "Bad Request-Line";
		return EBADMSG;
	}

	if (hdrs_check(msg, reason))
		return EBADMSG;

	return numbers_check(msg, reason);
}


/**
 * Tell whether a request holds what a response must copy (Via, From,
 * To, Call-ID, CSeq; RFC 3261 8.2.6.2), so it can be answered at all
 *
 * @param msg Request
 *
 * @return true if answerable
 */
bool sipx_answerable(const struct sip_msg *msg)
{
	return msg && sip_msg_hdr(msg, SIP_HDR_VIA) &&
		sip_msg_hdr(msg, SIP_HDR_FROM) &&
		sip_msg_hdr(msg, SIP_HDR_TO) &&
		sip_msg_hdr(msg, SIP_HDR_CSEQ) && pl_isset(&msg->callid);
}


static bool via_print(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	struct mbuf *mb = arg;
	(void)msg;

	return 0 != mbuf_printf(mb, "Via: %r\r\n", &hdr->val);
}


/**
 * Write a response to a request, copying Via, From, To, Call-ID and
 * CSeq (RFC 3261 8.2.6.2); a To tag is added to final responses that
 * lack one
 *
 * @param mb     Buffer to write to
 * @param req    Request
 * @param scode  Status code
 * @param reason Reason phrase
 * @param hdrs   Extra header lines, each ending in CRLF (may be NULL)
 *
 * @return 0 if success, EBADMSG if the request lacks what a response
 *         must copy, otherwise errorcode
 */
int sipx_reply(struct mbuf *mb, const struct sip_msg *req, uint16_t scode,
	       const char *reason, const char *hdrs)
{
	const struct sip_hdr *to, *from, *cseq;
	int err;

	if (!mb || !req || !req->req || !reason)
		return EINVAL;

	/* without these a response cannot be matched: not answerable */
	if (!sipx_answerable(req))
		return EBADMSG;

	to   = sip_msg_hdr(req, SIP_HDR_TO);
	from = sip_msg_hdr(req, SIP_HDR_FROM);
	cseq = sip_msg_hdr(req, SIP_HDR_CSEQ);

	err = mbuf_printf(mb, "SIP/2.0 %u %s\r\n", scode, reason);
	if (sip_msg_hdr_apply(req, true, SIP_HDR_VIA, via_print, mb))
		return ENOMEM;

	err |= mbuf_printf(mb, "To: %r", &to->val);
	if (scode > 100 && !pl_isset(&req->to.tag))
		err |= mbuf_printf(mb, ";tag=%016llx", rand_u64());

	err |= mbuf_printf(mb, "\r\nFrom: %r\r\n"
			   "Call-ID: %r\r\n"
			   "CSeq: %r\r\n"
			   "%s"
			   "Server: imsedge\r\n"
			   "Content-Length: 0\r\n"
			   "\r\n",
			   &from->val, &req->callid, &cseq->val,
			   hdrs ? hdrs : "");

	return err;
}

/**
 * @file standin.c  Stand-ins for header values libre's parser refuses
 *
 * libre decodes To, From, CSeq and Content-Type as it parses a message,
 * and refuses the whole message when one of them does not decode: then
 * nothing could be answered, and W2 would close the WebSocket (and end
 * its registration) over one bad header. sipx_decode() instead decodes
 * a copy in which each such value is replaced by a stand-in of the same
 * length that libre takes, puts the bytes as they came back over the
 * decoded message (the same offsets), and the request is answered 400
 * naming the header, its To, From and CSeq copied as sent: RFC 4475
 * 3.3.4 unksm2 (a From of the scheme http:), 3.1.2.6 quotbal (an
 * unbalanced quote in a To). A value under three bytes has no stand-in:
 * the message stays unparsable.
 */
#include <string.h>
#include <re.h>
#include "sipx.h"
#include "sipx_int.h"


static bool addr_ok(const struct pl *val)
{
	struct sip_addr addr;

	return !sip_addr_decode(&addr, val);
}


static bool cseq_ok(const struct pl *val)
{
	struct sip_cseq cseq;

	return !sip_cseq_decode(&cseq, val);
}


static bool ctype_ok(const struct pl *val)
{
	struct msg_ctype ctype;

	return !msg_ctype_decode(&ctype, val);
}


/* In order of precedence: the first one found names the answer */
static const struct {
	const char *name;
	const char *compact;  /* "": none                                  */
	const char *head;     /* the stand-in: this, then 'x's (3 bytes+) */
	int err;              /* what sipx_decode() returns               */
	const char *reason;
	bool (*ok)(const struct pl *val);
} hdrs[] = {
	{"To",           "t", "x:",  EDESTADDRREQ,  "Bad To",     addr_ok},
	{"From",         "f", "x:",  EADDRNOTAVAIL, "Bad From",   addr_ok},
	{"CSeq",         "",  "1 ",  EBADRQC,       "Bad CSeq",   cseq_ok},
	{"Content-Type", "c", "x/",  EMEDIUMTYPE,   "Bad Content-Type",
	 ctype_ok},
};

enum { TO = 0 };


/* The index in hdrs of a header name, in either form; -1 if none */
static int hdr_find(const struct pl *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hdrs); i++) {
		if (!pl_strcasecmp(name, hdrs[i].name) ||
		    (hdrs[i].compact[0] &&
		     !pl_strcasecmp(name, hdrs[i].compact)))
			return (int)i;
	}

	return -1;
}


static void trim_end(struct pl *pl)
{
	while (pl->l && sipx_is_lws(pl->p[pl->l - 1]))
		--pl->l;
}


/* The end of the header line at s: its CRLF that no SP or HT follows
   (RFC 3261 7.3.1 folding), or n */
static size_t line_end(const uint8_t *p, size_t n, size_t s)
{
	size_t i;

	for (i = s; i + 1 < n; i++) {
		if (p[i] == '\r' && p[i + 1] == '\n' &&
		    (i + 2 >= n || (p[i + 2] != ' ' && p[i + 2] != '\t')))
			return i;
	}

	return n;
}


/* The header of the line s..e that hdrs names (-1: none) and its value,
   as libre takes it (without the whitespace and folding around it) */
static int hdr_value(const uint8_t *p, size_t s, size_t e, struct pl *val)
{
	struct pl line, name;
	const char *colon;
	int i;

	line.p = (const char *)p + s;
	line.l = e - s;
	colon = pl_strchr(&line, ':');
	if (!colon)
		return -1;

	name.p = line.p;
	name.l = colon - line.p;
	trim_end(&name);
	i = hdr_find(&name);
	if (i < 0)
		return -1;

	val->p = colon + 1;
	val->l = line.p + line.l - val->p;
	sipx_skip_lws(val);
	trim_end(val);

	return i;
}


/**
 * Find the header values libre's parser refuses and stand in for them
 * in a copy
 *
 * @param p   Header section, from the CRLF that ends the start line
 * @param n   Its length (the body may follow)
 * @param fix A copy of p (same offsets) to write the stand-ins into
 *
 * @return A bit (1 << index) for each kind of header found
 */
unsigned sipx_standin(const uint8_t *p, size_t n, uint8_t *fix)
{
	unsigned found = 0;
	size_t i = 0;

	while (i + 3 < n && p[i] == '\r' && p[i + 1] == '\n' &&
	       !(p[i + 2] == '\r' && p[i + 3] == '\n')) {
		size_t s = i + 2, e = line_end(p, n, s);
		struct pl val;
		uint8_t *v;
		size_t hl;
		int k;

		i = e;
		k = hdr_value(p, s, e, &val);
		if (k < 0 || hdrs[k].ok(&val))
			continue;

		hl = strlen(hdrs[k].head);
		if (val.l <= hl)
			continue;

		found |= 1u << k;
		v = fix + (val.p - (const char *)p);
		memcpy(v, hdrs[k].head, hl);
		memset(v + hl, 'x', val.l - hl);
	}

	return found;
}


/* The To tag of a To that was stood in for, from its bytes as they
   came: the parameters after its last '>', or after its first ';' */
static void to_tag(struct sip_msg *msg)
{
	const struct sip_hdr *to = sip_msg_hdr(msg, SIP_HDR_TO);
	struct pl params;
	const char *gt;

	msg->to.tag = pl_null;
	if (!to)
		return;

	params = to->val;
	gt = pl_strrchr(&params, '>');
	if (!gt)
		gt = pl_strchr(&params, ';');
	if (!gt)
		return;

	pl_advance(&params, gt + 1 - params.p);
	(void)sipx_param_get(&params, ';', "tag", &msg->to.tag);
}


/**
 * The error sipx_decode() returns for a message decoded with stand-ins
 * (the bytes as they came put back)
 *
 * @param msg   Decoded message
 * @param found What sipx_standin() found (not 0)
 *
 * @return EDESTADDRREQ (To), EADDRNOTAVAIL (From), EBADRQC (CSeq) or
 *         EMEDIUMTYPE (Content-Type): the first of these found
 */
int sipx_standin_err(struct sip_msg *msg, unsigned found)
{
	size_t i;

	/* a response copies the To: its tag as it came */
	if (found & (1u << TO))
		to_tag(msg);

	for (i = 0; i < ARRAY_SIZE(hdrs); i++) {
		if (found & (1u << i))
			return hdrs[i].err;
	}

	return EBADMSG;
}


/**
 * The reason phrase for an error of sipx_standin_err()
 *
 * @param err    Error
 * @param reason Returned reason ("Bad To" and the like)
 *
 * @return true if err is one of them
 */
bool sipx_standin_reason(int err, const char **reason)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hdrs); i++) {
		if (hdrs[i].err == err) {
			*reason = hdrs[i].reason;
			return true;
		}
	}

	return false;
}

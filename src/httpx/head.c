/**
 * @file head.c  Request-head checks libre's HTTP parser leaves out
 *
 * libre's http_msg_decode() takes a header name with spaces in it, a bare
 * CR, control characters and several Host lines; a proxy in front of
 * imsedge may read such a head differently (request smuggling), so both
 * listeners refuse it with 400 (RFC 9110 5.5, RFC 9112 2.2, 3.2, 5.1, 5.2).
 */
#include <string.h>
#include <re.h>
#include "httpx.h"


static bool tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') ||
		(c && strchr("!#$%&'*+-.^_`|~", c));
}


/* One line without its CRLF (or LF): no control character but HTAB (so
   no NUL and no bare CR); a header line is a token with a colon right
   after it (no whitespace before the colon) */
static const char *line_check(const uint8_t *p, size_t n, bool header)
{
	size_t i, name = 0;

	for (i = 0; i < n; i++) {
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return p[i] == '\r' ? "bare CR" :
				"control character in the head";
	}

	if (!header)
		return NULL;

	while (name < n && tchar(p[name]))
		++name;

	if (!name || name == n || p[name] != ':')
		return "bad header field name";

	return NULL;
}


/**
 * Check a request head (the request line through the empty line; empty
 * lines before the request line are skipped)
 *
 * @param p           Head
 * @param n           Its length
 * @param max_headers Header lines allowed
 * @param why         Set to a short reason on failure
 *
 * @return 0 if well-formed, else the status to answer: 400 or 431
 */
int httpx_head_check(const uint8_t *p, size_t n, unsigned max_headers,
		     const char **why)
{
	unsigned lines = 0;
	size_t i, start;

	if (!p || !why)
		return 400;

	while (n && (*p == '\r' || *p == '\n')) {
		++p;
		--n;
	}

	for (i = start = 0; i < n; i++) {
		size_t end;

		if (p[i] != '\n')
			continue;

		end = (i > start && p[i - 1] == '\r') ? i - 1 : i;

		/* an empty line ends the head */
		if (end == start)
			break;

		*why = line_check(p + start, end - start, lines > 0);
		if (*why)
			return 400;

		++lines;
		start = i + 1;

		if (i + 1 < n && (p[i + 1] == ' ' || p[i + 1] == '\t')) {
			*why = "obsolete line folding";
			return 400;
		}
	}

	/* the request line is not a header */
	if (lines > max_headers + 1) {
		*why = "too many header lines";
		return 431;
	}

	return 0;
}


/**
 * Host as RFC 9112 3.2 wants it: exactly one in HTTP/1.1, at most one in
 * 1.0
 *
 * @param msg Request
 * @param why Set to a short reason on failure
 *
 * @return 0 if so, else 400
 */
int httpx_host_check(const struct http_msg *msg, const char **why)
{
	uint32_t n;

	if (!msg || !why)
		return 400;

	n = http_msg_hdr_count(msg, HTTP_HDR_HOST);
	if (n > 1) {
		*why = "several Host";
		return 400;
	}

	if (!n && !pl_strcmp(&msg->ver, "1.1")) {
		*why = "no Host";
		return 400;
	}

	return 0;
}

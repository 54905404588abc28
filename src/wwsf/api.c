/**
 * @file api.c  The /api/ hook: request checks, the handler call and its
 *               reply
 *
 * The handler runs synchronously with the whole body; what it passes
 * to wwsf_reply() is checked (no CR/LF in the status, type or outside
 * whole header lines) so it cannot split the response.
 */
#include <string.h>
#include <re.h>
#include "../core/log.h"
#include "wwsf.h"
#include "wwsf_int.h"

#define LOG_MODULE "wwsf"

struct wwsf_req {
	struct wwsf_sess *s;
	const uint8_t *body;
	size_t len;
	bool replied;
};


/**
 * Call the API handler with a complete request; 500 if it does not reply
 *
 * @param s    Session
 * @param body Request body, or NULL
 * @param len  Length of body
 */
void wwsf_api_call(struct wwsf_sess *s, const uint8_t *body, size_t len)
{
	struct wwsf_req req;

	memset(&req, 0, sizeof(req));
	req.s = s;
	req.body = body;
	req.len = len;

	s->site->apih(&req, s->site->arg);

	if (!req.replied) {
		log_warn("%J: API handler did not reply", &s->peer);
		wwsf_sess_fail(s, 500, "Internal Server Error", NULL,
			       "no API reply");
		return;
	}

	wwsf_sess_end(s);
}


/**
 * A request to /api/...: GET, or POST with a JSON body of known length
 * (411, 415 and 405 otherwise; 404 without a handler)
 *
 * @param s Session
 */
void wwsf_api_request(struct wwsf_sess *s)
{
	const struct http_msg *msg = s->msg;
	const bool post = !pl_strcmp(&msg->met, "POST");

	if (!post && pl_strcmp(&msg->met, "GET")) {
		wwsf_sess_fail(s, 405, "Method Not Allowed",
			       "Allow: GET, POST\r\n", "method");
		return;
	}

	if (!s->site->apih) {
		wwsf_sess_fail(s, 404, "Not Found", NULL, "no API");
		return;
	}

	if (post && !http_msg_hdr(msg, HTTP_HDR_CONTENT_LENGTH)) {
		wwsf_sess_fail(s, 411, "Length Required", NULL,
			       "POST without length");
		return;
	}

	if (post && !msg_ctype_cmp(&msg->ctyp, "application", "json")) {
		wwsf_sess_fail(s, 415, "Unsupported Media Type", NULL,
			       "not application/json");
		return;
	}

	if (s->clen) {
		s->state = S_BODY;
		s->deadline = tmr_jiffies() + WWSF_BODY_TMO;
		return;
	}

	wwsf_api_call(s, NULL, 0);
}


/**
 * The HTTP request of an API call
 *
 * @param req API request
 *
 * @return Request (method, path, headers)
 */
const struct http_msg *wwsf_req_msg(const struct wwsf_req *req)
{
	return req ? req->s->msg : NULL;
}


/**
 * Client address of an API call
 *
 * @param req API request
 *
 * @return Address
 */
const struct sa *wwsf_req_peer(const struct wwsf_req *req)
{
	return req ? &req->s->peer : NULL;
}


/**
 * Body of an API call (POST; empty for GET)
 *
 * @param req API request
 * @param p   Returned body
 * @param n   Returned length
 */
void wwsf_req_body(const struct wwsf_req *req, const uint8_t **p,
		   size_t *n)
{
	if (p)
		*p = req ? req->body : NULL;
	if (n)
		*n = req ? req->len : 0;
}


static bool line_valid(const char *p, size_t n)
{
	return !memchr(p, '\r', n) && !memchr(p, '\n', n);
}


/* Only whole "Name: value\r\n" lines */
static bool hdrs_valid(const char *h)
{
	const char *line = h;

	while (*line) {
		const char *eol = strstr(line, "\r\n");
		const char *colon = strchr(line, ':');

		if (!eol || !colon || colon > eol || colon == line ||
		    line[0] == ' ' || line[0] == '\t' ||
		    !line_valid(line, eol - line))
			return false;

		line = eol + 2;
	}

	return true;
}


/**
 * Answer an API call (exactly once, from within the handler). The
 * security headers and Cache-Control: no-store are added.
 *
 * @param req        API request
 * @param scode      Status code (200..599)
 * @param reason     Reason phrase
 * @param extra_hdrs Header lines, each ending in CRLF, or NULL
 * @param ctype      Content-Type of the body, or NULL without a body
 * @param body       Body, or NULL
 * @param len        Length of body
 *
 * @return 0 if success, EALREADY if already answered, EINVAL for a
 *         malformed status, header or type, otherwise errorcode
 */
int wwsf_reply(struct wwsf_req *req, uint16_t scode, const char *reason,
	       const char *extra_hdrs, const char *ctype,
	       const uint8_t *body, size_t len)
{
	char hdrs[1024];
	int err;

	if (!req || !reason || (len && (!body || !ctype)))
		return EINVAL;

	if (req->replied)
		return EALREADY;

	if (scode < 200 || scode > 599 ||
	    !line_valid(reason, str_len(reason)) ||
	    (ctype && !line_valid(ctype, str_len(ctype))) ||
	    (extra_hdrs && !hdrs_valid(extra_hdrs)))
		return EINVAL;

	if (re_snprintf(hdrs, sizeof(hdrs), "Cache-Control: no-store\r\n%s",
			extra_hdrs ? extra_hdrs : "") < 0)
		return EINVAL;

	req->replied = true;
	err = wwsf_sess_respond(req->s, scode, reason, hdrs, ctype, body, len);
	if (err == ENOMEM)
		wwsf_sess_finish(req->s);

	return err;
}

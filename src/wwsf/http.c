/**
 * @file http.c  One WWSF HTTP connection, detached from sockets
 *
 * Fed with plaintext bytes (wwsf_sess_recv), it parses one request at a
 * time (pipelined bytes wait in order), answers files and API requests
 * through a send handler, and streams file bodies in chunks while the
 * send queue is short (wwsf_sess_drain continues).
 *
 * Limits: head 8 KiB (431, or 414 while the request line has not ended),
 * 64 header lines (431), API body 4096 bytes with Content-Length (413;
 * Transfer-Encoding is refused with 411 Length Required: there is no
 * chunked decoder), 100 requests per connection. Deadlines: 10 s for
 * the first head (it includes TLS), 10 s per head once its first byte
 * has arrived, 10 s for a body, 15 s keep-alive idle; a late head or
 * body is answered 408. An error response that leaves the framing in
 * doubt (any request with an unread body, every 4xx but 404/405, 5xx)
 * closes the connection.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <re.h>
#include "../core/log.h"
#include "../httpx/httpx.h"
#include "wwsf.h"
#include "wwsf_int.h"

#define LOG_MODULE "wwsf"

enum {
	CHUNK    = 16384,
	TXQ_HIGH = 65536,       /* stop reading the file above this      */
	RX_MAX   = 65536 + WWSF_HEAD_MAX,  /* one TLS read, pipelined */
};


static void destructor(void *arg)
{
	struct wwsf_sess *s = arg;

	wwsf_file_close(&s->file);
	mem_deref(s->msg);
	mem_deref(s->head);
	mem_deref(s->rx);
	mem_deref(s->site);
}


/* No more requests; rx is kept (an API handler may be reading its body
   from it) until process() or the destructor */
void wwsf_sess_finish(struct wwsf_sess *s)
{
	s->state = S_DONE;
	s->left = 0;
	wwsf_file_close(&s->file);
}


static int send_mb(struct wwsf_sess *s, struct mbuf *mb)
{
	int err;

	mb->pos = 0;
	err = s->sendh(mb, s->arg);
	if (err) {
		log_info("%J: send failed: %m", &s->peer, err);
		wwsf_sess_finish(s);
	}

	return err;
}


/* Status line and the headers every response carries */
static int head_print(struct mbuf *mb, const struct wwsf_sess *s,
		      uint16_t scode, const char *reason)
{
	char date[40];

	(void)wwsf_http_date(date, sizeof(date), (int64_t)time(NULL));

	return mbuf_printf(mb,
			   "HTTP/1.1 %u %s\r\n"
			   "Server: imsedge\r\n"
			   "Date: %s\r\n"
			   "Strict-Transport-Security: max-age=31536000\r\n"
			   "X-Content-Type-Options: nosniff\r\n"
			   "Content-Security-Policy: %s\r\n"
			   "Referrer-Policy: no-referrer\r\n"
			   "X-Frame-Options: DENY\r\n"
			   "Permissions-Policy: microphone=(self), "
			   "camera=(self)\r\n"
			   "%s",
			   scode, reason, date, s->site->csp,
			   !s->keep ? "Connection: close\r\n" :
			   s->msg && !pl_strcmp(&s->msg->ver, "1.0") ?
			   "Connection: keep-alive\r\n" : "");
}


/* A whole response with an in-memory body (security headers added) */
int wwsf_sess_respond(struct wwsf_sess *s, uint16_t scode,
		      const char *reason, const char *hdrs, const char *ctype,
		      const uint8_t *body, size_t len)
{
	struct mbuf *mb = mbuf_alloc(1024 + len);
	int err;

	if (!mb)
		return ENOMEM;

	err = head_print(mb, s, scode, reason);
	if (!err && ctype)
		err = mbuf_printf(mb, "Content-Type: %s\r\n", ctype);
	if (!err)
		err = mbuf_printf(mb, "Content-Length: %zu\r\n%s\r\n", len,
				  hdrs ? hdrs : "");
	if (!err && len && !s->head_only)
		err = mbuf_write_mem(mb, body, len);
	if (!err)
		err = send_mb(s, mb);

	mem_deref(mb);
	return err;
}


/* An error response with a small text body and a log line; ends the
   request */
void wwsf_sess_fail(struct wwsf_sess *s, uint16_t scode, const char *reason,
		    const char *hdrs, const char *why)
{
	char body[128];
	int n;

	if (s->clen || (scode >= 400 && scode != 404 && scode != 405))
		s->keep = false;

	if (s->msg)
		log_info("%J: %r %r%r: %u %s (%s)", &s->peer, &s->msg->met,
			 &s->msg->path, &s->msg->prm, scode, reason, why);
	else
		log_info("%J: %u %s (%s)", &s->peer, scode, reason, why);

	n = re_snprintf(body, sizeof(body), "%u %s\n", scode, reason);
	(void)wwsf_sess_respond(s, scode, reason, hdrs,
				"text/plain; charset=utf-8", (uint8_t *)body,
				n > 0 ? (size_t)n : 0);
	wwsf_sess_end(s);
}


/* The current request is answered: wait for the next or finish */
void wwsf_sess_end(struct wwsf_sess *s)
{
	s->msg  = mem_deref(s->msg);
	s->head = mem_deref(s->head);
	s->clen = 0;
	s->scan = 0;
	s->head_only = false;

	if (s->state == S_DONE)
		return;

	if (!s->keep) {
		wwsf_sess_finish(s);
		return;
	}

	s->state = S_IDLE;
	s->deadline = tmr_jiffies() + WWSF_IDLE_TMO;
}


static void pump(struct wwsf_sess *s)
{
	struct mbuf *mb = NULL;

	while (s->state == S_SEND && s->left) {
		size_t n = min(s->left, (size_t)CHUNK);
		ssize_t r;

		if (s->txqh && s->txqh(s->arg) >= TXQ_HIGH)
			goto out;

		if (!mb) {
			mb = mbuf_alloc(CHUNK);
			if (!mb) {
				wwsf_sess_finish(s);
				goto out;
			}
		}

		r = read(s->file.fd, mb->buf, n);
		if (r != (ssize_t)n) {
			log_warn("%J: file read failed (%zd of %zu bytes): %m",
				 &s->peer, r, n, r < 0 ? errno : EIO);
			wwsf_sess_finish(s);
			goto out;
		}

		mb->end = n;
		if (send_mb(s, mb))
			goto out;

		s->left -= n;
		s->deadline = tmr_jiffies() + WWSF_SEND_TMO;
	}

	if (s->state == S_SEND) {
		wwsf_file_close(&s->file);
		wwsf_sess_end(s);
	}

 out:
	mem_deref(mb);
}


static int file_head(struct wwsf_sess *s, const struct wwsf_file *f,
		     uint16_t scode, const char *reason)
{
	struct mbuf *mb = mbuf_alloc(1024);
	int err;

	if (!mb)
		return ENOMEM;

	err = head_print(mb, s, scode, reason);
	if (!err)
		err = mbuf_printf(mb,
				  "ETag: %s\r\n"
				  "Last-Modified: %s\r\n"
				  "Cache-Control: no-cache\r\n"
				  "%s%s",
				  f->etag, f->lastmod,
				  f->has_gzip ? "Vary: Accept-Encoding\r\n" :
				  "",
				  f->gzip ? "Content-Encoding: gzip\r\n" : "");
	if (!err && scode == 200)
		err = mbuf_printf(mb, "Content-Type: %s\r\n"
				  "Content-Length: %zu\r\n",
				  f->ctype, f->size);
	if (!err)
		err = mbuf_write_str(mb, "\r\n");
	if (!err)
		err = send_mb(s, mb);

	mem_deref(mb);
	return err;
}


static void path_fail(struct wwsf_sess *s, int err)
{
	char loc[WWSF_PATH_MAX + 32];

	switch (err) {

	case EINVAL:
		wwsf_sess_fail(s, 400, "Bad Request", NULL,
			       "bad request-target");
		break;

	case ENAMETOOLONG:
		wwsf_sess_fail(s, 414, "URI Too Long", NULL, "path too long");
		break;

	case EACCES:
		wwsf_sess_fail(s, 404, "Not Found", NULL, "refused path");
		break;

	case EISDIR:
		if (re_snprintf(loc, sizeof(loc), "Location: %r/\r\n",
				&s->msg->path) < 0) {
			wwsf_sess_fail(s, 414, "URI Too Long", NULL,
				       "path too long");
			break;
		}

		wwsf_sess_fail(s, 301, "Moved Permanently", loc, "directory");
		break;

	default:
		wwsf_sess_fail(s, 404, "Not Found", NULL, "no such file");
		break;
	}
}


static void file_request(struct wwsf_sess *s)
{
	const struct http_msg *msg = s->msg;
	char path[WWSF_PATH_MAX];
	struct pl target;
	int err;

	if (pl_strcmp(&msg->met, "GET") && pl_strcmp(&msg->met, "HEAD")) {
		wwsf_sess_fail(s, 405, "Method Not Allowed",
			       "Allow: GET, HEAD\r\n", "method");
		return;
	}

	s->head_only = !pl_strcmp(&msg->met, "HEAD");

	target.p = msg->path.p;
	target.l = msg->path.l + msg->prm.l;

	err = wwsf_path_map(s->site->root, &target, path, sizeof(path));
	if (err) {
		path_fail(s, err);
		return;
	}

	err = wwsf_file_open(&s->file, path, wwsf_gzip_accepted(msg));
	if (err == EFBIG) {
		log_warn("%J: %s is larger than %u bytes", &s->peer, path,
			 WWSF_FILE_MAX);
		wwsf_sess_fail(s, 500, "Internal Server Error", NULL,
			       "file too large");
		return;
	}
	if (err) {
		wwsf_sess_fail(s, 404, "Not Found", NULL, "cannot open file");
		return;
	}

	if (wwsf_etag_match(msg, s->file.etag)) {
		wwsf_file_close(&s->file);
		if (!file_head(s, &s->file, 304, "Not Modified"))
			wwsf_sess_end(s);
		return;
	}

	if (file_head(s, &s->file, 200, "OK"))
		return;

	if (s->head_only) {
		wwsf_file_close(&s->file);
		wwsf_sess_end(s);
		return;
	}

	s->left = s->file.size;
	s->state = S_SEND;
	s->deadline = tmr_jiffies() + WWSF_SEND_TMO;
	pump(s);
}



/* Content-Length: digits only, all copies equal */
static bool clen_handler(const struct http_hdr *hdr, void *arg)
{
	int64_t *v = arg;
	int64_t n = 0;
	size_t i;

	if (!hdr->val.l || hdr->val.l > 9)
		goto bad;

	for (i = 0; i < hdr->val.l; i++) {
		if (hdr->val.p[i] < '0' || hdr->val.p[i] > '9')
			goto bad;
		n = n * 10 + (hdr->val.p[i] - '0');
	}

	if (*v >= 0 && *v != n)
		goto bad;

	*v = n;
	return false;

 bad:
	*v = -2;
	return true;
}


static bool keep_alive(const struct http_msg *msg)
{
	if (http_msg_hdr_has_value(msg, HTTP_HDR_CONNECTION, "close"))
		return false;

	if (!pl_strcmp(&msg->ver, "1.1"))
		return true;

	return http_msg_hdr_has_value(msg, HTTP_HDR_CONNECTION,
				      "keep-alive");
}


static void request(struct wwsf_sess *s)
{
	const struct http_msg *msg = s->msg;
	const char *why = NULL;
	int64_t clen = -1;

	++s->nreq;
	s->keep = keep_alive(msg) && s->nreq < WWSF_REQ_MAX;

	if (pl_strcmp(&msg->ver, "1.1") && pl_strcmp(&msg->ver, "1.0")) {
		wwsf_sess_fail(s, 505, "HTTP Version Not Supported", NULL,
			       "version");
		return;
	}

	if (httpx_host_check(msg, &why)) {
		s->keep = false;
		wwsf_sess_fail(s, 400, "Bad Request", NULL, why);
		return;
	}

	if (http_msg_hdr(msg, HTTP_HDR_TRANSFER_ENCODING)) {
		s->keep = false;
		wwsf_sess_fail(s, 411, "Length Required", NULL,
			       "Transfer-Encoding not supported");
		return;
	}

	(void)http_msg_hdr_apply(msg, true, HTTP_HDR_CONTENT_LENGTH,
				 clen_handler, &clen);
	if (clen == -2) {
		s->keep = false;
		wwsf_sess_fail(s, 400, "Bad Request", NULL,
			       "bad Content-Length");
		return;
	}
	if (clen > WWSF_BODY_MAX) {
		s->keep = false;
		wwsf_sess_fail(s, 413, "Content Too Large", NULL,
			       "body too large");
		return;
	}

	s->clen = clen > 0 ? (size_t)clen : 0;

	if (s->clen && pl_strcmp(&msg->met, "POST")) {
		wwsf_sess_fail(s, 400, "Bad Request", NULL,
			       "body not allowed");
		return;
	}

	if ((msg->path.l >= 5 && !memcmp(msg->path.p, "/api/", 5)) ||
	    !pl_strcmp(&msg->path, "/metrics"))
		wwsf_api_request(s);
	else
		file_request(s);
}


/* Length of the head up to its empty line, or 0 if not complete */
static size_t head_end(const uint8_t *p, size_t n, size_t *scan)
{
	size_t i;

	for (i = max(*scan, (size_t)1); i < n; i++) {
		if (p[i] != '\n')
			continue;

		if (p[i - 1] == '\n' ||
		    (i >= 2 && p[i - 1] == '\r' && p[i - 2] == '\n'))
			return i + 1;
	}

	*scan = n;

	return 0;
}


static void head_too_large(struct wwsf_sess *s, const uint8_t *p, size_t n)
{
	if (!memchr(p, '\n', min(n, (size_t)WWSF_HEAD_MAX)))
		wwsf_sess_fail(s, 414, "URI Too Long", NULL,
			       "request line too long");
	else
		wwsf_sess_fail(s, 431, "Request Header Fields Too Large", NULL,
			       "request head too large");
}


/* Parse a head from rx; false if more bytes are needed */
static bool head_parse(struct wwsf_sess *s)
{
	const uint8_t *p;
	const char *why = NULL;
	size_t n, len;
	int scode, err;

	/* empty lines before a request are ignored (RFC 9112 2.2) */
	while (mbuf_get_left(s->rx) && (mbuf_buf(s->rx)[0] == '\r' ||
					mbuf_buf(s->rx)[0] == '\n'))
		++s->rx->pos;

	p = mbuf_buf(s->rx);
	n = mbuf_get_left(s->rx);
	if (!n)
		return false;

	if (s->state == S_IDLE) {
		s->state = S_HEAD;
		s->deadline = tmr_jiffies() + WWSF_HEAD_TMO;
	}

	len = head_end(p, n, &s->scan);
	if (!len && n <= WWSF_HEAD_MAX)
		return false;

	if (!len || len > WWSF_HEAD_MAX) {
		head_too_large(s, p, n);
		return true;
	}

	scode = httpx_head_check(p, len, WWSF_HDR_MAX, &why);
	if (scode) {
		wwsf_sess_fail(s, (uint16_t)scode, scode == 400 ?
			       "Bad Request" :
			       "Request Header Fields Too Large", NULL, why);
		return true;
	}

	s->head = mbuf_alloc(len);
	if (!s->head) {
		wwsf_sess_finish(s);
		return true;
	}

	(void)mbuf_write_mem(s->head, p, len);
	s->head->pos = 0;
	s->rx->pos += len;

	err = http_msg_decode(&s->msg, s->head, true);
	if (err) {
		wwsf_sess_fail(s, 400, "Bad Request", NULL,
			       "malformed request");
		return true;
	}

	request(s);

	return true;
}


static bool body_ready(struct wwsf_sess *s)
{
	if (mbuf_get_left(s->rx) < s->clen)
		return false;

	s->rx->pos += s->clen;
	wwsf_api_call(s, mbuf_buf(s->rx) - s->clen, s->clen);

	return true;
}


/* Handle what rx holds, request by request, until more is needed */
static void process(struct wwsf_sess *s)
{
	bool more = true;

	while (more && s->rx) {

		switch (s->state) {

		case S_HEAD:
		case S_IDLE:
			more = head_parse(s);
			break;

		case S_BODY:
			more = body_ready(s);
			break;

		default:
			more = false;
			break;
		}
	}

	/* an idle or finished connection holds no buffer */
	if (s->rx && s->state != S_SEND &&
	    (!mbuf_get_left(s->rx) || s->state == S_DONE))
		s->rx = mem_deref(s->rx);
}


static int rx_append(struct wwsf_sess *s, const uint8_t *p, size_t n)
{
	size_t left;
	int err;

	if (!s->rx) {
		s->rx = mbuf_alloc(max(n, (size_t)1024));
		if (!s->rx)
			return ENOMEM;
	}

	left = mbuf_get_left(s->rx);
	if (left + n > RX_MAX)
		return EOVERFLOW;

	if (s->rx->pos) {
		memmove(s->rx->buf, mbuf_buf(s->rx), left);
		s->rx->end = left;
	}

	s->rx->pos = left;
	err = mbuf_write_mem(s->rx, p, n);
	s->rx->pos = 0;

	return err;
}


/**
 * Feed bytes received from the client
 *
 * @param s Session
 * @param p Bytes
 * @param n Number of bytes
 */
void wwsf_sess_recv(struct wwsf_sess *s, const uint8_t *p, size_t n)
{
	int err;

	if (!s || !p || !n || s->state == S_DONE || s->drop)
		return;

	err = rx_append(s, p, n);
	if (err == EOVERFLOW && s->state == S_SEND) {
		log_info("%J: too much pipelined input, closing after this "
			 "response", &s->peer);
		s->keep = false;
		s->drop = true;
		return;
	}
	if (err == EOVERFLOW) {
		wwsf_sess_fail(s, 431, "Request Header Fields Too Large", NULL,
			       "request too large");
		return;
	}
	if (err) {
		wwsf_sess_finish(s);
		return;
	}

	process(s);
}


/**
 * Continue after the send queue has drained: the next part of a file
 * body, then any pipelined request
 *
 * @param s Session
 */
void wwsf_sess_drain(struct wwsf_sess *s)
{
	if (!s || s->state != S_SEND)
		return;

	pump(s);
	process(s);
}


/**
 * Check the session's deadline
 *
 * @param s   Session
 * @param now Current time (tmr_jiffies())
 */
void wwsf_sess_tick(struct wwsf_sess *s, uint64_t now)
{
	if (!s || s->state == S_DONE || now < s->deadline)
		return;

	switch (s->state) {

	case S_HEAD:
		s->rx = mem_deref(s->rx);
		wwsf_sess_fail(s, 408, "Request Timeout", NULL,
			       "request head too slow");
		break;

	case S_BODY:
		wwsf_sess_fail(s, 408, "Request Timeout", NULL,
			       "request body too slow");
		break;

	case S_IDLE:
		log_debug("%J: keep-alive idle timeout", &s->peer);
		wwsf_sess_finish(s);
		break;

	case S_SEND:
		log_info("%J: client stopped reading, closing", &s->peer);
		wwsf_sess_finish(s);
		break;

	default:
		break;
	}

	s->rx = mem_deref(s->rx);
}


/**
 * Tell whether a file body is waiting for the send queue to drain
 *
 * @param s Session
 *
 * @return true if wwsf_sess_drain() should be called when it has
 */
bool wwsf_sess_sending(const struct wwsf_sess *s)
{
	return s && s->state == S_SEND;
}


/**
 * Tell whether the session has ended (the owner sends what is queued,
 * then closes)
 *
 * @param s Session
 *
 * @return true if done
 */
bool wwsf_sess_done(const struct wwsf_sess *s)
{
	return !s || s->state == S_DONE;
}


/**
 * Number of requests received so far
 *
 * @param s Session
 *
 * @return Count
 */
unsigned wwsf_sess_requests(const struct wwsf_sess *s)
{
	return s ? s->nreq : 0;
}


/**
 * Create a session for one connection; the first request head is due
 * within WWSF_HEAD_TMO
 *
 * @param sp    Returned session
 * @param site  Site (a reference is kept)
 * @param peer  Client address
 * @param sendh Queues bytes toward the client
 * @param txqh  Bytes still queued (may be NULL: never waits)
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int wwsf_sess_alloc(struct wwsf_sess **sp, struct wwsf_site *site,
		    const struct sa *peer, wwsf_send_h *sendh,
		    wwsf_txq_h *txqh, void *arg)
{
	struct wwsf_sess *s;

	if (!sp || !site || !peer || !sendh)
		return EINVAL;

	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;

	s->site  = mem_ref(site);
	s->peer  = *peer;
	s->sendh = sendh;
	s->txqh  = txqh;
	s->arg   = arg;
	s->file.fd = -1;
	s->keep  = true;
	s->state = S_HEAD;
	s->deadline = tmr_jiffies() + WWSF_HEAD_TMO;

	*sp = s;

	return 0;
}



/**
 * @file wwsf.c  Tests for the WWSF: path mapping, the socket-free HTTP
 *               session (files, limits, API hook) and HTTPS over
 *               loopback (checklist D-51)
 */
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re.h>
#include "wwsf/wwsf.h"
#include "wwsf/wwsf_int.h"
#include "test.h"

/* A page root in a temporary directory:
     top/outside.txt           not to be served
     top/root/index.html, app.js, app.js.gz, logo.png, .git/config,
              sub/index.html, empty/, leak.txt -> ../outside.txt,
              ldir -> ..                                            */
struct site {
	char top[64];
	char root[96];
};

static const char *const files[] = {
	"outside.txt", "root/index.html", "root/app.js", "root/app.js.gz",
	"root/logo.png", "root/.git/config", "root/sub/index.html",
};
static const char *const dirs[] = {
	"root/.git", "root/sub", "root/empty", "root",
};
static const char *const links[] = {"root/leak.txt", "root/ldir"};

static const char index_html[] = "<!doctype html><title>WIC</title>\n";
static const char app_js[] = "console.log('plain');\n";
static const char app_js_gz[] = "\x1f\x8b fake gzip bytes";


static void site_remove(struct site *s)
{
	char path[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(links); i++) {
		(void)re_snprintf(path, sizeof(path), "%s/%s", s->top,
				  links[i]);
		(void)unlink(path);
	}
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		(void)re_snprintf(path, sizeof(path), "%s/%s", s->top,
				  files[i]);
		(void)unlink(path);
	}
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		(void)re_snprintf(path, sizeof(path), "%s/%s", s->top,
				  dirs[i]);
		(void)rmdir(path);
	}
	(void)rmdir(s->top);
}


static int put(const struct site *s, const char *name, const char *data,
	       size_t len)
{
	char path[160];
	FILE *f;
	int err = 0;

	(void)re_snprintf(path, sizeof(path), "%s/%s", s->top, name);
	f = fopen(path, "wb");
	if (!f)
		return errno;
	if (fwrite(data, 1, len, f) != len)
		err = EIO;
	(void)fclose(f);

	return err;
}


static int site_make(struct site *s)
{
	char path[160];
	size_t i;
	int err = 0;

	str_ncpy(s->top, "/tmp/imsedge-wwsf-XXXXXX", sizeof(s->top));
	if (!mkdtemp(s->top))
		return errno;

	(void)re_snprintf(s->root, sizeof(s->root), "%s/root", s->top);

	for (i = ARRAY_SIZE(dirs); i-- > 0;) {
		(void)re_snprintf(path, sizeof(path), "%s/%s", s->top,
				  dirs[i]);
		if (mkdir(path, 0700))
			return errno;
	}

	err |= put(s, "outside.txt", "secret\n", 7);
	err |= put(s, "root/index.html", index_html, sizeof(index_html) - 1);
	err |= put(s, "root/app.js", app_js, sizeof(app_js) - 1);
	err |= put(s, "root/app.js.gz", app_js_gz, sizeof(app_js_gz) - 1);
	err |= put(s, "root/logo.png", "\x89PNG", 4);
	err |= put(s, "root/.git/config", "[core]\n", 7);
	err |= put(s, "root/sub/index.html", "sub\n", 4);
	if (err)
		return EIO;

	(void)re_snprintf(path, sizeof(path), "%s/root/leak.txt", s->top);
	if (symlink("../outside.txt", path))
		return errno;
	(void)re_snprintf(path, sizeof(path), "%s/root/ldir", s->top);
	if (symlink("..", path))
		return errno;

	return 0;
}


static int map(const struct site *s, const char *target, char *out,
	       size_t sz)
{
	struct pl pl;

	pl_set_str(&pl, target);

	return wwsf_path_map(s->root, &pl, out, sz);
}


static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && !strcmp(s + n - m, tail);
}


int test_wwsf_path_map(void)
{
	static const struct {
		const char *target;
		int err;
	} bad[] = {
		{"/../etc/passwd",          EACCES},
		{"/%2e%2e/etc/passwd",      EACCES},
		{"/%2E%2E%2Fetc/passwd",    EACCES},
		{"/%252e%252e/etc/passwd",  EINVAL},   /* double encoded */
		{"/a/../b",                 EACCES},
		{"/sub/./index.html",       EACCES},
		{"/.git/config",            EACCES},
		{"/%2egit/config",          EACCES},
		{"/index.html%00.png",      EINVAL},
		{"/a\\b",                   EINVAL},
		{"/a%5c..%5cb",             EINVAL},
		{"/%zz",                    EINVAL},
		{"/%2",                     EINVAL},
		{"/a%0d%0aX: y",            EINVAL},
		{"index.html",              EINVAL},
		{"http://x/index.html",     EINVAL},
		{"*",                       EINVAL},
		{"//etc/passwd",            EINVAL},
		{"/leak.txt",               EACCES},   /* symlink out */
		{"/ldir/outside.txt",       EACCES},
		{"/ldir/root/index.html",   0},        /* back inside */
		{"/missing.js",             ENOENT},
		{"/empty/",                 ENOENT},   /* no listing */
		{"/sub",                    EISDIR},
	};
	struct site s;
	char path[512], want[PATH_MAX], longp[1200];
	size_t i;
	int err;

	memset(&s, 0, sizeof(s));
	TEST_ERR(site_make(&s));

	/* "/" and "dir/" map to index.html; the query is dropped */
	TEST_ERR(map(&s, "/", path, sizeof(path)));
	TEST_ASSERT(realpath(s.root, want));
	TEST_ASSERT(!strncmp(path, want, strlen(want)));
	TEST_ASSERT(ends_with(path, "/root/index.html"));
	TEST_ERR(map(&s, "/sub/?x=1", path, sizeof(path)));
	TEST_ASSERT(ends_with(path, "/root/sub/index.html"));
	TEST_ERR(map(&s, "/app.js?v=../../x", path, sizeof(path)));
	TEST_ASSERT(ends_with(path, "/root/app.js"));
	TEST_ERR(map(&s, "/%61pp.js", path, sizeof(path)));
	TEST_ASSERT(ends_with(path, "/root/app.js"));

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int e = map(&s, bad[i].target, path, sizeof(path));

		if (e != bad[i].err)
			(void)re_fprintf(stderr, "  target %s\n",
					 bad[i].target);
		TEST_EQ(e, bad[i].err);
	}

	/* too long, and a result buffer too small */
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	TEST_EQ(map(&s, longp, path, sizeof(path)), ENAMETOOLONG);
	TEST_EQ(map(&s, "/", path, 8), ENAMETOOLONG);

	TEST_STREQ(wwsf_mime_type("a/b.HTML"), "text/html; charset=utf-8");
	TEST_STREQ(wwsf_mime_type("x.mjs"), "text/javascript; charset=utf-8");
	TEST_STREQ(wwsf_mime_type("x.wasm"), "application/wasm");
	TEST_STREQ(wwsf_mime_type("x.woff2"), "font/woff2");
	TEST_STREQ(wwsf_mime_type("x.map"), "application/json");
	TEST_STREQ(wwsf_mime_type("x.svg"), "image/svg+xml");
	TEST_STREQ(wwsf_mime_type("x.d/noext"), "application/octet-stream");
	TEST_STREQ(wwsf_mime_type("x.exe"), "application/octet-stream");

 out:
	site_remove(&s);
	return err;
}


/* --- the HTTP session, fed bytes without sockets ----------------------- */

struct rig {
	struct site site;
	struct wwsf_site *ws;
	struct wwsf_sess *s;
	struct mbuf *out;          /* everything the session sent        */
	unsigned api_calls;
	char api_body[64];
	bool api_silent;           /* handler does not reply             */
	int reply_err2;            /* result of a second reply           */
	int reply_bad;             /* result of a header-injection reply */
	size_t txq;                /* bytes "queued" (stream test)       */
	bool count_txq;
};

struct rsp {
	char head[4096];
	uint16_t scode;
	size_t clen;
	const uint8_t *body;
	size_t blen;
};


static int out_send(struct mbuf *mb, void *arg)
{
	struct rig *r = arg;
	size_t pos = r->out->pos;
	int err;

	if (r->count_txq)
		r->txq += mbuf_get_left(mb);

	r->out->pos = r->out->end;
	err = mbuf_write_mem(r->out, mbuf_buf(mb), mbuf_get_left(mb));
	r->out->pos = pos;

	return err;
}


static int rig_sess(struct rig *r)
{
	r->s = mem_deref(r->s);
	mbuf_reset(r->out);

	return wwsf_sess_alloc(&r->s, r->ws, &(struct sa){0}, out_send,
			       NULL, r);
}


static int rig_init(struct rig *r, const char *connect_src)
{
	int err;

	memset(r, 0, sizeof(*r));

	err = site_make(&r->site);
	if (err)
		return err;

	err = wwsf_site_alloc(&r->ws, r->site.root, connect_src);
	if (err)
		return err;

	r->out = mbuf_alloc(4096);
	if (!r->out)
		return ENOMEM;

	return rig_sess(r);
}


static void rig_close(struct rig *r)
{
	mem_deref(r->s);
	mem_deref(r->ws);
	mem_deref(r->out);
	site_remove(&r->site);
}


static void feed(struct rig *r, const char *req)
{
	wwsf_sess_recv(r->s, (const uint8_t *)req, strlen(req));
}


/* The next response from r->out; no body after HEAD or a 304 */
static int rsp_next(struct rig *r, struct rsp *p, bool head_only)
{
	const char *b = (const char *)mbuf_buf(r->out);
	size_t n = mbuf_get_left(r->out), hl;
	const char *end, *cl;

	memset(p, 0, sizeof(*p));

	end = n ? memmem(b, n, "\r\n\r\n", 4) : NULL;
	if (!end || (size_t)(end - b) + 4 >= sizeof(p->head))
		return ENODATA;

	hl = end - b + 4;
	memcpy(p->head, b, hl);
	p->scode = (uint16_t)atoi(p->head + 9);

	cl = strstr(p->head, "\r\nContent-Length: ");
	if (cl)
		p->clen = strtoul(cl + 18, NULL, 10);

	if (head_only || p->scode == 304)
		p->blen = 0;
	else
		p->blen = p->clen;

	if (hl + p->blen > n)
		return ENODATA;

	p->body = (const uint8_t *)b + hl;
	r->out->pos += hl + p->blen;

	return 0;
}


static bool has(const struct rsp *p, const char *line)
{
	char want[600];

	(void)re_snprintf(want, sizeof(want), "\r\n%s\r\n", line);

	return strstr(p->head, want) != NULL;
}


static bool body_is(const struct rsp *p, const char *s)
{
	return p->blen == strlen(s) && !memcmp(p->body, s, p->blen);
}


/* Every response carries these (files, API and errors) */
static bool secure(const struct rsp *p)
{
	return has(p, "Strict-Transport-Security: max-age=31536000") &&
		has(p, "X-Content-Type-Options: nosniff") &&
		has(p, "Referrer-Policy: no-referrer") &&
		has(p, "X-Frame-Options: DENY") &&
		has(p, "Permissions-Policy: microphone=(self), "
		    "camera=(self)") &&
		has(p, "Server: imsedge") &&
		strstr(p->head, "\r\nContent-Security-Policy: default-src "
		       "'none'; script-src 'self'; ") &&
		!strstr(p->head, "unsafe-inline");
}


static int get(struct rig *r, const char *req, struct rsp *p, bool head)
{
	mbuf_reset(r->out);
	feed(r, req);
	r->out->pos = 0;

	return rsp_next(r, p, head);
}


int test_wwsf_files(void)
{
	struct rig r;
	struct rsp p;
	char req[256], etag[64];
	const char *e;
	int err;

	TEST_ERR(rig_init(&r, "wss://edge.example.net:7443"));

	TEST_ERR(get(&r, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", &p, false));
	TEST_EQ(p.scode, 200);
	TEST_ASSERT(secure(&p));
	TEST_ASSERT(has(&p, "Content-Security-Policy: default-src 'none'; "
			"script-src 'self'; style-src 'self'; img-src 'self' "
			"data:; media-src 'self' blob:; connect-src 'self' "
			"wss://edge.example.net:7443; base-uri 'none'; "
			"form-action 'self'; frame-ancestors 'none'"));
	TEST_ASSERT(has(&p, "Content-Type: text/html; charset=utf-8"));
	TEST_ASSERT(has(&p, "Cache-Control: no-cache"));
	TEST_ASSERT(strstr(p.head, "\r\nLast-Modified: "));
	TEST_ASSERT(strstr(p.head, " GMT\r\n"));
	TEST_ASSERT(!strstr(p.head, "Vary:"));
	TEST_ASSERT(!strstr(p.head, "Connection: close"));
	TEST_ASSERT(body_is(&p, index_html));
	TEST_ASSERT(!wwsf_sess_done(r.s));

	/* the ETag revalidates: 304 without a body */
	e = strstr(p.head, "\r\nETag: \"");
	TEST_ASSERT(e);
	(void)sscanf(e + 8, "%63[^\r]", etag);
	(void)re_snprintf(req, sizeof(req), "GET /index.html HTTP/1.1\r\n"
			  "Host: a\r\nIf-None-Match: \"x\", %s\r\n\r\n",
			  etag);
	TEST_ERR(get(&r, req, &p, false));
	TEST_EQ(p.scode, 304);
	TEST_ASSERT(secure(&p));
	TEST_EQ(mbuf_get_left(r.out), 0);

	/* precompressed sibling only when gzip is accepted */
	TEST_ERR(get(&r, "GET /app.js HTTP/1.1\r\nHost: a\r\n"
		     "Accept-Encoding: br, gzip\r\n\r\n", &p, false));
	TEST_EQ(p.scode, 200);
	TEST_ASSERT(has(&p, "Content-Encoding: gzip"));
	TEST_ASSERT(has(&p, "Vary: Accept-Encoding"));
	TEST_ASSERT(has(&p, "Content-Type: text/javascript; charset=utf-8"));
	TEST_ASSERT(body_is(&p, app_js_gz));
	TEST_ERR(get(&r, "GET /app.js HTTP/1.1\r\nHost: a\r\n"
		     "Accept-Encoding: gzip;q=0, *\r\n\r\n", &p, false));
	TEST_ASSERT(!strstr(p.head, "Content-Encoding"));
	TEST_ASSERT(has(&p, "Vary: Accept-Encoding"));
	TEST_ASSERT(body_is(&p, app_js));
	TEST_ERR(get(&r, "GET /app.js HTTP/1.1\r\nHost: a\r\n\r\n", &p,
		     false));
	TEST_ASSERT(body_is(&p, app_js));

	/* HEAD: the headers of GET, no body */
	TEST_ERR(get(&r, "HEAD /logo.png HTTP/1.1\r\nHost: a\r\n\r\n", &p,
		     true));
	TEST_EQ(p.scode, 200);
	TEST_EQ(p.clen, 4);
	TEST_ASSERT(has(&p, "Content-Type: image/png"));
	TEST_EQ(mbuf_get_left(r.out), 0);

	/* refusals, each answered and the connection kept */
	TEST_ERR(get(&r, "GET /.git/config HTTP/1.1\r\nHost: a\r\n\r\n", &p,
		     false));
	TEST_EQ(p.scode, 404);
	TEST_ASSERT(secure(&p));
	TEST_ASSERT(has(&p, "Content-Type: text/plain; charset=utf-8"));
	TEST_ASSERT(!memmem(p.body, p.blen, "[core]", 6));
	TEST_ERR(get(&r, "GET /leak.txt HTTP/1.1\r\nHost: a\r\n\r\n", &p,
		     false));
	TEST_EQ(p.scode, 404);
	TEST_ERR(get(&r, "GET /%2e%2e/outside.txt HTTP/1.1\r\nHost: a\r\n"
		     "\r\n", &p, false));
	TEST_EQ(p.scode, 404);
	TEST_ERR(get(&r, "GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n", &p,
		     false));
	TEST_EQ(p.scode, 400);
	TEST_ERR(rig_sess(&r));
	TEST_ERR(get(&r, "GET /sub HTTP/1.1\r\nHost: a\r\n\r\n", &p, false));
	TEST_EQ(p.scode, 301);
	TEST_ASSERT(has(&p, "Location: /sub/"));
	TEST_ERR(get(&r, "DELETE /index.html HTTP/1.1\r\nHost: a\r\n\r\n",
		     &p, false));
	TEST_EQ(p.scode, 405);
	TEST_ASSERT(has(&p, "Allow: GET, HEAD"));
	TEST_ASSERT(!wwsf_sess_done(r.s));

	/* pipelined requests are answered in order */
	mbuf_reset(r.out);
	feed(&r, "GET /sub/ HTTP/1.1\r\nHost: a\r\n\r\nGET /app.js HTTP/1.1"
	     "\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHo");
	r.out->pos = 0;
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_ASSERT(body_is(&p, "sub\n"));
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_ASSERT(body_is(&p, app_js));
	TEST_EQ(mbuf_get_left(r.out), 0);
	feed(&r, "st: a\r\n\r\n");
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_EQ(p.scode, 404);

	/* HTTP/1.0 closes unless it asks for keep-alive */
	TEST_ERR(get(&r, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		     &p, false));
	TEST_EQ(p.scode, 200);
	TEST_ASSERT(has(&p, "Connection: keep-alive"));
	TEST_ERR(get(&r, "GET / HTTP/1.0\r\n\r\n", &p, false));
	TEST_EQ(p.scode, 200);
	TEST_ASSERT(has(&p, "Connection: close"));
	TEST_ASSERT(wwsf_sess_done(r.s));
	feed(&r, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	TEST_EQ(mbuf_get_left(r.out), 0);

 out:
	rig_close(&r);
	return err;
}


static int one(struct rig *r, const char *req, uint16_t scode, bool done);


static size_t out_txq(void *arg)
{
	const struct rig *r = arg;

	return r->txq;
}


/* A large file goes out in pieces while the send queue is short; a
   pipelined request waits its turn; over the size cap: 500 */
int test_wwsf_stream(void)
{
	enum { BIG = 300000 };
	char *big = NULL, path[160];
	struct rig r;
	struct rsp p;
	unsigned rounds = 0;
	int err;

	TEST_ERR(rig_init(&r, NULL));
	big = mem_alloc(BIG, NULL);
	TEST_ASSERT(big);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (char)('a' + i % 23);
	TEST_ERR(put(&r.site, "root/big.txt", big, BIG));

	r.s = mem_deref(r.s);
	TEST_ERR(wwsf_sess_alloc(&r.s, r.ws, &(struct sa){0}, out_send,
				 out_txq, &r));
	r.count_txq = true;
	feed(&r, "GET /big.txt HTTP/1.1\r\nHost: a\r\n\r\n"
	     "GET /logo.png HTTP/1.1\r\nHost: a\r\n\r\n");
	TEST_ASSERT(wwsf_sess_sending(r.s));
	TEST_ASSERT(r.out->end < BIG);
	while (wwsf_sess_sending(r.s) && rounds++ < 100) {
		size_t before = r.out->end;

		wwsf_sess_drain(r.s);          /* queue still full */
		TEST_EQ(r.out->end, before);
		r.txq = 0;
		wwsf_sess_drain(r.s);
		TEST_ASSERT(r.out->end > before);
	}
	TEST_ASSERT(rounds > 2);

	r.out->pos = 0;
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_EQ(p.scode, 200);
	TEST_EQ(p.blen, BIG);
	TEST_ASSERT(!memcmp(p.body, big, BIG));
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_ASSERT(has(&p, "Content-Type: image/png"));
	TEST_ASSERT(body_is(&p, "\x89PNG"));

	/* a reader that stops: closed after WWSF_SEND_TMO */
	r.txq = 0;
	feed(&r, "GET /big.txt HTTP/1.1\r\nHost: a\r\n\r\n");
	TEST_ASSERT(wwsf_sess_sending(r.s));
	wwsf_sess_tick(r.s, tmr_jiffies() + WWSF_SEND_TMO + 1);
	TEST_ASSERT(wwsf_sess_done(r.s));
	r.count_txq = false;

	(void)re_snprintf(path, sizeof(path), "%s/big.txt", r.site.root);
	TEST_EQ(truncate(path, WWSF_FILE_MAX + 1), 0);
	TEST_ERR(one(&r, "GET /big.txt HTTP/1.1\r\nHost: a\r\n\r\n", 500,
		     true));

 out:
	if (r.site.root[0]) {
		(void)re_snprintf(path, sizeof(path), "%s/big.txt",
				  r.site.root);
		(void)unlink(path);
	}
	mem_deref(big);
	rig_close(&r);
	return err;
}


/* One request on a new session: status, and whether it then closed */
static int one(struct rig *r, const char *req, uint16_t scode, bool done)
{
	struct rsp p;
	int err;

	TEST_ERR(rig_sess(r));
	TEST_ERR(get(r, req, &p, false));
	if (p.scode != scode)
		(void)re_fprintf(stderr, "  request: %.60s\n", req);
	TEST_EQ(p.scode, scode);
	TEST_ASSERT(secure(&p));
	TEST_EQ(wwsf_sess_done(r->s), done);
	if (done)
		TEST_ASSERT(has(&p, "Connection: close"));

 out:
	return err;
}


static int big_request(struct mbuf *mb, size_t line, unsigned hdrs,
		       size_t hdr_len)
{
	unsigned i;
	int err;

	mbuf_reset(mb);
	err = mbuf_write_str(mb, "GET /");
	for (i = 0; !err && i < line; i++)
		err = mbuf_write_u8(mb, 'a');
	err |= mbuf_write_str(mb, " HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; !err && i < hdrs; i++) {
		err = mbuf_printf(mb, "X-H%u: ", i);
		err |= mbuf_fill(mb, 'v', hdr_len);
		err |= mbuf_write_str(mb, "\r\n");
	}
	err |= mbuf_write_str(mb, "\r\n");
	err |= mbuf_write_u8(mb, 0);

	return err;
}


int test_wwsf_limits(void)
{
	struct mbuf *mb = mbuf_alloc(16384);
	struct rig r;
	struct rsp p;
	unsigned i;
	int err;

	TEST_ERR(rig_init(&r, NULL));
	TEST_ASSERT(mb);

	/* the request line and header limits: 414, 431 */
	TEST_ERR(big_request(mb, 9000, 0, 0));
	TEST_ERR(one(&r, (char *)mb->buf, 414, true));
	TEST_ERR(big_request(mb, 10, 20, 500));
	TEST_ERR(one(&r, (char *)mb->buf, 431, true));
	TEST_ERR(big_request(mb, 0, 63, 4));     /* + Host = 64 */
	TEST_ERR(one(&r, (char *)mb->buf, 200, false));
	TEST_ERR(big_request(mb, 0, 64, 4));
	TEST_ERR(one(&r, (char *)mb->buf, 431, true));

	/* framing the server will not guess at */
	TEST_ERR(one(&r, "POST /api/x HTTP/1.1\r\nHost: a\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n", 411, true));
	TEST_ERR(one(&r, "POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length:"
		     " 4097\r\n\r\n", 413, true));
	TEST_ERR(one(&r, "POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length:"
		     " 5\r\nContent-Length: 6\r\n\r\n", 400, true));
	TEST_ERR(one(&r, "POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length:"
		     " -1\r\n\r\n", 400, true));
	TEST_ERR(one(&r, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		     "\r\nabc", 400, true));
	TEST_ERR(one(&r, "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n"
		     "\r\n", 400, true));
	TEST_ERR(one(&r, "GET / HTTP/1.1\r\n\r\n", 400, true));
	/* heads a proxy in front could read differently (RFC 9110 5.5,
	   RFC 9112 2.2, 3.2, 5.1) */
	TEST_ERR(one(&r, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		     400, true));
	TEST_ERR(one(&r, "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
		     400, true));
	TEST_ERR(one(&r, "GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n",
		     400, true));
	TEST_ERR(one(&r, "GET / HTTP/1.1\r\nHost: a\r\nX : 1\r\n\r\n",
		     400, true));
	TEST_ERR(one(&r, "GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n",
		     400, true));
	TEST_ERR(one(&r, "GET / HTTP/1.1\r\nHost: a\r\nX\r\n\r\n",
		     400, true));
	TEST_ERR(one(&r, "GET / HTTP/1.1\r\nHost: a\r\nX: 1\rY: 2\r\n\r\n",
		     400, true));
	TEST_ERR(one(&r, "GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n",
		     400, true));
	TEST_ERR(one(&r, "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
		     400, true));
	/* what is fine: LF alone ends a line (RFC 9112 2.2), HTAB in a
	   value, empty lines before the request */
	TEST_ERR(one(&r, "GET / HTTP/1.1\nHost: a\nX: a\tb\n\n", 200,
		     false));
	TEST_ERR(one(&r, "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		     200, false));
	TEST_ERR(one(&r, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, true));
	TEST_ERR(one(&r, "\x16\x03\x01\x02\x05\x01\r\n\r\n", 400, true));
	TEST_ERR(one(&r, "GET /\r\n\r\n", 400, true));

	/* slow clients: head, body; an idle keep-alive closes quietly */
	TEST_ERR(rig_sess(&r));
	feed(&r, "GET / HTTP/1.1\r\nHo");
	wwsf_sess_tick(r.s, tmr_jiffies() + WWSF_HEAD_TMO - 1000);
	TEST_EQ(mbuf_get_left(r.out), 0);
	wwsf_sess_tick(r.s, tmr_jiffies() + WWSF_HEAD_TMO + 1);
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_EQ(p.scode, 408);
	TEST_ASSERT(wwsf_sess_done(r.s));

	TEST_ERR(rig_sess(&r));
	wwsf_sess_tick(r.s, tmr_jiffies() + WWSF_HEAD_TMO + 1);
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_EQ(p.scode, 408);

	TEST_ERR(rig_sess(&r));
	TEST_ERR(get(&r, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", &p, false));
	TEST_EQ(p.scode, 200);
	mbuf_reset(r.out);
	wwsf_sess_tick(r.s, tmr_jiffies() + WWSF_IDLE_TMO - 1000);
	TEST_ASSERT(!wwsf_sess_done(r.s));
	wwsf_sess_tick(r.s, tmr_jiffies() + WWSF_IDLE_TMO + 1);
	TEST_ASSERT(wwsf_sess_done(r.s));
	TEST_EQ(mbuf_get_left(r.out), 0);

	/* at most WWSF_REQ_MAX requests, the last says so */
	TEST_ERR(rig_sess(&r));
	for (i = 1; i <= WWSF_REQ_MAX; i++) {
		TEST_ERR(get(&r, "GET /logo.png HTTP/1.1\r\nHost: a\r\n\r\n",
			     &p, false));
		TEST_EQ(p.scode, 200);
		TEST_EQ(has(&p, "Connection: close"), i == WWSF_REQ_MAX);
		TEST_EQ(wwsf_sess_done(r.s), i == WWSF_REQ_MAX);
	}
	TEST_EQ(wwsf_sess_requests(r.s), WWSF_REQ_MAX);

 out:
	mem_deref(mb);
	rig_close(&r);
	return err;
}


static void api_handler(struct wwsf_req *req, void *arg)
{
	static const char json[] = "{\"ok\":true}";
	struct rig *r = arg;
	const struct http_msg *msg = wwsf_req_msg(req);
	const uint8_t *p;
	size_t n;

	++r->api_calls;
	wwsf_req_body(req, &p, &n);
	(void)re_snprintf(r->api_body, sizeof(r->api_body), "%r %r %b",
			  &msg->met, &msg->path, p, n);

	if (r->api_silent || !wwsf_req_peer(req))
		return;

	r->reply_bad = wwsf_reply(req, 200, "OK", "X-A: 1\r\n\r\nX: 2\r\n",
				  NULL, NULL, 0);
	(void)wwsf_reply(req, 200, "OK", "Retry-After: 5\r\n",
			 "application/json", (const uint8_t *)json,
			 sizeof(json) - 1);
	r->reply_err2 = wwsf_reply(req, 500, "Again", NULL, NULL, NULL, 0);
}


int test_wwsf_api(void)
{
	struct rig r;
	struct rsp p;
	int err;

	TEST_ERR(rig_init(&r, NULL));

	/* no handler: 404 */
	TEST_ERR(one(&r, "GET /api/session HTTP/1.1\r\nHost: a\r\n\r\n", 404,
		     false));

	r.ws->apih = api_handler;
	r.ws->arg = &r;

	/* a POST body in pieces reaches the handler whole */
	TEST_ERR(rig_sess(&r));
	feed(&r, "POST /api/login HTTP/1.1\r\nHost: a\r\nContent-Type: "
	     "application/json\r\nContent-Length: 13\r\n\r\n{\"user\"");
	TEST_EQ(r.api_calls, 0);
	feed(&r, ":\"al\"}GET /api/me HTTP/1.1\r\nHost: a\r\n\r\n");
	TEST_EQ(r.api_calls, 2);
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_EQ(p.scode, 200);
	TEST_ASSERT(secure(&p));
	TEST_ASSERT(has(&p, "Cache-Control: no-store"));
	TEST_ASSERT(has(&p, "Retry-After: 5"));
	TEST_ASSERT(has(&p, "Content-Type: application/json"));
	TEST_ASSERT(body_is(&p, "{\"ok\":true}"));
	TEST_EQ(r.reply_bad, EINVAL);
	TEST_EQ(r.reply_err2, EALREADY);
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_EQ(p.scode, 200);
	TEST_STREQ(r.api_body, "GET /api/me ");
	TEST_ASSERT(!wwsf_sess_done(r.s));

	TEST_ERR(rig_sess(&r));
	feed(&r, "POST /api/login HTTP/1.1\r\nHost: a\r\nContent-Type: "
	     "application/json\r\nContent-Length: 13\r\n\r\n"
	     "{\"user\":\"al\"}");
	TEST_STREQ(r.api_body, "POST /api/login {\"user\":\"al\"}");

	/* what the API refuses before calling the handler */
	r.api_calls = 0;
	TEST_ERR(one(&r, "POST /api/login HTTP/1.1\r\nHost: a\r\nContent-Type:"
		     " text/plain\r\nContent-Length: 2\r\n\r\nab", 415, true));
	TEST_ERR(one(&r, "POST /api/login HTTP/1.1\r\nHost: a\r\nContent-Type:"
		     " application/json\r\n\r\n", 411, true));
	TEST_ERR(one(&r, "PUT /api/login HTTP/1.1\r\nHost: a\r\n\r\n", 405,
		     false));
	r.out->pos = 0;
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_ASSERT(has(&p, "Allow: GET, POST"));
	TEST_ERR(one(&r, "POST /index.html HTTP/1.1\r\nHost: a\r\n"
		     "Content-Type: application/json\r\nContent-Length: 2\r\n"
		     "\r\n{}", 405, true));
	TEST_EQ(r.api_calls, 0);

	/* a slow body: 408 */
	TEST_ERR(rig_sess(&r));
	feed(&r, "POST /api/login HTTP/1.1\r\nHost: a\r\nContent-Type: "
	     "application/json\r\nContent-Length: 13\r\n\r\n{");
	wwsf_sess_tick(r.s, tmr_jiffies() + WWSF_BODY_TMO + 1);
	TEST_ERR(rsp_next(&r, &p, false));
	TEST_EQ(p.scode, 408);
	TEST_EQ(r.api_calls, 0);

	/* a handler that does not reply: 500 */
	r.api_silent = true;
	TEST_ERR(one(&r, "GET /api/me HTTP/1.1\r\nHost: a\r\n\r\n", 500,
		     true));
	TEST_EQ(r.api_calls, 1);

 out:
	rig_close(&r);
	return err;
}


/* --- HTTPS over loopback (D-51) ----------------------------------------- */

struct cli {
	struct tls *tls;
	struct tcp_conn *tc;
	struct tls_conn *sc;
	struct mbuf *rx;
	struct tmr tmr;
	unsigned step;
	bool closed;
	int err;
};


static void cli_done(struct cli *c, int err)
{
	if (!c->err)
		c->err = err;
	re_cancel();
}


static int cli_send(struct cli *c, const char *s)
{
	struct mbuf mb;

	mb.buf = (uint8_t *)s;
	mb.pos = 0;
	mb.end = mb.size = strlen(s);

	return tcp_send(c->tc, &mb);
}


static void cli_estab(void *arg)
{
	struct cli *c = arg;
	int err = cli_send(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");

	if (err)
		cli_done(c, err);
}


static void cli_recv(struct mbuf *mb, void *arg)
{
	struct cli *c = arg;
	const char *body;

	c->rx->pos = c->rx->end;
	(void)mbuf_write_mem(c->rx, mbuf_buf(mb), mbuf_get_left(mb));
	c->rx->pos = 0;

	body = memmem(c->rx->buf, c->rx->end, "\r\n\r\n", 4);
	if (!body || c->step != 0)
		return;

	/* the page, then one more request on the same connection */
	body += 4;
	if ((size_t)((const char *)c->rx->buf + c->rx->end - body) <
	    sizeof(index_html) - 1)
		return;

	c->step = 1;
	if (cli_send(c, "GET /app.js HTTP/1.1\r\nHost: localhost\r\n"
		     "Connection: close\r\n\r\n"))
		cli_done(c, EPIPE);
}


static void cli_close(int err, void *arg)
{
	struct cli *c = arg;

	c->closed = true;
	cli_done(c, 0);
}


static void cli_timeout(void *arg)
{
	cli_done(arg, ETIMEDOUT);
}


static int cli_run(struct cli *c, const struct sa *srv, bool use_tls)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->rx = mbuf_alloc(4096);
	TEST_ASSERT(c->rx);

	TEST_ERR(tcp_connect(&c->tc, srv, use_tls ? cli_estab : NULL,
			     cli_recv, cli_close, c));
	if (use_tls) {
		TEST_ERR(tls_alloc(&c->tls, TLS_METHOD_SSLV23, NULL, NULL));
		TEST_ERR(tls_add_ca(c->tls, test_datapath("cert.pem")));
		TEST_ERR(tls_start_tcp(&c->sc, c->tls, c->tc, 0));
		TEST_ERR(tls_set_verify_server(c->sc, "localhost"));
	}
	else {
		TEST_ERR(cli_send(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
	}

	tmr_start(&c->tmr, 5000, cli_timeout, c);
	err = re_main(NULL);
	if (!err)
		err = c->err;

 out:
	tmr_cancel(&c->tmr);
	return err;
}


static void cli_free(struct cli *c)
{
	mem_deref(c->sc);
	mem_deref(c->tc);
	mem_deref(c->tls);
	mem_deref(c->rx);
}


int test_wwsf_https(void)
{
	struct wwsf_cfg cfg;
	struct wwsf *w = NULL;
	struct site s;
	struct cli c;
	const char *p;
	int err;

	memset(&c, 0, sizeof(c));
	memset(&cfg, 0, sizeof(cfg));
	memset(&s, 0, sizeof(s));
	TEST_ERR(site_make(&s));

	TEST_ERR(sa_set_str(&cfg.listen, "127.0.0.1", 0));
	cfg.cert = test_datapath("cert.pem");
	cfg.key  = test_datapath("key.pem");
	cfg.root = s.root;
	cfg.connect_src = "wss://localhost:7443";
	TEST_ERR(wwsf_alloc(&w, &cfg));
	TEST_ASSERT(sa_port(wwsf_laddr(w)) != 0);

	/* two requests over one TLS connection; the server closes after
	   the one that asked for it */
	TEST_ERR(cli_run(&c, wwsf_laddr(w), true));
	TEST_ASSERT(c.closed);
	TEST_EQ(c.step, 1);
	TEST_ASSERT(!tls_peer_verify(c.sc));
	p = (const char *)c.rx->buf;
	TEST_ASSERT(!strncmp(p, "HTTP/1.1 200 OK\r\n", 17));
	TEST_ASSERT(memmem(p, c.rx->end, "Strict-Transport-Security: "
			   "max-age=31536000\r\n", 45));
	TEST_ASSERT(memmem(p, c.rx->end, index_html, sizeof(index_html) - 1));
	TEST_ASSERT(memmem(p, c.rx->end, app_js, sizeof(app_js) - 1));
	TEST_ASSERT(memmem(p, c.rx->end, "Connection: close\r\n", 19));
	cli_free(&c);

	/* plain HTTP on the port: no HTTP answer, closed (D-51) */
	TEST_ERR(cli_run(&c, wwsf_laddr(w), false));
	TEST_ASSERT(c.closed);
	TEST_ASSERT(!memmem(c.rx->buf, c.rx->end, "HTTP/", 5));
	TEST_ASSERT(!memmem(c.rx->buf, c.rx->end, "WIC", 3));

	/* a new certificate for new connections */
	TEST_ERR(wwsf_reload(w, test_datapath("cert2.pem"),
			     test_datapath("key2.pem")));
	TEST_ASSERT(wwsf_reload(w, test_datapath("cert.pem"),
				test_datapath("key2.pem")) != 0);

 out:
	cli_free(&c);
	mem_deref(w);
	site_remove(&s);
	return err;
}

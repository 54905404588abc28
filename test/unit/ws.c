/**
 * @file ws.c  Tests for the WebSocket frame codec, upgrade and
 *             message layer (RFC 6455)
 */
#include <string.h>
#include <re.h>
#include "ws/ws.h"
#include "core/budget.h"
#include "test.h"


static struct mbuf *mb_from(const uint8_t *p, size_t n)
{
	struct mbuf *mb = mbuf_alloc(n + 1);

	if (mb) {
		(void)mbuf_write_mem(mb, p, n);
		mb->pos = 0;
	}

	return mb;
}


/* RFC 6455 5.7 examples */
int test_ws_frame_rfc(void)
{
	static const uint8_t unmasked[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};
	static const uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					 0x7f, 0x9f, 0x4d, 0x51, 0x58};
	static const uint8_t frag1[] = {0x01, 0x03, 'H', 'e', 'l'};
	static const uint8_t frag2[] = {0x80, 0x02, 'l', 'o'};
	struct mbuf *mb = NULL, *enc = NULL;
	struct ws_frame f;
	int err;

	mb = mb_from(masked, sizeof(masked));
	TEST_ASSERT(mb);
	TEST_ERR(ws_frame_decode(&f, mb, 125));
	TEST_ASSERT(f.fin && f.masked);
	TEST_EQ(f.opcode, WS_TEXT);
	TEST_EQ(f.len, 5);
	TEST_EQ(mb->pos, 6);
	TEST_ASSERT(!memcmp(mbuf_buf(mb), "Hello", 5));
	mb = mem_deref(mb);

	mb = mb_from(frag1, sizeof(frag1));
	TEST_ERR(ws_frame_decode(&f, mb, 125));
	TEST_ASSERT(!f.fin && !f.masked);
	TEST_EQ(f.opcode, WS_TEXT);
	mb = mem_deref(mb);

	mb = mb_from(frag2, sizeof(frag2));
	TEST_ERR(ws_frame_decode(&f, mb, 125));
	TEST_ASSERT(f.fin);
	TEST_EQ(f.opcode, WS_CONT);
	mb = mem_deref(mb);

	enc = mbuf_alloc(16);
	TEST_ERR(ws_frame_encode(enc, WS_TEXT, true,
				 (const uint8_t *)"Hello", 5));
	TEST_EQ(enc->end, sizeof(unmasked));
	TEST_ASSERT(!memcmp(enc->buf, unmasked, sizeof(unmasked)));

 out:
	mem_deref(mb);
	mem_deref(enc);
	return err;
}


int test_ws_frame_lengths(void)
{
	static const size_t lens[] = {0, 125, 126, 65535, 65536, 70000};
	struct mbuf *mb = NULL;
	uint8_t *payload = NULL;
	struct ws_frame f;
	size_t i;
	int err = 0;

	payload = mem_zalloc(70000, NULL);
	TEST_ASSERT(payload);

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		mb = mbuf_alloc(16);
		TEST_ERR(ws_frame_encode(mb, WS_BIN, true, payload, lens[i]));
		mb->pos = 0;
		TEST_ERR(ws_frame_decode(&f, mb, 1 << 20));
		TEST_EQ(f.len, lens[i]);
		TEST_EQ(mb->end - mb->pos, lens[i]);

		/* every truncation asks for more data */
		mb->pos = 0;
		mb->end = mb->end - 1;
		if (lens[i] || mb->end < 2)
			TEST_EQ(ws_frame_decode(&f, mb, 1 << 20), ENODATA);
		TEST_EQ(mb->pos, 0);

		/* over the limit: EMSGSIZE before the payload arrives */
		mb->end = min(mb->end, (size_t)10);
		if (lens[i] > 100)
			TEST_EQ(ws_frame_decode(&f, mb, 100), EMSGSIZE);

		mb = mem_deref(mb);
	}

 out:
	mem_deref(mb);
	mem_deref(payload);
	return err;
}


int test_ws_frame_bad(void)
{
	static const struct {
		uint8_t b[12];
		size_t n;
	} v[] = {
		{{0xc1, 0x00}, 2},                   /* RSV1 set */
		{{0x83, 0x00}, 2},                   /* reserved opcode 3 */
		{{0x8b, 0x00}, 2},                   /* reserved opcode 0xb */
		{{0x09, 0x00}, 2},                   /* fragmented ping */
		{{0x89, 0x7e, 0x00, 0x7e}, 4},       /* ping > 125 */
		{{0x81, 0x7e, 0x00, 0x05}, 4},       /* non-minimal 16-bit */
		{{0x81, 0x7f, 0, 0, 0, 0, 0, 0, 0, 5}, 10}, /* non-minimal 64 */
		{{0x81, 0x7f, 0x80, 0, 0, 0, 0, 1, 0, 0}, 10}, /* MSB set */
	};
	struct mbuf *mb = NULL;
	struct ws_frame f;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		mb = mb_from(v[i].b, v[i].n);
		TEST_ASSERT(mb);
		TEST_EQ(ws_frame_decode(&f, mb, (uint64_t)1 << 62), EPROTO);
		mb = mem_deref(mb);
	}

	mb = mbuf_alloc(200);
	TEST_EQ(ws_frame_encode(mb, WS_PING, true, mb->buf, 126), EMSGSIZE);

 out:
	mem_deref(mb);
	return err;
}


int test_ws_utf8(void)
{
	int err = 0;

	TEST_ASSERT(ws_utf8_valid((const uint8_t *)"", 0));
	TEST_ASSERT(ws_utf8_valid((const uint8_t *)"SIP/2.0", 7));
	TEST_ASSERT(ws_utf8_valid((const uint8_t *)"\xc3\xa9", 2));
	TEST_ASSERT(ws_utf8_valid((const uint8_t *)"\xe2\x82\xac", 3));
	TEST_ASSERT(ws_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));
	TEST_ASSERT(!ws_utf8_valid((const uint8_t *)"\xc3", 1));
	TEST_ASSERT(!ws_utf8_valid((const uint8_t *)"\xc0\xaf", 2));
	TEST_ASSERT(!ws_utf8_valid((const uint8_t *)"\xe0\x80\xaf", 3));
	TEST_ASSERT(!ws_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));
	TEST_ASSERT(!ws_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
	TEST_ASSERT(!ws_utf8_valid((const uint8_t *)"\xff", 1));
	TEST_ASSERT(!ws_utf8_valid((const uint8_t *)"a\x80", 2));

	/* the ASCII run read eight bytes at a time: a sequence at every
	   offset of a longer message, valid, cut short, or a bad byte */
	{
		uint8_t b[48];
		size_t at;

		for (at = 0; at + 2 <= sizeof(b); at++) {
			memset(b, 'a', sizeof(b));
			b[at] = 0xc3;
			b[at + 1] = 0xa9;
			TEST_ASSERT(ws_utf8_valid(b, sizeof(b)));
			TEST_ASSERT(!ws_utf8_valid(b, at + 1));
			b[at + 1] = 'a';
			TEST_ASSERT(!ws_utf8_valid(b, sizeof(b)));
			b[at] = 0xff;
			TEST_ASSERT(!ws_utf8_valid(b, sizeof(b)));
			b[at] = 0x80;
			TEST_ASSERT(!ws_utf8_valid(b, sizeof(b)));
		}
	}

 out:
	return err;
}


static int upgrade_status(const char *req, bool *sip, char *origin,
			  size_t osz)
{
	struct mbuf *mb = mb_from((const uint8_t *)req, strlen(req));
	struct http_msg *msg = NULL;
	struct ws_upgrade up;
	const char *reason = NULL;
	int scode;

	if (!mb || http_msg_decode(&msg, mb, true)) {
		mem_deref(mb);
		return -1;
	}

	scode = ws_upgrade_decode(&up, msg, &reason);
	if (!scode) {
		*sip = ws_upgrade_has_protocol(&up, "sip");
		if (origin)
			(void)pl_strcpy(&up.origin, origin, osz);
	}

	mem_deref(msg);
	mem_deref(mb);

	return scode;
}


int test_ws_upgrade(void)
{
	static const char ok[] =
		"GET /ws HTTP/1.1\r\n"
		"Host: server.example.com\r\n"
		"Upgrade: websocket\r\n"
		"Connection: keep-alive, Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Origin: https://wwsf.example.net\r\n"
		"Sec-WebSocket-Protocol: chat, sip\r\n"
		"Sec-WebSocket-Version: 13\r\n\r\n";
	static const char nosip[] =
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Protocol: SIP, sipx\r\n"
		"Sec-WebSocket-Version: 13\r\n\r\n";
	struct mbuf *mb = NULL, *rsp = NULL;
	struct http_msg *msg = NULL;
	struct ws_upgrade up;
	const char *reason;
	bool sip = false;
	char origin[64] = "";
	int err = 0;

	TEST_EQ(upgrade_status(ok, &sip, origin, sizeof(origin)), 0);
	TEST_ASSERT(sip);
	TEST_STREQ(origin, "https://wwsf.example.net");

	/* subprotocols are case-sensitive tokens */
	TEST_EQ(upgrade_status(nosip, &sip, NULL, 0), 0);
	TEST_ASSERT(!sip);

	TEST_EQ(upgrade_status("POST / HTTP/1.1\r\n\r\n", &sip, NULL, 0), 405);
	TEST_EQ(upgrade_status("GET / HTTP/1.0\r\n\r\n", &sip, NULL, 0), 400);
	TEST_EQ(upgrade_status("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &sip,
			       NULL, 0), 426);
	TEST_EQ(upgrade_status("GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
			       "Connection: Upgrade\r\n"
			       "Sec-WebSocket-Version: 8\r\n\r\n", &sip,
			       NULL, 0), 426);
	TEST_EQ(upgrade_status("GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
			       "Connection: Upgrade\r\n"
			       "Sec-WebSocket-Version: 13\r\n"
			       "Sec-WebSocket-Key: c2hvcnQ=\r\n\r\n", &sip,
			       NULL, 0), 400);

	/* RFC 6455 1.3: the accept value for the sample nonce */
	mb = mb_from((const uint8_t *)ok, strlen(ok));
	TEST_ERR(http_msg_decode(&msg, mb, true));
	TEST_EQ(ws_upgrade_decode(&up, msg, &reason), 0);
	rsp = mbuf_alloc(256);
	TEST_ERR(ws_upgrade_accept(rsp, &up, "sip"));
	mbuf_write_u8(rsp, 0);
	TEST_ASSERT(strstr((char *)rsp->buf, "Sec-WebSocket-Accept: "
			   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
	TEST_ASSERT(strstr((char *)rsp->buf, "Sec-WebSocket-Protocol: sip\r\n"));
	TEST_ASSERT(!strncmp((char *)rsp->buf, "HTTP/1.1 101 ", 13));

 out:
	mem_deref(rsp);
	mem_deref(msg);
	mem_deref(mb);
	return err;
}


struct sink {
	unsigned msgs;
	enum ws_opcode op;
	char last[256];
	bool closed;
	uint16_t code;
};


static void sink_msg(enum ws_opcode op, struct mbuf *mb, void *arg)
{
	struct sink *s = arg;

	++s->msgs;
	s->op = op;
	(void)re_snprintf(s->last, sizeof(s->last), "%b", mbuf_buf(mb),
			  mbuf_get_left(mb));
}


static void sink_closed(int err, uint16_t code, void *arg)
{
	struct sink *s = arg;
	(void)err;

	s->closed = true;
	s->code = code;
}


/* Client frames are masked: mask a frame built by the encoder */
static int put_frame(struct mbuf *mb, enum ws_opcode op, bool fin,
		     const char *payload, size_t n)
{
	static const uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
	struct mbuf *tmp = mbuf_alloc(n + 16);
	size_t i, hdr;
	int err;

	if (!tmp)
		return ENOMEM;

	err = ws_frame_encode(tmp, op, fin, (const uint8_t *)payload, n);
	if (err)
		goto out;

	hdr = tmp->end - n;
	tmp->buf[1] |= 0x80;
	err  = mbuf_write_mem(mb, tmp->buf, hdr);
	err |= mbuf_write_mem(mb, key, 4);
	for (i = 0; i < n; i++)
		err |= mbuf_write_u8(mb, (uint8_t)payload[i] ^ key[i & 3]);

 out:
	mem_deref(tmp);
	return err;
}


static int conn_new(struct ws_conn **wcp, struct sink *s, size_t max)
{
	struct ws_conn_prm prm;

	memset(&prm, 0, sizeof(prm));
	memset(s, 0, sizeof(*s));
	prm.max_message = max;

	return ws_conn_alloc(wcp, NULL, &prm, sink_msg, sink_closed, s);
}


static int feed(struct ws_conn *wc, struct mbuf *mb, size_t step)
{
	size_t pos;

	for (pos = 0; pos < mb->end; pos += step) {
		struct mbuf part;

		part.buf  = mb->buf + pos;
		part.pos  = 0;
		part.end  = min(step, mb->end - pos);
		part.size = part.end;

		if (ws_conn_recv(wc, &part))
			return EPROTO;
	}

	return 0;
}


int test_ws_conn_reassembly(void)
{
	struct ws_conn *wc = NULL;
	struct mbuf *mb = mbuf_alloc(256);
	struct sink s;
	size_t step;
	int err = 0;

	TEST_ASSERT(mb);
	TEST_ERR(put_frame(mb, WS_TEXT, false, "OPTIONS ", 8));
	TEST_ERR(put_frame(mb, WS_PING, true, "p", 1));   /* interleaved */
	TEST_ERR(put_frame(mb, WS_CONT, false, "sip:a ", 6));
	TEST_ERR(put_frame(mb, WS_CONT, true, "SIP/2.0", 7));
	TEST_ERR(put_frame(mb, WS_BIN, true, "\x00\xff", 2));

	/* byte by byte and in odd chunks: same result */
	for (step = 1; step <= mb->end; step += 7) {
		TEST_ERR(conn_new(&wc, &s, 1024));
		TEST_ERR(feed(wc, mb, step));
		TEST_EQ(s.msgs, 2);
		TEST_EQ(s.op, WS_BIN);
		TEST_ASSERT(!s.closed);
		wc = mem_deref(wc);
	}

	TEST_ERR(conn_new(&wc, &s, 1024));
	mb->end = mb->end - 4;  /* drop the binary frame */
	TEST_ERR(feed(wc, mb, mb->end));
	TEST_EQ(s.msgs, 1);
	TEST_EQ(s.op, WS_TEXT);
	TEST_STREQ(s.last, "OPTIONS sip:a SIP/2.0");

 out:
	mem_deref(wc);
	mem_deref(mb);
	return err;
}


static int expect_close(const char *what, struct mbuf *mb, size_t max,
			uint16_t code)
{
	struct ws_conn *wc = NULL;
	struct sink s;
	int err = 0;

	TEST_ERR(conn_new(&wc, &s, max));
	(void)feed(wc, mb, mb->end);
	if (!s.closed || s.code != code)
		(void)re_fprintf(stderr, "  case: %s\n", what);
	TEST_ASSERT(s.closed);
	TEST_EQ(s.code, code);
	TEST_EQ(s.msgs, 0);

 out:
	mem_deref(wc);
	mbuf_rewind(mb);
	return err;
}


int test_ws_conn_limits(void)
{
	struct mbuf *mb = mbuf_alloc(4096);
	char big[2000];
	int err = 0;

	memset(big, 'a', sizeof(big));
	TEST_ASSERT(mb);

	/* one frame over the limit */
	TEST_ERR(put_frame(mb, WS_TEXT, true, big, 1025));
	TEST_ERR(expect_close("single frame > max", mb, 1024,
			      WS_CLOSE_TOO_BIG));

	/* fragments adding up to more than the limit */
	TEST_ERR(put_frame(mb, WS_TEXT, false, big, 600));
	TEST_ERR(put_frame(mb, WS_CONT, true, big, 600));
	TEST_ERR(expect_close("fragments > max", mb, 1024,
			      WS_CLOSE_TOO_BIG));

	/* invalid UTF-8 in a text message */
	TEST_ERR(put_frame(mb, WS_TEXT, true, "a\xc0\xaf" "b", 4));
	TEST_ERR(expect_close("bad utf-8", mb, 1024, WS_CLOSE_INVALID));

	/* unmasked client frame */
	TEST_ERR(ws_frame_encode(mb, WS_TEXT, true, (uint8_t *)"x", 1));
	TEST_ERR(expect_close("unmasked", mb, 1024, WS_CLOSE_PROTOCOL));

	/* continuation without a start, and a new message inside one */
	TEST_ERR(put_frame(mb, WS_CONT, true, "x", 1));
	TEST_ERR(expect_close("orphan continuation", mb, 1024,
			      WS_CLOSE_PROTOCOL));
	TEST_ERR(put_frame(mb, WS_TEXT, false, "x", 1));
	TEST_ERR(put_frame(mb, WS_TEXT, true, "y", 1));
	TEST_ERR(expect_close("nested message", mb, 1024,
			      WS_CLOSE_PROTOCOL));

 out:
	mem_deref(mb);
	return err;
}


int test_ws_conn_close(void)
{
	struct mbuf *mb = mbuf_alloc(256);
	struct ws_conn *wc = NULL;
	struct sink s;
	int err = 0;

	TEST_ASSERT(mb);

	/* a peer's close with a code */
	TEST_ERR(put_frame(mb, WS_CLOSE, true, "\x03\xe8" "bye", 5));
	TEST_ERR(conn_new(&wc, &s, 1024));
	TEST_ERR(feed(wc, mb, mb->end));
	TEST_ASSERT(s.closed);
	TEST_EQ(s.code, WS_CLOSE_NORMAL);
	TEST_ASSERT(!ws_conn_is_open(wc));
	wc = mem_deref(wc);
	mbuf_rewind(mb);

	/* a close without a code is 1005 */
	TEST_ERR(put_frame(mb, WS_CLOSE, true, "", 0));
	TEST_ERR(conn_new(&wc, &s, 1024));
	TEST_ERR(feed(wc, mb, mb->end));
	TEST_EQ(s.code, WS_CLOSE_NO_STATUS);
	wc = mem_deref(wc);
	mbuf_rewind(mb);

	/* invalid close codes and a one-byte body are protocol errors */
	TEST_ERR(put_frame(mb, WS_CLOSE, true, "\x03\xed", 2)); /* 1005 */
	TEST_ERR(expect_close("close 1005 on the wire", mb, 1024,
			      WS_CLOSE_PROTOCOL));
	TEST_ERR(put_frame(mb, WS_CLOSE, true, "\x03", 1));
	TEST_ERR(expect_close("one-byte close", mb, 1024,
			      WS_CLOSE_PROTOCOL));

	/* nothing is delivered after a close */
	TEST_ERR(put_frame(mb, WS_CLOSE, true, "\x03\xe8", 2));
	TEST_ERR(put_frame(mb, WS_TEXT, true, "late", 4));
	TEST_ERR(conn_new(&wc, &s, 1024));
	(void)feed(wc, mb, mb->end);
	TEST_EQ(s.msgs, 0);
	TEST_EQ(ws_conn_send(wc, WS_TEXT, (uint8_t *)"x", 1), ENOTCONN);

 out:
	mem_deref(wc);
	mem_deref(mb);
	return err;
}


/* Feed the first n bytes of a text frame of len bytes */
static int feed_partial(struct ws_conn *wc, size_t len, size_t n)
{
	struct mbuf *mb = mbuf_alloc(len + 16);
	char *p = mem_zalloc(len, NULL);
	int err;

	if (!mb || !p) {
		err = ENOMEM;
		goto out;
	}

	memset(p, 'a', len);
	err = put_frame(mb, WS_TEXT, true, p, len);
	if (err)
		goto out;

	mb->end = n;
	err = feed(wc, mb, n);

 out:
	mem_deref(p);
	mem_deref(mb);
	return err;
}


/* The buffer budget (issue 13): the largest holder is evicted with
   1013 for a small message; a requester larger than every other holder
   is refused with 1013 itself; everything taken is given back */
int test_ws_conn_budget(void)
{
	struct ws_conn *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	struct sink sa, sb, sc, sd;
	struct mbuf *mb = mbuf_alloc(1024);
	char msg[600];
	int err = 0;

	TEST_ASSERT(mb);
	TEST_EQ(budget_used(), 0);
	budget_set_limit(6000);

	TEST_ERR(conn_new(&a, &sa, 4096));
	TEST_ERR(conn_new(&b, &sb, 4096));
	TEST_ERR(conn_new(&c, &sc, 4096));
	TEST_ERR(conn_new(&d, &sd, 4096));

	TEST_ERR(feed_partial(a, 4000, 3000));
	TEST_ERR(feed_partial(b, 4000, 2500));
	TEST_ASSERT(budget_used() > 5000 && budget_used() <= 6000);
	TEST_ASSERT(!sa.closed && !sb.closed);

	/* no room for c's message: a, the largest, goes */
	memset(msg, 'm', sizeof(msg));
	TEST_ERR(put_frame(mb, WS_TEXT, true, msg, sizeof(msg)));
	TEST_ERR(feed(c, mb, mb->end));
	TEST_EQ(sc.msgs, 1);
	TEST_ASSERT(!sc.closed);
	TEST_ASSERT(sa.closed);
	TEST_EQ(sa.code, WS_CLOSE_TRY_AGAIN);
	TEST_ASSERT(!sb.closed);

	/* d wants more than b holds: d is refused, b stays */
	TEST_EQ(feed_partial(d, 4000, 3600), EPROTO);
	TEST_ASSERT(sd.closed);
	TEST_EQ(sd.code, WS_CLOSE_TRY_AGAIN);
	TEST_ASSERT(!sb.closed);
	TEST_ASSERT(budget_refusals() >= 1);

	a = mem_deref(a);
	b = mem_deref(b);
	c = mem_deref(c);
	d = mem_deref(d);
	TEST_EQ(budget_used(), 0);

 out:
	budget_set_limit(0);
	mem_deref(a);
	mem_deref(b);
	mem_deref(c);
	mem_deref(d);
	mem_deref(mb);
	return err;
}


/* Equal holders (TLS record buffers are all one size): the one that has
   held longest is evicted for a new one; a holder that gave everything
   back and took again counts from its new take (issue 13) */
struct eq_holder {
	struct budget_holder bh;
	bool evicted;
};

static void eq_evict(void *arg)
{
	struct eq_holder *e = arg;

	e->evicted = true;
	budget_release(&e->bh);
}


int test_budget_oldest_equal(void)
{
	struct eq_holder e[4];
	size_t i;
	int err = 0;

	memset(e, 0, sizeof(e));
	for (i = 0; i < 4; i++)
		budget_holder_init(&e[i].bh, eq_evict, &e[i]);

	TEST_EQ(budget_used(), 0);
	budget_set_limit(3000);

	TEST_ERR(budget_take(&e[0].bh, 1000));
	TEST_ERR(budget_take(&e[1].bh, 1000));
	TEST_ERR(budget_take(&e[2].bh, 1000));

	/* e[0] lets go and takes again: now e[1] is the oldest */
	budget_give(&e[0].bh, 1000);
	TEST_ERR(budget_take(&e[0].bh, 1000));

	TEST_ERR(budget_take(&e[3].bh, 1000));
	TEST_ASSERT(e[1].evicted);
	TEST_ASSERT(!e[0].evicted && !e[2].evicted);
	TEST_EQ(budget_used(), 3000);

	/* more than any other holds: refused, nobody evicted */
	TEST_EQ(budget_take(&e[1].bh, 1001), ENOSPC);
	TEST_ASSERT(!e[0].evicted && !e[2].evicted && !e[3].evicted);

 out:
	for (i = 0; i < 4; i++)
		budget_release(&e[i].bh);
	budget_set_limit(0);
	return err;
}

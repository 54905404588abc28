/**
 * @file msrp.c  Tests for the MSRP parser and framer (RFC 4975): requests,
 *               responses and reports, Byte-Range, the continuation flags
 *               $ + #, messages split over TCP reads, malformed input,
 *               and a chunk split into pieces and joined again (D-45)
 */
#include <string.h>
#include <re.h>
#include "msrp/msrp.h"
#include "test.h"


static const char send1[] =
	"MSRP a786hjs2 SEND\r\n"
	"To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n"
	"From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n"
	"Message-ID: 87652491\r\n"
	"Byte-Range: 1-25/25\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"Hey Bob, are you there?\r\n"
	"\r\n"
	"-------a786hjs2$\r\n";

static const char resp1[] =
	"MSRP a786hjs2 200 OK\r\n"
	"To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n"
	"From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n"
	"-------a786hjs2$\r\n";

static const char report1[] =
	"MSRP dkei38sd REPORT\r\n"
	"To-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp\r\n"
	"From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
	"Message-ID: 12339sdqwer\r\n"
	"Byte-Range: 1-106/106\r\n"
	"Status: 000 200 OK\r\n"
	"-------dkei38sd$\r\n";


static int msg_of(struct msrp_msg *m, const char *s)
{
	return msrp_decode(m, (const uint8_t *)s, strlen(s));
}


int test_msrp_decode(void)
{
	struct msrp_msg m;
	struct pl uri, sess;
	int err;

	TEST_ERR(msg_of(&m, send1));
	TEST_ASSERT(m.req);
	TEST_ASSERT(!pl_strcmp(&m.tid, "a786hjs2"));
	TEST_ASSERT(!pl_strcmp(&m.method, "SEND"));
	TEST_ASSERT(!pl_strcmp(&m.msgid, "87652491"));
	TEST_ASSERT(!pl_strcmp(&m.ctype, "text/plain"));
	TEST_ASSERT(m.has_range && m.has_body);
	TEST_EQ(m.range.start, 1);
	TEST_EQ(m.range.end, 25);
	TEST_EQ(m.range.total, 25);
	TEST_ASSERT(!pl_strcmp(&m.body, "Hey Bob, are you there?\r\n"));
	TEST_EQ(m.flag, MSRP_END);
	TEST_EQ(m.len, strlen(send1));
	TEST_EQ(m.hdrc, 5);

	TEST_ASSERT(msrp_path_first(&uri, &m.to_path));
	TEST_ASSERT(msrp_uri_session(&sess, &uri));
	TEST_ASSERT(!pl_strcmp(&sess, "kjhd37s2s20w2a"));

	TEST_ERR(msg_of(&m, resp1));
	TEST_ASSERT(!m.req && !m.has_body);
	TEST_EQ(m.scode, 200);
	TEST_ASSERT(!pl_strcmp(&m.reason, "OK"));

	/* a report: a request without a body (RFC 4975 7.1.2) */
	TEST_ERR(msg_of(&m, report1));
	TEST_ASSERT(m.req && !m.has_body);
	TEST_ASSERT(!pl_strcmp(&m.method, "REPORT"));
	TEST_EQ(m.range.end, 106);

	/* an interrupted chunk: "+", end unknown; an aborted one: "#" */
	TEST_ERR(msg_of(&m, "MSRP x1y2 SEND\r\nTo-Path: msrp://a/b;tcp\r\n"
			"From-Path: msrp://c/d;tcp\r\nByte-Range: 1-*/*\r\n"
			"Content-Type: text/plain\r\n\r\nab\r\n-------x1y2+\r\n"));
	TEST_EQ(m.flag, MSRP_MORE);
	TEST_EQ(m.range.end, 0);
	TEST_EQ(m.range.total, 0);
	TEST_ERR(msg_of(&m, "MSRP x1y3 SEND\r\nTo-Path: msrp://a/b;tcp\r\n"
			"From-Path: msrp://c/d;tcp\r\nByte-Range: 3-4/9\r\n"
			"Content-Type: text/plain\r\n\r\ncd\r\n-------x1y3#\r\n"));
	TEST_EQ(m.flag, MSRP_ABORT);
	TEST_EQ(m.range.start, 3);

	/* an empty body; a body holding an end-line of another id */
	TEST_ERR(msg_of(&m, "MSRP x1y4 SEND\r\nTo-Path: msrp://a/b;tcp\r\n"
			"From-Path: msrp://c/d;tcp\r\n"
			"Content-Type: text/plain\r\n\r\n\r\n-------x1y4$\r\n"));
	TEST_ASSERT(m.has_body && m.body.l == 0);
	TEST_ERR(msg_of(&m, "MSRP x1y5 SEND\r\nTo-Path: msrp://a/b;tcp\r\n"
			"From-Path: msrp://c/d;tcp\r\nContent-Type: t/p\r\n"
			"\r\nq\r\n-------x1y6$\r\n-------x1y5x\r\n"
			"-------x1y5$\r\n"));
	TEST_ASSERT(!pl_strcmp(&m.body,
			       "q\r\n-------x1y6$\r\n-------x1y5x"));

 out:
	return err;
}


/* bytes arriving a few at a time: ENODATA until the end-line is in */
int test_msrp_stream(void)
{
	char two[sizeof(send1) + sizeof(resp1)];
	struct msrp_msg m;
	size_t n;
	int err = 0;

	for (n = 0; n < strlen(send1); n++) {
		int e = msrp_decode(&m, (const uint8_t *)send1, n);

		if (e != ENODATA) {
			test_fail(__FILE__, __LINE__, "prefix", e);
			return EINVAL;
		}
	}

	(void)re_snprintf(two, sizeof(two), "%s%s", send1, resp1);
	TEST_ERR(msrp_decode(&m, (const uint8_t *)two, strlen(two)));
	TEST_EQ(m.len, strlen(send1));
	TEST_ERR(msrp_decode(&m, (const uint8_t *)two + m.len,
			     strlen(two) - strlen(send1)));
	TEST_EQ(m.scode, 200);

 out:
	return err;
}


int test_msrp_bad(void)
{
	static const char *const bad[] = {
		"HTTP/1.1 200 OK\r\n\r\n",
		"MSRP ab SEND\r\nTo-Path: a\r\nFrom-Path: b\r\n-------ab$\r\n",
		"MSRP abcd send\r\nTo-Path: a\r\nFrom-Path: b\r\n"
		"-------abcd$\r\n",
		"MSRP abcd SEND\r\nFrom-Path: b\r\n-------abcd$\r\n",
		"MSRP abcd SEND\r\nTo-Path: a\r\nTo-Path: a\r\nFrom-Path: b"
		"\r\n-------abcd$\r\n",
		"MSRP abcd SEND\r\nTo-Path: a\r\nFrom-Path: b\r\n"
		"Byte-Range: 0-1/1\r\n-------abcd$\r\n",
		"MSRP abcd SEND\r\nTo-Path: a\r\nFrom-Path: b\r\n"
		"Byte-Range: 1-5/4\r\n-------abcd$\r\n",
		"MSRP abcd SEND\r\nTo-Path: a\r\nFrom-Path: b\r\n"
		"Byte-Range: 1-99999999999999999999/*\r\n-------abcd$\r\n",
		"MSRP abcd 200 OK\r\nTo-Path: a\r\nFrom-Path: b\r\n\r\nx\r\n"
		"-------abcd$\r\n",
		"MSRP abcd SEND\r\nTo-Path: a\r\nFrom-Path: b\r\nnocolon\r\n"
		"-------abcd$\r\n",
		"MSRP abcd SEND\r\nTo-Path: a\r\nFrom-Path: b\r\n"
		"-------abcd$xx",
		"MSRP abcd SEND\r\nTo-Path: a\r\nFrom-Path: b\r\n\r\n"
		"-------abcd$\r\n",
		/* a Byte-Range that does not cover the body */
		"MSRP abcd SEND\r\nTo-Path: a\r\nFrom-Path: b\r\n"
		"Byte-Range: 1-2/9\r\nContent-Type: t/p\r\n\r\nabc\r\n"
		"-------abcd$\r\n",
		"MSRP abcd SEND\r\nTo-Path: a\r\nFrom-Path: b\r\n"
		"Byte-Range: 8-*/9\r\nContent-Type: t/p\r\n\r\nabc\r\n"
		"-------abcd+\r\n",
	};
	struct msrp_msg m;
	struct mbuf *mb = NULL;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int e = msg_of(&m, bad[i]);

		if (e != EBADMSG) {
			test_fail_eq(__FILE__, __LINE__, bad[i], e, EBADMSG);
			return EINVAL;
		}
	}

	/* too many headers; no end-line within the limit */
	mb = mbuf_alloc(MSRP_MAX_MSG + 64);
	TEST_ASSERT(mb);
	TEST_ERR(mbuf_write_str(mb, "MSRP abcd SEND\r\nTo-Path: a\r\n"
				"From-Path: b\r\n"));
	for (i = 0; i < MSRP_MAX_HDRS; i++)
		TEST_ERR(mbuf_write_str(mb, "X: y\r\n"));
	TEST_ERR(mbuf_write_str(mb, "-------abcd$\r\n"));
	TEST_EQ(msrp_decode(&m, mb->buf, mb->end), EMSGSIZE);

	mbuf_reset(mb);
	TEST_ERR(mbuf_write_str(mb, "MSRP abcd SEND\r\n"));
	TEST_ERR(mbuf_fill(mb, 'x', MSRP_MAX_MSG));
	TEST_EQ(msrp_decode(&m, mb->buf, mb->end), EMSGSIZE);

	/* a start line that never ends */
	mbuf_reset(mb);
	TEST_ERR(mbuf_write_str(mb, "MSRP "));
	TEST_ERR(mbuf_fill(mb, 'a', 200));
	TEST_EQ(msrp_decode(&m, mb->buf, mb->end), EBADMSG);

 out:
	mem_deref(mb);
	return err;
}


/* a chunk split into pieces with new paths, then taken apart again */
int test_msrp_split(void)
{
	struct mbuf *big = NULL, *out = NULL, *join = NULL;
	struct msrp_msg m, p;
	size_t i, n, off = 0, len = 5000, max = 2048;
	char tid[16];
	int err = 0;

	big = mbuf_alloc(len + 512);
	out = mbuf_alloc(8192);
	join = mbuf_alloc(len);
	TEST_ASSERT(big && out && join);

	TEST_ERR(mbuf_write_str(big, "MSRP bigmsg1 SEND\r\nTo-Path: msrp://"
				"a/in;tcp\r\nFrom-Path: msrp://b/bb;tcp\r\n"
				"Message-ID: m1\r\nContent-Type: text/plain"
				"\r\n\r\n"));
	for (i = 0; i < len; i++)
		TEST_ERR(mbuf_write_u8(big, (uint8_t)('a' + i % 26)));
	TEST_ERR(mbuf_write_str(big, "\r\n-------bigmsg1$\r\n"));
	TEST_ERR(msrp_decode(&m, big->buf, big->end));
	TEST_ASSERT(!m.has_range);

	n = msrp_pieces(&m, max);
	TEST_EQ(n, 3);

	for (i = 0; i < n; i++) {
		size_t pl = len - off < max ? len - off : max;

		(void)re_snprintf(tid, sizeof(tid), "piece%zu", i);
		mbuf_reset(out);
		TEST_ERR(msrp_encode_piece(out, &m, "msrp://x/out;tcp",
					   "msrp://y/me;tcp", tid, off, pl));
		TEST_ERR(msrp_decode(&p, out->buf, out->end));
		TEST_EQ(p.len, out->end);
		TEST_ASSERT(!pl_strcmp(&p.tid, tid));
		TEST_ASSERT(!pl_strcmp(&p.to_path, "msrp://x/out;tcp"));
		TEST_ASSERT(!pl_strcmp(&p.from_path, "msrp://y/me;tcp"));
		TEST_ASSERT(!pl_strcmp(&p.msgid, "m1"));
		TEST_ASSERT(!pl_strcmp(&p.ctype, "text/plain"));
		TEST_EQ(p.range.start, off + 1);
		TEST_EQ(p.range.end, off + pl);
		TEST_EQ(p.flag, i + 1 < n ? MSRP_MORE : MSRP_END);
		TEST_ERR(mbuf_write_mem(join, (const uint8_t *)p.body.p,
					p.body.l));
		off += pl;
	}

	TEST_EQ(join->end, len);
	TEST_ASSERT(!memcmp(join->buf, m.body.p, len));

	/* whole, with new paths: the same message otherwise */
	mbuf_reset(out);
	TEST_ERR(msrp_encode(out, &m, "msrp://x/out;tcp", "msrp://y/me;tcp"));
	TEST_ERR(msrp_decode(&p, out->buf, out->end));
	TEST_ASSERT(!pl_strcmp(&p.to_path, "msrp://x/out;tcp"));
	TEST_EQ(p.body.l, len);
	TEST_EQ(p.flag, MSRP_END);

	/* a path cannot smuggle a header */
	mbuf_reset(out);
	TEST_EQ(msrp_encode(out, &m, "msrp://x/o;tcp\r\nX: y", "msrp://y"),
		EINVAL);

 out:
	mem_deref(big);
	mem_deref(out);
	mem_deref(join);
	return err;
}

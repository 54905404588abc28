/**
 * @file t140.c  Tests for real-time text (RFC 4103): the RED codec,
 *               the sender into the receiver, loss filled from
 *               redundancy, reordering, loss marked after the wait
 */
#include <string.h>
#include <re.h>
#include "t140/t140.h"
#include "test.h"

enum {
	PT_T140 = 98,
	PT_RED  = 99,
	GUARD   = 10000,
};

static struct {
	struct mbuf *got;
	size_t want;
	unsigned sent;
	unsigned drop;               /* bit n: lose the n-th packet */
	struct t140_rx *rx;
	struct tmr guard;
} s;


static void text_h(const uint8_t *p, size_t n, void *arg)
{
	(void)arg;

	(void)mbuf_write_mem(s.got, p, n);
	if (s.want && s.got->end >= s.want)
		re_cancel();
}


static int send_h(const uint8_t *p, size_t n, void *arg)
{
	(void)arg;

	if (!(s.drop & (1u << s.sent++)))
		(void)t140_rx_packet(s.rx, p, n);

	return 0;
}


static void guard_h(void *arg)
{
	(void)arg;
	re_cancel();
}


static bool got_is(const char *want)
{
	return s.got->end == strlen(want) &&
		!memcmp(s.got->buf, want, s.got->end);
}


/* an RTP packet: RED with the given blocks (oldest first, primary
   last), or plain T.140 if red is false */
static int pkt(struct mbuf *mb, uint16_t seq, bool red, const char **tv,
	       size_t tc)
{
	struct t140_block bv[4];
	struct rtp_header h;
	size_t i;
	int err;

	mbuf_rewind(mb);
	memset(&h, 0, sizeof(h));
	h.ver = RTP_VERSION;
	h.pt = red ? PT_RED : PT_T140;
	h.seq = seq;
	h.ts = 1000u * seq;
	h.ssrc = 7;

	err = rtp_hdr_encode(mb, &h);
	if (err)
		return err;

	if (!red)
		return mbuf_write_str(mb, tv[tc - 1]);

	for (i = 0; i < tc; i++) {
		bv[i].pt = PT_T140;
		bv[i].ts_off = (uint16_t)(300 * (tc - 1 - i));
		bv[i].data = (const uint8_t *)tv[i];
		bv[i].len = strlen(tv[i]);
	}

	return t140_red_encode(mb, bv, tc);
}


static int feed(uint16_t seq, bool red, const char **tv, size_t tc)
{
	struct mbuf *mb = mbuf_alloc(256);
	int err;

	if (!mb)
		return ENOMEM;

	err = pkt(mb, seq, red, tv, tc);
	if (!err)
		err = t140_rx_packet(s.rx, mb->buf, mb->end);

	mem_deref(mb);

	return err;
}


int test_t140_red(void)
{
	static const uint8_t bad_len[] = {0x80 | PT_T140, 0, 0, 9, PT_T140,
					  'a'};
	static const uint8_t bad_hdr[] = {0x80 | PT_T140, 0, 0};
	struct t140_block bv[4], d[4];
	struct mbuf *mb = mbuf_alloc(64);
	size_t dc = 4;
	int err = 0;

	TEST_ASSERT(mb);

	bv[0] = (struct t140_block){PT_T140, 600, (const uint8_t *)"ab", 2};
	bv[1] = (struct t140_block){PT_T140, 300, NULL, 0};
	bv[2] = (struct t140_block){PT_T140, 0,
				    (const uint8_t *)"\xc3\xa9", 2};
	TEST_ERR(t140_red_encode(mb, bv, 3));
	TEST_EQ(mb->end, 4 + 4 + 1 + 2 + 2);

	TEST_ERR(t140_red_decode(d, &dc, mb->buf, mb->end));
	TEST_EQ(dc, 3);
	TEST_EQ(d[0].ts_off, 600);
	TEST_EQ(d[0].len, 2);
	TEST_ASSERT(!memcmp(d[0].data, "ab", 2));
	TEST_EQ(d[1].len, 0);
	TEST_EQ(d[1].ts_off, 300);
	TEST_EQ(d[2].len, 2);
	TEST_EQ(d[2].pt, PT_T140);

	dc = 4;
	TEST_EQ(t140_red_decode(d, &dc, bad_len, sizeof(bad_len)), EBADMSG);
	dc = 4;
	TEST_EQ(t140_red_decode(d, &dc, bad_hdr, sizeof(bad_hdr)), EBADMSG);
	dc = 2;
	TEST_EQ(t140_red_decode(d, &dc, mb->buf, mb->end), EMSGSIZE);
	dc = 4;
	TEST_EQ(t140_red_decode(d, &dc, mb->buf, 0), EBADMSG);

	bv[0].len = T140_BLOCK_MAX + 1;
	TEST_EQ(t140_red_encode(mb, bv, 3), EINVAL);

 out:
	mem_deref(mb);
	return err;
}


static int setup(size_t want)
{
	memset(&s, 0, sizeof(s));
	s.got = mbuf_alloc(256);
	s.want = want;
	tmr_init(&s.guard);

	if (!s.got)
		return ENOMEM;

	return t140_rx_alloc(&s.rx, PT_T140, PT_RED, text_h, NULL);
}


static void teardown(void)
{
	tmr_cancel(&s.guard);
	s.rx = mem_deref(s.rx);
	s.got = mem_deref(s.got);
}


static int send_through(const char **parts, size_t pc, unsigned drop,
			const char *want)
{
	struct t140_tx *tx = NULL;
	size_t i;
	int err;

	err = setup(strlen(want));
	if (err)
		goto out;

	s.drop = drop;
	err = t140_tx_alloc(&tx, PT_T140, PT_RED, send_h, NULL);
	if (err)
		goto out;

	for (i = 0; i < pc && !err; i++) {
		err = t140_tx_text(tx, (const uint8_t *)parts[i],
				   strlen(parts[i]));
		if (!err) {
			tmr_start(&s.guard, 350, guard_h, NULL);
			(void)re_main(NULL);
		}
	}

	/* the redundancy-only packets after the last text */
	tmr_start(&s.guard, 1000, guard_h, NULL);
	if (s.got->end < strlen(want))
		(void)re_main(NULL);

	if (!got_is(want)) {
		(void)re_fprintf(stderr, "  got '%b', want '%s'\n",
				 s.got->buf, s.got->end, want);
		err = EINVAL;
	}

 out:
	mem_deref(tx);
	teardown();
	return err;
}


/* D-63: byte-exact through sender and receiver, non-ASCII included;
   one and two lost packets in a row come back from the redundancy */
int test_t140_tx_rx(void)
{
	static const char *parts[] = {
		"Hello ", "w\xc3\xb6rld ", "\xe2\x82\xac\xf0\x9f\x98\x80", "!",
	};
	const char *want = "Hello w\xc3\xb6rld \xe2\x82\xac\xf0\x9f\x98\x80!";
	int err = 0;

	TEST_ERR(send_through(parts, ARRAY_SIZE(parts), 0, want));
	TEST_ERR(send_through(parts, ARRAY_SIZE(parts), 1u << 1, want));
	TEST_ERR(send_through(parts, ARRAY_SIZE(parts), 3u << 1, want));

 out:
	return err;
}


static void wait_ms(uint32_t ms)
{
	tmr_start(&s.guard, ms, guard_h, NULL);
	(void)re_main(NULL);
}


/* Reordering within the wait is put right; a gap past the redundancy
   and the wait is marked U+FFFD (RFC 4103 5); duplicates are dropped */
int test_t140_loss(void)
{
	const char *a[] = {"a"}, *b[] = {"b"}, *c[] = {"c"}, *d[] = {"d"};
	const char *e3[] = {"c", "d", "e"};
	int err;

	TEST_ERR(setup(0));

	/* plain T.140: 1, 3, 2 -> abc in order */
	TEST_ERR(feed(1, false, a, 1));
	TEST_ERR(feed(3, false, c, 1));
	TEST_ASSERT(got_is("a"));
	TEST_ERR(feed(2, false, b, 1));
	TEST_ASSERT(got_is("abc"));
	TEST_ERR(feed(2, false, b, 1));      /* duplicate */
	TEST_ASSERT(got_is("abc"));

	/* 5 never comes: after the wait, the loss mark, then 6 */
	TEST_ERR(feed(4, false, d, 1));
	TEST_ERR(feed(6, false, a, 1));
	TEST_ASSERT(got_is("abcd"));
	wait_ms(T140_WAIT_MS + 200);
	TEST_ASSERT(got_is("abcd\xef\xbf\xbd" "a"));
	TEST_EQ(t140_rx_lost(s.rx), 1);

	/* RED: 7 and 8 lost, 9 carries them */
	TEST_ERR(feed(9, true, e3, 3));
	TEST_ASSERT(got_is("abcd\xef\xbf\xbd" "acde"));
	TEST_EQ(t140_rx_lost(s.rx), 1);

	/* another payload type, not RTP */
	TEST_EQ(t140_rx_packet(s.rx, (const uint8_t *)"\x80\x00", 2),
		EBADMSG);

 out:
	teardown();
	return err;
}

/**
 * @file xcode_jb.c  Tests of the transcoding path's jitter buffer
 *                   (src/agw/xcode_jb.c): reordered, lost, late,
 *                   duplicated, oversized and far-ahead input
 */
#ifdef IMSEDGE_TRANSCODE
#include <string.h>
#include <re.h>
#include "agw/xcode_jb.h"
#include "test.h"

/* what left the buffer: sequence numbers, in order */
struct out {
	uint16_t seqv[64];
	size_t n;
};


static void out_h(const uint8_t *p, size_t n, void *arg)
{
	struct out *o = arg;

	if (o->n < ARRAY_SIZE(o->seqv) && n >= 12)
		o->seqv[o->n++] = (uint16_t)(p[2] << 8 | p[3]);
}


static void put(struct xjb *jb, uint16_t seq, size_t len, uint64_t now)
{
	uint8_t p[XJB_PKT_MAX + 16];

	memset(p, 0, sizeof(p));
	p[0] = 0x80;
	p[1] = 111;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	xjb_put(jb, p, len, now);
}


/* the sequence numbers that left, from index i, are want[] */
static bool left(const struct out *o, size_t i, const uint16_t *want,
		 size_t n)
{
	return o->n == i + n && !memcmp(o->seqv + i, want, n * 2);
}


int test_xcode_jb_reorder(void)
{
	static const uint16_t a[] = {65534, 65535, 0, 1, 2, 3};
	const struct xjb_stats *s;
	struct xjb *jb = NULL;
	struct out o;
	int err = 0;

	memset(&o, 0, sizeof(o));
	TEST_ERR(xjb_alloc(&jb, out_h, &o));
	s = xjb_stats(jb);

	/* in order: out at once (across the wrap), nothing to wait for */
	put(jb, 65534, 40, 0);
	put(jb, 65535, 40, 20);
	TEST_EQ(o.n, 2);
	TEST_EQ(xjb_poll(jb, 20), 0);

	/* 1 before 0: 1 waits, 0 comes within the wait, both leave in
	   order; 3 before 2 likewise */
	put(jb, 1, 40, 40);
	TEST_EQ(o.n, 2);
	TEST_EQ(xjb_poll(jb, 45), 40 + XJB_MIN_MS);
	put(jb, 0, 40, 50);
	put(jb, 3, 40, 60);
	put(jb, 2, 40, 70);
	TEST_ASSERT(left(&o, 0, a, 6));
	TEST_EQ(s->reordered, 2);
	TEST_EQ(s->lost, 0);
	TEST_EQ(xjb_poll(jb, 1000), 0);

	/* a duplicate of what left, and of what waits: dropped */
	put(jb, 3, 40, 80);
	put(jb, 5, 40, 80);
	put(jb, 5, 40, 81);
	TEST_EQ(s->dup, 2);
	put(jb, 4, 40, 82);
	TEST_EQ(o.n, 8);
	TEST_EQ(o.seqv[6], 4);
	TEST_EQ(o.seqv[7], 5);

 out:
	mem_deref(jb);
	return err;
}


int test_xcode_jb_loss(void)
{
	static const uint16_t a[] = {10, 12, 13, 15, 16};
	const struct xjb_stats *s;
	struct xjb *jb = NULL;
	struct out o;
	int err = 0;

	memset(&o, 0, sizeof(o));
	TEST_ERR(xjb_alloc(&jb, out_h, &o));
	s = xjb_stats(jb);
	TEST_EQ(xjb_depth(jb), XJB_MIN_MS);

	/* 11 lost: 12 and 13 wait XJB_MIN_MS from 12's arrival, then
	   leave with a gap (the decoder conceals 11) */
	put(jb, 10, 40, 100);
	put(jb, 12, 40, 120);
	put(jb, 13, 40, 130);
	TEST_EQ(o.n, 1);
	TEST_EQ(xjb_poll(jb, 139), 120 + XJB_MIN_MS);
	TEST_EQ(o.n, 1);
	TEST_EQ(xjb_poll(jb, 140), 0);
	TEST_EQ(s->lost, 1);

	/* 11 comes after all: late, dropped, and the wait grows */
	put(jb, 11, 40, 150);
	TEST_EQ(s->late, 1);
	TEST_EQ(xjb_depth(jb), XJB_MIN_MS + XJB_STEP_MS);

	/* 14 lost, 15 and 16 wait the longer wait now */
	put(jb, 15, 40, 160);
	put(jb, 16, 40, 170);
	TEST_EQ(xjb_poll(jb, 160 + XJB_MIN_MS), 160 + XJB_MIN_MS +
		XJB_STEP_MS);
	TEST_EQ(xjb_poll(jb, 200), 0);
	TEST_ASSERT(left(&o, 0, a, 5));
	TEST_EQ(s->lost, 2);
	TEST_EQ(s->late, 1);

	/* a duplicate of a packet that left is not late: the wait stays */
	put(jb, 16, 40, 210);
	TEST_EQ(s->dup, 1);
	TEST_EQ(xjb_depth(jb), XJB_MIN_MS + XJB_STEP_MS);

 out:
	mem_deref(jb);
	return err;
}


int test_xcode_jb_adapt(void)
{
	const struct xjb_stats *s;
	struct xjb *jb = NULL;
	uint16_t seq = 0;
	uint64_t t = 0;
	struct out o;
	int err = 0;
	int i;

	memset(&o, 0, sizeof(o));
	TEST_ERR(xjb_alloc(&jb, out_h, &o));
	s = xjb_stats(jb);

	/* every packet given up and then late: the wait grows by steps to
	   XJB_MAX_MS, never beyond */
	for (i = 0; i < 10; i++) {
		put(jb, seq, 40, t);
		put(jb, (uint16_t)(seq + 2), 40, t);
		t += XJB_MAX_MS;
		(void)xjb_poll(jb, t);
		put(jb, (uint16_t)(seq + 1), 40, t);
		seq = (uint16_t)(seq + 3);
	}
	TEST_EQ(s->late, 10);
	TEST_EQ(xjb_depth(jb), XJB_MAX_MS);

	/* XJB_CALM packets in time take one step off, down to XJB_MIN_MS */
	for (i = 0; i < XJB_CALM * 6; i++)
		put(jb, seq++, 40, t += 20);
	TEST_EQ(xjb_depth(jb), XJB_MIN_MS);
	TEST_EQ(xjb_poll(jb, t), 0);

 out:
	mem_deref(jb);
	return err;
}


int test_xcode_jb_edges(void)
{
	static const uint16_t a[] = {1, 3, 4, 5, 6};
	static const uint16_t b[] = {20, 22, 30000, 30001};
	const struct xjb_stats *s;
	struct xjb *jb = NULL;
	struct out o;
	int err = 0;

	memset(&o, 0, sizeof(o));
	TEST_ERR(xjb_alloc(&jb, out_h, &o));
	s = xjb_stats(jb);

	/* a packet too big to hold ends the wait: 2 given up, 3 and 4 go
	   first, then it */
	put(jb, 1, 40, 0);
	put(jb, 3, 40, 1);
	put(jb, 4, 40, 2);
	put(jb, 5, XJB_PKT_MAX + 1, 3);
	TEST_EQ(s->big, 1);
	put(jb, 6, 40, 4);
	TEST_ASSERT(left(&o, 0, a, 5));
	TEST_EQ(s->lost, 1);

	/* too far ahead to hold: what waits leaves, the gap is given up
	   (20 .. 22, then 21 lost) */
	xjb_reset(jb);
	put(jb, 20, 40, 10);
	put(jb, 22, 40, 11);
	put(jb, 22 + XJB_SLOTS + 1, 40, 12);
	TEST_EQ(o.n, 8);
	TEST_EQ(o.seqv[5], 20);
	TEST_EQ(o.seqv[6], 22);
	TEST_EQ(o.seqv[7], 22 + XJB_SLOTS + 1);
	TEST_EQ(s->lost, 1 + 1 + XJB_SLOTS);

	/* a jump (a new sequence): not counted lost, goes on from there */
	put(jb, 30000, 40, 13);
	put(jb, 30001, 40, 14);
	TEST_EQ(s->lost, 1 + 1 + XJB_SLOTS);
	TEST_EQ(o.n, 10);
	TEST_EQ(o.seqv[8], b[2]);
	TEST_EQ(o.seqv[9], b[3]);

	/* reset drops what waits (a new sender) */
	put(jb, 30003, 40, 15);
	xjb_reset(jb);
	TEST_EQ(xjb_poll(jb, 1000), 0);
	TEST_EQ(o.n, 10);

	/* no packet, a runt, no buffer: nothing happens */
	xjb_put(jb, NULL, 0, 0);
	xjb_put(jb, (const uint8_t *)"\x80", 1, 0);
	xjb_put(NULL, (const uint8_t *)"\x80", 1, 0);
	TEST_EQ(o.n, 10);
	TEST_EQ(xjb_alloc(NULL, out_h, &o), EINVAL);

 out:
	mem_deref(jb);
	return err;
}

/* D-35 (issue 11, RSS per transcoded call): a packet takes memory only
   while it is held, and none is held in order; with no memory to hold
   one, it ends the wait like a packet too big to hold. The byte figures
   need libre's mem bookkeeping (not in RELEASE builds: the cross
   boards), the order of what leaves is checked everywhere. */
int test_xcode_jb_memory(void)
{
	static const uint16_t a[] = {1, 2, 3, 4, 5, 7, 8};
	const struct xjb_stats *s;
	struct memstat m0, m1;
	struct xjb *jb = NULL;
	struct out o;
	bool stat;
	int err = 0;

	memset(&o, 0, sizeof(o));
	stat = !mem_get_stat(&m0);
	TEST_ERR(xjb_alloc(&jb, out_h, &o));
	s = xjb_stats(jb);
	if (stat) {
		TEST_ERR(mem_get_stat(&m1));
		m0.bytes_cur = m1.bytes_cur - m0.bytes_cur;
		TEST_ASSERT(m0.bytes_cur < 512);  /* was 5.3 KiB of slots */
		m0 = m1;
	}

	/* in order: nothing held, nothing taken */
	put(jb, 1, 600, 0);
	put(jb, 2, 600, 20);
	if (stat) {
		TEST_ERR(mem_get_stat(&m1));
		TEST_EQ(m1.bytes_cur, m0.bytes_cur);
	}

	/* 4 and 5 wait for 3: their bytes are taken, and given back when
	   3 comes and all three leave */
	put(jb, 4, 600, 40);
	put(jb, 5, 300, 41);
	if (stat) {
		TEST_ERR(mem_get_stat(&m1));
		TEST_ASSERT(m1.bytes_cur >= m0.bytes_cur + 900);
		TEST_ASSERT(m1.bytes_cur < m0.bytes_cur + 900 + 256);
	}
	put(jb, 3, 600, 42);
	TEST_ASSERT(left(&o, 0, a, 5));
	if (stat) {
		TEST_ERR(mem_get_stat(&m1));
		TEST_EQ(m1.bytes_cur, m0.bytes_cur);
	}

	/* no memory to hold 7: it leaves at once, 6 given up */
	if (stat) {
		mem_threshold_set((ssize_t)m1.blocks_cur);
		put(jb, 7, 40, 60);
		mem_threshold_set(-1);
		TEST_EQ(s->big, 1);
		TEST_EQ(s->lost, 1);
		TEST_EQ(o.n, 6);
		put(jb, 8, 40, 80);
		TEST_ASSERT(left(&o, 0, a, 7));
	}

	/* what is held when the buffer goes is freed with it (the leak
	   check of the harness) */
	put(jb, 20, 600, 100);

 out:
	mem_threshold_set(-1);
	mem_deref(jb);
	return err;
}
#endif

/**
 * @file rtpq.c  RTP reception quality (src/rtpq): RFC 3550 A.1/A.3
 *               expected and lost with wrap, reordering, duplicates and
 *               restarts; A.8 jitter of known arrival patterns; report
 *               blocks of SR/RR (6.4.1); the AGW feeds it what it converts
 *               (D-33) from latched sources (D-36), test/unit/agw.c
 */
#include <string.h>
#include <re.h>
#include "rtpq/rtpq.h"
#include "test.h"

enum { PT = 111, CLOCK = 48000 };


static void pkt(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts,
		uint32_t ssrc)
{
	memset(p, 0, 12);
	test_rtp_hdr(p, pt, seq, ts, ssrc);
}


static void rx(struct rtpq *q, uint8_t pt, uint16_t seq, uint32_t ts,
	       uint32_t ssrc, uint64_t now)
{
	uint8_t p[12];

	pkt(p, pt, seq, ts, ssrc);
	rtpq_rtp(q, p, sizeof(p), now);
}


/* the receivers' payload types and clocks (a stream's relay_pts) */
static struct rtpq_pts pts;


static void init(struct rtpq *q)
{
	memset(q, 0, sizeof(*q));
	rtpq_pts_reset(&pts);
	(void)rtpq_pt(&pts, PT, CLOCK);
	(void)rtpq_pt(&pts, 101, 0);     /* telephone-event: not media */
	q->pts = &pts;
}


/* seq from @p first on, @p n packets, those in @p skip (-1 ends) not
   sent */
static void run(struct rtpq *q, uint16_t first, unsigned n,
		const int *skip)
{
	unsigned i, k;

	for (i = 0; i < n; i++) {
		bool sk = false;

		for (k = 0; skip && skip[k] >= 0; k++)
			sk |= (unsigned)skip[k] == i;
		if (!sk)
			rx(q, PT, (uint16_t)(first + i), i * 960, 7,
			   1000000 + i * 20000);
	}
}


int test_rtpq_seq(void)
{
	static const int wrap_skip[] = {9, -1};   /* seq 3 after wrap */
	struct rtpq q;
	struct rtpq_stat st;
	unsigned i;
	int err = 0;

	/* wrap at 65535: 65530..65535, 0..9 without 3 */
	init(&q);
	run(&q, 65530, 16, wrap_skip);
	rtpq_get(&q, &st);
	TEST_EQ(st.expected, 16);
	TEST_EQ(st.lost, 1);
	TEST_EQ(q.cycles, 65536);

	/* every 10th lost, 1000 sent: exactly 100 */
	init(&q);
	for (i = 0; i < 1000; i++) {
		if (i % 10 != 5)
			rx(&q, PT, (uint16_t)(40000 + i), i * 960, 7,
			   i * 20000);
	}
	rtpq_get(&q, &st);
	TEST_EQ(st.expected, 1000);
	TEST_EQ(st.lost, 100);

	/* reordering: 1 2 4 3 5 loses nothing; a late packet from before
	   the wrap does not count a cycle */
	init(&q);
	rx(&q, PT, 1, 0, 7, 0);
	rx(&q, PT, 2, 0, 7, 0);
	rx(&q, PT, 4, 0, 7, 0);
	rx(&q, PT, 3, 0, 7, 0);
	rx(&q, PT, 5, 0, 7, 0);
	rtpq_get(&q, &st);
	TEST_EQ(st.expected, 5);
	TEST_EQ(st.lost, 0);
	init(&q);
	rx(&q, PT, 65534, 0, 7, 0);
	rx(&q, PT, 0, 0, 7, 0);
	rx(&q, PT, 65535, 0, 7, 0);
	rx(&q, PT, 1, 0, 7, 0);
	rtpq_get(&q, &st);
	TEST_EQ(st.expected, 4);
	TEST_EQ(st.lost, 0);
	TEST_EQ(q.cycles, 65536);

	/* duplicates: received twice, lost goes negative (A.3) */
	init(&q);
	rx(&q, PT, 10, 0, 7, 0);
	rx(&q, PT, 11, 0, 7, 0);
	rx(&q, PT, 11, 0, 7, 0);
	rx(&q, PT, 12, 0, 7, 0);
	rtpq_get(&q, &st);
	TEST_EQ(st.expected, 3);
	TEST_EQ(st.lost, -1);

	/* a jump beyond MAX_DROPOUT is ignored once; a second packet in
	   sequence after it restarts the count (A.1), earlier counts
	   kept: 100..104 (5), 20000..20002 (3), 2 lost in between */
	init(&q);
	run(&q, 100, 5, NULL);
	rx(&q, PT, 20000, 0, 7, 0);
	rtpq_get(&q, &st);
	TEST_EQ(st.expected, 5);
	rx(&q, PT, 20001, 0, 7, 0);
	rx(&q, PT, 20004, 0, 7, 0);
	rtpq_get(&q, &st);
	TEST_EQ(st.expected, 5 + 4);
	TEST_EQ(st.lost, 2);

	/* a new SSRC with the media payload type is a new source; one
	   with another payload type (RTX) is not counted */
	init(&q);
	run(&q, 100, 5, NULL);
	rx(&q, 97, 9000, 0, 8, 0);
	rx(&q, PT, 500, 0, 9, 0);
	rx(&q, PT, 502, 0, 9, 0);
	rtpq_get(&q, &st);
	TEST_EQ(st.expected, 5 + 3);
	TEST_EQ(st.lost, 1);

	/* not RTP version 2, or short: ignored */
	{
		uint8_t p[12];

		init(&q);
		pkt(p, PT, 1, 0, 7);
		p[0] = 0x40;
		rtpq_rtp(&q, p, sizeof(p), 0);
		pkt(p, PT, 1, 0, 7);
		rtpq_rtp(&q, p, 11, 0);
		rtpq_get(&q, &st);
		TEST_EQ(st.expected, 0);
	}

 out:
	return err;
}


int test_rtpq_jitter(void)
{
	struct rtpq q;
	struct rtpq_stat st;
	uint64_t t = 5000000;
	unsigned i;
	int err = 0;

	/* evenly spaced: 20 ms, 960 units at 48 kHz: no jitter */
	init(&q);
	for (i = 0; i < 200; i++)
		rx(&q, PT, (uint16_t)i, 4242 + i * 960, 7, t + i * 20000);
	rtpq_get(&q, &st);
	TEST_ASSERT(st.jitter_us <= 25);

	/* arrivals 15, 25, 15, ... ms apart: |D| = 5 ms each packet, so J
	   converges to 5 ms (A.8: J += (|D| - J) / 16) */
	init(&q);
	for (i = 0; i < 400; i++) {
		t += i % 2 ? 15000 : 25000;
		rx(&q, PT, (uint16_t)i, i * 960, 7, t);
	}
	rtpq_get(&q, &st);
	TEST_ASSERT(st.jitter_us >= 4900 && st.jitter_us <= 5000);

	/* the codec changes to PCMU (8 kHz): the jitter is rescaled, not
	   reinterpreted, and the first packet only starts transit */
	TEST_ERR(rtpq_pt(&pts, 0, 8000));
	rx(&q, 0, 400, 0, 7, t + 20000);
	rtpq_get(&q, &st);
	TEST_ASSERT(st.jitter_us >= 4750 && st.jitter_us <= 5000); /* 125 us
								      units */
	TEST_EQ(q.jclock, 8000);

	/* one packet 40 ms late, then on time: J after it = 40/16 ms,
	   then decays by 15/16 per packet */
	init(&q);
	t = 0;
	for (i = 0; i < 10; i++)
		rx(&q, PT, (uint16_t)i, i * 960, 7, t + i * 20000);
	rx(&q, PT, 10, 10 * 960, 7, t + 10 * 20000 + 40000);
	rtpq_get(&q, &st);
	TEST_ASSERT(st.jitter_us >= 2450 && st.jitter_us <= 2510);

	/* telephone-event (not a media type): no jitter from it */
	init(&q);
	for (i = 0; i < 50; i++)
		rx(&q, 101, (uint16_t)i, 0, 7, t + i * 20000);
	rtpq_get(&q, &st);
	TEST_EQ(st.jitter_us, 0);
	TEST_EQ(st.expected, 50);

	/* 8 kHz clock, 160 units per 20 ms, every other packet 10 ms
	   late: |D| alternates 10 ms, J about 10 ms */
	{
		memset(&q, 0, sizeof(q));
		rtpq_pts_reset(&pts);
		q.pts = &pts;
		TEST_ERR(rtpq_pt(&pts, 0, 8000));
		for (i = 0; i < 400; i++)
			rx(&q, 0, (uint16_t)i, i * 160, 7,
			   i * 20000 + (i % 2) * 10000);
		rtpq_get(&q, &st);
		TEST_ASSERT(st.jitter_us >= 9800 && st.jitter_us <= 10000);
	}

	/* at most RTPQ_CLOCKS clocks */
	rtpq_pts_reset(&pts);
	for (i = 0; i < RTPQ_CLOCKS; i++)
		TEST_ERR(rtpq_pt(&pts, (uint8_t)(96 + i), 8000 * (i + 1)));
	TEST_EQ(rtpq_pt(&pts, 100, 90000), E2BIG);
	TEST_EQ(rtpq_pt(&pts, 101, 8000), 0);
	TEST_EQ(rtpq_pt(&pts, 128, 8000), EINVAL);

	TEST_EQ(rtpq_us(480, 48000), 10000);
	TEST_EQ(rtpq_us(480, 0), 0);

 out:
	return err;
}


int test_rtpq_rr(void)
{
	/* SR (no blocks) + RR with a block: fraction 25, lost -2,
	   jitter 160; then SDES */
	static const uint8_t rr[] = {
		0x80, 200, 0, 6,  0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
		0x81, 201, 0, 7,  0, 0, 0, 1,
		0, 0, 0, 2,  25, 0xff, 0xff, 0xfe,  0, 1, 0, 9,
		0, 0, 0, 160,  0, 0, 0, 0,  0, 0, 0, 0,
		0x81, 202, 0, 1,  0, 0, 0, 1,
	};
	static const uint8_t sr[] = {
		0x81, 200, 0, 12,  0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
		0, 0, 0, 2,  3, 0, 0, 42,  0, 1, 0, 9,
		0, 0, 1, 0,  0, 0, 0, 0,  0, 0, 0, 0,
	};
	struct rtpq_rr b;
	int err = 0;

	memset(&b, 0, sizeof(b));
	TEST_ASSERT(rtpq_rr(rr, sizeof(rr), &b));
	TEST_EQ(b.fraction, 25);
	TEST_EQ(b.lost, -2);
	TEST_EQ(b.jitter, 160);

	TEST_ASSERT(rtpq_rr(sr, sizeof(sr), &b));
	TEST_EQ(b.fraction, 3);
	TEST_EQ(b.lost, 42);
	TEST_EQ(b.jitter, 256);

	/* no block, truncated, or a length past the end */
	TEST_ASSERT(!rtpq_rr(rr, 28, &b));
	TEST_ASSERT(!rtpq_rr(sr, sizeof(sr) - 4, &b));
	TEST_ASSERT(!rtpq_rr(rr + 28, 20, &b));

 out:
	return err;
}

/**
 * @file rtpq.c  RTP reception quality: RFC 3550 A.1, A.3, A.8, 6.4.1
 *
 * The AGW measures what it receives from each side; the source is
 * already validated (SRTP authenticated or latched), so a stream's first
 * packet starts the sequence (no probation). A packet from another SSRC
 * with a media payload type of the stream's clock (RFC 3550 8.2: a new
 * source, e.g. after a transfer in the core) ends the first source's
 * count and starts one for the new source; any other SSRC (RTX, FEC) is
 * not counted. Jitter is measured on media payload types only (not
 * telephone-event, whose timestamps stand still), each at its clock.
 */
#include <string.h>
#include <re.h>
#include "rtpq.h"

enum {
	RTP_SEQ_MOD  = 1 << 16,
	MAX_DROPOUT  = 3000,       /* A.1 */
	MAX_MISORDER = 100,
};


static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}


static int64_t cur_expected(const struct rtpq *q)
{
	if (!q->set)
		return 0;

	return (int64_t)(q->cycles + q->max_seq) - q->base_seq + 1;
}


/* A.1 init_seq, after folding what the previous sequence counted */
static void init_seq(struct rtpq *q, uint16_t seq)
{
	q->prior_expected += cur_expected(q);
	q->prior_received += q->received;
	q->set = true;
	q->base_seq = seq;
	q->max_seq = seq;
	q->bad_seq = RTP_SEQ_MOD + 1;
	q->cycles = 0;
	q->received = 0;
	q->have_transit = false;
}


static bool media_pt(const struct rtpq *q, uint8_t pt)
{
	return q->pts && q->pts->ptclk[pt & 0x7f] != 0;
}


/**
 * Forget the media payload types (a new SDP); a receiver's counts and
 * jitter so far stay
 *
 * @param pts Payload types
 */
void rtpq_pts_reset(struct rtpq_pts *pts)
{
	if (pts)
		memset(pts, 0, sizeof(*pts));
}


/**
 * Name a payload type that carries media, and its RTP clock
 *
 * @param q     Payload types (a receiver's pts, or a copy for one)
 * @param pt    Payload type
 * @param clock Its clock rate (Hz); 0: not media (ignored)
 *
 * @return 0, EINVAL, or E2BIG past RTPQ_CLOCKS distinct clocks
 */
int rtpq_pt(struct rtpq_pts *q, uint8_t pt, uint32_t clock)
{
	uint8_t i;

	if (!q || pt > 127)
		return EINVAL;

	if (!clock)
		return 0;

	for (i = 0; i < q->clockc && q->clockv[i] != clock; i++)
		;

	if (i == q->clockc) {
		if (i == RTPQ_CLOCKS)
			return E2BIG;
		q->clockv[i] = clock;
		q->multv[i] = (uint32_t)((((uint64_t)clock << 32) +
					  500000) / 1000000);
		++q->clockc;
	}

	q->ptclk[pt] = i + 1;

	return 0;
}


/* A.1 update_seq; false: the packet does not count (big jump) */
static bool update_seq(struct rtpq *q, uint16_t seq)
{
	uint16_t udelta = seq - q->max_seq;

	if (udelta < MAX_DROPOUT) {
		if (seq < q->max_seq)
			q->cycles += RTP_SEQ_MOD;
		q->max_seq = seq;
	}
	else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
		if (seq != q->bad_seq) {
			q->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
			return false;
		}
		/* two in a row: the sender restarted its sequence */
		init_seq(q, seq);
	}
	/* else a duplicate or reordered packet: counted as received */

	return true;
}


/* A.8: arrival and timestamp in clock units; a change of clock (of
   codec) rescales the jitter and starts transit again */
static void jitter(struct rtpq *q, uint8_t k, uint32_t ts, uint64_t now)
{
	const struct rtpq_pts *pts = q->pts;
	uint32_t arrival = (uint32_t)(((now - q->t0) * pts->multv[k]) >> 32);
	uint32_t transit = arrival - ts;
	uint32_t d = transit - q->transit;

	if (pts->clockv[k] != q->jclock) {
		if (q->jclock)
			q->jitter = (uint32_t)((uint64_t)q->jitter *
					       pts->clockv[k] / q->jclock);
		q->jclock = pts->clockv[k];
		q->have_transit = false;
	}

	q->transit = transit;
	if (!q->have_transit) {
		q->have_transit = true;
		return;
	}

	/* |D| of the 32-bit difference, without signed overflow */
	if (d & 0x80000000u)
		d = 0u - d;
	q->jitter += d - ((q->jitter + 8) >> 4);
}


/**
 * Count one received RTP packet (plain, header at least 12 bytes)
 *
 * @param q   Receiver state
 * @param p   Packet
 * @param n   Length
 * @param now Arrival time (us, monotonic: net_udp_rx_time)
 */
void rtpq_rtp(struct rtpq *q, const uint8_t *p, size_t n, uint64_t now)
{
	uint8_t pt;
	uint16_t seq;
	uint32_t ssrc;

	if (!q || !p || n < 12 || (p[0] >> 6) != 2)
		return;

	pt = p[1] & 0x7f;
	seq = (uint16_t)(p[2] << 8 | p[3]);
	ssrc = be32(p + 8);

	if (!q->set) {
		q->t0 = now;
		q->ssrc = ssrc;
		init_seq(q, seq);
	}
	else if (ssrc != q->ssrc) {
		if (!media_pt(q, pt))
			return;
		q->ssrc = ssrc;
		init_seq(q, seq);
	}
	else if (!update_seq(q, seq)) {
		return;
	}

	++q->received;

	if (q->pts && q->pts->ptclk[pt])
		jitter(q, q->pts->ptclk[pt] - 1, be32(p + 4), now);
}


/**
 * Clock units to microseconds
 *
 * @param units Duration in units of the clock
 * @param clock Clock rate (Hz), 0 gives 0
 *
 * @return Microseconds (saturated)
 */
uint32_t rtpq_us(uint32_t units, uint32_t clock)
{
	uint64_t us;

	if (!clock)
		return 0;

	us = (uint64_t)units * 1000000 / clock;

	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}


/**
 * Expected and lost packets and the jitter so far (A.3, A.8)
 *
 * @param q  Receiver state
 * @param st Returned figures
 */
void rtpq_get(const struct rtpq *q, struct rtpq_stat *st)
{
	if (!st)
		return;

	memset(st, 0, sizeof(*st));
	if (!q)
		return;

	st->expected = q->prior_expected + cur_expected(q);
	st->lost = st->expected - q->prior_received - q->received;
	st->jitter_us = rtpq_us(q->jitter >> 4, q->jclock);
}


/**
 * The first report block of a (compound) RTCP packet: SR or RR
 *
 * @param p  Plain RTCP
 * @param n  Length
 * @param rr Returned block
 *
 * @return true if there was one
 */
bool rtpq_rr(const uint8_t *p, size_t n, struct rtpq_rr *rr)
{
	while (n >= 8 && (p[0] >> 6) == 2) {
		size_t len = ((size_t)(p[2] << 8 | p[3]) + 1) * 4;
		size_t off = p[1] == 200 ? 28 : p[1] == 201 ? 8 : 0;
		const uint8_t *b = p + off;

		if (len > n)
			return false;

		if (off && (p[0] & 0x1f) && off + 24 <= len) {
			uint32_t cum = (uint32_t)b[5] << 16 |
				(uint32_t)b[6] << 8 | b[7];

			rr->fraction = b[4];
			rr->lost = cum & 0x800000 ?
				(int32_t)cum - 0x1000000 : (int32_t)cum;
			rr->jitter = be32(b + 12);
			return true;
		}

		p += len;
		n -= len;
	}

	return false;
}

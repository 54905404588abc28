/**
 * @file rtpq.h  RTP reception quality of one direction of a stream:
 *               RFC 3550 A.1/A.3 (expected and lost packets from the
 *               extended highest sequence number, wrap, reordering,
 *               duplicates) and A.8 (interarrival jitter); and the
 *               first report block of an RTCP SR/RR (the far end's view)
 *
 * The per-packet path (rtpq_rtp) is a few integer operations on the
 * 12-byte RTP header and one 64-bit multiply for the arrival time in
 * RTP clock units: no allocation, no division, no clock read (the
 * caller passes the time its receive batch was read).
 */

#ifndef IMSEDGE_RTPQ_H
#define IMSEDGE_RTPQ_H

enum {
	RTPQ_CLOCKS = 4,           /**< Distinct media clocks per stream  */
};

/** The media payload types of a direction and their clocks */
struct rtpq_pts {
	uint8_t ptclk[128];        /**< Payload type -> clock index + 1;
				        0: not media (DTMF, RTX, FEC)     */
	uint32_t clockv[RTPQ_CLOCKS]; /**< RTP clock rates (Hz)           */
	uint32_t multv[RTPQ_CLOCKS];  /**< 2^32 * clock / 10^6            */
	uint8_t clockc;
};

/** Receiver state of one direction (zero it, point pts at a table) */
struct rtpq {
	const struct rtpq_pts *pts; /**< The owner's (rtpq_pt); NULL: no
				        jitter (types unknown)            */
	uint32_t jclock;           /**< Clock transit and jitter are in   */
	bool set;                  /**< A source is being followed        */
	bool have_transit;
	uint32_t ssrc;
	uint16_t max_seq;          /**< Highest sequence number seen      */
	uint32_t cycles;           /**< Wraps, shifted (A.1: << 16)       */
	uint32_t base_seq;
	uint32_t bad_seq;          /**< Next seq after a big jump         */
	uint32_t received;
	uint32_t transit;          /**< A.8, clock units                  */
	uint32_t jitter;           /**< A.8, clock units << 4             */
	uint64_t t0;               /**< Arrival origin (us)               */
	int64_t prior_expected;    /**< Of earlier sources and sequences  */
	int64_t prior_received;
};

/** What rtpq_get reports */
struct rtpq_stat {
	int64_t expected;          /**< Extended highest - base + 1       */
	int64_t lost;              /**< expected - received; negative
				        with duplicates (A.3)             */
	uint32_t jitter_us;        /**< Interarrival jitter (A.8)         */
};

/** One RTCP report block (RFC 3550 6.4.1) */
struct rtpq_rr {
	uint8_t fraction;          /**< Fraction lost, /256               */
	int32_t lost;              /**< Cumulative lost (24-bit signed)   */
	uint32_t jitter;           /**< Interarrival jitter, clock units  */
};

void rtpq_pts_reset(struct rtpq_pts *pts);
int  rtpq_pt(struct rtpq_pts *pts, uint8_t pt, uint32_t clock);
void rtpq_rtp(struct rtpq *q, const uint8_t *p, size_t n, uint64_t now);
void rtpq_get(const struct rtpq *q, struct rtpq_stat *st);
uint32_t rtpq_us(uint32_t units, uint32_t clock);
bool rtpq_rr(const uint8_t *p, size_t n, struct rtpq_rr *rr);

#endif

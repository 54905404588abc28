/**
 * @file rtpq.h  RTP reception quality of one direction of a stream:
 *               RFC 3550 A.1/A.3 (expected and lost packets from the
 *               extended highest sequence number, wrap, reordering,
 *               duplicates) and A.8 (interarrival jitter); and the
 *               first report block of an RTCP SR/RR (the far end's view)
 *
 * The per-packet path (rtpq_rtp) is a few integer operations on the
 * 12-byte RTP header and one 64-bit multiply for the arrival time in
 * RTP clock units: no allocation, no division.
 */

#ifndef IMSEDGE_RTPQ_H
#define IMSEDGE_RTPQ_H

/** Receiver state of one direction (zero it, then rtpq_clock) */
struct rtpq {
	uint32_t clock;            /**< RTP clock (Hz), 0: no jitter      */
	uint32_t ptmap[4];         /**< Payload types at that clock that
				        carry media (bit per type)        */
	uint32_t mult;             /**< 2^32 * clock / 10^6               */
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

void rtpq_clock(struct rtpq *q, uint32_t clock, const uint32_t ptmap[4]);
void rtpq_rtp(struct rtpq *q, const uint8_t *p, size_t n, uint64_t now);
void rtpq_get(const struct rtpq *q, struct rtpq_stat *st);
uint32_t rtpq_us(uint32_t units, uint32_t clock);
bool rtpq_rr(const uint8_t *p, size_t n, struct rtpq_rr *rr);
uint64_t rtpq_now(void);

#endif

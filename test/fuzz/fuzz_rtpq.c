/**
 * @file fuzz_rtpq.c  Fuzz RTP reception quality (src/rtpq): RFC 3550
 *                    sequence and jitter bookkeeping on arbitrary RTP
 *                    headers and arrival times, and the SR/RR report
 *                    block parser on arbitrary RTCP
 *
 * Input: records of a 16-bit big-endian length, a 16-bit arrival step
 * (ms) and that many bytes; each record goes to rtpq_rtp() and to
 * rtpq_rr(). Payload types 0, 8 (8 kHz) and 111 (48 kHz) are media,
 * so clock changes happen. The figures must stay consistent: lost is
 * expected minus received.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "rtpq/rtpq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1000000, received = 0;
	struct rtpq_stat st;
	struct rtpq_rr rr;
	struct rtpq_pts pts;
	struct rtpq q;

	memset(&q, 0, sizeof(q));
	rtpq_pts_reset(&pts);
	(void)rtpq_pt(&pts, 0, 8000);
	(void)rtpq_pt(&pts, 8, 8000);
	(void)rtpq_pt(&pts, 111, 48000);
	q.pts = &pts;

	while (size >= 4) {
		size_t n = (size_t)(data[0] << 8 | data[1]);

		now += (uint64_t)(data[2] << 8 | data[3]) * 1000;
		data += 4;
		size -= 4;
		if (n > size)
			n = size;

		if (n >= 12 && (data[0] >> 6) == 2)
			++received;
		rtpq_rtp(&q, data, n, now);
		(void)rtpq_rr(data, n, &rr);

		data += n;
		size -= n;
	}

	rtpq_get(&q, &st);
	if (st.expected < 0 || st.expected - st.lost < 0 ||
	    (uint64_t)(st.expected - st.lost) > received)
		abort();

	return 0;
}

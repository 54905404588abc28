/**
 * @file fuzz_xcode_jb.c  Fuzz the transcoding path's jitter buffer
 *                        (src/agw/xcode_jb.c) with any order, loss,
 *                        duplication, size and timing of RTP packets
 *
 * Input: records of 4 bytes: sequence number (16 bits), packet length
 * (x 4, so up to 1020 bytes: some too big to hold), time step (ms; 255:
 * poll instead of put). What leaves must be in sequence order (each
 * after the one before, RFC 1982 arithmetic), never twice, at most as
 * many as went in, and nothing may wait past the longest wait.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "agw/xcode_jb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	bool any;
	uint16_t last;
	size_t n;
};


static void out_h(const uint8_t *p, size_t n, void *arg)
{
	struct out *o = arg;
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);

	/* after the last (a jump of exactly half the space is still
	   ahead: the buffer calls anything up to 0x7fff past next ahead) */
	if (n < 12 || (o->any && (!(uint16_t)(seq - o->last) ||
				  (uint16_t)(seq - o->last) > 0x8000)))
		abort();

	o->any = true;
	o->last = seq;
	++o->n;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[1024];
	struct xjb *jb = NULL;
	struct out o;
	uint64_t now = 1000, due;
	size_t i, in = 0;

	memset(&o, 0, sizeof(o));
	if (xjb_alloc(&jb, out_h, &o))
		return 0;

	pkt[0] = 0x80;
	for (i = 0; i + 4 <= size; i += 4) {
		size_t len = (size_t)data[i + 2] * 4;

		if (data[i + 3] == 255) {
			now += 7;
			due = xjb_poll(jb, now);
			if (due && due > now + XJB_MAX_MS)
				abort();
			continue;
		}

		now += data[i + 3];
		pkt[2] = data[i];
		pkt[3] = data[i + 1];
		xjb_put(jb, pkt, len, now);
		if (len >= 12)
			++in;
	}

	(void)xjb_poll(jb, now + XJB_MAX_MS);
	if (o.n > in || xjb_poll(jb, now + XJB_MAX_MS))
		abort();

	mem_deref(jb);
	return 0;
}

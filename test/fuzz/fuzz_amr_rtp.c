/**
 * @file fuzz_amr_rtp.c  Fuzz the RFC 4867 payload parser (D-61)
 *
 * Input: one flag byte (bit 0 AMR-WB, bit 1 octet-aligned), then an RTP
 * payload. What amr_rtp_decode() accepts must write back to the same
 * frames (amr_rtp_encode, then decode again), and each of its frames
 * must go through the library's decoder (as the transcoding path feeds
 * them) without harm.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "codec/codec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct codec_dec *dec_nb;
static struct codec_dec *dec_wb;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct codec_prm prm = {0, 0, 0, false, false, 0};
	int err;

	(void)argc;
	(void)argv;

	err  = codec_dec_alloc(&dec_nb, codec_get(CODEC_AMR), &prm);
	err |= codec_dec_alloc(&dec_wb, codec_get(CODEC_AMRWB), &prm);
	if (err)
		abort();

	return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct amr_rtp p, q;
	int16_t pcm[CODEC_MAX_SAMPLES];
	uint8_t out[2048];
	bool wb, oa;
	size_t i, len, n;

	if (size < 1)
		return 0;

	wb = data[0] & 1;
	oa = (data[0] & 2) != 0;
	if (amr_rtp_decode(&p, wb, oa, data + 1, size - 1))
		return 0;

	if (amr_rtp_encode(out, sizeof(out), &len, &p, wb, oa))
		abort();
	if (amr_rtp_decode(&q, wb, oa, out, len))
		abort();
	if (q.n != p.n || q.cmr != p.cmr)
		abort();

	for (i = 0; i < p.n; i++) {
		int bits = amr_frame_bits(wb, p.fv[i].ft);
		size_t flen = 1 + ((size_t)bits + 7) / 8;

		if (memcmp(p.fv[i].b, q.fv[i].b, flen))
			abort();

		(void)codec_decode(wb ? dec_wb : dec_nb, pcm, &n, p.fv[i].b,
				   flen, false);
	}

	return 0;
}

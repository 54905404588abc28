/**
 * @file fuzz_opus_toc.c  Fuzz the Opus TOC and frame-structure reading
 *                        (codec_opus_toc) the transcoding path does on
 *                        every packet from the browser
 *
 * Input: an Opus packet. What codec_opus_toc() accepts must be at most
 * 120 ms and must decode (libopus, 16 kHz) into at most
 * CODEC_MAX_SAMPLES samples, as the transcoding path expects.
 */
#include <stdlib.h>
#include <re.h>
#include "codec/codec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct codec_dec *dec;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct codec_prm prm = {16000, 0, 0, false, false, 0};

	(void)argc;
	(void)argv;

	if (codec_dec_alloc(&dec, codec_get(CODEC_OPUS), &prm))
		abort();

	return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int16_t pcm[CODEC_MAX_SAMPLES];
	struct codec_opus_toc t;
	size_t n;

	if (codec_opus_toc(&t, data, size))
		return 0;

	if (!t.frames || t.frames > 48 || t.samples48 > 5760)
		abort();

	if (!codec_decode(dec, pcm, &n, data, size, false) &&
	    n != t.samples48 / 3)
		abort();

	return 0;
}

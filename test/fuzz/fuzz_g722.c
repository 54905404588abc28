/**
 * @file fuzz_g722.c  Fuzz the G.722 payloads the transcoding path decodes
 *                    from the core (spandsp's g722.c through src/codec)
 *
 * Input: an RTP payload from the core. Every byte string is G.722, so
 * what is tested is the bound: up to CODEC_MAX_SAMPLES / 2 bytes decode
 * into exactly two samples a byte (16 kHz), more is EBADMSG; whatever
 * the decoder made is encoded back, 20 ms at a time, into 160 bytes.
 */
#include <stdlib.h>
#include <re.h>
#include "codec/codec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct codec_dec *dec;
static struct codec_enc *enc;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct codec_prm prm = {16000, 0, 0, false, false, 0};

	(void)argc;
	(void)argv;

	if (codec_dec_alloc(&dec, codec_get(CODEC_G722), &prm) ||
	    codec_enc_alloc(&enc, codec_get(CODEC_G722), &prm))
		abort();

	return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int16_t pcm[CODEC_MAX_SAMPLES];
	uint8_t frame[CODEC_MAX_FRAME];
	size_t n = 0, len, i;
	int err;

	err = codec_decode(dec, pcm, &n, data, size, false);
	if (size > CODEC_MAX_SAMPLES / 2) {
		if (err != EBADMSG)
			abort();
		return 0;
	}
	if (err || n != (size ? 2 * size : 320))
		abort();

	for (i = 0; i + 320 <= n; i += 320) {
		if (codec_encode(enc, frame, &len, pcm + i) || len != 160)
			abort();
	}

	return 0;
}

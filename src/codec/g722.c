/**
 * @file g722.c  G.722 at 64 kbit/s (spandsp's g722.c, built on its own)
 *
 * 16 kHz PCM, one byte per two samples: 20 ms is 320 samples and 160
 * bytes. The RTP clock is 8000 although the codec samples at 16 kHz
 * (RFC 3551 4.5.2: an error kept for compatibility), so the codec table
 * says clock 8000, PCM rate 16000, and everything that counts
 * timestamps uses the clock (a 20 ms packet advances them 160), not the
 * PCM rate. Every byte string is a valid G.722 stream: decode checks
 * only the length. A lost frame is 20 ms of silence.
 */
#include <stdint.h>
#include <string.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include <spandsp/private/g722.h>
#include <re.h>
#include "codec.h"
#include "codec_int.h"


static int enc_alloc(void **stp, const struct codec_prm *prm)
{
	g722_encode_state_t *s;

	if (prm->srate != 16000)
		return EINVAL;

	s = mem_zalloc(sizeof(*s), NULL);
	if (!s)
		return ENOMEM;

	/* plain state, nothing to release (g722_encode_release() is a
	   no-op); the library only fills it in */
	if (!g722_encode_init(s, 64000, 0)) {
		mem_deref(s);
		return EINVAL;
	}

	*stp = s;
	return 0;
}


static int encode(void *st, uint8_t *buf, size_t *lenp,
		  const int16_t *pcm, size_t n, int mode, bool dtx)
{
	int r;

	(void)mode;
	(void)dtx;

	if (n > CODEC_MAX_SAMPLES || n % 2)
		return EINVAL;

	r = g722_encode(st, buf, pcm, (int)n);
	if (r < 0)
		return EINVAL;

	*lenp = (size_t)r;
	return 0;
}


static void codec_free(void *st)
{
	mem_deref(st);
}


static int dec_alloc(void **stp, const struct codec_prm *prm)
{
	g722_decode_state_t *s;

	if (prm->srate != 16000)
		return EINVAL;

	s = mem_zalloc(sizeof(*s), NULL);
	if (!s)
		return ENOMEM;

	/* plain state, nothing to release (g722_decode_release() is a
	   no-op); the library only fills it in */
	if (!g722_decode_init(s, 64000, 0)) {
		mem_deref(s);
		return EINVAL;
	}

	*stp = s;
	return 0;
}


static int decode(void *st, int16_t *pcm, size_t *np, size_t max,
		  const uint8_t *buf, size_t len, bool fec)
{
	int r;

	(void)fec;

	if (!buf || !len) {  /* lost: 20 ms of silence */
		memset(pcm, 0, 320 * sizeof(*pcm));
		*np = 320;
		return 0;
	}

	/* two samples a byte */
	if (len > max / 2)
		return EBADMSG;

	r = g722_decode(st, pcm, buf, (int)len);
	if (r < 0)
		return EBADMSG;

	*np = (size_t)r;
	return 0;
}


const struct codec_ops codec_g722_ops = {
	enc_alloc, encode, codec_free,
	dec_alloc, decode, codec_free, NULL
};

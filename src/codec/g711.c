/**
 * @file g711.c  G.711 A-law and mu-law (PCMA, PCMU)
 *
 * The conversions of ITU-T G.191's reference (g711.c): 13-bit linear for
 * A-law, 14-bit for mu-law, from the 16-bit input's top bits. No
 * library: a few shifts per sample. PCMA's and PCMU's frames are one
 * byte a sample at 8 kHz; a lost frame is filled with silence.
 */
#include <string.h>
#include <re.h>
#include "codec.h"
#include "codec_int.h"


uint8_t g711_pcm2alaw(int16_t l)
{
	static const int16_t seg_end[8] = {
		0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff
	};
	int16_t pcm = l >> 3;
	uint8_t mask, aval;
	int seg;

	if (pcm >= 0) {
		mask = 0xd5;
	}
	else {
		mask = 0x55;
		pcm = (int16_t)(-pcm - 1);
	}

	for (seg = 0; seg < 8 && pcm > seg_end[seg]; seg++)
		;

	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);

	aval = (uint8_t)(seg << 4);
	if (seg < 2)
		aval |= (pcm >> 1) & 0x0f;
	else
		aval |= (pcm >> seg) & 0x0f;

	return aval ^ mask;
}


int16_t g711_alaw2pcm(uint8_t a)
{
	int t, seg;

	a ^= 0x55;
	t = (a & 0x0f) << 4;
	seg = (a & 0x70) >> 4;
	switch (seg) {

	case 0:
		t += 8;
		break;

	case 1:
		t += 0x108;
		break;

	default:
		t += 0x108;
		t <<= seg - 1;
		break;
	}

	return (int16_t)((a & 0x80) ? t : -t);
}


uint8_t g711_pcm2ulaw(int16_t l)
{
	static const int16_t seg_uend[8] = {
		0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff
	};
	int16_t pcm = l >> 2;
	uint8_t mask;
	int seg;

	if (pcm < 0) {
		pcm = (int16_t)-pcm;
		mask = 0x7f;
	}
	else {
		mask = 0xff;
	}

	if (pcm > 8159)
		pcm = 8159;
	pcm += 0x21;

	for (seg = 0; seg < 8 && pcm > seg_uend[seg]; seg++)
		;

	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);

	return (uint8_t)((seg << 4) | ((pcm >> (seg + 1)) & 0x0f)) ^ mask;
}


int16_t g711_ulaw2pcm(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;

	return (int16_t)((u & 0x80) ? (0x84 - t) : (t - 0x84));
}


static int g711_alloc(void **stp, const struct codec_prm *prm)
{
	(void)prm;
	*stp = (void *)1;  /* stateless */
	return 0;
}


static void g711_free(void *st)
{
	(void)st;
}


static int pcma_encode(void *st, uint8_t *buf, size_t *lenp,
		       const int16_t *pcm, size_t n, int mode, bool dtx)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = g711_pcm2alaw(pcm[i]);

	*lenp = n;
	return 0;
}


static int pcmu_encode(void *st, uint8_t *buf, size_t *lenp,
		       const int16_t *pcm, size_t n, int mode, bool dtx)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = g711_pcm2ulaw(pcm[i]);

	*lenp = n;
	return 0;
}


static int g711_decode(int16_t *pcm, size_t *np, size_t max,
		       const uint8_t *buf, size_t len, bool alaw)
{
	size_t i;

	if (!buf || !len) {  /* lost: 20 ms of silence */
		len = 160;
		memset(pcm, 0, len * sizeof(*pcm));
		*np = len;
		return 0;
	}

	if (len > max)
		return EBADMSG;

	for (i = 0; i < len; i++)
		pcm[i] = alaw ? g711_alaw2pcm(buf[i]) : g711_ulaw2pcm(buf[i]);

	*np = len;
	return 0;
}


static int pcma_decode(void *st, int16_t *pcm, size_t *np, size_t max,
		       const uint8_t *buf, size_t len, bool fec)
{
	return g711_decode(pcm, np, max, buf, len, true);
}


static int pcmu_decode(void *st, int16_t *pcm, size_t *np, size_t max,
		       const uint8_t *buf, size_t len, bool fec)
{
	return g711_decode(pcm, np, max, buf, len, false);
}


const struct codec_ops codec_pcma_ops = {
	g711_alloc, pcma_encode, g711_free,
	g711_alloc, pcma_decode, g711_free, NULL
};

const struct codec_ops codec_pcmu_ops = {
	g711_alloc, pcmu_encode, g711_free,
	g711_alloc, pcmu_decode, g711_free, NULL
};

/**
 * @file codec.c  The codec table and the encoder/decoder objects
 */
#include <string.h>
#include <re.h>
#include "codec.h"
#include "codec_int.h"

/* the one table: name, RTP clock, channels, static PT, PCM rate */
static const struct codec codecs[CODEC_N] = {
	{CODEC_OPUS,  "opus",   48000, 2, -1, 0,     &codec_opus_ops},
	{CODEC_AMRWB, "AMR-WB", 16000, 0, -1, 16000, &codec_amrwb_ops},
	{CODEC_AMR,   "AMR",     8000, 0, -1, 8000,  &codec_amr_ops},
	{CODEC_PCMA,  "PCMA",    8000, 0,  8, 8000,  &codec_pcma_ops},
	{CODEC_PCMU,  "PCMU",    8000, 0,  0, 8000,  &codec_pcmu_ops},
	/* RFC 3551 4.5.2: clock 8000, sampled at 16 kHz */
	{CODEC_G722,  "G722",    8000, 0,  9, 16000, &codec_g722_ops},
};

struct codec_enc {
	const struct codec *c;
	void *st;
	uint32_t srate;
	int mode;
	bool dtx;
};

struct codec_dec {
	const struct codec *c;
	void *st;
	uint32_t srate;
};


/**
 * The codec table's row for an id
 *
 * @param id  Codec
 *
 * @return The row, NULL for an unknown id
 */
const struct codec *codec_get(enum codec_id id)
{
	return (unsigned)id < CODEC_N ? &codecs[id] : NULL;
}


/**
 * Find a codec by its SDP encoding name (case-insensitive) and clock
 *
 * @param name   Encoding name of an rtpmap
 * @param clock  Its clock rate
 *
 * @return The row, NULL if the AGW cannot transcode it
 */
const struct codec *codec_find(const struct pl *name, uint32_t clock)
{
	size_t i;

	if (!name)
		return NULL;

	for (i = 0; i < CODEC_N; i++) {
		if (codecs[i].clock == clock &&
		    !pl_strcasecmp(name, codecs[i].name))
			return &codecs[i];
	}

	return NULL;
}


static uint32_t prm_srate(const struct codec *c, const struct codec_prm *p)
{
	if (c->srate)
		return c->srate;

	return p && (p->srate == 8000 || p->srate == 16000) ? p->srate : 0;
}


/**
 * Check encoder parameters without allocating (what codec_enc_alloc()
 * would refuse with EINVAL), and give the PCM rate they mean
 *
 * @param c      Codec
 * @param prm    Parameters
 * @param srate  PCM rate (out, optional)
 *
 * @return 0 or EINVAL
 */
int codec_prm_check(const struct codec *c, const struct codec_prm *prm,
		    uint32_t *srate)
{
	uint32_t r;

	if (!c || !prm)
		return EINVAL;

	r = prm_srate(c, prm);
	if (!r)
		return EINVAL;
	if (c->ops->mode_check && c->ops->mode_check(prm->mode))
		return EINVAL;

	if (srate)
		*srate = r;

	return 0;
}


static void enc_destructor(void *arg)
{
	struct codec_enc *e = arg;

	if (e->st)
		e->c->ops->enc_free(e->st);
}


/**
 * Allocate an encoder
 *
 * @param ep   Encoder (out)
 * @param c    Codec
 * @param prm  Parameters (srate for Opus: 8000 or 16000)
 *
 * @return 0 or an errno (EINVAL bad parameters, ENOMEM)
 */
int codec_enc_alloc(struct codec_enc **ep, const struct codec *c,
		    const struct codec_prm *prm)
{
	struct codec_prm p;
	struct codec_enc *e;
	int err;

	if (!ep || !c || !prm)
		return EINVAL;

	p = *prm;
	if (codec_prm_check(c, prm, &p.srate))
		return EINVAL;

	e = mem_zalloc(sizeof(*e), enc_destructor);
	if (!e)
		return ENOMEM;

	e->c = c;
	e->srate = p.srate;
	e->mode = p.mode;
	e->dtx = p.dtx;
	err = c->ops->enc_alloc(&e->st, &p);
	if (err)
		mem_deref(e);
	else
		*ep = e;

	return err;
}


/**
 * Encode 20 ms of PCM
 *
 * @param e     Encoder
 * @param buf   Output, at least CODEC_MAX_FRAME bytes
 * @param lenp  Bytes written (0: nothing to send, DTX)
 * @param pcm   srate/50 samples
 *
 * @return 0 or an errno
 */
int codec_encode(struct codec_enc *e, uint8_t *buf, size_t *lenp,
		 const int16_t *pcm)
{
	if (!e || !buf || !lenp || !pcm)
		return EINVAL;

	return e->c->ops->encode(e->st, buf, lenp, pcm, e->srate / 50,
				 e->mode, e->dtx);
}


/**
 * Change the codec mode of an AMR/AMR-WB encoder (a CMR obeyed)
 *
 * @param e     Encoder
 * @param mode  Mode (frame type of speech)
 *
 * @return 0, EINVAL for a mode the codec lacks, ENOTSUP for no modes
 */
int codec_enc_mode(struct codec_enc *e, int mode)
{
	if (!e)
		return EINVAL;
	if (!e->c->ops->mode_check)
		return ENOTSUP;
	if (e->c->ops->mode_check(mode))
		return EINVAL;

	e->mode = mode;
	return 0;
}


uint32_t codec_enc_srate(const struct codec_enc *e)
{
	return e ? e->srate : 0;
}


static void dec_destructor(void *arg)
{
	struct codec_dec *d = arg;

	if (d->st)
		d->c->ops->dec_free(d->st);
}


/**
 * Allocate a decoder
 *
 * @param dp   Decoder (out)
 * @param c    Codec
 * @param prm  Parameters (srate for Opus: 8000 or 16000)
 *
 * @return 0 or an errno
 */
int codec_dec_alloc(struct codec_dec **dp, const struct codec *c,
		    const struct codec_prm *prm)
{
	struct codec_prm p;
	struct codec_dec *d;
	int err;

	if (!dp || !c || !prm)
		return EINVAL;

	p = *prm;
	p.srate = prm_srate(c, prm);
	if (!p.srate)
		return EINVAL;

	d = mem_zalloc(sizeof(*d), dec_destructor);
	if (!d)
		return ENOMEM;

	d->c = c;
	d->srate = p.srate;
	err = c->ops->dec_alloc(&d->st, &p);
	if (err)
		mem_deref(d);
	else
		*dp = d;

	return err;
}


/**
 * Decode one frame or packet
 *
 * @param d    Decoder
 * @param pcm  Output, CODEC_MAX_SAMPLES samples
 * @param np   Samples written
 * @param buf  Frame (AMR: storage format), NULL to conceal a lost one
 * @param len  Its length
 * @param fec  Opus: decode the in-band FEC of @p buf (for the frame
 *             before it, which was lost)
 *
 * @return 0, EBADMSG for a frame the library rejects, or an errno
 */
int codec_decode(struct codec_dec *d, int16_t *pcm, size_t *np,
		 const uint8_t *buf, size_t len, bool fec)
{
	if (!d || !pcm || !np)
		return EINVAL;
	if (!buf)
		len = 0;

	return d->c->ops->decode(d->st, pcm, np, CODEC_MAX_SAMPLES, buf,
				 len, fec);
}


uint32_t codec_dec_srate(const struct codec_dec *d)
{
	return d ? d->srate : 0;
}

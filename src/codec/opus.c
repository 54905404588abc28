/**
 * @file opus.c  Opus (libopus) at 8 or 16 kHz, mono
 *
 * The browser side of a transcoded stream. The encoder runs at the PCM
 * rate of the core codec (VoIP application, in-band FEC and DTX as the
 * parameters say); the decoder likewise, so no resampling is needed.
 * A lost packet is concealed by the library (PLC), or rebuilt from the
 * in-band FEC of the packet after it (fec).
 */
#include <opus/opus.h>
#include <re.h>
#include "codec.h"
#include "codec_int.h"


static int opus_err(int e)
{
	switch (e) {

	case OPUS_ALLOC_FAIL:     return ENOMEM;
	case OPUS_BAD_ARG:        return EINVAL;
	case OPUS_BUFFER_TOO_SMALL: return ENOBUFS;
	default:                  return EBADMSG;
	}
}


static int enc_alloc(void **stp, const struct codec_prm *prm)
{
	OpusEncoder *enc;
	int e;

	enc = opus_encoder_create((opus_int32)prm->srate, 1,
				  OPUS_APPLICATION_VOIP, &e);
	if (!enc)
		return opus_err(e);

	(void)opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(prm->complexity));
	(void)opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(prm->fec ? 1 : 0));
	(void)opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(
				       prm->fec ? 10 : 0));
	(void)opus_encoder_ctl(enc, OPUS_SET_DTX(prm->dtx ? 1 : 0));
	(void)opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	if (prm->bitrate)
		(void)opus_encoder_ctl(enc,
				       OPUS_SET_BITRATE((int)prm->bitrate));

	*stp = enc;
	return 0;
}


static int encode(void *st, uint8_t *buf, size_t *lenp,
		  const int16_t *pcm, size_t n, int mode, bool dtx)
{
	opus_int32 r;

	r = opus_encode(st, pcm, (int)n, buf, CODEC_MAX_FRAME);
	if (r < 0)
		return opus_err(r);

	/* 1 or 2 bytes: DTX, nothing to send (opus_encode's manual) */
	*lenp = r <= 2 ? 0 : (size_t)r;
	return 0;
}


static void enc_free(void *st)
{
	opus_encoder_destroy(st);
}


static int dec_alloc(void **stp, const struct codec_prm *prm)
{
	OpusDecoder *dec;
	int e;

	dec = opus_decoder_create((opus_int32)prm->srate, 1, &e);
	if (!dec)
		return opus_err(e);

	*stp = dec;
	return 0;
}


static int decode(void *st, int16_t *pcm, size_t *np, size_t max,
		  const uint8_t *buf, size_t len, bool fec)
{
	opus_int32 srate = 0;
	int frame, r;

	if (!len || fec) {
		/* PLC or FEC: exactly one 20 ms frame */
		(void)opus_decoder_ctl(st, OPUS_GET_SAMPLE_RATE(&srate));
		frame = srate / 50;
	}
	else {
		frame = (int)max;
	}

	r = opus_decode(st, len ? buf : NULL, (opus_int32)len, pcm, frame,
			fec ? 1 : 0);
	if (r < 0)
		return opus_err(r);

	*np = (size_t)r;
	return 0;
}


static void dec_free(void *st)
{
	opus_decoder_destroy(st);
}


const struct codec_ops codec_opus_ops = {
	enc_alloc, encode, enc_free,
	dec_alloc, decode, dec_free, NULL
};


/**
 * Read an Opus packet's TOC and frame structure (RFC 6716 3.1-3.2)
 *
 * @param t    What it says (out)
 * @param buf  Packet
 * @param len  Its length
 *
 * @return 0, EBADMSG for a malformed packet (opus_packet_parse), or
 *         EINVAL
 */
int codec_opus_toc(struct codec_opus_toc *t, const uint8_t *buf,
		   size_t len)
{
	const unsigned char *frames[48];
	opus_int16 size[48];
	unsigned char toc;
	int n, spf, bw, payload = 0;
	int i;

	if (!t || !buf)
		return EINVAL;
	if (!len || len > 1275 * 48)
		return EBADMSG;

	n = opus_packet_parse(buf, (opus_int32)len, &toc, frames, size,
			      NULL);
	if (n <= 0)
		return EBADMSG;

	spf = opus_packet_get_samples_per_frame(buf, 48000);
	if (spf <= 0 || n * spf > 5760)  /* more than 120 ms */
		return EBADMSG;

	bw = opus_packet_get_bandwidth(buf);
	switch (bw) {

	case OPUS_BANDWIDTH_NARROWBAND:    t->bandwidth = 4;  break;
	case OPUS_BANDWIDTH_MEDIUMBAND:    t->bandwidth = 6;  break;
	case OPUS_BANDWIDTH_WIDEBAND:      t->bandwidth = 8;  break;
	case OPUS_BANDWIDTH_SUPERWIDEBAND: t->bandwidth = 12; break;
	case OPUS_BANDWIDTH_FULLBAND:      t->bandwidth = 20; break;
	default: return EBADMSG;
	}

	for (i = 0; i < n; i++)
		payload += size[i];

	t->frames = (unsigned)n;
	t->samples48 = (unsigned)(n * spf);
	t->stereo = opus_packet_get_nb_channels(buf) == 2;
	t->dtx = payload == 0;

	return 0;
}

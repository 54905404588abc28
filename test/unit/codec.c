/**
 * @file codec.c  Tests of src/codec: the table, G.711, RFC 4867 payloads
 *                (D-61), the libraries' encode/decode, loss, Opus TOCs
 */
#ifdef IMSEDGE_TRANSCODE
#include <string.h>
#include <math.h>
#include <re.h>
#include "codec/codec.h"
#include "test.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif


int test_codec_table(void)
{
	const struct codec *c;
	struct pl pl;
	int err = 0;

	pl_set_str(&pl, "amr-wb");
	c = codec_find(&pl, 16000);
	TEST_ASSERT(c && c->id == CODEC_AMRWB);
	TEST_ASSERT(!codec_find(&pl, 8000));
	pl_set_str(&pl, "OPUS");
	c = codec_find(&pl, 48000);
	TEST_ASSERT(c && c->id == CODEC_OPUS && c->channels == 2);
	pl_set_str(&pl, "PCMA");
	TEST_EQ(codec_find(&pl, 8000)->pt, 8);
	pl_set_str(&pl, "PCMU");
	TEST_EQ(codec_find(&pl, 8000)->pt, 0);
	pl_set_str(&pl, "G729");
	TEST_ASSERT(!codec_find(&pl, 8000));
	TEST_ASSERT(!codec_get(CODEC_N));
	TEST_EQ(codec_get(CODEC_AMR)->srate, 8000);

 out:
	return err;
}


int test_codec_g711(void)
{
	int err = 0;
	int i;

	/* G.711 / G.191 reference points */
	TEST_EQ(g711_pcm2alaw(0), 0xd5);
	TEST_EQ(g711_alaw2pcm(0xd5), 8);
	TEST_EQ(g711_alaw2pcm(0x55), -8);
	TEST_EQ(g711_alaw2pcm(0xaa), 32256);
	TEST_EQ(g711_alaw2pcm(0x2a), -32256);
	TEST_EQ(g711_pcm2ulaw(0), 0xff);
	TEST_EQ(g711_ulaw2pcm(0xff), 0);
	TEST_EQ(g711_ulaw2pcm(0x00), -32124);
	TEST_EQ(g711_ulaw2pcm(0x80), 32124);
	TEST_EQ(g711_pcm2alaw(32767), 0xaa);
	TEST_EQ(g711_pcm2alaw(-32768), 0x2a);
	TEST_EQ(g711_pcm2ulaw(32767), 0x80);
	TEST_EQ(g711_pcm2ulaw(-32768), 0x00);

	/* every code decodes to a value that encodes back to it
	   (except mu-law's negative zero 0x7f, which is 0xff) */
	for (i = 0; i < 256; i++) {
		TEST_EQ(g711_pcm2alaw(g711_alaw2pcm((uint8_t)i)), i);
		if (i != 0x7f)
			TEST_EQ(g711_pcm2ulaw(g711_ulaw2pcm((uint8_t)i)), i);
	}

 out:
	return err;
}


/* RFC 4867 payload sizes and bits, worked out by hand (D-61) */
int test_amr_rtp_vectors(void)
{
	struct amr_rtp p, q;
	uint8_t buf[256];
	size_t len, i;
	int err = 0;

	/* AMR-WB 12.65 (FT 2, 253 bits), speech all ones, CMR none */
	memset(&p, 0, sizeof(p));
	p.cmr = AMR_CMR_NONE;
	p.n = 1;
	p.fv[0].ft = 2;
	p.fv[0].q = true;
	memset(p.fv[0].b + 1, 0xff, 31);
	p.fv[0].b[32] = 0xf8;  /* 253 = 31 * 8 + 5 */

	/* bandwidth-efficient: CMR 1111, F 0, FT 0010, Q 1, speech, pad */
	TEST_ERR(amr_rtp_encode(buf, sizeof(buf), &len, &p, true, false));
	TEST_EQ(len, 33);               /* (4 + 6 + 253 + 7) / 8 */
	TEST_EQ(buf[0], 0xf1);
	TEST_EQ(buf[1], 0x7f);
	for (i = 2; i < 32; i++)
		TEST_EQ(buf[i], 0xff);
	TEST_EQ(buf[32], 0xfe);         /* 263 bits: one pad bit */

	TEST_ERR(amr_rtp_decode(&q, true, false, buf, len));
	TEST_EQ(q.cmr, 15);
	TEST_EQ(q.n, 1);
	TEST_EQ(q.fv[0].ft, 2);
	TEST_ASSERT(q.fv[0].q);
	TEST_EQ(q.fv[0].b[0], 2 << 3 | 0x04);
	TEST_ASSERT(!memcmp(q.fv[0].b + 1, p.fv[0].b + 1, 32));

	/* octet-aligned: CMR byte, ToC byte 0 0010 1 00, 32 bytes */
	TEST_ERR(amr_rtp_encode(buf, sizeof(buf), &len, &p, true, true));
	TEST_EQ(len, 34);
	TEST_EQ(buf[0], 0xf0);
	TEST_EQ(buf[1], 0x14);
	TEST_EQ(buf[2], 0xff);
	TEST_EQ(buf[33], 0xf8);
	TEST_ERR(amr_rtp_decode(&q, true, true, buf, len));
	TEST_ASSERT(!memcmp(q.fv[0].b + 1, p.fv[0].b + 1, 32));

	/* AMR 12.2 (244 bits): 32 bytes BE, 33 OA; CMR 7 */
	memset(&p, 0, sizeof(p));
	p.cmr = 7;
	p.n = 1;
	p.fv[0].ft = 7;
	p.fv[0].q = true;
	TEST_ERR(amr_rtp_encode(buf, sizeof(buf), &len, &p, false, false));
	TEST_EQ(len, 32);
	TEST_EQ(buf[0], 0x73);          /* 0111 0 011 */
	TEST_EQ(buf[1], 0xc0);          /* 1 1 then speech */
	TEST_ERR(amr_rtp_encode(buf, sizeof(buf), &len, &p, false, true));
	TEST_EQ(len, 33);
	TEST_EQ(buf[0], 0x70);
	TEST_EQ(buf[1], 0x3c);

	/* three frames: SID, NO_DATA, 4.75 (BE): F bits 1, 1, 0 */
	memset(&p, 0, sizeof(p));
	p.cmr = 0;
	p.n = 3;
	p.fv[0].ft = AMR_FT_SID_NB;
	p.fv[0].q = true;
	p.fv[1].ft = AMR_FT_NO_DATA;
	p.fv[1].q = true;
	p.fv[2].ft = 0;
	p.fv[2].q = false;
	p.fv[2].b[1] = 0xa5;
	TEST_ERR(amr_rtp_encode(buf, sizeof(buf), &len, &p, false, false));
	TEST_EQ(len, (4 + 18 + 39 + 95 + 7) / 8);
	/* 0000 1 1000 1 1 1111 1 0 0000 0 .. */
	TEST_EQ(buf[0], 0x0c);
	TEST_EQ(buf[1], 0x7f);
	TEST_EQ(buf[2], 0x00);
	TEST_ERR(amr_rtp_decode(&q, false, false, buf, len));
	TEST_EQ(q.cmr, 0);
	TEST_EQ(q.n, 3);
	TEST_EQ(q.fv[0].ft, 8);
	TEST_EQ(q.fv[1].ft, 15);
	TEST_EQ(q.fv[2].ft, 0);
	TEST_ASSERT(!q.fv[2].q);
	TEST_EQ(q.fv[2].b[1], 0xa5);
	TEST_EQ(q.fv[2].b[0], 0);       /* FT 0, Q 0 */
	TEST_ERR(amr_rtp_encode(buf, sizeof(buf), &len, &p, false, true));
	TEST_EQ(len, 1 + 3 + 5 + 0 + 12);
	TEST_EQ(buf[1], 0xc4);          /* 1 1000 1 00 */
	TEST_EQ(buf[2], 0xfc);          /* 1 1111 1 00 */
	TEST_EQ(buf[3], 0x00);          /* 0 0000 0 00 */
	TEST_ERR(amr_rtp_decode(&q, false, true, buf, len));
	TEST_EQ(q.n, 3);
	TEST_EQ(q.fv[2].b[1], 0xa5);

	/* too small an output */
	TEST_EQ(amr_rtp_encode(buf, 20, &len, &p, false, true), ENOBUFS);

 out:
	return err;
}


/* malformed payloads are refused whole (RFC 4867 4.3.2, 4.4) */
int test_amr_rtp_bad(void)
{
	static const struct {
		bool wb, oa;
		uint8_t b[8];
		size_t len;
		int err;
	} v[] = {
		/* FT 9 in AMR (reserved on RTP) */
		{false, true,  {0xf0, 0x4c}, 2, EBADMSG},
		/* FT 12 in AMR-WB */
		{true,  true,  {0xf0, 0x64}, 2, EBADMSG},
		/* CMR 9 in AMR-WB, CMR 8 in AMR */
		{true,  true,  {0x90, 0x7c}, 2, EBADMSG},
		{false, true,  {0x80, 0x7c}, 2, EBADMSG},
		/* ToC says more frames follow, payload ends */
		{false, true,  {0xf0, 0xfc}, 2, EBADMSG},
		/* speech frame (4.75, 12 bytes OA) missing */
		{false, true,  {0xf0, 0x04}, 2, EBADMSG},
		/* NO_DATA with a trailing byte */
		{false, true,  {0xf0, 0x7c, 0x00}, 3, EBADMSG},
		/* BE: one byte holds no ToC */
		{false, false, {0xf0}, 1, EBADMSG},
		/* BE NO_DATA: 4 + 6 bits = 2 bytes; 3 is wrong */
		{false, false, {0xf7, 0xc0, 0x00}, 3, EBADMSG},
		{false, false, {0xf7, 0xc0}, 2, 0},
		{true,  false, {0xf7, 0xc0}, 2, 0},
	};
	uint8_t many[AMR_RTP_MAX_FRAMES + 3];
	struct amr_rtp p;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		int e = amr_rtp_decode(&p, v[i].wb, v[i].oa, v[i].b,
				       v[i].len);
		if (e != v[i].err) {
			test_fail_eq(__FILE__, __LINE__, "vector", (long)i,
				     v[i].err);
			err = EINVAL;
			goto out;
		}
	}

	TEST_EQ(amr_rtp_decode(&p, false, true, (uint8_t *)"", 0), EBADMSG);

	/* more NO_DATA frames than AMR_RTP_MAX_FRAMES */
	many[0] = 0xf0;
	memset(many + 1, 0xfc, sizeof(many) - 2);
	many[sizeof(many) - 1] = 0x7c;
	TEST_EQ(amr_rtp_decode(&p, false, true, many, sizeof(many)), E2BIG);
	TEST_ERR(amr_rtp_decode(&p, false, true, many + 2,
				sizeof(many) - 2));
	TEST_EQ(p.cmr, 15);
	TEST_EQ(p.n, AMR_RTP_MAX_FRAMES);

	/* writer refuses what it must not send */
	memset(&p, 0, sizeof(p));
	p.n = 1;
	p.cmr = 15;
	p.fv[0].ft = 9;
	TEST_EQ(amr_rtp_encode(many, sizeof(many), &i, &p, false, true),
		EINVAL);
	TEST_EQ(amr_rtp_add(&p, false, (uint8_t *)"\x3c", 1), EINVAL);
	err = 0;

 out:
	return err;
}


void test_tone(int16_t *pcm, size_t n, uint32_t srate, double f,
	       size_t *phase)
{
	size_t i;

	for (i = 0; i < n; i++, (*phase)++)
		pcm[i] = (int16_t)(8000 * sin(2 * M_PI * f * (double)*phase /
					      srate));
}


/* SNR (dB) of the tone at f in pcm: the fitted sinusoid against the rest */
double test_tone_snr(const int16_t *pcm, size_t n, uint32_t srate,
		     double f)
{
	double re = 0, im = 0, total = 0, a2, rest;
	size_t i;

	for (i = 0; i < n; i++) {
		double w = 2 * M_PI * f * (double)i / srate;

		re += pcm[i] * cos(w);
		im += pcm[i] * sin(w);
		total += (double)pcm[i] * pcm[i];
	}

	a2 = 4 * (re * re + im * im) / ((double)n * n);  /* A^2 */
	rest = total / (double)n - a2 / 2;
	if (rest <= 1e-9)
		return 99;

	return 10 * log10((a2 / 2) / rest);
}


/* encode 1 s of a tone through codec c (through RFC 4867 payloads for
   AMR, both formats), decode, and measure the tone */
static int round_trip(enum codec_id id, uint32_t srate, double f,
		      double min_snr, bool oa)
{
	const struct codec *c = codec_get(id);
	struct codec_prm prm = {srate, 5, 0, false, false, 0};
	struct codec_enc *enc = NULL;
	struct codec_dec *dec = NULL;
	bool amr = id == CODEC_AMR || id == CODEC_AMRWB;
	bool wb = id == CODEC_AMRWB;
	int16_t in[320], *out = NULL;
	uint8_t frame[CODEC_MAX_FRAME], pl[256];
	size_t phase = 0, got = 0, total = srate, k;
	double snr;
	int err;

	prm.mode = wb ? 8 : 7;
	out = mem_zalloc(total * 2 * sizeof(*out), NULL);
	if (!out)
		return ENOMEM;

	TEST_ERR(codec_enc_alloc(&enc, c, &prm));
	TEST_ERR(codec_dec_alloc(&dec, c, &prm));
	TEST_EQ(codec_enc_srate(enc), srate);

	for (k = 0; k < 50; k++) {
		size_t len, n;

		test_tone(in, srate / 50, srate, f, &phase);
		TEST_ERR(codec_encode(enc, frame, &len, in));
		TEST_ASSERT(len > 0);
		if (amr) {
			struct amr_rtp p;
			size_t plen;

			memset(&p, 0, sizeof(p));
			p.cmr = AMR_CMR_NONE;
			TEST_ERR(amr_rtp_add(&p, wb, frame, len));
			TEST_ERR(amr_rtp_encode(pl, sizeof(pl), &plen, &p,
						wb, oa));
			TEST_ERR(amr_rtp_decode(&p, wb, oa, pl, plen));
			TEST_EQ(p.n, 1);
			TEST_ASSERT(!memcmp(p.fv[0].b, frame, len));
			TEST_ERR(codec_decode(dec, out + got, &n, p.fv[0].b,
					      len, false));
		}
		else {
			TEST_ERR(codec_decode(dec, out + got, &n, frame, len,
					      false));
		}
		TEST_EQ(n, srate / 50);
		got += n;
	}

	/* skip the first 200 ms (codec delay and start-up) */
	snr = test_tone_snr(out + srate / 5, got - srate / 5, srate, f);
	if (snr < min_snr) {
		(void)re_fprintf(stderr, "  codec %s at %u Hz: %.1f dB SNR,"
				 " want %.1f\n", c->name, srate, snr,
				 min_snr);
		err = EINVAL;
	}

 out:
	mem_deref(enc);
	mem_deref(dec);
	mem_deref(out);
	return err;
}


/* a tone survives each codec at the rate it runs at in a transcoded
   call: SNR thresholds are what the codecs reach with margin */
int test_codec_tone(void)
{
	int err = 0;

	TEST_ERR(round_trip(CODEC_PCMA, 8000, 1000, 30, false));
	TEST_ERR(round_trip(CODEC_PCMU, 8000, 1000, 30, false));
	TEST_ERR(round_trip(CODEC_AMR, 8000, 1000, 15, false));
	TEST_ERR(round_trip(CODEC_AMR, 8000, 700, 15, true));
	TEST_ERR(round_trip(CODEC_AMRWB, 16000, 1000, 15, false));
	TEST_ERR(round_trip(CODEC_AMRWB, 16000, 1500, 15, true));
	TEST_ERR(round_trip(CODEC_OPUS, 16000, 1000, 15, false));
	TEST_ERR(round_trip(CODEC_OPUS, 8000, 600, 15, false));

	/* a round trip can fail: the wrong frequency has no SNR */
	TEST_EQ(round_trip(CODEC_PCMA, 8000, 1000, 200, false), EINVAL);

 out:
	return err;
}


/* lost frames are concealed (20 ms each), DTX and modes */
int test_codec_loss(void)
{
	struct codec_prm prm = {16000, 5, 0, true, true, 2};
	struct codec_enc *enc = NULL;
	struct codec_dec *dec = NULL;
	int16_t pcm[CODEC_MAX_SAMPLES], in[320];
	uint8_t frame[CODEC_MAX_FRAME];
	size_t n, len, k, sent = 0;
	enum codec_id id;
	int err = 0;

	for (id = 0; id < CODEC_N; id++) {
		const struct codec *c = codec_get(id);

		prm.srate = c->srate ? c->srate : 16000;
		prm.mode = 2;
		TEST_ERR(codec_dec_alloc(&dec, c, &prm));
		TEST_ERR(codec_decode(dec, pcm, &n, NULL, 0, false));
		TEST_EQ(n, prm.srate / 50);
		/* a frame the decoder cannot read is a lost one */
		TEST_ERR(codec_decode(dec, pcm, &n, (uint8_t *)"\x14", 1,
				      false));
		dec = mem_deref(dec);
	}

	/* DTX: silence gives SID/no frames after a while (AMR-WB) */
	memset(in, 0, sizeof(in));
	TEST_ERR(codec_enc_alloc(&enc, codec_get(CODEC_AMRWB), &prm));
	TEST_EQ(codec_enc_mode(enc, 9), EINVAL);
	TEST_ERR(codec_enc_mode(enc, 0));
	for (k = 0; k < 50; k++) {
		TEST_ERR(codec_encode(enc, frame, &len, in));
		sent += len > 0;
	}
	TEST_ASSERT(sent < 20);
	enc = mem_deref(enc);

	/* Opus: no modes; silence with DTX sends (almost) nothing */
	TEST_ERR(codec_enc_alloc(&enc, codec_get(CODEC_OPUS), &prm));
	TEST_EQ(codec_enc_mode(enc, 1), ENOTSUP);
	for (k = 0, sent = 0; k < 50; k++) {
		TEST_ERR(codec_encode(enc, frame, &len, in));
		sent += len > 0;
	}
	TEST_ASSERT(sent < 25);

	/* Opus FEC of a packet decodes the frame before it */
	prm.srate = 16000;
	TEST_ERR(codec_dec_alloc(&dec, codec_get(CODEC_OPUS), &prm));
	TEST_ERR(codec_decode(dec, pcm, &n, frame, 0, true));
	TEST_EQ(n, 320);

	/* bad parameters */
	prm.srate = 48000;
	TEST_EQ(codec_enc_alloc(&enc, codec_get(CODEC_OPUS), &prm), EINVAL);

 out:
	mem_deref(enc);
	mem_deref(dec);
	return err;
}


/* G.722 (D-35, D-61): 16 kHz PCM at 64 kbit/s on an 8000 RTP clock
   (RFC 3551 4.5.2); 20 ms = 320 samples = 160 bytes; tones in both
   bands survive a round trip (the upper one, 5 kHz, only at 16 kHz) */
int test_codec_g722(void)
{
	const struct codec *c;
	struct codec_prm prm = {8000, 0, 0, false, false, 0};
	struct codec_enc *enc = NULL;
	struct codec_dec *dec = NULL;
	static uint8_t frame[961];
	int16_t in[320], *pcm = NULL;
	size_t len, n, phase = 0;
	struct pl pl;
	int err = 0;

	pl_set_str(&pl, "g722");
	c = codec_find(&pl, 8000);
	TEST_ASSERT(c && c->id == CODEC_G722);
	TEST_EQ(c->pt, 9);
	TEST_EQ(c->clock, 8000);        /* the RTP clock ... */
	TEST_EQ(c->srate, 16000);       /* ... is not the sampling rate */
	TEST_ASSERT(!codec_find(&pl, 16000));

	/* the PCM rate is the codec's, whatever the parameters say */
	TEST_ERR(codec_enc_alloc(&enc, c, &prm));
	TEST_ERR(codec_dec_alloc(&dec, c, &prm));
	TEST_EQ(codec_enc_srate(enc), 16000);
	TEST_EQ(codec_dec_srate(dec), 16000);

	/* 20 ms: 320 samples in, 160 bytes out, 320 samples back */
	test_tone(in, 320, 16000, 1000, &phase);
	TEST_ERR(codec_encode(enc, frame, &len, in));
	TEST_EQ(len, 160);
	TEST_ERR(codec_decode(dec, in, &n, frame, len, false));
	TEST_EQ(n, 320);

	/* up to CODEC_MAX_SAMPLES (120 ms, 960 bytes) per payload, not one
	   byte more; every byte string is G.722 */
	pcm = mem_zalloc(CODEC_MAX_SAMPLES * sizeof(*pcm), NULL);
	TEST_ASSERT(pcm);
	memset(frame, 0x5a, sizeof(frame));
	TEST_ERR(codec_decode(dec, pcm, &n, frame, 960, false));
	TEST_EQ(n, CODEC_MAX_SAMPLES);
	TEST_EQ(codec_decode(dec, pcm, &n, frame, 961, false), EBADMSG);
	TEST_ERR(codec_decode(dec, pcm, &n, frame, 1, false));
	TEST_EQ(n, 2);
	/* a lost frame: 20 ms of silence */
	TEST_ERR(codec_decode(dec, pcm, &n, NULL, 0, false));
	TEST_EQ(n, 320);
	TEST_EQ(pcm[0], 0);

	/* tones through encode/decode, both sub-bands */
	TEST_ERR(round_trip(CODEC_G722, 16000, 1000, 30, false));
	TEST_ERR(round_trip(CODEC_G722, 16000, 5000, 20, false));
	/* and the check can fail */
	TEST_EQ(round_trip(CODEC_G722, 16000, 1000, 200, false), EINVAL);

 out:
	mem_deref(enc);
	mem_deref(dec);
	mem_deref(pcm);
	return err;
}


int test_codec_opus_toc(void)
{
	struct codec_prm prm = {16000, 5, 0, false, false, 0};
	struct codec_opus_toc t;
	struct codec_enc *enc = NULL;
	int16_t in[320];
	uint8_t pkt[CODEC_MAX_FRAME];
	size_t len, phase = 0;
	int err = 0;

	/* a packet of our own encoder: one 20 ms wideband frame */
	test_tone(in, 320, 16000, 440, &phase);
	TEST_ERR(codec_enc_alloc(&enc, codec_get(CODEC_OPUS), &prm));
	TEST_ERR(codec_encode(enc, pkt, &len, in));
	TEST_ERR(codec_opus_toc(&t, pkt, len));
	TEST_EQ(t.frames, 1);
	TEST_EQ(t.samples48, 960);
	TEST_ASSERT(t.bandwidth <= 8);
	TEST_ASSERT(!t.stereo && !t.dtx);

	/* code 0, no frame data: a DTX packet (config 31: CELT FB 20 ms) */
	TEST_ERR(codec_opus_toc(&t, (uint8_t *)"\xf8", 1));
	TEST_ASSERT(t.dtx);
	TEST_EQ(t.bandwidth, 20);
	/* code 1 (two equal frames) with an odd payload */
	TEST_EQ(codec_opus_toc(&t, (uint8_t *)"\x01\x00", 2), EBADMSG);
	/* code 3 with 0 frames; code 3 with 7 x 20 ms = 140 ms (config 1:
	   SILK NB 20 ms) */
	TEST_EQ(codec_opus_toc(&t, (uint8_t *)"\x03\x00", 2), EBADMSG);
	TEST_EQ(codec_opus_toc(&t, (uint8_t *)"\x0b\x07", 2), EBADMSG);
	/* code 3 with 6 x 20 ms, CBR, empty frames: 120 ms */
	TEST_ERR(codec_opus_toc(&t, (uint8_t *)"\x0b\x06", 2));
	TEST_EQ(t.frames, 6);
	TEST_EQ(t.samples48, 5760);
	TEST_EQ(codec_opus_toc(&t, pkt, 0), EBADMSG);

 out:
	mem_deref(enc);
	return err;
}
#endif

/**
 * @file xcodework.c  The codec work of transcoded calls, without sockets:
 *                    for instruction counts (tools/xcode-estimate) and
 *                    the codec state per call
 *
 *   xcodework [--pair opus-amrwb|opus-pcma] [--seconds S] [--calls K]
 *             [--complexity C] [--mem]
 *
 * Each call, every 20 ms of call time (50 times a call-second, as fast
 * as it runs): up, an Opus packet from the browser decoded at the core
 * codec's rate and encoded as AMR-WB (23.85 kbit/s, an RFC 4867
 * bandwidth-efficient payload made) or PCMA; down, an AMR-WB payload
 * (parsed) or PCMA frame decoded and encoded as Opus (complexity C, FEC
 * on, as src/agw/xcode.c sets its encoder). That is the codec work of one
 * transcoded stream of the AGW; RTP, SRTP and sockets are the relay's
 * cost, measured by mediabench. The input is 50 frames of a 1 kHz tone
 * (browser: libopus at 16 kHz, complexity 9, 32 kbit/s, FEC; what
 * mediabench sends) and of a 700 Hz tone (core), made before the run and
 * played in a loop (10 frames).
 *
 * The run itself prints only what it did: an instruction counter around
 * it (callgrind on the host, qemu-user's exec log for the cross builds:
 * tools/xcode-estimate) gives the cost of xw_run() alone: callgrind
 * --toggle-collect=xw_run, or the instructions between the calls of the
 * markers xw_begin() and xw_end() (tools/xcodework/qcount.c), so the
 * set-up (the inputs, the codec states) is not in it.
 *
 * --mem: the heap each codec state takes (glibc's mallinfo2 before and
 * after each allocation, so malloc's own overhead is in), beside the
 * libraries' own figures, and per call for K calls.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <opus/opus.h>
#include <re.h>
#include "codec/codec.h"

/* 10 frames of 20 ms: whole periods of 1 kHz and 700 Hz, so the tones
   loop without a seam */
enum { LOOP = 10, CALLS_MAX = 1000 };

enum pair { PAIR_AMRWB, PAIR_PCMA };

struct frame {
	uint16_t n;
	uint8_t b[CODEC_MAX_FRAME];
};

struct call {
	struct codec_dec *up_dec;    /* Opus from the browser              */
	struct codec_enc *up_enc;    /* core codec toward the core         */
	struct codec_dec *down_dec;  /* core codec from the core           */
	struct codec_enc *down_enc;  /* Opus toward the browser            */
};

static struct frame brv[LOOP], corev[LOOP];
static int16_t pcm[CODEC_MAX_SAMPLES];
static uint8_t out[CODEC_MAX_FRAME];
static volatile size_t sink;   /* keeps the output alive */


static int16_t tone(double hz, size_t i, uint32_t srate)
{
	return (int16_t)(8000 * sin(2 * M_PI * hz * (double)i / srate));
}


/* an RFC 4867 bandwidth-efficient payload of one storage-format frame */
static int amr_payload(struct frame *f, const uint8_t *sf, size_t len)
{
	struct amr_rtp p;
	size_t n;
	int err;

	p.n = 0;
	p.cmr = AMR_CMR_NONE;
	err = amr_rtp_add(&p, true, sf, len);
	if (!err)
		err = amr_rtp_encode(f->b, sizeof(f->b), &n, &p, true, false);
	if (!err)
		f->n = (uint16_t)n;

	return err;
}


static int inputs(enum pair pair)
{
	struct codec_prm op = {16000, 9, 32000, false, true, 0};
	struct codec_prm ap = {16000, 0, 0, false, false, 8};
	struct codec_enc *opus = NULL, *amr = NULL;
	int16_t p[320];
	size_t i, k, len;
	int err;

	err = codec_enc_alloc(&opus, codec_get(CODEC_OPUS), &op);
	if (!err)
		err = codec_enc_alloc(&amr, codec_get(CODEC_AMRWB), &ap);

	for (i = 0; i < LOOP && !err; i++) {
		for (k = 0; k < 320; k++)
			p[k] = tone(1000, i * 320 + k, 16000);
		err = codec_encode(opus, brv[i].b, &len, p);
		brv[i].n = (uint16_t)len;
		if (err)
			break;

		for (k = 0; k < 320; k++)
			p[k] = tone(700, i * 320 + k, 16000);
		if (pair == PAIR_PCMA) {
			for (k = 0; k < 160; k++)
				corev[i].b[k] = g711_pcm2alaw(p[2 * k]);
			corev[i].n = 160;
			continue;
		}
		err = codec_encode(amr, out, &len, p);
		if (!err)
			err = amr_payload(&corev[i], out, len);
	}

	mem_deref(opus);
	mem_deref(amr);
	return err;
}


static size_t heap(void)
{
#ifdef __GLIBC__
	return mallinfo2().uordblks;
#else
	return 0;
#endif
}


static int call_alloc(struct call *c, enum pair pair, int complexity,
		      size_t *szv)
{
	const struct codec *core = codec_get(pair == PAIR_AMRWB ?
					     CODEC_AMRWB : CODEC_PCMA);
	const struct codec *opus = codec_get(CODEC_OPUS);
	struct codec_prm op, cp;
	size_t h;
	int err;

	memset(&cp, 0, sizeof(cp));
	cp.srate = core->srate;
	cp.mode = pair == PAIR_AMRWB ? 8 : 0;
	memset(&op, 0, sizeof(op));
	op.srate = core->srate;
	op.complexity = complexity;
	op.fec = true;

	h = heap();
	err = codec_dec_alloc(&c->up_dec, opus, &op);
	szv[0] += heap() - h;
	h = heap();
	if (!err)
		err = codec_enc_alloc(&c->up_enc, core, &cp);
	szv[1] += heap() - h;
	h = heap();
	if (!err)
		err = codec_dec_alloc(&c->down_dec, core, &cp);
	szv[2] += heap() - h;
	h = heap();
	if (!err)
		err = codec_enc_alloc(&c->down_enc, opus, &op);
	szv[3] += heap() - h;

	return err;
}


static void call_free(struct call *c)
{
	c->up_dec = mem_deref(c->up_dec);
	c->up_enc = mem_deref(c->up_enc);
	c->down_dec = mem_deref(c->down_dec);
	c->down_enc = mem_deref(c->down_enc);
}


/* 20 ms of one call, both directions */
static int call_frame(struct call *c, enum pair pair, size_t i)
{
	const struct frame *b = &brv[i % LOOP], *k = &corev[i % LOOP];
	size_t n, len;
	int err;

	/* up: Opus -> core */
	err = codec_decode(c->up_dec, pcm, &n, b->b, b->n, false);
	if (err)
		return err;
	err = codec_encode(c->up_enc, out, &len, pcm);
	if (err)
		return err;
	if (pair == PAIR_AMRWB) {
		struct frame f;

		err = amr_payload(&f, out, len);
		if (err)
			return err;
		sink += f.n;
	}
	sink += len;

	/* down: core -> Opus */
	if (pair == PAIR_AMRWB) {
		struct amr_rtp p;

		err = amr_rtp_decode(&p, true, false, k->b, k->n);
		if (err || !p.n)
			return err ? err : EBADMSG;
		err = codec_decode(c->down_dec, pcm, &n, p.fv[0].b,
				   1 + ((size_t)amr_frame_bits(true,
							       p.fv[0].ft) + 7) / 8,
				   false);
	}
	else {
		err = codec_decode(c->down_dec, pcm, &n, k->b, k->n, false);
	}
	if (err)
		return err;
	err = codec_encode(c->down_enc, out, &len, pcm);
	sink += len;

	return err;
}


/* the markers around the run (qcount) and the run (callgrind) */
__attribute__((noinline)) void xw_begin(void);
__attribute__((noinline)) void xw_end(void);
__attribute__((noinline)) int xw_run(struct call *cv, unsigned calls,
				     enum pair pair, unsigned frames);

void xw_begin(void)
{
	__asm__ volatile("" ::: "memory");
}


void xw_end(void)
{
	__asm__ volatile("" ::: "memory");
}


int xw_run(struct call *cv, unsigned calls, enum pair pair,
	   unsigned frames)
{
	unsigned i, k;
	int err = 0;

	for (i = 0; i < frames && !err; i++) {
		for (k = 0; k < calls && !err; k++)
			err = call_frame(&cv[k], pair, i);
	}
	if (err)
		(void)fprintf(stderr, "xcodework: frame %u: %s\n", i,
			      strerror(err));

	return err;
}


static void usage(void)
{
	(void)fprintf(stderr, "usage: xcodework [--pair opus-amrwb|opus-pcma]"
		      " [--seconds S] [--calls K] [--complexity C]"
		      " [--mem]\n");
}


int main(int argc, char *argv[])
{
	static struct call cv[CALLS_MAX];
	const char *names[4] = {"Opus decoder", "core encoder",
				"core decoder", "Opus encoder"};
	enum pair pair = PAIR_AMRWB;
	unsigned seconds = 1, calls = 1, i, k;
	int complexity = IMSEDGE_OPUS_COMPLEXITY;
	bool mem = false;
	size_t szv[4] = {0, 0, 0, 0}, h0, total = 0;
	int err = 0;

	for (i = 1; i < (unsigned)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (unsigned)argc ?
			argv[i + 1] : NULL;

		if (!strcmp(a, "--mem")) {
			mem = true;
			continue;
		}
		if (!v) {
			usage();
			return 2;
		}
		if (!strcmp(a, "--pair") && !strcmp(v, "opus-amrwb"))
			pair = PAIR_AMRWB;
		else if (!strcmp(a, "--pair") && !strcmp(v, "opus-pcma"))
			pair = PAIR_PCMA;
		else if (!strcmp(a, "--seconds"))
			seconds = (unsigned)atoi(v);
		else if (!strcmp(a, "--calls"))
			calls = (unsigned)atoi(v);
		else if (!strcmp(a, "--complexity"))
			complexity = atoi(v);
		else {
			usage();
			return 2;
		}
		++i;
	}
	if (!calls || calls > CALLS_MAX || complexity < 0 ||
	    complexity > 10) {
		usage();
		return 2;
	}

	err = inputs(pair);
	if (err) {
		(void)fprintf(stderr, "xcodework: inputs: %s\n", strerror(err));
		return 1;
	}

	h0 = heap();
	for (k = 0; k < calls && !err; k++)
		err = call_alloc(&cv[k], pair, complexity, szv);
	total = heap() - h0;
	if (err) {
		(void)fprintf(stderr, "xcodework: codec alloc: %s\n", strerror(err));
		return 1;
	}

	xw_begin();
	err = xw_run(cv, calls, pair, seconds * 50);
	xw_end();
	if (err)
		return 1;

	(void)printf("xcodework: %s, %u call(s), %u s of call time, "
		     "opus_complexity %d: %u frames each way\n",
		     pair == PAIR_AMRWB ? "Opus <-> AMR-WB" : "Opus <-> PCMA",
		     calls, seconds, complexity, seconds * 50 * calls);

	if (mem) {
		(void)printf("heap per call (glibc mallinfo2, malloc overhead "
			     "in; 0 without glibc):\n");
		for (k = 0; k < 4; k++)
			(void)printf("  %-13s %7zu bytes\n", names[k],
				     szv[k] / calls);
		(void)printf("  %-13s %7zu bytes\n", "all four",
			     total / calls);
		(void)printf("libopus' own sizes: opus_encoder_get_size(1) "
			     "%d, opus_decoder_get_size(1) %d\n",
			     opus_encoder_get_size(1),
			     opus_decoder_get_size(1));
	}

	for (k = 0; k < calls; k++)
		call_free(&cv[k]);

	return 0;
}

/**
 * @file amrtone.c  Test tool: a sine tone encoded as AMR-WB or AMR, in the
 *                  RFC 4867 section 5 storage format, on stdout
 *
 * What the IMS-side UE of test/browser/xcode.test.mjs sends. It is built
 * on Debian's libvo-amrwbenc and libopencore-amrnb packages, not on the
 * product's transcoder (src/codec/), so that the test does not check the
 * product's encoder against itself.
 *
 *   amrtone wb|nb HZ MS [MODE]   (MODE: AMR-WB 0..8, default 8;
 *                                 AMR 0..7, default 7)
 *
 * Each 20 ms frame is a storage-format frame: one header byte
 * (FT << 3 | Q << 2) and the speech bits, zero-padded to an octet.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vo-amrwbenc/enc_if.h>
#include <opencore-amrnb/interf_enc.h>

#define AMP 8000.0


int main(int argc, char *argv[])
{
	unsigned char out[64];
	short pcm[320];
	void *st;
	double hz, phase = 0.0;
	long ms, f, frames;
	int wb, mode, rate, n, i, len;

	if (argc < 4 || (strcmp(argv[1], "wb") && strcmp(argv[1], "nb"))) {
		fprintf(stderr, "usage: amrtone wb|nb HZ MS [MODE]\n");
		return 2;
	}

	wb    = !strcmp(argv[1], "wb");
	hz    = atof(argv[2]);
	ms    = atol(argv[3]);
	mode  = argc > 4 ? atoi(argv[4]) : (wb ? 8 : 7);
	rate  = wb ? 16000 : 8000;
	n     = rate / 50;
	if (hz <= 0 || hz >= rate / 2 || ms <= 0 || mode < 0 ||
	    mode > (wb ? 8 : 7)) {
		fprintf(stderr, "amrtone: bad HZ, MS or MODE\n");
		return 2;
	}

	st = wb ? E_IF_init() : Encoder_Interface_init(0);
	if (!st) {
		fprintf(stderr, "amrtone: encoder init failed\n");
		return 1;
	}

	fputs(wb ? "#!AMR-WB\n" : "#!AMR\n", stdout);
	frames = ms / 20;
	for (f = 0; f < frames; f++) {
		for (i = 0; i < n; i++) {
			pcm[i] = (short)lrint(AMP * sin(phase));
			phase += 2.0 * M_PI * hz / rate;
		}
		phase = fmod(phase, 2.0 * M_PI);

		if (wb)
			len = E_IF_encode(st, mode, pcm, out, 0);
		else
			len = Encoder_Interface_Encode(st, (enum Mode)mode,
						       pcm, out, 0);
		if (len <= 0 || (size_t)len > sizeof(out)) {
			fprintf(stderr, "amrtone: encode failed (%d)\n", len);
			return 1;
		}
		fwrite(out, 1, (size_t)len, stdout);
	}

	if (wb)
		E_IF_exit(st);
	else
		Encoder_Interface_exit(st);

	return fflush(stdout) ? 1 : 0;
}

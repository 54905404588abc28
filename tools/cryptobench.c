/**
 * @file cryptobench.c  ns per SRTP protect of a 172-byte RTP packet
 *                      (G.711 20 ms: 12 header + 160 payload), per
 *                      available crypto provider
 *
 *   cryptobench [-n PACKETS]
 *
 * "libsrtp2-mbedtls" is libsrtp2's own mbedtls backend (HMAC through
 * mbedtls_md_hmac_*, re-hashing the key pads per packet); "software"
 * is imsedge's software provider through the plug-in (pads hashed once
 * per key), as imsedge runs it; other providers go through the plug-in
 * when their known-answer tests pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <re.h>
#include "core/log.h"
#include "crypto/crypto.h"
#include "srtp/srtp.h"

enum {
	RTP_LEN  = 172,
	PKT_CAP  = 256,
	DEF_PKTS = 200000,
};

static const uint8_t key[30] = {
	0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
	0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
	0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb,
	0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6
};


static uint64_t now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}


static int protect_loop(struct srtpx *s, unsigned n, double *nsp)
{
	uint8_t pkt[PKT_CAP];
	uint64_t t0;
	unsigned i;
	int err = 0;

	t0 = now_ns();
	for (i = 0; i < n && !err; i++) {
		size_t len = RTP_LEN;

		memset(pkt, 0xab, RTP_LEN);
		pkt[0] = 0x80;
		pkt[1] = 0x00;
		pkt[2] = (uint8_t)(i >> 8);
		pkt[3] = (uint8_t)i;
		pkt[4] = (uint8_t)(i >> 24);   /* timestamp: no seq reuse */
		pkt[5] = (uint8_t)(i >> 16);
		err = srtpx_protect(s, pkt, &len, sizeof(pkt));
	}

	*nsp = (double)(now_ns() - t0) / n;
	return err;
}


/* One provider: glue false = libsrtp2's built-in backend */
static int bench(const struct crypto_provider *p, const char *label,
		 bool glue, unsigned n)
{
	struct srtpx *first = NULL, *s = NULL;
	double ns;
	int err;

	err = crypto_use(p);
	if (err) {
		(void)printf("%-16s unavailable (%s)\n", label, strerror(err));
		return 0;
	}

	/* the first object initialises libsrtp2; the plug-in goes in after
	   it (what src/srtp/srtp.c should do right after srtp_init()) */
	err = srtpx_alloc(&first, SRTP_AES_CM_128_HMAC_SHA1_80, key, key);
	if (!err && glue)
		err = crypto_srtp_install();
	if (!err)
		err = srtpx_alloc(&s, SRTP_AES_CM_128_HMAC_SHA1_80, key, key);
	if (!err)
		err = protect_loop(s, n, &ns);

	if (err)
		(void)printf("%-16s error: %s\n", label, strerror(err));
	else
		(void)printf("%-16s %8.0f ns/packet  %7.1f Mbit/s\n", label,
			     ns, RTP_LEN * 8 * 1000.0 / ns);

	mem_deref(s);
	mem_deref(first);
	crypto_close();

	return err;
}


int main(int argc, char *argv[])
{
	struct crypto_provider native = crypto_software;
	const struct crypto_provider *p;
	unsigned n = DEF_PKTS;
	size_t i;
	int c, err = 0;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c != 'n' || atoi(optarg) <= 0) {
			(void)fprintf(stderr, "usage: cryptobench [-n PACKETS]"
				      "\n");
			return 2;
		}
		n = (unsigned)atoi(optarg);
	}

	if (libre_init())
		return 1;

	log_init(LOG_LVL_WARN, false);

	(void)printf("SRTP_AES128_CM_HMAC_SHA1_80 protect, %u-byte RTP, "
		     "%u packets\n", RTP_LEN, n);

	native.name        = "libsrtp2-mbedtls";
	native.srtp_native = true;

	err |= bench(&native, "libsrtp2-mbedtls", false, n);

	for (i = 0; (p = crypto_provider_get(i)); i++) {
		if (p->srtp_native)
			continue;
		err |= bench(p, p->name, true, n);
	}

	log_close();
	libre_close();

	return err ? 1 : 0;
}

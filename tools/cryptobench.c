/**
 * @file cryptobench.c  ns per SRTP protect of a 172-byte RTP packet
 *                      (G.711 20 ms: 12 header + 160 payload), per
 *                      available crypto provider; then protect and
 *                      unprotect per SRTP suite
 *
 *   cryptobench [-n PACKETS] [-s cm80|gcm128|gcm256]
 *
 * -s: that suite's protect and unprotect only (for callgrind: run it
 * with --toggle-collect=srtpx_protect, then srtpx_unprotect, and divide
 * the instructions by PACKETS). The suites run as imsedge runs them
 * with the software provider: AES-CM and HMAC-SHA1 through the plug-in,
 * AES-GCM through libsrtp2's mbedtls backend (mbedtls_gcm_*), which the
 * plug-in leaves alone.
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

enum {
	BATCH    = 1000,
};

/* master key and salt; the first 30 bytes for AES-128-CM, 28 for
   AES-128-GCM, 44 for AES-256-GCM */
static const uint8_t key[46] = {
	0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
	0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
	0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb,
	0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6, 0x51, 0x13,
	0x2c, 0x87, 0x40, 0x9e, 0x7d, 0x22, 0xc5, 0x6b,
	0x90, 0x0f, 0x3d, 0xa8, 0x64, 0x1b
};

static const struct {
	const char *opt;
	enum srtp_suite suite;
} suites[] = {
	{"cm80",   SRTP_AES_CM_128_HMAC_SHA1_80},
	{"gcm128", SRTP_AES_128_GCM},
	{"gcm256", SRTP_AES_256_GCM},
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


static void rtp_fill(uint8_t *pkt, unsigned seq)
{
	memset(pkt, 0xab, RTP_LEN);
	pkt[0] = 0x80;
	pkt[1] = 0x00;
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	pkt[4] = (uint8_t)(seq >> 24);
	pkt[5] = (uint8_t)(seq >> 16);
}


/* Protect a batch, then unprotect it at the other end; ns each */
static int pair_loop(struct srtpx *tx, struct srtpx *rx, unsigned n,
		     double *prot_ns, double *unprot_ns)
{
	static uint8_t pkt[BATCH][PKT_CAP];
	static size_t len[BATCH];
	uint64_t tp = 0, tu = 0, t;
	unsigned done, i, seq = 0;
	int err = 0;

	for (done = 0; done < n && !err; done += BATCH) {

		for (i = 0; i < BATCH; i++) {
			rtp_fill(pkt[i], seq + i);
			len[i] = RTP_LEN;
		}

		t = now_ns();
		for (i = 0; i < BATCH && !err; i++)
			err = srtpx_protect(tx, pkt[i], &len[i], PKT_CAP);
		tp += now_ns() - t;

		t = now_ns();
		for (i = 0; i < BATCH && !err; i++)
			err = srtpx_unprotect(rx, pkt[i], &len[i]);
		tu += now_ns() - t;

		for (i = 0; i < BATCH && !err; i++)
			if (len[i] != RTP_LEN)
				err = EPROTO;
		seq += BATCH;
	}

	*prot_ns = (double)tp / done;
	*unprot_ns = (double)tu / done;

	return err;
}


/* One suite with the software provider, as imsedge runs it */
static int bench_suite(enum srtp_suite suite, unsigned n)
{
	struct srtpx *first = NULL, *tx = NULL, *rx = NULL;
	double pns = 0, uns = 0;
	int err;

	/* as in bench(): the plug-in after libsrtp2's initialisation */
	err = crypto_use(&crypto_software);
	if (!err)
		err = srtpx_alloc(&first, suite, key, key);
	if (!err)
		err = crypto_srtp_install();
	if (!err)
		err = srtpx_alloc(&tx, suite, key, key);
	if (!err)
		err = srtpx_alloc(&rx, suite, key, key);
	if (!err)
		err = pair_loop(tx, rx, n, &pns, &uns);

	if (err)
		(void)printf("%-24s error: %s\n", srtp_suite_name(suite),
			     strerror(err));
	else
		(void)printf("%-24s protect %6.0f ns  unprotect %6.0f ns  "
			     "both %6.0f ns\n", srtp_suite_name(suite), pns,
			     uns, pns + uns);

	mem_deref(rx);
	mem_deref(tx);
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
	const char *only = NULL;
	int c, err = 0;

	while ((c = getopt(argc, argv, "n:s:")) != -1) {
		if (c == 's') {
			only = optarg;
			continue;
		}
		if (c != 'n' || atoi(optarg) <= 0) {
			(void)fprintf(stderr, "usage: cryptobench [-n PACKETS]"
				      " [-s cm80|gcm128|gcm256]\n");
			return 2;
		}
		n = (unsigned)atoi(optarg);
	}
	n = (n + BATCH - 1) / BATCH * BATCH;

	if (libre_init())
		return 1;

	log_init(LOG_LVL_WARN, false);

	if (only) {
		for (i = 0; i < ARRAY_SIZE(suites); i++)
			if (!strcmp(only, suites[i].opt))
				break;
		if (i == ARRAY_SIZE(suites)) {
			(void)fprintf(stderr, "cryptobench: no suite %s\n",
				      only);
			err = EINVAL;
		}
		else {
			err = bench_suite(suites[i].suite, n);
		}
		goto out;
	}

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

	(void)printf("\nProtect, then unprotect, per suite (software "
		     "provider), %u-byte RTP, %u packets\n", RTP_LEN, n);
	for (i = 0; i < ARRAY_SIZE(suites); i++)
		err |= bench_suite(suites[i].suite, n);

 out:
	log_close();
	libre_close();

	return err ? 1 : 0;
}

/*
 * probe.c -- link-and-run check of the third-party libraries for a board.
 *
 * Built with exactly DEPS_CFLAGS/DEPS_LIBS and the board flags (make
 * deps-probe BOARD=...), then run natively or under QEMU. It initialises all
 * four libraries, exercises the mbedtls-backed SRTP cipher and libre's random
 * source, runs the libre loop for one 1 ms timer and shuts everything down.
 * Exit status 0 and "probe: ok" on success.
 */
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include <re.h>

#include <mbedtls/ssl.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/version.h>
#include <psa/crypto.h>

#include <srtp2/srtp.h>

#include <usrsctp.h>

#ifndef MBEDTLS_SSL_DTLS_SRTP
#error "MBEDTLS_SSL_DTLS_SRTP is off: DEPS_CFLAGS lacks the mbedtls user config"
#endif
#ifndef MBEDTLS_SSL_PROTO_DTLS
#error "mbedtls built without DTLS"
#endif

static int failures;

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "probe: FAILED %s (line %d)\n", #cond, __LINE__); \
	++failures; } } while (0)

static struct tmr tmr;
static int timer_fired;

static void timeout_handler(void *arg)
{
	(void)arg;
	timer_fired = 1;
	re_cancel();
}

static void check_mbedtls(void)
{
	mbedtls_ssl_config conf;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	static const char pers[] = "imsedge-probe";
	static const mbedtls_ssl_srtp_profile profiles[] = {
		MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80,
		MBEDTLS_TLS_SRTP_UNSET
	};
	unsigned char buf[16];

	mbedtls_ssl_config_init(&conf);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);

	CHECK(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
				    (const unsigned char *)pers,
				    sizeof(pers) - 1) == 0);
	CHECK(mbedtls_ctr_drbg_random(&drbg, buf, sizeof(buf)) == 0);
	CHECK(mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER,
					  MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					  MBEDTLS_SSL_PRESET_DEFAULT) == 0);
	CHECK(mbedtls_ssl_conf_dtls_srtp_protection_profiles(&conf,
							      profiles) == 0);

	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	mbedtls_ssl_config_free(&conf);
}

/* One RTP packet through an AES-128-GCM SRTP session (mbedtls backend). */
static void check_srtp(void)
{
	srtp_policy_t policy;
	srtp_t session = NULL;
	uint8_t key[SRTP_AES_GCM_128_KEY_LEN_WSALT];
	uint8_t pkt[12 + 20 + SRTP_MAX_TRAILER_LEN];
	int len = 12 + 20;

	memset(&policy, 0, sizeof(policy));
	memset(key, 0x5a, sizeof(key));
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = 96;
	pkt[8] = 0x12; /* SSRC 0x12345678 */
	pkt[9] = 0x34;
	pkt[10] = 0x56;
	pkt[11] = 0x78;

	srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
	srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
	policy.ssrc.type = ssrc_any_outbound;
	policy.key = key;
	policy.window_size = 128;

	CHECK(srtp_create(&session, &policy) == srtp_err_status_ok);
	if (session) {
		CHECK(srtp_protect(session, pkt, &len) == srtp_err_status_ok);
		CHECK(len == 12 + 20 + 16);
		srtp_dealloc(session);
	}
}

static void check_usrsctp(void)
{
	int i;

	usrsctp_init_nothreads(0, NULL, NULL);
	usrsctp_handle_timers(10);
	/* usrsctp_finish() refuses while it still has work; retry briefly */
	for (i = 0; i < 100 && usrsctp_finish() != 0; i++)
		usrsctp_handle_timers(10);
	CHECK(i < 100);
}

static void check_libre_types(void)
{
	struct sa sa;
	uint32_t a = rand_u32(), b = rand_u32();
	char s[17], dom[64];
	struct sa srvv[4];
	uint32_t n;

	/* struct sa is laid out per HAVE_INET6: the library writes, we read */
	CHECK(sa_set_str(&sa, "::1", 5060) == 0);
	CHECK(sa_af(&sa) == AF_INET6);
	CHECK(sa.len == sizeof(struct sockaddr_in6));
	CHECK(sa_port(&sa) == 5060);

	/* links get_resolv_dns/res_ninit where the libc has them (not musl) */
	n = 4;
	(void)dns_srv_get(dom, sizeof(dom), srvv, &n);

	rand_str(s, sizeof(s));
	CHECK(strlen(s) == 16);
	CHECK(a != b || rand_u32() != a);
}

int main(void)
{
	CHECK(libre_init() == 0);

	check_libre_types();
	CHECK(psa_crypto_init() == PSA_SUCCESS);
	check_mbedtls();
	CHECK(srtp_init() == srtp_err_status_ok);
	check_srtp();
	check_usrsctp();

	tmr_init(&tmr);
	tmr_start(&tmr, 1, timeout_handler, NULL);
	CHECK(re_main(NULL) == 0);
	CHECK(timer_fired);
	tmr_cancel(&tmr);

	CHECK(srtp_shutdown() == srtp_err_status_ok);
	libre_close();

	if (failures) {
		fprintf(stderr, "probe: %d check(s) failed\n", failures);
		return 1;
	}
	printf("probe: ok (libre %s, mbedtls %s, %s, usrsctp)\n",
	       sys_libre_version_get(), MBEDTLS_VERSION_STRING,
	       srtp_get_version_string());
	return 0;
}

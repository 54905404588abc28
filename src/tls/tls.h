/**
 * @file tls.h  Private: libre's TLS API (re_tls.h) on mbedtls
 *
 * The public interface of this module is libre's own re_tls.h, so that
 * libre's HTTP, WebSocket and SIP code and ours share one TLS backend;
 * mbedtls is the only crypto library in the binary.
 */
#include <mbedtls/ssl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl_ticket.h>

struct tls {
	mbedtls_ssl_config srv;
	mbedtls_ssl_config cli;
	mbedtls_x509_crt crt;      /**< Own certificate chain           */
	mbedtls_pk_context key;    /**< Own private key                 */
	mbedtls_x509_crt ca;       /**< Trusted CAs (client side)       */
	mbedtls_ssl_ticket_context ticket; /**< Session ticket keys (srv) */
	struct tls_rng *rng;
	struct dtls_conf *dtls_conf[3]; /**< DTLS sessions' shared ones
					     (dtls.c, not held)          */
	bool have_ca;
};

struct tls_rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

extern const int tls_suites[];
extern const int dtls_suites[];
extern const uint16_t tls_groups[];

int  tls_rng_get(struct tls_rng **rngp);
void tls_log_mbedtls(const char *what, const struct tcp_conn *tc, int ret);

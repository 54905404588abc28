/**
 * @file tls.c  TLS context (libre's struct tls) on mbedtls
 *
 * TLS 1.3 and 1.2, AEAD suites only (1.2: ECDHE only). The server issues
 * session tickets (RFC 5077, TLS 1.3 NewSessionTicket), so a reconnecting
 * browser resumes with an ephemeral key exchange but without certificate
 * signature. Certificates and keys are PEM or DER.
 */
#include <string.h>
#include <re.h>
#include <mbedtls/error.h>
#include <mbedtls/platform_util.h>
#include "tls.h"
#include "tlsx.h"
#include "../core/file.h"
#include "../core/log.h"

#define LOG_MODULE "tls"

enum {
	PEM_FILE_MAX    = 262144,
	TICKET_LIFETIME = 86400,  /* s: a browser reconnecting within a day */
};

/* TLS: 1.3 suites (all AEAD), then 1.2 ECDHE with AEAD */
const int tls_suites[] = {
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0
};

/* DTLS 1.2 (mbedtls has no DTLS 1.3): ECDHE with AEAD */
const int dtls_suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0
};

/* Key exchange groups, preferred first */
const uint16_t tls_groups[] = {
	MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_NONE
};


static void destructor(void *arg)
{
	struct tls *tls = arg;

	mbedtls_ssl_config_free(&tls->srv);
	mbedtls_ssl_config_free(&tls->cli);
	mbedtls_ssl_ticket_free(&tls->ticket);
	mbedtls_x509_crt_free(&tls->crt);
	mbedtls_x509_crt_free(&tls->ca);
	mbedtls_pk_free(&tls->key);
	mem_deref(tls->rng);
}


/**
 * Log an mbedtls error with the peer it concerns
 *
 * @param what What failed
 * @param tc   TCP connection (may be NULL)
 * @param ret  mbedtls return code
 */
void tls_log_mbedtls(const char *what, const struct tcp_conn *tc, int ret)
{
	char buf[128];
	struct sa peer;

	mbedtls_strerror(ret, buf, sizeof(buf));

	if (!tc) {
		log_warn("%s: %s (-0x%04x)", what, buf, -ret);
		return;
	}

	sa_init(&peer, AF_UNSPEC);
	(void)tcp_conn_peer_get((struct tcp_conn *)tc, &peer);
	log_info("%s with %J: %s (-0x%04x)", what, &peer, buf, -ret);
}


static int config_setup(struct tls *tls, mbedtls_ssl_config *c, int endpoint)
{
	int ret;

	ret = mbedtls_ssl_config_defaults(c, endpoint,
					  MBEDTLS_SSL_TRANSPORT_STREAM,
					  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret)
		return ENOMEM;

	mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, &tls->rng->drbg);
	mbedtls_ssl_conf_min_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_ciphersuites(c, tls_suites);
	mbedtls_ssl_conf_groups(c, tls_groups);
	mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);

	/* TLS 1.3: always an ephemeral key exchange, also on resumption */
	mbedtls_ssl_conf_tls13_key_exchange_modes(c,
			MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL |
			MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL);

	return 0;
}


/* Server: session tickets (TLS 1.2 RFC 5077 and TLS 1.3), keys in
   memory, rotated by mbedtls every lifetime */
static int tickets_setup(struct tls *tls)
{
	if (mbedtls_ssl_ticket_setup(&tls->ticket, mbedtls_ctr_drbg_random,
				     &tls->rng->drbg,
				     MBEDTLS_CIPHER_AES_128_GCM,
				     TICKET_LIFETIME))
		return ENOMEM;

	mbedtls_ssl_conf_session_tickets_cb(&tls->srv,
					    mbedtls_ssl_ticket_write,
					    mbedtls_ssl_ticket_parse,
					    &tls->ticket);

	return 0;
}


/**
 * Allocate a TLS context
 *
 * @param tlsp    Returned TLS context
 * @param method  Method; the role and transport are chosen per connection
 *                (tls_start_tcp, dtls_sess_alloc), so any method is the
 *                same context
 * @param keyfile Optional PEM file holding certificate chain and key
 * @param pwd     Optional password for the key
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_alloc(struct tls **tlsp, enum tls_method method, const char *keyfile,
	      const char *pwd)
{
	struct tls *tls;
	int err;

	if (!tlsp)
		return EINVAL;

	switch (method) {

	case TLS_METHOD_SSLV23:
	case TLS_METHOD_DTLSV1:
	case TLS_METHOD_DTLS:
	case TLS_METHOD_DTLSV1_2:
		break;

	default:
		return ENOTSUP;
	}

	tls = mem_zalloc(sizeof(*tls), destructor);
	if (!tls)
		return ENOMEM;

	mbedtls_ssl_config_init(&tls->srv);
	mbedtls_ssl_config_init(&tls->cli);
	mbedtls_x509_crt_init(&tls->crt);
	mbedtls_x509_crt_init(&tls->ca);
	mbedtls_pk_init(&tls->key);
	mbedtls_ssl_ticket_init(&tls->ticket);

	err = tls_rng_get(&tls->rng);
	if (err)
		goto out;

	err  = config_setup(tls, &tls->srv, MBEDTLS_SSL_IS_SERVER);
	err |= config_setup(tls, &tls->cli, MBEDTLS_SSL_IS_CLIENT);
	err |= tickets_setup(tls);
	if (err) {
		err = ENOMEM;
		goto out;
	}

	/* Client: verify optionally; tls_peer_verify() reports the result */
	mbedtls_ssl_conf_authmode(&tls->cli, MBEDTLS_SSL_VERIFY_OPTIONAL);
	mbedtls_ssl_conf_authmode(&tls->srv, MBEDTLS_SSL_VERIFY_NONE);

	if (keyfile)
		err = tls_set_certificate_files(tls, keyfile, keyfile, pwd);

 out:
	if (err)
		mem_deref(tls);
	else
		*tlsp = tls;

	return err;
}


static int read_pem(struct mbuf **mbp, const char *path)
{
	struct mbuf *mb = mbuf_alloc(4096);
	int err;

	if (!mb)
		return ENOMEM;

	err = file_read(mb, path, PEM_FILE_MAX);
	if (!err)
		err = mbuf_write_u8(mb, 0); /* mbedtls wants PEM NUL-ended */

	if (err)
		mem_deref(mb);
	else
		*mbp = mb;

	return err;
}


/* Size of the Certificate handshake message for a chain */
static size_t chain_len(const mbedtls_x509_crt *crt)
{
	size_t n = 4 + 3;

	for (; crt && crt->raw.len; crt = crt->next)
		n += 3 + crt->raw.len;

	return n;
}


static int set_cert_key(struct tls *tls, const uint8_t *cert, size_t clen,
			const uint8_t *key, size_t klen, const char *pwd)
{
	int ret;

	mbedtls_x509_crt_free(&tls->crt);
	mbedtls_x509_crt_init(&tls->crt);
	mbedtls_pk_free(&tls->key);
	mbedtls_pk_init(&tls->key);

	ret = mbedtls_x509_crt_parse(&tls->crt, cert, clen);
	if (ret) {
		tls_log_mbedtls("certificate parse", NULL, ret);
		return EBADMSG;
	}

	ret = mbedtls_pk_parse_key(&tls->key, key, klen,
				   (const uint8_t *)pwd, pwd ? strlen(pwd) : 0,
				   tls_mbedtls_rng, NULL);
	if (ret) {
		tls_log_mbedtls("private key parse", NULL, ret);
		return EBADMSG;
	}

	if (chain_len(&tls->crt) > MBEDTLS_SSL_OUT_CONTENT_LEN) {
		log_error("certificate chain of %zu bytes does not fit a "
			  "TLS record of %u bytes", chain_len(&tls->crt),
			  MBEDTLS_SSL_OUT_CONTENT_LEN);
		return EFBIG;
	}

	ret = mbedtls_pk_check_pair(&tls->crt.pk, &tls->key,
				    tls_mbedtls_rng, NULL);
	if (ret) {
		tls_log_mbedtls("certificate/key pair check", NULL, ret);
		return EKEYREJECTED;
	}

	ret  = mbedtls_ssl_conf_own_cert(&tls->srv, &tls->crt, &tls->key);
	ret |= mbedtls_ssl_conf_own_cert(&tls->cli, &tls->crt, &tls->key);

	return ret ? ENOMEM : 0;
}


/**
 * Set the own certificate chain and private key from files (PEM or DER)
 *
 * @param tls     TLS context
 * @param certfile Certificate chain file
 * @param keyfile  Private key file (may be the same file)
 * @param pwd      Optional key password
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_set_certificate_files(struct tls *tls, const char *certfile,
			      const char *keyfile, const char *pwd)
{
	struct mbuf *cert = NULL, *key = NULL;
	int err;

	if (!tls || !certfile || !keyfile)
		return EINVAL;

	err = read_pem(&cert, certfile);
	if (err)
		goto out;

	err = read_pem(&key, keyfile);
	if (err)
		goto out;

	err = set_cert_key(tls, cert->buf, cert->end, key->buf, key->end,
			   pwd);

 out:
	if (key)
		mbedtls_platform_zeroize(key->buf, key->size);
	mem_deref(key);
	mem_deref(cert);

	return err;
}


/**
 * Allocate a TLS context with its certificate chain and key from files
 *
 * @param tlsp     Returned TLS context
 * @param certfile Certificate chain file
 * @param keyfile  Private key file
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_alloc_files(struct tls **tlsp, const char *certfile,
		    const char *keyfile)
{
	struct tls *tls;
	int err;

	if (!tlsp)
		return EINVAL;

	err = tls_alloc(&tls, TLS_METHOD_SSLV23, NULL, NULL);
	if (err)
		return err;

	err = tls_set_certificate_files(tls, certfile, keyfile, NULL);
	if (err)
		mem_deref(tls);
	else
		*tlsp = tls;

	return err;
}


/**
 * Set the own certificate and key from a PEM buffer
 *
 * @param tls      TLS context
 * @param cert     Certificate PEM
 * @param len_cert Length of cert
 * @param key      Key PEM, or NULL if it is in cert
 * @param len_key  Length of key
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_set_certificate_pem(struct tls *tls, const char *cert,
			    size_t len_cert, const char *key, size_t len_key)
{
	struct mbuf *c, *k;
	int err;

	if (!tls || !cert || !len_cert)
		return EINVAL;

	if (!key) {
		key = cert;
		len_key = len_cert;
	}

	c = mbuf_alloc(len_cert + 1);
	k = mbuf_alloc(len_key + 1);
	if (!c || !k) {
		err = ENOMEM;
		goto out;
	}

	err  = mbuf_write_mem(c, (const uint8_t *)cert, len_cert);
	err |= mbuf_write_u8(c, 0);
	err |= mbuf_write_mem(k, (const uint8_t *)key, len_key);
	err |= mbuf_write_u8(k, 0);
	if (err)
		goto out;

	err = set_cert_key(tls, c->buf, c->end, k->buf, k->end, NULL);

 out:
	if (k)
		mbedtls_platform_zeroize(k->buf, k->size);
	mem_deref(k);
	mem_deref(c);

	return err;
}


/**
 * Set the own certificate and key from one PEM buffer holding both
 *
 * @param tls  TLS context
 * @param cert PEM text
 * @param len  Length of PEM text
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_set_certificate(struct tls *tls, const char *cert, size_t len)
{
	return tls_set_certificate_pem(tls, cert, len, NULL, 0);
}


/**
 * Add trusted CA certificates from a file (client side verification)
 *
 * @param tls    TLS context
 * @param cafile File with one or more CA certificates
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_add_ca(struct tls *tls, const char *cafile)
{
	struct mbuf *mb = NULL;
	int err, ret;

	if (!tls || !cafile)
		return EINVAL;

	err = read_pem(&mb, cafile);
	if (err)
		return err;

	ret = mbedtls_x509_crt_parse(&tls->ca, mb->buf, mb->end);
	mem_deref(mb);
	if (ret) {
		tls_log_mbedtls("CA parse", NULL, ret);
		return EBADMSG;
	}

	mbedtls_ssl_conf_ca_chain(&tls->cli, &tls->ca, NULL);
	mbedtls_ssl_conf_ca_chain(&tls->srv, &tls->ca, NULL);
	tls->have_ca = true;

	return 0;
}


/**
 * Require and verify a client certificate against the CAs
 *
 * @param tls TLS context
 */
void tls_set_verify_client(struct tls *tls)
{
	if (!tls)
		return;

	mbedtls_ssl_conf_authmode(&tls->srv, MBEDTLS_SSL_VERIFY_REQUIRED);
}


/**
 * Accepted for libre compatibility; mbedtls checks the key usage of the
 * chain itself.
 *
 * @param tls     TLS context
 * @param purpose Purpose name
 *
 * @return 0
 */
int tls_set_verify_purpose(struct tls *tls, const char *purpose)
{
	(void)purpose;

	return tls ? 0 : EINVAL;
}


/**
 * Copy a hostname into a fixed buffer (libre helper)
 *
 * @param tls_hostname Destination (at least 256 bytes)
 * @param hostname     Hostname
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_set_hostname(char *tls_hostname, const struct pl *hostname)
{
	if (!tls_hostname || !hostname)
		return EINVAL;

	if (hostname->l > 255)
		return EINVAL;

	return pl_strcpy(hostname, tls_hostname, hostname->l + 1);
}

/**
 * @file dtls_keys.c  DTLS-SRTP: certificate fingerprints, peer
 *                    verification by fingerprint and the SRTP keying
 *                    material exporter (RFC 5763, RFC 5764 4.2)
 *
 * WebRTC peers use self-signed certificates; the trust anchor is the
 * fingerprint from SDP. mbedtls verifies "optionally" (it needs a CA chain
 * to require verification): the verify callback accepts any chain but
 * fails the handshake when the leaf's fingerprint differs from the one
 * expected, and the session checks at the end of the handshake that a
 * certificate came at all.
 */
#include <string.h>
#include <re.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/platform_util.h>
#include "tls.h"
#include "dtls.h"
#include "dtls_int.h"

/** DTLS-SRTP protection profiles (the AEAD ones from
    third_party/patches/mbedtls/0004), as SRTP suites with their master
    key and salt lengths (RFC 5764 4.1.2, RFC 7714 12) */
static const struct {
	mbedtls_ssl_srtp_profile id;
	enum srtp_suite suite;
	uint8_t key;
	uint8_t salt;
} profile_map[] = {
	{MBEDTLS_TLS_SRTP_AEAD_AES_128_GCM, SRTP_AES_128_GCM, 16, 12},
	{MBEDTLS_TLS_SRTP_AEAD_AES_256_GCM, SRTP_AES_256_GCM, 32, 12},
	{MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80,
	 SRTP_AES_CM_128_HMAC_SHA1_80, 16, 14},
	{MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_32,
	 SRTP_AES_CM_128_HMAC_SHA1_32, 16, 14},
};

/* Offered (client) and accepted (server), in order of preference: the
   AEAD profiles first (one AES-GCM pass instead of AES-CM plus
   HMAC-SHA1; 16 bytes of tag instead of 10), AES-128 before AES-256.
   As server the patched mbedtls takes the first of these the client
   offers, whatever the client's order (Chromium lists AES-CM first). */
static const mbedtls_ssl_srtp_profile profiles[] = {
	MBEDTLS_TLS_SRTP_AEAD_AES_128_GCM,
	MBEDTLS_TLS_SRTP_AEAD_AES_256_GCM,
	MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80,
	MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_32,
	MBEDTLS_TLS_SRTP_UNSET
};

/* Without the AEAD profiles (dtls_sess_set_srtp_gcm()) */
static const mbedtls_ssl_srtp_profile profiles_cm[] = {
	MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80,
	MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_32,
	MBEDTLS_TLS_SRTP_UNSET
};

static const char srtp_label[] = "EXTRACTOR-dtls_srtp";


static size_t fp_len(enum tls_fingerprint type)
{
	switch (type) {

	case TLS_FINGERPRINT_SHA1:   return 20;
	case TLS_FINGERPRINT_SHA256: return 32;
	default:                     return 0;
	}
}


static int crt_digest(const mbedtls_x509_crt *crt, enum tls_fingerprint type,
		      uint8_t *md, size_t size)
{
	size_t n = fp_len(type);
	int ret;

	if (!n)
		return ENOTSUP;

	if (size < n)
		return EOVERFLOW;

	if (type == TLS_FINGERPRINT_SHA1)
		ret = mbedtls_sha1(crt->raw.p, crt->raw.len, md);
	else
		ret = mbedtls_sha256(crt->raw.p, crt->raw.len, md, 0);

	return ret ? EIO : 0;
}


/**
 * Get the fingerprint of the own certificate (for a=fingerprint)
 *
 * @param tls  TLS context
 * @param type Hash function
 * @param md   Returned digest
 * @param size Size of md (20 for SHA-1, 32 for SHA-256)
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_fingerprint(const struct tls *tls, enum tls_fingerprint type,
		    uint8_t *md, size_t size)
{
	if (!tls || !md)
		return EINVAL;

	if (!tls->crt.raw.len)
		return ENOENT;

	return crt_digest(&tls->crt, type, md, size);
}


static const uint8_t *peer_md(const struct dtls_sess *s,
			      enum tls_fingerprint type)
{
	return type == TLS_FINGERPRINT_SHA1 ? s->peer_sha1 : s->peer_sha256;
}


/**
 * Tell whether the peer's certificate has the expected fingerprint
 *
 * @param s DTLS session (with a certificate received and one expected)
 *
 * @return true if it has
 */
bool dtls_keys_match(const struct dtls_sess *s)
{
	if (!s->have_cert || !s->have_expect)
		return false;

	return 0 == memcmp(peer_md(s, s->expect.type), s->expect.md,
			   s->expect.len);
}


static int verify_h(void *arg, mbedtls_x509_crt *crt, int depth,
		    uint32_t *flags)
{
	struct dtls_sess *s = arg;

	/* no CA: trust comes from the fingerprint alone */
	*flags = 0;

	if (depth)
		return 0;

	if (crt_digest(crt, TLS_FINGERPRINT_SHA1, s->peer_sha1,
		       sizeof(s->peer_sha1)) ||
	    crt_digest(crt, TLS_FINGERPRINT_SHA256, s->peer_sha256,
		       sizeof(s->peer_sha256)))
		return MBEDTLS_ERR_X509_FATAL_ERROR;

	s->have_cert = true;

	/* an error mbedtls takes as fatal even when verifying
	   "optionally" (dtls_io_err() maps it to EAUTH) */
	if (s->have_expect && !dtls_keys_match(s))
		return MBEDTLS_ERR_X509_FATAL_ERROR;

	return 0;
}


/* The TLS 1.2 master secret and randoms, for the exporter. (mbedtls'
   own mbedtls_ssl_export_keying_material() reads the current transform,
   which a DTLS server that keeps its last flight does not have yet.) */
static void export_h(void *arg, mbedtls_ssl_key_export_type type,
		     const unsigned char *secret, size_t secret_len,
		     const unsigned char client_random[32],
		     const unsigned char server_random[32],
		     mbedtls_tls_prf_types prf)
{
	struct dtls_sess *s = arg;

	if (type != MBEDTLS_SSL_KEY_EXPORT_TLS12_MASTER_SECRET ||
	    secret_len != sizeof(s->exp.ms))
		return;

	memcpy(s->exp.ms, secret, sizeof(s->exp.ms));
	memcpy(s->exp.randbytes, client_random, 32);
	memcpy(s->exp.randbytes + 32, server_random, 32);
	s->exp.prf = prf;
	s->exp.set = true;
}


/**
 * Hand the master secret to the session (after mbedtls_ssl_setup)
 *
 * @param s DTLS session
 */
void dtls_keys_attach(struct dtls_sess *s)
{
	mbedtls_ssl_set_export_keys_cb(&s->ssl, export_h, s);
	mbedtls_ssl_set_verify(&s->ssl, verify_h, s);
}


/**
 * Set up peer verification and use_srtp on a DTLS configuration (the
 * verify callback is per session: dtls_keys_attach)
 *
 * @param c mbedtls configuration
 *
 * @return 0 if success, otherwise errorcode
 */
int dtls_keys_conf(mbedtls_ssl_config *c)
{
	mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_OPTIONAL);

	if (mbedtls_ssl_conf_dtls_srtp_protection_profiles(c, profiles))
		return EINVAL;

	return 0;
}


/**
 * Offer (client) or accept (server) the AES-GCM SRTP profiles (RFC 7714),
 * preferred to AES-CM; on by default
 *
 * @param s   DTLS session, before its handshake starts
 * @param gcm false: AES_CM_128_HMAC_SHA1_80 and _32 only
 *
 * @return 0 if success, EALREADY once the handshake has begun
 */
int dtls_sess_set_srtp_gcm(struct dtls_sess *s, bool gcm)
{
	if (!s)
		return EINVAL;

	if (s->state != DTLS_ST_IDLE || s->ready)
		return EALREADY;

	/* AES-CM only takes a configuration of the session's own
	   (dtls_ready); the shared ones offer GCM */
	s->no_gcm = !gcm;

	return 0;
}


/**
 * Limit a session's own configuration to the AES-CM profiles
 *
 * @param c mbedtls configuration
 *
 * @return 0 if success, otherwise errorcode
 */
int dtls_keys_conf_cm(mbedtls_ssl_config *c)
{
	return mbedtls_ssl_conf_dtls_srtp_protection_profiles(c, profiles_cm) ?
		EINVAL : 0;
}


/* RFC 5764 4.2: client key, server key, client salt, server salt, from
   the TLS exporter (RFC 5705: the PRF over the randoms, no context) */
static int derive(struct dtls_sess *s, size_t klen, size_t slen)
{
	uint8_t km[2 * DTLS_KEY_MAX];
	int ret;

	if (!s->exp.set)
		return EPROTO;

	ret = mbedtls_ssl_tls_prf(s->exp.prf, s->exp.ms, sizeof(s->exp.ms),
				  srtp_label, s->exp.randbytes,
				  sizeof(s->exp.randbytes), km,
				  2 * (klen + slen));
	if (ret)
		return EIO;

	memcpy(s->cli_key, km, klen);
	memcpy(s->cli_key + klen, km + 2 * klen, slen);
	memcpy(s->srv_key, km + klen, klen);
	memcpy(s->srv_key + klen, km + 2 * klen + slen, slen);
	s->key_len = klen + slen;

	mbedtls_platform_zeroize(km, sizeof(km));

	return 0;
}


/**
 * Derive the SRTP master keys and salts once the handshake is over
 *
 * @param s DTLS session
 *
 * @return 0 if success (also when no SRTP was negotiated), else errorcode
 */
int dtls_keys_derive(struct dtls_sess *s)
{
	mbedtls_dtls_srtp_info info;
	mbedtls_ssl_srtp_profile chosen;
	size_t i;
	int err = EPROTO;

	mbedtls_ssl_get_dtls_srtp_negotiation_result(&s->ssl, &info);

	/* mbedtls 3.6 has no getter for the profile alone */
	chosen = info.MBEDTLS_PRIVATE(chosen_dtls_srtp_profile);

	/* no use_srtp: a data channel association, say */
	if (chosen == MBEDTLS_TLS_SRTP_UNSET)
		err = 0;

	for (i = 0; i < ARRAY_SIZE(profile_map); i++) {

		if (profile_map[i].id != chosen)
			continue;

		s->suite = profile_map[i].suite;
		err = derive(s, profile_map[i].key, profile_map[i].salt);
		break;
	}

	mbedtls_platform_zeroize(&s->exp, sizeof(s->exp));

	return err;
}


/**
 * Erase secrets the session holds
 *
 * @param s DTLS session
 */
void dtls_keys_wipe(struct dtls_sess *s)
{
	mbedtls_platform_zeroize(&s->exp, sizeof(s->exp));
	mbedtls_platform_zeroize(s->cli_key, sizeof(s->cli_key));
	mbedtls_platform_zeroize(s->srv_key, sizeof(s->srv_key));
	s->key_len = 0;
}


/**
 * Set the fingerprint the peer's certificate must have (from its SDP)
 *
 * Before the peer's certificate arrives, a mismatch fails the handshake.
 * If the handshake is already over (the fingerprint came late), the
 * estab or close handler reports the verdict from the main loop.
 *
 * @param s    DTLS session
 * @param type Hash function
 * @param md   Fingerprint
 * @param len  Length of md
 *
 * @return 0 if success, otherwise errorcode
 */
int dtls_sess_set_peer_fingerprint(struct dtls_sess *s,
				   enum tls_fingerprint type,
				   const uint8_t *md, size_t len)
{
	if (!s || !md || !len || len != fp_len(type))
		return EINVAL;

	if (s->state == DTLS_ST_UP || s->state == DTLS_ST_CLOSED)
		return EALREADY;

	s->expect.type = type;
	s->expect.len  = len;
	memcpy(s->expect.md, md, len);
	s->have_expect = true;

	if (s->state == DTLS_ST_PENDING)
		dtls_sess_verdict(s, dtls_keys_match(s) ? 0 : EAUTH);

	return 0;
}


/**
 * Get the fingerprint of the peer's certificate
 *
 * @param s    DTLS session
 * @param type Hash function
 * @param md   Returned digest
 * @param size Size of md
 *
 * @return 0 if success, ENOENT before the peer's certificate arrived
 */
int dtls_sess_peer_fingerprint(const struct dtls_sess *s,
			       enum tls_fingerprint type, uint8_t *md,
			       size_t size)
{
	size_t n = fp_len(type);

	if (!s || !md)
		return EINVAL;

	if (!n)
		return ENOTSUP;

	if (!s->have_cert)
		return ENOENT;

	if (size < n)
		return EOVERFLOW;

	memcpy(md, peer_md(s, type), n);

	return 0;
}


/**
 * Get the negotiated SRTP suite and master keys with salts
 *
 * Each key buffer receives master key then master salt (libsrtp's
 * layout), srtpx_key_salt_len(suite) bytes.
 *
 * @param s        DTLS session (established)
 * @param suite    Returned SRTP suite
 * @param cli_key  Client's write key and salt
 * @param cli_size Size of cli_key
 * @param srv_key  Server's write key and salt
 * @param srv_size Size of srv_key
 *
 * @return 0 if success, ENOTCONN before the session is up, ENOENT if no
 *         SRTP profile was negotiated
 */
int dtls_sess_srtp_keys(const struct dtls_sess *s, enum srtp_suite *suite,
			uint8_t *cli_key, size_t cli_size,
			uint8_t *srv_key, size_t srv_size)
{
	if (!s || !suite || !cli_key || !srv_key)
		return EINVAL;

	if (s->state != DTLS_ST_UP)
		return ENOTCONN;

	if (!s->key_len)
		return ENOENT;

	if (cli_size < s->key_len || srv_size < s->key_len)
		return EOVERFLOW;

	*suite = s->suite;
	memcpy(cli_key, s->cli_key, s->key_len);
	memcpy(srv_key, s->srv_key, s->key_len);

	return 0;
}

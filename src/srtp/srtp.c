/**
 * @file srtp.c  SRTP/SRTCP for one media stream pair, on libsrtp2
 *
 * libsrtp2 is initialised while any srtpx object exists (srtp_init() runs
 * the self-tests of its ciphers on the mbedtls backend) and shut down
 * with the last one.
 */
#include <limits.h>
#include <string.h>
#include <re.h>
#include <srtp2/srtp.h>
#include <mbedtls/platform_util.h>
#include "srtp.h"
#include "../crypto/crypto.h"

enum {
	REPLAY_WINDOW = 128,
	KEY_SALT_MAX  = 32 + 14,
};

struct srtpx_lib {
	int dummy;
};

struct srtpx {
	srtp_t tx;
	srtp_t rx;
	struct srtpx_lib *lib;
	size_t trailer;              /**< Bytes srtp_protect() adds      */
	size_t trailer_rtcp;
};

static struct srtpx_lib *lib_shared;


static void lib_destructor(void *arg)
{
	(void)arg;

	/* also after a failed srtp_init(): it frees what it set up */
	(void)srtp_shutdown();
	lib_shared = NULL;
}


static int lib_get(struct srtpx_lib **libp)
{
	struct srtpx_lib *lib;

	if (lib_shared) {
		*libp = mem_ref(lib_shared);
		return 0;
	}

	lib = mem_zalloc(sizeof(*lib), lib_destructor);
	if (!lib)
		return ENOMEM;

	/* the active crypto provider replaces libsrtp2's AES-CM and
	   HMAC-SHA1 unless it is mbedtls itself (src/crypto) */
	if (srtp_init() != srtp_err_status_ok || crypto_srtp_install()) {
		mem_deref(lib);
		return EIO;
	}

	lib_shared = lib;
	*libp = lib;

	return 0;
}


static void destructor(void *arg)
{
	struct srtpx *s = arg;

	if (s->tx)
		(void)srtp_dealloc(s->tx);
	if (s->rx)
		(void)srtp_dealloc(s->rx);

	mem_deref(s->lib);
}


static int policy_set(srtp_policy_t *p, enum srtp_suite suite)
{
	switch (suite) {

	case SRTP_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;

	case SRTP_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;

	case SRTP_AES_256_CM_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
		break;

	case SRTP_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
		break;

	case SRTP_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		break;

	case SRTP_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
		break;

	default:
		return ENOTSUP;
	}

	return 0;
}


/**
 * Get the length of master key plus master salt for a suite
 *
 * @param suite SRTP suite
 *
 * @return Length in bytes, 0 if the suite is unknown
 */
size_t srtpx_key_salt_len(enum srtp_suite suite)
{
	switch (suite) {

	case SRTP_AES_CM_128_HMAC_SHA1_32:
	case SRTP_AES_CM_128_HMAC_SHA1_80: return 16 + 14;
	case SRTP_AES_256_CM_HMAC_SHA1_32:
	case SRTP_AES_256_CM_HMAC_SHA1_80: return 32 + 14;
	case SRTP_AES_128_GCM:             return 16 + 12;
	case SRTP_AES_256_GCM:             return 32 + 12;
	default:                           return 0;
	}
}


static int session_create(srtp_t *sessp, enum srtp_suite suite,
			  const uint8_t *key_salt, srtp_ssrc_type_t type)
{
	uint8_t key[KEY_SALT_MAX];
	srtp_policy_t policy;
	srtp_err_status_t st;

	memset(&policy, 0, sizeof(policy));
	if (policy_set(&policy, suite))
		return ENOTSUP;

	/* libsrtp2 takes a non-const key; it copies it */
	memcpy(key, key_salt, srtpx_key_salt_len(suite));

	policy.ssrc.type   = type;
	policy.key         = key;
	policy.window_size = REPLAY_WINDOW;

	st = srtp_create(sessp, &policy);
	mbedtls_platform_zeroize(key, sizeof(key));

	if (st == srtp_err_status_alloc_fail)
		return ENOMEM;

	return st == srtp_err_status_ok ? 0 : EINVAL;
}


static int trailers_get(struct srtpx *s)
{
	uint32_t rtp, rtcp;

	if (srtp_get_protect_trailer_length(s->tx, 0, 0, &rtp) ||
	    srtp_get_protect_rtcp_trailer_length(s->tx, 0, 0, &rtcp))
		return EINVAL;

	s->trailer      = rtp;
	s->trailer_rtcp = rtcp;

	return 0;
}


/**
 * Allocate SRTP contexts for sending and receiving
 *
 * @param sp          Returned SRTP object
 * @param suite       SRTP suite
 * @param key_salt_tx Master key and salt for what we send
 * @param key_salt_rx Master key and salt for what we receive
 *
 * @return 0 if success, otherwise errorcode
 */
int srtpx_alloc(struct srtpx **sp, enum srtp_suite suite,
		const uint8_t *key_salt_tx, const uint8_t *key_salt_rx)
{
	struct srtpx *s;
	int err;

	if (!sp || !key_salt_tx || !key_salt_rx)
		return EINVAL;

	if (!srtpx_key_salt_len(suite))
		return ENOTSUP;

	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;

	err = lib_get(&s->lib);
	if (err)
		goto out;

	err = session_create(&s->tx, suite, key_salt_tx, ssrc_any_outbound);
	if (err)
		goto out;

	err = session_create(&s->rx, suite, key_salt_rx, ssrc_any_inbound);
	if (err)
		goto out;

	err = trailers_get(s);

 out:
	if (err)
		mem_deref(s);
	else
		*sp = s;

	return err;
}


static int map_status(srtp_err_status_t st)
{
	switch (st) {

	case srtp_err_status_ok:          return 0;
	case srtp_err_status_auth_fail:   return EAUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:  return EALREADY;
	case srtp_err_status_alloc_fail:  return ENOMEM;
	default:                          return EBADMSG;
	}
}


typedef srtp_err_status_t (srtp_op_h)(srtp_t ctx, void *hdr, int *len);


static int run(srtp_op_h *op, srtp_t ctx, uint8_t *buf, size_t *len,
	       size_t cap, size_t trailer)
{
	int n;
	int err;

	if (!buf || !len)
		return EINVAL;

	if (*len > cap || cap - *len < trailer || *len > INT_MAX - trailer)
		return ENOBUFS;

	n = (int)*len;
	err = map_status(op(ctx, buf, &n));
	if (!err)
		*len = (size_t)n;

	return err;
}


/**
 * Protect an RTP packet in place
 *
 * @param s   SRTP object
 * @param buf RTP packet; SRTP on return
 * @param len Length in, length out
 * @param cap Size of buf (room for the authentication tag)
 *
 * @return 0 if success, ENOBUFS if the tag does not fit, else errorcode
 */
int srtpx_protect(struct srtpx *s, uint8_t *buf, size_t *len, size_t cap)
{
	if (!s)
		return EINVAL;

	return run(srtp_protect, s->tx, buf, len, cap, s->trailer);
}


/**
 * Verify and decrypt an SRTP packet in place
 *
 * @param s   SRTP object
 * @param buf SRTP packet; RTP on return
 * @param len Length in, length out
 *
 * @return 0 if success, EAUTH if it does not authenticate, EALREADY if
 *         it is a replay, otherwise errorcode
 */
int srtpx_unprotect(struct srtpx *s, uint8_t *buf, size_t *len)
{
	if (!s || !len)
		return EINVAL;

	return run(srtp_unprotect, s->rx, buf, len, *len, 0);
}


/**
 * Protect an RTCP compound packet in place
 *
 * @param s   SRTP object
 * @param buf RTCP packet; SRTCP on return
 * @param len Length in, length out
 * @param cap Size of buf (room for the SRTCP index and tag)
 *
 * @return 0 if success, ENOBUFS if the trailer does not fit, else errorcode
 */
int srtpx_protect_rtcp(struct srtpx *s, uint8_t *buf, size_t *len,
		       size_t cap)
{
	if (!s)
		return EINVAL;

	return run(srtp_protect_rtcp, s->tx, buf, len, cap, s->trailer_rtcp);
}


/**
 * Verify and decrypt an SRTCP packet in place
 *
 * @param s   SRTP object
 * @param buf SRTCP packet; RTCP on return
 * @param len Length in, length out
 *
 * @return 0 if success, EAUTH if it does not authenticate, EALREADY if
 *         it is a replay, otherwise errorcode
 */
int srtpx_unprotect_rtcp(struct srtpx *s, uint8_t *buf, size_t *len)
{
	if (!s || !len)
		return EINVAL;

	return run(srtp_unprotect_rtcp, s->rx, buf, len, *len, 0);
}

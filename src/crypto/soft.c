/**
 * @file soft.c  The software provider: mbedtls
 *
 * mbedtls' AES is what a board's MBEDTLS_AES_ALT replaces (docs/crypto.md),
 * so this provider, TLS, DTLS and libsrtp2 all follow such an engine.
 *
 * libsrtp2 runs this provider through the plug-in (srtpglue.c) rather
 * than its own mbedtls backend, for the HMAC: libsrtp2's backend uses
 * mbedtls_md_hmac_*(), which hashes the ipad block again at every reset
 * and the opad block at every finish (2 of the 6 SHA-1 compressions of a
 * 172-byte RTP packet). Here both padded keys are hashed once, when the
 * context is keyed, and each MAC starts from copies of those states.
 * AES-CTR is mbedtls_aes_crypt_ctr(): whole blocks, AES-NI where the CPU
 * has it.
 */
#include <string.h>
#include <re.h>
#include <mbedtls/aes.h>
#include <mbedtls/sha1.h>
#include <mbedtls/platform_util.h>
#include "crypto.h"

struct crypto_ctr {
	mbedtls_aes_context aes;
};

/* HMAC-SHA1 (RFC 2104) with the key's pads hashed once */
struct crypto_hmac {
	mbedtls_sha1_context inner;  /**< After H(K ^ ipad)         */
	mbedtls_sha1_context outer;  /**< After H(K ^ opad)         */
	mbedtls_sha1_context msg;    /**< The message so far        */
};

enum { SHA1_BLOCK = 64 };


static void ctr_destructor(void *arg)
{
	struct crypto_ctr *c = arg;

	mbedtls_aes_free(&c->aes);
}


static int soft_ctr_alloc(struct crypto_ctr **cp, const uint8_t *key,
			  size_t key_len)
{
	struct crypto_ctr *c;

	if (!cp || !key || (key_len != 16 && key_len != 32))
		return EINVAL;

	c = mem_zalloc(sizeof(*c), ctr_destructor);
	if (!c)
		return ENOMEM;

	mbedtls_aes_init(&c->aes);
	if (mbedtls_aes_setkey_enc(&c->aes, key, (unsigned)key_len * 8)) {
		mem_deref(c);
		return EINVAL;
	}

	*cp = c;
	return 0;
}


static int soft_ctr_crypt(struct crypto_ctr *c,
			  const uint8_t iv[CRYPTO_AES_BLOCK],
			  const uint8_t *in, uint8_t *out, size_t len)
{
	uint8_t nonce[CRYPTO_AES_BLOCK], block[CRYPTO_AES_BLOCK];
	size_t off = 0;
	int r;

	if (!c || !iv || (len && (!in || !out)))
		return EINVAL;

	memcpy(nonce, iv, sizeof(nonce));
	r = mbedtls_aes_crypt_ctr(&c->aes, len, &off, nonce, block, in, out);
	mbedtls_platform_zeroize(block, sizeof(block));

	return r ? EIO : 0;
}


static void hmac_destructor(void *arg)
{
	struct crypto_hmac *h = arg;

	mbedtls_sha1_free(&h->inner);
	mbedtls_sha1_free(&h->outer);
	mbedtls_sha1_free(&h->msg);
}


static int pad_state(mbedtls_sha1_context *ctx, const uint8_t *key,
		     size_t key_len, uint8_t pad)
{
	uint8_t block[SHA1_BLOCK];
	size_t i;
	int r;

	memset(block, pad, sizeof(block));
	for (i = 0; i < key_len; i++)
		block[i] ^= key[i];

	r = mbedtls_sha1_starts(ctx);
	if (!r)
		r = mbedtls_sha1_update(ctx, block, sizeof(block));

	mbedtls_platform_zeroize(block, sizeof(block));

	return r ? EIO : 0;
}


static int soft_hmac_alloc(struct crypto_hmac **hp, const uint8_t *key,
			   size_t key_len)
{
	uint8_t kh[CRYPTO_SHA1_LEN];
	struct crypto_hmac *h;
	int err;

	if (!hp || (!key && key_len))
		return EINVAL;

	h = mem_zalloc(sizeof(*h), hmac_destructor);
	if (!h)
		return ENOMEM;

	mbedtls_sha1_init(&h->inner);
	mbedtls_sha1_init(&h->outer);
	mbedtls_sha1_init(&h->msg);

	/* a key longer than a block is its hash (RFC 2104, 2) */
	if (key_len > SHA1_BLOCK) {
		if (mbedtls_sha1(key, key_len, kh)) {
			err = EIO;
			goto out;
		}
		key = kh;
		key_len = sizeof(kh);
	}

	err = pad_state(&h->inner, key, key_len, 0x36);
	if (!err)
		err = pad_state(&h->outer, key, key_len, 0x5c);
	if (!err)
		mbedtls_sha1_clone(&h->msg, &h->inner);

 out:
	mbedtls_platform_zeroize(kh, sizeof(kh));
	if (err)
		mem_deref(h);
	else
		*hp = h;

	return err;
}


static int soft_hmac_update(struct crypto_hmac *h, const uint8_t *p,
			    size_t len)
{
	if (!h || (!p && len))
		return EINVAL;

	return mbedtls_sha1_update(&h->msg, p, len) ? EIO : 0;
}


static int soft_hmac_final(struct crypto_hmac *h,
			   uint8_t mac[CRYPTO_SHA1_LEN])
{
	uint8_t ih[CRYPTO_SHA1_LEN];
	int r;

	if (!h || !mac)
		return EINVAL;

	r = mbedtls_sha1_finish(&h->msg, ih);
	if (!r) {
		mbedtls_sha1_clone(&h->msg, &h->outer);
		r = mbedtls_sha1_update(&h->msg, ih, sizeof(ih));
	}
	if (!r)
		r = mbedtls_sha1_finish(&h->msg, mac);

	/* ready for the next message */
	mbedtls_sha1_clone(&h->msg, &h->inner);
	mbedtls_platform_zeroize(ih, sizeof(ih));

	return r ? EIO : 0;
}


const struct crypto_provider crypto_software = {
	.name        = "software",
	.srtp_native = false,
	.ctr_alloc   = soft_ctr_alloc,
	.ctr_crypt   = soft_ctr_crypt,
	.hmac_alloc  = soft_hmac_alloc,
	.hmac_update = soft_hmac_update,
	.hmac_final  = soft_hmac_final,
};

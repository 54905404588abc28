/**
 * @file soft.c  The software provider: mbedtls
 *
 * mbedtls' AES is what a board's MBEDTLS_AES_ALT replaces (docs/crypto.md),
 * so this provider, TLS, DTLS and libsrtp2 all follow such an engine.
 */
#include <string.h>
#include <re.h>
#include <mbedtls/aes.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include "crypto.h"

struct crypto_ctr {
	mbedtls_aes_context aes;
};

struct crypto_hmac {
	mbedtls_md_context_t md;
};


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

	mbedtls_md_free(&h->md);
}


static int soft_hmac_alloc(struct crypto_hmac **hp, const uint8_t *key,
			   size_t key_len)
{
	const mbedtls_md_info_t *info;
	struct crypto_hmac *h;
	int err = 0;

	if (!hp || (!key && key_len))
		return EINVAL;

	info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
	if (!info)
		return ENOTSUP;

	h = mem_zalloc(sizeof(*h), hmac_destructor);
	if (!h)
		return ENOMEM;

	mbedtls_md_init(&h->md);
	if (mbedtls_md_setup(&h->md, info, 1))
		err = ENOMEM;
	else if (mbedtls_md_hmac_starts(&h->md, key, key_len))
		err = EINVAL;

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

	return mbedtls_md_hmac_update(&h->md, p, len) ? EIO : 0;
}


static int soft_hmac_final(struct crypto_hmac *h,
			   uint8_t mac[CRYPTO_SHA1_LEN])
{
	if (!h || !mac)
		return EINVAL;

	if (mbedtls_md_hmac_finish(&h->md, mac) ||
	    mbedtls_md_hmac_reset(&h->md))
		return EIO;

	return 0;
}


const struct crypto_provider crypto_software = {
	.name        = "software",
	.srtp_native = true,
	.ctr_alloc   = soft_ctr_alloc,
	.ctr_crypt   = soft_ctr_crypt,
	.hmac_alloc  = soft_hmac_alloc,
	.hmac_update = soft_hmac_update,
	.hmac_final  = soft_hmac_final,
};

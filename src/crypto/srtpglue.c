/**
 * @file srtpglue.c  The active provider as libsrtp2's AES-128-ICM and
 *                   HMAC-SHA1 (srtp_replace_cipher_type/_auth_type)
 *
 * libsrtp2 keeps its cipher types in its crypto kernel, which
 * srtp_init() builds and srtp_shutdown() tears down: the replacement
 * must be installed after every srtp_init() (crypto_srtp_install()).
 * libsrtp2 admits a replacement only after it passes both its own test
 * data and that of the type it replaces. A context takes the provider
 * active when libsrtp2 allocates it and keeps it for its lifetime.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include <srtp2/srtp.h>
#include <srtp2/cipher.h>
#include <srtp2/auth.h>
#include <mbedtls/platform_util.h>
#include "crypto.h"

struct icm {
	const struct crypto_provider *p;
	struct crypto_ctr *ctr;
	uint8_t salt[CRYPTO_AES_BLOCK];  /**< Salt, low 16 bits zero     */
	uint8_t iv[CRYPTO_AES_BLOCK];    /**< Counter block at set_iv    */
	uint64_t off;                    /**< Bytes used since set_iv    */
};

struct mac {
	const struct crypto_provider *p;
	struct crypto_hmac *hmac;
	bool open;                       /**< Bytes fed, no MAC taken    */
};

static const srtp_cipher_type_t icm_type;
static const srtp_auth_type_t mac_type;


static void icm_destructor(void *arg)
{
	struct icm *s = arg;

	mem_deref(s->ctr);
	mbedtls_platform_zeroize(s, sizeof(*s));
}


static srtp_err_status_t icm_alloc(srtp_cipher_pointer_t *cp, int key_len,
				   int tag_len)
{
	srtp_cipher_t *c;
	struct icm *s;
	(void)tag_len;

	if (key_len != SRTP_AES_ICM_128_KEY_LEN_WSALT)
		return srtp_err_status_bad_param;

	c = calloc(1, sizeof(*c));
	s = mem_zalloc(sizeof(*s), icm_destructor);
	if (!c || !s) {
		free(c);
		mem_deref(s);
		return srtp_err_status_alloc_fail;
	}

	s->p         = crypto_provider_active();
	c->state     = s;
	c->type      = &icm_type;
	c->algorithm = SRTP_AES_ICM_128;
	c->key_len   = key_len;
	*cp = c;

	return srtp_err_status_ok;
}


static srtp_err_status_t icm_dealloc(srtp_cipher_pointer_t c)
{
	if (!c)
		return srtp_err_status_bad_param;

	mem_deref(c->state);
	free(c);

	return srtp_err_status_ok;
}


static srtp_err_status_t icm_init(void *state, const uint8_t *key)
{
	struct icm *s = state;

	s->ctr = mem_deref(s->ctr);
	if (s->p->ctr_alloc(&s->ctr, key, SRTP_AES_128_KEY_LEN))
		return srtp_err_status_init_fail;

	memset(s->salt, 0, sizeof(s->salt));
	memcpy(s->salt, key + SRTP_AES_128_KEY_LEN, SRTP_SALT_LEN);

	return srtp_err_status_ok;
}


static srtp_err_status_t icm_set_iv(void *state, uint8_t *iv,
				    srtp_cipher_direction_t dir)
{
	struct icm *s = state;
	size_t i;
	(void)dir;

	for (i = 0; i < sizeof(s->iv); i++)
		s->iv[i] = s->salt[i] ^ iv[i];

	s->off = 0;

	return srtp_err_status_ok;
}


/* Keystream continues across calls until the next set_iv */
static srtp_err_status_t icm_encrypt(void *state, uint8_t *buf,
				     unsigned int *len)
{
	struct icm *s = state;
	uint8_t ctr[CRYPTO_AES_BLOCK], ks[CRYPTO_AES_BLOCK];
	size_t left = *len;

	if (!s->ctr)
		return srtp_err_status_cipher_fail;

	while (left) {
		size_t part = s->off % CRYPTO_AES_BLOCK, n, i;

		memcpy(ctr, s->iv, sizeof(ctr));
		crypto_ctr_add(ctr, s->off / CRYPTO_AES_BLOCK);

		if (!part) {
			if (s->p->ctr_crypt(s->ctr, ctr, buf, buf, left))
				return srtp_err_status_cipher_fail;
			s->off += left;
			break;
		}

		/* finish a block begun by the previous call */
		memset(ks, 0, sizeof(ks));
		if (s->p->ctr_crypt(s->ctr, ctr, ks, ks, sizeof(ks)))
			return srtp_err_status_cipher_fail;

		n = min(left, CRYPTO_AES_BLOCK - part);
		for (i = 0; i < n; i++)
			buf[i] ^= ks[part + i];

		s->off += n;
		buf    += n;
		left   -= n;
	}

	mbedtls_platform_zeroize(ks, sizeof(ks));

	return srtp_err_status_ok;
}


static void mac_destructor(void *arg)
{
	struct mac *s = arg;

	mem_deref(s->hmac);
}


static srtp_err_status_t mac_alloc(srtp_auth_pointer_t *ap, int key_len,
				   int out_len)
{
	srtp_auth_t *a;
	struct mac *s;

	if (out_len < 0 || out_len > CRYPTO_SHA1_LEN || key_len < 0)
		return srtp_err_status_bad_param;

	a = calloc(1, sizeof(*a));
	s = mem_zalloc(sizeof(*s), mac_destructor);
	if (!a || !s) {
		free(a);
		mem_deref(s);
		return srtp_err_status_alloc_fail;
	}

	s->p          = crypto_provider_active();
	a->state      = s;
	a->type       = &mac_type;
	a->out_len    = out_len;
	a->key_len    = key_len;
	a->prefix_len = 0;
	*ap = a;

	return srtp_err_status_ok;
}


static srtp_err_status_t mac_dealloc(srtp_auth_pointer_t a)
{
	if (!a)
		return srtp_err_status_bad_param;

	mem_deref(a->state);
	free(a);

	return srtp_err_status_ok;
}


static srtp_err_status_t mac_init(void *state, const uint8_t *key,
				  int key_len)
{
	struct mac *s = state;

	s->hmac = mem_deref(s->hmac);
	s->open = false;

	if (s->p->hmac_alloc(&s->hmac, key, (size_t)key_len))
		return srtp_err_status_auth_fail;

	return srtp_err_status_ok;
}


static srtp_err_status_t mac_start(void *state)
{
	struct mac *s = state;
	uint8_t scratch[CRYPTO_SHA1_LEN];

	if (!s->hmac)
		return srtp_err_status_auth_fail;

	/* a message left unfinished is thrown away */
	if (s->open && s->p->hmac_final(s->hmac, scratch))
		return srtp_err_status_auth_fail;

	s->open = false;

	return srtp_err_status_ok;
}


static srtp_err_status_t mac_update(void *state, const uint8_t *buf,
				    int len)
{
	struct mac *s = state;

	if (!s->hmac || len < 0)
		return srtp_err_status_bad_param;

	s->open = true;
	if (s->p->hmac_update(s->hmac, buf, (size_t)len))
		return srtp_err_status_auth_fail;

	return srtp_err_status_ok;
}


static srtp_err_status_t mac_compute(void *state, const uint8_t *buf,
				     int len, int tag_len, uint8_t *tag)
{
	struct mac *s = state;
	uint8_t mac[CRYPTO_SHA1_LEN];
	srtp_err_status_t st;

	if (tag_len < 0 || tag_len > CRYPTO_SHA1_LEN)
		return srtp_err_status_bad_param;

	st = mac_update(state, buf, len);
	if (st)
		return st;

	s->open = false;
	if (s->p->hmac_final(s->hmac, mac))
		return srtp_err_status_auth_fail;

	memcpy(tag, mac, (size_t)tag_len);

	return srtp_err_status_ok;
}


/* RFC 3711 B.2 (as libsrtp2's own aes_icm test case) */
static const uint8_t tc_icm_key[SRTP_AES_ICM_128_KEY_LEN_WSALT] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd
};

static uint8_t tc_icm_idx[16];

static const uint8_t tc_icm_pt[32];

static const uint8_t tc_icm_ct[32] = {
	0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80,
	0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
	0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7,
	0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab
};

static const srtp_cipher_test_case_t icm_tc = {
	sizeof(tc_icm_key), tc_icm_key, tc_icm_idx,
	sizeof(tc_icm_pt), tc_icm_pt, sizeof(tc_icm_ct), tc_icm_ct,
	0, NULL, 0, NULL
};

/* RFC 2202 test case 1 */
static const uint8_t tc_mac_key[20] = {
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b
};

static const uint8_t tc_mac_data[8] = {
	'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'
};

static const uint8_t tc_mac_tag[20] = {
	0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
	0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00
};

static const srtp_auth_test_case_t mac_tc = {
	sizeof(tc_mac_key), tc_mac_key, sizeof(tc_mac_data), tc_mac_data,
	sizeof(tc_mac_tag), tc_mac_tag, NULL
};

static const srtp_cipher_type_t icm_type = {
	icm_alloc, icm_dealloc, icm_init, NULL, icm_encrypt, icm_encrypt,
	icm_set_iv, NULL, "AES-128-ICM via imsedge crypto provider",
	&icm_tc, SRTP_AES_ICM_128
};

static const srtp_auth_type_t mac_type = {
	mac_alloc, mac_dealloc, mac_init, mac_compute, mac_update, mac_start,
	"HMAC-SHA1 via imsedge crypto provider", &mac_tc, SRTP_HMAC_SHA1
};


/**
 * Make libsrtp2 use the active provider for AES-128-ICM and HMAC-SHA1.
 * Call after each srtp_init(). Nothing to do for a provider libsrtp2
 * already has built in (software); once installed, libsrtp2 contexts
 * follow whichever provider is active when they are created, until
 * srtp_shutdown().
 *
 * @return 0 if success, EBADMSG if libsrtp2's own tests refuse the
 *         provider, else errorcode
 */
int crypto_srtp_install(void)
{
	srtp_err_status_t st;

	if (crypto_provider_active()->srtp_native)
		return 0;

	st = srtp_replace_cipher_type(&icm_type, SRTP_AES_ICM_128);
	if (!st)
		st = srtp_replace_auth_type(&mac_type, SRTP_HMAC_SHA1);

	switch (st) {

	case srtp_err_status_ok:         return 0;
	case srtp_err_status_alloc_fail: return ENOMEM;
	case srtp_err_status_algo_fail:
	case srtp_err_status_auth_fail:
	case srtp_err_status_cipher_fail: return EBADMSG;
	default:                         return EINVAL;
	}
}

/**
 * @file crypto.c  Provider table, known-answer tests, selection
 */
#include <string.h>
#include <re.h>
#include "../core/log.h"
#include "crypto.h"

#define LOG_MODULE "crypto"

/* BOARD_CRYPTO from board.mk (tools/crypto.mk passes it) */
#ifndef CRYPTO_BOARD_DEFAULT
#define CRYPTO_BOARD_DEFAULT "software"
#endif

static const struct crypto_provider *providers[] = {
	&crypto_software,
	&crypto_afalg,
};

static const struct crypto_provider *active = &crypto_software;


/* RFC 3711 Appendix B.2: AES-CM keystream, session key and salt */
static const uint8_t kat_cm_key[16] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c
};

/* counter blocks 0x0000 and 0xfeff (the carry into the next octet) */
static const uint8_t kat_cm_iv[2][16] = {
	{0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0x00, 0x00},
	{0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff},
};

static const uint8_t kat_cm_ks[2][48] = {
	{0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80,
	 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
	 0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7,
	 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
	 0x41, 0xe9, 0x5b, 0x3b, 0xb0, 0xa2, 0xe8, 0xdd,
	 0x47, 0x79, 0x01, 0xe4, 0xfc, 0xa8, 0x94, 0xc0},
	{0xec, 0x8c, 0xdf, 0x73, 0x98, 0x60, 0x7c, 0xb0,
	 0xf2, 0xd2, 0x16, 0x75, 0xea, 0x9e, 0xa1, 0xe4,
	 0x36, 0x2b, 0x7c, 0x3c, 0x67, 0x73, 0x51, 0x63,
	 0x18, 0xa0, 0x77, 0xd7, 0xfc, 0x50, 0x73, 0xae,
	 0x6a, 0x2c, 0xc3, 0x78, 0x78, 0x89, 0x37, 0x4f,
	 0xbe, 0xb4, 0xc8, 0x1b, 0x17, 0xba, 0x6c, 0x44},
};

/* RFC 2202 test case 2 */
static const char kat_hmac_key[] = "Jefe";
static const char kat_hmac_msg[] = "what do ya want for nothing?";
static const uint8_t kat_hmac_mac[CRYPTO_SHA1_LEN] = {
	0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2,
	0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c,
	0x25, 0x9a, 0x7c, 0x79
};


/**
 * Add to a 128-bit big-endian counter block
 *
 * @param ctr    Counter block
 * @param blocks Number of blocks to add
 */
void crypto_ctr_add(uint8_t ctr[CRYPTO_AES_BLOCK], uint64_t blocks)
{
	int i;

	for (i = CRYPTO_AES_BLOCK - 1; i >= 0 && blocks; i--) {
		uint64_t v = ctr[i] + (blocks & 0xff);

		ctr[i] = (uint8_t)v;
		blocks = (blocks >> 8) + (v >> 8);
	}
}


static int kat_ctr(const struct crypto_provider *p, char *why, size_t whysz)
{
	struct crypto_ctr *c = NULL;
	uint8_t buf[48];
	size_t i;
	int err;

	err = p->ctr_alloc(&c, kat_cm_key, sizeof(kat_cm_key));
	if (err) {
		(void)re_snprintf(why, whysz, "AES-CTR key: %m", err);
		return err;
	}

	for (i = 0; i < ARRAY_SIZE(kat_cm_iv); i++) {
		memset(buf, 0, sizeof(buf));
		err = p->ctr_crypt(c, kat_cm_iv[i], buf, buf, sizeof(buf));
		if (err) {
			(void)re_snprintf(why, whysz, "AES-CTR: %m", err);
			break;
		}

		if (memcmp(buf, kat_cm_ks[i], sizeof(buf))) {
			(void)re_snprintf(why, whysz, "AES-CM known-answer "
					  "test failed");
			err = EBADMSG;
			break;
		}
	}

	mem_deref(c);
	return err;
}


static int kat_hmac(const struct crypto_provider *p, char *why,
		    size_t whysz)
{
	struct crypto_hmac *h = NULL;
	const uint8_t *msg = (const uint8_t *)kat_hmac_msg;
	uint8_t mac[CRYPTO_SHA1_LEN];
	int round, err;

	err = p->hmac_alloc(&h, (const uint8_t *)kat_hmac_key,
			    strlen(kat_hmac_key));
	if (err) {
		(void)re_snprintf(why, whysz, "HMAC-SHA1 key: %m", err);
		return err;
	}

	/* twice: the second message checks that final() starts anew;
	   the message goes in two pieces as SRTP feeds it */
	for (round = 0; round < 2; round++) {
		err  = p->hmac_update(h, msg, 10);
		err |= err ? 0 : p->hmac_update(h, msg + 10,
						strlen(kat_hmac_msg) - 10);
		err |= err ? 0 : p->hmac_final(h, mac);
		if (err) {
			(void)re_snprintf(why, whysz, "HMAC-SHA1: %m", err);
			break;
		}

		if (memcmp(mac, kat_hmac_mac, sizeof(mac))) {
			(void)re_snprintf(why, whysz, "HMAC-SHA1 known-answer "
					  "test failed");
			err = EBADMSG;
			break;
		}
	}

	mem_deref(h);
	return err;
}


/**
 * Run a provider's known-answer tests (RFC 3711 B.2 AES-CM keystream,
 * RFC 2202 HMAC-SHA1); the provider must be initialised
 *
 * @param p     Provider
 * @param why   Buffer for the reason of a failure (may be NULL)
 * @param whysz Size of why
 *
 * @return 0 if all pass, EBADMSG on a wrong answer, else errorcode
 */
int crypto_kat(const struct crypto_provider *p, char *why, size_t whysz)
{
	char dummy[8];
	int err;

	if (!p || !p->ctr_alloc || !p->ctr_crypt || !p->hmac_alloc ||
	    !p->hmac_update || !p->hmac_final)
		return EINVAL;

	if (!why) {
		why   = dummy;
		whysz = sizeof(dummy);
	}

	err = kat_ctr(p, why, whysz);
	if (!err)
		err = kat_hmac(p, why, whysz);

	return err;
}


/**
 * Find a built-in provider by name
 *
 * @param name Provider name
 *
 * @return Provider, NULL if unknown
 */
const struct crypto_provider *crypto_provider_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(providers); i++) {
		if (!strcmp(providers[i]->name, name))
			return providers[i];
	}

	return NULL;
}


/**
 * Get a built-in provider by index
 *
 * @param i Index, from 0
 *
 * @return Provider, NULL past the last
 */
const struct crypto_provider *crypto_provider_get(size_t i)
{
	return i < ARRAY_SIZE(providers) ? providers[i] : NULL;
}


static int admit(const struct crypto_provider *p, char *why, size_t whysz)
{
	int err = 0;

	if (p->init) {
		err = p->init();
		if (err) {
			(void)re_snprintf(why, whysz, "%m", err);
			return err;
		}
	}

	err = crypto_kat(p, why, whysz);
	if (err && p->close)
		p->close();

	return err;
}


static void activate(const struct crypto_provider *p)
{
	if (active != p && active->close)
		active->close();

	active = p;
}


/**
 * Make a provider the active one after its known-answer tests; if it is
 * unusable, fall back to software (one log line)
 *
 * @param p Provider (built-in or the caller's)
 *
 * @return 0 if p is active, else the reason it is not (software is
 *         active then, unless software itself failed)
 */
int crypto_use(const struct crypto_provider *p)
{
	char why[128] = "";
	int err;

	if (!p)
		return EINVAL;

	if (p == active && p != &crypto_software)
		return 0;

	err = admit(p, why, sizeof(why));
	if (!err) {
		activate(p);
		log_info("provider %s", p->name);
		return 0;
	}

	if (p == &crypto_software) {
		log_error("software provider fails its self-test (%s)", why);
		return err;
	}

	log_warn("provider %s unavailable (%s), using software", p->name,
		 why);

	if (admit(&crypto_software, why, sizeof(why))) {
		log_error("software provider fails its self-test (%s)", why);
		return err;
	}

	activate(&crypto_software);

	return err;
}


/**
 * Select the crypto provider by name, as the configuration gives it
 *
 * A provider that cannot be used (no kernel support, a wrong known
 * answer) is replaced by software with one log line; that is no error.
 *
 * @param name "software", "afalg", or NULL for the board's default
 *
 * @return 0 if a working provider is active, ENOENT for an unknown
 *         name, else errorcode (software itself failed)
 */
int crypto_select(const char *name)
{
	const struct crypto_provider *p;
	int err;

	p = crypto_provider_find(name ? name : CRYPTO_BOARD_DEFAULT);
	if (!p)
		return ENOENT;

	err = crypto_use(p);
	if (err && active == &crypto_software && p != &crypto_software)
		err = 0;

	return err;
}


/**
 * Get the active provider
 *
 * @return Active provider (software until one is selected)
 */
const struct crypto_provider *crypto_provider_active(void)
{
	return active;
}


/**
 * Get the name of the active provider
 *
 * @return Name, e.g. "software"
 */
const char *crypto_active(void)
{
	return active->name;
}


/**
 * Close the active provider and go back to software
 */
void crypto_close(void)
{
	activate(&crypto_software);
}

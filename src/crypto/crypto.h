/**
 * @file crypto.h  Crypto providers: the primitives SRTP needs, swappable
 *
 * A provider is a function table (netifd's struct device_type shape):
 * AES-CTR keystream (AES-128-CM for SRTP) and HMAC-SHA1. `software`
 * (mbedtls) is always there; `afalg` uses the Linux kernel crypto API
 * (AF_ALG sockets, so an engine with a kernel driver is used). One
 * provider is active per process; crypto_select() admits it only after
 * its known-answer tests pass (RFC 3711 B.2, RFC 2202) and otherwise
 * falls back to software with one log line. See docs/crypto.md.
 *
 * Contexts are libre mem objects: release them with mem_deref().
 * Include re.h first.
 */

#ifndef IMSEDGE_CRYPTO_H
#define IMSEDGE_CRYPTO_H

enum {
	CRYPTO_AES_BLOCK = 16,
	CRYPTO_SHA1_LEN  = 20,
};

struct crypto_ctr;    /**< Keyed AES-CTR context, provider-defined */
struct crypto_hmac;   /**< Keyed HMAC-SHA1 context, provider-defined */

/** A crypto engine */
struct crypto_provider {
	const char *name;
	/** libsrtp2's built-in (mbedtls) ciphers already are this one */
	bool srtp_native;

	/** Probe the engine; 0 if usable (NULL: always usable) */
	int  (*init)(void);
	/** Release what init() set up (NULL: nothing) */
	void (*close)(void);

	/** Key an AES-CTR context (key_len 16 or 32) */
	int (*ctr_alloc)(struct crypto_ctr **cp, const uint8_t *key,
			 size_t key_len);
	/** out = in XOR keystream from counter block iv (in == out ok) */
	int (*ctr_crypt)(struct crypto_ctr *c,
			 const uint8_t iv[CRYPTO_AES_BLOCK],
			 const uint8_t *in, uint8_t *out, size_t len);

	/** Key an HMAC-SHA1 context */
	int (*hmac_alloc)(struct crypto_hmac **hp, const uint8_t *key,
			  size_t key_len);
	/** Add message bytes */
	int (*hmac_update)(struct crypto_hmac *h, const uint8_t *p,
			   size_t len);
	/** Write the MAC of the message so far; starts a new message */
	int (*hmac_final)(struct crypto_hmac *h,
			  uint8_t mac[CRYPTO_SHA1_LEN]);
};

extern const struct crypto_provider crypto_software;
extern const struct crypto_provider crypto_afalg;

const struct crypto_provider *crypto_provider_find(const char *name);
const struct crypto_provider *crypto_provider_get(size_t i);
int  crypto_kat(const struct crypto_provider *p, char *why, size_t whysz);
int  crypto_select(const char *name);
int  crypto_use(const struct crypto_provider *p);
const struct crypto_provider *crypto_provider_active(void);
const char *crypto_active(void);
void crypto_close(void);
int  crypto_srtp_install(void);
void crypto_ctr_add(uint8_t ctr[CRYPTO_AES_BLOCK], uint64_t blocks);

#endif

/**
 * @file rng.c  The process-wide CTR-DRBG shared by TLS objects
 */
#include <re.h>
#include <psa/crypto.h>
#include "tls.h"
#include "tlsx.h"
#include "tls_mem.h"
#include "../core/trim.h"

static struct tls_rng *rng_shared;
static struct tls_rng *rng_held;   /* by tls_rand_attach() */


static void rng_destructor(void *arg)
{
	struct tls_rng *rng = arg;

	mbedtls_ctr_drbg_free(&rng->drbg);
	mbedtls_entropy_free(&rng->entropy);

	if (rng == rng_shared)
		rng_shared = NULL;
}


/**
 * Initialise mbedtls' PSA crypto (TLS 1.3 and the PSA drivers need it)
 * and its allocator (record buffers in tls_mem's pool); idempotent, also done before the first TLS context or random bytes
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_init(void)
{
	static bool mem;

	/* record buffers in a pool of their own (tls_mem.h) */
	if (!mem) {
		tls_mem_init();
		trim_set_hook(tls_mem_trim);
		mem = true;
	}

	return psa_crypto_init() == PSA_SUCCESS ? 0 : EIO;
}


/**
 * Get a reference to the shared, seeded random generator
 *
 * @param rngp Returned reference (release with mem_deref)
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_rng_get(struct tls_rng **rngp)
{
	static const char pers[] = "imsedge";
	struct tls_rng *rng;

	if (!rngp)
		return EINVAL;

	if (rng_shared) {
		*rngp = mem_ref(rng_shared);
		return 0;
	}

	if (tls_init())
		return EIO;

	rng = mem_zalloc(sizeof(*rng), rng_destructor);
	if (!rng)
		return ENOMEM;

	mbedtls_entropy_init(&rng->entropy);
	mbedtls_ctr_drbg_init(&rng->drbg);

	if (mbedtls_ctr_drbg_seed(&rng->drbg, mbedtls_entropy_func,
				  &rng->entropy, (const uint8_t *)pers,
				  sizeof(pers) - 1)) {
		mem_deref(rng);
		return EIO;
	}

	rng_shared = rng;
	*rngp = rng;

	return 0;
}


/**
 * Fill a buffer with cryptographically strong random bytes
 *
 * @param buf Buffer
 * @param len Number of bytes
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_random(void *buf, size_t len)
{
	struct tls_rng *rng;
	int err;

	if (rng_shared && buf)
		return mbedtls_ctr_drbg_random(&rng_shared->drbg, buf, len) ?
			EIO : 0;

	err = tls_rng_get(&rng);
	if (err)
		return err;

	err = mbedtls_ctr_drbg_random(&rng->drbg, buf, len) ? EIO : 0;

	/* reseeded on the next call if no TLS context holds it */
	mem_deref(rng);

	return err;
}


/**
 * tls_random() as an mbedtls random callback (f_rng)
 *
 * @param ctx Unused
 * @param buf Buffer
 * @param len Number of bytes
 *
 * @return 0 if success, otherwise an mbedtls error
 */
int tls_mbedtls_rng(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;

	return tls_random(buf, len) ?
		MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED : 0;
}


/**
 * Seed the shared generator once and keep it for the process's life;
 * libre's rand_*() (SIP tags, branches, Call-IDs) then draw from it
 * instead of making a system call for each number
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_rand_attach(void)
{
	int err;

	if (rng_held)
		return 0;

	err = tls_rng_get(&rng_held);
	if (err)
		return err;

	rand_set_source(tls_random);

	return 0;
}


/**
 * Give libre's rand_*() back their own source and release the generator
 */
void tls_rand_detach(void)
{
	rand_set_source(NULL);
	rng_held = mem_deref(rng_held);
}

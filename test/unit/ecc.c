/**
 * @file ecc.c  The fast ECC implementations are compiled in and give the
 *              right answers through the APIs the TLS stack uses
 *
 * TLS 1.3 key shares and (with MBEDTLS_USE_PSA_CRYPTO) the TLS 1.2/DTLS
 * ECDHE use PSA key agreement; certificate signatures go through pk.
 * Everest must serve X25519 there, and on boards with 32-bit bignum limbs
 * the p256-m driver P-256 (issue 13).
 * Known answers: RFC 7748 section 6.1 for X25519; P-256 against
 * mbedtls' generic ECP code, an independent implementation.
 */
#include <string.h>
#include <re.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <psa/crypto.h>
#include "tls/tls.h"
#include "tls/tlsx.h"
#include "test.h"

/* Everest and PSA everywhere; p256-m where mbedtls' bignum has 32-bit
   limbs (no 128-bit integer: armhf, mipsel), see the config */
#if !defined(MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED) ||                  \
	!defined(MBEDTLS_USE_PSA_CRYPTO) ||                            \
	(!defined(__SIZEOF_INT128__) &&                                \
	 !defined(MBEDTLS_PSA_P256M_DRIVER_ENABLED))
#define ECC_SLOW 1
#endif

#ifdef MBEDTLS_PSA_P256M_DRIVER_ENABLED
/* p256-m's own API (3rdparty/p256-m/p256-m/p256-m.h, not installed):
   linked only when the driver is compiled into libmbedcrypto */
int p256_ecdh_shared_secret(uint8_t secret[32], const uint8_t priv[32],
			    const uint8_t peer[64]);
#endif

/* RFC 7748, 6.1 */
static const uint8_t alice_priv[32] = {
	0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d,
	0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
	0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a,
	0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a
};
static const uint8_t alice_pub[32] = {
	0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54,
	0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
	0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4,
	0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a
};
static const uint8_t bob_pub[32] = {
	0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4,
	0xd3, 0x5b, 0x61, 0xc2, 0xec, 0xe4, 0x35, 0x37,
	0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78, 0x67, 0x4d,
	0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88, 0x2b, 0x4f
};
static const uint8_t shared_k[32] = {
	0x4a, 0x5d, 0x9d, 0x5b, 0xa4, 0xce, 0x2d, 0xe1,
	0x72, 0x8e, 0x3b, 0xf4, 0x80, 0x35, 0x0f, 0x25,
	0xe0, 0x7e, 0x21, 0xc9, 0x47, 0xd1, 0x9e, 0x33,
	0x76, 0xf0, 0x9b, 0x3c, 0x1e, 0x16, 0x17, 0x42
};


static psa_key_id_t import_ecdh(psa_ecc_family_t fam, size_t bits,
				const uint8_t *priv, size_t len)
{
	psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
	psa_key_id_t id = 0;

	psa_set_key_type(&a, PSA_KEY_TYPE_ECC_KEY_PAIR(fam));
	psa_set_key_bits(&a, bits);
	psa_set_key_usage_flags(&a, PSA_KEY_USAGE_DERIVE);
	psa_set_key_algorithm(&a, PSA_ALG_ECDH);

	if (psa_import_key(&a, priv, len, &id) != PSA_SUCCESS)
		return 0;

	return id;
}


/* X25519 through PSA (TLS 1.3 key share, USE_PSA TLS 1.2 ECDHE) */
static int x25519_psa(void)
{
	uint8_t pub[32], z[32];
	psa_key_id_t id;
	size_t n = 0;
	int err = 0;

	id = import_ecdh(PSA_ECC_FAMILY_MONTGOMERY, 255, alice_priv,
			 sizeof(alice_priv));
	TEST_ASSERT(id != 0);

	TEST_EQ(psa_export_public_key(id, pub, sizeof(pub), &n),
		PSA_SUCCESS);
	TEST_EQ(n, sizeof(pub));
	TEST_ASSERT(!memcmp(pub, alice_pub, sizeof(pub)));

	TEST_EQ(psa_raw_key_agreement(PSA_ALG_ECDH, id, bob_pub,
				      sizeof(bob_pub), z, sizeof(z), &n),
		PSA_SUCCESS);
	TEST_EQ(n, sizeof(z));
	TEST_ASSERT(!memcmp(z, shared_k, sizeof(z)));

 out:
	(void)psa_destroy_key(id);
	return err;
}


/* The ECDH context PSA's key agreement runs on picks Everest */
static int x25519_everest(void)
{
	mbedtls_ecdh_context ctx;
	int err = 0;

	mbedtls_ecdh_init(&ctx);
	TEST_EQ(mbedtls_ecdh_setup(&ctx, MBEDTLS_ECP_DP_CURVE25519), 0);
#ifdef MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED
	TEST_EQ(ctx.MBEDTLS_PRIVATE(var), MBEDTLS_ECDH_VARIANT_EVEREST);
#endif
 out:
	mbedtls_ecdh_free(&ctx);
	return err;
}


/* A P-256 key pair from mbedtls' generic ECP code */
static int p256_generic(mbedtls_ecp_keypair *kp, uint8_t priv[32],
			uint8_t pub[65])
{
	size_t n = 0;

	if (mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, kp,
				tls_mbedtls_rng, NULL) ||
	    mbedtls_mpi_write_binary(&kp->MBEDTLS_PRIVATE(d), priv, 32) ||
	    mbedtls_ecp_point_write_binary(&kp->MBEDTLS_PRIVATE(grp),
					   &kp->MBEDTLS_PRIVATE(Q),
					   MBEDTLS_ECP_PF_UNCOMPRESSED, &n,
					   pub, 65) || n != 65)
		return EIO;

	return 0;
}


/* P-256 ECDH: PSA (p256-m on 32-bit boards), p256-m directly there and
   the generic ECP code agree */
static int p256_ecdh(void)
{
	mbedtls_ecp_keypair a, b;
	uint8_t apriv[32], apub[65], bpriv[32], bpub[65];
	uint8_t z1[32], z2[32], pub[65];
	psa_key_id_t id = 0;
	size_t n = 0;
	int err = 0;

	mbedtls_ecp_keypair_init(&a);
	mbedtls_ecp_keypair_init(&b);

	TEST_ERR(p256_generic(&a, apriv, apub));
	TEST_ERR(p256_generic(&b, bpriv, bpub));

	id = import_ecdh(PSA_ECC_FAMILY_SECP_R1, 256, apriv, sizeof(apriv));
	TEST_ASSERT(id != 0);
	TEST_EQ(psa_export_public_key(id, pub, sizeof(pub), &n),
		PSA_SUCCESS);
	TEST_ASSERT(n == sizeof(pub) && !memcmp(pub, apub, sizeof(pub)));

	TEST_EQ(psa_raw_key_agreement(PSA_ALG_ECDH, id, bpub, sizeof(bpub),
				      z1, sizeof(z1), &n), PSA_SUCCESS);
	TEST_EQ(n, sizeof(z1));

	/* generic: b's secret with a's public point */
	{
		mbedtls_mpi z;

		mbedtls_mpi_init(&z);
		err = mbedtls_ecdh_compute_shared(&b.MBEDTLS_PRIVATE(grp), &z,
						  &a.MBEDTLS_PRIVATE(Q),
						  &b.MBEDTLS_PRIVATE(d),
						  tls_mbedtls_rng, NULL) ||
			mbedtls_mpi_write_binary(&z, z2, sizeof(z2)) ? EIO : 0;
		mbedtls_mpi_free(&z);
		TEST_ERR(err);
	}
	TEST_ASSERT(!memcmp(z1, z2, sizeof(z1)));

#ifdef MBEDTLS_PSA_P256M_DRIVER_ENABLED
	/* p256-m's own entry point (uncompressed point without 0x04) */
	TEST_EQ(p256_ecdh_shared_secret(z2, bpriv, apub + 1), 0);
	TEST_ASSERT(!memcmp(z1, z2, sizeof(z1)));
#endif

 out:
	(void)psa_destroy_key(id);
	mbedtls_ecp_keypair_free(&a);
	mbedtls_ecp_keypair_free(&b);
	mbedtls_platform_zeroize(apriv, sizeof(apriv));
	mbedtls_platform_zeroize(bpriv, sizeof(bpriv));
	return err;
}


/* ECDSA P-256 through pk (what TLS signs and verifies with: PSA, p256-m
   verifies on 32-bit boards), checked against the generic ECDSA code
   both ways */
static int p256_ecdsa(void)
{
	static const char msg[] = "imsedge issue 13";
	mbedtls_pk_context pk;
	mbedtls_ecp_keypair *kp;
	uint8_t hash[32], sig[MBEDTLS_ECDSA_MAX_LEN];
	size_t n = 0;
	int err = 0;

	mbedtls_pk_init(&pk);
	TEST_EQ(mbedtls_sha256((const uint8_t *)msg, sizeof(msg) - 1, hash,
			       0), 0);
	TEST_EQ(mbedtls_pk_setup(&pk,
			mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
	kp = mbedtls_pk_ec(pk);
	TEST_EQ(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, kp,
				    tls_mbedtls_rng, NULL), 0);

	/* pk signs (PSA), the generic code verifies */
	TEST_EQ(mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash),
				sig, sizeof(sig), &n, tls_mbedtls_rng, NULL),
		0);
	TEST_EQ(mbedtls_ecdsa_read_signature(kp, hash, sizeof(hash), sig,
					     n), 0);

	/* the generic code signs, pk verifies (PSA: p256-m) */
	TEST_EQ(mbedtls_ecdsa_write_signature(kp, MBEDTLS_MD_SHA256, hash,
					      sizeof(hash), sig, sizeof(sig),
					      &n, tls_mbedtls_rng, NULL), 0);
	TEST_EQ(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash,
				  sizeof(hash), sig, n), 0);

	/* and refuses another hash */
	hash[5] ^= 0x10;
	TEST_ASSERT(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash,
				      sizeof(hash), sig, n) != 0);

 out:
	mbedtls_pk_free(&pk);
	return err;
}


int test_ecc_fast(void)
{
	int err = 0;

#ifdef ECC_SLOW
	test_fail(__FILE__, __LINE__, "mbedtls built without Everest X25519"
		  ", MBEDTLS_USE_PSA_CRYPTO or (32-bit limbs) the p256-m "
		  "driver (third_party/mbedtls/imsedge_mbedtls_config.h)",
		  0);
	err = ENOTSUP;
	goto out;
#endif
	TEST_ERR(tls_init());
	TEST_ERR(x25519_everest());
	TEST_ERR(x25519_psa());
	TEST_ERR(p256_ecdh());
	TEST_ERR(p256_ecdsa());

 out:
	return err;
}

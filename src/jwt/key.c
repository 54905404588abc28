/**
 * @file key.c  ES256 keys: loading (PEM or DER; SEC1, PKCS#8 or
 *              SubjectPublicKeyInfo), the RFC 7638 key id, raw r||s
 *              signatures over a SHA-256 hash
 */
#include <string.h>
#include <re.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/platform_util.h>
#include "../core/file.h"
#include "../tls/tlsx.h"
#include "jwt.h"
#include "jwt_int.h"

enum {
	KEY_FILE_MAX = 16384,   /* a P-256 key file is about 250 bytes   */
	COORD_LEN    = 32,      /* P-256 field element                   */
};


static void key_destructor(void *arg)
{
	struct jwt_key *key = arg;

	mbedtls_pk_free(&key->pk);
}


static bool is_p256(const mbedtls_pk_context *pk)
{
	mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);

	if (t != MBEDTLS_PK_ECKEY && t != MBEDTLS_PK_ECDSA)
		return false;

	return mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(*pk)) ==
		MBEDTLS_ECP_DP_SECP256R1;
}


/* The key's parts, copied out (mbedtls 3 keeps them private) */
struct ec_parts {
	mbedtls_ecp_group grp;
	mbedtls_mpi d;
	mbedtls_ecp_point q;
};


static int parts_get(struct ec_parts *ep, const struct jwt_key *key)
{
	mbedtls_ecp_group_init(&ep->grp);
	mbedtls_mpi_init(&ep->d);
	mbedtls_ecp_point_init(&ep->q);

	return mbedtls_ecp_export(mbedtls_pk_ec(key->pk), &ep->grp,
				  &ep->d, &ep->q) ? EINVAL : 0;
}


static void parts_free(struct ec_parts *ep)
{
	mbedtls_ecp_group_free(&ep->grp);
	mbedtls_mpi_free(&ep->d);
	mbedtls_ecp_point_free(&ep->q);
}


/* RFC 7638: SHA-256 over {"crv":"P-256","kty":"EC","x":..,"y":..} */
static int key_thumbprint(struct jwt_key *key)
{
	uint8_t q[1 + 2 * COORD_LEN], hash[32];
	char xs[48], ys[48], jwk[160];
	size_t qlen = 0;
	int n, err;

	if (mbedtls_ecp_write_public_key(mbedtls_pk_ec(key->pk),
					 MBEDTLS_ECP_PF_UNCOMPRESSED, &qlen,
					 q, sizeof(q)) || qlen != sizeof(q))
		return EINVAL;

	err  = jwt_b64_encode(xs, sizeof(xs), q + 1, COORD_LEN, true);
	err |= jwt_b64_encode(ys, sizeof(ys), q + 1 + COORD_LEN, COORD_LEN,
			      true);
	if (err)
		return EINVAL;

	n = re_snprintf(jwk, sizeof(jwk),
			"{\"crv\":\"P-256\",\"kty\":\"EC\","
			"\"x\":\"%s\",\"y\":\"%s\"}", xs, ys);
	if (n <= 0)
		return EINVAL;

	if (mbedtls_sha256((const uint8_t *)jwk, (size_t)n, hash, 0))
		return EINVAL;

	return jwt_b64_encode(key->kid, sizeof(key->kid), hash,
			      sizeof(hash), true);
}


/* Private first, then public; mbedtls wants PEM NUL-terminated. PSA
   must be up: with MBEDTLS_USE_PSA_CRYPTO a key without its public
   part gets it derived through PSA */
static int key_parse(struct jwt_key *key, const uint8_t *buf, size_t len)
{
	int ret;

	if (tls_init())
		return EIO;

	ret = mbedtls_pk_parse_key(&key->pk, buf, len, NULL, 0,
				   tls_mbedtls_rng, NULL);
	if (!ret) {
		key->priv = true;
		return 0;
	}

	mbedtls_pk_free(&key->pk);
	mbedtls_pk_init(&key->pk);

	ret = mbedtls_pk_parse_public_key(&key->pk, buf, len);

	return ret ? EBADMSG : 0;
}


static bool is_pem(const uint8_t *buf, size_t len)
{
	return memmem(buf, len, "-----BEGIN ", 11) != NULL;
}


/**
 * Load a P-256 key from memory
 *
 * @param kp  Returned key
 * @param buf PEM or DER: a private key (SEC1 or PKCS#8, unencrypted) or
 *            a public key (SubjectPublicKeyInfo)
 * @param len Length of buf
 *
 * @return 0 if success, EBADMSG if it is no key, EINVAL if it is not an
 *         EC P-256 key, otherwise errorcode
 */
int jwt_key_load_mem(struct jwt_key **kp, const uint8_t *buf, size_t len)
{
	struct jwt_key *key;
	uint8_t *pem = NULL;
	int err;

	if (!kp || !buf || !len)
		return EINVAL;

	key = mem_zalloc(sizeof(*key), key_destructor);
	if (!key)
		return ENOMEM;

	mbedtls_pk_init(&key->pk);

	if (is_pem(buf, len) && buf[len - 1] != '\0') {
		pem = mem_alloc(len + 1, NULL);
		if (!pem) {
			err = ENOMEM;
			goto out;
		}

		memcpy(pem, buf, len);
		pem[len] = '\0';
		buf = pem;
		++len;
	}

	err = key_parse(key, buf, len);
	if (err)
		goto out;

	if (!is_p256(&key->pk)) {
		err = EINVAL;
		goto out;
	}

	err = key_thumbprint(key);

 out:
	if (pem) {
		mbedtls_platform_zeroize(pem, len);
		mem_deref(pem);
	}

	if (err)
		mem_deref(key);
	else
		*kp = key;

	return err;
}


/**
 * Load a P-256 key from a file (see jwt_key_load_mem)
 *
 * @param kp   Returned key
 * @param path File name
 *
 * @return 0 if success, otherwise errorcode
 */
int jwt_key_load(struct jwt_key **kp, const char *path)
{
	struct mbuf *mb;
	int err;

	if (!kp || !path)
		return EINVAL;

	mb = mbuf_alloc(1024);
	if (!mb)
		return ENOMEM;

	err = file_read(mb, path, KEY_FILE_MAX);
	if (!err)
		err = jwt_key_load_mem(kp, mb->buf, mb->end);

	mbedtls_platform_zeroize(mb->buf, mb->size);
	mem_deref(mb);

	return err;
}


/**
 * Get a key's id: its RFC 7638 JWK thumbprint (SHA-256, base64url)
 *
 * @param key The key
 *
 * @return The id, or NULL
 */
const char *jwt_key_id(const struct jwt_key *key)
{
	return key ? key->kid : NULL;
}


/**
 * Tell whether a key can sign (holds the private part)
 *
 * @param key The key
 *
 * @return true if it can sign
 */
bool jwt_key_can_sign(const struct jwt_key *key)
{
	return key && key->priv;
}


/**
 * Write a key's public part as SubjectPublicKeyInfo PEM
 *
 * @param key The key
 * @param buf Buffer for the NUL-terminated PEM text
 * @param sz  Its size (about 180 bytes suffice)
 *
 * @return 0 if success, otherwise errorcode
 */
int jwt_key_public_pem(const struct jwt_key *key, char *buf, size_t sz)
{
	if (!key || !buf || !sz)
		return EINVAL;

	/* mbedtls takes no const here but only reads */
	if (mbedtls_pk_write_pubkey_pem((mbedtls_pk_context *)&key->pk,
					(uint8_t *)buf, sz))
		return EOVERFLOW;

	return 0;
}


/**
 * Sign a SHA-256 hash: deterministic ECDSA (RFC 6979), blinded with
 * fresh random bytes, so a weak random source cannot leak the key
 *
 * @param key  A private key
 * @param hash The hash
 * @param sig  Returned signature, r || s
 *
 * @return 0 if success, otherwise errorcode
 */
int jwt_key_sign_hash(const struct jwt_key *key, const uint8_t hash[32],
		      uint8_t sig[JWT_SIG_LEN])
{
	struct ec_parts ep;
	mbedtls_mpi r, s;
	int err;

	if (!jwt_key_can_sign(key))
		return EINVAL;

	err = parts_get(&ep, key);

	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);

	if (!err &&
	    (mbedtls_ecdsa_sign_det_ext(&ep.grp, &r, &s, &ep.d, hash, 32,
					MBEDTLS_MD_SHA256, tls_mbedtls_rng,
					NULL) ||
	     mbedtls_mpi_write_binary(&r, sig, COORD_LEN) ||
	     mbedtls_mpi_write_binary(&s, sig + COORD_LEN, COORD_LEN)))
		err = EIO;

	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	parts_free(&ep);

	return err;
}


/**
 * Verify a raw r || s signature of a SHA-256 hash
 *
 * @param key  The key (private or public)
 * @param hash The hash
 * @param sig  The signature
 *
 * @return true if it verifies
 */
bool jwt_key_verify_hash(const struct jwt_key *key, const uint8_t hash[32],
			 const uint8_t sig[JWT_SIG_LEN])
{
	struct ec_parts ep;
	mbedtls_mpi r, s;
	bool ok;

	if (!key)
		return false;

	ok = !parts_get(&ep, key);

	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);

	ok = ok && !mbedtls_mpi_read_binary(&r, sig, COORD_LEN) &&
		!mbedtls_mpi_read_binary(&s, sig + COORD_LEN, COORD_LEN) &&
		!mbedtls_ecdsa_verify(&ep.grp, hash, 32, &ep.q, &r, &s);

	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	parts_free(&ep);

	return ok;
}

/**
 * @file jwt_int.h  Private: the key object shared by key.c and jwt.c
 */
#include <mbedtls/pk.h>

/** One P-256 key: a private key (signs and verifies) or a public one */
struct jwt_key {
	mbedtls_pk_context pk;
	bool priv;                 /**< Holds the private scalar          */
	char kid[JWT_KID_MAX];     /**< RFC 7638 thumbprint, base64url    */
};

enum {
	JWT_SIG_LEN = 64,          /**< ES256 signature: r || s           */
};

int jwt_key_sign_hash(const struct jwt_key *key, const uint8_t hash[32],
		      uint8_t sig[JWT_SIG_LEN]);
bool jwt_key_verify_hash(const struct jwt_key *key, const uint8_t hash[32],
			 const uint8_t sig[JWT_SIG_LEN]);

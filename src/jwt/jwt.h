/**
 * @file jwt.h  JSON Web Tokens signed with ES256 (ECDSA P-256, SHA-256)
 *
 * JWS compact serialization (RFC 7515) of a JWT (RFC 7519) carrying the
 * IMS identities a WAF vouches for. One algorithm, pinned: ES256 with the
 * raw r||s signature of RFC 7518 3.4. Tokens are made by the WAF
 * (jwt_sign) and checked by the eP-CSCF against a keyring of trusted
 * (issuer, key) pairs (jwt_verify).
 */

#ifndef IMSEDGE_JWT_H
#define IMSEDGE_JWT_H

enum {
	JWT_SKEW      = 30,     /**< Clock skew allowed for exp/nbf/iat, s */
	JWT_TOKEN_MAX = 4096,   /**< Longest token accepted, bytes        */
	JWT_IMPU_MAX  = 16,     /**< Most IMPUs in one token              */
	JWT_AUD_MAX   = 8,      /**< Most audiences in one token          */
	JWT_KID_MAX   = 44,     /**< Key id: base64url SHA-256, with NUL  */
};

/* Reasons jwt_verify() gives: static strings, usable as SIP reasons */
#define JWT_REASON_MALFORMED  "Token malformed"
#define JWT_REASON_ALG        "Token algorithm not allowed"
#define JWT_REASON_HEADER     "Token header not supported"
#define JWT_REASON_ISSUER     "Token issuer not trusted"
#define JWT_REASON_KID        "Token key unknown"
#define JWT_REASON_SIGNATURE  "Token signature invalid"
#define JWT_REASON_EXPIRED    "Token expired"
#define JWT_REASON_NOT_YET    "Token not yet valid"
#define JWT_REASON_CLAIMS     "Token claims missing"
#define JWT_REASON_INVALID    "Token claims invalid"


/* Keys */
struct jwt_key;

int  jwt_key_load(struct jwt_key **kp, const char *path);
int  jwt_key_load_mem(struct jwt_key **kp, const uint8_t *buf, size_t len);
const char *jwt_key_id(const struct jwt_key *key);
bool jwt_key_can_sign(const struct jwt_key *key);
int  jwt_key_public_pem(const struct jwt_key *key, char *buf, size_t sz);


/* Claims */

/**
 * The claims imsedge puts into and reads from a token. Strings and
 * arrays are libre memory (mem_alloc, str_dup); the destructor frees them
 */
struct jwt_claims {
	char *iss, *aud, *sub, *impi, *jti;
	char *pool;              /**< Pool name for a guest identity     */
	char **impu;  size_t impuc;
	int64_t iat, nbf, exp;   /**< Seconds since the epoch; nbf 0 none */
	char **audv;  size_t audc; /**< Every audience (verify); aud = [0] */
};

int  jwt_claims_alloc(struct jwt_claims **cp);
int  jwt_claims_add_impu(struct jwt_claims *c, const char *impu);
bool jwt_claims_aud_has(const struct jwt_claims *c, const char *aud);
bool jwt_claims_impu_has(const struct jwt_claims *c, const char *impu);
int  jwt_sign(char **tokp, const struct jwt_claims *c,
	      const struct jwt_key *key);


/* Trusted keys and verification */
struct jwt_keyring;

int  jwt_keyring_alloc(struct jwt_keyring **rp);
int  jwt_keyring_add(struct jwt_keyring *r, const char *issuer,
		     struct jwt_key *key);
unsigned jwt_keyring_count(const struct jwt_keyring *r);
int  jwt_verify(struct jwt_claims **cp, const struct pl *token,
		const struct jwt_keyring *ring, int64_t now,
		const char **reason);


/* Helpers shared with the WAF: strict base64 and JSON */
int  jwt_b64_encode(char *out, size_t osz, const uint8_t *in, size_t len,
		    bool url);
int  jwt_b64_decode(uint8_t *out, size_t *olen, const char *in,
		    size_t len, bool url);
int  jwt_json_decode(struct odict **op, const char *str, size_t len);
int  jwt_json_str(struct re_printf *pf, const char *str);

#endif

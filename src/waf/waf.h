/**
 * @file waf.h  The WAF: web logins (users file, PBKDF2) and guest
 *              identity pools, answered with ES256 tokens for the
 *              eP-CSCF; HTTP-free (JSON in, status and JSON out)
 */

#ifndef IMSEDGE_WAF_H
#define IMSEDGE_WAF_H

struct waf;
struct jwt_key;

/*
 * WAF_PBKDF2_ITER: a password check runs on the one event-loop thread
 * that also relays media, so it must stay short: 20000 iterations of
 * PBKDF2-HMAC-SHA256 take about 20 ms on a PC and, estimated, 20 times
 * that on a MIPS router, which is as long as one login may hold up calls.
 * That is far below what a server would use (OWASP: 600000), so the count
 * is stored per users-file entry and operators on faster hardware can
 * raise it (waf_users_set iterations).
 */
enum {
	WAF_BODY_MAX     = 4096,   /**< Largest request body accepted     */
	WAF_PBKDF2_ITER  = 20000,  /**< Default PBKDF2 iterations         */
	WAF_IMPU_MAX     = 16,     /**< Most IMPUs of one user            */
	WAF_LIFETIME     = 3600,   /**< Token lifetime if none configured */
};

/** What the WAF needs to know; strings are copied by waf_alloc() */
struct waf_cfg {
	const char *users_file;   /**< NULL: no password logins           */
	const char *key_file;     /**< Token signing key (P-256 private)  */
	const char *issuer;       /**< "iss": the WWSF's origin           */
	const char *audience;     /**< "aud": the eP-CSCF's w2_public_url */
	const char *w2_url;       /**< Returned to the page: wss://...    */
	uint32_t lifetime;        /**< Token lifetime, s (0: default)     */
	const struct list *pools; /**< struct conf_pool, may be empty     */
	const char *state_file;   /**< Revoked tokens; NULL: memory only  */
};

/** An answer: HTTP status, reason, Retry-After and a JSON body */
struct waf_reply {
	uint16_t scode;
	const char *reason;
	uint32_t retry_after;     /**< Seconds; 0 = no Retry-After        */
	struct mbuf *body;        /**< JSON                               */
};

int  waf_alloc(struct waf **wp, const struct waf_cfg *cfg);
int  waf_reload_users(struct waf *waf);
struct waf_users;
int  waf_users_read(struct waf *waf, struct waf_users **up);
void waf_users_use(struct waf *waf, struct waf_users *u);
int  waf_login(struct waf *waf, const struct sa *peer, const uint8_t *body,
	       size_t len, struct waf_reply *r);
int  waf_guest(struct waf *waf, const struct sa *peer, const uint8_t *body,
	       size_t len, struct waf_reply *r);
int  waf_refresh(struct waf *waf, const struct sa *peer,
		 const struct pl *bearer, struct waf_reply *r);
int  waf_config(struct waf *waf, struct waf_reply *r);
int  waf_logout(struct waf *waf, const struct sa *peer,
		const struct pl *bearer, struct waf_reply *r);
struct jwt_claims;
bool waf_token_revoked(struct waf *waf, const struct jwt_claims *c);
void waf_lease_release(struct waf *waf, const char *impu, const char *jti);
bool waf_lease_valid(struct waf *waf, const char *impu, const char *jti);
struct jwt_key *waf_key(const struct waf *waf);
void waf_reply_reset(struct waf_reply *r);
int  waf_users_check(const char *path, char *errbuf, size_t errsz);
int  waf_users_set(const char *path, const char *name, const char *password,
		   const char *impi, const char *impus, uint32_t iterations);

#endif

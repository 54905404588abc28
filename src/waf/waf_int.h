/**
 * @file waf_int.h  Private: users table (users.c), identity pools and
 *                  leases (pool.c), per-address limits (limit.c), and the
 *                  WAF object they serve (waf.c)
 *
 * Include core/conf.h first (pool templates are conf_pool_parse's).
 */

enum {
	WAF_SALT_LEN   = 16,       /* PBKDF2 salt, bytes                  */
	WAF_DK_LEN     = 32,       /* PBKDF2-HMAC-SHA256 output, bytes    */
	WAF_ITER_MAX   = 1000000,  /* beyond: seconds per login on a router */
	WAF_NAME_MAX   = 64,
	WAF_JTI_LEN    = 23,       /* base64url of 128 bits, with NUL     */
	WAF_USERS_MAX  = 1 << 20,  /* users file size limit, bytes        */
	WAF_REVOKE_MAX = 4096,     /* revoked users and tokens kept       */
};


/* users.c */

/** One user of the users file */
struct waf_user {
	struct le le;
	char *name;
	char *impi;
	char *impu[WAF_IMPU_MAX];
	size_t impuc;
	uint32_t iter;
	uint8_t salt[WAF_SALT_LEN];
	size_t saltlen;
	uint8_t dk[WAF_DK_LEN];
};

/** The users file, parsed */
struct waf_users {
	struct list users;
	uint32_t iter_max;         /* the dummy check of unknown names   */
};

int waf_users_load(struct waf_users **up, const char *path);
int waf_users_parse(struct waf_users **up, const char *path,
		    const char *text, size_t len, char *errbuf, size_t errsz);
const struct waf_user *waf_users_find(const struct waf_users *u,
				      const char *name);
bool waf_user_check(const struct waf_users *u, const struct waf_user *user,
		    const char *password);
bool waf_name_valid(const char *name);
uint32_t waf_pbkdf2_rate(void);


/* pool.c */

/** An identity pool and its leases (sorted by index) */
struct waf_pool {
	struct le le;
	char *name;
	char *tmpl;
	struct conf_pool_tmpl t;  /* points into tmpl                    */
	struct list leases;
	uint32_t nleases;
};

int  waf_pool_alloc(struct waf_pool **pp, const struct conf_pool *cfg);
bool waf_pool_index(const struct waf_pool *p, const char *impu,
		    uint32_t *idx);
int  waf_pool_lease(struct waf_pool *p, int64_t now, int64_t expires,
		    const char *jti, uint32_t *idx, uint32_t *retry);
int  waf_pool_renew(struct waf_pool *p, uint32_t idx, int64_t now,
		    const char *old_jti, const char *jti, int64_t expires);
bool waf_pool_release(struct waf_pool *p, uint32_t idx, const char *jti);
bool waf_pool_leased(struct waf_pool *p, uint32_t idx, int64_t now,
		     const char *jti);


/* revoke.c: revoked tokens, kept in a state file (D-60) */
struct waf_revoke;

int  waf_revoke_alloc(struct waf_revoke **rp, const char *path,
		      int64_t now);
unsigned waf_revoke_parse(struct waf_revoke *r, const char *name,
			  const char *text, size_t len, int64_t now);
int  waf_revoke_user(struct waf_revoke *r, const char *user, int64_t at,
		     int64_t until, int64_t now);
int  waf_revoke_jti(struct waf_revoke *r, const char *jti, int64_t until,
		    int64_t now);
bool waf_revoke_has(const struct waf_revoke *r, const char *user,
		    const char *jti, int64_t iat, int64_t now);
int64_t waf_revoke_user_at(const struct waf_revoke *r, const char *user);
uint32_t waf_revoke_count(const struct waf_revoke *r);


/* limit.c */

/** Events per client address in a fixed window, in a bounded table */
struct waf_limiter;

int  waf_limiter_alloc(struct waf_limiter **lp, uint32_t max_entries,
		       uint32_t limit, uint32_t window);
bool waf_limiter_blocked(struct waf_limiter *l, const struct sa *peer,
			 int64_t now, uint32_t *retry);
int  waf_limiter_hit(struct waf_limiter *l, const struct sa *peer,
		     int64_t now);
uint32_t waf_limiter_count(const struct waf_limiter *l);


/* waf.c: for tests and the fuzz target */
typedef int64_t (waf_clock_h)(void);

void waf_set_clock(struct waf *waf, waf_clock_h *clock);
void waf_set_budget(struct waf *waf, uint32_t iter_per_sec);

/**
 * @file waf.c  The WAF's requests: login, guest login, refresh, config
 *
 * Every answer is a status, a reason and a JSON body; the HTTPS server
 * maps them onto routes. Failures are logged with the client address,
 * never with a password or a token.
 */
#include <string.h>
#include <time.h>
#include <re.h>
#include <mbedtls/platform_util.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../core/stats.h"
#include "../tls/tlsx.h"
#include "../jwt/jwt.h"
#include "waf.h"
#include "waf_int.h"

#define LOG_MODULE "waf"

enum {
	FAIL_LIMIT    = 5,      /* failed logins per address ...        */
	FAIL_WINDOW   = 60,     /* ... in this many seconds             */
	GUEST_LIMIT   = 10,     /* guest logins per address ...         */
	GUEST_WINDOW  = 60,     /* ... in this many seconds             */
	LIMIT_TABLE   = 1024,   /* addresses each limiter remembers     */
	LIFETIME_MIN  = 10,        /* as the token_lifetime key allows */
	LIFETIME_MAX  = 86400,
	IMPU_LEN      = 256,
	PASSWORD_MAX  = 1024,
	/* PBKDF2 work per second, all clients together. A check runs on
	   the one event-loop thread that also relays media, so logins may
	   take at most a quarter of each second of it (measured at start),
	   and never more than 50 checks at the default count */
	BUDGET_SHARE  = 4,
	BUDGET_MAX    = 50 * WAF_PBKDF2_ITER,
};

struct waf {
	char *users_file;
	char *issuer;
	char *audience;
	char *w2_url;
	uint32_t lifetime;
	struct jwt_key *key;
	struct jwt_keyring *ring;     /* our own key, for refresh         */
	struct waf_users *users;
	struct list pools;            /* struct waf_pool                  */
	struct waf_limiter *fails;
	struct waf_limiter *guests;
	struct waf_revoke *revoked;   /* logouts, removed users (D-60)    */
	waf_clock_h *clock;
	uint32_t budget;              /* PBKDF2 iterations per second     */
	int64_t budget_sec;
	uint64_t budget_used;
};

/** What a token is issued for */
struct grant {
	const char *user;             /* "user" in the answer, "sub"      */
	const char *impi;
	char * const *impu;
	size_t impuc;
	const char *pool;
	char jti[WAF_JTI_LEN];
	int64_t iat, exp;
};


static void waf_destructor(void *arg)
{
	struct waf *waf = arg;

	list_flush(&waf->pools);
	mem_deref(waf->users_file);
	mem_deref(waf->issuer);
	mem_deref(waf->audience);
	mem_deref(waf->w2_url);
	mem_deref(waf->key);
	mem_deref(waf->ring);
	mem_deref(waf->users);
	mem_deref(waf->fails);
	mem_deref(waf->guests);
	mem_deref(waf->revoked);
}


static int64_t waf_now(const struct waf *waf)
{
	return waf->clock ? waf->clock() : (int64_t)time(NULL);
}


/**
 * Replace the clock (tests, fuzzing)
 *
 * @param waf   WAF
 * @param clock Returns seconds since the epoch; NULL: time(2)
 */
void waf_set_clock(struct waf *waf, waf_clock_h *clock)
{
	if (waf)
		waf->clock = clock;
}


/**
 * Set the PBKDF2 budget (tests)
 *
 * @param waf          WAF
 * @param iter_per_sec PBKDF2 iterations allowed per second, all clients
 */
void waf_set_budget(struct waf *waf, uint32_t iter_per_sec)
{
	if (waf)
		waf->budget = iter_per_sec;
}


static int pools_make(struct waf *waf, const struct list *cfgs)
{
	struct le *le;
	int err = 0;

	for (le = cfgs ? cfgs->head : NULL; le && !err; le = le->next) {
		const struct conf_pool *pc = le->data;
		struct waf_pool *p;
		struct le *l2;

		for (l2 = waf->pools.head; l2; l2 = l2->next) {
			if (!str_cmp(((struct waf_pool *)l2->data)->name,
				     pc->name)) {
				log_warn("identity_pool %s: listed twice",
					 pc->name);
				return EINVAL;
			}
		}

		err = waf_pool_alloc(&p, pc);
		if (err) {
			log_warn("identity_pool %s %s: want a sip:, sips: or "
				 "tel: URI with one {A-B} range of at most %u",
				 pc->name, pc->tmpl, CONF_POOL_MAX);
			return err;
		}

		list_append(&waf->pools, &p->le, p);
	}

	return err;
}


static int cfg_check(const struct waf_cfg *cfg)
{
	if (!cfg->key_file || !str_isset(cfg->issuer) ||
	    !str_isset(cfg->audience) || !str_isset(cfg->w2_url)) {
		log_warn("the WAF needs a key file, issuer, audience and "
			 "w2 URL");
		return EINVAL;
	}

	if (cfg->lifetime && (cfg->lifetime < LIFETIME_MIN ||
			      cfg->lifetime > LIFETIME_MAX)) {
		log_warn("token lifetime %u s not in %u..%u", cfg->lifetime,
			 LIFETIME_MIN, LIFETIME_MAX);
		return EINVAL;
	}

	return 0;
}


static int key_setup(struct waf *waf, const char *path)
{
	int err;

	err = jwt_key_load(&waf->key, path);
	if (err) {
		log_warn("%s: cannot load the token key: %m%s", path, err,
			 err == EINVAL ? " (want EC P-256)" : "");
		return err;
	}

	if (!jwt_key_can_sign(waf->key)) {
		log_warn("%s: a public key cannot sign tokens", path);
		return EINVAL;
	}

	err = jwt_keyring_alloc(&waf->ring);
	if (!err)
		err = jwt_keyring_add(waf->ring, waf->issuer, waf->key);

	return err;
}


/**
 * Allocate the WAF: load the token key and the users file, set up pools
 *
 * @param wp  Returned WAF
 * @param cfg Configuration (copied)
 *
 * @return 0 if success, otherwise errorcode (the reason is logged)
 */
int waf_alloc(struct waf **wp, const struct waf_cfg *cfg)
{
	struct waf *waf;
	int err;

	if (!wp || !cfg)
		return EINVAL;

	err = cfg_check(cfg);
	if (err)
		return err;

	waf = mem_zalloc(sizeof(*waf), waf_destructor);
	if (!waf)
		return ENOMEM;

	waf->lifetime = cfg->lifetime ? cfg->lifetime : WAF_LIFETIME;
	waf->budget = min(waf_pbkdf2_rate() / BUDGET_SHARE,
			  (uint32_t)BUDGET_MAX);

	err  = str_dup(&waf->issuer, cfg->issuer);
	err |= str_dup(&waf->audience, cfg->audience);
	err |= str_dup(&waf->w2_url, cfg->w2_url);
	if (!err && cfg->users_file)
		err = str_dup(&waf->users_file, cfg->users_file);
	if (err) {
		err = ENOMEM;
		goto out;
	}

	err = key_setup(waf, cfg->key_file);
	if (err)
		goto out;

	if (waf->users_file) {
		err = waf_users_load(&waf->users, waf->users_file);
		if (err)
			goto out;
	}

	log_info("PBKDF2 budget: %u iterations per second", waf->budget);

	err = pools_make(waf, cfg->pools);
	/* expired entries are dropped at the first change (the clock of
	   a test is set after this) */
	if (!err)
		err = waf_revoke_alloc(&waf->revoked, cfg->state_file, 0);
	if (!err)
		err = waf_limiter_alloc(&waf->fails, LIMIT_TABLE, FAIL_LIMIT,
					FAIL_WINDOW);
	if (!err)
		err = waf_limiter_alloc(&waf->guests, LIMIT_TABLE,
					GUEST_LIMIT, GUEST_WINDOW);

 out:
	if (err)
		mem_deref(waf);
	else
		*wp = waf;

	return err;
}


/* D-60: the tokens of users no longer in the file are revoked, so that
   adding a user of the same name again does not bring them back */
static void revoke_removed(struct waf *waf, const struct waf_users *old,
			   const struct waf_users *now_u)
{
	int64_t now = waf_now(waf);
	struct le *le;

	for (le = old ? old->users.head : NULL; le; le = le->next) {
		const struct waf_user *user = le->data;

		if (waf_users_find(now_u, user->name))
			continue;

		if (!waf_revoke_user(waf->revoked, user->name, now,
				     now + LIFETIME_MAX, now))
			log_info("user '%s' removed: tokens revoked",
				 user->name);
	}
}


/**
 * Read the users file again (SIGHUP); on an error the old table stays
 *
 * @param waf WAF
 *
 * @return 0 if success, otherwise errorcode (the reason is logged)
 */
int waf_reload_users(struct waf *waf)
{
	struct waf_users *u = NULL;
	int err;

	err = waf_users_read(waf, &u);
	if (err)
		return err;

	waf_users_use(waf, u);
	mem_deref(u);

	return 0;
}


/**
 * Read the users file into a new table without using it yet
 *
 * @param waf WAF
 * @param up  Returned table; NULL when there is no users file (guest
 *            logins only)
 *
 * @return 0 if success, otherwise errorcode (the reason is logged)
 */
int waf_users_read(struct waf *waf, struct waf_users **up)
{
	int err;

	if (!waf || !up)
		return EINVAL;

	*up = NULL;
	if (!waf->users_file)
		return 0;

	err = waf_users_load(up, waf->users_file);
	if (err)
		log_warn("%s: kept the users loaded before", waf->users_file);

	return err;
}


/**
 * Use a table read by waf_users_read(): the tokens of users no longer
 * in it are revoked (a reference is taken)
 *
 * @param waf WAF
 * @param u   New table (NULL: nothing to do)
 */
void waf_users_use(struct waf *waf, struct waf_users *u)
{
	if (!waf || !u)
		return;

	revoke_removed(waf, waf->users, u);
	mem_deref(waf->users);
	waf->users = mem_ref(u);
	log_info("%s: %u users", waf->users_file, list_count(&u->users));
}


/**
 * Get the token signing key (for the eP-CSCF's keyring)
 *
 * @param waf WAF
 *
 * @return The key (no reference is taken)
 */
struct jwt_key *waf_key(const struct waf *waf)
{
	return waf ? waf->key : NULL;
}


/**
 * Free a reply's body and clear it
 *
 * @param r Reply
 */
void waf_reply_reset(struct waf_reply *r)
{
	if (!r)
		return;

	mem_deref(r->body);
	memset(r, 0, sizeof(*r));
}


/* --- replies --------------------------------------------------------- */

static int reply(struct waf_reply *r, uint16_t scode, const char *reason,
		 uint32_t retry, const char *fmt, ...)
{
	va_list ap;
	int err;

	r->scode = scode;
	r->reason = reason;
	r->retry_after = retry;
	r->body = mbuf_alloc(256);
	if (!r->body)
		return ENOMEM;

	va_start(ap, fmt);
	err = mbuf_vprintf(r->body, fmt, ap);
	va_end(ap);

	if (err)
		r->body = mem_deref(r->body);
	else
		r->body->pos = 0;

	return err;
}


static int reply_error(struct waf_reply *r, uint16_t scode,
		       const char *reason, uint32_t retry, const char *error,
		       const char *message)
{
	return reply(r, scode, reason, retry,
		     "{\"error\":\"%s\",\"message\":%H}", error,
		     jwt_json_str, message);
}


static int bad_request(struct waf_reply *r, const char *message)
{
	return reply_error(r, 400, "Bad Request", 0, "bad_request", message);
}


static int rate_limited(struct waf_reply *r, uint32_t retry)
{
	return reply_error(r, 429, "Too Many Requests", retry, "rate_limited",
			   "Too many attempts; try again later");
}


static int print_impus(struct re_printf *pf, const struct grant *g)
{
	size_t i;
	int err = 0;

	for (i = 0; i < g->impuc && !err; i++)
		err = re_hprintf(pf, "%s%H", i ? "," : "", jwt_json_str,
				 g->impu[i]);

	return err;
}


static int print_pool(struct re_printf *pf, const char *pool)
{
	if (!pool)
		return 0;

	return re_hprintf(pf, ",\"pool\":%H", jwt_json_str, pool);
}


/* --- tokens ------------------------------------------------------------ */

static int grant_init(struct grant *g, const struct waf *waf, int64_t now)
{
	uint8_t rnd[16];
	int err;

	memset(g, 0, sizeof(*g));

	err = tls_random(rnd, sizeof(rnd));
	if (!err)
		err = jwt_b64_encode(g->jti, sizeof(g->jti), rnd, sizeof(rnd),
				     true);

	g->iat = now;
	g->exp = now + waf->lifetime;

	return err;
}


static int claims_fill(struct jwt_claims *c, const struct waf *waf,
		       const struct grant *g)
{
	size_t i;
	int err;

	err  = str_dup(&c->iss, waf->issuer);
	err |= str_dup(&c->aud, waf->audience);
	err |= str_dup(&c->sub, g->pool ? "guest" : g->user);
	err |= str_dup(&c->impi, g->impi);
	err |= str_dup(&c->jti, g->jti);
	if (g->pool)
		err |= str_dup(&c->pool, g->pool);

	for (i = 0; i < g->impuc && !err; i++)
		err = jwt_claims_add_impu(c, g->impu[i]);

	c->iat = g->iat;
	c->exp = g->exp;

	return err ? ENOMEM : 0;
}


/* Sign a token for the grant and answer 200 with it */
static int issue(struct waf *waf, struct waf_reply *r, const struct grant *g)
{
	struct jwt_claims *c = NULL;
	char *tok = NULL;
	int err;

	err = jwt_claims_alloc(&c);
	if (!err)
		err = claims_fill(c, waf, g);
	if (!err)
		err = jwt_sign(&tok, c, waf->key);
	if (err) {
		log_warn("cannot sign a token: %m", err);
		goto out;
	}

	err = reply(r, 200, "OK", 0,
		    "{\"token\":\"%s\",\"expires\":%lli,\"lifetime\":%u,"
		    "\"impi\":%H,\"impu\":[%H],\"w2_url\":%H,\"user\":%H%H}",
		    tok, (long long)g->exp, waf->lifetime, jwt_json_str,
		    g->impi, print_impus, g, jwt_json_str, waf->w2_url,
		    jwt_json_str, g->pool ? "guest" : g->user, print_pool,
		    g->pool);

 out:
	if (tok)
		mbedtls_platform_zeroize(tok, strlen(tok));
	mem_deref(tok);
	mem_deref(c);

	return err;
}


/* --- login ------------------------------------------------------------- */

/* PBKDF2 work left this second; a single check always fits */
static bool budget_take(struct waf *waf, uint32_t iter, int64_t now)
{
	if (now != waf->budget_sec) {
		waf->budget_sec = now;
		waf->budget_used = 0;
	}

	if (waf->budget_used && waf->budget_used + iter > waf->budget)
		return false;

	waf->budget_used += iter;

	return true;
}


static const char *body_str(const struct odict *o, const char *key)
{
	const struct odict_entry *e = odict_lookup(o, key);

	return e && e->type == ODICT_STRING ? e->u.str : NULL;
}


static int body_decode(struct odict **op, struct waf_reply *r,
		       const uint8_t *body, size_t len)
{
	if (len > WAF_BODY_MAX)
		return bad_request(r, "Request body too large");

	if (!body || jwt_json_decode(op, (const char *)body, len))
		return bad_request(r, "Request body is not a JSON object");

	return 0;
}


static int login_check(struct waf *waf, const struct sa *peer,
		       const char *name, const char *password,
		       struct waf_reply *r, int64_t now)
{
	const struct waf_user *user = NULL;
	struct grant g;
	int err;

	if (waf_name_valid(name))
		user = waf_users_find(waf->users, name);

	if (!budget_take(waf, user ? user->iter : waf->users->iter_max,
			 now)) {
		stats_inc(STAT_LOGIN_BUSY);
		log_warn("%j: login refused: PBKDF2 budget spent", peer);
		return reply_error(r, 503, "Service Unavailable", 1, "busy",
				   "Too many logins; try again shortly");
	}

	if (!waf_user_check(waf->users, user, password)) {
		stats_inc(user ? STAT_LOGIN_WRONG_PASSWORD :
			  STAT_LOGIN_UNKNOWN_USER);
		if (user)
			log_security("login_failed", peer,
				     "user=\"%s\" reason=\"wrong password\"",
				     user->name);
		else
			log_security("login_failed", peer,
				     "user=- reason=\"unknown user\"");

		err = waf_limiter_hit(waf->fails, peer, now);
		if (err)
			return err;

		return reply_error(r, 401, "Unauthorized", 0,
				   "invalid_credentials",
				   "Wrong user name or password");
	}

	err = grant_init(&g, waf, now);
	if (err)
		return err;

	/* later than the user's last logout (iat <= it is revoked) */
	g.iat = max(now, waf_revoke_user_at(waf->revoked, user->name) + 1);
	g.user = user->name;
	g.impi = user->impi;
	g.impu = user->impu;
	g.impuc = user->impuc;

	stats_inc(STAT_LOGIN_OK);
	log_info("%j: user '%s' logged in", peer, user->name);

	return issue(waf, r, &g);
}


/**
 * Log in with a user name and password:
 * {"username": string, "password": string}
 *
 * @param waf  WAF
 * @param peer Client address (rate limits are per IP address)
 * @param body Request body
 * @param len  Its length
 * @param r    Returned reply (release with waf_reply_reset)
 *
 * @return 0 if a reply was made, otherwise errorcode
 */
int waf_login(struct waf *waf, const struct sa *peer, const uint8_t *body,
	      size_t len, struct waf_reply *r)
{
	struct odict *o = NULL;
	const char *name, *password;
	int64_t now;
	uint32_t retry = 0;
	int err;

	if (!waf || !peer || !r)
		return EINVAL;

	memset(r, 0, sizeof(*r));
	now = waf_now(waf);

	if (!waf->users)
		return reply_error(r, 404, "Not Found", 0, "no_login",
				   "Password logins are not enabled");

	if (waf_limiter_blocked(waf->fails, peer, now, &retry)) {
		stats_inc(STAT_LOGIN_LOCKED);
		log_security("login_locked", peer, "retry_after=%u", retry);
		return rate_limited(r, retry);
	}

	err = body_decode(&o, r, body, len);
	if (err || r->scode)
		goto out;

	name = body_str(o, "username");
	password = body_str(o, "password");
	if (!name || !password) {
		err = bad_request(r, "username and password (strings) "
				  "required");
		goto out;
	}

	if (strlen(password) > PASSWORD_MAX) {
		err = bad_request(r, "Password too long");
		goto out;
	}

	err = login_check(waf, peer, name, password, r, now);
	mbedtls_platform_zeroize((char *)password, strlen(password));

 out:
	mem_deref(o);

	return err;
}


/* --- guests ------------------------------------------------------------ */

static struct waf_pool *pool_find(const struct waf *waf, const char *name)
{
	struct le *le;

	if (!name)
		return list_ledata(waf->pools.head);

	for (le = waf->pools.head; le; le = le->next) {
		struct waf_pool *p = le->data;

		if (!str_cmp(p->name, name))
			return p;
	}

	return NULL;
}


/* The URI without its scheme: sip:guest7@ims.test -> guest7@ims.test */
static const char *impi_of(const char *impu)
{
	const char *colon = strchr(impu, ':');

	return colon ? colon + 1 : impu;
}


static int guest_lease(struct waf *waf, const struct sa *peer,
		       struct waf_pool *p, struct waf_reply *r, int64_t now)
{
	char impu[IMPU_LEN], *impuv[1] = {impu};
	uint32_t idx, retry = 1;
	struct grant g;
	int err;

	err = grant_init(&g, waf, now);
	if (err)
		return err;

	err = waf_pool_lease(p, now, g.exp, g.jti, &idx, &retry);
	if (err == EBUSY) {
		stats_inc(STAT_GUEST_REFUSED);
		log_info("%j: guest login refused: pool %s is empty", peer,
			 p->name);
		return reply_error(r, 503, "Service Unavailable", retry,
				   "pool_empty", "All guest identities are "
				   "in use; try again later");
	}
	if (err)
		return err;

	err = conf_pool_uri(impu, sizeof(impu), &p->t, idx);
	if (err)
		goto out;

	g.impi = impi_of(impu);
	g.impu = impuv;
	g.impuc = 1;
	g.pool = p->name;

	err = issue(waf, r, &g);
	if (!err)
		stats_inc(STAT_GUEST_OK);
	if (!err)
		log_info("%j: guest %s leased from pool %s", peer, impu,
			 p->name);

 out:
	if (err)
		(void)waf_pool_release(p, idx, NULL);

	return err;
}


/**
 * Log in as a guest: lease the lowest free identity of a pool.
 * Body empty, {} or {"pool": NAME} (default: the first pool)
 *
 * @param waf  WAF
 * @param peer Client address (rate limits are per IP address)
 * @param body Request body (may be NULL if len is 0)
 * @param len  Its length
 * @param r    Returned reply (release with waf_reply_reset)
 *
 * @return 0 if a reply was made, otherwise errorcode
 */
int waf_guest(struct waf *waf, const struct sa *peer, const uint8_t *body,
	      size_t len, struct waf_reply *r)
{
	struct odict *o = NULL;
	const struct odict_entry *e = NULL;
	struct waf_pool *p;
	uint32_t retry = 0;
	int64_t now;
	int err = 0;

	if (!waf || !peer || !r)
		return EINVAL;

	memset(r, 0, sizeof(*r));
	now = waf_now(waf);

	if (list_isempty(&waf->pools))
		return reply_error(r, 404, "Not Found", 0, "no_pool",
				   "Guest access is not enabled");

	if (waf_limiter_blocked(waf->guests, peer, now, &retry)) {
		stats_inc(STAT_GUEST_REFUSED);
		log_security("guest_limited", peer, "retry_after=%u", retry);
		return rate_limited(r, retry);
	}

	err = waf_limiter_hit(waf->guests, peer, now);
	if (err)
		return err;

	if (len) {
		err = body_decode(&o, r, body, len);
		if (err || r->scode)
			goto out;

		e = odict_lookup(o, "pool");
		if (e && e->type != ODICT_STRING) {
			err = bad_request(r, "pool must be a string");
			goto out;
		}
	}

	p = pool_find(waf, e ? e->u.str : NULL);
	if (!p) {
		err = reply_error(r, 404, "Not Found", 0, "no_pool",
				  "No such guest pool");
		goto out;
	}

	err = guest_lease(waf, peer, p, r, now);

 out:
	mem_deref(o);

	return err;
}


/* --- refresh ----------------------------------------------------------- */

static int refresh_guest(struct waf *waf, struct waf_reply *r,
			 const struct jwt_claims *c, struct grant *g,
			 int64_t now)
{
	struct waf_pool *p = pool_find(waf, c->pool);
	uint32_t idx;
	int err;

	if (!p || c->impuc != 1 || !c->jti ||
	    !waf_pool_index(p, c->impu[0], &idx))
		return reply_error(r, 401, "Unauthorized", 0, "token_invalid",
				   "Guest pool no longer configured");

	err = waf_pool_renew(p, idx, now, c->jti, g->jti, g->exp);
	if (err == EBUSY)
		return reply_error(r, 401, "Unauthorized", 0, "token_invalid",
				   "Guest identity no longer leased");
	if (err)
		return err;

	g->impi = c->impi;
	g->impu = c->impu;
	g->impuc = 1;
	g->pool = p->name;

	err = issue(waf, r, g);
	if (err)
		(void)waf_pool_release(p, idx, NULL);

	return err;
}


/* Identities from today's users file: deleted users cannot refresh */
static int refresh_user(struct waf *waf, struct waf_reply *r,
			const struct jwt_claims *c, struct grant *g)
{
	const struct waf_user *user = waf_users_find(waf->users, c->sub);

	if (!user)
		return reply_error(r, 401, "Unauthorized", 0, "token_invalid",
				   "User no longer exists");

	g->user = user->name;
	g->impi = user->impi;
	g->impu = user->impu;
	g->impuc = user->impuc;

	return issue(waf, r, g);
}


static int refresh_refuse(struct waf *waf, const struct sa *peer,
			  struct waf_reply *r, const char *reason,
			  int64_t now)
{
	int err;

	log_security("refresh_refused", peer, "reason=\"%s\"", reason);

	err = waf_limiter_hit(waf->fails, peer, now);
	if (err)
		return err;

	if (!strcmp(reason, JWT_REASON_EXPIRED))
		return reply_error(r, 401, "Unauthorized", 0, "token_expired",
				   reason);

	return reply_error(r, 401, "Unauthorized", 0, "token_invalid",
			   reason);
}


/*
 * The bearer routes' common start: rate limit, token present, verified.
 * Returns true when the route is answered (*errp: its result); else *cp
 * holds the claims, or NULL with *reasonp when verification failed.
 */
static bool bearer_start(struct waf *waf, const struct sa *peer,
			 const struct pl *bearer, struct waf_reply *r,
			 int64_t now, struct jwt_claims **cp,
			 const char **reasonp, int *errp)
{
	uint32_t retry = 0;

	if (waf_limiter_blocked(waf->fails, peer, now, &retry)) {
		*errp = rate_limited(r, retry);
		return true;
	}

	if (!pl_isset(bearer)) {
		*errp = refresh_refuse(waf, peer, r, "Token missing", now);
		return true;
	}

	*errp = jwt_verify(cp, bearer, waf->ring, now, reasonp);

	return *errp == ENOMEM;
}


/**
 * Trade a valid token for a new one with the same identities (a guest's
 * lease moves to the new token)
 *
 * @param waf    WAF
 * @param peer   Client address
 * @param bearer The token text (from Authorization: Bearer)
 * @param r      Returned reply (release with waf_reply_reset)
 *
 * @return 0 if a reply was made, otherwise errorcode
 */
int waf_refresh(struct waf *waf, const struct sa *peer,
		const struct pl *bearer, struct waf_reply *r)
{
	struct jwt_claims *c = NULL;
	const char *reason = NULL;
	struct grant g;
	int64_t now;
	int err;

	if (!waf || !peer || !r)
		return EINVAL;

	memset(r, 0, sizeof(*r));
	now = waf_now(waf);

	if (bearer_start(waf, peer, bearer, r, now, &c, &reason, &err))
		return err;
	if (err)
		return refresh_refuse(waf, peer, r, reason, now);

	if (!jwt_claims_aud_has(c, waf->audience))
		err = refresh_refuse(waf, peer, r, "Token audience wrong",
				     now);
	else if (c->exp <= now)
		err = refresh_refuse(waf, peer, r, JWT_REASON_EXPIRED, now);
	else if (waf_token_revoked(waf, c))
		err = refresh_refuse(waf, peer, r, "Token revoked", now);
	else if (!(err = grant_init(&g, waf, now)))
		err = c->pool ? refresh_guest(waf, r, c, &g, now) :
			refresh_user(waf, r, c, &g);

	mem_deref(c);

	return err;
}


/* --- logout, revocation (D-60) ---------------------------------------- */

/**
 * Whether a token of ours is revoked: logged out, or its user removed
 * (from the users file now, or by a revocation kept since)
 *
 * @param waf WAF
 * @param c   The token's verified claims
 *
 * @return true if revoked
 */
bool waf_token_revoked(struct waf *waf, const struct jwt_claims *c)
{
	const char *user;

	if (!waf || !c)
		return false;

	user = c->pool ? NULL : c->sub;
	if (user && waf->users && !waf_users_find(waf->users, user))
		return true;

	return waf_revoke_has(waf->revoked, user, c->jti, c->iat,
			      waf_now(waf));
}


static int logout_do(struct waf *waf, const struct sa *peer,
		     const struct jwt_claims *c, struct waf_reply *r,
		     int64_t now)
{
	int err;

	if (c->pool) {
		err = c->jti ? waf_revoke_jti(waf->revoked, c->jti, c->exp,
					      now) : EINVAL;
		if (!err && c->impuc == 1)
			waf_lease_release(waf, c->impu[0], c->jti);
	}
	else {
		err = c->sub ? waf_revoke_user(waf->revoked, c->sub, now,
					       now + LIFETIME_MAX, now) :
			EINVAL;
	}

	if (err == ENOSPC)
		return reply_error(r, 503, "Service Unavailable", 60, "busy",
				   "Logout not possible now; try again later");
	if (err)
		return err;

	log_info("%j: %s '%s' logged out", peer, c->pool ? "guest" : "user",
		 c->pool && c->impuc ? c->impu[0] : c->sub);

	return reply(r, 200, "OK", 0, "{\"logged_out\":true}");
}


/**
 * Log out: revoke the token's user's tokens (a guest: the token, and its
 * identity goes back to the pool). An expired token has nothing left to
 * revoke: 200 all the same.
 *
 * @param waf    WAF
 * @param peer   Client address
 * @param bearer The token text (from Authorization: Bearer)
 * @param r      Returned reply (release with waf_reply_reset)
 *
 * @return 0 if a reply was made, otherwise errorcode
 */
int waf_logout(struct waf *waf, const struct sa *peer,
	       const struct pl *bearer, struct waf_reply *r)
{
	struct jwt_claims *c = NULL;
	const char *reason = NULL;
	int64_t now;
	int err;

	if (!waf || !peer || !r)
		return EINVAL;

	memset(r, 0, sizeof(*r));
	now = waf_now(waf);

	/* a token expired this minute is still ours to read */
	if (bearer_start(waf, peer, bearer, r, now, &c, &reason, &err))
		return err;
	if (err && reason && !strcmp(reason, JWT_REASON_EXPIRED))
		return reply(r, 200, "OK", 0, "{\"logged_out\":true}");
	if (err)
		return refresh_refuse(waf, peer, r, reason, now);

	if (!jwt_claims_aud_has(c, waf->audience))
		err = refresh_refuse(waf, peer, r, "Token audience wrong",
				     now);
	else if (c->exp <= now)
		err = reply(r, 200, "OK", 0, "{\"logged_out\":true}");
	else
		err = logout_do(waf, peer, c, r, now);

	mem_deref(c);

	return err;
}


/* --- config, leases ---------------------------------------------------- */

static int print_pool_names(struct re_printf *pf, const struct list *pools)
{
	struct le *le;
	int err = 0;

	for (le = pools->head; le && !err; le = le->next) {
		const struct waf_pool *p = le->data;

		err = re_hprintf(pf, "%s%H", le == pools->head ? "" : ",",
				 jwt_json_str, p->name);
	}

	return err;
}


/**
 * What the page needs to know: GET /api/config
 * {"guest":bool,"login":bool,"pools":[names],"w2_url":...}
 *
 * @param waf WAF
 * @param r   Returned reply (release with waf_reply_reset)
 *
 * @return 0 if success, otherwise errorcode
 */
int waf_config(struct waf *waf, struct waf_reply *r)
{
	if (!waf || !r)
		return EINVAL;

	memset(r, 0, sizeof(*r));

	return reply(r, 200, "OK", 0,
		     "{\"guest\":%s,\"login\":%s,\"pools\":[%H],"
		     "\"w2_url\":%H}",
		     list_isempty(&waf->pools) ? "false" : "true",
		     waf->users ? "true" : "false", print_pool_names,
		     &waf->pools, jwt_json_str, waf->w2_url);
}


static struct waf_pool *pool_of(const struct waf *waf, const char *impu,
				uint32_t *idx)
{
	struct le *le;

	for (le = waf->pools.head; le; le = le->next) {
		struct waf_pool *p = le->data;

		if (waf_pool_index(p, impu, idx))
			return p;
	}

	return NULL;
}


/**
 * End the lease of a pool identity held by a token whose binding ended
 * at the eP-CSCF; a lease held by another token stays (D-57)
 *
 * @param waf  WAF
 * @param impu The identity
 * @param jti  The token whose binding ended
 */
void waf_lease_release(struct waf *waf, const char *impu, const char *jti)
{
	struct waf_pool *p;
	uint32_t idx;

	if (!waf || !impu || !jti)
		return;

	p = pool_of(waf, impu, &idx);
	if (p && waf_pool_release(p, idx, jti))
		log_info("guest %s returned to pool %s", impu, p->name);
}


/**
 * Tell whether a pool identity is still leased to a token (for the
 * eP-CSCF: a released identity may belong to another guest now)
 *
 * @param waf  WAF
 * @param impu The identity
 * @param jti  The token's jti
 *
 * @return true if the identity is leased to that token
 */
bool waf_lease_valid(struct waf *waf, const char *impu, const char *jti)
{
	struct waf_pool *p;
	uint32_t idx;

	if (!waf || !impu || !jti)
		return false;

	p = pool_of(waf, impu, &idx);

	return p && waf_pool_leased(p, idx, waf_now(waf), jti);
}

/**
 * @file web.c  Web access: the WWSF's HTTPS listener and its /api/
 *              routes to the WAF, and the keyring the eP-CSCF checks
 *              tokens with (our WAF's key for our origin, plus every
 *              waf_pubkey)
 *
 * Routes (JSON in and out):
 *   GET  /api/config   guest logins on or off, pool names, the W2 URL
 *   POST /api/login    {"username","password"} -> token and identities
 *   POST /api/guest    {"pool"?} -> a pool identity's token
 *   POST /api/refresh  Authorization: Bearer -> a fresh token
 *   POST /api/logout   Authorization: Bearer -> the user's tokens
 *                      revoked, its registrations ended (D-60)
 *   GET  /metrics      Authorization: Bearer metrics_token -> the
 *                      Prometheus metrics, for scrapers that are not on
 *                      this host (only with metrics_token; 404 without)
 * A POST whose Origin is not our page's is refused (403): the API is
 * for our page only.
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../core/stats.h"
#include "../jwt/jwt.h"
#include "../pcscf/pcscf.h"
#include "../waf/waf.h"
#include "../wwsf/wwsf.h"
#include "web.h"
#include <mbedtls/constant_time.h>
#include <mbedtls/sha256.h>

#define LOG_MODULE "web"

struct web {
	struct imsedge_conf *conf;
	struct jwt_keyring *ring;
	struct waf *waf;
	struct wwsf *wwsf;
	struct pcscf *pcscf;
	char *state_file;             /* revoked tokens, beside the config */
	char *metrics_token;          /* NULL: no /metrics on the WWSF     */
	web_metrics_h *metrics_h;
	void *metrics_arg;
};


static void destructor(void *arg)
{
	struct web *web = arg;

	pcscf_set_web_auth(web->pcscf, NULL, NULL, NULL);
	pcscf_set_revocation(web->pcscf, NULL, NULL);
	mem_deref(web->state_file);
	mem_deref(web->metrics_token);
	mem_deref(web->wwsf);
	mem_deref(web->waf);
	mem_deref(web->ring);
	mem_deref(web->conf);
}


static void reply_json(struct wwsf_req *req, uint16_t scode,
		       const char *reason, const char *json)
{
	(void)wwsf_reply(req, scode, reason, NULL, "application/json",
			 (const uint8_t *)json, strlen(json));
}


static void reply_waf(struct wwsf_req *req, struct waf_reply *r, int err)
{
	char hdr[48] = "";

	if (err || !r->body) {
		log_warn("%J: API failure: %m", wwsf_req_peer(req), err);
		reply_json(req, 500, "Internal Server Error",
			   "{\"error\":\"internal\",\"message\":\"The server "
			   "could not answer; try again\"}");
		return;
	}

	if (r->retry_after)
		(void)re_snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n",
				  r->retry_after);

	(void)wwsf_reply(req, r->scode, r->reason, hdr[0] ? hdr : NULL,
			 "application/json", r->body->buf, r->body->end);
}


static bool bearer(const struct http_msg *msg, struct pl *tok)
{
	const struct http_hdr *h = http_msg_hdr(msg, HTTP_HDR_AUTHORIZATION);

	if (!h || h->val.l < 8 || strncasecmp(h->val.p, "Bearer ", 7))
		return false;

	*tok = h->val;
	pl_advance(tok, 7);
	while (tok->l && (tok->p[0] == ' ' || tok->p[0] == '\t'))
		pl_advance(tok, 1);

	return tok->l > 0;
}


/* Equal in time independent of where they differ: both are hashed
   first, so neither the token's length nor a prefix leaks */
static bool token_equal(const char *want, const struct pl *got)
{
	uint8_t a[32], b[32];

	if (mbedtls_sha256((const uint8_t *)want, strlen(want), a, 0) ||
	    mbedtls_sha256((const uint8_t *)got->p, got->l, b, 0))
		return false;

	return mbedtls_ct_memcmp(a, b, sizeof(a)) == 0;
}


/* GET /metrics over HTTPS for scrapers elsewhere, with the bearer token
   the operator configured */
static void metrics_request(struct web *web, struct wwsf_req *req,
			    const struct http_msg *msg)
{
	static const char e_method[] = "{\"error\":\"method\"}";
	static const char e_token[] = "{\"error\":\"token\"}";
	const struct sa *peer = wwsf_req_peer(req);
	struct mbuf *mb;
	struct pl tok;
	bool has;

	if (!web->metrics_token || !web->metrics_h) {
		reply_json(req, 404, "Not Found", "{\"error\":\"not_found\","
			   "\"message\":\"No such page\"}");
		return;
	}

	if (pl_strcmp(&msg->met, "GET")) {
		(void)wwsf_reply(req, 405, "Method Not Allowed",
				 "Allow: GET\r\n", "application/json",
				 (const uint8_t *)e_method, strlen(e_method));
		return;
	}

	has = bearer(msg, &tok);
	if (!has || !token_equal(web->metrics_token, &tok)) {
		log_security("metrics_refused", peer, "reason=%s",
			     has ? "wrong_token" : "no_token");
		(void)wwsf_reply(req, 401, "Unauthorized",
				 "WWW-Authenticate: Bearer realm=\"metrics\""
				 "\r\n", "application/json",
				 (const uint8_t *)e_token, strlen(e_token));
		return;
	}

	mb = mbuf_alloc(8192);
	if (!mb || web->metrics_h(mb, web->metrics_arg)) {
		mem_deref(mb);
		reply_json(req, 500, "Internal Server Error",
			   "{\"error\":\"internal\"}");
		return;
	}

	(void)wwsf_reply(req, 200, "OK", NULL,
			 "text/plain; version=0.0.4; charset=utf-8",
			 mb->buf, mb->end);
	mem_deref(mb);
}


/* Our page's requests only: a POST from another origin is refused */
static bool origin_ok(const struct web *web, const struct http_msg *msg)
{
	const struct http_hdr *h = http_msg_xhdr(msg, "Origin");

	return !h || !pl_strcasecmp(&h->val, web->conf->wwsf_origin);
}


static void api_handler(struct wwsf_req *req, void *arg)
{
	struct web *web = arg;
	const struct http_msg *msg = wwsf_req_msg(req);
	const struct sa *peer = wwsf_req_peer(req);
	struct waf_reply r = {0, NULL, 0, NULL};
	bool post = !pl_strcmp(&msg->met, "POST");
	const uint8_t *body;
	size_t len;
	struct pl tok;
	int err;

	wwsf_req_body(req, &body, &len);

	if (!pl_strcmp(&msg->path, "/metrics")) {
		metrics_request(web, req, msg);
		return;
	}

	if (post && !origin_ok(web, msg)) {
		stats_inc(STAT_ORIGIN_REFUSED);
		log_security("origin_refused", peer,
			     "origin=\"%r\" where=%r",
			     &http_msg_xhdr(msg, "Origin")->val, &msg->path);
		reply_json(req, 403, "Forbidden", "{\"error\":\"origin\","
			   "\"message\":\"Requests from other sites are not "
			   "accepted\"}");
		return;
	}

	if (!pl_strcmp(&msg->path, "/api/config") && !post)
		err = waf_config(web->waf, &r);
	else if (!pl_strcmp(&msg->path, "/api/login") && post)
		err = waf_login(web->waf, peer, body, len, &r);
	else if (!pl_strcmp(&msg->path, "/api/guest") && post)
		err = waf_guest(web->waf, peer, body, len, &r);
	else if (!pl_strcmp(&msg->path, "/api/refresh") && post) {
		if (!bearer(msg, &tok))
			pl_set_str(&tok, "");
		err = waf_refresh(web->waf, peer, &tok, &r);
	}
	else if (!pl_strcmp(&msg->path, "/api/logout") && post) {
		if (!bearer(msg, &tok))
			pl_set_str(&tok, "");
		err = waf_logout(web->waf, peer, &tok, &r);
		if (!err && r.scode == 200)
			pcscf_revoke_check(web->pcscf);
	}
	else {
		reply_json(req, 404, "Not Found", "{\"error\":\"not_found\","
			   "\"message\":\"No such API\"}");
		return;
	}

	reply_waf(req, &r, err);
	waf_reply_reset(&r);
}


/* Pool leases live in our WAF; another WAF's pools are its business */
static bool lease_handler(const char *iss, const char *impu,
			  const char *jti, bool release, void *arg)
{
	struct web *web = arg;

	if (!web->waf || !iss || strcasecmp(iss, web->conf->wwsf_origin))
		return true;

	if (release) {
		waf_lease_release(web->waf, impu, jti);
		return true;
	}

	return waf_lease_valid(web->waf, impu, jti);
}


/* Tokens of our WAF that were revoked (D-60); another WAF's are its
   business */
static bool revoked_handler(const struct jwt_claims *c, void *arg)
{
	struct web *web = arg;

	if (!web->waf || !c->iss || strcasecmp(c->iss, web->conf->wwsf_origin))
		return false;

	return waf_token_revoked(web->waf, c);
}


/* The state file lives beside the configuration file */
static int state_path(struct web *web)
{
	const char *path = web->conf->path ? web->conf->path : "";
	const char *slash = strrchr(path, '/');

	if (!slash)
		return str_dup(&web->state_file, "revoked-tokens");

	return re_sdprintf(&web->state_file, "%b/revoked-tokens", path,
			   (size_t)(slash - path));
}


static int keys_load(struct web *web)
{
	struct le *le;
	int err = 0;

	if (web->waf) {
		err = jwt_keyring_add(web->ring, web->conf->wwsf_origin,
				      waf_key(web->waf));
		if (err)
			return err;
	}

	for (le = web->conf->waf_keys.head; le; le = le->next) {
		const struct conf_waf_key *k = le->data;
		struct jwt_key *key = NULL;

		err = jwt_key_load(&key, k->file);
		if (err) {
			log_error("waf_pubkey %s %s: cannot load an EC P-256 "
				  "key: %m", k->issuer, k->file, err);
			return err;
		}

		err = jwt_keyring_add(web->ring, k->issuer, key);
		mem_deref(key);
		if (err == EALREADY)
			log_error("waf_pubkey %s %s: this key is already trusted "
				  "for this issuer (listed twice, or our own "
				  "WWSF's token_key)", k->issuer, k->file);
		if (err)
			return err;

		log_info("tokens of %s trusted (key %s)", k->issuer, k->file);
	}

	return 0;
}


static int wwsf_start(struct web *web)
{
	const struct imsedge_conf *conf = web->conf;
	struct waf_cfg wc;
	struct wwsf_cfg hc;
	int err;

	err = state_path(web);
	if (err)
		return err;

	memset(&wc, 0, sizeof(wc));
	wc.state_file = web->state_file;
	wc.users_file = conf->wwsf_users;
	wc.key_file   = conf->token_key;
	wc.issuer     = conf->wwsf_origin;
	wc.audience   = conf->w2_public_url;
	wc.w2_url     = conf->w2_public_url;
	wc.lifetime   = conf->token_lifetime;
	wc.pools      = &conf->pools;

	err = waf_alloc(&web->waf, &wc);
	if (err) {
		log_error("WAF: %m", err);
		return err;
	}

	memset(&hc, 0, sizeof(hc));
	hc.listen      = conf->wwsf_listen;
	hc.cert        = conf->tls_cert;
	hc.key         = conf->tls_key;
	hc.root        = conf->wwsf_root;
	hc.connect_src = conf->w2_public_url;
	hc.conns_per_addr = conf->wwsf_connections_per_address;

	err = wwsf_alloc(&web->wwsf, &hc);
	if (err) {
		log_error("WWSF on %J: %m", &conf->wwsf_listen, err);
		return err;
	}

	wwsf_set_api(web->wwsf, api_handler, web);

	log_info("WWSF: %s on %J from %s, tokens for %s (%u s)",
		 conf->wwsf_origin, wwsf_laddr(web->wwsf), conf->wwsf_root,
		 conf->w2_public_url, conf->token_lifetime);

	return 0;
}


static int metrics_token_set(struct web *web, const char *token)
{
	web->metrics_token = mem_deref(web->metrics_token);

	return token ? str_dup(&web->metrics_token, token) : 0;
}


/**
 * Serve the metrics on the WWSF too (GET /metrics, HTTPS, with the
 * metrics_token as bearer token)
 *
 * @param web Web access (may be NULL)
 * @param h   Writes the metrics (NULL: no longer)
 * @param arg Handler argument
 */
void web_set_metrics(struct web *web, web_metrics_h *h, void *arg)
{
	if (!web)
		return;

	web->metrics_h   = h;
	web->metrics_arg = arg;
}


/**
 * Start web access as configured: the WWSF and WAF when wwsf_listen is
 * set, token checks at the eP-CSCF when there is any key to trust
 *
 * @param webp  Returned object (NULL if nothing is configured)
 * @param conf  Configuration
 * @param pcscf eP-CSCF that checks tokens
 *
 * @return 0 if success, otherwise errorcode
 */
int web_alloc(struct web **webp, struct imsedge_conf *conf,
	      struct pcscf *pcscf)
{
	struct web *web;
	int err;

	if (!webp || !conf)
		return EINVAL;

	*webp = NULL;
	if (!sa_isset(&conf->wwsf_listen, SA_PORT) && !conf->waf_keys.head)
		return 0;

	web = mem_zalloc(sizeof(*web), destructor);
	if (!web)
		return ENOMEM;

	web->conf  = mem_ref(conf);
	web->pcscf = pcscf;

	err = jwt_keyring_alloc(&web->ring);
	if (err)
		goto out;

	if (sa_isset(&conf->wwsf_listen, SA_PORT)) {
		err = wwsf_start(web);
		if (err)
			goto out;
	}

	err = keys_load(web);
	if (!err)
		err = metrics_token_set(web, conf->metrics_token);
	if (err)
		goto out;

	pcscf_set_web_auth(pcscf, web->ring, lease_handler, web);
	if (web->waf)
		pcscf_set_revocation(pcscf, revoked_handler, web);

 out:
	if (err)
		mem_deref(web);
	else
		*webp = web;

	return err;
}


struct web_reload {
	struct web *web;
	struct tls *tls;
	struct waf_users *users;
	char *metrics_token;
};


static void reload_destructor(void *arg)
{
	struct web_reload *r = arg;

	mem_deref(r->tls);
	mem_deref(r->users);
	mem_deref(r->metrics_token);
}


/**
 * SIGHUP, first step: read the new certificate, the users file and the
 * metrics token; nothing changes until web_reload_apply()
 *
 * @param rp   Returned reload (NULL without a WWSF; free with mem_deref,
 *             applied or not)
 * @param web  Web access (may be NULL)
 * @param conf The new configuration
 *
 * @return 0 if success, otherwise errorcode (the reason is logged)
 */
int web_reload_prepare(struct web_reload **rp, struct web *web,
		       const struct imsedge_conf *conf)
{
	struct web_reload *r;
	int err;

	if (!rp || !conf)
		return EINVAL;

	*rp = NULL;
	if (!web || !web->wwsf)
		return 0;

	r = mem_zalloc(sizeof(*r), reload_destructor);
	if (!r)
		return ENOMEM;

	r->web = web;

	err = wwsf_tls_read(&r->tls, conf->tls_cert, conf->tls_key);
	if (!err)
		err = waf_users_read(web->waf, &r->users);
	if (!err && conf->metrics_token)
		err = str_dup(&r->metrics_token, conf->metrics_token);

	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}


/**
 * SIGHUP, second step: the new certificate for new connections, the
 * new users (removed users' tokens revoked, their registrations ended)
 * and metrics token (cannot fail)
 *
 * @param r A prepared reload (may be NULL)
 */
void web_reload_apply(struct web_reload *r)
{
	struct web *web;

	if (!r)
		return;

	web = r->web;
	wwsf_tls_set(web->wwsf, r->tls);
	log_info("reloaded the WWSF certificate");
	waf_users_use(web->waf, r->users);

	mem_deref(web->metrics_token);
	web->metrics_token = r->metrics_token;
	r->metrics_token = NULL;

	/* D-60: registrations of removed users end now */
	pcscf_revoke_check(web->pcscf);
}


/**
 * The WWSF's listening address
 *
 * @param web Web access
 *
 * @return Address, or NULL without a WWSF
 */
const struct sa *web_laddr(const struct web *web)
{
	return web && web->wwsf ? wwsf_laddr(web->wwsf) : NULL;
}

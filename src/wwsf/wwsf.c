/**
 * @file wwsf.c  WWSF listener: HTTPS only (checklist D-51), connection
 *               limit, one tick for all deadlines, certificate reload
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <re.h>
#include "../core/log.h"
#include "../net/net.h"
#include "../tls/tlsx.h"
#include "../core/stats.h"
#include "../admit/admit.h"
#include "wwsf.h"
#include "wwsf_int.h"

#define LOG_MODULE "wwsf"

enum {
	BACKLOG   = 256,
	TICK_MS   = 500,
	CONNS_DEF = 256,
	PER_ADDR_DEF = 32,
	ADDR_BUCKETS = 64,
};


static void site_destructor(void *arg)
{
	struct wwsf_site *site = arg;

	mem_deref(site->root);
	mem_deref(site->csp);
}


/* A CSP source list: visible ASCII and spaces, no ';' or ',' */
static bool csp_sources_valid(const char *s)
{
	for (; *s; s++) {
		if (*s < 0x20 || *s > 0x7e || *s == ';' || *s == ',' ||
		    *s == '\'')
			return false;
	}

	return true;
}


/**
 * Create the shared state of a site: its root and its
 * Content-Security-Policy
 *
 * @param sitep       Returned site
 * @param root        Page directory (must exist)
 * @param connect_src Extra CSP connect-src sources, or NULL
 *
 * @return 0 if success, otherwise errorcode
 */
int wwsf_site_alloc(struct wwsf_site **sitep, const char *root,
		    const char *connect_src)
{
	struct wwsf_site *site;
	char real[PATH_MAX];
	struct stat st;
	int err;

	if (!sitep || !root)
		return EINVAL;

	if (!realpath(root, real) || stat(real, &st))
		return errno ? errno : ENOENT;

	if (!S_ISDIR(st.st_mode))
		return ENOTDIR;

	if (connect_src && !csp_sources_valid(connect_src))
		return EINVAL;

	site = mem_zalloc(sizeof(*site), site_destructor);
	if (!site)
		return ENOMEM;

	err = str_dup(&site->root, root);
	if (err)
		goto out;

	err = re_sdprintf(&site->csp,
			  "default-src 'none'; script-src 'self'; "
			  "style-src 'self'; img-src 'self' data:; "
			  "media-src 'self' blob:; connect-src 'self'%s%s; "
			  "base-uri 'none'; form-action 'self'; "
			  "frame-ancestors 'none'",
			  str_isset(connect_src) ? " " : "",
			  str_isset(connect_src) ? connect_src : "");

 out:
	if (err)
		mem_deref(site);
	else
		*sitep = site;

	return err;
}


static void destructor(void *arg)
{
	struct wwsf *w = arg;

	tmr_cancel(&w->tick);
	w->ts = mem_deref(w->ts);
	list_flush(&w->conns);
	mem_deref(w->ht_addr);
	mem_deref(w->tls);
	mem_deref(w->site);
}


/* One timer for all connections' deadlines */
static void tick_handler(void *arg)
{
	struct wwsf *w = arg;
	uint64_t now = tmr_jiffies();
	struct le *le = w->conns.head;

	tmr_start(&w->tick, TICK_MS, tick_handler, w);

	while (le) {
		struct wwsf_conn *conn = le->data;

		le = le->next;
		wwsf_conn_tick(conn, now);
	}
}


static void connect_handler(const struct sa *peer, void *arg)
{
	struct wwsf *w = arg;
	struct admit_addr *a = admit_find(w->ht_addr, peer);

	/* one address cannot take the page away from everyone else */
	if (a && a->n_open >= w->conns_per_addr) {
		admit_refused(a, "wwsf_limited", peer, w->conns_per_addr);
		stats_inc(STAT_TCP_REFUSED);
		tcp_reject(w->ts);
		return;
	}

	/* full: the oldest TLS handshake makes room, else refuse */
	if (list_count(&w->conns) >= w->max_conns &&
	    !wwsf_conn_evict_oldest(w)) {
		log_warn("%J: rejected: %u connections", peer, w->max_conns);
		tcp_reject(w->ts);
		return;
	}

	(void)wwsf_conn_accept(w, peer);
}


static int tls_load(struct tls **tlsp, const char *cert, const char *key)
{
	int err = tls_alloc_files(tlsp, cert, key);

	if (err)
		log_error("cannot load certificate %s / key %s: %m", cert,
			  key, err);

	return err;
}


/**
 * Open the WWSF HTTPS listener
 *
 * @param wp  Returned listener
 * @param cfg Configuration (strings are copied)
 *
 * @return 0 if success, otherwise errorcode
 */
int wwsf_alloc(struct wwsf **wp, const struct wwsf_cfg *cfg)
{
	struct wwsf *w;
	int err;

	if (!wp || !cfg || !cfg->cert || !cfg->key || !cfg->root)
		return EINVAL;

	w = mem_zalloc(sizeof(*w), destructor);
	if (!w)
		return ENOMEM;

	w->max_conns = cfg->max_conns ? cfg->max_conns : CONNS_DEF;
	w->conns_per_addr = cfg->conns_per_addr ? cfg->conns_per_addr :
		PER_ADDR_DEF;

	err = hash_alloc(&w->ht_addr, ADDR_BUCKETS);
	if (err)
		goto out;

	err = wwsf_site_alloc(&w->site, cfg->root, cfg->connect_src);
	if (err) {
		log_error("bad page root %s or connect-src: %m", cfg->root,
			  err);
		goto out;
	}

	err = tls_load(&w->tls, cfg->cert, cfg->key);
	if (err)
		goto out;

	err = net_tcp_listen(&w->ts, &cfg->listen, BACKLOG, connect_handler,
			     w);
	if (err) {
		log_error("cannot listen on %J: %m", &cfg->listen, err);
		goto out;
	}

	err = tcp_sock_local_get(w->ts, &w->laddr);
	if (err)
		goto out;

	tmr_start(&w->tick, TICK_MS, tick_handler, w);

	log_info("serving %s on https://%J (max %u connections, %u per "
		 "address)", cfg->root, &w->laddr, w->max_conns,
		 w->conns_per_addr);

 out:
	if (err)
		mem_deref(w);
	else
		*wp = w;

	return err;
}


/**
 * Load a new certificate and key for new connections (SIGHUP); live
 * connections keep theirs
 *
 * @param w    Listener
 * @param cert Certificate PEM file
 * @param key  Key PEM file
 *
 * @return 0 if success, otherwise errorcode (the old one stays)
 */
int wwsf_reload(struct wwsf *w, const char *cert, const char *key)
{
	struct tls *tls;
	int err;

	if (!w)
		return EINVAL;

	err = wwsf_tls_read(&tls, cert, key);
	if (err)
		return err;

	wwsf_tls_set(w, tls);
	mem_deref(tls);
	log_info("reloaded certificate %s", cert);

	return 0;
}


/**
 * Read a certificate and key for the listener (the first step of a
 * reload that must not change anything before all of it is read)
 *
 * @param tlsp Returned TLS context
 * @param cert Certificate chain (PEM file)
 * @param key  Private key (PEM file)
 *
 * @return 0 if success, otherwise errorcode (the reason is logged)
 */
int wwsf_tls_read(struct tls **tlsp, const char *cert, const char *key)
{
	if (!tlsp || !cert || !key)
		return EINVAL;

	return tls_load(tlsp, cert, key);
}


/**
 * New connections use this TLS context (a reference is taken)
 *
 * @param w   Listener
 * @param tls TLS context from wwsf_tls_read()
 */
void wwsf_tls_set(struct wwsf *w, struct tls *tls)
{
	if (!w || !tls)
		return;

	mem_deref(w->tls);
	w->tls = mem_ref(tls);
}


/**
 * Set the handler for requests to /api/...; without one they get 404
 *
 * @param w   Listener
 * @param h   Handler, or NULL
 * @param arg Handler argument
 */
void wwsf_set_api(struct wwsf *w, wwsf_api_h *h, void *arg)
{
	if (!w)
		return;

	w->site->apih = h;
	w->site->arg  = arg;
}


/**
 * Local address the listener is bound to
 *
 * @param w Listener
 *
 * @return Address
 */
const struct sa *wwsf_laddr(const struct wwsf *w)
{
	return w ? &w->laddr : NULL;
}


/**
 * Number of open TCP connections
 *
 * @param w Listener
 *
 * @return Count
 */
uint32_t wwsf_conn_count(const struct wwsf *w)
{
	return w ? list_count(&w->conns) : 0;
}

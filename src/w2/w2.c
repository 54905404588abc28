/**
 * @file w2.c  W2 listener: limits, certificate reload, orderly shutdown
 *
 * Admission of a new TCP connection, before any TLS work:
 * - its address has w2_pending_per_address connections in the TLS or
 *   HTTP stage: refused (accepted and closed at once; a security line);
 * - the listener has w2_max_pending of them: the oldest is dropped
 *   (TCP close) and the new one taken, so sockets that handshake slowly
 *   cannot hold every slot until their timeout (issue 13);
 * - each must finish TLS and the Upgrade in w2_handshake_timeout.
 *
 * After a burst of connections has gone, or a burst of handshakes has
 * ended (each frees its mbedtls record buffers and handshake state,
 * about 25 KB, leaving holes between the connections' small long-lived
 * objects), free heap goes back to the system (core/trim.h).
 */
#include <re.h>
#include "../core/conf.h"
#include "../net/net.h"
#include "../tls/tlsx.h"
#include "../core/budget.h"
#include "../core/stats.h"
#include "../admit/admit.h"
#include "w2.h"
#include "w2_int.h"

#define LOG_MODULE "w2"

enum {
	W2_BACKLOG = 256,
	W2_TICK_MS = 250,   /* resolution of pings and handshake timeouts */
	EVICT_LOG_MS = 10000,
};


static void destructor(void *arg)
{
	struct w2 *w2 = arg;

	tmr_cancel(&w2->tick);
	w2->ts = mem_deref(w2->ts);
	w2->idleh = NULL;
	list_flush(&w2->conns);
	mem_deref(w2->ht_ws);
	mem_deref(w2->ht_addr);
	mem_deref(w2->tls);
	mem_deref(w2->conf);
}


/* One timer for all connections' deadlines */
static void tick_handler(void *arg)
{
	struct w2 *w2 = arg;
	uint64_t now = tmr_jiffies();
	struct le *le = w2->conns.head;

	tmr_start(&w2->tick, W2_TICK_MS, tick_handler, w2);

	while (le) {
		struct w2_conn *conn = le->data;

		le = le->next;
		w2_conn_tick(conn, now);
	}
}


/* At the pending cap: the oldest handshake makes room */
static void evict_oldest(struct w2 *w2)
{
	uint64_t now = tmr_jiffies();

	w2_conn_evict(list_ledata(w2->pending.head));
	stats_inc(STAT_HS_DROPPED);
	++w2->n_evicted;

	if (now < w2->evict_log_due)
		return;

	log_warn("%u connections in handshake: dropped the oldest (%u "
		 "dropped in %u s)", w2->conf->w2_max_pending, w2->n_evicted,
		 EVICT_LOG_MS / 1000);
	w2->n_evicted = 0;
	w2->evict_log_due = now + EVICT_LOG_MS;
}


static void connect_handler(const struct sa *peer, void *arg)
{
	struct w2 *w2 = arg;
	const uint32_t per_addr = w2->conf->w2_pending_per_address;
	struct admit_addr *a;

	if (w2->shutdown) {
		tcp_reject(w2->ts);
		return;
	}

	a = admit_find(w2->ht_addr, peer);
	if (a && a->n_pending >= per_addr) {
		admit_refused(a, "handshake_limited", peer, per_addr);
		stats_inc(STAT_TCP_REFUSED);
		tcp_reject(w2->ts);
		return;
	}

	while (w2->n_pending >= w2->conf->w2_max_pending &&
	       w2->pending.head)
		evict_oldest(w2);

	(void)w2_conn_accept(w2, peer);
}


static int tls_load(struct tls **tlsp, const struct imsedge_conf *conf)
{
	int err = tls_alloc_files(tlsp, conf->tls_cert, conf->tls_key);

	if (err)
		log_error("cannot load certificate %s / key %s: %m",
			  conf->tls_cert, conf->tls_key, err);

	return err;
}


/**
 * Open the W2 listener
 *
 * @param w2p  Returned listener
 * @param conf Configuration (a reference is kept)
 *
 * @return 0 if success, otherwise errorcode
 */
int w2_alloc(struct w2 **w2p, struct imsedge_conf *conf)
{
	struct w2 *w2;
	uint32_t buckets;
	int err;

	if (!w2p || !conf)
		return EINVAL;

	w2 = mem_zalloc(sizeof(*w2), destructor);
	if (!w2)
		return ENOMEM;

	w2->conf = mem_ref(conf);

	buckets = conf_conn_buckets(conf);
	err = hash_alloc(&w2->ht_ws, buckets);
	if (!err)
		err = hash_alloc(&w2->ht_addr, buckets);
	if (err)
		goto out;

	budget_set_limit(conf->buffer_budget);

	err = tls_load(&w2->tls, conf);
	if (err)
		goto out;

	err = net_tcp_listen(&w2->ts, &conf->w2_listen, W2_BACKLOG,
			     connect_handler, w2);
	if (err) {
		log_error("cannot listen on %J: %m", &conf->w2_listen, err);
		goto out;
	}

	err = tcp_sock_local_get(w2->ts, &w2->laddr);
	if (err)
		goto out;

	tmr_start(&w2->tick, W2_TICK_MS, tick_handler, w2);

	log_info("listening on wss://%J (max %u connections)", &w2->laddr,
		 conf->max_connections);

 out:
	if (err)
		mem_deref(w2);
	else
		*w2p = w2;

	return err;
}


struct w2_reload {
	struct w2 *w2;
	struct imsedge_conf *conf;
	struct tls *tls;
};


static void reload_destructor(void *arg)
{
	struct w2_reload *r = arg;

	mem_deref(r->conf);
	mem_deref(r->tls);
}


/**
 * SIGHUP, first step: read what a new configuration needs (its
 * certificate); nothing changes until w2_reload_apply()
 *
 * @param rp   Returned reload (free with mem_deref, applied or not)
 * @param w2   W2 listener
 * @param conf The new configuration
 *
 * @return 0 if success, otherwise errorcode (the reason is logged)
 */
int w2_reload_prepare(struct w2_reload **rp, struct w2 *w2,
		      struct imsedge_conf *conf)
{
	struct w2_reload *r;
	int err;

	if (!rp || !w2 || !conf)
		return EINVAL;

	r = mem_zalloc(sizeof(*r), reload_destructor);
	if (!r)
		return ENOMEM;

	r->w2   = w2;
	r->conf = mem_ref(conf);

	err = tls_load(&r->tls, conf);
	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}


/**
 * SIGHUP, second step: new connections get the new certificate, and
 * the listener the new limits and origins (cannot fail)
 *
 * @param r A prepared reload
 */
void w2_reload_apply(struct w2_reload *r)
{
	struct w2 *w2;

	if (!r || !r->tls)
		return;

	w2 = r->w2;
	if (!sa_cmp(&r->conf->w2_listen, &w2->conf->w2_listen, SA_ALL))
		log_warn("w2_listen change needs a restart");

	mem_deref(w2->tls);
	w2->tls = r->tls;
	r->tls = NULL;
	mem_deref(w2->conf);
	w2->conf = mem_ref(r->conf);
	budget_set_limit(w2->conf->buffer_budget);

	log_info("reloaded certificate and %u allowed origins",
		 list_count(&w2->conf->origins));
}


/**
 * Set the handlers for SIP messages from browsers and for the end of an
 * upgraded connection
 *
 * @param w2     W2 listener
 * @param siph   SIP message handler
 * @param closeh Called when an upgraded connection is going away
 * @param arg    Handler argument
 */
void w2_set_handler(struct w2 *w2, w2_sip_h *siph, w2_close_h *closeh,
		    void *arg)
{
	if (!w2)
		return;

	w2->siph   = siph;
	w2->closeh = closeh;
	w2->arg    = arg;
}


/**
 * Stop listening and close every connection (WebSocket close 1001)
 *
 * @param w2    W2 listener
 * @param idleh Called once the last connection has gone
 * @param arg   Handler argument
 *
 * @return Number of connections still closing
 */
unsigned w2_shutdown(struct w2 *w2, w2_idle_h *idleh, void *arg)
{
	struct le *le;

	if (!w2)
		return 0;

	w2->shutdown = true;
	w2->ts = mem_deref(w2->ts);
	w2->idleh = idleh;
	w2->idle_arg = arg;

	le = w2->conns.head;
	while (le) {
		struct w2_conn *conn = le->data;

		le = le->next;
		w2_conn_shutdown(conn);
	}

	return list_count(&w2->conns);
}


/* Called by a connection after it left the list */
void w2_conn_gone(struct w2 *w2)
{
	if (w2->shutdown && !w2->conns.head && w2->idleh) {
		w2_idle_h *h = w2->idleh;

		w2->idleh = NULL;
		h(w2->idle_arg);
	}
}


/**
 * Number of upgraded WebSocket connections
 *
 * @param w2 W2 listener
 *
 * @return Count
 */
uint32_t w2_conn_count(const struct w2 *w2)
{
	return w2 ? w2->n_ws : 0;
}


/**
 * Local address the listener is bound to
 *
 * @param w2 W2 listener
 *
 * @return Address
 */
const struct sa *w2_laddr(const struct w2 *w2)
{
	return w2 ? &w2->laddr : NULL;
}

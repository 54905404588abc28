/**
 * @file metrics.c  Prometheus metrics (text format 0.0.4) over plain
 *                  HTTP on a loopback address: GET /metrics (and, with
 *                  metrics_token, over the WWSF's HTTPS: src/web)
 *
 * Counters come from src/core/stats.c; gauges are read from the
 * modules at scrape time. Names follow the Prometheus conventions:
 * imsedge_ prefix, base units (seconds, bytes), _total for counters.
 * The listener is libre's HTTP server; only loopback addresses are
 * allowed (conf.c), so only local scrapers (or an SSH tunnel) reach it.
 */
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <time.h>
#include <re.h>
#include "../core/log.h"
#include "../core/budget.h"
#include "../core/stats.h"
#include "../cdr/cdr.h"
#include "../agw/agw.h"
#include "../w2/w2.h"
#include "../pcscf/pcscf.h"
#include "metrics.h"

#define LOG_MODULE "metrics"

#ifndef IMSEDGE_VERSION
#define IMSEDGE_VERSION "0.0.0"
#endif

enum {
	LAG_TICK_MS = 1000,
};

struct metrics {
	struct http_sock *sock;
	struct metrics_src src;
	struct sa laddr;
	struct tmr tmr_lag;
	uint64_t lag_due;         /**< ms the lag timer should fire at    */
	uint64_t lag_last;        /**< ms, last measured                  */
	uint64_t lag_max;         /**< ms, largest since start            */
	uint64_t start;           /**< s since the epoch                  */
	uint64_t lost_b2c;        /**< Highest lost exported (a counter   */
	uint64_t lost_c2b;        /**<  never goes down; duplicates can)  */
};


static void destructor(void *arg)
{
	struct metrics *m = arg;

	tmr_cancel(&m->tmr_lag);
	mem_deref(m->sock);
}


/* The loop's lateness: how much later than due a 1 s timer fires */
static void lag_tick(void *arg)
{
	struct metrics *m = arg;
	uint64_t now = tmr_jiffies();

	m->lag_last = now > m->lag_due ? now - m->lag_due : 0;
	m->lag_max = max(m->lag_max, m->lag_last);
	m->lag_due = now + LAG_TICK_MS;
	tmr_start(&m->tmr_lag, LAG_TICK_MS, lag_tick, m);
}


static int family(struct mbuf *mb, const char *name, const char *type,
		  const char *help)
{
	return mbuf_printf(mb, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			   name, type);
}


static int one(struct mbuf *mb, const char *name, const char *type,
	       const char *help, uint64_t v)
{
	int err = family(mb, name, type, help);

	return err | mbuf_printf(mb, "%s %llu\n", name,
				 (unsigned long long)v);
}


static int labelled(struct mbuf *mb, const char *name, const char *label,
		    const char *val, uint64_t v)
{
	return mbuf_printf(mb, "%s{%s=\"%s\"} %llu\n", name, label, val,
			   (unsigned long long)v);
}


static int sip(struct mbuf *mb)
{
	static const char *cls[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "6xx"};
	const char *n = "imsedge_sip_requests_total";
	size_t i;
	int err;

	err = family(mb, n, "counter", "SIP requests received, by side "
		     "(browser: W2, core: Mw) and method");
	for (i = 0; i < ARRAY_SIZE(stats_methods); i++) {
		err |= mbuf_printf(mb, "%s{side=\"browser\",method=\"%s\"} "
				   "%llu\n", n, stats_methods[i],
				   (unsigned long long)stats_get(STAT_REQ_B +
								 i));
		err |= mbuf_printf(mb, "%s{side=\"core\",method=\"%s\"} "
				   "%llu\n", n, stats_methods[i],
				   (unsigned long long)stats_get(STAT_REQ_C +
								 i));
	}

	n = "imsedge_sip_responses_total";
	err |= family(mb, n, "counter", "SIP responses sent, by side they "
		      "went to and class");
	for (i = 0; i < ARRAY_SIZE(cls); i++) {
		err |= mbuf_printf(mb, "%s{side=\"browser\",class=\"%s\"} "
				   "%llu\n", n, cls[i],
				   (unsigned long long)stats_get(STAT_RSP_B +
								 i));
		err |= mbuf_printf(mb, "%s{side=\"core\",class=\"%s\"} "
				   "%llu\n", n, cls[i],
				   (unsigned long long)stats_get(STAT_RSP_C +
								 i));
	}

	return err;
}


static int calls(struct mbuf *mb, const struct metrics *m)
{
	const char *n = "imsedge_calls_ended_total";
	enum cdr_end e;
	int err;

	err = one(mb, "imsedge_calls_active", "gauge", "Call legs with "
		  "media now", agw_session_count(m->src.agw));
	err |= family(mb, "imsedge_calls_total", "counter", "Call legs "
		      "started, by direction seen from the browser");
	err |= labelled(mb, "imsedge_calls_total", "direction", "out",
			stats_get(STAT_CALL_OUT));
	err |= labelled(mb, "imsedge_calls_total", "direction", "in",
			stats_get(STAT_CALL_IN));

	err |= family(mb, n, "counter", "Call legs ended, by reason (the "
		      "end= of their call record)");
	for (e = CDR_END_OTHER; e <= CDR_END_DEREGISTERED; e++)
		err |= labelled(mb, n, "reason", cdr_end_name(e),
				stats_get(STAT_CALL_END + e));

	return err;
}


static int media(struct mbuf *mb, const struct metrics *m)
{
	struct agw_stats t;
	uint32_t used, total, xnow;
	uint64_t xtotal, unk_b, unk_c;
	int err;

	agw_totals(m->src.agw, &t);
	agw_ports(m->src.agw, &used, &total);

	err = family(mb, "imsedge_media_packets_total", "counter", "RTP and "
		     "RTCP packets relayed, by direction");
	err |= labelled(mb, "imsedge_media_packets_total", "direction",
			"browser_to_core", t.w3_pkts);
	err |= labelled(mb, "imsedge_media_packets_total", "direction",
			"core_to_browser", t.core_pkts);
	err |= family(mb, "imsedge_media_bytes_total", "counter", "Plain "
		      "RTP and RTCP bytes relayed, by direction");
	err |= labelled(mb, "imsedge_media_bytes_total", "direction",
			"browser_to_core", t.w3_bytes);
	err |= labelled(mb, "imsedge_media_bytes_total", "direction",
			"core_to_browser", t.core_bytes);
	err |= family(mb, "imsedge_media_dropped_packets_total", "counter",
		      "Packets not relayed, by direction they came from");
	err |= labelled(mb, "imsedge_media_dropped_packets_total",
			"direction", "browser_to_core", t.w3_dropped);
	err |= labelled(mb, "imsedge_media_dropped_packets_total",
			"direction", "core_to_browser", t.core_dropped);
	err |= one(mb, "imsedge_srtp_failures_total", "counter", "SRTP and "
		   "SRTCP packets from browsers that failed authentication or "
		   "replay checks", t.w3_srtp_failed);
	err |= one(mb, "imsedge_dtls_handshakes_total", "counter", "DTLS "
		   "handshakes completed", stats_get(STAT_DTLS_OK));
	err |= one(mb, "imsedge_dtls_failures_total", "counter", "DTLS "
		   "associations that failed (handshake, fingerprint, alert)",
		   stats_get(STAT_DTLS_FAILED));
	agw_xcode_count(m->src.agw, &xnow, &xtotal);
	err |= one(mb, "imsedge_transcoded_streams", "gauge", "Streams on "
		   "the transcoding path now", xnow);
	err |= one(mb, "imsedge_transcoded_streams_total", "counter",
		   "Streams put on the transcoding path", xtotal);
	agw_unknown_sources(m->src.agw, &unk_b, &unk_c);
	err |= family(mb, "imsedge_media_unknown_source_total", "counter",
		      "Datagrams a shared media port dropped: no call has "
		      "their source, by side");
	err |= labelled(mb, "imsedge_media_unknown_source_total", "side",
			"browser", unk_b);
	err |= labelled(mb, "imsedge_media_unknown_source_total", "side",
			"core", unk_c);
	err |= family(mb, "imsedge_media_ports", "gauge", "UDP ports of "
		      "rtp_ports, by state");
	err |= labelled(mb, "imsedge_media_ports", "state", "used", used);
	err |= labelled(mb, "imsedge_media_ports", "state", "free",
			total - used);

	return err;
}


static int seconds(struct mbuf *mb, const char *name, const char *dir,
		   uint32_t us)
{
	return mbuf_printf(mb, "%s{direction=\"%s\"} %u.%06u\n", name, dir,
			   us / 1000000, us % 1000000);
}


/* RFC 3550 A.3 and A.8 on what the AGW receives from each side */
static int rtp(struct mbuf *mb, struct metrics *m)
{
	const char *n = "imsedge_rtp_packets_lost_total";
	struct agw_stats t;
	int err;

	agw_totals(m->src.agw, &t);
	m->lost_b2c = max(m->lost_b2c, (uint64_t)max(t.w3_lost, 0));
	m->lost_c2b = max(m->lost_c2b, (uint64_t)max(t.core_lost, 0));

	err = family(mb, n, "counter", "RTP packets lost on the way to the "
		     "AGW (RFC 3550 A.3), by direction");
	err |= labelled(mb, n, "direction", "browser_to_core", m->lost_b2c);
	err |= labelled(mb, n, "direction", "core_to_browser", m->lost_c2b);

	n = "imsedge_rtp_packets_expected_total";
	err |= family(mb, n, "counter", "RTP packets expected by sequence "
		      "number (RFC 3550 A.3), by direction");
	err |= labelled(mb, n, "direction", "browser_to_core",
			(uint64_t)max(t.w3_expected, 0));
	err |= labelled(mb, n, "direction", "core_to_browser",
			(uint64_t)max(t.core_expected, 0));

	n = "imsedge_rtp_jitter_seconds";
	err |= family(mb, n, "gauge", "Highest interarrival jitter of the "
		      "RTP of active calls (RFC 3550 A.8), by direction");
	err |= seconds(mb, n, "browser_to_core", t.w3_jitter_us);
	err |= seconds(mb, n, "core_to_browser", t.core_jitter_us);

	return err;
}


static int web(struct mbuf *mb)
{
	static const struct {
		const char *result;
		enum stat_id id;
	} logins[] = {
		{"ok",             STAT_LOGIN_OK},
		{"wrong_password", STAT_LOGIN_WRONG_PASSWORD},
		{"unknown_user",   STAT_LOGIN_UNKNOWN_USER},
		{"locked",         STAT_LOGIN_LOCKED},
		{"busy",           STAT_LOGIN_BUSY},
	};
	const char *n = "imsedge_wwsf_logins_total";
	size_t i;
	int err;

	err = family(mb, n, "counter", "WWSF password logins, by result");
	for (i = 0; i < ARRAY_SIZE(logins); i++)
		err |= labelled(mb, n, "result", logins[i].result,
				stats_get(logins[i].id));

	n = "imsedge_wwsf_guest_logins_total";
	err |= family(mb, n, "counter", "WWSF guest logins, by result");
	err |= labelled(mb, n, "result", "ok", stats_get(STAT_GUEST_OK));
	err |= labelled(mb, n, "result", "refused",
			stats_get(STAT_GUEST_REFUSED));

	n = "imsedge_token_refusals_total";
	err |= family(mb, n, "counter", "SIP requests refused for their "
		      "token at the eP-CSCF, by reason");
	for (i = 0; i < ARRAY_SIZE(stats_token_labels); i++)
		err |= labelled(mb, n, "reason", stats_token_labels[i],
				stats_get(STAT_TOKEN_REFUSED + i));

	err |= one(mb, "imsedge_origin_refusals_total", "counter",
		   "WebSocket upgrades and API requests refused for their "
		   "Origin", stats_get(STAT_ORIGIN_REFUSED));

	return err;
}


static uint64_t rss_bytes(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	long page = sysconf(_SC_PAGESIZE);

	if (!f)
		return 0;

	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	(void)fclose(f);

	return (uint64_t)res * (uint64_t)(page > 0 ? page : 4096);
}


static int process(struct mbuf *mb, const struct metrics *m)
{
	int err;

	err = family(mb, "imsedge_build_info", "gauge", "Version of the "
		     "running imsedge");
	err |= mbuf_printf(mb, "imsedge_build_info{version=\"%s\"} 1\n",
			   IMSEDGE_VERSION);
	err |= one(mb, "imsedge_start_time_seconds", "gauge", "Start time "
		   "since the Unix epoch", m->start);
	err |= one(mb, "imsedge_resident_memory_bytes", "gauge", "Resident "
		   "set size", rss_bytes());
	err |= family(mb, "imsedge_event_loop_lag_seconds", "gauge", "How "
		      "late a 1 s timer of the event loop fired, last time");
	err |= mbuf_printf(mb, "imsedge_event_loop_lag_seconds %llu.%03llu\n",
			   (unsigned long long)(m->lag_last / 1000),
			   (unsigned long long)(m->lag_last % 1000));
	err |= family(mb, "imsedge_event_loop_lag_max_seconds", "gauge",
		      "The largest event loop lag since start");
	err |= mbuf_printf(mb, "imsedge_event_loop_lag_max_seconds "
			   "%llu.%03llu\n",
			   (unsigned long long)(m->lag_max / 1000),
			   (unsigned long long)(m->lag_max % 1000));

	return err;
}


/**
 * Print every metric in the Prometheus text format
 *
 * @param mb Output
 * @param m  Metrics
 *
 * @return 0 if success, otherwise errorcode
 */
int metrics_print(struct mbuf *mb, struct metrics *m)
{
	int err;

	if (!mb || !m)
		return EINVAL;

	err  = process(mb, m);
	err |= one(mb, "imsedge_websocket_connections", "gauge", "Open W2 "
		   "WebSocket connections", w2_conn_count(m->src.w2));
	err |= one(mb, "imsedge_websocket_connections_total", "counter",
		   "W2 WebSocket connections opened",
		   stats_get(STAT_WS_OPENED));
	err |= one(mb, "imsedge_websocket_rejections_total", "counter",
		   "W2 upgrades refused", stats_get(STAT_WS_REJECTED));
	err |= one(mb, "imsedge_handshakes_dropped_total", "counter",
		   "Connections in TLS/HTTP dropped for newer ones (W2, WWSF)",
		   stats_get(STAT_HS_DROPPED));
	err |= one(mb, "imsedge_connections_refused_total", "counter",
		   "W2 TCP connections closed at accept (per-address limit)",
		   stats_get(STAT_TCP_REFUSED));
	err |= one(mb, "imsedge_buffer_budget_bytes", "gauge",
		   "Bytes of receive and TLS record buffers held "
		   "(buffer_budget)", budget_used());
	err |= one(mb, "imsedge_buffer_budget_refusals_total", "counter",
		   "Buffer growths refused: buffer_budget spent",
		   budget_refusals());
	err |= one(mb, "imsedge_buffer_budget_evictions_total", "counter",
		   "Connections closed to make room in buffer_budget",
		   budget_evictions());
	err |= one(mb, "imsedge_registrations", "gauge", "Registered "
		   "identities now", pcscf_registrations(m->src.pcscf));
	err |= family(mb, "imsedge_registrations_total", "counter",
		      "Registrations accepted by the core, by mechanism");
	err |= labelled(mb, "imsedge_registrations_total", "mechanism",
			"digest", stats_get(STAT_REG_DIGEST));
	err |= labelled(mb, "imsedge_registrations_total", "mechanism",
			"aka", stats_get(STAT_REG_AKA));
	err |= labelled(mb, "imsedge_registrations_total", "mechanism",
			"token", stats_get(STAT_REG_TOKEN));
	err |= sip(mb);
	err |= calls(mb, m);
	err |= media(mb, m);
	err |= rtp(mb, m);
	err |= web(mb);

	return err;
}


static void http_req(struct http_conn *conn, const struct http_msg *msg,
		     void *arg)
{
	struct metrics *m = arg;
	struct mbuf *mb;

	if (pl_strcmp(&msg->met, "GET")) {
		(void)http_ereply(conn, 405, "Method Not Allowed");
		return;
	}

	if (pl_strcmp(&msg->path, "/metrics")) {
		(void)http_ereply(conn, 404, "Not Found");
		return;
	}

	mb = mbuf_alloc(8192);
	if (!mb || metrics_print(mb, m)) {
		(void)http_ereply(conn, 500, "Internal Server Error");
		mem_deref(mb);
		return;
	}

	(void)http_creply(conn, 200, "OK",
			  "text/plain; version=0.0.4; charset=utf-8",
			  "%b", mb->buf, mb->end);
	mem_deref(mb);
}


/**
 * Serve the metrics on a loopback address
 *
 * @param mp    Returned metrics
 * @param laddr Address (loopback), or unset/NULL for no listener of
 *              its own (metrics_print() for the WWSF's /metrics only)
 * @param src   Where the gauges come from
 *
 * @return 0 if success, otherwise errorcode
 */
int metrics_alloc(struct metrics **mp, const struct sa *laddr,
		  const struct metrics_src *src)
{
	struct metrics *m;
	int err;

	if (!mp || !laddr || !src)
		return EINVAL;

	if (sa_isset(laddr, SA_PORT) && !sa_is_loopback(laddr))
		return EACCES;

	m = mem_zalloc(sizeof(*m), destructor);
	if (!m)
		return ENOMEM;

	m->src = *src;
	m->start = (uint64_t)time(NULL);
	tmr_init(&m->tmr_lag);
	m->lag_due = tmr_jiffies() + LAG_TICK_MS;
	tmr_start(&m->tmr_lag, LAG_TICK_MS, lag_tick, m);

	if (!sa_isset(laddr, SA_PORT)) {
		*mp = m;
		return 0;
	}

	err = http_listen(&m->sock, laddr, http_req, m);
	if (!err)
		err = tcp_sock_local_get(http_sock_tcp(m->sock), &m->laddr);
	if (err) {
		mem_deref(m);
		return err;
	}

	log_info("metrics on http://%J/metrics", &m->laddr);
	*mp = m;

	return 0;
}


/**
 * The metrics listener's address
 *
 * @param m Metrics
 *
 * @return Address, or NULL
 */
const struct sa *metrics_laddr(const struct metrics *m)
{
	return m ? &m->laddr : NULL;
}

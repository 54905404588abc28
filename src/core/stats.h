/**
 * @file stats.h  Process-wide event counters for the metrics endpoint
 *
 * Modules count events with stats_inc(STAT_X); src/metrics/ prints them.
 * Counters only ever grow (Prometheus counters); what is current (open
 * connections, active calls) is read from the modules at scrape time.
 */

#ifndef IMSEDGE_CORE_STATS_H
#define IMSEDGE_CORE_STATS_H

enum stat_id {
	/* W2 */
	STAT_WS_OPENED = 0,
	STAT_WS_REJECTED,
	STAT_HS_DROPPED,      /* oldest handshake dropped for a newer one */
	STAT_TCP_REFUSED,     /* closed at accept: its address's limit    */
	/* registrations made (200 to a REGISTER), by mechanism */
	STAT_REG_DIGEST,
	STAT_REG_AKA,
	STAT_REG_TOKEN,
	/* SIP requests by direction and method: STAT_REQ_B + method */
	STAT_REQ_B,
	STAT_REQ_B_END = STAT_REQ_B + 14,
	STAT_REQ_C = STAT_REQ_B_END,
	STAT_REQ_C_END = STAT_REQ_C + 14,
	/* SIP responses by direction and class 1xx..6xx */
	STAT_RSP_B = STAT_REQ_C_END,      /* to the browser */
	STAT_RSP_B_END = STAT_RSP_B + 6,
	STAT_RSP_C = STAT_RSP_B_END,      /* to the core    */
	STAT_RSP_C_END = STAT_RSP_C + 6,
	/* calls: started by direction, ended by reason (enum cdr_end) */
	STAT_CALL_OUT = STAT_RSP_C_END,
	STAT_CALL_IN,
	STAT_CALL_END,
	STAT_CALL_END_LAST = STAT_CALL_END + 16,
	/* DTLS */
	STAT_DTLS_OK = STAT_CALL_END_LAST,
	STAT_DTLS_FAILED,
	/* WWSF/WAF logins by result */
	STAT_LOGIN_OK,
	STAT_LOGIN_WRONG_PASSWORD,
	STAT_LOGIN_UNKNOWN_USER,
	STAT_LOGIN_LOCKED,
	STAT_LOGIN_BUSY,
	STAT_GUEST_OK,
	STAT_GUEST_REFUSED,
	/* tokens refused at the eP-CSCF, by reason */
	STAT_TOKEN_REFUSED,
	STAT_TOKEN_REFUSED_END = STAT_TOKEN_REFUSED + 14,
	STAT_ORIGIN_REFUSED = STAT_TOKEN_REFUSED_END,

	STAT_COUNT
};

/** The methods counted by name (others count as "other") */
extern const char *stats_methods[14];
/** Token refusal reasons as metric labels, the last one "other" */
extern const char *stats_token_labels[14];

void     stats_inc(enum stat_id id);
void     stats_add(enum stat_id id, uint64_t n);
uint64_t stats_get(enum stat_id id);
void     stats_sip_request(bool from_browser, const struct pl *met);
void     stats_sip_response(bool to_browser, uint16_t scode);
void     stats_token_refused(const char *reason);

#endif

/**
 * @file stats.c  Process-wide event counters for the metrics endpoint
 */
#include <string.h>
#include <re.h>
#include "stats.h"

static uint64_t counters[STAT_COUNT];

const char *stats_methods[14] = {
	"REGISTER", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "MESSAGE",
	"UPDATE", "PRACK", "INFO", "SUBSCRIBE", "NOTIFY", "REFER", "other",
};

const char *stats_token_labels[14] = {
	"missing", "malformed", "algorithm", "unknown_key", "signature",
	"expired", "not_yet_valid", "claims", "audience", "issuer",
	"identity", "registration", "not_enabled", "other",
};

/* Reason phrase (prefix) -> label index */
static const struct {
	const char *phrase;
	unsigned label;
} token_map[] = {
	{"Token required",                  0},
	{"Token malformed",                 1},
	{"Token header not supported",      1},
	{"Token algorithm",                 2},
	{"Token issuer not trusted",        3},
	{"Token key unknown",               3},
	{"Token signature",                 4},
	{"Token expired",                   5},
	{"Token not yet valid",             6},
	{"Token claims",                    7},
	{"Token audience",                  8},
	{"Token issuer not allowed",        9},
	{"Identity not",                   10},
	{"Pool identity",                  10},
	{"Token not for this registration", 11},
	{"Web authentication not enabled", 12},
};


void stats_inc(enum stat_id id)
{
	if ((unsigned)id < STAT_COUNT)
		++counters[id];
}


void stats_add(enum stat_id id, uint64_t n)
{
	if ((unsigned)id < STAT_COUNT)
		counters[id] += n;
}


uint64_t stats_get(enum stat_id id)
{
	return (unsigned)id < STAT_COUNT ? counters[id] : 0;
}


/**
 * Count a SIP request by its method
 *
 * @param from_browser From a browser (W2), else from the core (Mw)
 * @param met          Method
 */
void stats_sip_request(bool from_browser, const struct pl *met)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(stats_methods) - 1; i++) {
		if (!pl_strcmp(met, stats_methods[i]))
			break;
	}

	stats_inc((from_browser ? STAT_REQ_B : STAT_REQ_C) + i);
}


/**
 * Count a SIP response by its class
 *
 * @param to_browser Sent to a browser, else to the core
 * @param scode      Status code
 */
void stats_sip_response(bool to_browser, uint16_t scode)
{
	if (scode < 100 || scode > 699)
		return;

	stats_inc((to_browser ? STAT_RSP_B : STAT_RSP_C) + scode / 100 - 1);
}


/**
 * Count a token refused at the eP-CSCF
 *
 * @param reason The reason phrase of the 403
 */
void stats_token_refused(const char *reason)
{
	unsigned label = ARRAY_SIZE(stats_token_labels) - 1;
	size_t i;

	for (i = 0; reason && i < ARRAY_SIZE(token_map); i++) {
		if (!strncmp(reason, token_map[i].phrase,
			     strlen(token_map[i].phrase))) {
			label = token_map[i].label;
			break;
		}
	}

	stats_inc(STAT_TOKEN_REFUSED + label);
}

/**
 * @file conf.h  imsedge configuration: parse, validate, free
 *
 * The file is libre's "key value" format: one key per line, whole-line
 * '#' comments, keys may repeat where they take a list. Unknown keys,
 * malformed values and missing required keys are errors reported as
 * "FILE:LINE: reason".
 */

#ifndef IMSEDGE_CORE_CONF_H
#define IMSEDGE_CORE_CONF_H

#include "log.h"

/** Core-side codecs of the transcoding path (core_codecs) */
enum conf_codec {
	CONF_AMRWB,
	CONF_AMR,
	CONF_PCMA,
	CONF_PCMU,
	CONF_G722,
	CONF_CODECS
};

struct imsedge_conf {
	char *path;               /**< File the config was read from     */

	/* W2: SIP over secure WebSocket */
	struct sa w2_listen;
	char *tls_cert;
	char *tls_key;
	struct list origins;      /**< struct conf_str, allowed Origins  */
	uint32_t max_connections;
	uint32_t w2_max_message;  /**< bytes, reassembled WS message      */
	uint32_t w2_ping_interval;     /**< seconds, 0 = no keepalive    */
	uint32_t w2_idle_timeout;      /**< seconds without any frame    */
	uint32_t w2_handshake_timeout; /**< seconds for TLS + Upgrade    */
	uint32_t w2_max_pending;  /**< connections in TLS/HTTP stage     */
	uint32_t w2_pending_per_address;     /**< same, per address      */
	uint32_t w2_connections_per_address; /**< upgraded, per address  */
	uint32_t buffer_budget;   /**< bytes of peers' partial messages  */

	/* Mw: toward the IMS core */
	struct sa mw_listen;
	char *mw_next_hop;
	char *visited_network_id; /**< P-Visited-Network-ID value        */
	uint32_t mw_timeout;      /**< seconds for the core to answer    */
	bool mw_reg_event;        /**< subscribe to reg event (D-58)     */
	uint32_t max_registrations;
	uint32_t w2_rate_limit;   /**< SIP requests/s per connection     */

	/* eIMS-AGW (media); media_listen unset: no calls */
	struct sa media_listen;   /**< an address; unset with media_if   */
	char *media_if;           /**< media_listen as an interface name,
				       or "any": every address, resolved
				       at start                          */
	struct sa media_core_addr;
	struct sa media_public;       /**< advertised W3 address (NAT)   */
	struct sa media_core_public;  /**< advertised core address (NAT) */
	uint16_t rtp_port_min;
	uint16_t rtp_port_max;
	uint32_t max_calls;
	uint8_t media_dscp;
	bool media_port_shared;       /**< one W3 port for all calls     */
	bool media_core_port_shared;  /**< one core port pair, all calls */
	uint32_t consent_timeout;     /**< seconds                       */
	bool transcoding;             /**< Transcoding path (TRANSCODE=1) */
	uint32_t max_transcoded_calls; /**< Streams transcoded at once   */
	uint32_t opus_complexity;     /**< 0..10                         */
	uint8_t core_codecv[CONF_CODECS]; /**< enum conf_codec, in order */
	uint8_t core_codecc;
	uint16_t amr_wb_mode_set;     /**< bit per AMR-WB mode, 0: all   */
	bool datachannel;             /**< terminate data channels       */
	uint32_t max_datachannels;    /**< channels per association      */
	bool core_dc_relay;           /**< core_datachannel relay        */
	uint32_t dc_max_message;      /**< bytes, a=max-message-size     */
	char *mw_emergency_next_hop;
	struct list emergency_numbers;  /**< struct conf_str             */

	/* WWSF/WAF (W1) and web authentication at the eP-CSCF (D-11..D-20) */
	struct sa wwsf_listen;    /**< unset: no WWSF                     */
	char *wwsf_root;          /**< directory of the page              */
	char *wwsf_users;         /**< users file, NULL: no password login */
	char *wwsf_origin;        /**< the page's origin; tokens' "iss"   */
	uint32_t wwsf_connections_per_address; /**< IPv4 or IPv6 /64      */
	char *metrics_token;      /**< bearer token for GET /metrics on
				       the WWSF (HTTPS); NULL: not there */
	char *token_key;          /**< P-256 signing key of our WAF       */
	uint32_t token_lifetime;  /**< seconds                            */
	struct list pools;        /**< struct conf_pool                   */
	struct list waf_keys;     /**< struct conf_waf_key: trusted WAFs  */
	char *w2_public_url;      /**< wss:// URL of W2; tokens' "aud"    */

	/* operations: Prometheus metrics (unset: none), control socket */
	struct sa metrics_listen;
	char *control_socket;     /**< imsedge -s talks to it             */

	/* crypto offload: "software", "afalg"; NULL: the board's default */
	char *crypto_provider;

	/* logging */
	enum log_level log_level;
	bool log_syslog;

	unsigned *key_lines;      /**< line of each key (conf_line())     */
	char **key_vals;          /**< text of each key, for reloads      */
};

/** One string of a repeatable key */
struct conf_str {
	struct le le;
	char *val;
};

enum {
	CONF_POOL_MAX = 100000,   /**< Most identities in one identity_pool */
};

/** Where imsedge -s finds the daemon unless the config says otherwise */
#define CONF_CONTROL_SOCKET "/var/run/imsedge.sock"

/** One identity_pool: NAME and a SIP URI template with one {A-B} */
struct conf_pool {
	struct le le;
	char *name;
	char *tmpl;     /**< e.g. sip:guest{1-50}@ims.test               */
};

/** An identity pool template PRE{LO-HI}SUF, parsed (points into it) */
struct conf_pool_tmpl {
	struct pl pre;
	struct pl suf;
	uint32_t lo;
	uint32_t hi;
};

/** One waf_pubkey: an issuer (a WWSF origin) and its key file */
struct conf_waf_key {
	struct le le;
	char *issuer;
	char *file;
	unsigned line;  /**< its line in the file                      */
};

/** Called with each problem ("FILE:LINE: reason") by conf_check() */
typedef void (conf_report_h)(const char *problem, void *arg);

int  conf_load(struct imsedge_conf **confp, const char *path,
	       char *err, size_t errsz);
int  conf_parse(struct imsedge_conf **confp, const char *name,
		const char *text, size_t len, char *err, size_t errsz);
int  conf_check(struct imsedge_conf **confp, const char *path,
		conf_report_h *reph, void *arg);
unsigned conf_line(const struct imsedge_conf *conf, const char *key);
bool conf_restart_needed(const struct imsedge_conf *a,
			 const struct imsedge_conf *b, char *buf, size_t sz);
int  conf_pool_parse(struct conf_pool_tmpl *t, const struct pl *tmpl);
bool conf_pool_index(const struct conf_pool_tmpl *t, const struct pl *uri,
		     uint32_t *idx);
int  conf_pool_uri(char *buf, size_t sz, const struct conf_pool_tmpl *t,
		   uint32_t idx);
const char *conf_origin_find(const struct imsedge_conf *conf,
			     const struct pl *origin);
bool conf_origin_allowed(const struct imsedge_conf *conf,
			 const struct pl *origin);
uint32_t conf_conn_buckets(const struct imsedge_conf *conf);

#endif

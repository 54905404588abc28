/**
 * @file dtls_int.h  Private: the DTLS session (dtls.c, dtls_io.c,
 *                   dtls_keys.c)
 */
#include <mbedtls/ssl_cookie.h>

enum {
	DTLS_MS_LEN   = 48,          /**< TLS master secret              */
	DTLS_FP_MAX   = 32,          /**< SHA-256                        */
	DTLS_KEY_MAX  = 32 + 12,     /**< SRTP master key + salt (the
					  longest: AES-256-GCM)          */
	DTLS_CLID_MAX = 64,          /**< Client transport id (cookies)  */
	DTLS_TRIM_HANDSHAKE = 8192,  /**< Heap a finished handshake frees
					  (core/trim.h)                  */
};

enum dtls_state {
	DTLS_ST_IDLE,        /**< Nothing sent or received yet           */
	DTLS_ST_HANDSHAKE,
	DTLS_ST_PENDING,     /**< Handshake over, fingerprint not given  */
	DTLS_ST_UP,          /**< Handshake over and peer authenticated  */
	DTLS_ST_CLOSED,
};

/** Expected certificate fingerprint */
struct dtls_fp {
	enum tls_fingerprint type;
	uint8_t md[DTLS_FP_MAX];
	size_t len;
};

/** What the key export callback hands over, until the handshake ends */
struct dtls_export {
	uint8_t ms[DTLS_MS_LEN];
	uint8_t randbytes[64];       /**< client_random + server_random  */
	mbedtls_tls_prf_types prf;
	bool set;
};

/** An mbedtls configuration for DTLS sessions: shared by all sessions
    of a struct tls with the same role (and cookies or not), or a
    session's own (its handshake timeouts) */
struct dtls_conf {
	mbedtls_ssl_config conf;
	mbedtls_ssl_cookie_ctx cookie;
	struct tls *tls;
	struct dtls_conf **slot;     /**< In tls->dtls_conf, NULL if own */
};

struct dtls_sess {
	mbedtls_ssl_context ssl;     /**< Set up at first use (dtls_ready) */
	struct dtls_conf *conf;      /**< NULL until then                */
	struct tls *tls;
	struct tmr tmr;              /**< mbedtls retransmission timer   */
	struct tmr tmr_verdict;      /**< Deferred fingerprint verdict   */
	uint64_t tmr_t0;
	uint32_t tmr_int, tmr_fin;
	const uint8_t *rx;           /**< Datagram being fed in          */
	size_t rx_len;
	uint8_t clid[DTLS_CLID_MAX];
	size_t clid_len;
	uint32_t tmo_min, tmo_max;   /**< Own handshake timeouts, 0: none */
	bool no_gcm;                 /**< AES-CM SRTP profiles only        */
	uint16_t mtu;
	bool ready;                  /**< ssl set up (dtls_ready)         */
	struct dtls_fp expect;       /**< From the peer's SDP            */
	uint8_t peer_sha1[20];       /**< Peer's certificate             */
	uint8_t peer_sha256[32];
	bool have_expect;
	bool have_cert;              /**< Peer sent a certificate        */
	int verdict;                 /**< Late fingerprint check result  */
	struct dtls_export exp;
	enum srtp_suite suite;
	uint8_t cli_key[DTLS_KEY_MAX];
	uint8_t srv_key[DTLS_KEY_MAX];
	size_t key_len;              /**< 0: no SRTP negotiated          */
	enum dtls_role role;
	enum dtls_state state;
	bool lean;                   /**< Release idle record buffers    */
	dtls_sess_send_h *sendh;
	dtls_estab_h *estabh;
	dtls_recv_h *recvh;
	dtls_close_h *closeh;
	void *arg;
};

/* dtls.c */
int  dtls_ready(struct dtls_sess *s);

/* dtls_keys.c */
int  dtls_keys_conf(mbedtls_ssl_config *c);
int  dtls_keys_conf_cm(mbedtls_ssl_config *c);
void dtls_keys_attach(struct dtls_sess *s);
bool dtls_keys_match(const struct dtls_sess *s);
int  dtls_keys_derive(struct dtls_sess *s);
void dtls_keys_wipe(struct dtls_sess *s);

/* dtls_io.c */
void dtls_io_attach(struct dtls_sess *s);
void dtls_io_process(struct dtls_sess *s);
void dtls_io_idle(struct dtls_sess *s);
void dtls_sess_verdict(struct dtls_sess *s, int err);
int  dtls_io_err(int ret);
void dtls_io_log(const char *what, int ret);

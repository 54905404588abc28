/**
 * @file ws.h  WebSocket server side (RFC 6455): upgrade, frames, messages
 *
 * libre's websock module has no reassembly of fragmented messages, no
 * configurable message limit and no dead-peer detection, and needs its
 * own HTTP server; a SIP edge needs all of those, so this module keeps
 * libre's HTTP parser and SHA-1/base64 and adds a bounded frame layer.
 */

enum ws_opcode {
	WS_CONT  = 0x0,
	WS_TEXT  = 0x1,
	WS_BIN   = 0x2,
	WS_CLOSE = 0x8,
	WS_PING  = 0x9,
	WS_PONG  = 0xa,
};

enum ws_close_code {
	WS_CLOSE_NORMAL     = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL   = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_NO_STATUS  = 1005,
	WS_CLOSE_INVALID    = 1007,
	WS_CLOSE_POLICY     = 1008,
	WS_CLOSE_TOO_BIG    = 1009,
	WS_CLOSE_INTERNAL   = 1011,
	WS_CLOSE_TRY_AGAIN  = 1013,
};

enum { WS_FRAME_HDR_MAX = 14 };

/* Frames */
struct ws_frame {
	bool fin;
	uint8_t rsv;           /**< RSV1..3 bits                         */
	enum ws_opcode opcode;
	bool masked;
	uint64_t len;          /**< Payload length                       */
	uint8_t mkey[4];
};

int  ws_frame_decode(struct ws_frame *f, struct mbuf *mb, uint64_t maxlen);
int  ws_frame_encode(struct mbuf *mb, enum ws_opcode op, bool fin,
		     const uint8_t *p, size_t n);
bool ws_utf8_valid(const uint8_t *p, size_t n);
const char *ws_close_reason(uint16_t code);

/* Upgrade (RFC 6455 section 4.2) */
struct ws_upgrade {
	struct pl key;
	struct pl origin;
	const struct http_msg *msg;
};

int  ws_upgrade_decode(struct ws_upgrade *up, const struct http_msg *msg,
		       const char **reason);
bool ws_upgrade_has_protocol(const struct ws_upgrade *up, const char *proto);
int  ws_upgrade_accept(struct mbuf *mb, const struct ws_upgrade *up,
		       const char *proto);

/* Connection after the upgrade */
struct ws_conn;

struct ws_conn_prm {
	size_t max_message;       /**< Largest reassembled message      */
	uint32_t ping_interval;   /**< ms, 0 = off (see ws_conn_tick)   */
	uint32_t idle_timeout;    /**< ms without a data message        */
	uint32_t close_timeout;   /**< ms to wait for the peer's close  */
	size_t txq_max;           /**< Bytes queued for sending         */
};

typedef void (ws_msg_h)(enum ws_opcode op, struct mbuf *mb, void *arg);
typedef void (ws_closed_h)(int err, uint16_t code, void *arg);

int  ws_conn_alloc(struct ws_conn **wcp, struct tcp_conn *tc,
		   const struct ws_conn_prm *prm, ws_msg_h *msgh,
		   ws_closed_h *closedh, void *arg);
int  ws_conn_recv(struct ws_conn *wc, struct mbuf *mb);
int  ws_conn_send(struct ws_conn *wc, enum ws_opcode op,
		  const uint8_t *p, size_t n);
void ws_conn_close(struct ws_conn *wc, uint16_t code, const char *reason);
void ws_conn_tick(struct ws_conn *wc, uint64_t now);
bool ws_conn_is_open(const struct ws_conn *wc);

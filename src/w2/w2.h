/**
 * @file w2.h  W2: SIP over secure WebSocket toward browsers (RFC 7118)
 */

struct w2;
struct w2_conn;
struct imsedge_conf;

/**
 * Called with each valid SIP message received from a browser.
 * Return true if handled; false lets W2 answer requests itself.
 */
typedef bool (w2_sip_h)(struct w2_conn *conn, const struct sip_msg *msg,
			void *arg);
typedef void (w2_close_h)(struct w2_conn *conn, void *arg);
typedef void (w2_idle_h)(void *arg);

int  w2_alloc(struct w2 **w2p, struct imsedge_conf *conf);
struct w2_reload;    /* a reload read and checked, not yet applied */
int  w2_reload_prepare(struct w2_reload **rp, struct w2 *w2,
		       struct imsedge_conf *conf);
void w2_reload_apply(struct w2_reload *r);
void w2_set_handler(struct w2 *w2, w2_sip_h *siph, w2_close_h *closeh,
		    void *arg);
unsigned w2_shutdown(struct w2 *w2, w2_idle_h *idleh, void *arg);
uint32_t w2_conn_count(const struct w2 *w2);
const struct sa *w2_laddr(const struct w2 *w2);

struct w2_conn *w2_conn_find(const struct w2 *w2, uint64_t id);

int  w2_conn_send(struct w2_conn *conn, const struct mbuf *mb);
const struct sa *w2_conn_peer(const struct w2_conn *conn);
uint64_t w2_conn_id(const struct w2_conn *conn);
const char *w2_conn_origin(const struct w2_conn *conn);
void w2_conn_close(struct w2_conn *conn, uint16_t code, const char *reason);
void w2_conn_reply(struct w2_conn *conn, const struct sip_msg *msg,
		   uint16_t scode, const char *reason, const char *hdrs);

/**
 * @file wwsf_int.h  WWSF internals: the site, the socket-free HTTP
 *                   session and static files
 */

enum {
	WWSF_HEAD_MAX    = 8192,          /* request line + headers     */
	WWSF_HDR_MAX     = 64,            /* header lines                */
	WWSF_BODY_MAX    = 4096,          /* API request body            */
	WWSF_FILE_MAX    = 8 * 1024 * 1024,
	WWSF_REQ_MAX     = 100,           /* requests per connection     */
	WWSF_HEAD_TMO    = 10000,         /* TLS + request head (ms)     */
	WWSF_BODY_TMO    = 10000,
	WWSF_IDLE_TMO    = 15000,         /* keep-alive idle             */
	WWSF_SEND_TMO    = 30000,         /* no progress sending a file  */
	WWSF_PATH_MAX    = 1024,
};

/** What the listener and every session share */
struct wwsf_site {
	char *root;
	char *csp;             /**< Content-Security-Policy value        */
	wwsf_api_h *apih;
	void *arg;
};

int wwsf_site_alloc(struct wwsf_site **sitep, const char *root,
		    const char *connect_src);


/** Queue bytes toward the client (from mb->pos) */
typedef int (wwsf_send_h)(struct mbuf *mb, void *arg);
/** Bytes queued toward the client and not yet sent */
typedef size_t (wwsf_txq_h)(void *arg);


/** An open static file, ready to send */
struct wwsf_file {
	int fd;
	size_t size;
	const char *ctype;
	bool gzip;             /**< Serving the precompressed FILE.gz    */
	bool has_gzip;         /**< A FILE.gz exists (Vary needed)       */
	char etag[48];
	char lastmod[40];
};


/* One HTTP connection's request/response logic, fed with plaintext
   bytes and writing responses through a send handler (http.c) */
enum sess_state {
	S_HEAD = 0,    /* waiting for (the rest of) a request head */
	S_IDLE,        /* keep-alive, no byte of the next request yet */
	S_BODY,        /* receiving an API request body */
	S_SEND,        /* streaming a file body */
	S_DONE,        /* no more requests: the owner closes */
};

struct wwsf_sess {
	struct wwsf_site *site;
	struct sa peer;
	struct mbuf *rx;        /**< Received, not yet consumed           */
	struct mbuf *head;      /**< Head of the current request          */
	struct http_msg *msg;   /**< Current request                      */
	size_t scan;            /**< Head-end search resumes here         */
	size_t clen;            /**< Body length of the current request   */
	uint64_t deadline;
	struct wwsf_file file;  /**< File body being sent                 */
	size_t left;            /**< File bytes still to send             */
	unsigned nreq;
	bool head_only;         /**< HEAD request                         */
	bool keep;              /**< Keep-alive after this response       */
	bool drop;              /**< Discard input (too much pipelined)   */
	enum sess_state state;
	wwsf_send_h *sendh;
	wwsf_txq_h *txqh;
	void *arg;
};


int  wwsf_sess_alloc(struct wwsf_sess **sp, struct wwsf_site *site,
		     const struct sa *peer, wwsf_send_h *sendh,
		     wwsf_txq_h *txqh, void *arg);
void wwsf_sess_recv(struct wwsf_sess *s, const uint8_t *p, size_t n);
void wwsf_sess_drain(struct wwsf_sess *s);
void wwsf_sess_tick(struct wwsf_sess *s, uint64_t now);
bool wwsf_sess_sending(const struct wwsf_sess *s);
bool wwsf_sess_done(const struct wwsf_sess *s);
unsigned wwsf_sess_requests(const struct wwsf_sess *s);

int  wwsf_sess_respond(struct wwsf_sess *s, uint16_t scode,
		       const char *reason, const char *hdrs,
		       const char *ctype, const uint8_t *body, size_t len);
void wwsf_sess_fail(struct wwsf_sess *s, uint16_t scode, const char *reason,
		    const char *hdrs, const char *why);
void wwsf_sess_finish(struct wwsf_sess *s);
void wwsf_sess_end(struct wwsf_sess *s);

/* api.c */
void wwsf_api_request(struct wwsf_sess *s);
void wwsf_api_call(struct wwsf_sess *s, const uint8_t *body, size_t len);

int  wwsf_file_open(struct wwsf_file *f, const char *path, bool gzip_ok);
void wwsf_file_close(struct wwsf_file *f);
bool wwsf_etag_match(const struct http_msg *msg, const char *etag);
bool wwsf_gzip_accepted(const struct http_msg *msg);
int  wwsf_http_date(char *buf, size_t sz, int64_t t);


/* The listener and its TLS connections */
struct wwsf {
	struct tcp_sock *ts;
	struct tls *tls;
	struct wwsf_site *site;
	struct sa laddr;
	struct list conns;
	struct tmr tick;       /**< Deadlines of all connections         */
	struct hash *ht_addr;  /**< struct admit_addr by source address  */
	uint32_t max_conns;
	uint32_t conns_per_addr;
};

struct wwsf_conn;

int  wwsf_conn_accept(struct wwsf *w, const struct sa *peer);
void wwsf_conn_tick(struct wwsf_conn *conn, uint64_t now);
bool wwsf_conn_evict_oldest(struct wwsf *w);

/**
 * @file wwsf.h  WWSF: the browser phone page over HTTPS (checklist D-51)
 *
 * Static files from one directory, hardened (path confinement, limits,
 * security headers on every response), plus a hook for /api/ requests
 * and GET /metrics.
 */

struct wwsf;
struct wwsf_req;    /* one API request; valid only during the handler call */

struct wwsf_cfg {
	struct sa listen;
	const char *cert, *key;     /* PEM files */
	const char *root;           /* directory of the page */
	const char *connect_src;    /* added to CSP connect-src, e.g.
				       "wss://edge.example.net:7443"
				       (may be NULL) */
	uint32_t max_conns;         /* concurrent TCP connections
				       (0 = 256) */
	uint32_t conns_per_addr;    /* of those from one IPv4 address or
				       IPv6 /64 (0 = 32) */
};

/* The handler MUST call wwsf_reply() exactly once before returning */
typedef void (wwsf_api_h)(struct wwsf_req *req, void *arg);

int  wwsf_alloc(struct wwsf **wp, const struct wwsf_cfg *cfg);
int  wwsf_reload(struct wwsf *w, const char *cert, const char *key);
struct tls;
int  wwsf_tls_read(struct tls **tlsp, const char *cert, const char *key);
void wwsf_tls_set(struct wwsf *w, struct tls *tls);
void wwsf_set_api(struct wwsf *w, wwsf_api_h *h, void *arg);
const struct sa *wwsf_laddr(const struct wwsf *w);
uint32_t wwsf_conn_count(const struct wwsf *w);

const struct http_msg *wwsf_req_msg(const struct wwsf_req *req);
const struct sa *wwsf_req_peer(const struct wwsf_req *req);
void wwsf_req_body(const struct wwsf_req *req, const uint8_t **p,
		   size_t *n);
int  wwsf_reply(struct wwsf_req *req, uint16_t scode, const char *reason,
		const char *extra_hdrs, const char *ctype,
		const uint8_t *body, size_t len);

/* pure, socket-free, for tests and fuzzing */
int  wwsf_path_map(const char *root, const struct pl *target, char *path,
		   size_t sz);
const char *wwsf_mime_type(const char *path);

/**
 * @file net.h  Sockets, in the subset lwIP's BSD socket API offers
 *
 * Only this module calls socket functions (net_sys.h picks the backend:
 * the C library, or lwIP with -DNET_LWIP); Linux-only calls sit behind
 * compile-time capability checks with a portable fallback.
 *
 * Include re.h first.
 */

int net_tcp_nodelay(int fd);
int net_bind_probe(const struct sa *addr, bool tcp);
int net_if_addrs(const char *ifname, struct sa *v, unsigned *n);
int net_unix_listen(int *fdp, const char *path);
int net_unix_accept(int *fdp, int lfd);
int net_unix_connect(int *fdp, const char *path, unsigned tmo_ms);
int net_udp_dscp(int fd, int af, uint8_t dscp);


/* TCP on libre's sockets (tcp.c) */

int net_tcp_listen(struct tcp_sock **tsp, const struct sa *local,
		   int backlog, tcp_conn_h *ch, void *arg);
int net_tcp_accept(struct tcp_conn **tcp, struct tcp_sock *ts,
		   tcp_estab_h *eh, tcp_recv_h *rh, tcp_close_h *ch,
		   void *arg);


/* UDP socket (udp.c) */

enum {
	NET_UDP_BATCH    = 16,   /**< Datagrams per recvmmsg() call         */
	NET_UDP_WAKE_MAX = 64,   /**< Datagrams per wake-up, then yield     */
	NET_UDP_PKT_MAX  = 2048, /**< Largest maxpkt of net_udp_open()      */
	NET_UDP_TXQ      = 32,   /**< Datagrams per sendmmsg() (batched)    */
};

/** Counters of a UDP socket */
struct net_udp_stats {
	uint64_t rx;             /**< Datagrams handed to the handler       */
	uint64_t rx_oversize;    /**< Longer than maxpkt: dropped           */
	uint64_t reads;          /**< Receive calls that returned data      */
	uint64_t tx;             /**< Datagrams sent (or queued, batched)   */
	uint64_t writes;         /**< Send calls (sendto or sendmmsg)       */
	uint64_t tx_dropped;     /**< Batched datagrams the system refused  */
};

struct net_udp;

/**
 * Receive handler: one datagram, in a buffer of net_udp's that is valid
 * (and may be changed) until the handler returns
 *
 * @param src Source address
 * @param buf Datagram
 * @param len Length, 0..maxpkt
 * @param arg Handler argument
 */
typedef void (net_udp_recv_h)(const struct sa *src, uint8_t *buf,
			      size_t len, void *arg);

int  net_udp_open(struct net_udp **up, const struct sa *laddr,
		  size_t maxpkt, net_udp_recv_h *rh, void *arg);
int  net_udp_send(struct net_udp *u, const struct sa *dst,
		  const uint8_t *buf, size_t len);
int  net_udp_local(const struct net_udp *u, struct sa *laddr);
int  net_udp_dscp_set(struct net_udp *u, uint8_t dscp);
int  net_udp_rcvbuf_set(struct net_udp *u, int bytes);
int  net_udp_rcvbuf(const struct net_udp *u);
int  net_udp_tx_batch(struct net_udp *u);
int  net_udp_wake_max_set(struct net_udp *u, unsigned n);
int  net_udp_fd(const struct net_udp *u);
unsigned net_udp_drain(struct net_udp *u);
void net_udp_stats(const struct net_udp *u, struct net_udp_stats *st);
bool net_udp_mmsg(void);
uint64_t net_udp_now(void);
uint64_t net_udp_rx_time(void);

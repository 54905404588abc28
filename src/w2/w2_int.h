/**
 * @file w2_int.h  W2 internals shared by the listener and its connections
 */

struct w2 {
	struct tcp_sock *ts;
	struct tls *tls;
	struct imsedge_conf *conf;
	struct sa laddr;
	struct list conns;
	struct tmr tick;        /**< Deadlines of all connections         */
	struct hash *ht_ws;     /**< Upgraded connections by id           */
	struct hash *ht_addr;   /**< struct admit_addr by source address  */
	struct list pending;    /**< TLS or HTTP stage, oldest first      */
	uint64_t next_id;
	uint32_t n_ws;          /**< Upgraded connections                 */
	uint32_t n_pending;     /**< TLS or HTTP stage                    */
	uint64_t evict_log_due; /**< Next "dropped oldest" line           */
	uint32_t n_evicted;     /**< Dropped since the last such line     */
	uint32_t trim_peak;     /**< Most connections since the last trim */
	uint64_t trim_due;      /**< Next look at returning memory        */
	bool shutdown;
	w2_sip_h *siph;
	w2_close_h *closeh;
	void *arg;
	w2_idle_h *idleh;
	void *idle_arg;
};

int  w2_conn_accept(struct w2 *w2, const struct sa *peer);
void w2_conn_shutdown(struct w2_conn *conn);
void w2_conn_tick(struct w2_conn *conn, uint64_t now);
void w2_conn_evict(struct w2_conn *conn);
void w2_conn_gone(struct w2 *w2);
bool w2_local_request(struct w2_conn *conn, const struct sip_msg *msg);

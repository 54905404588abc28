/**
 * @file dc_int.h  Private: usrsctp glue (sctp.c), associations
 *                 (assoc.c), channels (chan.c)
 *
 * Include re.h, usrsctp.h and dc.h first.
 */

enum {
	DC_TICK_MS    = 20,          /**< usrsctp timer granularity      */
	DC_SCTP_MTU   = 1100,        /**< SCTP packet in a DTLS record   */
	DC_BUF_MIN    = 65536,       /**< Socket buffers at least        */
};

/** Something usrsctp delivered, handled from the loop */
struct dc_msg {
	struct le le;
	void *data;                  /**< malloc()ed by usrsctp; NULL:
					the association is gone         */
	size_t len;
	uint16_t sid;
	uint32_t ppid;
	int flags;                   /**< MSG_NOTIFICATION, MSG_EOR      */
};

/** One channel (stream id) */
struct dc_chan {
	struct le le;                /**< In assoc->chanl                */
	struct dc_chan_info info;
	bool local;                  /**< Opened by this side            */
	bool acked;                  /**< ACK seen/sent, or negotiated   */
	bool closing;                /**< Closed toward the owner        */
	bool reset_want;             /**< Outgoing reset to request      */
	bool reset_out;              /**< Outgoing reset requested       */
	bool reset_in;               /**< Peer reset its stream          */
	struct mbuf *rx;             /**< A message arriving in parts    */
	bool rx_skip;                /**< Rest of a too large message    */
};

/** One SCTP association over one DTLS association */
struct dc_assoc {
	struct le le;                /**< In the module's list           */
	struct dc_conf conf;
	struct dc_handlers h;
	void *arg;
	struct socket *sock;
	bool client;                 /**< DTLS client: even stream ids   */
	bool started;
	bool up;                     /**< COMM_UP seen                   */
	bool closed;                 /**< closeh called                  */
	struct list chanl;           /**< struct dc_chan                 */
	struct list rxq;             /**< struct dc_msg                  */
	size_t rxq_bytes;
	bool rxq_over;               /**< Queue overflowed: abort        */
	struct tmr tmr_rx;
	struct dc_stats stats;
};

/* sctp.c */
int  dc_sctp_attach(struct dc_assoc *a);
void dc_sctp_detach(struct dc_assoc *a);
void dc_msg_flush(struct list *q);
void dc_msg_handle(struct dc_assoc *a, struct dc_msg *m);

/* assoc.c */
void dc_assoc_fail(struct dc_assoc *a, int err);
void dc_assoc_notify(struct dc_assoc *a, const struct dc_msg *m);

/* chan.c */
struct dc_chan *dc_chan_find(const struct dc_assoc *a, uint16_t sid);
void dc_chan_data(struct dc_assoc *a, const struct dc_msg *m);
void dc_chan_reset_event(struct dc_assoc *a, const uint16_t *sidv,
			 size_t sidc, bool incoming, bool failed);
void dc_chan_up(struct dc_assoc *a);
void dc_chan_flush_resets(struct dc_assoc *a);

/**
 * @file dc.h  WebRTC data channels: SCTP over DTLS (RFC 8261, 8831) with
 *             usrsctp on the libre loop, DCEP (RFC 8832) and channels
 *             agreed in SDP (RFC 8864)
 *
 * usrsctp runs without threads (usrsctp_init_nothreads): one AF_CONN
 * socket per association, its packets handed to and taken from the
 * owner (the DTLS association's application data), its timers driven
 * by a libre timer while an association exists. Everything usrsctp
 * delivers is queued and handled from the loop, never from inside a
 * usrsctp call, so handlers may send, close channels or free the
 * association.
 *
 * Stream ids: the DTLS client opens even, the server odd ones (RFC
 * 8832 6). A channel closes by resetting its outgoing stream; when the
 * peer resets its own, the channel's stream is reset back (RFC 8831
 * 6.7, D-46). Channels, message size, streams and buffered bytes are
 * bounded by struct dc_conf.
 *
 * Include re.h first.
 */

struct dc_assoc;

enum {
	DC_SCTP_PORT    = 5000,      /**< a=sctp-port default (RFC 8841) */
	DC_STREAMS      = 1024,      /**< Streams each way (as browsers) */
	DC_LABEL_MAX    = 256,       /**< Label or protocol, bytes       */
	DC_MESSAGE_DEF  = 65536,     /**< dc_max_message default         */
};

/** Payload protocol identifiers (RFC 8831 8) */
enum dc_ppid {
	DC_PPID_DCEP         = 50,
	DC_PPID_STRING       = 51,
	DC_PPID_BINARY       = 53,
	DC_PPID_STRING_EMPTY = 56,
	DC_PPID_BINARY_EMPTY = 57,
};

/** Limits of one association */
struct dc_conf {
	uint32_t max_channels;       /**< Open channels at once          */
	uint32_t max_message;        /**< Largest message received       */
	uint32_t max_send;           /**< Largest message sent (the
					peer's a=max-message-size; 0:
					max_message)                    */
	uint32_t max_buffered;       /**< Bytes queued each way          */
	uint16_t local_port;         /**< Own a=sctp-port                */
	uint16_t remote_port;        /**< Peer's a=sctp-port             */
};

/** A channel as opened by DCEP or agreed in SDP */
struct dc_chan_info {
	uint16_t sid;
	uint8_t type;                /**< DCEP channel type              */
	uint32_t rel;                /**< Reliability parameter          */
	char label[DC_LABEL_MAX + 1];
	char proto[DC_LABEL_MAX + 1];
	bool negotiated;             /**< From SDP (dcmap), no DCEP      */
};

/** Send one SCTP packet to the peer (as DTLS application data) */
typedef int (dc_send_h)(const uint8_t *p, size_t n, void *arg);

/**
 * The peer opened a channel (DCEP OPEN). Return true to accept (the
 * ACK is sent), false to refuse (the stream is reset).
 */
typedef bool (dc_open_h)(const struct dc_chan_info *ci, void *arg);

/** A message on an open channel (ppid: string or binary) */
typedef void (dc_recv_h)(uint16_t sid, enum dc_ppid ppid,
			 const uint8_t *p, size_t n, void *arg);

/** A channel closed (by either side) */
typedef void (dc_chan_close_h)(uint16_t sid, void *arg);

/** The association ended (err 0: peer shut down); may free it */
typedef void (dc_close_h)(int err, void *arg);

/** Handlers of one association */
struct dc_handlers {
	dc_send_h *sendh;
	dc_open_h *openh;
	dc_recv_h *recvh;
	dc_chan_close_h *chcloseh;
	dc_close_h *closeh;
};

/** Counters of one association */
struct dc_stats {
	uint64_t rx_msgs;
	uint64_t rx_bytes;
	uint64_t tx_msgs;
	uint64_t tx_bytes;
	uint32_t opened;             /**< Channels opened (both sides)   */
	uint32_t refused;            /**< OPENs refused or malformed     */
	uint32_t channels;           /**< Open now                       */
};

int  dc_assoc_alloc(struct dc_assoc **ap, const struct dc_conf *conf,
		    bool dtls_client, const struct dc_handlers *h,
		    void *arg);
int  dc_assoc_start(struct dc_assoc *a);
void dc_assoc_input(struct dc_assoc *a, const uint8_t *p, size_t n);
bool dc_assoc_up(const struct dc_assoc *a);
void dc_assoc_stats(const struct dc_assoc *a, struct dc_stats *st);

int  dc_chan_open(struct dc_assoc *a, uint16_t *sidp, const char *label,
		  const char *proto);
int  dc_chan_negotiated(struct dc_assoc *a, uint16_t sid,
			const char *label, const char *proto);
int  dc_chan_send(struct dc_assoc *a, uint16_t sid, bool binary,
		  const uint8_t *p, size_t n);
int  dc_chan_close(struct dc_assoc *a, uint16_t sid);
const struct dc_chan_info *dc_chan_info(const struct dc_assoc *a,
					uint16_t sid);

void dc_close(void);

/* DCEP (dcep.c): message codec, no state */

/** DCEP message types (RFC 8832 8.2.1) */
enum dcep_type {
	DCEP_ACK  = 0x02,
	DCEP_OPEN = 0x03,
};

/** A DCEP DATA_CHANNEL_OPEN; label and proto point into the message */
struct dcep_open {
	uint8_t type;                /**< Channel type                   */
	uint16_t priority;
	uint32_t rel;                /**< Reliability parameter          */
	struct pl label;
	struct pl proto;
};

int dcep_decode(enum dcep_type *type, struct dcep_open *open,
		const uint8_t *p, size_t n);
int dcep_encode_open(struct mbuf *mb, const struct dcep_open *open);
int dcep_encode_ack(struct mbuf *mb);

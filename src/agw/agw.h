/**
 * @file agw.h  eIMS-AGW: the media plane, driven by the eP-CSCF through
 *              this in-process Iq interface (23.334 IMS-ALG/IMS-AGW)
 *
 * A session is one call's media. Each SDP m-line is a stream; each
 * stream has a browser-side (W3) transport, shared by the streams of a
 * BUNDLE group, and its own core-side RTP port (RTCP on the next port
 * unless the core muxes). On W3 one UDP port carries STUN, DTLS and
 * SRTP/SRTCP (RFC 7983): ICE-lite answers checks (MESSAGE-INTEGRITY with
 * the AGW's password, FINGERPRINT) and tracks consent (RFC 7675); DTLS
 * runs in the role the SDP gave the AGW, checks the browser's
 * fingerprint and keys SRTP. Media flows only between addresses that
 * passed a check (W3) or were latched (core side, symmetric RTP).
 *
 * Call order. Browser offer: agw_sess_transport() with the browser's
 * parameters (and the role the AGW takes), agw_sess_stream() per m-line;
 * later agw_sess_core_peer() from the core's answer. Core offer:
 * agw_sess_transport() with prm NULL (the AGW offers actpass), streams,
 * agw_sess_core_peer() from the offer; agw_sess_transport_remote() once
 * the browser's answer is known. Calling agw_sess_transport() again for
 * a tid (re-INVITE) keeps the port; a changed fingerprint, tls-id or
 * ICE credentials starts a new DTLS association. Core-to-browser media
 * is held back until agw_sess_early_media(s, true) (a 2xx, or an
 * authorizing P-Early-Media; D-38).
 *
 * Include re.h first.
 */

struct agw;
struct agw_sess;
struct tls;

enum {
	AGW_W3_ADDRS = 8,          /**< Most browser-side addresses       */
};

/** Limits and addresses (from the config file) */
struct agw_conf {
	struct sa media_listen;    /**< W3 address (port ignored)         */
	struct sa w3_addrv[AGW_W3_ADDRS]; /**< Or several: media_listen
				        any or an interface; each gets a
				        socket and a host candidate       */
	unsigned w3_addrc;         /**< 0: media_listen alone             */
	struct sa media_core_addr; /**< Core-side address (port ignored)  */
	struct sa media_public;    /**< In W3 candidates; unset: listen   */
	struct sa media_core_public; /**< c= to the core; unset: core_addr */
	uint16_t port_min;         /**< rtp_ports MIN                     */
	uint16_t port_max;         /**< rtp_ports MAX                     */
	uint32_t max_calls;        /**< Sessions at once                  */
	uint8_t dscp;              /**< media_dscp, 0 = leave unmarked    */
	uint32_t consent_timeout;  /**< seconds (RFC 7675: 30)            */
	bool transcoding;          /**< Offer the transcoding path        */
	uint32_t max_xcode;        /**< Streams transcoded at once        */
	int opus_complexity;       /**< 0..10                             */
	bool datachannel;          /**< Terminate data channels (dc.c)    */
	uint32_t max_datachannels; /**< Channels per association          */
	uint32_t dc_max_message;   /**< a=max-message-size offered        */
	bool media_port_shared;    /**< One W3 port for all calls         */
	bool media_core_port_shared; /**< One core port pair for all calls */
};

/** The AGW's DTLS role on a W3 transport (a=setup it answers with) */
enum agw_setup {
	AGW_SETUP_ACTIVE,          /**< AGW is the DTLS client            */
	AGW_SETUP_PASSIVE,         /**< AGW is the DTLS server            */
};

/** What the browser's SDP says about one W3 transport */
struct agw_w3_prm {
	char ufrag[257];           /**< Browser's ice-ufrag               */
	char pwd[257];             /**< Browser's ice-pwd                 */
	enum tls_fingerprint fp_type;
	uint8_t fp[64];            /**< Browser's certificate fingerprint */
	size_t fp_len;
	enum agw_setup setup;      /**< The AGW's role                    */
	bool relay;                /**< The transport carries a data-channel
				        m-line relayed to the core (dcrelay.c):
				        no DTLS of the AGW, fp/setup unused */
};

/** What the AGW puts in its SDP for one W3 transport */
struct agw_w3_info {
	struct sa cand;            /**< Host candidate (UDP)              */
	struct sa morev[AGW_W3_ADDRS - 1]; /**< Further host candidates  */
	unsigned morec;
	char ufrag[33];            /**< AGW's ice-ufrag                   */
	char pwd[65];              /**< AGW's ice-pwd                     */
	char fingerprint[128];     /**< "sha-256 AB:CD:..." of the AGW    */
};

/** One stream (m-line) */
struct agw_stream_prm {
	unsigned tid;              /**< W3 transport it uses              */
	bool core_rtcp_mux;        /**< Core side muxes RTP and RTCP      */
	uint32_t *ssrcv;           /**< Browser SSRCs of this m-line, for */
	size_t ssrcc;              /**<  splitting a BUNDLE (may be empty) */
	uint8_t *ptv;              /**< Payload types of this m-line      */
	size_t ptc;
	const uint32_t *clockv;    /**< RTP clock of each of ptv, for
				        jitter; 0: not media (DTMF, RTX,
				        FEC); NULL: none known            */
	bool dcrelay;              /**< A data-channel m-line relayed end to
				        end (dcrelay.c): its transport's
				        DTLS datagrams <-> this core port    */
	const struct sa *core_peer; /**< The core's RTP address if known
				        when the stream is set up (its
				        offer), else NULL: on the shared
				        core port, a stream whose address
				        another has gets its own port     */
};

/** What the AGW puts in the core-side SDP for one stream */
struct agw_stream_info {
	struct sa rtp;             /**< Core-side RTP address and port    */
	struct sa rtcp;            /**< RTCP (rtp port + 1 unless muxed)  */
};

/** Why a session ended on its own */
enum agw_close_reason {
	AGW_CLOSE_CONSENT,         /**< Browser's consent expired         */
	AGW_CLOSE_DTLS,            /**< DTLS failed (fingerprint, alert)  */
	AGW_CLOSE_ERROR,
	AGW_CLOSE_DTLS_CLOSED,     /**< The browser closed DTLS (close_notify):
				        a hang-up, its BYE should follow  */
};

typedef void (agw_close_h)(enum agw_close_reason reason, void *arg);

int  agw_alloc(struct agw **agwp, const struct agw_conf *conf,
	       struct tls *tls);
uint32_t agw_session_count(const struct agw *agw);

int  agw_sess_alloc(struct agw_sess **sp, struct agw *agw, bool emergency,
		    agw_close_h *closeh, void *arg);
int  agw_sess_transport(struct agw_sess *s, unsigned tid,
			const struct agw_w3_prm *prm,
			struct agw_w3_info *info);
int  agw_sess_transport_remote(struct agw_sess *s, unsigned tid,
			       const struct agw_w3_prm *prm);
int  agw_sess_stream(struct agw_sess *s, unsigned idx,
		     const struct agw_stream_prm *prm,
		     struct agw_stream_info *info);
int  agw_sess_core_peer(struct agw_sess *s, unsigned idx,
			const struct sa *rtp, const struct sa *rtcp);
void agw_sess_early_media(struct agw_sess *s, bool allowed);

enum {
	AGW_DCMAP_MAX = 4,         /**< Channels agreed in SDP per m-line */
};

/** A channel agreed in SDP (RFC 8864 a=dcmap): no DCEP */
struct agw_dcmap {
	uint16_t sid;
	char label[33];
	char proto[17];            /**< subprotocol, "" if none           */
};

/** A data-channel m-line (RFC 8841) the AGW terminates (dc.c) */
struct agw_dc_prm {
	unsigned tid;              /**< W3 transport it uses              */
	uint16_t sctp_port;        /**< Browser's a=sctp-port             */
	uint32_t max_message;      /**< Browser's a=max-message-size
				        (0: no limit of its own)          */
	struct agw_dcmap mapv[AGW_DCMAP_MAX];
	size_t mapc;
};

/** What the AGW puts in its SDP for a data-channel m-line */
struct agw_dc_info {
	uint16_t sctp_port;        /**< AGW's a=sctp-port                 */
	uint32_t max_message;      /**< AGW's a=max-message-size          */
};

bool agw_dc_enabled(const struct agw *agw);
int  agw_sess_datachannel(struct agw_sess *s, unsigned idx,
			  const struct agw_dc_prm *prm,
			  struct agw_dc_info *info);

/**
 * Real-time text (rtt.c): the T.140 data channel (RFC 8865) of a W3
 * transport <-> RFC 4103 RTP text (RED) on a core-side stream. Payload
 * types: rx_* the AGW's SDP toward the core, tx_* the core's.
 */
struct agw_rtt_prm {
	unsigned tid;              /**< W3 transport with the channel     */
	uint16_t sid;              /**< The T.140 channel's stream id     */
	uint8_t rx_t140;           /**< t140/1000 the AGW receives        */
	uint8_t rx_red;            /**< red/1000 it receives, 0: none     */
	uint8_t tx_t140;           /**< t140/1000 the core receives       */
	uint8_t tx_red;            /**< red/1000 the core receives, 0: none */
};

int  agw_sess_rtt(struct agw_sess *s, unsigned idx,
		  const struct agw_rtt_prm *prm,
		  struct agw_stream_info *info);

enum {
	AGW_MSRP_PATH = 512,       /**< An MSRP To-Path/From-Path value   */
	AGW_MSRP_URI  = 128,       /**< One MSRP URI of the AGW           */
};

/** An MSRP channel of a data-channel m-line, relayed to TCP (msrp.c) */
struct agw_msrp_prm {
	unsigned tid;              /**< W3 transport (its data channels)  */
	uint16_t sid;              /**< The channel's stream id (dcmap)   */
	char b_path[AGW_MSRP_PATH]; /**< Browser's path (a=dcsa path)     */
};

/** What the AGW puts in its SDP for an MSRP relay */
struct agw_msrp_info {
	struct sa core;            /**< Core-side address and TCP port    */
	char core_uri[AGW_MSRP_URI]; /**< a=path toward the core          */
	char w3_uri[AGW_MSRP_URI]; /**< a=dcsa path toward the browser    */
};

/** The core's side of an MSRP relay (its SDP answer) */
struct agw_msrp_peer {
	char path[AGW_MSRP_PATH];  /**< Its a=path                        */
	struct sa addr;            /**< Where to connect                  */
	bool connect;              /**< The AGW connects (core passive)   */
};

int  agw_sess_msrp(struct agw_sess *s, unsigned idx,
		   const struct agw_msrp_prm *prm,
		   struct agw_msrp_info *info);
int  agw_sess_msrp_peer(struct agw_sess *s, unsigned idx,
			const struct agw_msrp_peer *peer);

/** Packet counters of one stream (agw_sess_stats) */
struct agw_stats {
	uint64_t w3_pkts;          /**< Browser to core, relayed          */
	uint64_t w3_bytes;         /**< ... plain RTP/RTCP bytes sent     */
	uint64_t w3_dropped;       /**< From the browser, not relayed     */
	uint64_t w3_srtp_failed;   /**< ... of those: SRTP/SRTCP that
				        failed authentication or replay   */
	uint64_t core_pkts;        /**< Core to browser, relayed          */
	uint64_t core_bytes;       /**< ... plain RTP/RTCP bytes received */
	uint64_t core_dropped;     /**< From the core, not relayed        */
	uint64_t core_unlatched;   /**< ... of those: not the latched
				        source                            */
	/* RTP as the AGW receives it (RFC 3550 A.3, A.8; src/rtpq) */
	int64_t w3_expected;       /**< From the browser (after SRTP)     */
	int64_t w3_lost;           /**< ... negative with duplicates      */
	uint32_t w3_jitter_us;     /**< ... highest over streams          */
	int64_t core_expected;     /**< From the core                     */
	int64_t core_lost;
	uint32_t core_jitter_us;
	/* The far ends' view: the last RTCP report block each sent */
	uint32_t w3_far_reports;   /**< Streams with a core report block  */
	uint32_t core_far_reports; /**< ... with a browser report block   */
	int64_t w3_far_lost;       /**< The core's RR on browser media    */
	uint8_t w3_far_fraction;   /**< ... fraction lost (/256), highest */
	uint32_t w3_far_jitter_us;
	int64_t core_far_lost;     /**< The browser's RR on core media    */
	uint8_t core_far_fraction;
	uint32_t core_far_jitter_us;
	const char *srtp;          /**< SRTP suite toward the browser
				        (srtp_suite_name), NULL: none yet */
};

int  agw_sess_stats(const struct agw_sess *s, unsigned idx,
		    struct agw_stats *st);

/**
 * A transcoded stream (agw_sess_xcode): the browser speaks Opus, the
 * core one of the codecs of src/codec. Payload types 0 = none (DTMF).
 */
struct agw_xcode_prm {
	uint8_t w3_pt;             /**< Opus toward the browser           */
	uint8_t w3_dtmf_pt;        /**< telephone-event/48000, or 0       */
	int core_codec;            /**< enum codec_id of the core side    */
	uint8_t core_pt;           /**< Its payload type                  */
	uint8_t core_dtmf_pt;      /**< telephone-event at its clock, or 0 */
	bool octet_align;          /**< AMR: octet-aligned (else BE)      */
	uint16_t mode_set;         /**< AMR: bit per allowed mode, 0: all */
	int opus_complexity;       /**< 0..10                             */
	bool core_dtx;             /**< DTX/SID toward the core           */
};

int  agw_sess_xcode(struct agw_sess *s, unsigned idx,
		    const struct agw_xcode_prm *prm);
bool agw_xcode_enabled(const struct agw *agw);
void agw_sess_totals(const struct agw_sess *s, struct agw_stats *sum);
void agw_stats_add(struct agw_stats *sum, const struct agw_stats *x);
void agw_totals(const struct agw *agw, struct agw_stats *sum);
void agw_ports(const struct agw *agw, uint32_t *used, uint32_t *total);
void agw_unknown_sources(const struct agw *agw, uint64_t *browser,
			 uint64_t *core);
void agw_xcode_count(const struct agw *agw, uint32_t *now,
		     uint64_t *total);
void agw_sess_label(struct agw_sess *s, const char *label);

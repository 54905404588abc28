/**
 * @file agw_int.h  eIMS-AGW internals: the AGW and its port pool
 *                  (agw.c), sessions (sess.c), browser-side transports
 *                  (w3.c, ice.c), core-side sockets (core.c) and the
 *                  packet paths between them (relay.c)
 *
 * Include re.h, net/net.h, tls/dtls.h, srtp/srtp.h and agw.h first.
 */

#include "../rtpq/rtpq.h"

enum {
	AGW_PKT_MAX     = 1500,      /**< Largest datagram relayed         */
	AGW_TRAILER_MAX = 32,        /**< SRTCP index + the longest tag    */
	AGW_UFRAG_LEN   = 8,
	AGW_PWD_LEN     = 24,
	AGW_CHECKED_MAX = 4,         /**< Browser addresses remembered     */
	AGW_SSRC_MAX    = 32,        /**< Browser SSRCs per stream         */
	AGW_CORE_SSRCS  = 4,         /**< Core SSRCs a stream remembers    */
	AGW_DTLS_MTU    = 1200,
	AGW_LATCH_MS    = 5000,      /**< Silence before re-latching       */
};

/** The AGW: configuration, port pool, the one packet buffer */
struct agw {
	struct agw_conf conf;
	struct tls *tls;
	struct list sessl;           /**< struct agw_sess                  */
	uint8_t *portmap;            /**< Bit per port of the range: used  */
	uint32_t nports;
	uint32_t cursor;             /**< Index the next search starts at  */
	uint32_t latch_ms;           /**< AGW_LATCH_MS (tests shorten it)  */
	uint32_t sess_seq;           /**< Sessions so far (default label)  */
	struct agw_stats done;       /**< Counters of ended sessions       */
	char fingerprint[128];       /**< "sha-256 AB:CD:..."              */
	uint32_t xcodes;             /**< Transcoded streams (xcode.c)     */
	struct agw_shared *shared;   /**< media_port_shared (shared.c)     */
	struct agw_coreport *coreport; /**< media_core_port_shared
					(coreport.c)                      */
	uint64_t xcodes_total;       /**< ... put on the path since start  */
	_Alignas(8) uint8_t buf[AGW_PKT_MAX + AGW_TRAILER_MAX];
#ifdef IMSEDGE_TRANSCODE
	/** What the transcoding paths send (xcode.c): one for all of them
	    (one thread), not one per stream; not buf, which may hold the
	    packet being transcoded */
	/* word-aligned: libsrtp reads the RTP header as 32-bit words (a
	   bus error on MIPS, found by the unit tests under qemu-mipsel) */
	_Alignas(8) uint8_t xbuf[AGW_PKT_MAX + AGW_TRAILER_MAX];
#endif
};

/** One call's media */
struct agw_sess {
	struct le le;                /**< In agw->sessl                    */
	char label[64];              /**< The call's id, for logs          */
	struct agw *agw;             /**< Holds a reference                */
	struct list w3l;             /**< struct agw_w3                    */
	struct list streaml;         /**< struct agw_stream                */
	struct list msrpl;           /**< struct agw_msrp (msrp.c)         */
	agw_close_h *closeh;
	void *arg;
	bool emergency;
	bool early;                  /**< Core-to-browser media allowed    */
	bool closed;                 /**< closeh called: nothing flows     */
};

/** Which socket of a transport a browser address sends to */
struct agw_w3_route {
	struct sa src;
	struct net_udp *us;
};

/** One socket of a transport: the arg of its receive handler */
struct agw_w3_sock {
	struct agw_w3 *w3;
	struct net_udp *us;
};

/** A browser address that passed a connectivity check */
struct agw_checked {
	struct sa addr;
	uint64_t ts;
};

/** Browser-side (W3) transport: one UDP port, ICE-lite, DTLS, SRTP */
struct agw_w3 {
	struct le le;                /**< In sess->w3l                     */
	struct agw_sess *sess;
	unsigned tid;
	uint16_t port;
	struct net_udp *us;          /**< The first socket                 */
	struct agw_w3_sock sockv[AGW_W3_ADDRS]; /**< One per address      */
	unsigned sockc;
	struct agw_w3_route routev[AGW_CHECKED_MAX]; /**< Recent sources  */
	unsigned routei;
	struct sa laddr;             /**< Host candidate                   */
	char ufrag[AGW_UFRAG_LEN + 1];
	char pwd[AGW_PWD_LEN + 1];
	struct agw_w3_prm rprm;      /**< Browser's side, if have_remote   */
	bool have_remote;
	struct dtls_sess *dtls;      /**< Once the remote side is known    */
	bool clid_set;               /**< DTLS cookie bound to the peer    */
	struct srtpx *srtp;          /**< Once DTLS is established         */
	enum srtp_suite suite;       /**< ... its suite                    */
	bool srtp_seen;              /**< An SRTP packet authenticated     */
	struct agw_checked checked[AGW_CHECKED_MAX];
	unsigned checkedc;
	struct sa peer;              /**< Selected: nominated, or the last
					checked address until then         */
	bool have_peer;
	bool nominated;
	struct tmr tmr_consent;
	uint64_t consent_ts;         /**< Last valid check from peer       */
	struct dc_assoc *dc;         /**< Data channels, if an m-line has
					them on this transport (dc.c)     */
	struct agw_dc_prm dcprm;
	bool dc_want;
	bool shared;                 /**< On the shared port (shared.c)    */
	struct le ufrag_he;          /**< In the shared port's ufrag hash  */
	struct list shared_srcl;     /**< Addresses it owns there          */
	bool relay;                  /**< DTLS relayed (dcrelay.c)         */
};

/** Symmetric RTP: the source a core-side socket is latched to */
struct agw_latch {
	struct sa src;
	uint64_t ts;                 /**< Last packet from src             */
	bool set;
};

/** A core address:port a stream is found by on the shared core port */
struct agw_coreport_key {
	struct le he;                /**< In the port's hash by addr:port  */
	struct le he_ip;             /**< ... by address only (fallback)   */
	struct sa addr;
	struct agw_stream *st;
};

/** One stream (m-line): its core-side RTP and RTCP sockets */
struct agw_stream {
	struct le le;                /**< In sess->streaml                 */
	struct agw_sess *sess;
	struct agw_w3 *w3;           /**< Browser-side transport           */
	unsigned idx;
	uint16_t port;               /**< RTP, even; RTCP is port + 1,
					reserved also when muxed           */
	bool rtcp_mux;               /**< Core side muxes RTP and RTCP     */
	struct net_udp *rtp;
	struct net_udp *rtcp;        /**< NULL when muxed                  */
	bool core_shared;            /**< On the shared core port: rtp and
					rtcp are its sockets (coreport.c) */
	struct agw_coreport_key key_rtp;
	struct agw_coreport_key key_rtcp;
	uint32_t ssrcv[AGW_SSRC_MAX];
	size_t ssrcc;
	uint32_t ptmap[4];           /**< Payload types, a bit each        */
	uint32_t core_ssrcv[AGW_CORE_SSRCS]; /**< Last SSRCs relayed from
					the core: the browser's RTCP
					feedback about them goes here     */
	unsigned core_ssrci;
	struct sa peer_rtp;          /**< From the core's SDP              */
	struct sa peer_rtcp;
	struct agw_latch latch_rtp;
	struct agw_latch latch_rtcp;
	struct agw_stats stats;
	struct rtpq_pts relay_pts;   /**< The m-line's types and clocks    */
	struct rtpq q_w3;            /**< RTP received from the browser    */
	struct rtpq q_core;          /**< RTP received from the core       */
	struct rtpq_rr rr_w3;        /**< Last report block of the browser */
	struct rtpq_rr rr_core;      /**< ... of the core                  */
	bool have_rr_w3;
	bool have_rr_core;
	struct agw_xcode *xc;        /**< Transcoding path, NULL: relay    */
	struct agw_rtt *rtt;         /**< Real-time text (rtt.c), or NULL  */
	bool dcrelay;                /**< Relayed data channel (dcrelay.c) */
};

/* agw.c */
typedef int (agw_bind_h)(uint16_t port, void *arg);

int  agw_port_take(struct agw *agw, bool pair, agw_bind_h *bindh,
		   void *arg, uint16_t *portp);
void agw_port_release(struct agw *agw, uint16_t port, bool pair);
int  agw_udp_open(struct agw *agw, struct net_udp **up,
		  const struct sa *addr, uint16_t port, net_udp_recv_h *rh,
		  void *arg);

/* sess.c */
void agw_sess_close(struct agw_sess *s, enum agw_close_reason reason);
void agw_advertised(struct sa *out, const struct sa *pub,
		    const struct sa *laddr, uint16_t port);
struct agw_w3 *agw_sess_w3(const struct agw_sess *s, unsigned tid);
struct agw_stream *agw_sess_stream_find(const struct agw_sess *s,
					unsigned idx);

/* w3.c */
int  agw_w3_alloc(struct agw_w3 **wp, struct agw_sess *s, unsigned tid);
struct net_udp *agw_w3_sock_for(const struct agw_w3 *w3,
				const struct sa *dst);
int  agw_w3_remote(struct agw_w3 *w3, const struct agw_w3_prm *prm,
		   bool answer);
void agw_w3_info(const struct agw_w3 *w3, struct agw_w3_info *info);
void agw_w3_peer_ready(struct agw_w3 *w3);
void agw_w3_drop(struct agw_w3 *w3);
void agw_w3_recv_test(struct agw_w3 *w3, const struct sa *src,
		      struct mbuf *mb);
void agw_w3_input(struct agw_w3_sock *k, const struct sa *src, uint8_t *p,
		  size_t n);
const struct sa *agw_w3_addrs(const struct agw *agw, unsigned *n);

/* shared.c */
struct agw_shared;
int  agw_shared_alloc(struct agw_shared **shp, struct agw *agw);
int  agw_shared_attach(struct agw_shared *sh, struct agw_w3 *w3);
int  agw_shared_rekey(struct agw_shared *sh, struct agw_w3 *w3,
		      const char *ufrag);
void agw_shared_learn(struct agw_shared *sh, struct agw_w3 *w3,
		      const struct sa *src);
void agw_shared_detach(struct agw_w3 *w3);
uint64_t agw_shared_unknown(const struct agw_shared *sh);
void agw_shared_recv_test(struct agw *agw, const struct sa *src,
			  struct mbuf *mb);

/* coreport.c */
struct agw_coreport;
int  agw_coreport_alloc(struct agw_coreport **cpp, struct agw *agw);
bool agw_coreport_free(const struct agw_coreport *cp, const struct sa *rtp);
bool agw_coreport_is_self(const struct agw_coreport *cp,
			  const struct sa *addr);
int  agw_coreport_attach(struct agw_coreport *cp, struct agw_stream *st);
void agw_coreport_peer(struct agw_coreport *cp, struct agw_stream *st);
void agw_coreport_mux(struct agw_coreport *cp, struct agw_stream *st,
		      bool mux);
void agw_coreport_detach(struct agw_stream *st);
uint64_t agw_coreport_unknown(const struct agw_coreport *cp,
			      uint64_t *collisions, uint64_t *same_host);
void agw_coreport_recv_test(struct agw *agw, bool rtcp, const struct sa *src,
			    struct mbuf *mb);

/* ice.c */
int  agw_stun_decode(struct stun_msg **msgp, const uint8_t *p, size_t n);
void agw_ice_recv(struct agw_w3 *w3, const struct sa *src,
		  const uint8_t *p, size_t n);
bool agw_ice_checked(const struct agw_w3 *w3, const struct sa *src);
void agw_ice_restart(struct agw_w3 *w3);

/* core.c */
int  agw_core_open(struct agw_stream *st, const struct sa *peer);
void agw_core_input(struct agw_stream *st, bool rtcp_sock,
		    const struct sa *src, const uint8_t *p, size_t n);
int  agw_core_mux(struct agw_stream *st, bool mux);
void agw_core_close(struct agw_stream *st);
void agw_core_peer(struct agw_stream *st, const struct sa *rtp,
		   const struct sa *rtcp);
int  agw_core_send(struct agw_stream *st, bool rtcp, const uint8_t *buf,
		   size_t len);
void agw_core_recv_test(struct agw_stream *st, bool rtcp,
			const struct sa *src, struct mbuf *mb);

/* dc.c */
void agw_dc_dtls_new(struct agw_w3 *w3);
void agw_dc_free(struct agw_w3 *w3);
void agw_dc_dtls_up(struct agw_w3 *w3);
void agw_dc_dtls_recv(struct mbuf *mb, void *arg);
bool agw_dc_only(const struct agw_w3 *w3);

/* rtt.c */
bool agw_rtt_from_dc(struct agw_w3 *w3, uint16_t sid, const uint8_t *p,
		     size_t n);
void agw_rtt_from_core(struct agw_rtt *r, const uint8_t *p, size_t n,
		       bool rtcp);

/* msrp.c */
bool agw_msrp_dc_recv(struct agw_w3 *w3, uint16_t sid, const uint8_t *p,
		      size_t n);

/* dcrelay.c */
void agw_dcrelay_from_w3(struct agw_w3 *w3, const struct sa *src,
			 const uint8_t *p, size_t n);
void agw_dcrelay_from_core(struct agw_stream *st, const uint8_t *p,
			   size_t n);

/* relay.c */
bool agw_is_rtcp(const uint8_t *p, size_t n);
void agw_relay_w3(struct agw_w3 *w3, const struct sa *src,
		  const uint8_t *p, size_t n);
void agw_relay_core(struct agw_stream *st, bool rtcp, const uint8_t *p,
		    size_t n);
int  agw_relay_to_w3(struct agw_stream *st, bool rtcp, uint8_t *buf,
		     size_t len, size_t cap);

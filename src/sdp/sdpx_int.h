/**
 * @file sdpx_int.h  SDP interworking: the line model and per-call state
 */

enum {
	SDPX_MAX_SIZE  = 65536,  /**< Bytes of one SDP                     */
	SDPX_MAX_MEDIA = 16,     /**< m-lines                              */
	SDPX_MAX_LINES = 256,    /**< Lines per section                    */
	SDPX_MAX_LLEN  = 1024,   /**< Bytes per line (without CRLF)        */
	SDPX_MAX_FMT   = 64,     /**< Formats per m-line                   */
	SDPX_MAX_SSRC  = 32,     /**< Distinct a=ssrc per m-line           */
	SDPX_MAX_GROUP = 16,     /**< a=group:BUNDLE lines                 */
	SDPX_TOKEN_SZ  = 33,     /**< media, proto, first format, mid      */
	SDPX_XMAX      = 7,      /**< Payload types added for transcoding  */
};

/** A payload type the ALG added toward the core (xcode.c) */
struct sdpx_xpt {
	uint8_t pt;
	uint8_t add;                    /**< Row of xcode.c's table        */
};

/* --- the line model (parse.c) ------------------------------------------ */

/** One line "x=val"; val points into the parsed text */
struct sdpx_line {
	char type;
	struct pl val;
};

/** One m-line and the lines of its section */
struct sdpx_media {
	const struct sdpx_line *linev;  /**< Lines after the m-line        */
	size_t linec;
	struct pl type;                 /**< audio, video, application...  */
	struct pl proto;
	struct pl fmts;                 /**< Format list as written        */
	struct pl fmt1;                 /**< First format                  */
	uint16_t port;
	bool rtp;                       /**< Proto is an RTP profile       */
	uint8_t ptv[SDPX_MAX_FMT];      /**< Payload types (RTP only)      */
	size_t ptc;
	struct sa conn;                 /**< c= (media, else session)      */
	bool has_conn;
};

/** A parsed SDP; lines point into the caller's text */
struct sdpx_sdp {
	struct sdpx_line *linev;        /**< All lines                     */
	size_t sessc;                   /**< Session-level: linev[0, sessc) */
	struct sdpx_media mv[SDPX_MAX_MEDIA];
	size_t mc;
};

int  sdpx_parse(struct sdpx_sdp **sdpp, const struct pl *pl);

/* --- attributes (attr.c) ----------------------------------------------- */

enum sdpx_dir {
	SDPX_SENDRECV = 0,
	SDPX_SENDONLY,
	SDPX_RECVONLY,
	SDPX_INACTIVE,
};

enum sdpx_kind {
	SDPX_OTHER = 0,
	SDPX_AUDIO,
	SDPX_VIDEO,
};

/** Where an SDP goes: decides which attributes pass (strip lists) */
enum sdpx_to {
	SDPX_TO_CORE,
	SDPX_TO_BROWSER,
};

void sdpx_attr_split(const struct pl *val, struct pl *name, struct pl *arg);
bool sdpx_attr_find(const struct sdpx_line *linev, size_t linec,
		    const char *name, struct pl *arg);
bool sdpx_attr(const struct sdpx_sdp *sdp, const struct sdpx_media *m,
	       const char *name, struct pl *arg);
enum sdpx_dir sdpx_dir(const struct sdpx_sdp *sdp,
		       const struct sdpx_media *m);
const char *sdpx_dir_name(enum sdpx_dir dir);
enum sdpx_kind sdpx_kind(const struct sdpx_media *m);
bool sdpx_pt_of(const struct pl *arg, int *pt);
bool sdpx_pt_has(const uint8_t *ptv, size_t ptc, int pt);
bool sdpx_rtpmap(const struct sdpx_media *m, uint8_t pt, struct pl *enc,
		 uint32_t *rate, uint32_t *chans);
bool sdpx_strip(enum sdpx_to to, const struct pl *name);
bool sdpx_token(struct pl *rest, struct pl *tok);
bool sdpx_digits(const struct pl *pl, size_t max);
int  sdpx_ssrcs(const struct sdpx_media *m, uint32_t *ssrcv, size_t *ssrcc);
bool sdpx_rtcp_addr(const struct sdpx_media *m, struct sa *rtcp);

/* --- W3 parameters from a browser's SDP (w3.c) ------------------------- */

int  sdpx_w3_prm(struct agw_w3_prm *prm, const struct sdpx_sdp *sdp,
		 const struct sdpx_media *m);
int  sdpx_w3_setup(const struct sdpx_sdp *sdp, const struct sdpx_media *m,
		   bool offer, bool *actpass, enum agw_setup *setup);

/* --- per-call state (call.c) ------------------------------------------- */

/** Who made the last offer */
enum sdpx_offerer {
	SDPX_NONE = 0,
	SDPX_BROWSER,
	SDPX_CORE,
};

/** One m-line of the call */
struct sdpx_ml {
	char media[SDPX_TOKEN_SZ];      /**< As offered                    */
	char proto[SDPX_TOKEN_SZ];      /**< Offerer's proto               */
	char fmt[SDPX_TOKEN_SZ];        /**< First format (rejected line)  */
	char mid[SDPX_TOKEN_SZ];        /**< Browser-side mid, "" if none  */
	enum sdpx_kind kind;
	int grp;                        /**< BUNDLE group, -1 if none      */
	unsigned tid;                   /**< W3 transport (if has_tid)     */
	bool has_tid;
	bool rejected;                  /**< Not usable in the offer       */
	bool declined;                  /**< Rejected by the answer        */
	bool avpf;                      /**< Core side is RTP/AVPF         */
	uint16_t acfg;                  /**< Core offered RTP/AVPF by
					     capability negotiation: its
					     pcfg number (avpf.c), or 0    */
	uint16_t acfg_t;                /**< ... and its tcap number       */
	bool core_rtcp_mux;             /**< Core side muxes RTCP          */
	enum sdpx_dir core_dir;         /**< Direction in the core's SDP   */
	uint8_t bptv[SDPX_MAX_FMT];     /**< Browser's payload types       */
	size_t bptc;
	uint8_t cptv[SDPX_MAX_FMT];     /**< Core's payload types          */
	size_t cptc;
	struct agw_stream_info core;    /**< AGW's core-side addresses     */
	struct sdpx_xpt xv[SDPX_XMAX];  /**< Added toward the core         */
	size_t xc;
	bool xcoded;                    /**< On the transcoding path       */
	int opus_pt;                    /**< Browser's opus/48000, or -1   */
	int te48_pt;                    /**< Its telephone-event/48000     */
	char xfmtp[128];                /**< Core offer's fmtp of xv[0]    */
	bool dc;                        /**< Data channels the AGW ends    */
	struct agw_dc_info dcinfo;      /**< ... and its SCTP parameters   */
	struct agw_dcmap dcmapv[AGW_DCMAP_MAX]; /**< ... a=dcmap taken     */
	size_t dcmapc;
	bool rtt;                       /**< ... one is T.140: m=text      */
	bool rtt_ok;                    /**< ... and the core took it      */
	uint16_t rtt_sid;               /**< ... its stream id             */
	uint8_t rtt_t140;               /**< Core offer's t140/1000 ...    */
	uint8_t rtt_red;                /**< ... and red/1000 (0: none)    */
	bool dc_back;                   /**< m=text on the core's side and
					     a data-channel m-line on the
					     browser's, after a core
					     re-offer (rtt.c)              */
	bool msrp;                      /**< Its MSRP channel relayed      */
	uint16_t msrp_sid;              /**< ... on this stream id         */
	struct agw_msrp_info msrpinfo;  /**< ... the AGW's side (msrp.c)   */
	bool dcrelay;                   /**< Data channels relayed end to
					     end (dcrelay.c)               */
};

/** One W3 transport (index = tid) */
struct sdpx_tp {
	struct agw_w3_info info;
	enum agw_setup setup;           /**< AGW's DTLS role               */
	bool used;
};

struct sdpx_call {
	struct sdpx_ml *mlv;            /**< m-lines of the last offer     */
	size_t mlc;
	struct sdpx_tp *tpv;
	size_t tpc;
	enum sdpx_offerer offerer;
	bool answered;
	uint64_t csess;                 /**< o= toward the core            */
	uint32_t cver;
	uint64_t bsess;                 /**< o= toward the browser         */
	uint32_t bver;
};

int  sdpx_call_stage(struct sdpx_call **nextp, const struct sdpx_call *call,
		     size_t mlc);
void sdpx_call_commit(struct sdpx_call **callp, struct sdpx_call *next);
bool sdpx_tid_leader(const struct sdpx_call *call, size_t i);
void sdpx_tids_assign(struct sdpx_call *call);
void sdpx_ml_store(struct sdpx_ml *ml, const struct sdpx_media *m);
const struct sdpx_tp *sdpx_first_tp(const struct sdpx_call *call);
const struct sa *sdpx_core_addr(const struct sdpx_call *call);
void sdpx_core_peer(struct sa *rtp, struct sa *rtcp,
		    const struct sdpx_media *m, bool mux);
int  sdpx_answer_check(const struct sdpx_call *call,
		       const struct sdpx_sdp *sdp, enum sdpx_offerer offerer);
size_t sdpx_pt_common(uint8_t *ptv, const struct sdpx_media *m,
		      const uint8_t *offv, size_t offc);

/* --- writing (write.c) ------------------------------------------------- */

int  sdpx_write_head(struct mbuf *mb, const struct sdpx_sdp *sdp,
		     uint64_t sess, uint32_t ver, const struct sa *addr,
		     bool conn);
int  sdpx_write_sess_attrs(struct mbuf *mb, const struct sdpx_sdp *sdp,
			   enum sdpx_to to);
int  sdpx_write_mline(struct mbuf *mb, const char *media, uint16_t port,
		      const char *proto, const uint8_t *ptv, size_t ptc);
int  sdpx_write_rejected(struct mbuf *mb, const struct sdpx_ml *ml,
			 const char *proto);
int  sdpx_write_conn(struct mbuf *mb, const struct sa *addr);
int  sdpx_write_lines(struct mbuf *mb, const struct sdpx_media *m, char type);
int  sdpx_write_attrs(struct mbuf *mb, const struct sdpx_media *m,
		      enum sdpx_to to, const uint8_t *ptv, size_t ptc,
		      bool fb);
int  sdpx_write_w3(struct mbuf *mb, const char *mid,
		   const struct agw_w3_info *info, const char *setup);
int  sdpx_write_group(struct mbuf *mb, const struct sdpx_call *call);
int  sdpx_write_rtcp(struct mbuf *mb, const struct agw_stream_info *info);

/* --- RTP/AVPF for video by capability negotiation (avpf.c) ----------- */

bool sdpx_fb_to_core(const struct pl *arg);
bool sdpx_avpf_offered(const struct sdpx_ml *ml);
int  sdpx_avpf_write_offer(struct mbuf *mb);
void sdpx_avpf_core_offer(struct sdpx_ml *ml, const struct sdpx_media *m);

/* --- data-channel m-lines (dc.c) ---------------------------------------- */

struct sdpx_ops;

bool sdpx_dc_media(const struct sdpx_media *m);
int  sdpx_dc_prm(struct agw_dc_prm *prm, const struct sdpx_media *m);
int  sdpx_dc_maps(struct agw_dcmap *mapv, size_t *mapc,
		  const struct sdpx_media *m);
int  sdpx_dc_streams(struct sdpx_call *call, const struct sdpx_sdp *sdp,
		     const struct sdpx_ops *ops, void *arg);
int  sdpx_dc_write(struct mbuf *mb, const struct sdpx_call *call,
		   const struct sdpx_ml *ml);

/* --- data-channel m-lines relayed to the core (dcrelay.c) ------------- */

bool sdpx_dcrelay_offered(const struct sdpx_media *m, bool core);
bool sdpx_dcrelay_own(const struct sdpx_call *call,
		      const struct sdpx_sdp *sdp, size_t i);
int  sdpx_dcrelay_stream(struct sdpx_ml *ml, unsigned idx,
			 const struct sdpx_media *core_m,
			 const struct sdpx_ops *ops, void *arg);
int  sdpx_dcrelay_write_core(struct mbuf *mb, const struct sdpx_ml *ml,
			     const struct sdpx_sdp *sdp,
			     const struct sdpx_media *m);
int  sdpx_dcrelay_write_browser(struct mbuf *mb,
				const struct sdpx_call *call,
				const struct sdpx_ml *ml,
				const struct sdpx_sdp *sdp,
				const struct sdpx_media *m);

/* --- real-time text: T.140 channel <-> m=text (rtt.c) ------------------ */

int  sdpx_rtt_offer(struct sdpx_call *call, const struct sdpx_ops *ops,
		    void *arg);
int  sdpx_rtt_write_offer(struct mbuf *mb, const struct sdpx_ml *ml,
			  const struct sdpx_media *m);
int  sdpx_rtt_write_dcsa(struct mbuf *mb, const struct sdpx_ml *ml,
			 const struct sdpx_media *m);
int  sdpx_rtt_answer(struct sdpx_ml *ml, const struct sdpx_media *m,
		     unsigned idx, const struct sdpx_ops *ops, void *arg);
int  sdpx_rtt_write_back(struct mbuf *mb, const struct sdpx_ml *ml);
bool sdpx_rtt_core_text(struct sdpx_ml *ml, const struct sdpx_media *m,
			const struct sdpx_ops *ops);
int  sdpx_rtt_core_offer(struct sdpx_ml *ml, unsigned idx,
			 const struct sdpx_media *m,
			 const struct sdpx_ops *ops, void *arg);
int  sdpx_rtt_write_dc_offer(struct mbuf *mb, const struct sdpx_call *call,
			     const struct sdpx_ml *ml,
			     const struct sdpx_media *m);
int  sdpx_rtt_browser_answer(struct sdpx_ml *ml, const struct sdpx_media *m,
			     unsigned idx, const struct sdpx_ops *ops,
			     void *arg);
int  sdpx_rtt_write_core_answer(struct mbuf *mb, const struct sdpx_ml *ml,
				const struct sdpx_media *m);

/* --- MSRP over a data channel <-> m=message (msrp.c) ------------------ */

int  sdpx_msrp_offer(struct sdpx_ml *ml, const struct sdpx_media *m,
		     unsigned idx, const struct sdpx_ops *ops, void *arg);
int  sdpx_msrp_write_offer(struct mbuf *mb, const struct sdpx_ml *ml,
			   const struct sdpx_media *m);
int  sdpx_msrp_answer(struct sdpx_ml *ml, const struct sdpx_media *m,
		      unsigned idx, const struct sdpx_ops *ops, void *arg);
int  sdpx_msrp_write_dcsa(struct mbuf *mb, const struct sdpx_ml *ml,
			  const struct sdpx_media *m);

/* --- what a browser can receive (codec.c) ------------------------------ */

size_t sdpx_codec_filter(uint8_t *ptv, size_t *ptc,
			 const struct sdpx_media *m);
int  sdpx_write_static_rtpmaps(struct mbuf *mb, const struct sdpx_media *m,
			       const uint8_t *ptv, size_t ptc);
void sdpx_clock(uint32_t *clockv, struct agw_stream_prm *prm,
		const struct sdpx_media *m);

/* --- transcoding (xcode.c) --------------------------------------------- */

struct sdpx_ops;

void   sdpx_xcode_offer(struct sdpx_ml *ml, const struct sdpx_media *m,
			const struct sdpx_ops *ops);
size_t sdpx_xcode_pts(uint8_t *ptv, const struct sdpx_ml *ml);
int    sdpx_xcode_write_offer(struct mbuf *mb, const struct sdpx_ml *ml);
int    sdpx_xcode_answer(struct sdpx_ml *ml, const struct sdpx_media *m,
			 unsigned idx, const struct sdpx_ops *ops,
			 void *arg);
bool   sdpx_xcode_core_offer(struct sdpx_ml *ml,
			      const struct sdpx_media *m,
			      const struct sdpx_ops *ops);
int    sdpx_xcode_write_browser(struct mbuf *mb, const struct sdpx_ml *ml,
				bool offer);
int    sdpx_xcode_browser_answer(struct sdpx_ml *ml,
				 const struct sdpx_media *m, unsigned idx,
				 const struct sdpx_ops *ops, void *arg);
int    sdpx_xcode_write_core_answer(struct mbuf *mb,
				    const struct sdpx_ml *ml);

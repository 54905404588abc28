/**
 * @file sdpx.h  SDP interworking of the eP-CSCF (IMS-ALG): WebRTC SDP on
 *               W2 <-> plain RTP/AVP SDP on Mw, driving the eIMS-AGW
 *
 * Four rewrites, one per offer/answer direction; each parses the input
 * into a line model (at most 64 KiB, 16 m-lines, 256 lines per section,
 * 1024 bytes per line; CRLF or LF), tells the AGW what the SDP says
 * through an ops table and writes a complete SDP (CRLF) to an mbuf:
 *
 *   browser offer -> sdpx_offer_to_core()    -> core offer
 *   core answer   -> sdpx_answer_to_browser() -> browser answer
 *   core offer    -> sdpx_offer_to_browser()  -> browser offer
 *   browser answer -> sdpx_answer_to_core()   -> core answer
 *
 * A call's state (struct sdpx_call) keeps per m-line its W3 transport,
 * mid, BUNDLE membership, payload types and the AGW's addresses, so
 * re-offers (hold, resume, added m-lines) keep transports and ports.
 * A failed rewrite leaves the call and @p out as they were (the AGW may
 * have seen some calls).
 *
 * Errors: EBADMSG malformed SDP, EMSGSIZE a limit exceeded, EPROTO an SDP
 * the interworking cannot accept (no ICE credentials or fingerprint, an
 * answer that does not match the offer, an answer without an offer),
 * ENOENT no usable audio or video m-line, ENOTSUP no common audio codec
 * (488 with Warning 305), and what an ops function returns.
 *
 * Include re.h and agw/agw.h first.
 */

struct sip_msg;
struct sdpx_call;

/** The AGW as the rewrites drive it (mirrors agw_sess_*(), see agw.h) */
struct sdpx_ops {
	int (*transport)(void *arg, unsigned tid,
			 const struct agw_w3_prm *prm,
			 struct agw_w3_info *info);       /* prm may be NULL */
	int (*transport_remote)(void *arg, unsigned tid,
				const struct agw_w3_prm *prm);
	int (*stream)(void *arg, unsigned idx,
		      const struct agw_stream_prm *prm,
		      struct agw_stream_info *info);
	int (*core_peer)(void *arg, unsigned idx, const struct sa *rtp,
			 const struct sa *rtcp);
	/* data channels the AGW terminates; NULL: such m-lines rejected */
	int (*datachannel)(void *arg, unsigned idx,
			   const struct agw_dc_prm *prm,
			   struct agw_dc_info *info);
	/* transcoding (agw_sess_xcode); NULL: none is offered */
	int (*xcode)(void *arg, unsigned idx,
		     const struct agw_xcode_prm *prm);
	/* real-time text (agw_sess_rtt); NULL: a T.140 channel stays
	   on the AGW and the core sees the m-line rejected */
	int (*rtt)(void *arg, unsigned idx, const struct agw_rtt_prm *prm,
		   struct agw_stream_info *info);
	/* MSRP channels relayed to TCP (agw_sess_msrp*); NULL: the
	   data-channel m-line is offered to the core rejected */
	int (*msrp)(void *arg, unsigned idx, const struct agw_msrp_prm *prm,
		    struct agw_msrp_info *info);
	int (*msrp_peer)(void *arg, unsigned idx,
			 const struct agw_msrp_peer *peer);
};

int  sdpx_offer_to_core(struct mbuf *out, struct sdpx_call **callp,
			const struct pl *browser_offer,
			const struct sdpx_ops *ops, void *arg);
int  sdpx_answer_to_browser(struct mbuf *out, struct sdpx_call *call,
			    const struct pl *core_answer,
			    const struct sdpx_ops *ops, void *arg);
int  sdpx_offer_to_browser(struct mbuf *out, struct sdpx_call **callp,
			   const struct pl *core_offer,
			   const struct sdpx_ops *ops, void *arg);
int  sdpx_answer_to_core(struct mbuf *out, struct sdpx_call *call,
			 const struct pl *browser_answer,
			 const struct sdpx_ops *ops, void *arg);
bool sdpx_is_sdp(const struct sip_msg *msg);
void sdpx_dcrelay_set(bool on);
void sdpx_xcode_set(const int *codecv, size_t codecc, uint16_t wb_mode_set);

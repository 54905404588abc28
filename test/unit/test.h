/**
 * @file test.h  Unit test harness: one function per test, leak-checked
 */

#define TEST_ERR(expr) do {                                            \
		err = (expr);                                          \
		if (err) {                                             \
			test_fail(__FILE__, __LINE__, #expr, err);     \
			goto out;                                      \
		}                                                      \
	} while (0)

#define TEST_ASSERT(cond) do {                                         \
		if (!(cond)) {                                         \
			test_fail(__FILE__, __LINE__, #cond, 0);       \
			err = EINVAL;                                  \
			goto out;                                      \
		}                                                      \
	} while (0)

#define TEST_EQ(a, b) do {                                             \
		long long va_ = (long long)(a), vb_ = (long long)(b);  \
		if (va_ != vb_) {                                      \
			test_fail_eq(__FILE__, __LINE__, #a, va_, vb_); \
			err = EINVAL;                                  \
			goto out;                                      \
		}                                                      \
	} while (0)

#define TEST_STREQ(a, b) do {                                          \
		if (strcmp((a), (b))) {                                \
			test_fail_str(__FILE__, __LINE__, (a), (b));   \
			err = EINVAL;                                  \
			goto out;                                      \
		}                                                      \
	} while (0)

void test_fail(const char *file, int line, const char *what, int err);
void test_fail_eq(const char *file, int line, const char *what,
		  long long got, long long want);
void test_fail_str(const char *file, int line, const char *got,
		   const char *want);
const char *test_datapath(const char *name);
void test_rtp_hdr(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts,
		  uint32_t ssrc);

/* libsrtp2's AES-CM-80 reference packet (srtp_driver.c srtp_validate) */
extern const uint8_t test_srtp_key_cm[30];
extern const uint8_t test_srtp_rtp[28];
extern const uint8_t test_srtp_cm[38];

#define TESTS(X)                 \
	X(test_tmr_order)        \
	X(test_tmr_many)         \
	X(test_conf_good)        \
	X(test_conf_errors)      \
	X(test_conf_xcode)       \
	X(test_conf_origin)      \
	X(test_conf_web)         \
	X(test_conf_pool)        \
	X(test_conf_media_public) \
	X(test_conf_conn_buckets) \
	X(test_conf_all_errors)  \
	X(test_conf_reload)      \
	X(test_conf_media_listen) \
	X(test_conf_metrics)     \
	X(test_stats)            \
	X(test_log_timestamp)    \
	X(test_ws_frame_rfc)     \
	X(test_ws_frame_lengths) \
	X(test_ws_frame_bad)     \
	X(test_ws_utf8)          \
	X(test_ws_upgrade)       \
	X(test_ws_conn_reassembly) \
	X(test_ws_conn_limits)   \
	X(test_ws_conn_close)    \
	X(test_ws_conn_budget)   \
	X(test_budget_oldest_equal) \
	X(test_w2_addr)          \
	X(test_trim)             \
	X(test_sipx_decode)      \
	X(test_sipx_validate)    \
	X(test_sipx_reply)       \
	X(test_pcscf_token)      \
	X(test_pcscf_strip_params) \
	X(test_pcscf_uri)        \
	X(test_pcscf_register_rewrite) \
	X(test_pcscf_webauth)    \
	X(test_pcscf_reginfo)    \
	X(test_sipx_param)       \
	X(test_sipx_rfc4475)     \
	X(test_sipx_longreq)     \
	X(test_sipx_reply_standin) \
	X(test_libre_regex)      \
	X(test_sip_many_headers) \
	X(test_pcscf_trust)      \
	X(test_pcscf_maxfwd)     \
	X(test_pcscf_ruri)       \
	X(test_tls_loopback)     \
	X(test_tls_bad_cert)     \
	X(test_tls_idle_release) \
	X(test_tls_psa_slices)   \
	X(test_tls_mem)          \
	X(test_tls_rand_source)  \
	X(test_dtls_handshake)   \
	X(test_dtls_bad_fingerprint) \
	X(test_dtls_loss)        \
	X(test_dtls_srtp)        \
	X(test_dtls_srtp_gcm)    \
	X(test_dtls_frag_hello)  \
	X(test_dtls_lean)        \
	X(test_dtls_shared_conf) \
	X(test_ecc_fast)         \
	X(test_srtp_vectors)     \
	X(test_dcep_codec)       \
	X(test_sdpx_datachannel) \
	X(test_sdpx_dcrelay) \
	X(test_sdpx_rtt) \
	X(test_sdpx_rtt_core_offer) \
	X(test_t140_red)         \
	X(test_t140_tx_rx)       \
	X(test_t140_loss)        \
	X(test_rtpq_seq)         \
	X(test_rtpq_jitter)      \
	X(test_rtpq_rr)          \
	X(test_cdr_fields)       \
	X(test_keygen_pair)      \
	X(test_keygen_keep)      \
	X(test_keygen_opt)      \
	X(test_msrp_decode)     \
	X(test_msrp_stream)     \
	X(test_msrp_bad)        \
	X(test_msrp_split)      \
	X(test_sdpx_msrp)       \
	X(test_agw_dual)        \
	X(test_agw_shared)      \
	X(test_agw_shared_call) \
	X(test_agw_core_shared) \
	X(test_agw_core_shared_hairpin) \
	X(test_agw_core_shared_host) \
	X(test_agw_core_shared_call) \
	X(test_agw_active)      \
	X(test_agw_passive)     \
	X(test_agw_reject)      \
	X(test_agw_public)      \
	X(test_agw_consent)     \
	X(test_agw_latch)       \
	X(test_agw_rtt)         \
	X(test_agw_limits) \
	X(test_sdpx_offer_to_core) \
	X(test_sdpx_offer_roles) \
	X(test_sdpx_answer_to_browser) \
	X(test_sdpx_answer_rtcp_reject) \
	X(test_sdpx_bundle_av_dc) \
	X(test_sdpx_unbundled) \
	X(test_sdpx_reoffer_hold) \
	X(test_sdpx_reoffer_changes) \
	X(test_sdpx_offer_to_browser) \
	X(test_sdpx_answer_to_core) \
	X(test_sdpx_core_offer_codecs) \
	X(test_sdpx_avpf_capneg) \
	X(test_sdpx_malformed) \
	X(test_sdpx_limits) \
	X(test_sdpx_lf) \
	X(test_sdpx_is_sdp) \
	X(test_sdpx_oom) \
	X(test_sdpx_xcode) \
	X(test_sdpx_xcode_core_offer) \
	X(test_sdpx_xcode_conf) \
	X(test_crypto_kat) \
	X(test_crypto_ctr_add) \
	X(test_crypto_fallback) \
	X(test_crypto_refuse) \
	X(test_crypto_srtp_plugin) \
	X(test_crypto_hmac_rfc2202) \
	X(test_crypto_conf) \
	X(test_jwt_b64) \
	X(test_jwt_keys) \
	X(test_jwt_roundtrip) \
	X(test_jwt_tamper) \
	X(test_jwt_times) \
	X(test_jwt_keyring) \
	X(test_jwt_claims) \
	X(test_jwt_malformed) \
	X(test_jwt_json) \
	X(test_jwt_node) \
	X(test_wwsf_path_map) \
	X(test_wwsf_files) \
	X(test_wwsf_limits) \
	X(test_wwsf_api) \
	X(test_wwsf_stream) \
	X(test_wwsf_https) \
	X(test_net_udp_loop) \
	X(test_net_udp_batch) \
	X(test_net_udp_tx_batch) \
	X(test_net_udp_oversize) \
	X(test_net_udp_dscp) \
	X(test_net_udp_errors) \
	X(test_net_udp_close_in_handler) \
	X(test_net_tcp) \
	X(test_waf_users_parse) \
	X(test_waf_users_set) \
	X(test_waf_login) \
	X(test_waf_rate_limit) \
	X(test_waf_guest) \
	X(test_waf_refresh) \
	X(test_waf_revoke) \
	X(test_waf_logout) \
	X(test_waf_revoke_restart) \
	X(test_waf_config)

/* SCTP associations on usrsctp: not with the board option DATACHANNEL=0
   (no usrsctp linked); main.c names them as skipped */
#define DC_TESTS(X)              \
	X(test_dc_open_send_close) \
	X(test_dc_limits)        \
	X(test_dc_refuse)        \
	X(test_dc_negotiated)    \
	X(test_dc_loss)

/* audio transcoding: only with the board option TRANSCODE=1 */
#ifdef IMSEDGE_TRANSCODE
#define CODEC_TESTS(X)           \
	X(test_codec_table)      \
	X(test_codec_g711)       \
	X(test_amr_rtp_vectors)  \
	X(test_amr_rtp_bad)      \
	X(test_codec_tone)       \
	X(test_codec_loss)       \
	X(test_codec_opus_toc)   \
	X(test_codec_g722)       \
	X(test_agw_xcode_g722)   \
	X(test_agw_xcode)        \
	X(test_xcode_jb_reorder) \
	X(test_xcode_jb_loss)    \
	X(test_xcode_jb_adapt)   \
	X(test_xcode_jb_edges)   \
	X(test_xcode_jb_memory)

void   test_tone(int16_t *pcm, size_t n, uint32_t srate, double f,
		 size_t *phase);
double test_tone_snr(const int16_t *pcm, size_t n, uint32_t srate,
		     double f);
#else
#define CODEC_TESTS(X)
#endif

#define DECLARE(name) int name(void);
TESTS(DECLARE)
CODEC_TESTS(DECLARE)
#ifndef IMSEDGE_NO_DATACHANNEL
DC_TESTS(DECLARE)
#endif
#undef DECLARE

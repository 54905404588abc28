/**
 * @file srtp.h  SRTP/SRTCP for one media stream pair, on libsrtp2
 *
 * One object holds an outbound and an inbound libsrtp2 session (any
 * SSRC, replay window 128). Suites are libre's enum srtp_suite, as
 * dtls_sess_srtp_keys() reports them. Include re.h first.
 */

struct srtpx;

size_t srtpx_key_salt_len(enum srtp_suite suite);
int srtpx_alloc(struct srtpx **sp, enum srtp_suite suite,
		const uint8_t *key_salt_tx, const uint8_t *key_salt_rx);
int srtpx_protect(struct srtpx *s, uint8_t *buf, size_t *len, size_t cap);
int srtpx_unprotect(struct srtpx *s, uint8_t *buf, size_t *len);
int srtpx_protect_rtcp(struct srtpx *s, uint8_t *buf, size_t *len,
		       size_t cap);
int srtpx_unprotect_rtcp(struct srtpx *s, uint8_t *buf, size_t *len);

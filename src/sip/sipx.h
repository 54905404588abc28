/**
 * @file sipx.h  SIP helpers over libre's parser: validation and replies
 *                without a transaction layer
 */

int sipx_decode(struct sip_msg **msgp, const uint8_t *p, size_t n);
int sipx_validate(const struct sip_msg *msg, const char **reason);
int sipx_reply(struct mbuf *mb, const struct sip_msg *req, uint16_t scode,
	       const char *reason, const char *hdrs);

/**
 * @file sipx.h  SIP helpers over libre's parser: validation and replies
 *                without a transaction layer
 */

int sipx_decode(struct sip_msg **msgp, const uint8_t *p, size_t n);
uint16_t sipx_fault(int err, const char **reason);
int sipx_validate(const struct sip_msg *msg, const char **reason);
bool sipx_answerable(const struct sip_msg *msg);
int sipx_addr_check(const struct pl *val);
int sipx_reply(struct mbuf *mb, const struct sip_msg *req, uint16_t scode,
	       const char *reason, const char *hdrs);

/* One scanner for quoted strings and parameters (RFC 3261 25.1: a
   quoted-pair escapes any character, so "a\\" ends after the second
   backslash) */
size_t sipx_qstr_len(const char *p, size_t n);
bool sipx_is_lws(char c);
void sipx_skip_lws(struct pl *pl);
int sipx_param_next(struct pl *rest, char sep, struct pl *name,
		    struct pl *val);
int sipx_param_get(const struct pl *params, char sep, const char *name,
		   struct pl *val);
int sipx_auth_split(const struct pl *hval, struct pl *scheme,
		    struct pl *params);
int sipx_u32(const struct pl *pl, uint32_t *v);
bool sipx_token(const struct pl *pl);

/**
 * @file dtls.h  DTLS 1.2 session for DTLS-SRTP (RFC 5763/5764), detached
 *               from any socket
 *
 * The media port demultiplexes STUN, DTLS and SRTP itself (RFC 7983) and
 * feeds DTLS datagrams in with dtls_sess_recv(); what the session sends
 * leaves through the send handler. Peers are authenticated by the
 * certificate fingerprint from SDP (self-signed certificates).
 *
 * Handlers are libre's dtls_estab_h, dtls_recv_h and dtls_close_h. The
 * estab, recv and close handlers may release the session; the send
 * handler must not. Include re.h first.
 */

struct dtls_sess;

/** The DTLS role (a=setup: active is the client, passive the server) */
enum dtls_role {
	DTLS_CLIENT,
	DTLS_SERVER,
};

/**
 * Send one datagram to the peer
 *
 * @param mb  Datagram (from pos to end)
 * @param arg Handler argument
 *
 * @return 0 if sent; an error counts as a lost datagram
 */
typedef int (dtls_sess_send_h)(struct mbuf *mb, void *arg);

int  dtls_sess_alloc(struct dtls_sess **sp, struct tls *tls,
		     enum dtls_role role, dtls_sess_send_h *sendh,
		     dtls_estab_h *estabh, dtls_recv_h *recvh,
		     dtls_close_h *closeh, void *arg);
void dtls_sess_set_mtu(struct dtls_sess *s, size_t mtu);
void dtls_sess_set_timeout(struct dtls_sess *s, uint32_t min_ms,
			   uint32_t max_ms);
int  dtls_sess_set_client_id(struct dtls_sess *s, const uint8_t *id,
			     size_t len);
int  dtls_sess_set_peer_fingerprint(struct dtls_sess *s,
				    enum tls_fingerprint type,
				    const uint8_t *md, size_t len);
int  dtls_sess_set_srtp_gcm(struct dtls_sess *s, bool gcm);
int  dtls_sess_start(struct dtls_sess *s);
int  dtls_sess_recv(struct dtls_sess *s, const uint8_t *p, size_t n);
int  dtls_sess_send(struct dtls_sess *s, const uint8_t *p, size_t n);
bool dtls_sess_established(const struct dtls_sess *s);
void dtls_sess_peer_keyed(struct dtls_sess *s, bool lean);
enum dtls_role dtls_sess_role(const struct dtls_sess *s);
int  dtls_sess_peer_fingerprint(const struct dtls_sess *s,
				enum tls_fingerprint type, uint8_t *md,
				size_t size);
int  dtls_sess_srtp_keys(const struct dtls_sess *s, enum srtp_suite *suite,
			 uint8_t *cli_key, size_t cli_size,
			 uint8_t *srv_key, size_t srv_size);

/**
 * @file dtls.c  DTLS 1.2 session on mbedtls, detached from any socket:
 *               set-up and the public interface (dtls.h)
 *
 * The owner feeds received DTLS datagrams in and gets datagrams to send
 * through a handler (dtls_io.c). Sessions of one struct tls share an
 * mbedtls configuration per role (servers: with HelloVerifyRequest
 * cookies or without, one cookie key); a session with handshake timeouts
 * of its own has its own. The verify and key export callbacks are per
 * session (mbedtls_ssl_set_verify, _set_export_keys_cb). mbedtls' context
 * (record buffers, handshake state) is set up when the handshake starts,
 * not when the session is allocated. The certificate and key are the
 * struct tls's, shared. mbedtls reassembles a fragmented ClientHello
 * itself (3.6.3 and later).
 */
#include <string.h>
#include <re.h>
#include <mbedtls/platform.h>
#include "tls.h"
#include "dtls.h"
#include "dtls_int.h"

enum {
	MTU_DEFAULT = 1200,
};

static void destructor(void *arg)
{
	struct dtls_sess *s = arg;

	tmr_cancel(&s->tmr);
	tmr_cancel(&s->tmr_verdict);
	dtls_keys_wipe(s);
	mbedtls_ssl_free(&s->ssl);
	mem_deref(s->conf);
	mem_deref(s->tls);
}


static void conf_destructor(void *arg)
{
	struct dtls_conf *c = arg;

	if (c->slot)
		*c->slot = NULL;
	mbedtls_ssl_cookie_free(&c->cookie);
	mbedtls_ssl_config_free(&c->conf);
	mem_deref(c->tls);
}


static int conf_setup(struct dtls_conf *dc, enum dtls_role role,
		      bool cookies)
{
	mbedtls_ssl_config *c = &dc->conf;
	struct tls *tls = dc->tls;
	int ret;

	ret = mbedtls_ssl_config_defaults(c, role == DTLS_CLIENT ?
					  MBEDTLS_SSL_IS_CLIENT :
					  MBEDTLS_SSL_IS_SERVER,
					  MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret)
		return ENOMEM;

	mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, &tls->rng->drbg);
	mbedtls_ssl_conf_min_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_ciphersuites(c, dtls_suites);
	mbedtls_ssl_conf_groups(c, tls_groups);
	mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);

	/* HelloVerifyRequest only for sessions given a client id */
	if (cookies) {
		if (mbedtls_ssl_cookie_setup(&dc->cookie,
					     mbedtls_ctr_drbg_random,
					     &tls->rng->drbg))
			return EIO;

		mbedtls_ssl_conf_dtls_cookies(c, mbedtls_ssl_cookie_write,
					      mbedtls_ssl_cookie_check,
					      &dc->cookie);
	}
	else {
		mbedtls_ssl_conf_dtls_cookies(c, NULL, NULL, NULL);
	}

	if (mbedtls_ssl_conf_own_cert(c, &tls->crt, &tls->key))
		return ENOMEM;

	return dtls_keys_conf(c);
}


/* The configuration a session uses: the one its tls shares among
   sessions of its role (a server's with cookies if it has a client id),
   or its own for its own handshake timeouts or AES-CM only */
static int dconf_get(struct dtls_conf **cp, struct dtls_sess *s)
{
	struct dtls_conf **slot = NULL, *c;
	int err;

	if (!s->tmo_min && !s->no_gcm) {
		slot = &s->tls->dtls_conf[s->role == DTLS_CLIENT ? 0 :
					  s->clid_len ? 2 : 1];
		if (*slot) {
			*cp = mem_ref(*slot);
			return 0;
		}
	}

	c = mem_zalloc(sizeof(*c), conf_destructor);
	if (!c)
		return ENOMEM;

	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ssl_cookie_init(&c->cookie);
	c->tls = mem_ref(s->tls);

	err = conf_setup(c, s->role, s->clid_len > 0);
	if (err) {
		mem_deref(c);
		return err;
	}

	if (s->tmo_min)
		mbedtls_ssl_conf_handshake_timeout(&c->conf, s->tmo_min,
						   s->tmo_max);
	if (s->no_gcm)
		err = dtls_keys_conf_cm(&c->conf);
	if (err) {
		mem_deref(c);
		return err;
	}
	if (slot) {
		c->slot = slot;
		*slot = c;
	}

	*cp = c;
	return 0;
}


/**
 * Set up mbedtls' context (record buffers, handshake state) and choose
 * the configuration; when the handshake starts, not at allocation
 *
 * @param s DTLS session
 *
 * @return 0 if success (or done before), otherwise errorcode
 */
int dtls_ready(struct dtls_sess *s)
{
	int err;

	if (s->ready)
		return 0;

	err = dconf_get(&s->conf, s);
	if (err)
		return err;

	if (mbedtls_ssl_setup(&s->ssl, &s->conf->conf))
		return ENOMEM;

	s->ready = true;

	dtls_io_attach(s);
	dtls_keys_attach(s);
	mbedtls_ssl_set_mtu(&s->ssl, s->mtu);

	if (s->clid_len &&
	    mbedtls_ssl_set_client_transport_id(&s->ssl, s->clid,
						s->clid_len))
		return ENOMEM;

	return 0;
}


/**
 * Allocate a DTLS session
 *
 * @param sp     Returned session
 * @param tls    TLS context with the own certificate (holds a reference)
 * @param role   Client or server
 * @param sendh  Send handler (called with each datagram to send)
 * @param estabh Established handler: keys exported, peer verified
 * @param recvh  Optional handler for application data
 * @param closeh Close handler (handshake failure, alert, close_notify)
 * @param arg    Handler argument
 *
 * @return 0 if success, ENOENT if tls has no certificate, else errorcode
 */
int dtls_sess_alloc(struct dtls_sess **sp, struct tls *tls,
		    enum dtls_role role, dtls_sess_send_h *sendh,
		    dtls_estab_h *estabh, dtls_recv_h *recvh,
		    dtls_close_h *closeh, void *arg)
{
	struct dtls_sess *s;

	if (!sp || !tls || !sendh)
		return EINVAL;

	if (!tls->crt.raw.len)
		return ENOENT;

	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;

	mbedtls_ssl_init(&s->ssl);
	tmr_init(&s->tmr);
	tmr_init(&s->tmr_verdict);

	s->tls    = mem_ref(tls);
	s->role   = role;
	s->sendh  = sendh;
	s->estabh = estabh;
	s->recvh  = recvh;
	s->closeh = closeh;
	s->arg    = arg;
	s->mtu    = MTU_DEFAULT;

	*sp = s;

	return 0;
}


/**
 * Set the largest datagram the session sends (default 1200)
 *
 * @param s   DTLS session
 * @param mtu Largest UDP payload
 */
void dtls_sess_set_mtu(struct dtls_sess *s, size_t mtu)
{
	if (!s || !mtu)
		return;

	s->mtu = (uint16_t)min(mtu, 65535);
	mbedtls_ssl_set_mtu(&s->ssl, s->mtu);
}


/**
 * Set the handshake retransmission timeouts (default 1 s doubling to
 * 60 s, after which the handshake fails); before the handshake starts.
 * The session then has an mbedtls configuration of its own (about
 * 0.5 KB) instead of its tls's shared one.
 *
 * @param s      DTLS session
 * @param min_ms Initial timeout
 * @param max_ms Largest timeout
 */
void dtls_sess_set_timeout(struct dtls_sess *s, uint32_t min_ms,
			   uint32_t max_ms)
{
	if (!s || !min_ms || max_ms < min_ms || s->ready)
		return;

	s->tmo_min = min_ms;
	s->tmo_max = max_ms;
}


/**
 * Turn on HelloVerifyRequest cookies (server), bound to the client's
 * transport address; before the first datagram
 *
 * @param s   DTLS session (server role)
 * @param id  Client id, e.g. the peer's address and port as bytes
 * @param len Length of id
 *
 * @return 0 if success, otherwise errorcode
 */
int dtls_sess_set_client_id(struct dtls_sess *s, const uint8_t *id,
			    size_t len)
{
	if (!s || !id || !len || len > sizeof(s->clid))
		return EINVAL;

	/* the configuration (with or without cookies) is chosen when
	   the first datagram comes */
	if (s->role != DTLS_SERVER || s->state != DTLS_ST_IDLE || s->ready)
		return EPROTO;

	memcpy(s->clid, id, len);
	s->clid_len = len;

	return 0;
}


/**
 * Start the handshake: a client sends its ClientHello, a server waits
 * for one (it takes one also before this call)
 *
 * @param s DTLS session
 *
 * @return 0 if success, otherwise errorcode
 */
int dtls_sess_start(struct dtls_sess *s)
{
	int ret;

	if (!s)
		return EINVAL;

	if (s->role != DTLS_CLIENT || s->state != DTLS_ST_IDLE)
		return 0;

	ret = dtls_ready(s);
	if (ret)
		return ret;

	s->state = DTLS_ST_HANDSHAKE;

	ret = mbedtls_ssl_handshake(&s->ssl);
	if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
	    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return 0;

	dtls_io_log("DTLS handshake start", ret);
	s->state = DTLS_ST_CLOSED;

	return dtls_io_err(ret);
}


/**
 * Feed one received DTLS datagram (content type 20..63, RFC 7983)
 *
 * Handlers may be called, and may release the session, before this
 * returns.
 *
 * @param s DTLS session
 * @param p Datagram
 * @param n Length of the datagram
 *
 * @return 0 if taken, otherwise errorcode
 */
int dtls_sess_recv(struct dtls_sess *s, const uint8_t *p, size_t n)
{
	if (!s || !p || !n)
		return EINVAL;

	if (s->state == DTLS_ST_CLOSED)
		return ENOTCONN;

	/* a client speaks first */
	if (s->role == DTLS_CLIENT && s->state == DTLS_ST_IDLE)
		return ENOTCONN;

	if (dtls_ready(s)) {
		s->state = DTLS_ST_CLOSED;
		return ENOMEM;
	}

	s->rx     = p;
	s->rx_len = n;

	mem_ref(s);
	dtls_io_process(s);
	s->rx = NULL;
	if (mem_nrefs(s) > 1)
		dtls_io_idle(s);
	mem_deref(s);

	return 0;
}


/**
 * Send application data in one record (a data channel's SCTP packet)
 *
 * @param s DTLS session (established)
 * @param p Data
 * @param n Length, at most what the MTU leaves
 *
 * @return 0 if success, otherwise errorcode
 */
int dtls_sess_send(struct dtls_sess *s, const uint8_t *p, size_t n)
{
	int ret;

	if (!s || !p || !n)
		return EINVAL;

	if (s->state != DTLS_ST_UP)
		return ENOTCONN;

	ret = mbedtls_ssl_write(&s->ssl, p, n);
	dtls_io_idle(s);
	if (ret == MBEDTLS_ERR_SSL_BAD_INPUT_DATA)
		return EMSGSIZE;

	if (ret < 0) {
		dtls_io_log("DTLS write failed", ret);
		return EPROTO;
	}

	return (size_t)ret == n ? 0 : EMSGSIZE;
}


/**
 * Tell whether the handshake is over and the peer authenticated
 *
 * @param s DTLS session
 *
 * @return true if established
 */
bool dtls_sess_established(const struct dtls_sess *s)
{
	return s && s->state == DTLS_ST_UP;
}


/* The peer's certificate, parsed (about 1.5 KB in many small pieces):
   its fingerprints were taken when it arrived (verify_h) and nothing
   reads it after the handshake (renegotiation is off) */
static void drop_peer_cert(struct dtls_sess *s)
{
	mbedtls_ssl_session *sess = s->ssl.MBEDTLS_PRIVATE(session);

	if (!sess || !sess->MBEDTLS_PRIVATE(peer_cert))
		return;

	mbedtls_x509_crt_free(sess->MBEDTLS_PRIVATE(peer_cert));
	mbedtls_free(sess->MBEDTLS_PRIVATE(peer_cert));
	sess->MBEDTLS_PRIVATE(peer_cert) = NULL;
}


/**
 * Tell the session that the peer has completed the handshake by other
 * means than a DTLS record: its first SRTP packet authenticated with the
 * exported keys. The state kept to retransmit the last flight is freed,
 * and a lean session releases its record buffers (about 25 KB) whenever
 * nothing is pending; mbedtls takes them back for the next record (a
 * close alert, a new ClientHello, data channel traffic).
 *
 * @param s    DTLS session (established)
 * @param lean Release idle record buffers (for a session that carries
 *             little or nothing after keying)
 */
void dtls_sess_peer_keyed(struct dtls_sess *s, bool lean)
{
	if (!s || s->state != DTLS_ST_UP)
		return;

	(void)mbedtls_ssl_dtls_peer_finished(&s->ssl);
	s->lean = lean;
	if (lean)
		drop_peer_cert(s);
	dtls_io_idle(s);
}


/**
 * Get the role of a DTLS session
 *
 * @param s DTLS session
 *
 * @return Role
 */
enum dtls_role dtls_sess_role(const struct dtls_sess *s)
{
	return s ? s->role : DTLS_CLIENT;
}


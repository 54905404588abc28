/**
 * @file dtls_io.c  DTLS session engine: datagrams in and out through the
 *                  owner, the retransmission timer (RFC 6347 4.2.4) on
 *                  libre's tmr, handshake and record processing, handler
 *                  calls
 *
 * Handlers may release the session: processing holds a reference and
 * stops when only that reference is left.
 */
#include <string.h>
#include <re.h>
#include <mbedtls/error.h>
#include "tls.h"
#include "dtls.h"
#include "dtls_int.h"
#include "../core/log.h"
#include "../core/trim.h"

#define LOG_MODULE "dtls"

enum {
	READ_CHUNK = 2048,
};


/**
 * Log an mbedtls error (peers cause most: info level)
 *
 * @param what What failed
 * @param ret  mbedtls return code
 */
void dtls_io_log(const char *what, int ret)
{
	char buf[128];

	mbedtls_strerror(ret, buf, sizeof(buf));
	log_info("%s: %s (-0x%04x)", what, buf, -ret);
}


/* A datagram the owner could not send is lost: the timer resends it */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct dtls_sess *s = ctx;
	struct mbuf mb;

	mb.buf  = (uint8_t *)buf;
	mb.pos  = 0;
	mb.end  = len;
	mb.size = len;

	(void)s->sendh(&mb, s->arg);

	return (int)len;
}


static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct dtls_sess *s = ctx;
	size_t n;

	if (!s->rx)
		return MBEDTLS_ERR_SSL_WANT_READ;

	n = min(len, s->rx_len);
	memcpy(buf, s->rx, n);
	s->rx = NULL;

	return (int)n;
}


static void timeout_h(void *arg)
{
	struct dtls_sess *s = arg;

	mem_ref(s);
	dtls_io_process(s);
	mem_deref(s);
}


static void timer_set(void *arg, uint32_t int_ms, uint32_t fin_ms)
{
	struct dtls_sess *s = arg;

	s->tmr_t0  = tmr_jiffies();
	s->tmr_int = int_ms;
	s->tmr_fin = fin_ms;

	if (fin_ms)
		tmr_start(&s->tmr, fin_ms, timeout_h, s);
	else
		tmr_cancel(&s->tmr);
}


static int timer_get(void *arg)
{
	struct dtls_sess *s = arg;
	uint64_t elapsed;

	if (!s->tmr_fin)
		return -1;

	elapsed = tmr_jiffies() - s->tmr_t0;

	if (elapsed >= s->tmr_fin)
		return 2;

	return elapsed >= s->tmr_int ? 1 : 0;
}


/**
 * Connect the session's mbedtls context to the owner and to libre's timer
 *
 * @param s DTLS session
 */
void dtls_io_attach(struct dtls_sess *s)
{
	mbedtls_ssl_set_bio(&s->ssl, s, bio_send, bio_recv, NULL);
	mbedtls_ssl_set_timer_cb(&s->ssl, s, timer_set, timer_get);
}


static void fail(struct dtls_sess *s, int err)
{
	s->state = DTLS_ST_CLOSED;
	tmr_cancel(&s->tmr);
	tmr_cancel(&s->tmr_verdict);
	dtls_keys_wipe(s);

	if (s->closeh)
		s->closeh(err, s->arg);
}


static void reject(struct dtls_sess *s)
{
	(void)mbedtls_ssl_send_alert_message(&s->ssl,
					     MBEDTLS_SSL_ALERT_LEVEL_FATAL,
					     MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
}


/**
 * Map an mbedtls error to an errno
 *
 * @param ret mbedtls return code
 *
 * @return errorcode
 */
int dtls_io_err(int ret)
{
	switch (ret) {

	case MBEDTLS_ERR_SSL_TIMEOUT:            return ETIMEDOUT;
	case MBEDTLS_ERR_X509_FATAL_ERROR:     return EAUTH;
	case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:  return ECONNRESET;
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:       return ENOMEM;
	default:                                 return EPROTO;
	}
}


/* The cookie exchange keeps no state: start over, as mbedtls asks */
static int hello_verify_reset(struct dtls_sess *s)
{
	if (mbedtls_ssl_session_reset(&s->ssl))
		return ENOMEM;

	if (mbedtls_ssl_set_client_transport_id(&s->ssl, s->clid,
						s->clid_len))
		return ENOMEM;

	return 0;
}


static int handshake_done(struct dtls_sess *s)
{
	int err;

	/* mbedtls has freed the key exchange and the flights' buffers */
	trim_note(DTLS_TRIM_HANDSHAKE);

	/* a server gets no certificate if the client sends none */
	if (!s->have_cert) {
		reject(s);
		return EAUTH;
	}

	err = dtls_keys_derive(s);
	if (err)
		return err;

	if (!s->have_expect) {
		s->state = DTLS_ST_PENDING;
		return 0;
	}

	/* the fingerprint may have come after the certificate */
	if (!dtls_keys_match(s)) {
		reject(s);
		return EAUTH;
	}

	s->state = DTLS_ST_UP;

	return 0;
}


static int handshake(struct dtls_sess *s)
{
	int ret;

	s->state = DTLS_ST_HANDSHAKE;

	ret = mbedtls_ssl_handshake(&s->ssl);
	switch (ret) {

	case 0:
		return handshake_done(s);

	case MBEDTLS_ERR_SSL_WANT_READ:
	case MBEDTLS_ERR_SSL_WANT_WRITE:
		return 0;

	case MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED:
		return hello_verify_reset(s);

	default:
		dtls_io_log("DTLS handshake failed", ret);
		return dtls_io_err(ret);
	}
}


/* Owner released the session in a handler (we hold one reference) */
static bool gone(const struct dtls_sess *s)
{
	return s->state == DTLS_ST_CLOSED || mem_nrefs(s) < 2;
}


static void deliver(struct dtls_sess *s, struct mbuf *mb)
{
	/* data before the peer's fingerprint is known is dropped */
	if (s->state == DTLS_ST_UP && s->recvh && mbuf_get_left(mb))
		s->recvh(mb, s->arg);
}


/* A record larger than the stack buffer goes up whole, in one mbuf */
static int read_rest(struct dtls_sess *s, const uint8_t *head, size_t n)
{
	size_t avail = mbedtls_ssl_get_bytes_avail(&s->ssl);
	struct mbuf *mb = mbuf_alloc(n + avail);
	int ret;

	if (!mb)
		return ENOMEM;

	(void)mbuf_write_mem(mb, head, n);

	ret = mbedtls_ssl_read(&s->ssl, mb->buf + n, avail);
	if (ret == (int)avail) {
		mb->end = n + avail;
		mb->pos = 0;
		deliver(s, mb);
	}

	mem_deref(mb);

	return ret == (int)avail ? 0 : EPROTO;
}


static int read_one(struct dtls_sess *s, bool *more)
{
	uint8_t buf[READ_CHUNK];
	struct mbuf mb;
	int n;

	*more = false;

	n = mbedtls_ssl_read(&s->ssl, buf, sizeof(buf));
	if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
		return 0;

	/* a ClientHello with a valid cookie on an established session:
	   keep the session, the peer starts a new one through SDP */
	if (n == MBEDTLS_ERR_SSL_CLIENT_RECONNECT)
		return 0;

	if (n < 0) {
		if (n != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
			dtls_io_log("DTLS read failed", n);
		return dtls_io_err(n);
	}

	*more = true;

	if (mbedtls_ssl_get_bytes_avail(&s->ssl))
		return read_rest(s, buf, (size_t)n);

	mb.buf  = buf;
	mb.pos  = 0;
	mb.end  = (size_t)n;
	mb.size = sizeof(buf);
	deliver(s, &mb);

	return 0;
}


static void read_data(struct dtls_sess *s)
{
	bool more = true;
	int err;

	while (more && !gone(s)) {

		err = read_one(s, &more);
		if (err) {
			fail(s, err);
			return;
		}
	}
}


/**
 * Drive the handshake or read records; called holding a reference
 *
 * @param s DTLS session
 */
void dtls_io_process(struct dtls_sess *s)
{
	int err;

	if (s->state == DTLS_ST_IDLE || s->state == DTLS_ST_HANDSHAKE) {

		err = handshake(s);
		if (err) {
			fail(s, err);
			return;
		}

		if (s->state == DTLS_ST_UP && s->estabh)
			s->estabh(s->arg);
	}

	if (!gone(s) && s->state != DTLS_ST_HANDSHAKE)
		read_data(s);
}


/**
 * Give back the record buffers if nothing is pending (a lean session)
 *
 * @param s DTLS session
 */
void dtls_io_idle(struct dtls_sess *s)
{
	size_t before;

	if (!s->lean || s->state != DTLS_ST_UP)
		return;

	before = mbedtls_ssl_get_buffers_size(&s->ssl);
	(void)mbedtls_ssl_release_idle_buffers(&s->ssl);
	trim_note(before - mbedtls_ssl_get_buffers_size(&s->ssl));
}


static void verdict_h(void *arg)
{
	struct dtls_sess *s = arg;

	if (s->state != DTLS_ST_PENDING)
		return;

	if (s->verdict) {
		reject(s);
		fail(s, s->verdict);
		return;
	}

	s->state = DTLS_ST_UP;

	if (s->estabh)
		s->estabh(s->arg);
}


/**
 * Report a late fingerprint check from the main loop
 *
 * @param s   DTLS session (handshake over)
 * @param err 0 if the peer's certificate matched, otherwise errorcode
 */
void dtls_sess_verdict(struct dtls_sess *s, int err)
{
	s->verdict = err;
	tmr_start(&s->tmr_verdict, 0, verdict_h, s);
}

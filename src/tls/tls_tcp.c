/**
 * @file tls_tcp.c  TLS over a libre TCP connection, as a TCP helper
 *
 * Received ciphertext is buffered (bounded) and fed to mbedtls through
 * its BIO callbacks; plaintext replaces the ciphertext in the receive
 * buffer that libre hands to the layers above.
 *
 * An idle connection holds no record buffers: once everything received
 * has been read and everything written has left, mbedtls' input and
 * output buffers shrink to a few bytes (our mbedtls patch,
 * third_party/patches/mbedtls); mbedtls takes them back when the next
 * record moves.
 *
 * Record buffers and buffered ciphertext are charged to the process-wide
 * buffer budget (core/budget.h) before mbedtls or we can grow them: the
 * full record buffers (RECORD_BUFS) before any step that can take them
 * back, the ciphertext before it is appended; what is not held after
 * the step is given back. A server connection sets mbedtls up only once
 * its first record has arrived whole, so a slow handshake holds only the
 * bytes it sent. When the budget is spent, the holder that has held the
 * most longest is evicted (for a TLS connection: a fatal internal_error
 * alert, its buffers freed and the TCP shut down), or the requester is
 * refused the same way; both log "buffer_budget spent".
 */
#include <string.h>
#include <sys/socket.h>
#include <re.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include "tls.h"
#include "tlsx.h"
#include "../core/budget.h"
#include "../core/log.h"

#define LOG_MODULE "tls"

enum {
	RX_MAX    = 65536,   /* buffered ciphertext: > one full record  */
	READ_CHUNK = 4096,
	REC_HDR   = 5,       /* TLS record header                       */
	REC_MAX   = 16384 + 256,  /* largest TLSCiphertext length        */
	/* charged while the record buffers are out: both at full size
	   (16.7 KB + 8.5 KB) and room for a ClientHello in rx, so that all
	   connections that are moving records hold the same and the
	   longest-holding one can be evicted for a new one */
	RECORD_BUFS = MBEDTLS_SSL_IN_CONTENT_LEN +
		      MBEDTLS_SSL_OUT_CONTENT_LEN + 4096,
	BUFS_IDLE_MAX = 1024,     /* released: 64 bytes each way         */
};

struct tls_conn {
	mbedtls_ssl_context ssl;
	struct tls *tls;
	struct tcp_helper *th;
	struct tcp_conn *tcp;
	struct mbuf *rx;       /**< Ciphertext not yet consumed          */
	char *servername;
	struct budget_holder bh; /**< Record buffers and rx             */
	bool setup;
	bool verify;
	bool up;
	bool dead;             /**< Evicted or refused: buffers freed    */
};


static void destructor(void *arg)
{
	struct tls_conn *tc = arg;

	if (tc->up)
		(void)mbedtls_ssl_close_notify(&tc->ssl);

	mbedtls_ssl_free(&tc->ssl);
	budget_release(&tc->bh);
	mem_deref(tc->th);
	mem_deref(tc->tcp);
	mem_deref(tc->rx);
	mem_deref(tc->servername);
	mem_deref(tc->tls);
}


static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn *tc = ctx;
	struct mbuf mb;

	mb.buf  = (uint8_t *)buf;
	mb.pos  = 0;
	mb.end  = len;
	mb.size = len;

	if (tcp_send_helper(tc->tcp, &mb, tc->th))
		return MBEDTLS_ERR_NET_SEND_FAILED;

	return (int)len;
}


static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn *tc = ctx;
	size_t n;

	if (!tc->rx)
		return MBEDTLS_ERR_SSL_WANT_READ;

	n = min(len, mbuf_get_left(tc->rx));
	(void)mbuf_read_mem(tc->rx, buf, n);

	/* an idle connection holds no receive buffer */
	if (!mbuf_get_left(tc->rx))
		tc->rx = mem_deref(tc->rx);

	return (int)n;
}


static size_t rx_size(const struct tls_conn *tc)
{
	return tc->rx ? tc->rx->size : 0;
}


/* Give up the connection's buffers for the budget: a fatal alert if
   mbedtls is set up, then nothing is kept; the caller closes the TCP */
static void give_up(struct tls_conn *tc, const char *what)
{
	struct sa peer;

	sa_init(&peer, AF_UNSPEC);
	(void)tcp_conn_peer_get(tc->tcp, &peer);
	log_warn("%s TLS connection with %J: buffer_budget spent (%zu of "
		 "%zu bytes held, %zu by it): closing with a TLS alert", what,
		 &peer, budget_used(), budget_limit(), tc->bh.held);

	if (tc->setup)
		(void)mbedtls_ssl_send_alert_message(&tc->ssl,
				MBEDTLS_SSL_ALERT_LEVEL_FATAL,
				MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR);

	mbedtls_ssl_free(&tc->ssl);
	mbedtls_ssl_init(&tc->ssl);
	tc->rx = mem_deref(tc->rx);
	tc->setup = false;
	tc->up = false;
	tc->dead = true;
	budget_release(&tc->bh);
}


/* Another holder needs the room: a connection cannot keep going without
   its record buffers, so it ends; libre closes it when it reads the
   shut-down socket (this may run inside another connection's handler) */
static void evict(void *arg)
{
	struct tls_conn *tc = arg;

	if (tc->dead)
		return;

	give_up(tc, "evicting");
	(void)shutdown(tcp_conn_fd(tc->tcp), SHUT_RDWR);
}


/* What the record buffers (at full size if bufs, or if they are out)
   and the ciphertext buffer (rx bytes) can hold after the next step */
static size_t reckon(const struct tls_conn *tc, bool bufs, size_t rx)
{
	size_t b = tls_conn_bufsize(tc);

	if (bufs || b > BUFS_IDLE_MAX)
		return max(b + rx, (size_t)RECORD_BUFS);

	return b + rx;
}


/* Take it from the budget before the step */
static int charge(struct tls_conn *tc, bool bufs, size_t rx)
{
	size_t need = reckon(tc, bufs, rx);
	int err;

	if (tc->dead)
		return ENOSPC;

	if (need <= tc->bh.held)
		return 0;

	err = budget_take(&tc->bh, need - tc->bh.held);
	if (!err && tc->dead) {    /* evicted by an eviction it caused */
		budget_release(&tc->bh);
		err = ENOSPC;
	}
	if (err && !tc->dead)
		give_up(tc, "refusing");

	return err ? ENOSPC : 0;
}


/* Give back what the connection no longer holds */
static void settle(struct tls_conn *tc)
{
	size_t now = reckon(tc, false, rx_size(tc));

	if (now < tc->bh.held)
		budget_give(&tc->bh, tc->bh.held - now);
}


/* A server sets mbedtls up once the first record is here whole (or
   is not a handshake record, for mbedtls to refuse) */
static bool first_record(const struct mbuf *rx)
{
	const uint8_t *p;
	size_t len;

	if (!rx || mbuf_get_left(rx) < REC_HDR)
		return false;

	p = mbuf_buf(rx);
	len = (size_t)p[3] << 8 | p[4];

	return p[0] != 0x16 || len > REC_MAX ||
		mbuf_get_left(rx) >= REC_HDR + len;
}


/* The role is known only once libre reports who started the TCP
   connection, so the mbedtls context is set up then */
static int ssl_setup(struct tls_conn *tc, bool active)
{
	mbedtls_ssl_config *cfg = active ? &tc->tls->cli : &tc->tls->srv;

	if (tc->setup)
		return 0;

	if (mbedtls_ssl_setup(&tc->ssl, cfg))
		return ENOMEM;

	if (active && tc->servername &&
	    mbedtls_ssl_set_hostname(&tc->ssl, tc->servername))
		return ENOMEM;

	mbedtls_ssl_set_bio(&tc->ssl, tc, bio_send, bio_recv, NULL);
	tc->setup = true;

	return 0;
}


static int handshake(struct tls_conn *tc)
{
	int ret = mbedtls_ssl_handshake(&tc->ssl);

	if (ret == 0) {
		if (tc->verify && mbedtls_ssl_get_verify_result(&tc->ssl)) {
			tls_log_mbedtls("TLS peer verification failed",
					tc->tcp,
					MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
			return EAUTH;
		}

		tc->up = true;
		return 0;
	}

	if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
	    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return 0;

	tls_log_mbedtls("TLS handshake failed", tc->tcp, ret);

	return EPROTO;
}


/* Nothing pending in mbedtls: give its record buffers back */
static void idle(struct tls_conn *tc)
{
	if (!tc->up)
		return;

	(void)mbedtls_ssl_release_idle_buffers(&tc->ssl);
}


static bool estab_handler(int *err, bool active, void *arg)
{
	struct tls_conn *tc = arg;

	if (!active)
		return true;

	*err = charge(tc, true, 0);
	if (!*err)
		*err = ssl_setup(tc, true);
	if (!*err)
		*err = handshake(tc);

	return true;
}


/* Append received ciphertext, keeping unread bytes at the front */
static int rx_append(struct tls_conn *tc, struct mbuf *mb)
{
	size_t n = mbuf_get_left(mb);

	if (!n)
		return 0;

	if (!tc->rx) {
		tc->rx = mbuf_alloc(n);
		if (!tc->rx)
			return ENOMEM;
	}

	if (tc->rx->pos) {
		size_t left = mbuf_get_left(tc->rx);

		memmove(tc->rx->buf, mbuf_buf(tc->rx), left);
		tc->rx->pos = 0;
		tc->rx->end = left;
	}

	if (tc->rx->end + n > RX_MAX)
		return EOVERFLOW;

	/* exactly what it needs: the budget was charged its size + n */
	if (tc->rx->end + n > tc->rx->size &&
	    mbuf_resize(tc->rx, tc->rx->end + n))
		return ENOMEM;

	tc->rx->pos = tc->rx->end;
	if (mbuf_write_mem(tc->rx, mbuf_buf(mb), n))
		return ENOMEM;
	tc->rx->pos = 0;

	return 0;
}


static int read_plain(struct tls_conn *tc, struct mbuf *mb)
{
	mbuf_rewind(mb);

	for (;;) {
		int n;

		if (mbuf_get_space(mb) < READ_CHUNK &&
		    mbuf_resize(mb, mb->size + READ_CHUNK))
			return ENOMEM;

		n = mbuf_get_space(mb) > 0x7fffffff ? 0x7fffffff :
			(int)mbuf_get_space(mb);
		n = mbedtls_ssl_read(&tc->ssl, mbuf_buf(mb), n);
		if (n > 0) {
			mb->pos += n;
			continue;
		}

		if (n == MBEDTLS_ERR_SSL_WANT_READ ||
		    n == MBEDTLS_ERR_SSL_WANT_WRITE)
			break;

		/* TLS 1.3 post-handshake messages: nothing to hand up */
		if (n == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET ||
		    n == MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA)
			continue;

		if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == 0)
			return ECONNRESET;

		tls_log_mbedtls("TLS read failed", tc->tcp, n);
		return EPROTO;
	}

	mbuf_set_end(mb, mb->pos);
	mbuf_set_pos(mb, 0);

	return 0;
}


static bool recv_handler(int *err, struct mbuf *mb, bool *estab, void *arg)
{
	struct tls_conn *tc = arg;

	*err = charge(tc, false, rx_size(tc) +
		      mbuf_get_left(mb));
	if (!*err)
		*err = rx_append(tc, mb);
	if (*err)
		return true;

	if (!tc->setup && !first_record(tc->rx)) {
		settle(tc);
		return true;
	}

	*err = charge(tc, true, rx_size(tc));
	if (!*err)
		*err = ssl_setup(tc, false);
	if (*err)
		return true;

	if (!tc->up) {
		*err = handshake(tc);
		if (*err || !tc->up) {
			settle(tc);
			return true;
		}

		*estab = true;
	}

	*err = read_plain(tc, mb);
	if (!*err) {
		idle(tc);
		settle(tc);
	}

	/* not handled: libre then reports a new session to the owner and
	   passes on any plaintext */
	return *err != 0;
}


static bool send_handler(int *err, struct mbuf *mb, void *arg)
{
	struct tls_conn *tc = arg;

	if (!tc->up) {
		*err = tc->dead ? ENOSPC : ENOTCONN;
		return true;
	}

	*err = charge(tc, true, rx_size(tc));
	if (*err)
		return true;

	while (mbuf_get_left(mb)) {
		int n = mbedtls_ssl_write(&tc->ssl, mbuf_buf(mb),
					  mbuf_get_left(mb));
		if (n < 0) {
			tls_log_mbedtls("TLS write failed", tc->tcp, n);
			*err = EPROTO;
			break;
		}

		mb->pos += n;
	}

	idle(tc);
	settle(tc);

	return true;
}


/**
 * Start TLS on a TCP connection
 *
 * @param ptc   Returned TLS connection
 * @param tls   TLS context (holds a reference)
 * @param tcp   TCP connection
 * @param layer Protocol stack layer
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_start_tcp(struct tls_conn **ptc, struct tls *tls, struct tcp_conn *tcp,
		  int layer)
{
	struct tls_conn *tc;
	int err;

	if (!ptc || !tls || !tcp)
		return EINVAL;

	tc = mem_zalloc(sizeof(*tc), destructor);
	if (!tc)
		return ENOMEM;

	mbedtls_ssl_init(&tc->ssl);
	budget_holder_init(&tc->bh, evict, tc);
	tc->tls = mem_ref(tls);
	tc->tcp = mem_ref(tcp);

	err = tcp_register_helper(&tc->th, tcp, layer, estab_handler,
				  send_handler, recv_handler, tc);
	if (err)
		goto out;

 out:
	if (err)
		mem_deref(tc);
	else
		*ptc = tc;

	return err;
}


/**
 * Set the server name sent in SNI and checked in the certificate
 *
 * @param tc         TLS connection (client side, before the handshake)
 * @param servername Server name
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_set_servername(struct tls_conn *tc, const char *servername)
{
	if (!tc || !servername)
		return EINVAL;

	tc->servername = mem_deref(tc->servername);

	return str_dup(&tc->servername, servername);
}


/**
 * Require the server certificate to verify and to match a host
 *
 * @param tc   TLS connection
 * @param host Expected host name
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_set_verify_server(struct tls_conn *tc, const char *host)
{
	if (!tc || !host)
		return EINVAL;

	tc->verify = true;

	return tls_set_servername(tc, host);
}


/**
 * Same as tls_set_verify_server() (libre compatibility)
 *
 * @param tc       TLS connection
 * @param hostname Expected host name
 *
 * @return 0 if success, otherwise errorcode
 */
int tls_peer_set_verify_host(struct tls_conn *tc, const char *hostname)
{
	return tls_set_verify_server(tc, hostname);
}


/**
 * Check the result of peer certificate verification
 *
 * @param tc TLS connection
 *
 * @return 0 if the peer verified, otherwise errorcode
 */
int tls_peer_verify(const struct tls_conn *tc)
{
	if (!tc || !tc->up)
		return EINVAL;

	return mbedtls_ssl_get_verify_result(&tc->ssl) ? EAUTH : 0;
}


/**
 * Get the name of the negotiated cipher suite
 *
 * @param tc TLS connection
 *
 * @return Cipher suite name, or NULL
 */
const char *tls_cipher_name(const struct tls_conn *tc)
{
	if (!tc || !tc->up)
		return NULL;

	return mbedtls_ssl_get_ciphersuite(&tc->ssl);
}


/**
 * Tell whether the TLS handshake has completed
 *
 * @param tc TLS connection
 *
 * @return true if established
 */
bool tls_conn_established(const struct tls_conn *tc)
{
	return tc && tc->up;
}


/**
 * Get the bytes mbedtls' record buffers hold now (a few while idle)
 *
 * @param tc TLS connection
 *
 * @return Size of both record buffers
 */
size_t tls_conn_bufsize(const struct tls_conn *tc)
{
	if (!tc || !tc->setup)
		return 0;

	return mbedtls_ssl_get_buffers_size(&tc->ssl);
}


/**
 * Tell whether a TLS 1.3 connection holds no handshake state and no
 * unused TLS 1.2 transform (after an idle moment)
 *
 * @param tc TLS connection
 *
 * @return true if lean
 */
bool tls_conn_lean(const struct tls_conn *tc)
{
	if (!tc || !tc->up)
		return false;

	return !tc->ssl.MBEDTLS_PRIVATE(handshake) &&
		!tc->ssl.MBEDTLS_PRIVATE(transform_negotiate);
}

/**
 * @file dtls.c  Tests for the DTLS-SRTP session and the SRTP wrapper: a
 *               client and a server session in one process, datagrams
 *               passed between them from the main loop (never from inside
 *               a send handler), optionally dropped
 */
#include <string.h>
#include <re.h>
#include "tls/tls.h"
#include "tls/tlsx.h"
#include "tls/dtls.h"
#include "tls/dtls_int.h"
#include "srtp/srtp.h"
#include "test.h"

enum {
	KEY_MAX    = 46,
	GUARD_MS   = 60000,          /* ECDSA under qemu is slow */
	PKT_MAX    = 256,
};

struct pair;

struct peer {
	struct dtls_sess *s;
	struct tls *tls;
	struct peer *other;
	struct pair *pr;
	struct list q;               /* datagrams on their way to other */
	uint8_t first;               /* kind of the first datagram sent */
	uint8_t drop[4];             /* kinds to lose once each */
	unsigned sent;
	unsigned dropped;
	unsigned hello_frags;        /* ClientHello fragments sent */
	size_t hello_len;            /* ClientHello message length */
	bool hold_first;             /* send the first fragment last */
	struct mbuf *held;
	unsigned rx_count;           /* application data received */
	size_t rx_last;
	bool rx_bad;
	bool estab;
	bool closed;
	int close_err;
};

struct pair {
	struct peer cli, srv;
	struct tmr tmr;              /* delivery */
	struct tmr guard;
	uint8_t late_fp[32];         /* given to the server after the
					handshake, if late */
	bool late;
	int err;
};

struct dgram {
	struct le le;
	struct mbuf *mb;
};


static void dgram_destructor(void *arg)
{
	struct dgram *d = arg;

	list_unlink(&d->le);
	mem_deref(d->mb);
}


static void check_done(struct pair *pr)
{
	if ((pr->cli.estab || pr->cli.closed) &&
	    (pr->srv.estab || pr->srv.closed))
		re_cancel();
}


static bool deliver_one(struct peer *p)
{
	struct dgram *d = list_ledata(list_head(&p->q));

	if (!d)
		return false;

	list_unlink(&d->le);
	(void)dtls_sess_recv(p->other->s, mbuf_buf(d->mb),
			     mbuf_get_left(d->mb));
	mem_deref(d);

	return true;
}


static void deliver(void *arg)
{
	struct pair *pr = arg;

	while (deliver_one(&pr->cli) | deliver_one(&pr->srv))
		;
}


/* Kind of a datagram: handshake message type + 100 if its first record
   is a handshake, else the record's content type */
static uint8_t kind(const struct mbuf *mb)
{
	const uint8_t *p = mbuf_buf(mb);

	if (mbuf_get_left(mb) > 13 && p[0] == 22)
		return 100 + p[13];

	return mbuf_get_left(mb) ? p[0] : 0;
}


static bool drop(struct peer *p, const struct mbuf *mb)
{
	uint8_t k = kind(mb);
	size_t i;

	for (i = 0; i < sizeof(p->drop); i++) {

		if (p->drop[i] && p->drop[i] == k) {
			p->drop[i] = 0;
			return true;
		}
	}

	return false;
}


static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}


/* Count ClientHello fragments (one record per datagram) */
static void hello_count(struct peer *p, const struct mbuf *mb)
{
	const uint8_t *h = mbuf_buf(mb);

	if (kind(mb) != 100 + 1 || mbuf_get_left(mb) < 25)
		return;

	if (get24(h + 22) < get24(h + 14))
		++p->hello_frags;

	p->hello_len = get24(h + 14);
}


static int queue(struct peer *p, const struct mbuf *mb)
{
	struct dgram *d;

	d = mem_zalloc(sizeof(*d), dgram_destructor);
	if (!d)
		return ENOMEM;

	d->mb = mbuf_alloc(mbuf_get_left(mb));
	if (!d->mb) {
		mem_deref(d);
		return ENOMEM;
	}

	(void)mbuf_write_mem(d->mb, mbuf_buf(mb), mbuf_get_left(mb));
	d->mb->pos = 0;
	list_append(&p->q, &d->le, d);

	if (!tmr_isrunning(&p->pr->tmr))
		tmr_start(&p->pr->tmr, 0, deliver, p->pr);

	return 0;
}


/* The first ClientHello fragment is held back until the next datagram
   is sent: the server gets the fragments in reverse order */
static int hold(struct peer *p, struct mbuf *mb)
{
	const uint8_t *h = mbuf_buf(mb);
	int err;

	if (!p->held && p->hold_first && kind(mb) == 100 + 1 &&
	    mbuf_get_left(mb) >= 25 && get24(h + 19) == 0 &&
	    get24(h + 22) < get24(h + 14)) {
		p->hold_first = false;
		p->held = mbuf_alloc(mbuf_get_left(mb));
		if (!p->held)
			return ENOMEM;
		(void)mbuf_write_mem(p->held, h, mbuf_get_left(mb));
		p->held->pos = 0;
		return 0;
	}

	err = queue(p, mb);
	if (!err && p->held) {
		err = queue(p, p->held);
		p->held = mem_deref(p->held);
	}

	return err;
}


static int send_h(struct mbuf *mb, void *arg)
{
	struct peer *p = arg;

	if (!p->sent++)
		p->first = kind(mb);

	hello_count(p, mb);

	if (drop(p, mb)) {
		++p->dropped;
		return 0;
	}

	return hold(p, mb);
}


static void estab_h(void *arg)
{
	struct peer *p = arg;
	struct pair *pr = p->pr;

	p->estab = true;

	/* the server learns the client's a=fingerprint only now */
	if (p == &pr->cli && pr->late && !pr->err)
		pr->err = dtls_sess_set_peer_fingerprint(pr->srv.s,
			TLS_FINGERPRINT_SHA256, pr->late_fp,
			sizeof(pr->late_fp));

	check_done(pr);
}


static void recv_h(struct mbuf *mb, void *arg)
{
	struct peer *p = arg;
	size_t i;

	++p->rx_count;
	p->rx_last = mbuf_get_left(mb);

	for (i = 0; i < p->rx_last; i++)
		p->rx_bad |= mb->buf[mb->pos + i] != (uint8_t)i;

	if (p->other->rx_count && p->rx_count)
		re_cancel();
}


static void close_h(int err, void *arg)
{
	struct peer *p = arg;

	p->closed = true;
	p->close_err = err;
	check_done(p->pr);
}


static void guard_h(void *arg)
{
	struct pair *pr = arg;

	pr->err = ETIMEDOUT;
	re_cancel();
}


static int peer_alloc(struct peer *p, struct pair *pr, enum dtls_role role,
		      const char *cert, const char *key)
{
	int err;

	p->pr = pr;
	p->other = p == &pr->cli ? &pr->srv : &pr->cli;

	err = tls_alloc(&p->tls, TLS_METHOD_SSLV23, NULL, NULL);
	if (!err)
		err = tls_set_certificate_files(p->tls, test_datapath(cert),
						test_datapath(key), NULL);
	if (!err)
		err = dtls_sess_alloc(&p->s, p->tls, role, send_h, estab_h,
				      recv_h, close_h, p);

	return err;
}


static int pair_alloc(struct pair *pr, bool cookies)
{
	static const uint8_t clid[] = {127, 0, 0, 1, 0x13, 0x88};
	int err;

	memset(pr, 0, sizeof(*pr));

	err = peer_alloc(&pr->cli, pr, DTLS_CLIENT, "cert2.pem", "key2.pem");
	if (!err)
		err = peer_alloc(&pr->srv, pr, DTLS_SERVER, "cert.pem",
				 "key.pem");
	if (!err && cookies)
		err = dtls_sess_set_client_id(pr->srv.s, clid, sizeof(clid));

	return err;
}


/* Make p expect the certificate of tls */
static int expect_fp(struct peer *p, const struct tls *tls)
{
	uint8_t md[32];
	int err;

	err = tls_fingerprint(tls, TLS_FINGERPRINT_SHA256, md, sizeof(md));
	if (err)
		return err;

	return dtls_sess_set_peer_fingerprint(p->s, TLS_FINGERPRINT_SHA256,
					      md, sizeof(md));
}


static int loop(struct pair *pr)
{
	int err;

	tmr_start(&pr->guard, GUARD_MS, guard_h, pr);
	err = re_main(NULL);
	tmr_cancel(&pr->guard);

	return err ? err : pr->err;
}


static int pair_run(struct pair *pr)
{
	int err;

	err = dtls_sess_start(pr->cli.s);

	return err ? err : loop(pr);
}


static void peer_free(struct peer *p)
{
	p->s = mem_deref(p->s);
	p->held = mem_deref(p->held);
	list_flush(&p->q);
	p->tls = mem_deref(p->tls);
}


static void pair_free(struct pair *pr)
{
	tmr_cancel(&pr->tmr);
	tmr_cancel(&pr->guard);
	peer_free(&pr->cli);
	peer_free(&pr->srv);
}


static bool peer_fp_ok(const struct peer *p, enum tls_fingerprint type,
		       size_t len)
{
	uint8_t a[32], b[32];

	if (dtls_sess_peer_fingerprint(p->s, type, a, sizeof(a)) ||
	    tls_fingerprint(p->other->tls, type, b, sizeof(b)))
		return false;

	return 0 == memcmp(a, b, len);
}


static int keys_get(const struct peer *p, enum srtp_suite *suite,
		    uint8_t *cli, uint8_t *srv)
{
	return dtls_sess_srtp_keys(p->s, suite, cli, KEY_MAX, srv, KEY_MAX);
}


/* Application data both ways (a data channel's SCTP packets): a record
   larger than the session's read buffer arrives whole */
static int app_data(struct pair *pr)
{
	uint8_t buf[3000];
	size_t i;
	int err;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;

	TEST_EQ(dtls_sess_send(pr->cli.s, buf, sizeof(buf)), EMSGSIZE);
	dtls_sess_set_mtu(pr->cli.s, 4000);
	TEST_ERR(dtls_sess_send(pr->cli.s, buf, sizeof(buf)));
	TEST_ERR(dtls_sess_send(pr->srv.s, buf, 100));

	TEST_ERR(loop(pr));

	TEST_EQ(pr->srv.rx_count, 1);
	TEST_EQ(pr->srv.rx_last, sizeof(buf));
	TEST_EQ(pr->cli.rx_count, 1);
	TEST_EQ(pr->cli.rx_last, 100);
	TEST_ASSERT(!pr->srv.rx_bad && !pr->cli.rx_bad);

 out:
	return err;
}


/* (1) Handshake through a HelloVerifyRequest; both sides agree */
int test_dtls_handshake(void)
{
	uint8_t ck1[KEY_MAX], sk1[KEY_MAX], ck2[KEY_MAX], sk2[KEY_MAX];
	enum srtp_suite su1, su2;
	struct pair pr;
	size_t klen;
	int err;

	TEST_ERR(pair_alloc(&pr, true));
	TEST_ERR(expect_fp(&pr.cli, pr.srv.tls));
	TEST_ERR(expect_fp(&pr.srv, pr.cli.tls));
	TEST_ERR(pair_run(&pr));

	TEST_ASSERT(pr.cli.estab && pr.srv.estab);
	TEST_ASSERT(!pr.cli.closed && !pr.srv.closed);
	TEST_ASSERT(dtls_sess_established(pr.cli.s));
	TEST_EQ(dtls_sess_role(pr.srv.s), DTLS_SERVER);

	/* the server answered the first ClientHello with a
	   HelloVerifyRequest */
	TEST_EQ(pr.srv.first, 100 + 3);

	TEST_ASSERT(peer_fp_ok(&pr.cli, TLS_FINGERPRINT_SHA256, 32));
	TEST_ASSERT(peer_fp_ok(&pr.srv, TLS_FINGERPRINT_SHA256, 32));
	TEST_ASSERT(peer_fp_ok(&pr.srv, TLS_FINGERPRINT_SHA1, 20));

	TEST_ERR(keys_get(&pr.cli, &su1, ck1, sk1));
	TEST_ERR(keys_get(&pr.srv, &su2, ck2, sk2));
	TEST_EQ(su1, SRTP_AES_128_GCM);
	TEST_EQ(su2, su1);

	klen = srtpx_key_salt_len(su1);
	TEST_EQ(klen, 28);
	TEST_ASSERT(0 == memcmp(ck1, ck2, klen));
	TEST_ASSERT(0 == memcmp(sk1, sk2, klen));
	TEST_ASSERT(0 != memcmp(ck1, sk1, klen));

	/* too small a buffer */
	TEST_EQ(dtls_sess_srtp_keys(pr.cli.s, &su1, ck1, 27, sk1, KEY_MAX),
		EOVERFLOW);

	TEST_ERR(app_data(&pr));

 out:
	pair_free(&pr);
	return err;
}


/* (2) The client expects another certificate: it aborts the handshake;
   then a late fingerprint that does not match, on the server */
int test_dtls_bad_fingerprint(void)
{
	uint8_t ck[KEY_MAX], sk[KEY_MAX];
	enum srtp_suite su;
	struct pair pr;
	int err;

	TEST_ERR(pair_alloc(&pr, false));
	TEST_ERR(expect_fp(&pr.cli, pr.cli.tls));
	TEST_ERR(pair_run(&pr));

	TEST_ASSERT(!pr.cli.estab && !pr.srv.estab);
	TEST_ASSERT(pr.cli.closed && pr.srv.closed);
	TEST_EQ(pr.cli.close_err, EAUTH);
	TEST_ASSERT(pr.srv.close_err != 0);
	TEST_EQ(keys_get(&pr.cli, &su, ck, sk), ENOTCONN);
	TEST_EQ(keys_get(&pr.srv, &su, ck, sk), ENOTCONN);
	TEST_ASSERT(!dtls_sess_established(pr.cli.s));
	pair_free(&pr);

	/* the server learns a wrong fingerprint after the handshake */
	TEST_ERR(pair_alloc(&pr, false));
	TEST_ERR(expect_fp(&pr.cli, pr.srv.tls));
	TEST_ERR(tls_fingerprint(pr.srv.tls, TLS_FINGERPRINT_SHA256,
				 pr.late_fp, sizeof(pr.late_fp)));
	pr.late = true;
	TEST_ERR(pair_run(&pr));

	TEST_ASSERT(pr.cli.estab);
	TEST_ASSERT(!pr.srv.estab && pr.srv.closed);
	TEST_EQ(pr.srv.close_err, EAUTH);
	TEST_EQ(keys_get(&pr.srv, &su, ck, sk), ENOTCONN);

 out:
	pair_free(&pr);
	return err;
}


/* (3) Flights of each side are lost, the server's last one too:
   retransmission completes the handshake */
int test_dtls_loss(void)
{
	struct pair pr;
	int err;

	TEST_ERR(pair_alloc(&pr, true));
	TEST_ERR(expect_fp(&pr.cli, pr.srv.tls));
	TEST_ERR(expect_fp(&pr.srv, pr.cli.tls));
	dtls_sess_set_timeout(pr.cli.s, 100, 4000);
	dtls_sess_set_timeout(pr.srv.s, 100, 4000);

	/* client: its first ClientHello and its Certificate flight;
	   server: its first ServerHello flight and its ChangeCipherSpec/
	   Finished flight (resent when the client repeats its last one) */
	pr.cli.drop[0] = 100 + 1;
	pr.cli.drop[1] = 100 + 11;
	pr.srv.drop[0] = 100 + 2;
	pr.srv.drop[1] = 20;

	TEST_ERR(pair_run(&pr));

	TEST_ASSERT(pr.cli.estab && pr.srv.estab);
	TEST_EQ(pr.cli.dropped, 2);
	TEST_EQ(pr.srv.dropped, 2);

 out:
	pair_free(&pr);
	return err;
}


static const uint8_t rtp_pkt[28] = {
	0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad,
	0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab,
	0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
	0xab, 0xab, 0xab, 0xab
};

static const uint8_t rtcp_pkt[24] = {
	0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe,
	0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
	0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab
};


/* RTP and RTCP from tx to rx; a tampered and a replayed packet fail */
/* Bytes of authentication tag SRTP adds with a suite */
static size_t tag_len(enum srtp_suite su)
{
	return su == SRTP_AES_128_GCM || su == SRTP_AES_256_GCM ? 16 : 10;
}


static int srtp_flow(struct srtpx *tx, struct srtpx *rx, size_t tag)
{
	uint8_t buf[PKT_MAX], copy[PKT_MAX];
	size_t len = sizeof(rtp_pkt), clen;
	int err;

	memcpy(buf, rtp_pkt, len);
	TEST_EQ(srtpx_protect(tx, buf, &len, len + tag - 1), ENOBUFS);
	TEST_ERR(srtpx_protect(tx, buf, &len, sizeof(buf)));
	TEST_EQ(len, sizeof(rtp_pkt) + tag);
	memcpy(copy, buf, len);
	clen = len;

	/* a failed AES-GCM check leaves the buffer zeroed (mbedtls_gcm_*):
	   the good packet again from the copy */
	buf[20] ^= 0x01;
	TEST_EQ(srtpx_unprotect(rx, buf, &len), EAUTH);
	memcpy(buf, copy, clen);
	len = clen;
	TEST_ERR(srtpx_unprotect(rx, buf, &len));
	TEST_EQ(len, sizeof(rtp_pkt));
	TEST_ASSERT(0 == memcmp(buf, rtp_pkt, len));

	TEST_EQ(srtpx_unprotect(rx, copy, &clen), EALREADY);

	len = sizeof(rtcp_pkt);
	memcpy(buf, rtcp_pkt, len);
	TEST_ERR(srtpx_protect_rtcp(tx, buf, &len, sizeof(buf)));
	TEST_EQ(len, sizeof(rtcp_pkt) + 4 + tag);
	memcpy(copy, buf, len);
	clen = len;
	TEST_ERR(srtpx_unprotect_rtcp(rx, buf, &len));
	TEST_ASSERT(len == sizeof(rtcp_pkt) && !memcmp(buf, rtcp_pkt, len));
	TEST_EQ(srtpx_unprotect_rtcp(rx, copy, &clen), EALREADY);

 out:
	return err;
}


static const uint8_t junk[40] = {
	23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 27,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
	19, 20, 21, 22, 23, 24, 25, 26, 27
};


/* (4) SRTP both ways with the exported keys; the server is given the
   client's fingerprint only after the handshake, without cookies */
int test_dtls_srtp(void)
{
	uint8_t ck[KEY_MAX], sk[KEY_MAX], ck2[KEY_MAX], sk2[KEY_MAX];
	struct srtpx *cli = NULL, *srv = NULL;
	enum srtp_suite su, su2;
	struct pair pr;
	int err;

	TEST_ERR(pair_alloc(&pr, false));
	TEST_ERR(expect_fp(&pr.cli, pr.srv.tls));
	TEST_ERR(tls_fingerprint(pr.cli.tls, TLS_FINGERPRINT_SHA256,
				 pr.late_fp, sizeof(pr.late_fp)));
	pr.late = true;
	TEST_ERR(pair_run(&pr));
	TEST_ASSERT(pr.cli.estab && pr.srv.estab);

	/* a forged application data record is dropped, nothing more */
	TEST_ERR(dtls_sess_recv(pr.srv.s, junk, sizeof(junk)));
	TEST_ASSERT(dtls_sess_established(pr.srv.s) && !pr.srv.rx_count);

	TEST_ERR(keys_get(&pr.cli, &su, ck, sk));
	TEST_ERR(keys_get(&pr.srv, &su2, ck2, sk2));
	TEST_EQ(su2, su);

	TEST_ERR(srtpx_alloc(&cli, su, ck, sk));
	TEST_ERR(srtpx_alloc(&srv, su2, sk2, ck2));

	TEST_ERR(srtp_flow(cli, srv, tag_len(su)));
	TEST_ERR(srtp_flow(srv, cli, tag_len(su)));

 out:
	mem_deref(srv);
	mem_deref(cli);
	pair_free(&pr);
	return err;
}


/* Chromium's use_srtp list (its ClientHello, Chromium 156): AES-CM
   first, then AEAD_AES_256_GCM, AEAD_AES_128_GCM */
static const mbedtls_ssl_srtp_profile chromium_list[] = {
	MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80,
	MBEDTLS_TLS_SRTP_AEAD_AES_256_GCM,
	MBEDTLS_TLS_SRTP_AEAD_AES_128_GCM,
	MBEDTLS_TLS_SRTP_UNSET
};

static const mbedtls_ssl_srtp_profile gcm256_list[] = {
	MBEDTLS_TLS_SRTP_AEAD_AES_256_GCM,
	MBEDTLS_TLS_SRTP_UNSET
};

/** One side's SRTP profiles: the default list, without GCM, or a list of
    its own (a peer that is not imsedge) */
struct side {
	bool no_gcm;
	const mbedtls_ssl_srtp_profile *list;
};

static int side_set(struct peer *p, const struct side *sd)
{
	/* a list of its own: on the session's configuration once it
	   exists (each peer here has a tls, so nothing else shares it) */
	if (sd->list)
		return dtls_ready(p->s) ||
			mbedtls_ssl_conf_dtls_srtp_protection_profiles(
				&p->s->conf->conf, sd->list) ? EINVAL : 0;

	return sd->no_gcm ? dtls_sess_set_srtp_gcm(p->s, false) : 0;
}


/* A handshake with those profiles; both ends agree on the suite and the
   keys, which protect SRTP both ways */
static int profiles_run(const struct side *cli, const struct side *srv,
			enum srtp_suite *su)
{
	uint8_t ck[KEY_MAX], sk[KEY_MAX], ck2[KEY_MAX], sk2[KEY_MAX];
	struct srtpx *c = NULL, *s = NULL;
	enum srtp_suite su2;
	struct pair pr;
	int err;

	TEST_ERR(pair_alloc(&pr, true));
	TEST_ERR(expect_fp(&pr.cli, pr.srv.tls));
	TEST_ERR(expect_fp(&pr.srv, pr.cli.tls));
	TEST_ERR(side_set(&pr.cli, cli));
	TEST_ERR(side_set(&pr.srv, srv));
	TEST_ERR(pair_run(&pr));
	TEST_ASSERT(pr.cli.estab && pr.srv.estab);

	TEST_ERR(keys_get(&pr.cli, su, ck, sk));
	TEST_ERR(keys_get(&pr.srv, &su2, ck2, sk2));
	TEST_EQ(su2, *su);
	TEST_ASSERT(!memcmp(ck, ck2, srtpx_key_salt_len(*su)));
	TEST_ASSERT(!memcmp(sk, sk2, srtpx_key_salt_len(*su)));

	TEST_ERR(srtpx_alloc(&c, *su, ck, sk));
	TEST_ERR(srtpx_alloc(&s, su2, sk2, ck2));
	TEST_ERR(srtp_flow(c, s, tag_len(*su)));
	TEST_ERR(srtp_flow(s, c, tag_len(*su)));

	/* the lists are fixed once the handshake has begun */
	TEST_EQ(dtls_sess_set_srtp_gcm(pr.cli.s, false), EALREADY);
	TEST_EQ(dtls_sess_set_srtp_gcm(pr.srv.s, false), EALREADY);

 out:
	mem_deref(s);
	mem_deref(c);
	pair_free(&pr);
	return err;
}


/* (4b) RFC 7714 AES-GCM profiles (third_party/patches/mbedtls/0004):
   AEAD_AES_128_GCM wherever both ends have it, as client and as server,
   whatever the client's order; AES_CM_128_HMAC_SHA1_80 with a peer
   without GCM, in either role */
int test_dtls_srtp_gcm(void)
{
	static const struct side dflt = {false, NULL};
	static const struct side cm = {true, NULL};
	static const struct side chromium = {false, chromium_list};
	static const struct side gcm256 = {false, gcm256_list};
	enum srtp_suite su;
	int err;

	/* imsedge both ends */
	TEST_ERR(profiles_run(&dflt, &dflt, &su));
	TEST_EQ(su, SRTP_AES_128_GCM);

	/* imsedge server, Chromium's list: the server's preference wins
	   (unpatched mbedtls took the client's first, AES-CM) */
	TEST_ERR(profiles_run(&chromium, &dflt, &su));
	TEST_EQ(su, SRTP_AES_128_GCM);

	/* imsedge client, a server with AES-256-GCM only: 32-byte key,
	   12-byte salt */
	TEST_ERR(profiles_run(&dflt, &gcm256, &su));
	TEST_EQ(su, SRTP_AES_256_GCM);
	TEST_EQ(srtpx_key_salt_len(su), 44);

	/* fallback: a client, then a server, without GCM */
	TEST_ERR(profiles_run(&cm, &dflt, &su));
	TEST_EQ(su, SRTP_AES_CM_128_HMAC_SHA1_80);
	TEST_ERR(profiles_run(&dflt, &cm, &su));
	TEST_EQ(su, SRTP_AES_CM_128_HMAC_SHA1_80);

 out:
	return err;
}


/* ALPN names that make a ClientHello post-quantum sized: six of 240
   bytes, over 1,400 bytes in all (the server ignores them) */
static char alpn_name[241];
static const char *alpn_list[] = {
	alpn_name, alpn_name, alpn_name, alpn_name, alpn_name, alpn_name,
	NULL
};


static int hello_big(struct peer *cli)
{
	memset(alpn_name, 'a', sizeof(alpn_name) - 1);

	/* the option is a configuration's (the client's tls's shared one,
	   only this session uses it): set it up again after */
	if (dtls_ready(cli->s) ||
	    mbedtls_ssl_conf_alpn_protocols(&cli->s->conf->conf, alpn_list))
		return EINVAL;

	return mbedtls_ssl_session_reset(&cli->s->ssl) ? ENOMEM : 0;
}


static int frag_run(bool cookies, bool reorder)
{
	uint8_t ck[KEY_MAX], sk[KEY_MAX], ck2[KEY_MAX], sk2[KEY_MAX];
	enum srtp_suite su, su2;
	struct pair pr;
	int err;

	TEST_ERR(pair_alloc(&pr, cookies));
	TEST_ERR(hello_big(&pr.cli));
	TEST_ERR(expect_fp(&pr.cli, pr.srv.tls));
	TEST_ERR(expect_fp(&pr.srv, pr.cli.tls));
	pr.cli.hold_first = reorder;
	TEST_ERR(pair_run(&pr));

	TEST_ASSERT(pr.cli.estab && pr.srv.estab);
	TEST_ASSERT(pr.cli.hello_len > 1400);

	/* two fragments, twice with the cookie exchange */
	TEST_EQ(pr.cli.hello_frags, cookies ? 4u : 2u);
	if (cookies)
		TEST_EQ(pr.srv.first, 100 + 3);

	TEST_ERR(keys_get(&pr.cli, &su, ck, sk));
	TEST_ERR(keys_get(&pr.srv, &su2, ck2, sk2));
	TEST_EQ(su, su2);
	TEST_ASSERT(!memcmp(ck, ck2, srtpx_key_salt_len(su)));
	TEST_ASSERT(!memcmp(sk, sk2, srtpx_key_salt_len(su)));

 out:
	pair_free(&pr);
	return err;
}


/* (5) A fragmented, post-quantum-sized ClientHello (over 1,400 bytes in
   two records of two datagrams, as current Firefox and Chrome send):
   mbedtls reassembles it; with and without HelloVerifyRequest, the
   fragments in order and reversed (D-32) */
int test_dtls_frag_hello(void)
{
	int err;

	TEST_ERR(frag_run(false, false));
	TEST_ERR(frag_run(true, false));
	TEST_ERR(frag_run(false, true));
	TEST_ERR(frag_run(true, true));

 out:
	return err;
}


static size_t bufsize(const struct peer *p)
{
	return mbedtls_ssl_get_buffers_size(&p->s->ssl);
}


/* (6) After the peer's first SRTP packet (issue 13): the server frees
   the state it kept to resend its last flight, both drop the peer's
   parsed certificate and release their record buffers while idle and
   take them back for data both ways, a ClientHello of a new association (answered with a HelloVerifyRequest)
   and the peer's close alert (D-32) */
int test_dtls_lean(void)
{
	struct peer cli2;
	struct dgram *d;
	struct pair pr;
	int err;

	memset(&cli2, 0, sizeof(cli2));

	TEST_ERR(pair_alloc(&pr, true));
	TEST_ERR(expect_fp(&pr.cli, pr.srv.tls));
	TEST_ERR(expect_fp(&pr.srv, pr.cli.tls));
	TEST_ERR(pair_run(&pr));
	TEST_ASSERT(pr.cli.estab && pr.srv.estab);

	/* the server sent the last flight and keeps it; 25 KB of buffers */
	TEST_ASSERT(pr.srv.s->ssl.MBEDTLS_PRIVATE(handshake) != NULL);
	TEST_ASSERT(bufsize(&pr.srv) > 16384);

	TEST_ASSERT(pr.srv.s->ssl.MBEDTLS_PRIVATE(session)->
		    MBEDTLS_PRIVATE(peer_cert) != NULL);
	dtls_sess_peer_keyed(pr.cli.s, true);
	dtls_sess_peer_keyed(pr.srv.s, true);
	TEST_ASSERT(pr.srv.s->ssl.MBEDTLS_PRIVATE(handshake) == NULL);
	/* nor the peer's parsed certificate (its fingerprints are kept) */
	TEST_ASSERT(pr.srv.s->ssl.MBEDTLS_PRIVATE(session)->
		    MBEDTLS_PRIVATE(peer_cert) == NULL);
	TEST_ASSERT(pr.cli.s->ssl.MBEDTLS_PRIVATE(session)->
		    MBEDTLS_PRIVATE(peer_cert) == NULL);
	TEST_ASSERT(bufsize(&pr.cli) <= 128);
	TEST_ASSERT(bufsize(&pr.srv) <= 128);

	TEST_ERR(app_data(&pr));
	TEST_ASSERT(bufsize(&pr.cli) <= 128);
	TEST_ASSERT(bufsize(&pr.srv) <= 128);

	/* a new association's ClientHello from the same address */
	TEST_ERR(peer_alloc(&cli2, &pr, DTLS_CLIENT, "cert2.pem",
			    "key2.pem"));
	cli2.other = &pr.srv;
	TEST_ERR(dtls_sess_start(cli2.s));
	list_flush(&pr.srv.q);
	TEST_ASSERT(deliver_one(&cli2));
	d = list_ledata(list_head(&pr.srv.q));
	TEST_ASSERT(d);
	TEST_EQ(kind(d->mb), 100 + 3);
	TEST_ASSERT(dtls_sess_established(pr.srv.s) && !pr.srv.closed);
	TEST_ASSERT(bufsize(&pr.srv) <= 128);
	list_flush(&pr.srv.q);       /* the HelloVerifyRequest */

	/* the old association's close alert still decrypts */
	TEST_ASSERT(0 == mbedtls_ssl_close_notify(&pr.cli.s->ssl));
	TEST_ERR(loop(&pr));
	TEST_ASSERT(pr.srv.closed);
	TEST_EQ(pr.srv.close_err, ECONNRESET);

 out:
	peer_free(&cli2);
	pair_free(&pr);
	return err;
}


static int null_send_h(struct mbuf *mb, void *arg)
{
	(void)mb;
	(void)arg;
	return 0;
}


/* Sessions of one tls share its mbedtls configuration per role (a
   server's with cookies is another one); a session with its own
   handshake timeouts has its own; nothing of mbedtls' is set up before
   the handshake starts; the shared configuration goes with the last
   session that used it */
int test_dtls_shared_conf(void)
{
	struct dtls_sess *s2 = NULL, *s3 = NULL;
	struct tls *cli_tls = NULL;
	struct pair pr;
	int err;

	TEST_ERR(pair_alloc(&pr, false));
	TEST_ERR(expect_fp(&pr.cli, pr.srv.tls));
	TEST_ERR(expect_fp(&pr.srv, pr.cli.tls));
	TEST_ASSERT(pr.cli.s->conf == NULL && !pr.cli.s->ready);
	TEST_ASSERT(pr.cli.s->ssl.MBEDTLS_PRIVATE(in_buf) == NULL);
	TEST_ERR(pair_run(&pr));
	TEST_ASSERT(pr.cli.estab && pr.srv.estab);
	TEST_ASSERT(pr.srv.s->conf == pr.srv.tls->dtls_conf[1]);
	TEST_ASSERT(pr.cli.s->conf == pr.cli.tls->dtls_conf[0]);

	TEST_ERR(dtls_sess_alloc(&s2, pr.cli.tls, DTLS_CLIENT, null_send_h,
				 NULL, NULL, NULL, NULL));
	TEST_ERR(dtls_sess_alloc(&s3, pr.cli.tls, DTLS_CLIENT, null_send_h,
				 NULL, NULL, NULL, NULL));
	dtls_sess_set_timeout(s3, 100, 800);
	TEST_ERR(dtls_sess_start(s2));
	TEST_ERR(dtls_sess_start(s3));
	TEST_ASSERT(s2->conf == pr.cli.s->conf);
	TEST_ASSERT(s3->conf != pr.cli.s->conf && s3->conf->slot == NULL);
	TEST_ASSERT(s2->ssl.MBEDTLS_PRIVATE(in_buf) != NULL);

	/* a client id after the handshake started: refused */
	TEST_EQ(dtls_sess_set_client_id(pr.srv.s, (const uint8_t *)"ab", 2),
		EPROTO);

	cli_tls = mem_ref(pr.cli.tls);
	s3 = mem_deref(s3);
	s2 = mem_deref(s2);
	TEST_ASSERT(cli_tls->dtls_conf[0] != NULL);
	pair_free(&pr);
	TEST_ASSERT(cli_tls->dtls_conf[0] == NULL);

 out:
	mem_deref(s2);
	mem_deref(s3);
	mem_deref(cli_tls);
	pair_free(&pr);
	return err;
}

/**
 * @file agw.c  Tests for the eIMS-AGW media plane over real loopback UDP:
 *              the "browser" is a dtls_sess + srtpx behind a UDP socket
 *              that sends hand-built STUN checks, the "core" plain UDP
 *              sockets
 *
 * Ports come from a range picked by the process id, so that boards run
 * at the same time do not collide; a port in use elsewhere is skipped
 * by the AGW anyway. DTLS handshakes are few (ECDSA is slow under qemu).
 */
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/socket.h>
#include <netinet/in.h>
#include <re.h>
#include "net/net.h"
#include "tls/tlsx.h"
#include "tls/dtls.h"
#include "srtp/srtp.h"
#include "agw/agw.h"
#include "agw/agw_int.h"
#include "test.h"

enum {
	GUARD_MS = 20000,
	POLL_MS  = 2,
	PKT      = 256,
	DSCP_EF  = 46,
	PT       = 111,
	SSRC     = 0x11223344,
};

static const char br_ufrag[] = "brUfrag1";
static const char br_pwd[]   = "browserPassword0123456789";

/* What a wait waits for */
enum until {
	U_STUN,                      /* br.stun_rx >= want */
	U_DTLS,                      /* both sides keyed */
	U_RTP,                       /* rtp.rx >= want */
	U_RTCP,
	U_RTP2,                      /* rtp2.rx >= want */
	U_BR_RX,                     /* br.rx >= want */
	U_STAT,                      /* a stats counter >= want */
	U_CLOSED,
};

struct browser {
	struct udp_sock *us;
	struct sa addr;
	struct sa agw;               /* the AGW's candidate */
	struct tls *tls;
	struct dtls_sess *dtls;
	struct srtpx *srtp;
	char rufrag[33];             /* the AGW's */
	char rpwd[65];
	unsigned stun_rx;
	unsigned stun_ok;            /* success with good MI and FP */
	uint16_t scode;              /* last error code */
	struct sa mapped;
	unsigned rx;                 /* SRTP that decrypted */
	uint8_t buf[PKT];
	size_t len;
	bool estab;
	bool closed;
};

struct sock {
	struct udp_sock *us;
	struct sa addr;
	unsigned rx;
	uint8_t buf[PKT];
	size_t len;
};

struct fix {
	struct tls *tls;
	struct agw *agw;
	struct agw_sess *s;
	struct agw_w3_info wi;
	struct agw_stream_info si;
	struct browser br;
	struct sock rtp, rtcp, rtp2;
	bool closed;
	bool free_on_close;          /* closeh frees the session */
	enum agw_close_reason reason;
	uint64_t close_ts;
	enum until until;
	uint64_t want;
	size_t stat_off;
	struct tmr poll, guard;
	bool timeout;
};

static const uint8_t rtp_pkt[32] = {
	0x80, PT, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0,
	0x11, 0x22, 0x33, 0x44, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	11, 12, 13, 14, 15, 16, 17, 18, 19, 20
};

static const uint8_t rtcp_pkt[8] = {
	0x80, 0xc9, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44
};


static uint16_t port_base(void)
{
	return (uint16_t)(20000 + (getpid() % 120) * 100);
}


static void conf_std(struct agw_conf *c)
{
	memset(c, 0, sizeof(*c));
	(void)sa_set_str(&c->media_listen, "127.0.0.1", 0);
	(void)sa_set_str(&c->media_core_addr, "127.0.0.1", 0);
	c->port_min = port_base();
	c->port_max = c->port_min + 95;
	c->max_calls = 4;
	c->dscp = DSCP_EF;
	c->consent_timeout = 30;
}


/* --- waiting in the main loop --------------------------------------- */

static uint64_t stat_get(const struct fix *f)
{
	struct agw_stats st;

	memset(&st, 0, sizeof(st));
	(void)agw_sess_stats(f->s, 0, &st);

	return *(const uint64_t *)(const void *)((const uint8_t *)&st +
						  f->stat_off);
}


static bool done(const struct fix *f)
{
	const struct agw_w3 *w3;

	switch (f->until) {

	case U_STUN:   return f->br.stun_rx >= f->want;
	case U_RTP:    return f->rtp.rx >= f->want;
	case U_RTCP:   return f->rtcp.rx >= f->want;
	case U_RTP2:   return f->rtp2.rx >= f->want;
	case U_BR_RX:  return f->br.rx >= f->want;
	case U_STAT:   return stat_get(f) >= f->want;
	case U_CLOSED: return f->closed;
	case U_DTLS:
		w3 = agw_sess_w3(f->s, 0);
		return f->br.srtp && w3 && w3->srtp;
	default:       return true;
	}
}


static void poll_h(void *arg)
{
	struct fix *f = arg;

	if (done(f))
		re_cancel();
	else
		tmr_start(&f->poll, POLL_MS, poll_h, f);
}


static void guard_h(void *arg)
{
	struct fix *f = arg;

	f->timeout = true;
	re_cancel();
}


static int wait_for(struct fix *f, enum until until, uint64_t want,
		    uint32_t ms)
{
	int err;

	f->until = until;
	f->want = want;
	if (done(f))
		return 0;

	f->timeout = false;
	tmr_start(&f->poll, POLL_MS, poll_h, f);
	tmr_start(&f->guard, ms, guard_h, f);
	err = re_main(NULL);
	tmr_cancel(&f->poll);
	tmr_cancel(&f->guard);

	if (err)
		return err;

	return f->timeout ? ETIMEDOUT : 0;
}


static int wait_stat(struct fix *f, size_t off, uint64_t want)
{
	f->stat_off = off;

	return wait_for(f, U_STAT, want, GUARD_MS);
}


/* Run the loop for a while: what is waited for must not happen */
static int expect_nothing(struct fix *f, enum until until, uint64_t want,
			  uint32_t ms)
{
	int err = wait_for(f, until, want, ms);

	return err == ETIMEDOUT ? 0 : err ? err : EALREADY;
}


/* --- the browser ---------------------------------------------------- */

static void br_stun(struct browser *b, struct mbuf *mb)
{
	struct stun_msg *msg;
	struct stun_attr *a;

	if (stun_msg_decode(&msg, mb, NULL))
		return;

	++b->stun_rx;

	if (stun_msg_class(msg) == STUN_CLASS_ERROR_RESP) {
		a = stun_msg_attr(msg, STUN_ATTR_ERR_CODE);
		b->scode = a ? a->v.err_code.code : 999;
	}
	else if (stun_msg_class(msg) == STUN_CLASS_SUCCESS_RESP &&
		 !stun_msg_chk_mi(msg, (uint8_t *)b->rpwd, strlen(b->rpwd)) &&
		 !stun_msg_chk_fingerprint(msg)) {
		a = stun_msg_attr(msg, STUN_ATTR_XOR_MAPPED_ADDR);
		if (a)
			b->mapped = a->v.xor_mapped_addr;
		++b->stun_ok;
	}

	mem_deref(msg);
}


static void br_srtp(struct browser *b, const uint8_t *p, size_t n)
{
	uint8_t buf[PKT];
	size_t len = n;

	if (!b->srtp || n > sizeof(buf))
		return;

	memcpy(buf, p, n);
	if (srtpx_unprotect(b->srtp, buf, &len))
		return;

	memcpy(b->buf, buf, len);
	b->len = len;
	++b->rx;
}


static void br_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct browser *b = arg;
	const uint8_t *p = mbuf_buf(mb);
	size_t n = mbuf_get_left(mb);

	if (!n || !sa_cmp(src, &b->agw, SA_ALL))
		return;

	if (p[0] <= 3)
		br_stun(b, mb);
	else if (p[0] >= 20 && p[0] <= 63 && b->dtls)
		(void)dtls_sess_recv(b->dtls, p, n);
	else if (p[0] >= 128 && p[0] <= 191)
		br_srtp(b, p, n);
}


static int br_send_h(struct mbuf *mb, void *arg)
{
	struct browser *b = arg;

	return udp_send(b->us, &b->agw, mb);
}


static void br_estab_h(void *arg)
{
	struct browser *b = arg;
	uint8_t ck[46], sk[46];
	enum srtp_suite suite;
	bool cli = dtls_sess_role(b->dtls) == DTLS_CLIENT;

	b->estab = true;

	if (dtls_sess_srtp_keys(b->dtls, &suite, ck, sizeof(ck), sk,
				sizeof(sk)))
		return;

	(void)srtpx_alloc(&b->srtp, suite, cli ? ck : sk, cli ? sk : ck);
}


static void br_close_h(int err, void *arg)
{
	struct browser *b = arg;

	(void)err;
	b->closed = true;
}


static int br_dtls(struct fix *f, enum dtls_role role)
{
	struct browser *b = &f->br;
	uint8_t md[32];
	int err;

	err = dtls_sess_alloc(&b->dtls, b->tls, role, br_send_h, br_estab_h,
			      NULL, br_close_h, b);
	if (!err)
		err = tls_fingerprint(f->tls, TLS_FINGERPRINT_SHA256, md,
				      sizeof(md));
	if (!err)
		err = dtls_sess_set_peer_fingerprint(b->dtls,
			TLS_FINGERPRINT_SHA256, md, sizeof(md));
	if (!err)
		dtls_sess_set_timeout(b->dtls, 100, 800);

	return err;
}


/* A connectivity check as a browser (controlling) sends it */
static int br_check_from(struct browser *b, struct udp_sock *us,
			 const char *pwd, const char *lufrag, bool use_cand)
{
	uint32_t prio = 0x6e001eff;
	uint64_t tiebrk = 0x0123456789abcdefULL;
	uint8_t tid[12];
	char user[80];
	struct mbuf *mb;
	int err;

	mb = mbuf_alloc(256);
	if (!mb)
		return ENOMEM;

	rand_bytes(tid, sizeof(tid));
	(void)re_snprintf(user, sizeof(user), "%s:%s", b->rufrag, lufrag);

	err = stun_msg_encode(mb, STUN_METHOD_BINDING, STUN_CLASS_REQUEST,
			      tid, NULL, (const uint8_t *)pwd, strlen(pwd),
			      true, 0, 4,
			      STUN_ATTR_USERNAME, user,
			      STUN_ATTR_PRIORITY, &prio,
			      STUN_ATTR_CONTROLLING, &tiebrk,
			      STUN_ATTR_USE_CAND, use_cand ? &use_cand : NULL);
	if (!err) {
		mb->pos = 0;
		err = udp_send(us, &b->agw, mb);
	}

	mem_deref(mb);
	return err;
}


static int br_check(struct fix *f, bool use_cand)
{
	unsigned n = f->br.stun_rx;
	int err;

	err = br_check_from(&f->br, f->br.us, f->br.rpwd, br_ufrag,
			    use_cand);

	return err ? err : wait_for(f, U_STUN, n + 1, GUARD_MS);
}


/* RTP or RTCP, as SRTP from the browser */
static int br_send_srtp(struct browser *b, const uint8_t *p, size_t n,
			bool rtcp)
{
	uint8_t buf[PKT];
	size_t len = n;
	struct mbuf mb;
	int err;

	memcpy(buf, p, n);
	err = rtcp ? srtpx_protect_rtcp(b->srtp, buf, &len, sizeof(buf)) :
		srtpx_protect(b->srtp, buf, &len, sizeof(buf));
	if (err)
		return err;

	mb.buf = buf;
	mb.size = sizeof(buf);
	mb.pos = 0;
	mb.end = len;

	return udp_send(b->us, &b->agw, &mb);
}


/* --- the core and the fixture --------------------------------------- */

static void sock_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct sock *k = arg;

	(void)src;
	k->len = min(mbuf_get_left(mb), sizeof(k->buf));
	memcpy(k->buf, mbuf_buf(mb), k->len);
	++k->rx;
}


static int sock_open_at(struct sock *k, const char *addr, udp_recv_h *rh,
			void *arg)
{
	struct sa laddr;
	int err;

	(void)sa_set_str(&laddr, addr, 0);

	err = udp_listen(&k->us, &laddr, rh, arg);
	if (!err)
		err = udp_local_get(k->us, &k->addr);

	return err;
}


static int sock_open(struct sock *k, udp_recv_h *rh, void *arg)
{
	return sock_open_at(k, "127.0.0.1", rh, arg);
}


static int sock_send(struct sock *k, const struct sa *dst, const uint8_t *p,
		     size_t n)
{
	struct mbuf mb;

	mb.buf = (uint8_t *)p;
	mb.size = n;
	mb.pos = 0;
	mb.end = n;

	return udp_send(k->us, dst, &mb);
}


static void close_h(enum agw_close_reason reason, void *arg)
{
	struct fix *f = arg;

	f->closed = true;
	f->reason = reason;
	f->close_ts = tmr_jiffies();

	if (f->free_on_close)
		f->s = mem_deref(f->s);
}


static int tls_load(struct tls **tlsp, const char *cert, const char *key)
{
	int err;

	err = tls_alloc(tlsp, TLS_METHOD_SSLV23, NULL, NULL);
	if (!err)
		err = tls_set_certificate_files(*tlsp, test_datapath(cert),
						test_datapath(key), NULL);

	return err;
}


static int fix_open(struct fix *f, const struct agw_conf *conf)
{
	int err;

	memset(f, 0, sizeof(*f));

	err = tls_load(&f->tls, "cert.pem", "key.pem");
	if (!err)
		err = tls_load(&f->br.tls, "cert2.pem", "key2.pem");
	if (!err)
		err = agw_alloc(&f->agw, conf, f->tls);
	if (!err)
		err = agw_sess_alloc(&f->s, f->agw, false, close_h, f);
	if (!err)
		err = sock_open(&f->rtp, sock_recv, &f->rtp);
	if (!err)
		err = sock_open(&f->rtcp, sock_recv, &f->rtcp);
	if (!err)
		err = sock_open(&f->rtp2, sock_recv, &f->rtp2);
	if (!err) {
		struct sock k;

		err = sock_open(&k, br_recv, &f->br);
		f->br.us = k.us;
		f->br.addr = k.addr;
	}

	return err;
}


static void fix_close(struct fix *f)
{
	tmr_cancel(&f->poll);
	tmr_cancel(&f->guard);
	f->s = mem_deref(f->s);
	f->agw = mem_deref(f->agw);
	f->tls = mem_deref(f->tls);
	mem_deref(f->br.dtls);
	mem_deref(f->br.srtp);
	mem_deref(f->br.us);
	mem_deref(f->br.tls);
	mem_deref(f->rtp.us);
	mem_deref(f->rtcp.us);
	mem_deref(f->rtp2.us);
}


static int prm_make(struct fix *f, struct agw_w3_prm *prm,
		    enum agw_setup setup, const struct tls *fp_of)
{
	memset(prm, 0, sizeof(*prm));
	str_ncpy(prm->ufrag, br_ufrag, sizeof(prm->ufrag));
	str_ncpy(prm->pwd, br_pwd, sizeof(prm->pwd));
	prm->fp_type = TLS_FINGERPRINT_SHA256;
	prm->fp_len = 32;
	prm->setup = setup;

	return tls_fingerprint(fp_of, TLS_FINGERPRINT_SHA256, prm->fp, 32);
}


/* Transport 0 (prm NULL: the AGW offers), stream 0 with one SSRC and
   one payload type, the core's RTP and RTCP sockets as its peer */
static int call_setup(struct fix *f, const struct agw_w3_prm *prm)
{
	uint32_t ssrc = SSRC;
	uint8_t pt = PT;
	struct agw_stream_prm sp;
	int err;

	err = agw_sess_transport(f->s, 0, prm, &f->wi);
	if (err)
		return err;

	f->br.agw = f->wi.cand;
	str_ncpy(f->br.rufrag, f->wi.ufrag, sizeof(f->br.rufrag));
	str_ncpy(f->br.rpwd, f->wi.pwd, sizeof(f->br.rpwd));

	memset(&sp, 0, sizeof(sp));
	sp.tid = 0;
	sp.ssrcv = &ssrc;
	sp.ssrcc = 1;
	sp.ptv = &pt;
	sp.ptc = 1;

	err = agw_sess_stream(f->s, 0, &sp, &f->si);
	if (err)
		return err;

	return agw_sess_core_peer(f->s, 0, &f->rtp.addr, &f->rtcp.addr);
}


static int tos_get(const struct net_udp *u)
{
	int tos = -1;
	socklen_t len = sizeof(tos);

	if (getsockopt(net_udp_fd(u), IPPROTO_IP, IP_TOS, &tos, &len))
		return -1;

	return tos;
}


#define STAT(field) offsetof(struct agw_stats, field)


/* What the AGW puts in its SDP; DSCP on every media socket */
static int info_check(const struct fix *f)
{
	static const char ice_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789+/";
	const struct agw_stream *st = agw_sess_stream_find(f->s, 0);
	const struct agw_w3 *w3 = agw_sess_w3(f->s, 0);
	char fp[128];
	uint8_t md[32];
	uint16_t port = sa_port(&f->wi.cand), rtp = sa_port(&f->si.rtp);
	size_t i;
	int n, err;

	TEST_EQ(strlen(f->wi.ufrag), 8);
	TEST_EQ(strlen(f->wi.pwd), 24);
	TEST_EQ(strspn(f->wi.ufrag, ice_chars), 8);
	TEST_EQ(strspn(f->wi.pwd, ice_chars), 24);

	TEST_ERR(tls_fingerprint(f->tls, TLS_FINGERPRINT_SHA256, md,
				 sizeof(md)));
	n = re_snprintf(fp, sizeof(fp), "sha-256 ");
	for (i = 0; i < sizeof(md); i++)
		n += re_snprintf(fp + n, sizeof(fp) - n, "%s%02X",
				 i ? ":" : "", md[i]);
	TEST_STREQ(f->wi.fingerprint, fp);

	TEST_ASSERT(sa_cmp(&f->wi.cand, &f->agw->conf.media_listen, SA_ADDR));
	TEST_ASSERT(port >= f->agw->conf.port_min &&
		    port <= f->agw->conf.port_max);
	TEST_EQ(rtp % 2, 0);
	TEST_ASSERT(rtp >= f->agw->conf.port_min && rtp != port &&
		    rtp + 1 <= f->agw->conf.port_max);
	TEST_EQ(sa_port(&f->si.rtcp), rtp + 1);

	TEST_ASSERT(st && w3);
	TEST_EQ(tos_get(w3->us), DSCP_EF << 2);
	TEST_EQ(tos_get(st->rtp), DSCP_EF << 2);
	TEST_EQ(tos_get(st->rtcp), DSCP_EF << 2);

 out:
	return err;
}


/* Re-INVITE: the same parameters keep the association; a new
   fingerprint starts a new one; new ICE credentials new local ones */
static int reinvite_check(struct fix *f, struct agw_w3_prm *prm)
{
	const struct agw_w3 *w3 = agw_sess_w3(f->s, 0);
	struct agw_w3_info wi;
	int err;

	TEST_ERR(agw_sess_transport(f->s, 0, prm, &wi));
	TEST_ASSERT(sa_cmp(&wi.cand, &f->wi.cand, SA_ALL));
	TEST_STREQ(wi.ufrag, f->wi.ufrag);
	TEST_ASSERT(w3->srtp && dtls_sess_established(w3->dtls));

	prm->fp[0] ^= 1;
	TEST_ERR(agw_sess_transport(f->s, 0, prm, &wi));
	TEST_ASSERT(!w3->srtp && !dtls_sess_established(w3->dtls));
	TEST_STREQ(wi.ufrag, f->wi.ufrag);
	TEST_STREQ(wi.pwd, f->wi.pwd);

	str_ncpy(prm->ufrag, "restart1", sizeof(prm->ufrag));
	TEST_ERR(agw_sess_transport(f->s, 0, prm, &wi));
	TEST_ASSERT(sa_cmp(&wi.cand, &f->wi.cand, SA_ALL));
	TEST_ASSERT(strcmp(wi.ufrag, f->wi.ufrag) != 0);
	TEST_ASSERT(strcmp(wi.pwd, f->wi.pwd) != 0);

 out:
	return err;
}


/* RTCP feedback from the browser whose sender SSRC no stream lists (a
   receive-only m-line): the stream that relayed the media source it
   names from the core gets it (stream 1 muxes RTCP on the core side) */
static int feedback_check(struct fix *f, const struct agw_stream_info *si)
{
	static const uint8_t pli[12] = {
		0x81, 206, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04,
		0xaa, 0xbb, 0xcc, 0xdd,
	};
	uint8_t pkt[sizeof(rtp_pkt)];
	uint64_t rx = f->br.rx, rx2 = f->rtp2.rx, rtcp = f->rtcp.rx;
	int err;

	memcpy(pkt, rtp_pkt, sizeof(pkt));
	pkt[1] = 96;
	pkt[8] = 0xaa; pkt[9] = 0xbb; pkt[10] = 0xcc; pkt[11] = 0xdd;
	TEST_ERR(sock_send(&f->rtp2, &si->rtp, pkt, sizeof(pkt)));
	TEST_ERR(wait_for(f, U_BR_RX, rx + 1, GUARD_MS));

	TEST_ERR(br_send_srtp(&f->br, pli, sizeof(pli), true));
	TEST_ERR(wait_for(f, U_RTP2, rx2 + 1, GUARD_MS));
	TEST_EQ(f->rtp2.len, sizeof(pli));
	TEST_ASSERT(!memcmp(f->rtp2.buf, pli, sizeof(pli)));
	TEST_EQ(f->rtcp.rx, rtcp);

 out:
	return err;
}


/* BUNDLE: a second stream on transport 0, split by SSRC (before
   payload type), then by payload type; neither matches: dropped */
static int bundle_check(struct fix *f)
{
	uint32_t ssrc = 0x55667788;
	uint8_t pt = 96, pkt[sizeof(rtp_pkt)];
	struct agw_stream_prm sp;
	struct agw_stream_info si;
	struct agw_stats st;
	int err;

	memset(&sp, 0, sizeof(sp));
	sp.ssrcv = &ssrc;
	sp.ssrcc = 1;
	sp.ptv = &pt;
	sp.ptc = 1;
	sp.core_rtcp_mux = true;
	TEST_ERR(agw_sess_stream(f->s, 1, &sp, &si));
	TEST_ERR(agw_sess_core_peer(f->s, 1, &f->rtp2.addr, NULL));

	memcpy(pkt, rtp_pkt, sizeof(pkt));
	pkt[3] = 2;
	pkt[8] = 0x55; pkt[9] = 0x66; pkt[10] = 0x77; pkt[11] = 0x88;
	TEST_ERR(br_send_srtp(&f->br, pkt, sizeof(pkt), false));

	pkt[1] = 96;
	pkt[3] = 3;
	pkt[8] = 0x99;
	TEST_ERR(br_send_srtp(&f->br, pkt, sizeof(pkt), false));

	pkt[1] = 8;
	pkt[3] = 4;
	TEST_ERR(br_send_srtp(&f->br, pkt, sizeof(pkt), false));
	TEST_ERR(wait_stat(f, STAT(w3_dropped), 1));

	TEST_EQ(f->rtp2.rx, 2);
	TEST_EQ(f->rtp2.buf[1], 96);
	TEST_ERR(agw_sess_stats(f->s, 1, &st));
	TEST_EQ(st.w3_pkts, 2);
	TEST_EQ(st.w3_dropped, 0);

	TEST_ERR(feedback_check(f, &si));

 out:
	return err;
}


/* Reception quality (src/rtpq) where the AGW receives: the browser's
   seq 1 then 9 (after SRTP): 7 lost of 9; the core's seq 1 twice (the
   held-back one was received too): a duplicate, lost -1 (RFC 3550
   A.3); no report block yet from either side */
static int quality_check(struct fix *f)
{
	uint8_t pkt[sizeof(rtp_pkt)];
	struct agw_stats st;
	int err;

	memcpy(pkt, rtp_pkt, sizeof(pkt));
	pkt[3] = 9;
	TEST_ERR(br_send_srtp(&f->br, pkt, sizeof(pkt), false));
	TEST_ERR(wait_for(f, U_RTP, 2, GUARD_MS));

	TEST_ERR(agw_sess_stats(f->s, 0, &st));
	TEST_EQ(st.w3_expected, 9);
	TEST_EQ(st.w3_lost, 7);
	TEST_EQ(st.core_expected, 1);
	TEST_EQ(st.core_lost, -1);
	TEST_EQ(st.w3_far_reports, 0);
	TEST_EQ(st.core_far_reports, 0);

 out:
	return err;
}


/* (1) The browser offers, the AGW is the DTLS client: check, handshake,
   media both ways, early media held back until allowed */
static int active(bool shared, bool core_shared)
{
	struct agw_w3_prm prm;
	struct agw_conf conf;
	struct agw_stats st;
	struct fix f;
	int err;

	conf_std(&conf);
	conf.media_port_shared = shared;
	conf.media_core_port_shared = core_shared;
	TEST_ERR(fix_open(&f, &conf));
	TEST_ERR(prm_make(&f, &prm, AGW_SETUP_ACTIVE, f.br.tls));
	TEST_ERR(call_setup(&f, &prm));
	TEST_ERR(info_check(&f));
	TEST_ERR(br_dtls(&f, DTLS_SERVER));

	TEST_ERR(br_check(&f, true));
	TEST_EQ(f.br.stun_ok, 1);
	TEST_ASSERT(sa_cmp(&f.br.mapped, &f.br.addr, SA_ALL));

	/* the AGW starts DTLS toward the checked address */
	TEST_ERR(wait_for(&f, U_DTLS, 1, GUARD_MS));

	/* SRTP in, the same RTP out; SRTCP (muxed) to the RTCP port */
	TEST_ERR(br_send_srtp(&f.br, rtp_pkt, sizeof(rtp_pkt), false));
	TEST_ERR(wait_for(&f, U_RTP, 1, GUARD_MS));
	TEST_EQ(f.rtp.len, sizeof(rtp_pkt));
	TEST_ASSERT(!memcmp(f.rtp.buf, rtp_pkt, sizeof(rtp_pkt)));

	TEST_ERR(br_send_srtp(&f.br, rtcp_pkt, sizeof(rtcp_pkt), true));
	TEST_ERR(wait_for(&f, U_RTCP, 1, GUARD_MS));
	TEST_EQ(f.rtcp.len, sizeof(rtcp_pkt));
	TEST_ASSERT(!memcmp(f.rtcp.buf, rtcp_pkt, sizeof(rtcp_pkt)));

	/* core to browser: held back before early media is allowed */
	TEST_ERR(sock_send(&f.rtp, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&f, STAT(core_dropped), 1));
	TEST_EQ(f.br.rx, 0);

	agw_sess_early_media(f.s, true);
	TEST_ERR(sock_send(&f.rtp, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_for(&f, U_BR_RX, 1, GUARD_MS));
	TEST_EQ(f.br.len, sizeof(rtp_pkt));
	TEST_ASSERT(!memcmp(f.br.buf, rtp_pkt, sizeof(rtp_pkt)));

	TEST_ERR(agw_sess_stats(f.s, 0, &st));
	TEST_EQ(st.w3_pkts, 2);
	TEST_EQ(st.w3_bytes, sizeof(rtp_pkt) + sizeof(rtcp_pkt));
	TEST_EQ(st.w3_dropped, 0);
	TEST_EQ(st.core_pkts, 1);
	TEST_EQ(st.core_bytes, sizeof(rtp_pkt));
	TEST_EQ(st.core_dropped, 1);
	TEST_EQ(st.core_unlatched, 0);
	TEST_EQ(agw_sess_stats(f.s, 1, &st), ENOENT);
	TEST_ASSERT(!f.closed);
	TEST_ERR(quality_check(&f));

	TEST_ERR(bundle_check(&f));
	TEST_ERR(reinvite_check(&f, &prm));
	if (shared)
		TEST_EQ(agw_shared_unknown(f.agw->shared), 0);
	if (core_shared)
		TEST_EQ(agw_coreport_unknown(f.agw->coreport, NULL, NULL), 0);

 out:
	fix_close(&f);
	return err;
}


int test_agw_active(void)
{
	return active(false, false);
}


/* (2) The core offers (browser's side known later), the AGW is the DTLS
   server: DTLS waits for the browser's answer */
int test_agw_passive(void)
{
	struct agw_w3_prm prm;
	struct agw_conf conf;
	struct fix f;
	int err;

	conf_std(&conf);
	TEST_ERR(fix_open(&f, &conf));
	TEST_ERR(call_setup(&f, NULL));
	TEST_ERR(br_dtls(&f, DTLS_CLIENT));

	/* a check is answered before the answer is known ... */
	TEST_ERR(br_check(&f, false));
	TEST_EQ(f.br.stun_ok, 1);

	/* ... but DTLS waits for it: the ClientHello is dropped */
	TEST_ERR(dtls_sess_start(f.br.dtls));
	TEST_ERR(wait_stat(&f, STAT(w3_dropped), 1));

	TEST_ERR(prm_make(&f, &prm, AGW_SETUP_PASSIVE, f.br.tls));
	TEST_ERR(agw_sess_transport_remote(f.s, 0, &prm));
	TEST_EQ(agw_sess_transport_remote(f.s, 9, &prm), ENOENT);

	/* the browser's retransmission gets a HelloVerifyRequest, then the
	   handshake completes */
	TEST_ERR(wait_for(&f, U_DTLS, 1, GUARD_MS));
	TEST_EQ(dtls_sess_role(agw_sess_w3(f.s, 0)->dtls), DTLS_SERVER);

	TEST_ERR(br_send_srtp(&f.br, rtp_pkt, sizeof(rtp_pkt), false));
	TEST_ERR(wait_for(&f, U_RTP, 1, GUARD_MS));
	TEST_ASSERT(f.rtp.len == sizeof(rtp_pkt) &&
		    !memcmp(f.rtp.buf, rtp_pkt, sizeof(rtp_pkt)));

	/* with the answer known, the browser's ufrag is checked too */
	TEST_ERR(br_check_from(&f.br, f.br.us, f.br.rpwd, "otherUfr", true));
	TEST_ERR(wait_for(&f, U_STUN, 2, GUARD_MS));
	TEST_EQ(f.br.scode, 401);
	TEST_EQ(f.br.stun_ok, 1);
	TEST_ASSERT(!f.closed);

 out:
	fix_close(&f);
	return err;
}


static const uint8_t dtls_junk[16] = {
	22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0
};


/* (3) Media and DTLS from an address without a check are dropped, a
   wrong password gets a 401, a browser certificate that is not the one
   in SDP ends the session */
int test_agw_reject(void)
{
	struct agw_w3_prm prm;
	struct agw_conf conf;
	struct fix f;
	int err;

	conf_std(&conf);
	TEST_ERR(fix_open(&f, &conf));
	TEST_ERR(prm_make(&f, &prm, AGW_SETUP_ACTIVE, f.tls));
	TEST_ERR(call_setup(&f, &prm));
	TEST_ERR(br_dtls(&f, DTLS_SERVER));

	TEST_ERR(sock_send(&f.rtp2, &f.br.agw, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(sock_send(&f.rtp2, &f.br.agw, dtls_junk,
			   sizeof(dtls_junk)));
	TEST_ERR(wait_stat(&f, STAT(w3_dropped), 2));

	TEST_ERR(br_check_from(&f.br, f.br.us, "wrongPassword01234567890",
			       br_ufrag, true));
	TEST_ERR(wait_for(&f, U_STUN, 1, GUARD_MS));
	TEST_EQ(f.br.scode, 401);
	TEST_EQ(f.br.stun_ok, 0);
	TEST_ASSERT(!agw_sess_w3(f.s, 0)->have_peer);

	/* a good check: the AGW starts DTLS and meets the wrong cert; the
	   owner frees the session from its close handler */
	f.free_on_close = true;
	TEST_ERR(br_check(&f, true));
	TEST_EQ(f.br.stun_ok, 1);
	TEST_ERR(wait_for(&f, U_CLOSED, 1, GUARD_MS));
	TEST_EQ(f.reason, AGW_CLOSE_DTLS);
	TEST_ASSERT(!f.br.estab && !f.s);
	TEST_EQ(agw_session_count(f.agw), 0);

 out:
	fix_close(&f);
	return err;
}


/* (3b) media_public / media_core_public: the SDP names the public
   addresses with the bound ports; packets reach the listen address (as
   through a 1:1 NAT or a port forward) and the call works */
int test_agw_public(void)
{
	uint8_t bad[sizeof(rtp_pkt) + 10];
	struct agw_w3_prm prm;
	struct agw_stats st;
	struct sock k;
	struct agw_conf conf;
	struct fix f;
	int err;

	conf_std(&conf);
	(void)sa_set_str(&conf.media_public, "192.0.2.1", 0);
	(void)sa_set_str(&conf.media_core_public, "198.51.100.7", 0);
	TEST_ERR(fix_open(&f, &conf));
	TEST_ERR(prm_make(&f, &prm, AGW_SETUP_ACTIVE, f.br.tls));
	TEST_ERR(call_setup(&f, &prm));

	TEST_ASSERT(sa_cmp(&f.wi.cand, &conf.media_public, SA_ADDR));
	TEST_EQ(sa_port(&f.wi.cand), agw_sess_w3(f.s, 0)->port);
	TEST_ASSERT(sa_cmp(&f.si.rtp, &conf.media_core_public, SA_ADDR));
	TEST_ASSERT(sa_cmp(&f.si.rtcp, &conf.media_core_public, SA_ADDR));
	TEST_EQ(sa_port(&f.si.rtp), agw_sess_stream_find(f.s, 0)->port);
	TEST_EQ(sa_port(&f.si.rtcp), sa_port(&f.si.rtp) + 1);

	/* the forward delivers to the listen address, same port */
	f.br.agw = conf.media_listen;
	sa_set_port(&f.br.agw, sa_port(&f.wi.cand));
	TEST_ERR(br_dtls(&f, DTLS_SERVER));
	TEST_ERR(br_check(&f, true));
	TEST_EQ(f.br.stun_ok, 1);
	TEST_ERR(wait_for(&f, U_DTLS, 1, GUARD_MS));

	TEST_ERR(br_send_srtp(&f.br, rtp_pkt, sizeof(rtp_pkt), false));
	TEST_ERR(wait_for(&f, U_RTP, 1, GUARD_MS));
	TEST_ASSERT(!memcmp(f.rtp.buf, rtp_pkt, sizeof(rtp_pkt)));

	/* from the checked address, a packet whose tag does not verify:
	   dropped and counted as an SRTP failure */
	memcpy(bad, rtp_pkt, sizeof(rtp_pkt));
	memset(bad + sizeof(rtp_pkt), 0xa5, sizeof(bad) - sizeof(rtp_pkt));
	k.us = f.br.us;
	TEST_ERR(sock_send(&k, &f.br.agw, bad, sizeof(bad)));
	TEST_ERR(wait_stat(&f, STAT(w3_srtp_failed), 1));
	TEST_ERR(agw_sess_stats(f.s, 0, &st));
	TEST_EQ(st.w3_pkts, 1);
	TEST_EQ(st.w3_dropped, 1);
	TEST_EQ(f.rtp.rx, 1);

 out:
	fix_close(&f);
	return err;
}


/* (4) Consent: checks refresh it; without one for consent_timeout the
   session closes */
static int consent(bool shared)
{
	struct agw_w3_prm prm;
	struct agw_conf conf;
	struct fix f;
	uint64_t t0, t1;
	int err;

	conf_std(&conf);
	conf.consent_timeout = 1;
	conf.media_port_shared = shared;
	TEST_ERR(fix_open(&f, &conf));
	TEST_ERR(prm_make(&f, &prm, AGW_SETUP_PASSIVE, f.br.tls));
	TEST_ERR(call_setup(&f, &prm));

	t0 = tmr_jiffies();
	TEST_ERR(br_check(&f, true));
	TEST_ERR(expect_nothing(&f, U_CLOSED, 1, 500));

	t1 = tmr_jiffies();
	TEST_ERR(br_check(&f, false));
	TEST_EQ(f.br.stun_ok, 2);

	TEST_ERR(wait_for(&f, U_CLOSED, 1, 3000));
	TEST_EQ(f.reason, AGW_CLOSE_CONSENT);
	TEST_ASSERT(f.close_ts - t0 >= 1400);
	TEST_ASSERT(f.close_ts - t1 >= 950 && f.close_ts - t1 <= 1600);

	/* closed: checks go unanswered */
	TEST_ERR(br_check_from(&f.br, f.br.us, f.br.rpwd, br_ufrag, true));
	TEST_ERR(expect_nothing(&f, U_STUN, 3, 100));

 out:
	fix_close(&f);
	return err;
}


int test_agw_consent(void)
{
	return consent(false);
}


/* (5) Symmetric RTP: the first source latches; another is dropped until
   the latched one has been silent long enough */
int test_agw_latch(void)
{
	struct agw_conf conf;
	struct agw_stream *st;
	uint8_t buf[sizeof(rtp_pkt)];
	struct fix f;
	int err;

	conf_std(&conf);
	TEST_ERR(fix_open(&f, &conf));
	TEST_ERR(call_setup(&f, NULL));
	TEST_ERR(agw_sess_core_peer(f.s, 0, &f.rtp2.addr, NULL));
	f.agw->latch_ms = 300;
	st = agw_sess_stream_find(f.s, 0);
	TEST_ASSERT(st);

	/* the first packet latches (and is held back: no early media) */
	TEST_ERR(sock_send(&f.rtp, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&f, STAT(core_dropped), 1));
	TEST_ASSERT(st->latch_rtp.set &&
		    sa_cmp(&st->latch_rtp.src, &f.rtp.addr, SA_ALL));

	TEST_ERR(sock_send(&f.rtp2, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&f, STAT(core_unlatched), 1));

	/* toward the core: the latched source, not the SDP address */
	memcpy(buf, rtp_pkt, sizeof(buf));
	TEST_ERR(agw_core_send(st, false, buf, sizeof(buf)));
	TEST_ERR(wait_for(&f, U_RTP, 1, GUARD_MS));
	TEST_EQ(f.rtp2.rx, 0);

	/* silence: the next source latches, the old one is now foreign */
	TEST_ERR(expect_nothing(&f, U_CLOSED, 1, 350));
	TEST_ERR(sock_send(&f.rtp2, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&f, STAT(core_dropped), 3));
	TEST_ASSERT(sa_cmp(&st->latch_rtp.src, &f.rtp2.addr, SA_ALL));
	TEST_ERR(sock_send(&f.rtp, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&f, STAT(core_unlatched), 2));

 out:
	fix_close(&f);
	return err;
}


/* D-63: a real-time text stream is a core-side stream of its own whose
   RTP is RFC 4103 text: text from the T.140 channel leaves at once as
   RED with t140 inside; browser RTP is never given to it; payload
   types are checked; again for the same index keeps the ports */
int test_agw_rtt(void)
{
	struct agw_rtt_prm prm;
	struct agw_stream_info si, si2;
	struct agw_conf conf;
	struct agw_w3 *w3;
	size_t i, red;
	struct fix f;
	int err;

	conf_std(&conf);
	TEST_ERR(fix_open(&f, &conf));
	TEST_ERR(call_setup(&f, NULL));
	TEST_ERR(agw_sess_core_peer(f.s, 0, &f.rtp2.addr, NULL));

	memset(&prm, 0, sizeof(prm));
	prm.tid = 0;
	prm.sid = 100;
	prm.rx_t140 = prm.tx_t140 = 98;
	prm.rx_red = prm.tx_red = 98;
	TEST_EQ(agw_sess_rtt(f.s, 1, &prm, &si), EINVAL);
	TEST_ASSERT(!agw_sess_stream_find(f.s, 1));
	prm.rx_red = prm.tx_red = 100;
	prm.tid = 3;
	TEST_EQ(agw_sess_rtt(f.s, 1, &prm, &si), ENOENT);
	prm.tid = 0;
	TEST_ERR(agw_sess_rtt(f.s, 1, &prm, &si));
	TEST_ASSERT(sa_port(&si.rtp) != sa_port(&f.si.rtp));
	TEST_ERR(agw_sess_core_peer(f.s, 1, &f.rtp.addr, NULL));

	/* the core's answer: other payload types, the same ports */
	prm.tx_t140 = 99;
	prm.tx_red = 101;
	TEST_ERR(agw_sess_rtt(f.s, 1, &prm, &si2));
	TEST_ASSERT(sa_cmp(&si.rtp, &si2.rtp, SA_ALL));

	w3 = agw_sess_w3(f.s, 0);
	TEST_ASSERT(w3);
	TEST_ASSERT(!agw_rtt_from_dc(w3, 99, (const uint8_t *)"x", 1));
	TEST_ASSERT(agw_rtt_from_dc(w3, 100, (const uint8_t *)"h\xc3\xa9", 3));
	TEST_ERR(wait_for(&f, U_RTP, 1, GUARD_MS));
	TEST_EQ(f.rtp.buf[1] & 0x7f, 101);        /* RED, the core's */
	TEST_ASSERT(f.rtp.buf[1] & 0x80);         /* a burst starts */
	for (i = 12, red = 0; i + 4 <= f.rtp.len && f.rtp.buf[i] & 0x80;
	     i += 4) {
		TEST_EQ(f.rtp.buf[i] & 0x7f, 99);
		red += ((f.rtp.buf[i + 2] & 3) << 8) | f.rtp.buf[i + 3];
	}
	TEST_ASSERT(i < f.rtp.len);
	TEST_EQ(f.rtp.buf[i], 99);                /* primary: t140 */
	i += 1 + red;
	TEST_EQ(f.rtp.len - i, 3);
	TEST_ASSERT(!memcmp(f.rtp.buf + i, "h\xc3\xa9", 3));
	TEST_EQ(f.rtp2.rx, 0);                    /* not the audio's */

	/* the audio stream still takes the browser's RTCP alone */
	TEST_ASSERT(!agw_dc_only(w3));

 out:
	fix_close(&f);
	return err;
}


static int busy(struct udp_sock **usv, uint16_t port, size_t n)
{
	struct sa laddr;
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		(void)sa_set_str(&laddr, "127.0.0.1", port + i);
		err = udp_listen(&usv[i], &laddr, NULL, NULL);
	}

	return err;
}


/* (6) max_calls (emergency calls pass), port exhaustion, ports back
   to the pool when a session ends */
int test_agw_limits(void)
{
	struct agw_stream_info si, si2;
	struct agw_stream_prm sp;
	struct agw_w3_info wi;
	struct agw_sess *s2 = NULL, *se = NULL;
	struct udp_sock *busyv[3] = {NULL, NULL, NULL};
	struct agw_conf conf;
	size_t i;
	struct fix f;
	int err;

	conf_std(&conf);
	conf.max_calls = 1;
	conf.port_min = port_base() + 96;
	conf.port_max = conf.port_min + 3;
	TEST_ERR(fix_open(&f, &conf));

	TEST_EQ(agw_sess_alloc(&s2, f.agw, false, NULL, NULL), EOVERFLOW);
	TEST_ERR(agw_sess_alloc(&se, f.agw, true, NULL, NULL));
	TEST_EQ(agw_session_count(f.agw), 2);

	memset(&sp, 0, sizeof(sp));
	TEST_EQ(agw_sess_stream(f.s, 0, &sp, NULL), ENOENT);
	TEST_ERR(agw_sess_transport(f.s, 0, NULL, &wi));
	TEST_ERR(agw_sess_stream(f.s, 0, &sp, &si));
	TEST_EQ(agw_sess_stream(f.s, 1, &sp, NULL), ENOSPC);
	TEST_ERR(agw_sess_transport(se, 0, NULL, NULL));
	TEST_EQ(agw_sess_transport(se, 1, NULL, NULL), ENOSPC);
	TEST_EQ(agw_sess_stream(se, 0, &sp, NULL), ENOSPC);

	/* the session ends: its ports are free at once (D-40) */
	f.s = mem_deref(f.s);
	TEST_EQ(agw_session_count(f.agw), 1);
	TEST_ERR(agw_sess_stream(se, 0, &sp, &si2));
	TEST_EQ(sa_port(&si2.rtp), sa_port(&si.rtp));
	TEST_ERR(agw_sess_transport(se, 1, NULL, NULL));

	/* the emergency call counts */
	TEST_EQ(agw_sess_alloc(&s2, f.agw, false, NULL, NULL), EOVERFLOW);
	se = mem_deref(se);
	TEST_ERR(agw_sess_alloc(&s2, f.agw, false, NULL, NULL));

	/* ports some other socket holds are skipped */
	TEST_ERR(busy(busyv, conf.port_min, 3));
	TEST_ERR(agw_sess_transport(s2, 0, NULL, &wi));
	TEST_EQ(sa_port(&wi.cand), conf.port_max);

 out:
	for (i = 0; i < ARRAY_SIZE(busyv); i++)
		mem_deref(busyv[i]);
	mem_deref(s2);
	mem_deref(se);
	fix_close(&f);
	return err;
}


/* media_listen any or an interface: a socket and a host candidate per
   address, one port; a browser on IPv6 (::1) checks, keys DTLS and gets
   media from the IPv6 socket while the IPv4 one stays unused */
int test_agw_dual(void)
{
	struct agw_w3_prm prm;
	struct agw_conf conf;
	struct agw_stats st;
	struct sa six;
	struct fix f;
	int err;

	conf_std(&conf);
	conf.w3_addrv[0] = conf.media_listen;
	(void)sa_set_str(&conf.w3_addrv[1], "::1", 0);
	conf.w3_addrc = 2;
	TEST_ERR(fix_open(&f, &conf));

	/* the browser on ::1 */
	f.br.us = mem_deref(f.br.us);
	(void)sa_set_str(&six, "::1", 0);
	TEST_ERR(udp_listen(&f.br.us, &six, br_recv, &f.br));
	TEST_ERR(udp_local_get(f.br.us, &f.br.addr));

	TEST_ERR(prm_make(&f, &prm, AGW_SETUP_ACTIVE, f.br.tls));
	TEST_ERR(call_setup(&f, &prm));
	TEST_ASSERT(sa_cmp(&f.wi.cand, &conf.media_listen, SA_ADDR));
	TEST_EQ(f.wi.morec, 1);
	TEST_ASSERT(sa_cmp(&f.wi.morev[0], &six, SA_ADDR));
	TEST_EQ(sa_port(&f.wi.morev[0]), sa_port(&f.wi.cand));
	f.br.agw = f.wi.morev[0];

	TEST_ERR(br_dtls(&f, DTLS_SERVER));
	TEST_ERR(br_check(&f, true));
	TEST_EQ(f.br.stun_ok, 1);
	TEST_ASSERT(sa_cmp(&f.br.mapped, &f.br.addr, SA_ALL));
	TEST_ERR(wait_for(&f, U_DTLS, 1, GUARD_MS));

	TEST_ERR(br_send_srtp(&f.br, rtp_pkt, sizeof(rtp_pkt), false));
	TEST_ERR(wait_for(&f, U_RTP, 1, GUARD_MS));
	TEST_ASSERT(!memcmp(f.rtp.buf, rtp_pkt, sizeof(rtp_pkt)));

	agw_sess_early_media(f.s, true);
	TEST_ERR(sock_send(&f.rtp, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_for(&f, U_BR_RX, 1, GUARD_MS));
	TEST_EQ(f.br.len, sizeof(rtp_pkt));

	TEST_ERR(agw_sess_stats(f.s, 0, &st));
	TEST_EQ(st.w3_pkts, 1);
	TEST_EQ(st.core_pkts, 1);
	TEST_ASSERT(!f.closed);

 out:
	fix_close(&f);
	return err;
}


#ifdef IMSEDGE_TRANSCODE
/* --- transcoding path (xcode.c; D-35, D-61, D-62) ------------------- */

#include "codec/codec.h"

enum {
	XC_CORE_PT = 96, XC_CORE_DTMF = 101, XC_W3_DTMF = 126,
	XC_FRAMES = 40,
};




static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}


/* browser Opus (1 kHz) up: AMR-WB BE at the core, RTP of the AGW's own */
static int xc_up(struct fix *f, struct codec_enc *opus,
		 struct codec_dec *amr, int16_t *pcm, size_t *np,
		 uint16_t *seqp, uint32_t *tsp, unsigned expect_ft)
{
	uint8_t pkt[PKT], frame[CODEC_MAX_FRAME];
	int16_t in[320];
	size_t k, len, n, phase = *np;
	uint32_t ssrc = 0, ts0 = 0;
	uint16_t seq0 = 0;
	int err = 0;

	for (k = 0; k < XC_FRAMES; k++) {
		struct amr_rtp p;
		unsigned rx = f->rtp.rx;

		test_tone(in, 320, 16000, 1000, &phase);
		TEST_ERR(codec_encode(opus, frame, &len, in));
		TEST_ASSERT(len <= sizeof(pkt) - 12);
		memcpy(pkt + 12, frame, len);
		test_rtp_hdr(pkt, PT, (*seqp)++, *tsp, SSRC);
		*tsp += 960;
		TEST_ERR(br_send_srtp(&f->br, pkt, 12 + len, false));
		TEST_ERR(wait_for(f, U_RTP, rx + 1, GUARD_MS));

		TEST_EQ(f->rtp.buf[1] & 0x7f, XC_CORE_PT);
		if (!k) {
			ssrc = get32(f->rtp.buf + 8);
			seq0 = (uint16_t)(f->rtp.buf[2] << 8 | f->rtp.buf[3]);
			ts0 = get32(f->rtp.buf + 4);
			TEST_ASSERT(ssrc != SSRC);
		}
		TEST_EQ(get32(f->rtp.buf + 8), ssrc);
		TEST_EQ((uint16_t)(f->rtp.buf[2] << 8 | f->rtp.buf[3]),
			(uint16_t)(seq0 + k));
		TEST_EQ(get32(f->rtp.buf + 4), ts0 + 320 * k);

		TEST_ERR(amr_rtp_decode(&p, true, false, f->rtp.buf + 12,
					f->rtp.len - 12));
		TEST_EQ(p.n, 1);
		TEST_EQ(p.cmr, 2);              /* top of the mode-set */
		TEST_EQ(p.fv[0].ft, expect_ft);
		TEST_ERR(codec_decode(amr, pcm + *np, &n, p.fv[0].b,
				      1 + (amr_frame_bits(true, p.fv[0].ft)
					   + 7) / 8, false));
		*np += n;
	}

 out:
	return err;
}


/* core AMR-WB (700 Hz, mode 8, CMR 0) down: Opus at the browser */
static int xc_down(struct fix *f, struct codec_enc *amr,
		   struct codec_dec *opus, int16_t *pcm, size_t *np)
{
	uint8_t pkt[PKT], frame[CODEC_MAX_FRAME];
	int16_t in[320];
	size_t k, len, n, phase = 0;
	int err = 0;

	for (k = 0; k < XC_FRAMES; k++) {
		struct amr_rtp p;
		unsigned rx = f->br.rx;

		test_tone(in, 320, 16000, 700, &phase);
		TEST_ERR(codec_encode(amr, frame, &len, in));
		p.n = 0;
		p.cmr = 0;
		TEST_ERR(amr_rtp_add(&p, true, frame, len));
		TEST_ERR(amr_rtp_encode(pkt + 12, sizeof(pkt) - 12, &len, &p,
					true, false));
		test_rtp_hdr(pkt, XC_CORE_PT, (uint16_t)(500 + k),
			(uint32_t)(7000 + 320 * k), 0xabcdef01);
		TEST_ERR(sock_send(&f->rtp, &f->si.rtp, pkt, 12 + len));
		TEST_ERR(wait_for(f, U_BR_RX, rx + 1, GUARD_MS));

		TEST_EQ(f->br.buf[1] & 0x7f, PT);
		TEST_ERR(codec_decode(opus, pcm + *np, &n, f->br.buf + 12,
				      f->br.len - 12, false));
		TEST_EQ(n, 320);
		*np += n;
	}

 out:
	return err;
}


/* two Opus packets up in the wrong order: both reach the core, in
   order (timestamps 320 apart, sequence numbers 1 apart) */
static int xc_swapped(struct fix *f, struct codec_enc *opus,
		      uint16_t *seqp, uint32_t *tsp, size_t *phase)
{
	uint8_t pkt[2][PKT], frame[CODEC_MAX_FRAME];
	const struct agw_stream *st = agw_sess_stream_find(f->s, 0);
	uint64_t dropped = st->stats.w3_dropped;
	uint32_t ts0 = 0;
	uint16_t seq0 = 0;
	size_t len[2];
	int16_t in[320];
	unsigned rx = f->rtp.rx;
	int err = 0, i;

	for (i = 0; i < 2; i++) {
		test_tone(in, 320, 16000, 1000, phase);
		TEST_ERR(codec_encode(opus, frame, &len[i], in));
		TEST_ASSERT(len[i] <= PKT - 12);
		memcpy(pkt[i] + 12, frame, len[i]);
		test_rtp_hdr(pkt[i], PT, (*seqp)++, *tsp, SSRC);
		*tsp += 960;
	}

	/* the last packet the core got */
	seq0 = (uint16_t)(f->rtp.buf[2] << 8 | f->rtp.buf[3]);
	ts0 = get32(f->rtp.buf + 4);

	TEST_ERR(br_send_srtp(&f->br, pkt[1], 12 + len[1], false));
	TEST_ERR(br_send_srtp(&f->br, pkt[0], 12 + len[0], false));
	TEST_ERR(wait_for(f, U_RTP, rx + 2, GUARD_MS));
	TEST_EQ(f->rtp.rx, rx + 2);
	TEST_EQ((uint16_t)(f->rtp.buf[2] << 8 | f->rtp.buf[3]),
		(uint16_t)(seq0 + 2));
	TEST_EQ(get32(f->rtp.buf + 4), ts0 + 640);
	/* without the buffer: the first concealed, the second dropped */
	TEST_EQ(st->stats.w3_dropped, dropped);

 out:
	return err;
}


/* Browser Opus <-> core AMR-WB (bandwidth-efficient) through the AGW:
   a tone each way survives, RTP is the AGW's own per side, a CMR from
   the core is obeyed within the mode-set, DTMF crosses with its clock
   translated, one lost packet is concealed (D-35, D-61, D-62) */
/* bytes in use on the C heap (glibc, not under ASan, which keeps its
   own): the codec libraries malloc() their state, outside libre's mem */
static bool heap_now(size_t *b)
{
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
	*b = mallinfo2().uordblks;
	return true;
#else
	(void)b;
	return false;
#endif
}


/* the transcoding tests' AGW: transcoding on, one transcoded stream */
static int xc_open(struct fix *f)
{
	struct agw_conf conf;

	conf_std(&conf);
	conf.transcoding = true;
	conf.max_xcode = 1;
	conf.opus_complexity = 5;

	return fix_open(f, &conf);
}


/* a call up to the AGW's DTLS toward the checked browser address */
static int xc_call(struct fix *f)
{
	struct agw_w3_prm prm;
	int err;

	TEST_ERR(prm_make(f, &prm, AGW_SETUP_ACTIVE, f->br.tls));
	TEST_ERR(call_setup(f, &prm));
	TEST_ERR(br_dtls(f, DTLS_SERVER));
	TEST_ERR(br_check(f, true));
	TEST_ERR(wait_for(f, U_DTLS, 1, GUARD_MS));

 out:
	return err;
}


int test_agw_xcode(void)
{
	struct codec_prm op = {16000, 5, 0, false, true, 0};
	struct codec_prm wp = {16000, 0, 0, false, false, 8};
	struct codec_enc *opus_enc = NULL, *amr_enc = NULL;
	struct codec_dec *opus_dec = NULL, *amr_dec = NULL;
	struct agw_xcode_prm xp;
	struct memstat m0, m1;
	size_t h0 = 0, h1 = 0;
	bool stat, heap;
	int16_t *pcm = NULL;
	uint8_t pkt[PKT], frame[CODEC_MAX_FRAME];
	int16_t in[320];
	size_t n = 0, len, phase = 0;
	uint16_t seq = 1, dseq;
	uint32_t ts = 4800, dts;
	unsigned rx;
	double snr;
	struct fix f;
	int err;

	TEST_ERR(xc_open(&f));
	pcm = mem_zalloc(3 * XC_FRAMES * 320 * sizeof(*pcm), NULL);
	TEST_ASSERT(pcm);
	TEST_ERR(codec_enc_alloc(&opus_enc, codec_get(CODEC_OPUS), &op));
	TEST_ERR(codec_dec_alloc(&opus_dec, codec_get(CODEC_OPUS), &op));
	TEST_ERR(codec_enc_alloc(&amr_enc, codec_get(CODEC_AMRWB), &wp));
	TEST_ERR(codec_dec_alloc(&amr_dec, codec_get(CODEC_AMRWB), &wp));

	TEST_ERR(xc_call(&f));

	memset(&xp, 0, sizeof(xp));
	xp.w3_pt = PT;
	xp.w3_dtmf_pt = XC_W3_DTMF;
	xp.core_codec = CODEC_AMRWB;
	xp.core_pt = XC_CORE_PT;
	xp.core_dtmf_pt = XC_CORE_DTMF;
	xp.mode_set = 0x07;             /* 6.60, 8.85, 12.65 */
	xp.opus_complexity = 5;
	TEST_EQ(agw_sess_xcode(f.s, 1, &xp), ENOENT);
	xp.core_codec = CODEC_OPUS;
	TEST_EQ(agw_sess_xcode(f.s, 0, &xp), EINVAL);
	xp.core_codec = CODEC_AMRWB;
	stat = !mem_get_stat(&m0);
	heap = heap_now(&h0);
	TEST_ERR(agw_sess_xcode(f.s, 0, &xp));
	TEST_ERR(agw_sess_xcode(f.s, 0, &xp));   /* same: kept */

	/* D-35 (issue 11, RSS per transcoded call): the path's own memory
	   is small (libre's mem bookkeeping, not in the cross boards'
	   RELEASE builds); no codec state before a direction's first audio
	   (the libraries malloc() it: glibc's figures, not under ASan): the
	   down direction's comes with its first packet */
	if (stat) {
		TEST_ERR(mem_get_stat(&m1));
		TEST_ASSERT(m1.bytes_cur - m0.bytes_cur < 8192);
	}
	if (heap)
		TEST_ASSERT(heap_now(&h1) && h1 - h0 < 8192);
	{
		uint32_t xnow;
		uint64_t xtotal;

		agw_xcode_count(f.agw, &xnow, &xtotal);
		TEST_EQ(xnow, 1);
		TEST_EQ(xtotal, 1);
	}

	/* up: 1 kHz, 12.65 kbit/s (mode 2) */
	TEST_ERR(xc_up(&f, opus_enc, amr_dec, pcm, &n, &seq, &ts, 2));
	/* (the heap after up is the baseline of down: the first SRTP
	   packet also let DTLS free its record buffers) */
	if (heap)
		TEST_ASSERT(heap_now(&h0));
	snr = test_tone_snr(pcm + 3200, n - 3200, 16000, 1000);
	TEST_ASSERT(snr > 8);

	/* DTMF up: '5', 20 ms = 960 at 48 kHz, 320 at 16 kHz */
	test_rtp_hdr(pkt, XC_W3_DTMF, seq++, ts, SSRC);
	pkt[1] |= 0x80;
	pkt[12] = 5;
	pkt[13] = 0x0a;
	pkt[14] = 960 >> 8;
	pkt[15] = 960 & 0xff;
	rx = f.rtp.rx;
	TEST_ERR(br_send_srtp(&f.br, pkt, 16, false));
	TEST_ERR(wait_for(&f, U_RTP, rx + 1, GUARD_MS));
	TEST_EQ(f.rtp.len, 16);
	TEST_EQ(f.rtp.buf[1], 0x80 | XC_CORE_DTMF);
	TEST_EQ(f.rtp.buf[12], 5);
	TEST_EQ(f.rtp.buf[14] << 8 | f.rtp.buf[15], 320);
	dseq = (uint16_t)(f.rtp.buf[2] << 8 | f.rtp.buf[3]);
	dts = get32(f.rtp.buf + 4);

	/* down: 700 Hz; the core's CMR 0 sets the encoder toward it */
	agw_sess_early_media(f.s, true);
	n = 0;
	TEST_ERR(xc_down(&f, amr_enc, opus_dec, pcm, &n));
	if (heap)  /* Opus encoder 43 KiB + AMR-WB decoder 5 KiB */
		TEST_ASSERT(heap_now(&h1) && h1 - h0 > 45000);
	snr = test_tone_snr(pcm + 3200, n - 3200, 16000, 700);
	TEST_ASSERT(snr > 8);

	/* a lost packet up (the one after the DTMF): concealed from the
	   next one's FEC, the core sees no gap */
	seq++;
	ts += 960;
	rx = f.rtp.rx;
	test_tone(in, 320, 16000, 1000, &phase);
	TEST_ERR(codec_encode(opus_enc, frame, &len, in));
	TEST_ASSERT(len <= sizeof(pkt) - 12);
	memcpy(pkt + 12, frame, len);
	test_rtp_hdr(pkt, PT, seq++, ts, SSRC);
	ts += 960;
	TEST_ERR(br_send_srtp(&f.br, pkt, 12 + len, false));
	TEST_ERR(wait_for(&f, U_RTP, rx + 2, GUARD_MS));
	TEST_EQ(f.rtp.buf[1], XC_CORE_PT);
	TEST_EQ((uint16_t)(f.rtp.buf[2] << 8 | f.rtp.buf[3]),
		(uint16_t)(dseq + 2));
	TEST_EQ(get32(f.rtp.buf + 4), dts + 320);

	/* two packets swapped: the jitter buffer puts them back in order,
	   neither is dropped, the core sees two packets and no gap */
	TEST_ERR(xc_swapped(&f, opus_enc, &seq, &ts, &phase));

	/* the mode the core's CMR asked for: 6.60 (FT 0) */
	n = 0;
	TEST_ERR(xc_up(&f, opus_enc, amr_dec, pcm, &n, &seq, &ts, 0));

	/* back to pass-through: the browser's packet as it is */
	TEST_ERR(agw_sess_xcode(f.s, 0, NULL));
	{
		uint32_t xnow;
		uint64_t xtotal;

		agw_xcode_count(f.agw, &xnow, &xtotal);
		TEST_EQ(xnow, 0);
		TEST_EQ(xtotal, 1);
	}
	memcpy(pkt, rtp_pkt, sizeof(rtp_pkt));
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	rx = f.rtp.rx;
	TEST_ERR(br_send_srtp(&f.br, pkt, sizeof(rtp_pkt), false));
	TEST_ERR(wait_for(&f, U_RTP, rx + 1, GUARD_MS));
	TEST_EQ(f.rtp.len, sizeof(rtp_pkt));
	TEST_ASSERT(!memcmp(f.rtp.buf, pkt, sizeof(rtp_pkt)));

 out:
	mem_deref(opus_enc);
	mem_deref(opus_dec);
	mem_deref(amr_enc);
	mem_deref(amr_dec);
	mem_deref(pcm);
	fix_close(&f);
	return err;
}


/* G.722 on the core side (D-35, D-61): Opus at 16 kHz from the browser,
   G.722 at the core on its 8000 RTP clock (RFC 3551 4.5.2): 160 bytes
   and +160 timestamp units per 20 ms, DTMF durations in 8000 units,
   rtpq's jitter on the core side in the 8000 clock; and back: G.722
   from the core reaches the browser as Opus at 48000 (+960) */
int test_agw_xcode_g722(void)
{
	struct codec_prm op = {16000, 5, 0, false, true, 0};
	struct codec_prm gp = {16000, 0, 0, false, false, 0};
	struct codec_enc *opus_enc = NULL, *g722_enc = NULL;
	struct codec_dec *opus_dec = NULL, *g722_dec = NULL;
	const struct agw_stream *st;
	struct agw_xcode_prm xp;
	int16_t *pcm = NULL, in[320];
	uint8_t pkt[PKT], frame[CODEC_MAX_FRAME];
	size_t n = 0, len, k, phase = 0;
	uint16_t seq = 1, seq0 = 0;
	uint32_t ts = 4800, ts0 = 0, bts0 = 0;
	unsigned rx;
	double snr;
	struct fix f;
	int err;

	TEST_ERR(xc_open(&f));
	pcm = mem_zalloc(XC_FRAMES * 320 * sizeof(*pcm), NULL);
	TEST_ASSERT(pcm);
	TEST_ERR(codec_enc_alloc(&opus_enc, codec_get(CODEC_OPUS), &op));
	TEST_ERR(codec_dec_alloc(&opus_dec, codec_get(CODEC_OPUS), &op));
	TEST_ERR(codec_enc_alloc(&g722_enc, codec_get(CODEC_G722), &gp));
	TEST_ERR(codec_dec_alloc(&g722_dec, codec_get(CODEC_G722), &gp));

	TEST_ERR(xc_call(&f));

	memset(&xp, 0, sizeof(xp));
	xp.w3_pt = PT;
	xp.w3_dtmf_pt = XC_W3_DTMF;
	xp.core_codec = CODEC_G722;
	xp.core_pt = 9;
	xp.core_dtmf_pt = XC_CORE_DTMF;
	xp.opus_complexity = 5;
	xp.core_dtx = true;
	TEST_ERR(agw_sess_xcode(f.s, 0, &xp));

	/* rtpq's jitter of what the core sends: G.722 in 8000 units */
	st = agw_sess_stream_find(f.s, 0);
	TEST_ASSERT(st && st->q_core.pts && st->q_core.pts->ptclk[9]);
	TEST_EQ(st->q_core.pts->clockv[st->q_core.pts->ptclk[9] - 1], 8000);
	TEST_EQ(st->q_w3.pts->clockv[st->q_w3.pts->ptclk[PT] - 1], 48000);

	/* up: 1 kHz Opus at 16 kHz -> G.722, 160 bytes and +160 a packet */
	for (k = 0; k < XC_FRAMES; k++) {
		rx = f.rtp.rx;
		test_tone(in, 320, 16000, 1000, &phase);
		TEST_ERR(codec_encode(opus_enc, frame, &len, in));
		TEST_ASSERT(len <= sizeof(pkt) - 12);
		memcpy(pkt + 12, frame, len);
		test_rtp_hdr(pkt, PT, seq++, ts, SSRC);
		ts += 960;
		TEST_ERR(br_send_srtp(&f.br, pkt, 12 + len, false));
		TEST_ERR(wait_for(&f, U_RTP, rx + 1, GUARD_MS));

		TEST_EQ(f.rtp.buf[1] & 0x7f, 9);
		TEST_EQ(f.rtp.len, 12 + 160);
		if (!k) {
			seq0 = (uint16_t)(f.rtp.buf[2] << 8 | f.rtp.buf[3]);
			ts0 = get32(f.rtp.buf + 4);
		}
		TEST_EQ((uint16_t)(f.rtp.buf[2] << 8 | f.rtp.buf[3]),
			(uint16_t)(seq0 + k));
		TEST_EQ(get32(f.rtp.buf + 4), ts0 + 160 * k);
		TEST_ERR(codec_decode(g722_dec, pcm + n, &len, f.rtp.buf + 12,
				      f.rtp.len - 12, false));
		TEST_EQ(len, 320);
		n += len;
	}
	snr = test_tone_snr(pcm + 3200, n - 3200, 16000, 1000);
	TEST_ASSERT(snr > 8);

	/* DTMF up: '5', 20 ms = 960 at 48 kHz, 160 in G.722's clock; its
	   timestamp is the audio's next one */
	test_rtp_hdr(pkt, XC_W3_DTMF, seq++, ts, SSRC);
	pkt[1] |= 0x80;
	pkt[12] = 5;
	pkt[13] = 0x0a;
	pkt[14] = 960 >> 8;
	pkt[15] = 960 & 0xff;
	rx = f.rtp.rx;
	TEST_ERR(br_send_srtp(&f.br, pkt, 16, false));
	TEST_ERR(wait_for(&f, U_RTP, rx + 1, GUARD_MS));
	TEST_EQ(f.rtp.len, 16);
	TEST_EQ(f.rtp.buf[1], 0x80 | XC_CORE_DTMF);
	TEST_EQ(f.rtp.buf[14] << 8 | f.rtp.buf[15], 160);
	TEST_EQ(get32(f.rtp.buf + 4), ts0 + 160 * XC_FRAMES);

	/* down: 700 Hz G.722 (+160 a packet) -> Opus at 48000 (+960) */
	agw_sess_early_media(f.s, true);
	phase = 0;
	n = 0;
	for (k = 0; k < XC_FRAMES; k++) {
		rx = f.br.rx;
		test_tone(in, 320, 16000, 700, &phase);
		TEST_ERR(codec_encode(g722_enc, pkt + 12, &len, in));
		TEST_EQ(len, 160);
		test_rtp_hdr(pkt, 9, (uint16_t)(500 + k),
			     (uint32_t)(7000 + 160 * k), 0xabcdef01);
		TEST_ERR(sock_send(&f.rtp, &f.si.rtp, pkt, 12 + len));
		TEST_ERR(wait_for(&f, U_BR_RX, rx + 1, GUARD_MS));

		TEST_EQ(f.br.buf[1] & 0x7f, PT);
		if (!k)
			bts0 = get32(f.br.buf + 4);
		TEST_EQ(get32(f.br.buf + 4), bts0 + 960 * k);
		TEST_ERR(codec_decode(opus_dec, pcm + n, &len, f.br.buf + 12,
				      f.br.len - 12, false));
		TEST_EQ(len, 320);
		n += len;
	}
	snr = test_tone_snr(pcm + 3200, n - 3200, 16000, 700);
	TEST_ASSERT(snr > 8);

 out:
	mem_deref(opus_enc);
	mem_deref(opus_dec);
	mem_deref(g722_enc);
	mem_deref(g722_dec);
	mem_deref(pcm);
	fix_close(&f);
	return err;
}
#endif


/* --- one browser-side port for every call (shared.c) ---------------- */

static int shared_rtp_from(struct fix *f, struct udp_sock *us)
{
	struct sock k;

	k.us = us;

	return sock_send(&k, &f->br.agw, rtp_pkt, sizeof(rtp_pkt));
}


static uint64_t dropped(struct agw_sess *s)
{
	struct agw_stats st;

	memset(&st, 0, sizeof(st));
	(void)agw_sess_stats(s, 0, &st);

	return st.w3_dropped;
}


/* Two calls from one browser address (two ports) on the shared port:
   checks reach the call whose ufrag they name, other datagrams the call
   that accepted a check from their source; an address change (a check
   from a new port) moves a source; unknown sources are dropped
   (digest: ICE-lite AGW, consent, one port per call not required) */
/* The whole active-role call (DTLS, SRTP and SRTCP both ways, early
   media, BUNDLE, RTCP feedback, re-INVITE) and consent expiry on the
   shared port: what leaves toward the browser is batched there
   (net_udp_tx_batch), and nothing goes to the unknown-source count */
int test_agw_shared_call(void)
{
	int err = active(true, false);

	return err ? err : consent(true);
}


int test_agw_shared(void)
{
	struct fix f, g;
	struct agw_conf conf;
	struct agw_w3_prm prm;
	struct agw_stream_prm sp;
	struct agw_stream_info si;
	struct sock k3, k4;
	uint8_t pt = PT;
	int err;

	memset(&g, 0, sizeof(g));
	memset(&k3, 0, sizeof(k3));
	memset(&k4, 0, sizeof(k4));
	conf_std(&conf);
	conf.media_port_shared = true;

	TEST_ERR(fix_open(&f, &conf));
	TEST_ERR(prm_make(&f, &prm, AGW_SETUP_PASSIVE, f.br.tls));
	TEST_ERR(call_setup(&f, &prm));

	/* call B: same browser host, another port */
	TEST_ERR(agw_sess_alloc(&g.s, f.agw, false, close_h, &g));
	TEST_ERR(agw_sess_transport(g.s, 0, &prm, &g.wi));
	memset(&sp, 0, sizeof(sp));
	sp.ptv = &pt;
	sp.ptc = 1;
	TEST_ERR(agw_sess_stream(g.s, 0, &sp, &si));
	TEST_ERR(sock_open(&k3, br_recv, &g.br));
	g.br.us = k3.us;
	g.br.addr = k3.addr;
	k3.us = NULL;
	g.br.agw = g.wi.cand;
	str_ncpy(g.br.rufrag, g.wi.ufrag, sizeof(g.br.rufrag));
	str_ncpy(g.br.rpwd, g.wi.pwd, sizeof(g.br.rpwd));

	TEST_ASSERT(sa_cmp(&f.wi.cand, &g.wi.cand, SA_ALL));
	TEST_ASSERT(strcmp(f.wi.ufrag, g.wi.ufrag));

	/* each check is answered with its own call's password */
	TEST_ERR(br_check(&f, true));
	TEST_EQ(f.br.stun_ok, 1);
	TEST_ERR(br_check(&g, true));
	TEST_EQ(g.br.stun_ok, 1);
	TEST_EQ(f.br.stun_rx, 1);

	/* media-range datagrams (no keys yet: dropped by the call) */
	TEST_ERR(shared_rtp_from(&f, f.br.us));
	TEST_ERR(wait_stat(&f, STAT(w3_dropped), 1));
	TEST_EQ(dropped(g.s), 0);
	TEST_ERR(shared_rtp_from(&g, g.br.us));
	TEST_ERR(wait_stat(&g, STAT(w3_dropped), 1));
	TEST_EQ(dropped(f.s), 1);

	/* an unknown source: dropped by the port, no call sees it (the
	   marker from call A's address arrives after it) */
	TEST_ERR(sock_open(&k3, sock_recv, &k3));
	TEST_ERR(shared_rtp_from(&f, k3.us));
	TEST_ERR(shared_rtp_from(&f, f.br.us));
	TEST_ERR(wait_stat(&f, STAT(w3_dropped), 2));
	TEST_EQ(agw_shared_unknown(f.agw->shared), 1);
	TEST_EQ(dropped(g.s), 1);

	/* address change: call A checks from a new port, which is A's */
	TEST_ERR(sock_open(&k4, br_recv, &f.br));
	TEST_ERR(br_check_from(&f.br, k4.us, f.br.rpwd, br_ufrag, true));
	TEST_ERR(wait_for(&f, U_STUN, 2, GUARD_MS));
	TEST_EQ(f.br.stun_ok, 2);
	TEST_ERR(shared_rtp_from(&f, k4.us));
	TEST_ERR(wait_stat(&f, STAT(w3_dropped), 3));

	/* ... until call B accepts a check from it */
	TEST_ERR(br_check_from(&g.br, k4.us, g.br.rpwd, br_ufrag, true));
	TEST_ERR(wait_for(&f, U_STUN, 3, GUARD_MS));
	/* answered, but not with A's password: B answered */
	TEST_EQ(f.br.stun_ok, 2);
	TEST_EQ(f.br.scode, 0);
	TEST_ERR(shared_rtp_from(&f, k4.us));
	TEST_ERR(wait_stat(&g, STAT(w3_dropped), 2));
	TEST_EQ(dropped(f.s), 3);

	/* call A ends: its addresses are unknown again */
	f.s = mem_deref(f.s);
	TEST_ERR(shared_rtp_from(&g, f.br.us));
	TEST_ERR(shared_rtp_from(&g, g.br.us));
	TEST_ERR(wait_stat(&g, STAT(w3_dropped), 3));
	TEST_EQ(agw_shared_unknown(f.agw->shared), 2);

 out:
	mem_deref(k3.us);
	mem_deref(k4.us);
	g.s = mem_deref(g.s);
	fix_close(&g);
	fix_close(&f);
	return err;
}


/* --- the shared core-side port (media_core_port_shared) ------------- */

static uint64_t core_dropped(struct agw_sess *s)
{
	struct agw_stats st;

	memset(&st, 0, sizeof(st));
	(void)agw_sess_stats(s, 0, &st);

	return st.core_dropped;
}


/* A call B on f's AGW: transport and stream 0, its core at core_rtp
   (core_peer: known at set-up, as in a core offer) */
static int call_b(struct fix *f, struct fix *g, const struct sa *core_rtp,
		  bool core_peer)
{
	struct agw_stream_prm sp;
	uint8_t pt = PT;
	int err;

	memset(&sp, 0, sizeof(sp));
	sp.ptv = &pt;
	sp.ptc = 1;
	sp.core_rtcp_mux = true;
	sp.core_peer = core_peer ? core_rtp : NULL;

	err = agw_sess_alloc(&g->s, f->agw, false, close_h, g);
	if (!err)
		err = agw_sess_transport(g->s, 0, NULL, &g->wi);
	if (!err)
		err = agw_sess_stream(g->s, 0, &sp, &g->si);
	if (!err)
		err = agw_sess_core_peer(g->s, 0, core_rtp, NULL);

	return err;
}


/* f: an AGW with the shared core port and call A set up on it */
static int core_shared_open(struct fix *f)
{
	struct agw_conf conf;
	int err;

	conf_std(&conf);
	conf.media_core_port_shared = true;

	err = fix_open(f, &conf);
	if (!err)
		err = call_setup(f, NULL);

	return err;
}


/* The whole active-role call (SRTP and SRTCP both ways, RTCP to the
   core's own RTCP port, BUNDLE with a muxing second stream, feedback,
   re-INVITE) with both sides on shared ports: nothing from unknown
   sources */
int test_agw_core_shared_call(void)
{
	return active(true, true);
}


/* Two calls whose cores share a host (two ports) on the shared core
   port: each datagram reaches the call whose core SDP named its source,
   RTCP on the RTCP port likewise; unknown sources are dropped and
   counted; a re-INVITE moving the core's port moves the demultiplexing;
   a core address another call has gets a port of its own when known at
   set-up (core offer), else is taken over (counted) */
int test_agw_core_shared(void)
{
	struct fix f, g, h;
	struct agw_stream *stb;
	struct sock kb, kx;
	uint8_t buf[sizeof(rtp_pkt)];
	uint64_t coll, ub, uc;
	unsigned i;
	int err;

	memset(&g, 0, sizeof(g));
	memset(&h, 0, sizeof(h));
	memset(&kb, 0, sizeof(kb));
	memset(&kx, 0, sizeof(kx));
	TEST_ERR(core_shared_open(&f));
	TEST_ERR(sock_open(&kb, sock_recv, &kb));
	TEST_ERR(sock_open(&kx, sock_recv, &kx));
	TEST_ASSERT(sa_cmp(&kb.addr, &f.rtp.addr, SA_ADDR));
	TEST_ERR(call_b(&f, &g, &kb.addr, false));

	/* one port pair for both calls */
	TEST_ASSERT(sa_cmp(&f.si.rtp, &g.si.rtp, SA_ALL));
	TEST_EQ(sa_port(&f.si.rtcp), sa_port(&f.si.rtp) + 1);
	stb = agw_sess_stream_find(g.s, 0);
	TEST_ASSERT(stb && stb->core_shared);

	/* (no early media: what arrives is dropped by its own call) */
	TEST_ERR(sock_send(&f.rtp, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&f, STAT(core_dropped), 1));
	TEST_EQ(core_dropped(g.s), 0);
	TEST_ERR(sock_send(&kb, &g.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&g, STAT(core_dropped), 1));
	TEST_EQ(core_dropped(f.s), 1);

	/* RTCP from A's core RTCP address on the RTCP port: A's */
	TEST_ERR(sock_send(&f.rtcp, &f.si.rtcp, rtcp_pkt, sizeof(rtcp_pkt)));
	TEST_ERR(wait_stat(&f, STAT(core_dropped), 2));
	TEST_EQ(core_dropped(g.s), 1);

	/* an unknown source on the host of both calls' cores: dropped by
	   the port, no call sees it; A's marker arrives after it */
	TEST_ERR(sock_send(&kx, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(sock_send(&f.rtp, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&f, STAT(core_dropped), 3));
	TEST_EQ(agw_coreport_unknown(f.agw->coreport, &coll, NULL), 1);
	TEST_EQ(coll, 0);
	TEST_EQ(core_dropped(g.s), 1);
	agw_unknown_sources(f.agw, &ub, &uc);   /* the metrics' figures */
	TEST_EQ(uc, 1);
	TEST_EQ(ub, 0);

	/* toward B's core: from the shared port, to B's address only */
	memcpy(buf, rtp_pkt, sizeof(buf));
	TEST_ERR(agw_core_send(stb, false, buf, sizeof(buf)));
	for (i = 0; i < 100 && !kb.rx; i++)
		TEST_ERR(expect_nothing(&f, U_CLOSED, 1, 20));
	TEST_EQ(kb.rx, 1);
	TEST_EQ(f.rtp.rx, 0);

	/* re-INVITE: B's core moves to another port; the old one is now
	   unknown */
	TEST_ERR(agw_sess_core_peer(g.s, 0, &kx.addr, NULL));
	TEST_ERR(sock_send(&kx, &g.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&g, STAT(core_dropped), 2));
	TEST_ERR(sock_send(&kb, &g.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(sock_send(&kx, &g.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&g, STAT(core_dropped), 3));
	TEST_EQ(agw_coreport_unknown(f.agw->coreport, NULL, NULL), 2);
	TEST_EQ(core_dropped(f.s), 3);

	/* call C offered by a core at A's address: a port pair of its own,
	   A keeps its media */
	TEST_ERR(call_b(&f, &h, &f.rtp.addr, true));
	TEST_ASSERT(sa_port(&h.si.rtp) != sa_port(&f.si.rtp));
	TEST_ASSERT(!agw_sess_stream_find(h.s, 0)->core_shared);
	TEST_ERR(sock_send(&f.rtp, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&f, STAT(core_dropped), 4));
	TEST_ERR(sock_send(&f.rtp, &h.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&h, STAT(core_dropped), 1));
	TEST_EQ(core_dropped(f.s), 4);

	/* B's core answers (re-INVITE) with A's address: the AGW's port is
	   fixed by then, so B takes the address over, counted */
	TEST_ERR(agw_sess_core_peer(g.s, 0, &f.rtp.addr, NULL));
	TEST_ERR(sock_send(&f.rtp, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&g, STAT(core_dropped), 4));
	TEST_EQ(core_dropped(f.s), 4);
	TEST_EQ(agw_coreport_unknown(f.agw->coreport, &coll, NULL), 2);
	TEST_EQ(coll, 1);

	/* B ends: A's address is nobody's now */
	g.s = mem_deref(g.s);
	TEST_ERR(sock_send(&f.rtp, &f.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(sock_send(&f.rtcp, &f.si.rtcp, rtcp_pkt, sizeof(rtcp_pkt)));
	TEST_ERR(wait_stat(&f, STAT(core_dropped), 5));
	TEST_EQ(agw_coreport_unknown(f.agw->coreport, NULL, NULL), 3);

 out:
	mem_deref(kb.us);
	mem_deref(kx.us);
	h.s = mem_deref(h.s);
	g.s = mem_deref(g.s);
	fix_close(&h);
	fix_close(&g);
	fix_close(&f);
	return err;
}


/* Two users of this AGW calling each other through a core that does not
   anchor media (make run's Kamailio): the core offers call A's address,
   which is the shared port itself, to call B. B takes a port pair of its
   own, A's core is then B's port, and each leg's datagrams reach the
   other leg only; a stream on the shared port told that its core is the
   shared port itself gets nothing (no loop), counted */
int test_agw_core_shared_hairpin(void)
{
	struct fix f, g;
	struct agw_stream *sta, *stb;
	uint8_t buf[sizeof(rtp_pkt)];
	uint64_t coll;
	unsigned i;
	int err;

	memset(&g, 0, sizeof(g));
	TEST_ERR(core_shared_open(&f));
	sta = agw_sess_stream_find(f.s, 0);
	TEST_ASSERT(sta && sta->core_shared);
	TEST_ASSERT(agw_coreport_is_self(f.agw->coreport, &f.si.rtp));
	TEST_ASSERT(agw_coreport_is_self(f.agw->coreport, &f.si.rtcp));
	TEST_ASSERT(!agw_coreport_is_self(f.agw->coreport, &f.rtp.addr));

	/* B is offered A's address (the shared port): a pair of its own */
	TEST_ERR(call_b(&f, &g, &f.si.rtp, true));
	stb = agw_sess_stream_find(g.s, 0);
	TEST_ASSERT(stb && !stb->core_shared);
	TEST_ASSERT(sa_port(&g.si.rtp) != sa_port(&f.si.rtp));

	/* B's answer names its port to A */
	TEST_ERR(agw_sess_core_peer(f.s, 0, &g.si.rtp, NULL));

	/* B -> A: from B's port to the shared port, A's (dropped there: no
	   browser keys in this fixture) */
	memcpy(buf, rtp_pkt, sizeof(buf));
	TEST_ERR(agw_core_send(stb, false, buf, sizeof(buf)));
	TEST_ERR(wait_stat(&f, STAT(core_dropped), 1));
	TEST_EQ(core_dropped(g.s), 0);

	/* A -> B: from the shared port to B's port, B's */
	memcpy(buf, rtp_pkt, sizeof(buf));
	TEST_ERR(agw_core_send(sta, false, buf, sizeof(buf)));
	TEST_ERR(wait_stat(&g, STAT(core_dropped), 1));
	TEST_EQ(core_dropped(f.s), 1);
	TEST_EQ(agw_coreport_unknown(f.agw->coreport, &coll, NULL), 0);
	TEST_EQ(coll, 0);

	/* A told its core is the shared port itself (a re-INVITE): not
	   demultiplexed, its own datagrams do not come back to it */
	TEST_ERR(agw_sess_core_peer(f.s, 0, &f.si.rtp, NULL));
	TEST_EQ(agw_coreport_unknown(f.agw->coreport, &coll, NULL), 0);
	TEST_EQ(coll, sta->rtcp_mux ? 1 : 2);   /* RTP (and RTCP: +1) */
	memcpy(buf, rtp_pkt, sizeof(buf));
	TEST_ERR(agw_core_send(sta, false, buf, sizeof(buf)));
	memcpy(buf, rtp_pkt, sizeof(buf));
	TEST_ERR(agw_core_send(stb, false, buf, sizeof(buf)));
	for (i = 0; i < 100 && agw_coreport_unknown(f.agw->coreport,
						     NULL, NULL) < 2; i++)
		TEST_ERR(expect_nothing(&f, U_CLOSED, 1, 20));
	TEST_EQ(agw_coreport_unknown(f.agw->coreport, NULL, NULL), 2);
	TEST_EQ(core_dropped(f.s), 1);
	TEST_EQ(core_dropped(g.s), 1);

 out:
	g.s = mem_deref(g.s);
	fix_close(&g);
	fix_close(&f);
	return err;
}


/* A core that sends from another port of its host than its SDP named
   (asymmetric RTP): the one stream whose core is on that address takes
   it (counted; core.c latches to it); with two such streams the
   datagram is nobody's */
int test_agw_core_shared_host(void)
{
	struct fix f, g, h;
	struct sock kb, kh, kx;
	uint64_t same;
	int err;

	memset(&g, 0, sizeof(g));
	memset(&h, 0, sizeof(h));
	memset(&kb, 0, sizeof(kb));
	memset(&kh, 0, sizeof(kh));
	memset(&kx, 0, sizeof(kx));
	TEST_ERR(core_shared_open(&f));
	TEST_ERR(sock_open_at(&kb, "127.0.0.2", sock_recv, &kb));
	TEST_ERR(sock_open_at(&kh, "127.0.0.2", sock_recv, &kh));
	TEST_ERR(sock_open_at(&kx, "127.0.0.2", sock_recv, &kx));
	TEST_ERR(call_b(&f, &g, &kb.addr, false));
	TEST_ASSERT(agw_sess_stream_find(g.s, 0)->core_shared);

	/* B's core host, another port: B's */
	TEST_ERR(sock_send(&kx, &g.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&g, STAT(core_dropped), 1));
	TEST_EQ(agw_coreport_unknown(f.agw->coreport, NULL, &same), 0);
	TEST_EQ(same, 1);
	TEST_EQ(core_dropped(f.s), 0);

	/* a second call with its core on that host: neither's */
	TEST_ERR(call_b(&f, &h, &kh.addr, false));
	TEST_ASSERT(agw_sess_stream_find(h.s, 0)->core_shared);
	TEST_ERR(sock_send(&kx, &g.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(sock_send(&kh, &g.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&h, STAT(core_dropped), 1));
	TEST_EQ(agw_coreport_unknown(f.agw->coreport, NULL, &same), 1);
	TEST_EQ(same, 1);
	TEST_EQ(core_dropped(g.s), 1);

	/* H ends: B is alone on the host again */
	h.s = mem_deref(h.s);
	TEST_ERR(sock_send(&kx, &g.si.rtp, rtp_pkt, sizeof(rtp_pkt)));
	TEST_ERR(wait_stat(&g, STAT(core_dropped), 2));
	TEST_EQ(agw_coreport_unknown(f.agw->coreport, NULL, &same), 1);
	TEST_EQ(same, 2);

 out:
	mem_deref(kb.us);
	mem_deref(kh.us);
	mem_deref(kx.us);
	h.s = mem_deref(h.s);
	g.s = mem_deref(g.s);
	fix_close(&h);
	fix_close(&g);
	fix_close(&f);
	return err;
}

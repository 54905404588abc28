/**
 * @file gen.c  mediabench: the load generator
 *
 * N browsers (a UDP socket, an ICE check as the controlling agent, a
 * dtls_sess and an srtpx) and N core endpoints (a UDP socket, plain RTP).
 * Each stream sends one 172-byte packet every 20 ms; calls are spread
 * over the 20 one-millisecond slots of a period. Every packet carries the
 * generator's send time (CLOCK_MONOTONIC, taken before SRTP protect) and
 * the call index; the receive handler computes the one-way delay.
 *
 * Transcoded (--xcode): the browser sends Opus frames of a 1 kHz tone
 * (libopus at 16 kHz through src/codec, 50 different frames in a loop),
 * the core PCMA, AMR-WB or G.722 frames of a 700 Hz tone (G.722 on its
 * RTP clock of 8000, RFC 3551: +160 a packet); what arrives is the
 * target's own encoding (its payload type checked), so the delay is taken
 * through the RTP timestamps: a transcoder maps them linearly (rtpengine
 * drops the marker bit, so that cannot tag a packet), the first packet
 * of a stream is taken to be made from the newest packet sent before it
 * (the anchor), each later one from the packet its timestamp's frames
 * after the anchor (send times kept in a ring); a packet that would then
 * come from one not sent yet moves the anchor back. So each stream's
 * delay is the least that causality allows: exact while the target
 * keeps under 20 ms, a lower bound (by 20 ms steps) if it buffers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <re.h>
#include "tls/dtls.h"
#include "srtp/srtp.h"
#include "codec/codec.h"
#include "mb.h"

enum {
	SETUP_MS   = 60000,
	CHECK_MS   = 200,            /* ICE check retransmission */
	CONSENT_MS = 5000,           /* consent freshness checks */
	WARMUP_MS  = 2000,
	DRAIN_MS   = 300,            /* quiet time that ends the run */
	DRAIN_MAX_MS = 10000,
	BUF        = 2048,           /* a DTLS flight's datagram fits */
	BATCH      = 64,             /* datagrams per sendmmsg/recvmmsg */
	SOCKBUF    = 4 << 20,
	BR_NET     = 0x7f010000,     /* browsers: 127.1.0.0/16 */
	BR_PER_NET = 250,            /* 127.1.X.1 ... 127.1.X.250 */
	CORE_NET   = 0x7f020000,     /* core ends: 127.2.0.0/16, the same */
};

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

struct gen;

struct call {
	struct gen *g;
	unsigned idx;
	struct mb_call_prm prm;

	/* browser */
	struct sa baddr;
	struct sa caddr;             /* its core end's address */
	struct dtls_sess *dtls;
	struct srtpx *srtp;
	bool stun_ok;
	bool dtls_started;
	bool failed;
	uint64_t last_check;
	uint16_t bseq;
	uint32_t bts;

	/* core */
	uint16_t cseq;
	uint32_t cts;

	/* transcoded, per direction (0: browser -> core, 1: core ->
	   browser): packets sent, their send times, the anchor */
	uint32_t sent[2];
	uint64_t ring[2][64];
	bool anch[2];
	uint32_t anchor[2], ts0[2];
};

/* a payload of a transcoded stream */
struct xpay {
	uint8_t b[MB_PAYLOAD + 96];
	uint16_t n;
};

/* Datagrams to send with one sendmmsg(); with pktinfo, each one leaves
   from its own browser's address */
struct batch {
	int fd;
	unsigned n;
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in to[BATCH];
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} ctl[BATCH];
	bool media[BATCH];           /* counts as sent media */
	uint8_t buf[BATCH][BUF];
};

/* Datagrams read with one recvmmsg() */
struct rxbatch {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} ctl[BATCH];
	uint8_t buf[BATCH][BUF];
};

struct gen {
	struct call *cv;
	unsigned calls;
	unsigned keyed;
	unsigned failed;
	unsigned started;            /* DTLS handshakes started */
	unsigned signalled;          /* calls the target has allocated */
	bool setting_up;             /* a group is being set up */
	struct tls *tls;
	char lfp[128];
	struct tmr tmr;
	uint64_t t0;                 /* traffic start (ns) */
	uint64_t next_slot;
	uint64_t deadline;
	bool traffic;
	bool drain;
	uint64_t drain_rx, drain_ts;
	bool measure;
	uint64_t tx, rx, tx_all, rx_all;
	uint64_t rx_dir[2];          /* to the core, to the browser */
	uint64_t bad;                /* undecryptable or foreign */
	uint64_t send_err;
	unsigned suite;
	bool setup_timeout;

	/* one socket for all browsers (0.0.0.0:P, each browser its own
	   127.1.x.y source via IP_PKTINFO) and one for all core ends
	   (0.0.0.0:Q, each core end its own 127.2.x.y; the payload names
	   the call) */
	int bfd, cfd;
	uint16_t bport;
	struct sa caddr;
	struct batch *bb, *cb;
	struct rxbatch *rx_b;
	enum mb_xc xc;
	struct xpay brv[MB_MARK_EVERY], corev[MB_MARK_EVERY];
	uint64_t timed;              /* packets timed */
	uint64_t wrong_pt;
};

static const char br_ufrag[] = "mbBrUfrag";
static const char br_pwd[]   = "mbBrowserPassword012345";


static uint32_t br_ip(unsigned idx)
{
	return BR_NET | (idx / BR_PER_NET) << 8 | (1 + idx % BR_PER_NET);
}


/* call idx's core end: its own address too, so that a target can tell
   the calls apart by source (a shared core-side port) */
static uint32_t core_ip(unsigned idx)
{
	return CORE_NET | (br_ip(idx) & 0xffff);
}


static struct call *ip_call(struct gen *g, uint32_t ip, uint32_t net0)
{
	unsigned net = (ip >> 8) & 0xff, host = ip & 0xff, idx;

	if ((ip & 0xffff0000) != net0 || !host || host > BR_PER_NET)
		return NULL;

	idx = net * BR_PER_NET + host - 1;

	return idx < g->calls ? &g->cv[idx] : NULL;
}



/* --- sending -------------------------------------------------------- */

static void batch_flush(struct gen *g, struct batch *b)
{
	unsigned done = 0;

	while (done < b->n) {
		int n = sendmmsg(b->fd, b->msg + done, b->n - done, 0);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			/* drop the one that failed, go on with the rest */
			if (!g->send_err++)
				(void)re_fprintf(stderr, "mediabench: "
					      "sendmmsg: %m\n", errno);
			++done;
			continue;
		}

		for (; n > 0; n--, done++) {
			if (!b->media[done])
				continue;
			++g->tx_all;
			if (g->measure)
				++g->tx;
		}
	}

	b->n = 0;
}


static uint8_t *batch_buf(struct gen *g, struct batch *b)
{
	if (b->n == BATCH)
		batch_flush(g, b);

	return b->buf[b->n];
}


/* Queue batch_buf()'s datagram; src_ip 0: the socket's own address */
static void batch_put(struct batch *b, size_t len, const struct sa *dst,
		      uint32_t src_ip, bool media)
{
	struct mmsghdr *m = &b->msg[b->n];

	b->media[b->n] = media;
	b->iov[b->n].iov_base = b->buf[b->n];
	b->iov[b->n].iov_len = len;
	b->to[b->n] = dst->u.in;

	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_name = &b->to[b->n];
	m->msg_hdr.msg_namelen = sizeof(b->to[b->n]);
	m->msg_hdr.msg_iov = &b->iov[b->n];
	m->msg_hdr.msg_iovlen = 1;

	if (src_ip) {
		struct cmsghdr *cm = &b->ctl[b->n].h;
		struct in_pktinfo pi;

		memset(b->ctl[b->n].b, 0, sizeof(b->ctl[b->n].b));
		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst.s_addr = htonl(src_ip);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		m->msg_hdr.msg_control = b->ctl[b->n].b;
		m->msg_hdr.msg_controllen = sizeof(b->ctl[b->n].b);
	}

	++b->n;
}


/* One datagram now (signalling: STUN, DTLS), from a browser */
static int br_send(struct call *c, const struct sa *dst, const uint8_t *p,
		   size_t len)
{
	struct gen *g = c->g;
	uint8_t *buf;

	if (len > BUF)
		return EMSGSIZE;

	buf = batch_buf(g, g->bb);
	memcpy(buf, p, len);
	batch_put(g->bb, len, dst, br_ip(c->idx), false);
	batch_flush(g, g->bb);

	return 0;
}


/* --- receiving ------------------------------------------------------ */

/* the core side's payload type and timestamp step (RTP clock / 50) */
static uint8_t core_pt(const struct gen *g)
{
	return g->xc == MB_XC_OPUS_PCMA ? 8 : g->xc == MB_XC_OPUS_G722 ? 9 :
		MB_AMRWB_PT;
}


static uint32_t core_step(const struct gen *g)
{
	return g->xc == MB_XC_OPUS_AMRWB ? 320 : 160;
}


/* a transcoded packet (dir 0: at the core, 1: at the browser): counted
   if its payload type is the receiver's, timed through its timestamp */
static void xc_rx(struct gen *g, uint64_t now, const uint8_t *p, size_t n,
		  struct call *c, int dir)
{
	uint8_t pt = dir ? MB_OPUS_PT : core_pt(g);
	uint32_t step = dir ? 960 : core_step(g);
	uint32_t ts, k;

	if (n < MB_HDR) {
		++g->bad;
		return;
	}
	if ((p[1] & 0x7f) != pt) {
		++g->wrong_pt;
		return;
	}

	ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
		(uint32_t)p[6] << 8 | p[7];
	if (!c->anch[dir] && c->sent[dir]) {
		c->anch[dir] = true;
		c->anchor[dir] = c->sent[dir] - 1;
		c->ts0[dir] = ts;
	}

	++g->rx_all;
	if (!g->measure)
		return;

	++g->rx;
	++g->rx_dir[dir];

	k = c->anchor[dir] + (ts - c->ts0[dir]) / step;
	if (c->anch[dir] && (int32_t)(k - c->sent[dir]) >= 0 &&
	    k - c->sent[dir] < 64) {
		/* from a packet not sent yet: the anchor was too new (the
		   first packet took over 20 ms); the latest it can be */
		c->anchor[dir] -= k - c->sent[dir] + 1;
		k = c->sent[dir] - 1;
	}
	if (c->anch[dir] && k < c->sent[dir] && c->sent[dir] - k <= 64 &&
	    now > c->ring[dir][k % 64]) {
		mb_hist_add(now - c->ring[dir][k % 64]);
		++g->timed;
	}
}


static void media_rx(struct gen *g, uint64_t now, const uint8_t *p,
		     size_t n, unsigned idx, int dir)
{
	uint64_t t;
	uint32_t i;

	if (g->xc) {
		xc_rx(g, now, p, n, &g->cv[idx], dir);
		return;
	}

	if (n != MB_PKT) {
		++g->bad;
		return;
	}

	memcpy(&t, p + MB_HDR, sizeof(t));
	memcpy(&i, p + MB_HDR + 8, sizeof(i));
	if (i != idx || t > now) {
		++g->bad;
		return;
	}

	++g->rx_all;
	if (g->measure) {
		++g->rx;
		++g->rx_dir[dir];
		mb_hist_add(now - t);
	}
}


static void core_pkt(struct gen *g, uint64_t now, const struct call *c,
		     const uint8_t *p, size_t n)
{
	uint32_t i;

	/* transcoded: the payload cannot name the call, the core end's
	   address it arrived at does */
	if (g->xc) {
		if (c)
			media_rx(g, now, p, n, c->idx, 0);
		else
			++g->bad;
		return;
	}

	if (n != MB_PKT) {
		++g->bad;
		return;
	}

	memcpy(&i, p + MB_HDR + 8, sizeof(i));
	if (i >= g->calls) {
		++g->bad;
		return;
	}

	media_rx(g, now, p, n, i, 0);
}


static void br_stun(struct call *c, const struct sa *src, struct mbuf *mb)
{
	struct stun_msg *msg;
	struct mbuf *rsp;

	if (stun_msg_decode(&msg, mb, NULL))
		return;

	switch (stun_msg_class(msg)) {

	case STUN_CLASS_REQUEST:
		/* a full ICE agent (rtpengine) checks us too */
		if (stun_msg_chk_mi(msg, (const uint8_t *)br_pwd,
				    strlen(br_pwd)))
			break;
		rsp = mbuf_alloc(256);
		if (rsp && !stun_msg_encode(rsp, STUN_METHOD_BINDING,
					    STUN_CLASS_SUCCESS_RESP,
					    stun_msg_tid(msg), NULL,
					    (const uint8_t *)br_pwd,
					    strlen(br_pwd), true, 0, 1,
					    STUN_ATTR_XOR_MAPPED_ADDR, src))
			(void)br_send(c, src, rsp->buf, rsp->end);
		mem_deref(rsp);
		break;

	case STUN_CLASS_SUCCESS_RESP:
		if (!stun_msg_chk_mi(msg, (const uint8_t *)c->prm.rpwd,
				     strlen(c->prm.rpwd)))
			c->stun_ok = true;
		break;

	default:
		break;
	}

	mem_deref(msg);
}


static void br_pkt(struct call *c, const struct sa *src, uint64_t now,
		   uint8_t *p, size_t n)
{
	if (!n)
		return;

	if (p[0] <= 3) {
		/* stun_msg_decode() keeps a reference: a real mbuf */
		struct mbuf *mb = mbuf_alloc(n);

		if (mb && !mbuf_write_mem(mb, p, n)) {
			mb->pos = 0;
			br_stun(c, src, mb);
		}
		mem_deref(mb);
	}
	else if (p[0] >= 20 && p[0] <= 63) {
		if (c->dtls)
			(void)dtls_sess_recv(c->dtls, p, n);
	}
	else if (p[0] >= 128 && p[0] <= 191 && c->srtp) {
		if (srtpx_unprotect(c->srtp, p, &n)) {
			++c->g->bad;
			return;
		}
		media_rx(c->g, now, p, n, c->idx, 1);
	}
}


/* Drain a socket: browsers' by destination address, core's by payload */
static void sock_recv(struct gen *g, int fd, bool browser)
{
	struct rxbatch *r = g->rx_b;
	unsigned i;

	for (;;) {
		uint64_t now;
		int n;

		for (i = 0; i < BATCH; i++) {
			struct msghdr *h = &r->msg[i].msg_hdr;

			r->iov[i].iov_base = r->buf[i];
			r->iov[i].iov_len = BUF;
			memset(h, 0, sizeof(*h));
			h->msg_name = &r->from[i];
			h->msg_namelen = sizeof(r->from[i]);
			h->msg_iov = &r->iov[i];
			h->msg_iovlen = 1;
			h->msg_control = r->ctl[i].b;
			h->msg_controllen = sizeof(r->ctl[i].b);
		}

		n = recvmmsg(fd, r->msg, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;

		now = mb_now_ns();
		for (i = 0; i < (unsigned)n; i++) {
			struct msghdr *h = &r->msg[i].msg_hdr;
			size_t len = r->msg[i].msg_len;
			struct cmsghdr *cm;
			struct call *c = NULL;
			struct sa src;

			sa_init(&src, AF_INET);
			src.u.in = r->from[i];

			for (cm = CMSG_FIRSTHDR(h); cm;
			     cm = CMSG_NXTHDR(h, cm)) {
				struct in_pktinfo pi;

				if (cm->cmsg_level != IPPROTO_IP ||
				    cm->cmsg_type != IP_PKTINFO)
					continue;
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				c = ip_call(g, ntohl(pi.ipi_addr.s_addr),
					    browser ? BR_NET : CORE_NET);
			}
			if (!browser) {
				core_pkt(g, now, c, r->buf[i], len);
				continue;
			}
			if (!c) {
				++g->bad;
				continue;
			}

			br_pkt(c, &src, now, r->buf[i], len);
		}

		if (n < BATCH)
			return;
	}
}


static void brecv_h(int flags, void *arg)
{
	struct gen *g = arg;
	(void)flags;

	sock_recv(g, g->bfd, true);
}


static void crecv_h(int flags, void *arg)
{
	struct gen *g = arg;
	(void)flags;

	sock_recv(g, g->cfd, false);
}


/* --- ICE and DTLS as a browser -------------------------------------- */

static int br_send_h(struct mbuf *mb, void *arg)
{
	struct call *c = arg;

	return br_send(c, &c->prm.w3, mbuf_buf(mb), mbuf_get_left(mb));
}


static void br_estab_h(void *arg)
{
	struct call *c = arg;
	uint8_t ck[46], sk[46];
	enum srtp_suite suite;
	bool cli = dtls_sess_role(c->dtls) == DTLS_CLIENT;

	if (c->srtp)
		return;

	if (dtls_sess_srtp_keys(c->dtls, &suite, ck, sizeof(ck), sk,
				sizeof(sk)) ||
	    srtpx_alloc(&c->srtp, suite, cli ? ck : sk, cli ? sk : ck)) {
		c->failed = true;
		++c->g->failed;
		return;
	}

	c->g->suite = suite;
	++c->g->keyed;
}


static void br_close_h(int err, void *arg)
{
	struct call *c = arg;

	(void)re_fprintf(stderr, "mediabench: call %u: DTLS closed (%m)\n",
		      c->idx, err);
	if (!c->failed) {
		c->failed = true;
		++c->g->failed;
	}
}


static int br_check(struct call *c, bool nominate)
{
	uint32_t prio = 0x6e001eff;
	uint64_t tiebrk = 0x0123456789abcdefULL + c->idx;
	uint8_t tid[12];
	char user[200];
	struct mbuf *mb;
	int err;

	mb = mbuf_alloc(256);
	if (!mb)
		return ENOMEM;

	rand_bytes(tid, sizeof(tid));
	(void)re_snprintf(user, sizeof(user), "%s:%s", c->prm.rufrag,
			  br_ufrag);

	err = stun_msg_encode(mb, STUN_METHOD_BINDING, STUN_CLASS_REQUEST,
			      tid, NULL, (const uint8_t *)c->prm.rpwd,
			      strlen(c->prm.rpwd), true, 0, 4,
			      STUN_ATTR_USERNAME, user,
			      STUN_ATTR_PRIORITY, &prio,
			      STUN_ATTR_CONTROLLING, &tiebrk,
			      STUN_ATTR_USE_CAND, nominate ? &nominate : NULL);
	if (!err)
		err = br_send(c, &c->prm.w3, mb->buf, mb->end);

	mem_deref(mb);
	return err;
}


static int br_dtls_start(struct call *c)
{
	enum dtls_role role = c->prm.br_server ? DTLS_SERVER : DTLS_CLIENT;
	int err;

	err = dtls_sess_alloc(&c->dtls, c->g->tls, role, br_send_h,
			      br_estab_h, NULL, br_close_h, c);
	if (!err)
		err = dtls_sess_set_peer_fingerprint(c->dtls,
			TLS_FINGERPRINT_SHA256, c->prm.rfp, MB_FP_LEN);
	/* AES-CM only unless --gcm (the figures before it) */
	if (!err)
		err = dtls_sess_set_srtp_gcm(c->dtls, mb_gcm);
	if (!err) {
		dtls_sess_set_timeout(c->dtls, 200, 2000);
		if (role == DTLS_CLIENT)
			err = dtls_sess_start(c->dtls);
	}

	c->dtls_started = true;
	return err;
}


/* --- media ---------------------------------------------------------- */

static void rtp_hdr(uint8_t *p, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = 0;                    /* PCMU */
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}


/* a transcoded stream's packet: Opus from the browser, PCMA or AMR-WB
   from the core, every MB_MARK_EVERY-th marked and timed */
static void xc_send(struct call *c, bool browser)
{
	struct gen *g = c->g;
	int dir = browser ? 0 : 1;
	uint32_t n = c->sent[dir];
	const struct xpay *x = browser ? &g->brv[n % MB_MARK_EVERY] :
		&g->corev[n % MB_MARK_EVERY];
	bool mark = n % MB_MARK_EVERY == 0;
	struct batch *b = browser ? g->bb : g->cb;
	uint8_t *buf = batch_buf(g, b);
	size_t len = MB_HDR + x->n;

	if (browser)
		rtp_hdr(buf, c->bseq++, c->bts += 960, 0x10000000u + c->idx);
	else
		rtp_hdr(buf, c->cseq++, c->cts += core_step(g),
			0x20000000u + c->idx);
	buf[1] = (uint8_t)((mark ? 0x80 : 0) | (browser ? MB_OPUS_PT :
		core_pt(g)));
	memcpy(buf + MB_HDR, x->b, x->n);
	c->ring[dir][n % 64] = mb_now_ns();
	++c->sent[dir];

	if (browser && srtpx_protect(c->srtp, buf, &len, BUF))
		return;

	batch_put(b, len, browser ? &c->prm.w3 : &c->prm.core,
		  browser ? br_ip(c->idx) : core_ip(c->idx), true);
}


/* the loops of frames each side sends (libopus, vo-amrwbenc, G.711 and
   G.722 through src/codec: what a browser and a phone would send); a
   build without TRANSCODE (make REL=1 TRANSCODE=0) has no --xcode */
static int xc_payloads(struct gen *g)
{
#ifndef IMSEDGE_TRANSCODE
	(void)g;
	return ENOTSUP;
#else
	struct codec_prm op = {16000, 9, 32000, false, true, 0};
	struct codec_prm ap = {16000, 0, 0, false, false, 8};
	struct codec_enc *opus = NULL, *amr = NULL, *g722 = NULL;
	int16_t pcm[320];
	uint8_t frame[CODEC_MAX_FRAME];
	size_t i, k, len;
	int err;

	err  = codec_enc_alloc(&opus, codec_get(CODEC_OPUS), &op);
	err |= codec_enc_alloc(&amr, codec_get(CODEC_AMRWB), &ap);
	err |= codec_enc_alloc(&g722, codec_get(CODEC_G722), &ap);
	if (err) {
		err = ENOMEM;
		goto out;
	}

	for (i = 0; i < MB_MARK_EVERY && !err; i++) {
		struct amr_rtp p;

		for (k = 0; k < 320; k++)
			pcm[k] = (int16_t)(8000 * sin(2 * M_PI * 1000 *
						      (i * 320 + k) / 16000));
		err = codec_encode(opus, frame, &len, pcm);
		if (err || len > sizeof(g->brv[i].b)) {
			err = err ? err : EOVERFLOW;
			break;
		}
		memcpy(g->brv[i].b, frame, len);
		g->brv[i].n = (uint16_t)len;

		for (k = 0; k < 320; k++)
			pcm[k] = (int16_t)(8000 * sin(2 * M_PI * 700 *
						      (i * 320 + k) / 16000));
		if (g->xc == MB_XC_OPUS_PCMA) {
			for (k = 0; k < 160; k++)  /* every other: 8 kHz */
				g->corev[i].b[k] = g711_pcm2alaw(pcm[2 * k]);
			g->corev[i].n = 160;
			continue;
		}
		if (g->xc == MB_XC_OPUS_G722) {  /* 320 samples: 160 bytes */
			err = codec_encode(g722, g->corev[i].b, &len, pcm);
			g->corev[i].n = (uint16_t)len;
			continue;
		}

		err = codec_encode(amr, frame, &len, pcm);
		p.n = 0;
		p.cmr = AMR_CMR_NONE;
		if (!err)
			err = amr_rtp_add(&p, true, frame, len);
		if (!err)
			err = amr_rtp_encode(g->corev[i].b,
					     sizeof(g->corev[i].b), &len, &p,
					     true, false);
		g->corev[i].n = (uint16_t)len;
	}

 out:
	mem_deref(opus);
	mem_deref(amr);
	mem_deref(g722);
	return err;
#endif
}


/* Queue one packet each way for a call */
static void send_pkts(struct call *c)
{
	struct gen *g = c->g;
	uint32_t idx = c->idx;
	size_t len = MB_PKT;
	uint8_t *buf;
	uint64_t t;

	if (g->xc) {
		xc_send(c, true);
		xc_send(c, false);
		return;
	}

	buf = batch_buf(g, g->bb);
	memset(buf, 0, MB_PKT);
	rtp_hdr(buf, c->bseq++, c->bts += 160, 0x10000000u + idx);
	memcpy(buf + MB_HDR + 8, &idx, sizeof(idx));
	t = mb_now_ns();
	memcpy(buf + MB_HDR, &t, sizeof(t));
	if (!srtpx_protect(c->srtp, buf, &len, BUF))
		batch_put(g->bb, len, &c->prm.w3, br_ip(idx), true);

	buf = batch_buf(g, g->cb);
	memset(buf, 0, MB_PKT);
	rtp_hdr(buf, c->cseq++, c->cts += 160, 0x20000000u + idx);
	memcpy(buf + MB_HDR + 8, &idx, sizeof(idx));
	memcpy(buf + MB_HDR, &t, sizeof(t));
	batch_put(g->cb, MB_PKT, &c->prm.core, core_ip(idx), true);
}


/* --- the 1 ms tick ---------------------------------------------------- */

static void tick_setup(struct gen *g, uint64_t now)
{
	unsigned i;

	/* ICE checks until answered, then DTLS, a few at a time */
	for (i = 0; i < g->signalled; i++) {
		struct call *c = &g->cv[i];

		/* keyed calls keep consent while the others set up (a slow
		   setup outlasts the target's consent timeout) */
		if (c->srtp && now - c->last_check > CONSENT_MS * 1000000ull) {
			c->last_check = now;
			(void)br_check(c, false);
		}
		if (c->failed || c->srtp)
			continue;
		if (!c->stun_ok &&
		    now - c->last_check > CHECK_MS * 1000000ull) {
			c->last_check = now;
			(void)br_check(c, true);
		}
		if (!c->stun_ok || c->dtls_started ||
		    g->started - g->keyed - g->failed >= mb_inflight)
			continue;
		++g->started;
		if (br_dtls_start(c)) {
			c->failed = true;
			++g->failed;
		}
	}

	if (g->keyed + g->failed >= g->signalled)
		re_cancel();
	else if (now > g->deadline) {
		g->setup_timeout = true;
		re_cancel();
	}
}


static void tick(void *arg)
{
	struct gen *g = arg;
	uint64_t now = mb_now_ns();
	unsigned i;

	tmr_start(&g->tmr, 1, tick, g);

	if (g->drain) {
		/* until nothing arrived for DRAIN_MS (a target that lags
		   still delivers), at most DRAIN_MAX_MS */
		if (g->rx_all != g->drain_rx) {
			g->drain_rx = g->rx_all;
			g->drain_ts = now;
		}
		if (now >= g->deadline ||
		    now - g->drain_ts >= DRAIN_MS * 1000000ull)
			re_cancel();
		return;
	}

	/* --stagger: calls set up while the keyed ones carry media */
	if (!g->traffic || g->setting_up)
		tick_setup(g, now);
	if (!g->traffic)
		return;

	/* every 1 ms slot since the last tick: call i sends in slot
	   i % 20 of each 20 ms period, both ways, and a consent check in
	   slot i % 5000 of each 5 s */
	for (; g->t0 + g->next_slot * 1000000ull <= now; g->next_slot++) {
		unsigned slot = (unsigned)(g->next_slot % MB_PTIME_MS);
		unsigned cslot = (unsigned)(g->next_slot % CONSENT_MS);

		for (i = slot; i < g->calls; i += MB_PTIME_MS) {
			if (g->cv[i].srtp)
				send_pkts(&g->cv[i]);
		}

		batch_flush(g, g->bb);
		batch_flush(g, g->cb);

		for (i = cslot; i < g->calls; i += CONSENT_MS) {
			if (g->cv[i].srtp)
				(void)br_check(&g->cv[i], false);
		}
	}

	if (now >= g->deadline)
		re_cancel();
}


static int run_until(struct gen *g, uint64_t ms)
{
	g->deadline = mb_now_ns() + ms * 1000000ull;
	tmr_start(&g->tmr, 1, tick, g);

	return re_main(NULL);
}


/* --- the run ---------------------------------------------------------- */

static int sock_open(int *fdp, struct sa *addr, const char *ip, bool pktinfo)
{
	struct sa laddr;
	socklen_t alen;
	int fd, on = 1, sz = SOCKBUF;
	int err = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return errno;

	(void)sa_set_str(&laddr, ip, 0);
	if (pktinfo && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on,
				  sizeof(on)))
		err = errno;
	if (!err && bind(fd, &laddr.u.sa, laddr.len))
		err = errno;

	/* root may exceed net.core.[rw]mem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));

	sa_init(addr, AF_INET);
	alen = sizeof(addr->u.in);
	if (!err && getsockname(fd, &addr->u.sa, &alen))
		err = errno;

	if (err) {
		(void)close(fd);
		return err;
	}

	*fdp = fd;
	return 0;
}


static void gen_close(struct gen *g)
{
	unsigned i;

	tmr_cancel(&g->tmr);
	for (i = 0; g->cv && i < g->calls; i++) {
		mem_deref(g->cv[i].dtls);
		mem_deref(g->cv[i].srtp);
	}
	free(g->cv);

	if (g->bfd >= 0) {
		fd_close(g->bfd);
		(void)close(g->bfd);
	}
	if (g->cfd >= 0) {
		fd_close(g->cfd);
		(void)close(g->cfd);
	}
	free(g->bb);
	free(g->cb);
	free(g->rx_b);
}


static int gen_open(struct gen *g)
{
	struct sa baddr;
	int err;

	g->bb = calloc(1, sizeof(*g->bb));
	g->cb = calloc(1, sizeof(*g->cb));
	g->rx_b = calloc(1, sizeof(*g->rx_b));
	if (!g->bb || !g->cb || !g->rx_b)
		return ENOMEM;

	/* the browsers' socket takes any 127.1.x.y (loopback only: the
	   addresses are on lo, and nothing is sent elsewhere) */
	err = sock_open(&g->bfd, &baddr, "0.0.0.0", true);
	if (!err)
		err = sock_open(&g->cfd, &g->caddr, "0.0.0.0", true);
	if (!err)
		err = fd_listen(g->bfd, FD_READ, brecv_h, g);
	if (!err)
		err = fd_listen(g->cfd, FD_READ, crecv_h, g);
	if (err)
		return err;

	g->bport = sa_port(&baddr);
	g->bb->fd = g->bfd;
	g->cb->fd = g->cfd;

	return 0;
}


static double loss_pct(const struct gen *g)
{
	if (!g->tx_all)
		return 0;

	return 100.0 * (double)(g->tx_all - min(g->rx_all, g->tx_all)) /
		(double)g->tx_all;
}


int mb_gen_run(struct mb_target *t, unsigned calls, unsigned secs,
	       struct tls *tls, struct mb_result *res)
{
	struct gen g;
	uint8_t md[MB_FP_LEN];
	double c0, c1, s0, s1;
	long rss0 = 0, rss1 = 0, anon0 = 0, anon1 = 0;
	char scf[64];
	uint64_t ts;
	unsigned i, grp, groups;
	int err, sc;

	memset(&g, 0, sizeof(g));
	memset(res, 0, sizeof(*res));
	g.bfd = g.cfd = -1;
	res->name = t->name;
	res->calls = calls;
	res->secs = secs;
	g.calls = calls;
	g.tls = tls;
	g.xc = t->xc;
	g.cv = calloc(calls, sizeof(*g.cv));
	if (!g.cv)
		return ENOMEM;

	err = gen_open(&g);
	if (err)
		goto out;
	if (g.xc) {
		err = xc_payloads(&g);
		if (err) {
			(void)re_fprintf(stderr, "mediabench: payloads: %m\n",
				      err);
			goto out;
		}
	}

	err = tls_fingerprint(tls, TLS_FINGERPRINT_SHA256, md, sizeof(md));
	if (err)
		goto out;
	mb_fp_hex(g.lfp, sizeof(g.lfp), md, sizeof(md));

	(void)mb_proc_rss(t->pid, "VmRSS", &rss0);
	(void)mb_proc_rss(t->pid, "RssAnon", &anon0);

	/* signalling: the target allocates each call; ICE + DTLS for all
	   calls at once, or (--stagger G) in G groups, each while the
	   calls keyed before it carry media */
	err = mb_proc_cpu(t->pid, &c0);
	if (err)
		goto out;
	ts = mb_now_ns();
	groups = mb_stagger ? min(mb_stagger, calls) : 1;
	for (grp = 0; grp < groups; grp++) {
		unsigned hi = (unsigned)((uint64_t)calls * (grp + 1) / groups);

		for (i = g.signalled; i < hi; i++) {
			struct call *c = &g.cv[i];

			c->g = &g;
			c->idx = i;
			sa_set_in(&c->baddr, br_ip(i), g.bport);
			sa_set_in(&c->caddr, core_ip(i), sa_port(&g.caddr));
			err = t->setup(t->arg, i, &c->baddr, &c->caddr,
				       br_ufrag, br_pwd, g.lfp, &c->prm);
			if (err) {
				(void)re_fprintf(stderr, "mediabench: %s: call "
					      "%u setup: %m\n", t->name, i,
					      err);
				goto out;
			}
			g.signalled = i + 1;
		}

		if (grp > 0 && !g.traffic) {
			g.traffic = true;
			g.t0 = mb_now_ns();
			g.next_slot = 0;
		}
		g.setting_up = true;
		err = run_until(&g, SETUP_MS);
		g.setting_up = false;
		if (err || g.keyed + g.failed < g.signalled)
			break;
	}
	res->setup_ms = (mb_now_ns() - ts) / 1000000;
	if (!mb_proc_cpu(t->pid, &c1))
		res->setup_cpu_s = c1 - c0;
	if (err)
		goto out;
	if (g.keyed < calls) {
		(void)re_fprintf(stderr, "mediabench: %s: only %u of %u calls "
			      "keyed SRTP (%u failed%s)\n", t->name, g.keyed,
			      calls, g.failed,
			      g.setup_timeout ? ", setup timed out" : "");
		err = ETIMEDOUT;
		goto out;
	}
	res->srtp_suite = g.suite;

	/* traffic: warm-up, then the measured window */
	mb_hist_reset();
	g.traffic = true;
	g.t0 = mb_now_ns();
	g.next_slot = 0;
	err = run_until(&g, WARMUP_MS);
	if (err)
		goto out;

	if (g.rx_all == 0) {
		(void)re_fprintf(stderr, "mediabench: %s: no packet came "
			      "through in the warm-up\n", t->name);
		err = EPROTO;
		goto out;
	}

	err = mb_proc_cpu(t->pid, &c0);
	if (err)
		goto out;
	sc = mb_sc_start(t->pid, scf, sizeof(scf));
	s0 = mb_self_cpu();
	ts = mb_now_ns();
	g.measure = true;

	err = run_until(&g, secs * 1000ull);
	g.measure = false;
	res->syscalls = mb_sc_stop(sc, scf);

	res->secs = (double)(mb_now_ns() - ts) / 1e9;
	(void)mb_proc_cpu(t->pid, &c1);
	s1 = mb_self_cpu();
	(void)mb_proc_rss(t->pid, "VmRSS", &rss1);
	(void)mb_proc_rss(t->pid, "RssAnon", &anon1);
	if (err)
		goto out;

	/* let what is in flight arrive */
	g.drain = true;
	g.drain_rx = g.rx_all;
	g.drain_ts = mb_now_ns();
	(void)run_until(&g, DRAIN_MAX_MS);

	res->tx = g.tx;
	res->rx = g.rx;
	res->rx_dir[0] = g.rx_dir[0];
	res->rx_dir[1] = g.rx_dir[1];
	res->tx_all = g.tx_all;
	res->rx_all = g.rx_all;
	res->cpu_s = c1 - c0;
	res->gen_cpu_s = s1 - s0;
	res->lat_p50 = mb_hist_pct(50);
	res->lat_p99 = mb_hist_pct(99);
	res->lat_max = mb_hist_max();
	res->rss_call_kib = (double)(rss1 - rss0) / calls;
	res->rss_anon_call_kib = (double)(anon1 - anon0) / calls;

	if (g.bad)
		(void)snprintf(res->note, sizeof(res->note),
			       "%llu foreign/undecryptable packets",
			       (unsigned long long)g.bad);
	if (g.xc)
		(void)snprintf(res->note + strlen(res->note),
			       sizeof(res->note) - strlen(res->note),
			       "%slatency from %llu packets; %llu with "
			       "the wrong payload type",
			       res->note[0] ? "; " : "",
			       (unsigned long long)g.timed,
			       (unsigned long long)g.wrong_pt);

	if (g.send_err)
		(void)snprintf(res->note + strlen(res->note),
			       sizeof(res->note) - strlen(res->note),
			       "%s%llu send errors", res->note[0] ? "; " : "",
			       (unsigned long long)g.send_err);

	if (loss_pct(&g) > mb_max_loss) {
		(void)re_fprintf(stderr, "mediabench: %s: %.3f%% of %llu "
			      "packets lost (more than %g%%); in the window "
			      "(%.1f s, generator CPU %.1f s) %llu sent, %llu to the core, %llu to the "
			      "browser; %llu send errors\n", t->name,
			      loss_pct(&g), (unsigned long long)g.tx_all,
			      mb_max_loss, res->secs,
			      res->gen_cpu_s,
			      (unsigned long long)g.tx,
			      (unsigned long long)g.rx_dir[0],
			      (unsigned long long)g.rx_dir[1],
			      (unsigned long long)g.send_err);
		err = EPROTO;
	}

	if (!g.rx_dir[0] || !g.rx_dir[1]) {
		(void)re_fprintf(stderr, "mediabench: %s: no packets in the "
			      "window toward the %s\n", t->name,
			      g.rx_dir[0] ? "browser" : "core");
		err = EPROTO;
	}

 out:
	gen_close(&g);
	return err;
}

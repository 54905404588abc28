/**
 * @file sdpx.c  Tests for the SDP interworking (D-24..D-30, D-34): the
 *               four rewrites against a fake AGW, line by line
 */
#include <string.h>
#include <re.h>
#include "core/file.h"
#include "agw/agw.h"
#include "codec/codec.h"
#include "sdp/sdpx.h"
#include "sip/sipx.h"
#include "test.h"


/* --- a fake AGW ---------------------------------------------------------- */

struct fake {
	unsigned ntp, nremote, nstream, npeer;
	bool tp_null[4];
	struct agw_w3_prm tp[4];         /* last prm per tid               */
	struct agw_w3_prm remote[4];
	unsigned stid[16];
	bool smux[16];
	bool srelay[16];
	uint32_t ssrcv[16][4];
	size_t ssrcc[16];
	uint8_t ptv[16][64];
	size_t ptc[16];
	uint32_t clockv[16][64];
	struct sa rtp[16], rtcp[16];
	struct sa speer[16];             /* prm->core_peer, unset if NULL  */
	int fail;                        /* error for the next op call     */
};


static int fake_transport(void *arg, unsigned tid,
			  const struct agw_w3_prm *prm,
			  struct agw_w3_info *info)
{
	struct fake *f = arg;

	if (f->fail || tid >= 4)
		return f->fail ? f->fail : EINVAL;

	++f->ntp;
	f->tp_null[tid] = !prm;
	if (prm)
		f->tp[tid] = *prm;

	memset(info, 0, sizeof(*info));
	(void)sa_set_str(&info->cand, "192.0.2.10", 40000 + 2 * tid);
	(void)re_snprintf(info->ufrag, sizeof(info->ufrag), "agwU%u", tid);
	(void)re_snprintf(info->pwd, sizeof(info->pwd),
			  "agwPasswordAgwPassword%u", tid);
	str_ncpy(info->fingerprint, "sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:"
		 "A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:"
		 "D7:E8:F9", sizeof(info->fingerprint));

	return 0;
}


static int fake_remote(void *arg, unsigned tid, const struct agw_w3_prm *prm)
{
	struct fake *f = arg;

	if (tid >= 4)
		return EINVAL;

	++f->nremote;
	f->remote[tid] = *prm;

	return 0;
}


static int fake_stream(void *arg, unsigned idx,
		       const struct agw_stream_prm *prm,
		       struct agw_stream_info *info)
{
	struct fake *f = arg;

	if (idx >= 16 || prm->ptc > 64)
		return EINVAL;

	++f->nstream;
	f->stid[idx] = prm->tid;
	f->smux[idx] = prm->core_rtcp_mux;
	f->srelay[idx] = prm->dcrelay;
	if (prm->core_peer)
		f->speer[idx] = *prm->core_peer;
	else
		sa_init(&f->speer[idx], AF_UNSPEC);
	f->ssrcc[idx] = prm->ssrcc;
	if (prm->ssrcc)
		memcpy(f->ssrcv[idx], prm->ssrcv,
		       min(prm->ssrcc, (size_t)4) * 4);
	f->ptc[idx] = prm->ptc;
	if (prm->ptc)
		memcpy(f->ptv[idx], prm->ptv, prm->ptc);
	if (prm->clockv)
		memcpy(f->clockv[idx], prm->clockv, prm->ptc * 4);

	(void)sa_set_str(&info->rtp, "198.51.100.7", 30000 + 2 * idx);
	info->rtcp = info->rtp;
	sa_set_port(&info->rtcp, 30001 + 2 * idx);

	return 0;
}


static int fake_peer(void *arg, unsigned idx, const struct sa *rtp,
		     const struct sa *rtcp)
{
	struct fake *f = arg;

	if (idx >= 16)
		return EINVAL;

	++f->npeer;
	f->rtp[idx] = *rtp;
	f->rtcp[idx] = *rtcp;

	return 0;
}


static const struct sdpx_ops fake_ops = {
	fake_transport, fake_remote, fake_stream, fake_peer
};


/* --- SDP text helpers ---------------------------------------------------- */

static int load(struct mbuf **mbp, const char *name)
{
	char path[256];
	struct mbuf *mb = mbuf_alloc(8192);
	int err;

	if (!mb)
		return ENOMEM;

	(void)re_snprintf(path, sizeof(path), "sdp/%s", name);
	err = file_read(mb, test_datapath(path), 65536);
	if (err)
		mem_deref(mb);
	else
		*mbp = mb;

	return err;
}


static struct pl mbpl(const struct mbuf *mb)
{
	struct pl pl;

	pl.p = (const char *)mb->buf;
	pl.l = mb->end;

	return pl;
}


/* a copy of src with every "from" replaced by "to" */
static int subst(struct mbuf **mbp, const struct mbuf *src,
		 const char *from, const char *to)
{
	struct mbuf *mb = mbuf_alloc(src->end + 256);
	const char *p = (const char *)src->buf, *end = p + src->end;
	size_t fl = strlen(from);
	int err = 0;

	if (!mb)
		return ENOMEM;

	while (!err && p < end) {
		const char *hit = memmem(p, end - p, from, fl);
		size_t n = hit ? (size_t)(hit - p) : (size_t)(end - p);

		err = mbuf_write_mem(mb, (const uint8_t *)p, n);
		if (hit && !err)
			err = mbuf_write_str(mb, to);
		p += n + (hit ? fl : 0);
	}

	if (err)
		mem_deref(mb);
	else
		*mbp = mb;

	return err;
}


/* section i of an SDP: -1 the session, 0.. the m-lines */
static struct pl section(const struct mbuf *mb, int i)
{
	struct pl all = mbpl(mb), s = PL_INIT;
	const char *p = all.p, *end = all.p + all.l, *m;
	int n = -1;

	for (;;) {
		m = memmem(p, end - p, "\r\nm=", 4);
		if (n == i) {
			s.p = p;
			s.l = (m ? m + 2 : end) - p;
			return s;
		}
		if (!m)
			return s;
		p = m + 2;
		++n;
	}
}


static bool has_line(const struct pl *s, const char *line)
{
	const char *p = s->p, *end = s->p + s->l;
	size_t n = strlen(line);

	while (p && p < end) {
		const char *e = memmem(p, end - p, "\r\n", 2);

		if (e && (size_t)(e - p) == n && !memcmp(p, line, n))
			return true;
		p = e ? e + 2 : NULL;
	}

	return false;
}


static unsigned count_prefix(const struct pl *s, const char *prefix)
{
	const char *p = s->p, *end = s->p + s->l;
	size_t n = strlen(prefix);
	unsigned c = 0;

	while (p && p < end) {
		const char *e = memmem(p, end - p, "\r\n", 2);

		if (e && (size_t)(e - p) >= n && !memcmp(p, prefix, n))
			++c;
		p = e ? e + 2 : NULL;
	}

	return c;
}


static bool crlf_only(const struct mbuf *mb)
{
	size_t i;

	if (mb->end < 2 || mb->buf[mb->end - 1] != '\n')
		return false;

	for (i = 0; i < mb->end; i++) {
		if (mb->buf[i] == '\n' && (!i || mb->buf[i-1] != '\r'))
			return false;
		if (mb->buf[i] == '\r' && mb->buf[i+1] != '\n')
			return false;
	}

	return true;
}


#define HAS(mb, i, line) TEST_ASSERT(sect_has((mb), (i), (line)))
#define HASNT(mb, i, prefix) TEST_EQ(sect_count((mb), (i), (prefix)), 0)

static bool sect_has(const struct mbuf *mb, int i, const char *line)
{
	struct pl s = section(mb, i);

	if (!has_line(&s, line)) {
		(void)re_fprintf(stderr, "  no \"%s\" in section %d of:\n%b",
				 line, i, mb->buf, mb->end);
		return false;
	}

	return true;
}


static unsigned sect_count(const struct mbuf *mb, int i, const char *prefix)
{
	struct pl s = i < -1 ? mbpl(mb) : section(mb, i);

	return count_prefix(&s, prefix);
}


/* a=rtcp-fb lines of types the core is not offered (avpf.c) */
static unsigned fb_foreign(const struct pl *s)
{
	static const char *ok[] = {" nack", " nack pli", " ccm fir",
				   " ccm tmmbr"};
	const char *p = s->p, *end = s->p + s->l;
	unsigned c = 0;

	while (p && p < end) {
		const char *e = memmem(p, end - p, "\r\n", 2);
		const char *sp;
		size_t i, n;
		bool good = false;

		if (e && e - p > 10 && !memcmp(p, "a=rtcp-fb:", 10)) {
			sp = memchr(p, ' ', e - p);
			n = sp ? (size_t)(e - sp) : 0;
			for (i = 0; sp && i < ARRAY_SIZE(ok); i++)
				good |= n == strlen(ok[i]) &&
					!memcmp(sp, ok[i], n);
			c += !good;
		}
		p = e ? e + 2 : NULL;
	}

	return c;
}


/* D-24..D-27: nothing of ICE, DTLS, BUNDLE, rtcp-mux, SSRC toward IMS;
   feedback only of the types offered with RTP/AVPF (avpf.c) */
static int no_webrtc(const struct mbuf *mb)
{
	static const char *gone[] = {
		"a=ice-", "a=candidate", "a=end-of-candidates",
		"a=fingerprint", "a=setup", "a=tls-id", "a=group", "a=mid",
		"a=msid", "a=ssrc", "a=extmap", "a=rtcp-mux", "a=rtcp-rsize",
		"a=bundle-only", "a=sctp", "a=max-message-size",
	};
	struct pl all = mbpl(mb);
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(gone); i++)
		TEST_EQ(count_prefix(&all, gone[i]), 0);
	TEST_EQ(fb_foreign(&all), 0);

	TEST_ASSERT(!memmem(all.p, all.l, "SAVPF", 5));
	TEST_ASSERT(crlf_only(mb));

 out:
	return err;
}


static const char core_answer[] =
	"v=0\r\n"
	"o=core 77 77 IN IP4 10.20.30.40\r\n"
	"s=-\r\n"
	"c=IN IP4 10.20.30.40\r\n"
	"t=0 0\r\n"
	"m=audio 31000 RTP/AVP 8 126\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:126 telephone-event/8000\r\n"
	"a=fmtp:126 0-15\r\n"
	"a=ptime:20\r\n"
	"a=sendrecv\r\n";


static int rewrite(struct mbuf *out, struct sdpx_call **callp, int which,
		   const struct mbuf *in, struct fake *f)
{
	struct pl pl = mbpl(in);

	mbuf_reset(out);

	switch (which) {

	case 0: return sdpx_offer_to_core(out, callp, &pl, &fake_ops, f);
	case 1: return sdpx_answer_to_browser(out, *callp, &pl, &fake_ops,
					      f);
	case 2: return sdpx_offer_to_browser(out, callp, &pl, &fake_ops, f);
	default: return sdpx_answer_to_core(out, *callp, &pl, &fake_ops, f);
	}
}


static int rewrite_str(struct mbuf *out, struct sdpx_call **callp,
		       int which, const char *s, struct fake *f)
{
	struct mbuf mb;

	mbuf_init(&mb);
	mb.buf = (uint8_t *)(uintptr_t)s;
	mb.end = mb.size = strlen(s);

	return rewrite(out, callp, which, &mb, f);
}


/* 1. browser offer -> core offer, Chromium audio-only (D-24..D-27) */
int test_sdpx_offer_to_core(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *out = mbuf_alloc(4096);
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "chrome-offer-audio.sdp"));
	TEST_ERR(rewrite(out, &call, 0, in, &f));

	/* the AGW got the browser's transport and its own role */
	TEST_EQ(f.ntp, 1);
	TEST_ASSERT(!f.tp_null[0]);
	TEST_STREQ(f.tp[0].ufrag, "Xk7q");
	TEST_STREQ(f.tp[0].pwd, "4wEhZ9m1tV0nLq8sRbY2pF6c");
	TEST_EQ(f.tp[0].fp_type, TLS_FINGERPRINT_SHA256);
	TEST_EQ(f.tp[0].fp_len, 32);
	TEST_EQ(f.tp[0].fp[0], 0x3b);
	TEST_EQ(f.tp[0].fp[1], 0x8f);
	TEST_EQ(f.tp[0].fp[31], 0x64);
	TEST_EQ(f.tp[0].setup, AGW_SETUP_ACTIVE);

	/* one stream on that transport with the SSRC and payload types */
	TEST_EQ(f.nstream, 1);
	TEST_EQ(f.stid[0], 0);
	TEST_ASSERT(!f.smux[0]);
	TEST_EQ(f.ssrcc[0], 1);
	TEST_EQ(f.ssrcv[0][0], 2147483901u);
	TEST_EQ(f.ptc[0], 8);
	TEST_EQ(f.ptv[0][0], 111);
	TEST_EQ(f.ptv[0][7], 126);
	TEST_EQ(f.npeer, 0);
	TEST_ASSERT(!sa_isset(&f.speer[0], SA_ADDR));

	/* clocks for jitter (RFC 3550 A.8), in ptv's order (111 63 9 0 8
	   13 110 126): opus and RED 48000, G722/PCMU/PCMA 8000 (G722's
	   RTP clock, RFC 3551), CN and telephone-event not media */
	TEST_EQ(f.clockv[0][0], 48000);
	TEST_EQ(f.clockv[0][1], 48000);
	TEST_EQ(f.clockv[0][2], 8000);
	TEST_EQ(f.clockv[0][3], 8000);
	TEST_EQ(f.clockv[0][4], 8000);
	TEST_EQ(f.clockv[0][5], 0);
	TEST_EQ(f.clockv[0][6], 0);
	TEST_EQ(f.clockv[0][7], 0);

	/* the core offer */
	TEST_ERR(no_webrtc(out));
	HAS(out, -1, "v=0");
	TEST_EQ(sect_count(out, -1, "o=- "), 1);
	TEST_EQ(sect_count(out, -2, "m="), 1);
	HAS(out, -1, "c=IN IP4 198.51.100.7");
	HAS(out, -1, "t=0 0");
	HASNT(out, -1, "a=extmap-allow-mixed");
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 0 8 13 110 126");
	HAS(out, 0, "c=IN IP4 198.51.100.7");
	HAS(out, 0, "a=rtpmap:111 opus/48000/2");
	HAS(out, 0, "a=fmtp:111 minptime=10;useinbandfec=1");
	HAS(out, 0, "a=rtpmap:63 red/48000/2");
	HAS(out, 0, "a=rtpmap:0 PCMU/8000");
	HAS(out, 0, "a=rtpmap:8 PCMA/8000");
	HAS(out, 0, "a=rtpmap:110 telephone-event/48000");
	HAS(out, 0, "a=rtpmap:126 telephone-event/8000");
	HAS(out, 0, "a=sendrecv");
	HASNT(out, 0, "a=rtcp:");        /* RTCP on 30001: the default */
	TEST_EQ(sect_count(out, 0, "a=sendrecv"), 1);

 out:
	mem_deref(call);
	mem_deref(in);
	mem_deref(out);
	return err;
}


static int role_of(const struct mbuf *offer, const char *setup,
		   enum agw_setup *role)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *out = mbuf_alloc(4096);
	struct fake f;
	int err;

	memset(&f, 0, sizeof(f));
	if (!out)
		return ENOMEM;

	err = subst(&in, offer, "a=setup:actpass", setup);
	if (!err)
		err = rewrite(out, &call, 0, in, &f);
	if (!err)
		*role = f.tp[0].setup;

	mem_deref(call);
	mem_deref(in);
	mem_deref(out);
	return err;
}


static int expect_eproto(const struct mbuf *offer, const char *from,
			 const char *to)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *out = mbuf_alloc(4096);
	struct fake f;
	int err;

	memset(&f, 0, sizeof(f));
	if (!out)
		return ENOMEM;

	err = subst(&in, offer, from, to);
	if (!err) {
		err = rewrite(out, &call, 0, in, &f);
		err = err == EPROTO && !call && !out->end && !f.ntp ?
			0 : EINVAL;
		if (err)
			test_fail(__FILE__, __LINE__, from, 0);
	}

	mem_deref(call);
	mem_deref(in);
	mem_deref(out);
	return err;
}


/* roles for actpass/active/passive offers; what makes an offer 488 */
int test_sdpx_offer_roles(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *sha1 = NULL, *out = mbuf_alloc(4096);
	enum agw_setup role = AGW_SETUP_PASSIVE;
	struct fake f;
	int err = 0;

	TEST_ASSERT(out);
	TEST_ERR(load(&in, "chrome-offer-audio.sdp"));

	TEST_ERR(role_of(in, "a=setup:actpass", &role));
	TEST_EQ(role, AGW_SETUP_ACTIVE);
	TEST_ERR(role_of(in, "a=setup:active", &role));
	TEST_EQ(role, AGW_SETUP_PASSIVE);
	TEST_ERR(role_of(in, "a=setup:passive", &role));
	TEST_EQ(role, AGW_SETUP_ACTIVE);
	TEST_ERR(role_of(in, "a=ice-options:trickle", &role));  /* none */
	TEST_EQ(role, AGW_SETUP_PASSIVE);

	/* no fingerprint, no ICE credentials, no rtcp-mux, bad role */
	TEST_ERR(expect_eproto(in, "a=fingerprint:", "a=x-fingerprint:"));
	TEST_ERR(expect_eproto(in, "a=ice-pwd:", "a=x-pwd:"));
	TEST_ERR(expect_eproto(in, "a=ice-ufrag:", "a=x-ufrag:"));
	TEST_ERR(expect_eproto(in, "a=rtcp-mux\r\n", "a=x-mux\r\n"));
	TEST_ERR(expect_eproto(in, "a=setup:actpass", "a=setup:holdconn"));
	TEST_ERR(expect_eproto(in, "sha-256 3B:8F:", "sha-256 3B8F:"));
	TEST_ERR(expect_eproto(in, "sha-256", "sha-512"));

	/* session-level credentials and a sha-1 fingerprint do */
	TEST_ERR(subst(&sha1, in, "a=fingerprint:sha-256 3B:8F:1C:D2:5E:90:"
		       "A7:64:0B:F3:28:C1:9D:E5:47:7A:12:B6:83:4F:D9:20:6E:"
		       "AC:F1:35:98:0D:C7:5B:E2:64",
		       "a=fingerprint:sha-1 01:02:03:04:05:06:07:08:09:0A:"
		       "0B:0C:0D:0E:0F:10:11:12:13:14"));
	in = mem_deref(in);
	TEST_ERR(subst(&in, sha1, "a=group:BUNDLE 0\r\n",
		       "a=group:BUNDLE 0\r\na=ice-ufrag:Sess\r\n"));
	sha1 = mem_deref(sha1);
	TEST_ERR(subst(&sha1, in, "a=ice-ufrag:Xk7q\r\n", ""));

	memset(&f, 0, sizeof(f));
	TEST_ERR(rewrite(out, &call, 0, sha1, &f));
	TEST_STREQ(f.tp[0].ufrag, "Sess");
	TEST_EQ(f.tp[0].fp_type, TLS_FINGERPRINT_SHA1);
	TEST_EQ(f.tp[0].fp_len, 20);
	TEST_EQ(f.tp[0].fp[19], 0x14);

 out:
	mem_deref(call);
	mem_deref(sha1);
	mem_deref(in);
	mem_deref(out);
	return err;
}


/* 2. core answer -> browser answer (D-28..D-30) */
int test_sdpx_answer_to_browser(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *out = mbuf_alloc(4096);
	struct sa core;
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "chrome-offer-audio.sdp"));
	TEST_ERR(rewrite(out, &call, 0, in, &f));

	/* an answer that does not fit the offer */
	TEST_EQ(rewrite_str(out, &call, 1, "v=0\r\nc=IN IP4 10.0.0.1\r\n"
			    "m=audio 5 RTP/AVP 0\r\nm=audio 7 RTP/AVP 0\r\n",
			    &f), EPROTO);
	TEST_EQ(rewrite_str(out, &call, 1, "v=0\r\nc=IN IP4 10.0.0.1\r\n"
			    "m=video 5 RTP/AVP 0\r\n", &f), EPROTO);
	TEST_EQ(rewrite_str(out, &call, 1, "v=0\r\nc=IN IP4 10.0.0.1\r\n"
			    "m=audio 5 RTP/AVP 18\r\n", &f), EPROTO);
	TEST_EQ(rewrite_str(out, &call, 3, core_answer, &f), EPROTO);
	TEST_EQ(f.npeer, 0);
	TEST_EQ(out->end, 0);

	TEST_ERR(rewrite_str(out, &call, 1, core_answer, &f));

	/* the AGW learnt the core's addresses */
	TEST_EQ(f.npeer, 1);
	TEST_ERR(sa_set_str(&core, "10.20.30.40", 31000));
	TEST_ASSERT(sa_cmp(&f.rtp[0], &core, SA_ALL));
	TEST_EQ(sa_port(&f.rtcp[0]), 31001);
	TEST_ASSERT(sa_cmp(&f.rtp[0], &f.rtcp[0], SA_ADDR));

	TEST_ASSERT(crlf_only(out));
	HAS(out, -1, "a=ice-lite");
	HAS(out, -1, "a=group:BUNDLE 0");
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 8 126");
	HAS(out, 0, "c=IN IP4 192.0.2.10");
	HAS(out, 0, "a=mid:0");
	HAS(out, 0, "a=ice-ufrag:agwU0");
	HAS(out, 0, "a=ice-pwd:agwPasswordAgwPassword0");
	HAS(out, 0, "a=fingerprint:sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:"
	    "A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:"
	    "E8:F9");
	HAS(out, 0, "a=setup:active");
	HAS(out, 0, "a=rtcp-mux");
	HAS(out, 0, "a=candidate:1 1 udp 2130706431 192.0.2.10 40000 typ "
	    "host");
	HAS(out, 0, "a=end-of-candidates");
	HAS(out, 0, "a=rtpmap:8 PCMA/8000");
	HAS(out, 0, "a=rtpmap:126 telephone-event/8000");
	HAS(out, 0, "a=fmtp:126 0-15");
	HAS(out, 0, "a=ptime:20");
	HAS(out, 0, "a=sendrecv");
	HASNT(out, -2, "a=rtcp:");
	HASNT(out, -2, "RTP/AVP");
	TEST_ASSERT(!memmem(out->buf, out->end, "10.20.30.40", 11));

 out:
	mem_deref(call);
	mem_deref(in);
	mem_deref(out);
	return err;
}


/* a=rtcp in the core's answer; the core rejects the m-line */
int test_sdpx_answer_rtcp_reject(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *ans = NULL, *out = mbuf_alloc(4096);
	struct mbuf ca;
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	mbuf_init(&ca);
	ca.buf = (uint8_t *)(uintptr_t)core_answer;
	ca.end = ca.size = sizeof(core_answer) - 1;

	TEST_ASSERT(out);
	TEST_ERR(load(&in, "chrome-offer-audio.sdp"));
	TEST_ERR(rewrite(out, &call, 0, in, &f));

	TEST_ERR(subst(&ans, &ca, "a=ptime:20", "a=rtcp:31007 IN IP4 "
		       "10.20.30.41"));
	TEST_ERR(rewrite(out, &call, 1, ans, &f));
	TEST_EQ(sa_port(&f.rtcp[0]), 31007);
	TEST_ASSERT(!sa_cmp(&f.rtp[0], &f.rtcp[0], SA_ADDR));

	/* a 200 after a 183 may answer again */
	ans = mem_deref(ans);
	TEST_ERR(subst(&ans, &ca, "m=audio 31000", "m=audio 0"));
	f.npeer = 0;
	TEST_ERR(rewrite(out, &call, 1, ans, &f));
	TEST_EQ(f.npeer, 0);
	HAS(out, 0, "m=audio 0 UDP/TLS/RTP/SAVPF 111");
	HAS(out, 0, "a=mid:0");
	HASNT(out, -2, "a=candidate");
	HASNT(out, -2, "a=group");
	TEST_EQ(sect_count(out, -2, "m="), 1);

 out:
	mem_deref(call);
	mem_deref(ans);
	mem_deref(in);
	mem_deref(out);
	return err;
}


static const char core_answer_avdc[] =
	"v=0\r\n"
	"o=core 78 78 IN IP4 10.20.30.40\r\n"
	"s=-\r\n"
	"c=IN IP4 10.20.30.40\r\n"
	"t=0 0\r\n"
	"m=audio 31000 RTP/AVP 111 110\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n"
	"a=rtpmap:110 telephone-event/48000\r\n"
	"m=video 31002 RTP/AVP 103\r\n"
	"b=AS:2000\r\n"
	"a=rtpmap:103 H264/90000\r\n"
	"a=fmtp:103 packetization-mode=1;profile-level-id=42001f\r\n"
	"a=recvonly\r\n"
	"m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n";


/* audio + video + data channel in one BUNDLE group (D-26, D-41) */
int test_sdpx_bundle_av_dc(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *out = mbuf_alloc(8192);
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "chrome-offer-av-dc.sdp"));
	TEST_ERR(rewrite(out, &call, 0, in, &f));

	/* one transport for the group, a stream per RTP m-line */
	TEST_EQ(f.ntp, 1);
	TEST_EQ(f.nstream, 2);
	TEST_EQ(f.stid[0], 0);
	TEST_EQ(f.stid[1], 0);
	TEST_EQ(f.ssrcc[0], 1);
	TEST_EQ(f.ssrcc[1], 2);
	TEST_EQ(f.ssrcv[1][0], 1811213442u);
	TEST_EQ(f.ssrcv[1][1], 3209513318u);
	TEST_EQ(f.ptc[1], 23);

	TEST_ERR(no_webrtc(out));
	TEST_EQ(sect_count(out, -2, "m="), 3);
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 0 8 13 110 126");
	HAS(out, 1, "m=video 30002 RTP/AVP 96 97 103 104 107 108 109 114 "
	    "115 116 117 118 39 40 45 46 98 99 100 101 119 120 121");
	HAS(out, 1, "c=IN IP4 198.51.100.7");
	HAS(out, 1, "a=rtpmap:96 VP8/90000");
	HAS(out, 1, "a=fmtp:97 apt=96");
	/* video: RTP/AVPF by capability negotiation, its feedback */
	HAS(out, 1, "a=tcap:1 RTP/AVPF");
	HAS(out, 1, "a=pcfg:1 t=1");
	HAS(out, 1, "a=rtcp-fb:96 nack");
	HAS(out, 1, "a=rtcp-fb:96 nack pli");
	HAS(out, 1, "a=rtcp-fb:96 ccm fir");
	HASNT(out, 0, "a=rtcp-fb");
	HASNT(out, 0, "a=tcap");
	HAS(out, 2, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel");
	TEST_EQ(sect_count(out, 2, "a="), 0);
	TEST_EQ(sect_count(out, 2, "c="), 0);

	TEST_ERR(rewrite_str(out, &call, 1, core_answer_avdc, &f));
	TEST_EQ(f.npeer, 2);
	TEST_EQ(sa_port(&f.rtp[1]), 31002);
	HAS(out, -1, "a=group:BUNDLE 0 1");
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 111 110");
	HAS(out, 1, "m=video 40000 UDP/TLS/RTP/SAVPF 103");
	HAS(out, 1, "a=mid:1");
	HAS(out, 1, "b=AS:2000");
	HAS(out, 1, "a=recvonly");
	HAS(out, 1, "a=setup:active");
	HAS(out, 2, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel");
	HAS(out, 2, "a=mid:2");
	TEST_EQ(sect_count(out, 2, "a="), 1);

 out:
	mem_deref(call);
	mem_deref(in);
	mem_deref(out);
	return err;
}


/* one transport per m-line without BUNDLE */
int test_sdpx_unbundled(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *out = mbuf_alloc(8192);
	static const char ans[] =
		"v=0\r\nc=IN IP4 10.20.30.40\r\nt=0 0\r\n"
		"m=audio 31000 RTP/AVP 0\r\n"
		"m=video 31002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n";
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "chrome-offer-unbundled.sdp"));
	TEST_ERR(rewrite(out, &call, 0, in, &f));

	TEST_EQ(f.ntp, 2);
	TEST_STREQ(f.tp[0].ufrag, "Ab3d");
	TEST_STREQ(f.tp[1].ufrag, "Ef6g");
	TEST_STREQ(f.tp[1].pwd, "9pQrS7tUvW2xYz1aBc4dEf5g");
	TEST_EQ(f.tp[1].fp[0], 0xc4);
	TEST_EQ(f.stid[0], 0);
	TEST_EQ(f.stid[1], 1);
	TEST_ERR(no_webrtc(out));

	TEST_ERR(rewrite_str(out, &call, 1, ans, &f));
	HASNT(out, -1, "a=group");
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 0");
	HAS(out, 0, "a=ice-ufrag:agwU0");
	HAS(out, 1, "m=video 40002 UDP/TLS/RTP/SAVPF 96");
	HAS(out, 1, "a=ice-ufrag:agwU1");
	HAS(out, 1, "a=candidate:1 1 udp 2130706431 192.0.2.10 40002 typ "
	    "host");
	HAS(out, 1, "a=rtpmap:96 VP8/90000");

 out:
	mem_deref(call);
	mem_deref(in);
	mem_deref(out);
	return err;
}


static int o_version(const struct mbuf *mb, struct pl *sess, uint32_t *ver)
{
	struct pl v;

	if (re_regex((const char *)mb->buf, mb->end,
		     "o=- [0-9]+ [0-9]+ IN", sess, &v))
		return EBADMSG;

	*ver = pl_u32(&v);

	return 0;
}


/* hold and resume by re-INVITE: same transport and ports, o= version + 1,
   actpass keeps the association's roles */
int test_sdpx_reoffer_hold(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *hold = NULL, *ans = NULL;
	struct mbuf *out = mbuf_alloc(4096);
	struct mbuf ca;
	struct pl sess1, sess2;
	char s1[32];
	uint32_t v1, v2;
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	mbuf_init(&ca);
	ca.buf = (uint8_t *)(uintptr_t)core_answer;
	ca.end = ca.size = sizeof(core_answer) - 1;
	TEST_ASSERT(out);

	/* the browser starts active: the AGW is passive */
	TEST_ERR(load(&hold, "chrome-offer-audio.sdp"));
	TEST_ERR(subst(&in, hold, "a=setup:actpass", "a=setup:active"));
	hold = mem_deref(hold);
	TEST_ERR(rewrite(out, &call, 0, in, &f));
	TEST_ERR(o_version(out, &sess1, &v1));
	TEST_ERR(pl_strcpy(&sess1, s1, sizeof(s1)));
	TEST_ERR(rewrite(out, &call, 1, &ca, &f));
	HAS(out, 0, "a=setup:passive");

	/* hold: the browser re-offers sendonly with actpass */
	TEST_ERR(subst(&ans, in, "a=sendrecv", "a=sendonly"));
	TEST_ERR(subst(&hold, ans, "a=setup:active", "a=setup:actpass"));
	ans = mem_deref(ans);
	f.ntp = f.nstream = 0;
	TEST_ERR(rewrite(out, &call, 0, hold, &f));
	TEST_EQ(f.ntp, 1);
	TEST_EQ(f.nstream, 1);
	TEST_EQ(f.stid[0], 0);
	TEST_EQ(f.tp[0].setup, AGW_SETUP_PASSIVE);
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 0 8 13 110 126");
	HAS(out, 0, "a=sendonly");
	HASNT(out, -2, "a=sendrecv");
	TEST_ERR(o_version(out, &sess2, &v2));
	TEST_ASSERT(!pl_strcmp(&sess2, s1));
	TEST_EQ(v2, v1 + 1);

	TEST_ERR(subst(&ans, &ca, "a=sendrecv", "a=recvonly"));
	TEST_ERR(rewrite(out, &call, 1, ans, &f));
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 8 126");
	HAS(out, 0, "a=recvonly");
	HAS(out, 0, "a=setup:passive");

	/* resume */
	TEST_ERR(rewrite(out, &call, 0, in, &f));
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 0 8 13 110 126");
	HAS(out, 0, "a=sendrecv");
	TEST_ERR(o_version(out, &sess2, &v2));
	TEST_EQ(v2, v1 + 2);

 out:
	mem_deref(call);
	mem_deref(ans);
	mem_deref(hold);
	mem_deref(in);
	mem_deref(out);
	return err;
}


/* re-offers that change the m-lines: an added m-line, BUNDLE on and
   off, a core re-offer on a browser-started call keeps the mids */
int test_sdpx_reoffer_changes(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *a = NULL, *av = NULL, *unb = NULL, *ims = NULL;
	struct mbuf *tmp = NULL, *out = mbuf_alloc(8192);
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	TEST_ERR(load(&tmp, "chrome-offer-audio.sdp"));
	TEST_ERR(subst(&a, tmp, "a=mid:0", "a=mid:audio"));
	tmp = mem_deref(tmp);
	TEST_ERR(subst(&tmp, a, "BUNDLE 0", "BUNDLE audio"));
	a = mem_deref(a);
	a = tmp;
	tmp = NULL;
	TEST_ERR(load(&av, "chrome-offer-av-dc.sdp"));
	TEST_ERR(load(&unb, "chrome-offer-unbundled.sdp"));
	TEST_ERR(load(&ims, "ims-offer.sdp"));

	/* audio, then the browser adds video and a data channel */
	TEST_ERR(rewrite(out, &call, 0, a, &f));
	TEST_ERR(rewrite(out, &call, 0, av, &f));
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 0 8 13 110 126");
	HAS(out, 1, "m=video 30002 RTP/AVP 96 97 103 104 107 108 109 114 "
	    "115 116 117 118 39 40 45 46 98 99 100 101 119 120 121");
	TEST_EQ(f.stid[1], 0);

	/* unbundled: audio keeps transport 0, video gets its own */
	TEST_ERR(rewrite(out, &call, 0, unb, &f));
	TEST_EQ(f.stid[0], 0);
	TEST_EQ(f.stid[1], 1);
	TEST_STREQ(f.tp[1].ufrag, "Ef6g");

	/* bundled again: one transport, the audio's */
	TEST_ERR(rewrite(out, &call, 0, av, &f));
	TEST_EQ(f.stid[0], 0);
	TEST_EQ(f.stid[1], 0);
	call = mem_deref(call);

	/* the core re-offers a browser-started call: the browser's mid */
	TEST_ERR(rewrite(out, &call, 0, a, &f));
	TEST_ERR(rewrite_str(out, &call, 1, core_answer, &f));
	TEST_ERR(rewrite(out, &call, 2, ims, &f));
	HAS(out, -1, "a=group:BUNDLE audio");
	HAS(out, 0, "a=mid:audio");
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 8 0 100");
	TEST_EQ(f.stid[0], 0);
	TEST_ASSERT(f.tp_null[0]);

 out:
	mem_deref(call);
	mem_deref(tmp);
	mem_deref(a);
	mem_deref(av);
	mem_deref(unb);
	mem_deref(ims);
	mem_deref(out);
	return err;
}


static const char browser_answer[] =
	"v=0\r\n"
	"o=- 2890844526 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"a=msid-semantic: WMS\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 8 100\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=ice-ufrag:Wb7Y\r\n"
	"a=ice-pwd:Zq1xR8cV3nM6bT0pL5kJ9hGf\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:"
	"FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01\r\n"
	"a=setup:active\r\n"
	"a=mid:0\r\n"
	"a=sendrecv\r\n"
	"a=msid:- 8d6e0b3a-44c1-4a73-9b2e-5f1d7c9a0e62\r\n"
	"a=rtcp-mux\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:100 telephone-event/8000\r\n"
	"a=fmtp:100 0-15\r\n"
	"a=ssrc:3456789012 cname:Jc8sKd0qPw2mXn4v\r\n";


/* 3. core offer -> browser offer: ICE-lite, actpass, BUNDLE, codecs */
int test_sdpx_offer_to_browser(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *out = mbuf_alloc(4096);
	struct sa core;
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "ims-offer.sdp"));
	TEST_ERR(rewrite(out, &call, 2, in, &f));

	TEST_EQ(f.ntp, 1);
	TEST_ASSERT(f.tp_null[0]);
	TEST_EQ(f.nstream, 1);
	TEST_ASSERT(!f.smux[0]);
	TEST_EQ(f.ptc[0], 3);
	TEST_EQ(f.ptv[0][0], 8);
	TEST_EQ(f.ptv[0][1], 0);
	TEST_EQ(f.ptv[0][2], 100);
	TEST_EQ(f.npeer, 1);
	TEST_ERR(sa_set_str(&core, "10.20.30.40", 31000));
	TEST_ASSERT(sa_cmp(&f.rtp[0], &core, SA_ALL));
	TEST_EQ(sa_port(&f.rtcp[0]), 31001);
	/* known when the stream is set up (media_core_port_shared: a
	   core address another stream has gets a port of its own) */
	TEST_ASSERT(sa_cmp(&f.speer[0], &core, SA_ALL));

	TEST_ASSERT(crlf_only(out));
	HAS(out, -1, "a=ice-lite");
	HAS(out, -1, "a=group:BUNDLE 0");
	HAS(out, -1, "s=-");
	HAS(out, -1, "b=AS:80");
	HASNT(out, -1, "c=");
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 8 0 100");
	HAS(out, 0, "c=IN IP4 192.0.2.10");
	HAS(out, 0, "a=mid:0");
	HAS(out, 0, "a=ice-ufrag:agwU0");
	HAS(out, 0, "a=setup:actpass");
	HAS(out, 0, "a=rtcp-mux");
	HAS(out, 0, "a=candidate:1 1 udp 2130706431 192.0.2.10 40000 typ "
	    "host");
	HAS(out, 0, "a=rtpmap:8 PCMA/8000");
	HAS(out, 0, "a=rtpmap:0 PCMU/8000");
	HAS(out, 0, "a=rtpmap:100 telephone-event/8000");
	HAS(out, 0, "a=fmtp:100 0-15");
	HAS(out, 0, "a=ptime:20");
	HAS(out, 0, "a=maxptime:240");
	HAS(out, 0, "a=sendrecv");
	HAS(out, 0, "b=RS:1000");
	HASNT(out, 0, "a=rtpmap:104");
	HASNT(out, 0, "a=fmtp:104");
	HASNT(out, 0, "a=rtpmap:105");
	HASNT(out, 0, "a=rtcp:");
	TEST_ASSERT(!memmem(out->buf, out->end, "10.20.30.40", 11));

 out:
	mem_deref(call);
	mem_deref(in);
	mem_deref(out);
	return err;
}


/* 4. browser answer -> core answer; the role from the browser's setup */
int test_sdpx_answer_to_core(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *ans = NULL, *out = mbuf_alloc(4096);
	struct mbuf ba;
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	mbuf_init(&ba);
	ba.buf = (uint8_t *)(uintptr_t)browser_answer;
	ba.end = ba.size = sizeof(browser_answer) - 1;
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "ims-offer.sdp"));
	TEST_ERR(rewrite(out, &call, 2, in, &f));

	/* answers that cannot be taken */
	TEST_EQ(rewrite(out, &call, 1, &ba, &f), EPROTO);
	TEST_ERR(subst(&ans, &ba, "a=setup:active", "a=setup:actpass"));
	TEST_EQ(rewrite(out, &call, 3, ans, &f), EPROTO);
	ans = mem_deref(ans);
	TEST_ERR(subst(&ans, &ba, "a=ice-pwd:", "a=x:"));
	TEST_EQ(rewrite(out, &call, 3, ans, &f), EPROTO);
	ans = mem_deref(ans);
	TEST_EQ(f.nremote, 0);

	TEST_ERR(rewrite(out, &call, 3, &ba, &f));
	TEST_EQ(f.nremote, 1);
	TEST_STREQ(f.remote[0].ufrag, "Wb7Y");
	TEST_STREQ(f.remote[0].pwd, "Zq1xR8cV3nM6bT0pL5kJ9hGf");
	TEST_EQ(f.remote[0].fp_len, 32);
	TEST_EQ(f.remote[0].fp[31], 0x01);
	TEST_EQ(f.remote[0].setup, AGW_SETUP_PASSIVE);

	TEST_ERR(no_webrtc(out));
	HAS(out, -1, "c=IN IP4 198.51.100.7");
	HAS(out, 0, "m=audio 30000 RTP/AVP 8 100");
	HAS(out, 0, "c=IN IP4 198.51.100.7");
	HAS(out, 0, "a=rtpmap:8 PCMA/8000");
	HAS(out, 0, "a=rtpmap:100 telephone-event/8000");
	HAS(out, 0, "a=fmtp:100 0-15");
	HAS(out, 0, "a=sendrecv");
	HASNT(out, 0, "a=rtcp");

	/* a passive browser makes the AGW the DTLS client */
	TEST_ERR(subst(&ans, &ba, "a=setup:active", "a=setup:passive"));
	TEST_ERR(rewrite(out, &call, 3, ans, &f));
	TEST_EQ(f.remote[0].setup, AGW_SETUP_ACTIVE);

 out:
	mem_deref(call);
	mem_deref(ans);
	mem_deref(in);
	mem_deref(out);
	return err;
}


/* A TS 26.114 video offer: RTP/AVP with RTP/AVPF as a potential
   configuration (RFC 5939), H.264 with its profile-level-id and
   packetization-mode: the browser gets the feedback, the core an answer
   in RTP/AVPF with a=acfg and the browser's feedback of the types the
   AGW passes */
int test_sdpx_avpf_capneg(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *out = mbuf_alloc(4096);
	static const char offer[] =
		"v=0\r\no=x 1 1 IN IP4 10.1.1.1\r\ns=x\r\nt=0 0\r\n"
		"c=IN IP4 10.1.1.1\r\n"
		"m=audio 20000 RTP/AVP 0\r\n"
		"m=video 20002 RTP/AVP 99\r\n"
		"a=tcap:4 RTP/SAVP RTP/AVPF\r\n"
		"a=pcfg:7 t=4|5\r\n"
		"a=rtpmap:99 H264/90000\r\n"
		"a=fmtp:99 packetization-mode=1;profile-level-id=42e00c\r\n"
		"a=rtcp-fb:* nack\r\na=rtcp-fb:* nack pli\r\n"
		"a=rtcp-fb:* ccm fir\r\n";
	static const char answer[] =
		"v=0\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
		"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
		"a=ice-ufrag:Wb7Y\r\na=ice-pwd:Zq1xR8cV3nM6bT0pL5kJ9hGf\r\n"
		"a=fingerprint:sha-1 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:"
		"0E:0F:10:11:12:13:14\r\n"
		"a=setup:active\r\na=mid:0\r\na=rtcp-mux\r\n"
		"m=video 9 UDP/TLS/RTP/SAVPF 99\r\na=mid:1\r\n"
		"a=rtpmap:99 H264/90000\r\n"
		"a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;"
		"profile-level-id=42e00c\r\n"
		"a=rtcp-fb:99 goog-remb\r\na=rtcp-fb:99 transport-cc\r\n"
		"a=rtcp-fb:99 ccm fir\r\na=rtcp-fb:99 nack\r\n"
		"a=rtcp-fb:99 nack pli\r\na=rtcp-mux\r\n";
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	TEST_ERR(rewrite_str(out, &call, 2, offer, &f));
	HAS(out, 1, "m=video 40000 UDP/TLS/RTP/SAVPF 99");
	HAS(out, 1, "a=fmtp:99 packetization-mode=1;profile-level-id=42e00c");
	HAS(out, 1, "a=rtcp-fb:* nack pli");
	HASNT(out, 1, "a=tcap");
	HASNT(out, 1, "a=pcfg");

	TEST_ERR(rewrite_str(out, &call, 3, answer, &f));
	TEST_ERR(no_webrtc(out));
	HAS(out, 0, "m=audio 30000 RTP/AVP 0");
	HASNT(out, 0, "a=acfg");
	HAS(out, 1, "m=video 30002 RTP/AVPF 99");
	HAS(out, 1, "a=acfg:7 t=5");
	HAS(out, 1, "a=fmtp:99 level-asymmetry-allowed=1;"
	    "packetization-mode=1;profile-level-id=42e00c");
	HAS(out, 1, "a=rtcp-fb:99 nack");
	HAS(out, 1, "a=rtcp-fb:99 nack pli");
	HAS(out, 1, "a=rtcp-fb:99 ccm fir");
	TEST_EQ(sect_count(out, 1, "a=rtcp-fb"), 3);

 out:
	mem_deref(call);
	mem_deref(out);
	return err;
}


/* core-side rtcp-mux, a video m-line the browser cannot take, AMR only */
int test_sdpx_core_offer_codecs(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *out = mbuf_alloc(4096);
	static const char offer[] =
		"v=0\r\no=x 1 1 IN IP4 10.1.1.1\r\ns=x\r\nt=0 0\r\n"
		"m=audio 20000 RTP/AVP 9 101\r\nc=IN IP4 10.1.1.1\r\n"
		"a=rtcp-mux\r\na=rtpmap:101 telephone-event/48000\r\n"
		"a=sendonly\r\n"
		"m=video 20002 RTP/AVP 31\r\nc=IN IP4 10.1.1.1\r\n"
		"m=text 20004 RTP/AVP 98\r\nc=IN IP4 10.1.1.1\r\n"
		"a=rtpmap:98 t140/1000\r\n";
	static const char answer[] =
		"v=0\r\nt=0 0\r\n"
		"m=audio 9 UDP/TLS/RTP/SAVPF 9 101\r\n"
		"a=ice-ufrag:Wb7Y\r\na=ice-pwd:Zq1xR8cV3nM6bT0pL5kJ9hGf\r\n"
		"a=fingerprint:sha-1 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:"
		"0E:0F:10:11:12:13:14\r\n"
		"a=setup:active\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\n"
		"m=video 0 UDP/TLS/RTP/SAVPF 31\r\na=mid:1\r\n"
		"m=text 0 RTP/AVP 98\r\na=mid:2\r\n";
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	TEST_ERR(rewrite_str(out, &call, 2, offer, &f));
	TEST_EQ(f.nstream, 1);
	TEST_ASSERT(f.smux[0]);
	TEST_ASSERT(sa_cmp(&f.rtp[0], &f.rtcp[0], SA_ALL));
	HAS(out, -1, "a=group:BUNDLE 0");
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 9 101");
	HAS(out, 0, "a=rtpmap:9 G722/8000");
	HAS(out, 0, "a=sendonly");
	HAS(out, 1, "m=video 0 UDP/TLS/RTP/SAVPF 31");
	HAS(out, 1, "a=mid:1");
	HAS(out, 2, "m=text 0 RTP/AVP 98");
	HASNT(out, 2, "a=candidate");

	TEST_ERR(rewrite_str(out, &call, 3, answer, &f));
	TEST_EQ(f.remote[0].fp_type, TLS_FINGERPRINT_SHA1);
	HAS(out, 0, "m=audio 30000 RTP/AVP 9 101");
	HAS(out, 0, "a=rtcp-mux");
	HAS(out, 0, "a=recvonly");
	HAS(out, 1, "m=video 0 RTP/AVP 31");
	HAS(out, 2, "m=text 0 RTP/AVP 98");
	call = mem_deref(call);

	/* AMR only: no common codec (488 + Warning 305), the AGW untouched */
	memset(&f, 0, sizeof(f));
	TEST_ERR(load(&in, "ims-offer-amr.sdp"));
	TEST_EQ(rewrite(out, &call, 2, in, &f), ENOTSUP);
	TEST_ASSERT(!call);
	TEST_EQ(f.ntp + f.nstream + f.npeer, 0);
	TEST_EQ(out->end, 0);

	/* no audio or video at all */
	TEST_EQ(rewrite_str(out, &call, 2, "v=0\r\nc=IN IP4 10.1.1.1\r\n"
			    "m=text 5 RTP/AVP 98\r\n", &f), ENOENT);
	TEST_EQ(rewrite_str(out, &call, 0, "v=0\r\n"
			    "m=application 9 UDP/DTLS/SCTP x\r\n", &f),
		ENOENT);
	TEST_ASSERT(!call);

 out:
	mem_deref(call);
	mem_deref(in);
	mem_deref(out);
	return err;
}


static int all_four(const char *sdp, int want)
{
	struct sdpx_call *call = NULL, *keep;
	struct mbuf *out = mbuf_alloc(1024), *chrome = NULL, *ims = NULL;
	struct fake f;
	int which, e, err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	TEST_ERR(load(&chrome, "chrome-offer-audio.sdp"));
	TEST_ERR(load(&ims, "ims-offer.sdp"));

	for (which = 0; which < 4; which++) {

		call = mem_deref(call);
		if (which == 1)
			TEST_ERR(rewrite(out, &call, 0, chrome, &f));
		else if (which == 3)
			TEST_ERR(rewrite(out, &call, 2, ims, &f));

		keep = call;
		e = rewrite_str(out, &call, which, sdp, &f);
		if (e != want) {
			(void)re_fprintf(stderr, "  rewrite %d of [%s]: %m\n",
					 which, sdp, e);
			err = EINVAL;
			goto out;
		}
		TEST_ASSERT(call == keep);
		TEST_EQ(out->end, 0);
	}

 out:
	mem_deref(call);
	mem_deref(chrome);
	mem_deref(ims);
	mem_deref(out);
	return err;
}


/* malformed SDP: EBADMSG from every rewrite, call and output untouched */
int test_sdpx_malformed(void)
{
	static const char *bad[] = {
		"",
		"\r\n\r\n",
		"x",
		"v=1\r\n",
		"V=0\r\n",
		"s=-\r\nv=0\r\n",
		"v=0\r\nmm\r\n",
		"v=0\r\n=x\r\n",
		"v=0\r\ns=a\rb\r\n",
		"v=0\r\ns=a\001b\r\n",
		"v=0\r\nm=audio\r\n",
		"v=0\r\nm=audio 9\r\n",
		"v=0\r\nm=audio 9 RTP/AVP\r\n",
		"v=0\r\nm=audio 9 RTP/AVP \r\n",
		"v=0\r\nm=audio 65536 RTP/AVP 0\r\n",
		"v=0\r\nm=audio -1 RTP/AVP 0\r\n",
		"v=0\r\nm=audio 9/x RTP/AVP 0\r\n",
		"v=0\r\nm=audio 9 RTP/AVP 128\r\n",
		"v=0\r\nm=audio 9 RTP/AVP 0 0\r\n",
		"v=0\r\nm=audio 9 RTP/AVP pcmu\r\n",
		/* an RTP proto in any case has payload types (the writers
		   compare protos without case: fuzz_sdpx found an m-line
		   written with none) */
		"v=0\r\nm=video 9 UDP/TLS/rTP/SAVPF pcmu\r\n",
		"v=0\r\nm=audio 9 rtp/avp 200\r\n",
		"v=0\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP4\r\n",
		"v=0\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP4 1.2.3.4.5\r\n",
		"v=0\r\nc=IN IP4 999.1.1.1\r\nm=audio 9 RTP/AVP 0\r\n",
		"v=0\r\nc=IN IP6 1.2.3.4\r\nm=audio 9 RTP/AVP 0\r\n",
		"v=0\r\nc=IN IP4 ::1\r\nm=audio 9 RTP/AVP 0\r\n",
		"v=0\r\nc=XX IP4 1.2.3.4\r\nm=audio 9 RTP/AVP 0\r\n",
		"v=0\r\nc=IN IP4 host.example\r\nm=audio 9 RTP/AVP 0\r\n",
		"v=0\r\nc=IN IP4 1.2.3.4 x\r\nm=audio 9 RTP/AVP 0\r\n",
	};
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		TEST_ERR(all_four(bad[i], EBADMSG));

 out:
	return err;
}


/* an SDP with mlines m-lines of lines lines each, an s= of llen bytes
   and an i= of pad bytes */
static int big(char **sp, size_t mlines, size_t lines, size_t llen,
	       size_t pad)
{
	struct mbuf *mb = mbuf_alloc(70000);
	size_t i, j;
	int err = 0;

	if (!mb)
		return ENOMEM;

	err |= mbuf_write_str(mb, "v=0\r\nc=IN IP4 10.1.1.1\r\ns=");
	err |= mbuf_fill(mb, 'x', llen - 2);
	err |= mbuf_write_str(mb, "\r\ni=");
	if (pad)
		err |= mbuf_fill(mb, 'x', pad);
	err |= mbuf_write_str(mb, "\r\n");
	for (i = 0; i < mlines; i++) {
		err |= mbuf_printf(mb, "m=audio %zu RTP/AVP 0\r\n", 9 + i);
		for (j = 0; j + 1 < lines; j++)
			err |= mbuf_write_str(mb, "a=x\r\n");
	}
	err |= mbuf_write_u8(mb, 0);

	if (!err)
		err = str_dup(sp, (const char *)mb->buf);

	mem_deref(mb);
	return err;
}


/* limits: 64 KiB, 16 m-lines, 256 lines per section, 1024-byte lines */
int test_sdpx_limits(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *out = mbuf_alloc(65536);
	char *s = NULL;
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);

	TEST_ERR(big(&s, 16, 256, 1024, 100));
	TEST_ERR(rewrite_str(out, &call, 2, s, &f));
	TEST_EQ(sect_count(out, -2, "m="), 16);
	TEST_EQ(f.nstream, 16);
	call = mem_deref(call);
	s = mem_deref(s);

	TEST_ERR(big(&s, 17, 2, 100, 0));
	TEST_ERR(all_four(s, EMSGSIZE));
	s = mem_deref(s);
	TEST_ERR(big(&s, 1, 257, 100, 0));
	TEST_ERR(all_four(s, EMSGSIZE));
	s = mem_deref(s);
	TEST_ERR(big(&s, 1, 2, 1025, 0));
	TEST_ERR(all_four(s, EMSGSIZE));
	s = mem_deref(s);
	TEST_ERR(big(&s, 1, 2, 100, 65536));
	TEST_ERR(all_four(s, EMSGSIZE));

 out:
	mem_deref(call);
	mem_deref(s);
	mem_deref(out);
	return err;
}


/* LF line ends are read; CRLF is written */
int test_sdpx_lf(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *lf = NULL, *out = mbuf_alloc(4096);
	struct fake f;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "chrome-offer-audio.sdp"));
	TEST_ERR(subst(&lf, in, "\r\n", "\n"));
	TEST_ASSERT(!memchr(lf->buf, '\r', lf->end));
	TEST_ERR(rewrite(out, &call, 0, lf, &f));
	TEST_ERR(no_webrtc(out));
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 0 8 13 110 126");
	HAS(out, 0, "a=fmtp:111 minptime=10;useinbandfec=1");

 out:
	mem_deref(call);
	mem_deref(lf);
	mem_deref(in);
	mem_deref(out);
	return err;
}


int test_sdpx_is_sdp(void)
{
	static const char head[] =
		"INVITE sip:bob@example.net SIP/2.0\r\n"
		"Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:bob@example.net>\r\n"
		"From: <sip:alice@example.net>;tag=1\r\n"
		"Call-ID: c1\r\n"
		"CSeq: 1 INVITE\r\n";
	struct sip_msg *msg = NULL;
	char buf[512];
	int err = 0;

	(void)re_snprintf(buf, sizeof(buf), "%sContent-Type: application/SDP"
			  "\r\nContent-Length: 5\r\n\r\nv=0\r\n", head);
	TEST_ERR(sipx_decode(&msg, (uint8_t *)buf, strlen(buf)));
	TEST_ASSERT(sdpx_is_sdp(msg));
	msg = mem_deref(msg);

	(void)re_snprintf(buf, sizeof(buf), "%sContent-Type: application/sdp"
			  "\r\nContent-Length: 0\r\n\r\n", head);
	TEST_ERR(sipx_decode(&msg, (uint8_t *)buf, strlen(buf)));
	TEST_ASSERT(!sdpx_is_sdp(msg));
	msg = mem_deref(msg);

	(void)re_snprintf(buf, sizeof(buf), "%sContent-Type: text/plain"
			  "\r\nContent-Length: 5\r\n\r\nv=0\r\n", head);
	TEST_ERR(sipx_decode(&msg, (uint8_t *)buf, strlen(buf)));
	TEST_ASSERT(!sdpx_is_sdp(msg));
	TEST_ASSERT(!sdpx_is_sdp(NULL));

 out:
	mem_deref(msg);
	return err;
}


/* every allocation failing in turn: ENOMEM, nothing leaked (with libre's
   memory bookkeeping; a RELEASE build never fails and ends at once) */
static int oom_one(int which, const char *prep, int prep_which,
		   const struct mbuf *in)
{
	struct sdpx_call *call = NULL;
	struct mbuf *pre = NULL, *out = mbuf_alloc(8);
	struct memstat st;
	struct fake f;
	int n, e = ENOMEM, err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	if (prep) {
		TEST_ERR(load(&pre, prep));
		TEST_ERR(rewrite(out, &call, prep_which, pre, &f));
	}

	for (n = 0; e == ENOMEM && n < 200; n++) {

		mbuf_reset(out);
		if (!mem_get_stat(&st))
			mem_threshold_set((ssize_t)(st.blocks_cur + n));
		e = rewrite(out, &call, which, in, &f);
		mem_threshold_set(-1);
	}

	TEST_EQ(e, 0);

	/* with bookkeeping, the first attempts failed */
	TEST_ASSERT(mem_get_stat(&st) || n > 2);

 out:
	mem_threshold_set(-1);
	mem_deref(call);
	mem_deref(pre);
	mem_deref(out);
	return err;
}


int test_sdpx_oom(void)
{
	struct mbuf *av = NULL, *a = NULL, *ims = NULL, ca, ba;
	int err = 0;

	mbuf_init(&ca);
	ca.buf = (uint8_t *)(uintptr_t)core_answer;
	ca.end = ca.size = sizeof(core_answer) - 1;
	mbuf_init(&ba);
	ba.buf = (uint8_t *)(uintptr_t)browser_answer;
	ba.end = ba.size = sizeof(browser_answer) - 1;

	TEST_ERR(load(&av, "chrome-offer-av-dc.sdp"));
	TEST_ERR(load(&a, "chrome-offer-audio.sdp"));
	TEST_ERR(load(&ims, "ims-offer.sdp"));

	TEST_ERR(oom_one(0, NULL, 0, av));
	TEST_ERR(oom_one(0, "chrome-offer-audio.sdp", 0, a));
	TEST_ERR(oom_one(1, "chrome-offer-audio.sdp", 0, &ca));
	TEST_ERR(oom_one(2, NULL, 0, ims));
	TEST_ERR(oom_one(2, "chrome-offer-audio.sdp", 0, ims));
	TEST_ERR(oom_one(3, "ims-offer.sdp", 2, &ba));

 out:
	mem_deref(av);
	mem_deref(a);
	mem_deref(ims);
	return err;
}


/* --- data channels the AGW terminates (D-41) ---------------------------- */

static struct agw_dc_prm dc_prm;
static unsigned dc_calls;


static int fake_dc(void *arg, unsigned idx, const struct agw_dc_prm *prm,
		   struct agw_dc_info *info)
{
	(void)arg;
	(void)idx;

	++dc_calls;
	dc_prm = *prm;
	info->sctp_port = 5000;
	info->max_message = 65536;

	return 0;
}


static const struct sdpx_ops fake_ops_dc = {
	fake_transport, fake_remote, fake_stream, fake_peer, fake_dc
};


/* D-41, D-44: the browser's data-channel m-line is answered by the AGW
   with its transport, a=sctp-port and a=max-message-size (RFC 8841) and
   the a=dcmap channels (RFC 8864); the core sees it rejected; a
   malformed a=sctp-port or a=dcmap is refused */
int test_sdpx_datachannel(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *bad = NULL, *out = mbuf_alloc(8192);
	struct fake f;
	struct pl pl;
	int err = 0;

	memset(&f, 0, sizeof(f));
	dc_calls = 0;
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "chrome-offer-av-dc.sdp"));
	pl = mbpl(in);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_ops_dc, &f));

	TEST_EQ(dc_calls, 1);
	TEST_EQ(dc_prm.tid, 0);           /* bundled with audio */
	TEST_EQ(dc_prm.sctp_port, 5000);
	TEST_EQ(dc_prm.max_message, 262144);
	TEST_EQ(f.nstream, 2);            /* no RTP stream for it */
	TEST_ERR(no_webrtc(out));
	HAS(out, 2, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel");

	pl.p = core_answer_avdc;
	pl.l = strlen(core_answer_avdc);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_browser(out, call, &pl, &fake_ops_dc, &f));
	HAS(out, -1, "a=group:BUNDLE 0 1 2");
	HAS(out, 2, "m=application 40000 UDP/DTLS/SCTP webrtc-datachannel");
	HAS(out, 2, "a=mid:2");
	HAS(out, 2, "a=setup:active");
	HAS(out, 2, "a=sctp-port:5000");
	HAS(out, 2, "a=max-message-size:65536");
	HASNT(out, 2, "a=rtcp-mux");
	TEST_EQ(sect_count(out, 2, "a=fingerprint:"), 1);

	/* D-44: channels agreed in SDP (RFC 8864) reach the AGW and are
	   answered */
	call = mem_deref(call);
	TEST_ERR(subst(&bad, in, "a=sctp-port:5000",
		       "a=sctp-port:5000\r\n"
		       "a=dcmap:2 label=\"rtt\";subprotocol=\"t140\"\r\n"
		       "a=dcmap:4 max-retr=3; label=\"chat\""));
	pl = mbpl(bad);
	mbuf_reset(out);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_ops_dc, &f));
	TEST_EQ(dc_prm.mapc, 2);
	TEST_EQ(dc_prm.mapv[0].sid, 2);
	TEST_STREQ(dc_prm.mapv[0].label, "rtt");
	TEST_STREQ(dc_prm.mapv[0].proto, "t140");
	TEST_EQ(dc_prm.mapv[1].sid, 4);
	TEST_STREQ(dc_prm.mapv[1].label, "chat");
	TEST_STREQ(dc_prm.mapv[1].proto, "");
	HASNT(out, 2, "a=dcmap");
	pl.p = core_answer_avdc;
	pl.l = strlen(core_answer_avdc);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_browser(out, call, &pl, &fake_ops_dc, &f));
	HAS(out, 2, "a=dcmap:2 label=\"rtt\";subprotocol=\"t140\"");
	HAS(out, 2, "a=dcmap:4 label=\"chat\"");
	call = mem_deref(call);
	bad = mem_deref(bad);

	/* a repeated stream id, an unquoted label: refused */
	TEST_ERR(subst(&bad, in, "a=sctp-port:5000",
		       "a=sctp-port:5000\r\na=dcmap:2\r\na=dcmap:2"));
	pl = mbpl(bad);
	TEST_EQ(sdpx_offer_to_core(out, &call, &pl, &fake_ops_dc, &f),
		EPROTO);
	bad = mem_deref(bad);
	TEST_ERR(subst(&bad, in, "a=sctp-port:5000",
		       "a=sctp-port:5000\r\na=dcmap:2 label=x"));
	pl = mbpl(bad);
	TEST_EQ(sdpx_offer_to_core(out, &call, &pl, &fake_ops_dc, &f),
		EPROTO);
	bad = mem_deref(bad);

	/* a=sctp-port out of range: the offer is refused */
	TEST_ERR(subst(&bad, in, "a=sctp-port:5000", "a=sctp-port:70000"));
	pl = mbpl(bad);
	mbuf_reset(out);
	TEST_EQ(sdpx_offer_to_core(out, &call, &pl, &fake_ops_dc, &f),
		EPROTO);
	TEST_ASSERT(!call);

 out:
	mem_deref(call);
	mem_deref(in);
	mem_deref(bad);
	mem_deref(out);
	return err;
}


/* --- real-time text: T.140 channel <-> m=text (D-63) -------------------- */

static struct agw_rtt_prm rtt_prm;
static unsigned rtt_calls;


static int fake_rtt(void *arg, unsigned idx, const struct agw_rtt_prm *prm,
		    struct agw_stream_info *info)
{
	(void)arg;

	++rtt_calls;
	rtt_prm = *prm;
	if (info) {
		(void)sa_set_str(&info->rtp, "198.51.100.7", 30000 + 2 * idx);
		info->rtcp = info->rtp;
		sa_set_port(&info->rtcp, 30001 + 2 * idx);
	}

	return 0;
}


static const struct sdpx_ops fake_ops_rtt = {
	fake_transport, fake_remote, fake_stream, fake_peer, fake_dc, NULL,
	fake_rtt
};


/* D-63: a data-channel m-line with a T.140 channel agreed in SDP (RFC
   8865) goes to the core as m=text RTP/AVP with red and t140/1000 on
   the AGW's core-side address; the core's answer gives the AGW its
   payload types and address, the browser gets the data-channel answer;
   a core that rejects the text m-line leaves the channel unconnected */
int test_sdpx_rtt(void)
{
	static const char bans_back[] =
		"v=0\r\n"
		"o=- 2890844527 2 IN IP4 127.0.0.1\r\n"
		"s=-\r\n"
		"t=0 0\r\n"
		"a=group:BUNDLE 0 1\r\n"
		"m=audio 9 UDP/TLS/RTP/SAVPF 111 110\r\n"
		"c=IN IP4 0.0.0.0\r\n"
		"a=ice-ufrag:Wb7Y\r\n"
		"a=ice-pwd:Zq1xR8cV3nM6bT0pL5kJ9hGf\r\n"
		"a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:"
		"CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:"
		"FF:01\r\n"
		"a=setup:active\r\n"
		"a=mid:0\r\n"
		"a=sendrecv\r\n"
		"a=rtcp-mux\r\n"
		"a=rtpmap:111 opus/48000/2\r\n"
		"a=rtpmap:110 telephone-event/48000\r\n"
		"m=video 9 UDP/TLS/RTP/SAVPF 103\r\n"
		"c=IN IP4 0.0.0.0\r\n"
		"a=mid:1\r\n"
		"a=sendonly\r\n"
		"a=rtcp-mux\r\n"
		"a=rtpmap:103 H264/90000\r\n"
		"m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
		"a=mid:2\r\n";
	static const char ans_text[] =
		"m=text 31004 RTP/AVP 101 99\r\n"
		"a=rtpmap:101 red/1000\r\n"
		"a=rtpmap:99 t140/1000\r\n"
		"a=fmtp:101 99/99/99\r\n"
		"a=fmtp:99 cps=20\r\n"
		"a=hlang-recv:de\r\n";
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *off = NULL, *out = mbuf_alloc(8192);
	struct mbuf *off2 = NULL;
	char *a = NULL, *b = NULL;
	size_t head;
	struct fake f;
	struct pl pl;
	int err = 0;

	memset(&f, 0, sizeof(f));
	rtt_calls = 0;
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "chrome-offer-av-dc.sdp"));
	TEST_ERR(subst(&off, in, "a=sctp-port:5000",
		       "a=sctp-port:5000\r\n"
		       "a=dcmap:4 label=\"chat\"\r\n"
		       "a=dcmap:2 label=\"rtt\";subprotocol=\"t140\"\r\n"
		       "a=dcsa:2 fmtp:- cps=30\r\n"
		       "a=dcsa:2 hlang-send:de en\r\n"
		       "a=dcsa:4 hlang-send:fr"));
	pl = mbpl(off);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_ops_rtt, &f));

	TEST_EQ(rtt_calls, 1);
	TEST_EQ(rtt_prm.tid, 0);
	TEST_EQ(rtt_prm.sid, 2);
	TEST_EQ(rtt_prm.rx_t140, 98);
	TEST_EQ(rtt_prm.rx_red, 100);
	TEST_ERR(no_webrtc(out));
	HAS(out, 2, "m=text 30004 RTP/AVP 100 98");
	HAS(out, 2, "c=IN IP4 198.51.100.7");
	HAS(out, 2, "a=rtpmap:100 red/1000");
	HAS(out, 2, "a=rtpmap:98 t140/1000");
	HAS(out, 2, "a=fmtp:100 98/98/98");
	HAS(out, 2, "a=sendrecv");
	/* RFC 8865 4.2: the channel's a=dcsa as the text m-line's own */
	HAS(out, 2, "a=fmtp:98 cps=30");
	HAS(out, 2, "a=hlang-send:de en");
	HASNT(out, 2, "a=hlang-send:fr");
	HASNT(out, 2, "a=dcsa");
	HASNT(out, 2, "a=dcmap");
	HASNT(out, 2, "a=sctp");

	/* the core answers with its own payload types */
	head = strstr(core_answer_avdc, "m=application") - core_answer_avdc;
	TEST_ERR(re_sdprintf(&a, "%b%s", core_answer_avdc, head, ans_text));
	TEST_ERR(re_sdprintf(&b, "%bm=text 0 RTP/AVP 101\r\n",
			     core_answer_avdc, head));
	pl_set_str(&pl, a);
	mbuf_reset(out);
	f.npeer = 0;
	TEST_ERR(sdpx_answer_to_browser(out, call, &pl, &fake_ops_rtt, &f));
	TEST_EQ(rtt_calls, 2);
	TEST_EQ(rtt_prm.sid, 2);
	TEST_EQ(rtt_prm.tx_t140, 99);
	TEST_EQ(rtt_prm.tx_red, 101);
	TEST_EQ(rtt_prm.rx_t140, 98);
	TEST_EQ(f.npeer, 3);
	TEST_EQ(sa_port(&f.rtp[2]), 31004);
	HAS(out, 2, "m=application 40000 UDP/DTLS/SCTP webrtc-datachannel");
	HAS(out, 2, "a=dcmap:2 label=\"rtt\";subprotocol=\"t140\"");
	HAS(out, 2, "a=dcmap:4 label=\"chat\"");
	HAS(out, 2, "a=dcsa:2 fmtp:- cps=20");
	HAS(out, 2, "a=dcsa:2 hlang-recv:de");
	TEST_EQ(sect_count(out, 2, "a=dcsa:"), 2);

	/* an answer that calls it application is not the offer's */
	mbuf_reset(out);
	pl.p = core_answer_avdc;
	pl.l = strlen(core_answer_avdc);
	TEST_EQ(sdpx_answer_to_browser(out, call, &pl, &fake_ops_rtt, &f),
		EPROTO);

	/* the core rejects text: the browser still gets its channels */
	pl_set_str(&pl, b);
	mbuf_reset(out);
	f.npeer = 0;
	rtt_calls = 0;
	TEST_ERR(sdpx_answer_to_browser(out, call, &pl, &fake_ops_rtt, &f));
	TEST_EQ(rtt_calls, 0);
	TEST_EQ(f.npeer, 2);
	HAS(out, 2, "m=application 40000 UDP/DTLS/SCTP webrtc-datachannel");

	/* a core re-offer with m=text there (hold from the IMS side): the
	   browser gets its data-channel m-line with the same channel; one
	   that rejects it leaves the core m=text rejected */
	mbuf_reset(out);
	pl_set_str(&pl, a);
	TEST_ERR(sdpx_offer_to_browser(out, &call, &pl, &fake_ops_rtt, &f));
	HAS(out, 2, "m=application 40000 UDP/DTLS/SCTP webrtc-datachannel");
	HAS(out, 2, "a=dcmap:2 label=\"t140\";subprotocol=\"t140\"");
	HAS(out, 2, "a=mid:2");
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 111 110");
	pl_set_str(&pl, bans_back);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_core(out, call, &pl, &fake_ops_rtt, &f));
	HAS(out, 2, "m=text 0 RTP/AVP 101");
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 110");

	/* the browser's next offer keeps its m-line rejected: the core
	   still sees m=text there, and answers it */
	mbuf_reset(out);
	TEST_ERR(subst(&off2, in, "m=application 9 ", "m=application 0 "));
	pl = mbpl(off2);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_ops_rtt, &f));
	HAS(out, 2, "m=text 0 RTP/AVP 98");
	pl_set_str(&pl, b);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_browser(out, call, &pl, &fake_ops_rtt, &f));
	HAS(out, 2, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel");

	/* without the op (or a T.140 channel) the m-line stays rejected */
	call = mem_deref(call);
	mbuf_reset(out);
	pl = mbpl(off);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_ops_dc, &f));
	HAS(out, 2, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel");
	call = mem_deref(call);
	mbuf_reset(out);
	pl = mbpl(in);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_ops_rtt, &f));
	HAS(out, 2, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel");

 out:
	mem_deref(a);
	mem_deref(b);
	mem_deref(call);
	mem_deref(in);
	mem_deref(off);
	mem_deref(off2);
	mem_deref(out);
	return err;
}


/* D-63: a core offer of m=text (RFC 4103) goes to the browser as a
   data-channel m-line in the BUNDLE group with a T.140 channel agreed in
   SDP (RFC 8865); the browser's answer gives the AGW its SCTP port and
   the core gets m=text on the AGW's core-side port with its own payload
   types; a browser that rejects it leaves m=text rejected */
int test_sdpx_rtt_core_offer(void)
{
	static const char text[] =
		"m=text 31010 RTP/AVP 99 98\r\n"
		"a=rtpmap:99 red/1000\r\n"
		"a=fmtp:99 98/98/98\r\n"
		"a=rtpmap:98 t140/1000\r\n"
		"a=fmtp:98 cps=40\r\n"
		"a=hlang-send:sv\r\n";
	static const char dc_ans[] =
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
		"c=IN IP4 0.0.0.0\r\n"
		"a=mid:1\r\n"
		"a=sctp-port:5001\r\n"
		"a=max-message-size:262144\r\n"
		"a=dcsa:100 hlang-recv:sv\r\n";
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *out = mbuf_alloc(8192);
	char *off = NULL, *ans = NULL, *ans0 = NULL;
	struct fake f;
	struct pl pl;
	int err = 0;

	memset(&f, 0, sizeof(f));
	rtt_calls = dc_calls = 0;
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "ims-offer.sdp"));
	TEST_ERR(re_sdprintf(&off, "%b%s", in->buf, in->end, text));
	TEST_ERR(re_sdprintf(&ans, "%s%s", browser_answer, dc_ans));
	TEST_ERR(re_sdprintf(&ans0, "%sm=application 0 UDP/DTLS/SCTP "
			     "webrtc-datachannel\r\na=mid:1\r\n",
			     browser_answer));
	pl_set_str(&pl, off);
	TEST_ERR(sdpx_offer_to_browser(out, &call, &pl, &fake_ops_rtt, &f));
	TEST_EQ(dc_calls, 1);
	TEST_EQ(dc_prm.mapc, 1);
	TEST_EQ(dc_prm.mapv[0].sid, 100);
	TEST_STREQ(dc_prm.mapv[0].proto, "t140");
	TEST_EQ(rtt_calls, 1);
	TEST_EQ(rtt_prm.tx_t140, 98);
	TEST_EQ(rtt_prm.tx_red, 99);
	TEST_EQ(rtt_prm.rx_t140, 98);
	TEST_EQ(sa_port(&f.rtp[1]), 31010);
	HAS(out, -1, "a=group:BUNDLE 0 1");
	HAS(out, 1, "m=application 40000 UDP/DTLS/SCTP webrtc-datachannel");
	HAS(out, 1, "a=mid:1");
	HAS(out, 1, "a=setup:actpass");
	HAS(out, 1, "a=sctp-port:5000");
	HAS(out, 1, "a=dcmap:100 label=\"t140\";subprotocol=\"t140\"");
	HAS(out, 1, "a=dcsa:100 fmtp:- cps=40");
	HAS(out, 1, "a=dcsa:100 hlang-send:sv");
	HASNT(out, 1, "a=rtpmap");

	/* the browser's answer: its SCTP port to the AGW, m=text back */
	pl_set_str(&pl, ans);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_core(out, call, &pl, &fake_ops_rtt, &f));
	TEST_EQ(dc_calls, 2);
	TEST_EQ(dc_prm.sctp_port, 5001);
	TEST_EQ(dc_prm.mapv[0].sid, 100);
	HAS(out, 1, "m=text 30002 RTP/AVP 99 98");
	HAS(out, 1, "a=rtpmap:99 red/1000");
	HAS(out, 1, "a=fmtp:99 98/98/98");
	HAS(out, 1, "a=rtpmap:98 t140/1000");
	HAS(out, 1, "c=IN IP4 198.51.100.7");
	HAS(out, 1, "a=hlang-recv:sv");

	/* rejected by the browser: m=text rejected */
	call = mem_deref(call);
	pl_set_str(&pl, off);
	mbuf_reset(out);
	TEST_ERR(sdpx_offer_to_browser(out, &call, &pl, &fake_ops_rtt, &f));
	pl_set_str(&pl, ans0);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_core(out, call, &pl, &fake_ops_rtt, &f));
	HAS(out, 1, "m=text 0 RTP/AVP 99");

	/* without the ops: offered rejected, as before */
	call = mem_deref(call);
	pl_set_str(&pl, off);
	mbuf_reset(out);
	TEST_ERR(sdpx_offer_to_browser(out, &call, &pl, &fake_ops_dc, &f));
	HAS(out, 1, "m=text 0 RTP/AVP 99");

 out:
	mem_deref(call);
	mem_deref(in);
	mem_deref(out);
	mem_deref(off);
	mem_deref(ans);
	mem_deref(ans0);
	return err;
}


/* --- transcoding (D-35, D-61) -------------------------------------------- */

struct xfake {
	struct fake f;
	unsigned n;
	bool null;
	struct agw_xcode_prm prm;
};


static int fake_xcode(void *arg, unsigned idx,
		      const struct agw_xcode_prm *prm)
{
	struct xfake *x = arg;

	if (idx)
		return ENOENT;

	++x->n;
	x->null = !prm;
	if (prm)
		x->prm = *prm;

	return 0;
}


static const struct sdpx_ops fake_xops = {
	fake_transport, fake_remote, fake_stream, fake_peer, NULL, fake_xcode
};


static int xrewrite(struct mbuf *out, struct sdpx_call **callp,
		    const char *s, struct xfake *x)
{
	struct pl pl;

	pl_set_str(&pl, s);
	mbuf_reset(out);

	return sdpx_answer_to_browser(out, *callp, &pl, &fake_xops, x);
}


static const char core_answer_amrwb[] =
	"v=0\r\n"
	"o=ue 1 1 IN IP4 10.20.30.40\r\n"
	"s=-\r\n"
	"c=IN IP4 10.20.30.40\r\n"
	"t=0 0\r\n"
	"m=audio 31000 RTP/AVP 96 98\r\n"
	"a=rtpmap:96 AMR-WB/16000\r\n"
	"a=fmtp:96 mode-set=0,1,2;octet-align=1\r\n"
	"a=rtpmap:98 telephone-event/16000\r\n"
	"a=fmtp:98 0-15\r\n"
	"a=ptime:20\r\n"
	"a=sendrecv\r\n";


/* the ALG offers the core AMR-WB, AMR and telephone-event/16000 after the
   browser's codecs; a core answering AMR-WB gets the transcoding path
   with its fmtp, the browser gets Opus (D-35, D-61) */
int test_sdpx_xcode(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *out = mbuf_alloc(4096);
	struct pl pl;
	struct xfake x;
	char *s = NULL;
	int err = 0;

	memset(&x, 0, sizeof(x));
	TEST_ASSERT(out);
	TEST_ERR(load(&in, "chrome-offer-audio.sdp"));
	pl = mbpl(in);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_xops, &x));

	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 0 8 13 110 126 96 97 98");
	HAS(out, 0, "a=rtpmap:96 AMR-WB/16000");
	HAS(out, 0, "a=fmtp:96 mode-change-capability=2;max-red=0");
	HAS(out, 0, "a=rtpmap:97 AMR/8000");
	HAS(out, 0, "a=rtpmap:98 telephone-event/16000");
	HAS(out, 0, "a=fmtp:98 0-15");
	HASNT(out, 0, "a=rtpmap:99 telephone-event/8000");
	/* the AGW's stream splits a BUNDLE by the browser's types only */
	TEST_EQ(x.f.ptc[0], 8);

	/* what the path cannot do */
	TEST_ERR(re_sdprintf(&s, "%s", core_answer_amrwb));
	memcpy(strstr(s, "mode-set=0,1,2"), "mode-set=0,1,9", 14);
	TEST_EQ(xrewrite(out, &call, s, &x), EPROTO);
	memcpy(strstr(s, "mode-set=0,1,9"), "mode-set=0,,1;", 14);
	TEST_EQ(xrewrite(out, &call, s, &x), EPROTO);
	memcpy(strstr(s, "mode-set=0,,1;"), "crc=1;modeset=", 14);
	TEST_EQ(xrewrite(out, &call, s, &x), EPROTO);
	TEST_EQ(x.n, 0);

	TEST_ERR(xrewrite(out, &call, core_answer_amrwb, &x));
	TEST_EQ(x.n, 1);
	TEST_ASSERT(!x.null);
	TEST_EQ(x.prm.w3_pt, 111);
	TEST_EQ(x.prm.w3_dtmf_pt, 110);
	TEST_EQ(x.prm.core_pt, 96);
	TEST_EQ(x.prm.core_dtmf_pt, 98);
	TEST_EQ(x.prm.core_codec, 1);           /* CODEC_AMRWB */
	TEST_ASSERT(x.prm.octet_align);
	TEST_EQ(x.prm.mode_set, 0x07);
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 111 110");
	HAS(out, 0, "a=rtpmap:111 opus/48000/2");
	HAS(out, 0, "a=rtpmap:110 telephone-event/48000");
	HAS(out, 0, "a=ptime:20");
	TEST_ASSERT(!memmem(out->buf, out->end, "AMR", 3));

	/* the 200 answers PCMA: back to the relay */
	TEST_ERR(xrewrite(out, &call, core_answer, &x));
	TEST_EQ(x.n, 2);
	TEST_ASSERT(x.null);
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 8 126");

 out:
	mem_deref(s);
	mem_deref(call);
	mem_deref(in);
	mem_deref(out);
	return err;
}


static const char core_offer_amr[] =
	"v=0\r\n"
	"o=ue 5 5 IN IP4 10.20.30.40\r\n"
	"s=-\r\n"
	"c=IN IP4 10.20.30.40\r\n"
	"t=0 0\r\n"
	"m=audio 31000 RTP/AVP 111 102 110 105\r\n"
	"a=rtpmap:111 AMR-WB/16000\r\n"
	"a=fmtp:111 mode-set=0,2;octet-align=1;mode-change-capability=2\r\n"
	"a=rtpmap:102 AMR/8000\r\n"
	"a=rtpmap:110 telephone-event/16000\r\n"
	"a=fmtp:110 0-15\r\n"
	"a=rtpmap:105 telephone-event/8000\r\n"
	"a=ptime:20\r\n"
	"a=sendrecv\r\n";


/* a core offering only AMR-WB/AMR: the browser is offered Opus and
   DTMF/48000 on payload types the core does not use; its answer starts
   the path and the core's answer echoes the offer's fmtp (D-61) */
int test_sdpx_xcode_core_offer(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *out = mbuf_alloc(4096);
	const char *at;
	char *ans = NULL;
	struct xfake x;
	struct pl pl;
	int err = 0;

	memset(&x, 0, sizeof(x));
	TEST_ASSERT(out);

	/* without transcoding: 488 as before */
	TEST_EQ(rewrite_str(out, &call, 2, core_offer_amr, &x.f), ENOTSUP);

	pl_set_str(&pl, core_offer_amr);
	TEST_ERR(sdpx_offer_to_browser(out, &call, &pl, &fake_xops, &x));
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 112 113");
	HAS(out, 0, "a=rtpmap:112 opus/48000/2");
	HAS(out, 0, "a=rtpmap:113 telephone-event/48000");
	TEST_ASSERT(!memmem(out->buf, out->end, "AMR", 3));
	TEST_EQ(x.f.ptc[0], 2);
	TEST_EQ(x.n, 0);

	/* a browser answer without Opus cannot be transcoded */
	pl_set_str(&pl, browser_answer);
	mbuf_reset(out);
	TEST_EQ(sdpx_answer_to_core(out, call, &pl, &fake_xops, &x), EPROTO);

	at = strstr(browser_answer, "SAVPF 8 100\r\n");
	TEST_ASSERT(at);
	TEST_ERR(re_sdprintf(&ans, "%b%s%s", browser_answer,
			     (size_t)(at - browser_answer),
			     "SAVPF 112 113\r\n", at + 13));
	pl_set_str(&pl, ans);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_core(out, call, &pl, &fake_xops, &x));
	TEST_EQ(x.n, 1);
	TEST_EQ(x.prm.w3_pt, 112);
	TEST_EQ(x.prm.w3_dtmf_pt, 113);
	TEST_EQ(x.prm.core_codec, 1);           /* CODEC_AMRWB */
	TEST_EQ(x.prm.core_pt, 111);
	TEST_EQ(x.prm.core_dtmf_pt, 110);
	TEST_ASSERT(x.prm.octet_align);
	TEST_EQ(x.prm.mode_set, 0x05);
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 110");
	HAS(out, 0, "a=rtpmap:111 AMR-WB/16000");
	HAS(out, 0, "a=fmtp:111 mode-set=0,2;octet-align=1;"
	    "mode-change-capability=2");
	HAS(out, 0, "a=rtpmap:110 telephone-event/16000");
	TEST_ASSERT(!memmem(out->buf, out->end, "opus", 4));

 out:
	mem_deref(ans);
	mem_deref(call);
	mem_deref(out);
	return err;
}


/* an offer toward the core for chrome-offer-audio.sdp with `from`
   replaced by `to` (same length or shorter) */
static int xoffer(struct mbuf *out, struct sdpx_call **callp,
		  const char *from, const char *to, struct xfake *x)
{
	struct mbuf *in = NULL;
	char *s = NULL, *p;
	struct pl pl;
	int err;

	*callp = mem_deref(*callp);
	mbuf_reset(out);
	err = load(&in, "chrome-offer-audio.sdp");
	if (!err)
		err = re_sdprintf(&s, "%b", in->buf, in->end);
	if (err)
		goto out;

	p = strstr(s, from);
	if (!p) {
		err = ENOENT;
		goto out;
	}
	memmove(p + strlen(to), p + strlen(from),
		strlen(p + strlen(from)) + 1);
	memcpy(p, to, strlen(to));

	pl_set_str(&pl, s);
	err = sdpx_offer_to_core(out, callp, &pl, &fake_xops, x);

 out:
	mem_deref(s);
	mem_deref(in);
	return err;
}


static const char core_answer_amrwb_noms[] =
	"v=0\r\n"
	"o=ue 1 1 IN IP4 10.20.30.40\r\n"
	"s=-\r\n"
	"c=IN IP4 10.20.30.40\r\n"
	"t=0 0\r\n"
	"m=audio 31000 RTP/AVP 96\r\n"
	"a=rtpmap:96 AMR-WB/16000\r\n"
	"a=ptime:20\r\n"
	"a=sendrecv\r\n";


static const char core_answer_g722[] =
	"v=0\r\n"
	"o=ue 1 1 IN IP4 10.20.30.40\r\n"
	"s=-\r\n"
	"c=IN IP4 10.20.30.40\r\n"
	"t=0 0\r\n"
	"m=audio 31000 RTP/AVP 9 126\r\n"
	"a=rtpmap:9 G722/8000\r\n"
	"a=rtpmap:126 telephone-event/8000\r\n"
	"a=fmtp:126 0-15\r\n"
	"a=ptime:20\r\n"
	"a=sendrecv\r\n";


/* core_codecs: the order and the set of what is added toward the core
   (G.711 on its static payload type when the browser lacks it);
   amr_wb_mode_set: in the AMR-WB offer, and used when the answer has
   no mode-set; G.722 only for a browser without it (issue 11) */
int test_sdpx_xcode_conf(void)
{
	static const int amr_pcma[] = {CODEC_AMR, CODEC_PCMA};
	static const int pcmu_wb[] = {CODEC_PCMU, CODEC_AMRWB};
	static const int dflt[] = {CODEC_AMRWB, CODEC_AMR, CODEC_G722};
	static const int g722[] = {CODEC_G722};
	struct sdpx_call *call = NULL;
	struct mbuf *out = mbuf_alloc(4096);
	struct xfake x;
	int err = 0;

	memset(&x, 0, sizeof(x));
	TEST_ASSERT(out);

	/* AMR then PCMA: the browser has PCMA, so only AMR (its DTMF at
	   8000 the browser has too) */
	sdpx_xcode_set(amr_pcma, 2, 0);
	TEST_ERR(xoffer(out, &call, "m=audio", "m=audio", &x));
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 0 8 13 110 126 96");
	HAS(out, 0, "a=rtpmap:96 AMR/8000");
	TEST_ASSERT(!memmem(out->buf, out->end, "AMR-WB", 6));
	TEST_ASSERT(!memmem(out->buf, out->end, "event/16000", 11));

	/* a browser without G.711: PCMA is added on 8 */
	TEST_ERR(xoffer(out, &call, "111 63 9 0 8 13", "111 63 9 13", &x));
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 13 110 126 96 8");
	HAS(out, 0, "a=rtpmap:8 PCMA/8000");

	/* PCMU (payload type 0 free), then AMR-WB with a mode-set and its
	   DTMF at 16000 */
	sdpx_xcode_set(pcmu_wb, 2, 0x07);
	TEST_ERR(xoffer(out, &call, "111 63 9 0 8 13", "111 63 9 8 13", &x));
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 8 13 110 126 0 96 97");
	HAS(out, 0, "a=rtpmap:0 PCMU/8000");
	HAS(out, 0, "a=rtpmap:96 AMR-WB/16000");
	HAS(out, 0, "a=fmtp:96 mode-set=0,1,2;mode-change-capability=2;"
	    "max-red=0");
	HAS(out, 0, "a=rtpmap:97 telephone-event/16000");

	/* PCMU as a static payload type without a=rtpmap: the browser's */
	sdpx_xcode_set(pcmu_wb, 1, 0);
	TEST_ERR(xoffer(out, &call, "a=rtpmap:0 PCMU/8000\r\n", "", &x));
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 0 8 13 110 126");

	/* the core answers AMR-WB without mode-set: ours is kept to */
	sdpx_xcode_set(pcmu_wb, 2, 0x07);
	TEST_ERR(xoffer(out, &call, "111 63 9 0 8 13", "111 63 9 8 13", &x));
	TEST_ERR(xrewrite(out, &call, core_answer_amrwb_noms, &x));
	TEST_EQ(x.prm.core_codec, CODEC_AMRWB);
	TEST_EQ(x.prm.mode_set, 0x07);
	TEST_ASSERT(!x.prm.octet_align);

	/* G.722: the browser's own codec is not added (relayed) ... */
	sdpx_xcode_set(g722, 1, 0);
	TEST_ERR(xoffer(out, &call, "m=audio", "m=audio", &x));
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 9 0 8 13 110 126");
	/* ... a browser without it: G722/8000 on 9 (RFC 3551's clock, though
	   it samples at 16 kHz); the browser's telephone-event/8000 is the
	   one for its clock, so none is added */
	TEST_ERR(xoffer(out, &call, "111 63 9 0 8 13", "111 63 0 8 13", &x));
	HAS(out, 0, "m=audio 30000 RTP/AVP 111 63 0 8 13 110 126 9");
	HAS(out, 0, "a=rtpmap:9 G722/8000");
	TEST_ASSERT(!memmem(out->buf, out->end, "G722/16000", 10));
	/* the core answers G.722 and telephone-event/8000: transcoded, DTMF
	   48000 <-> 8000; the browser gets Opus */
	TEST_ERR(xrewrite(out, &call, core_answer_g722, &x));
	TEST_EQ(x.prm.core_codec, CODEC_G722);
	TEST_EQ(x.prm.core_pt, 9);
	TEST_EQ(x.prm.core_dtmf_pt, 126);
	TEST_EQ(x.prm.w3_pt, 111);
	TEST_EQ(x.prm.w3_dtmf_pt, 110);
	HAS(out, 0, "m=audio 40000 UDP/TLS/RTP/SAVPF 111 110");
	TEST_ASSERT(!memmem(out->buf, out->end, "G722", 4));

 out:
	sdpx_xcode_set(dflt, 3, 0);
	mem_deref(call);
	mem_deref(out);
	return err;
}


/* --- data channels relayed to a DC-capable core (TS 26.114) ------------- */

static const char core_answer_relay[] =
	"v=0\r\n"
	"o=core 78 78 IN IP4 10.20.30.40\r\n"
	"s=-\r\n"
	"c=IN IP4 10.20.30.40\r\n"
	"a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:"
	"99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
	"t=0 0\r\n"
	"m=audio 31000 RTP/AVP 111\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"m=video 0 RTP/AVP 103\r\n"
	"m=application 31010 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	"c=IN IP4 203.0.113.5\r\n"
	"a=setup:active\r\n"
	"a=tls-id:abc123\r\n"
	"a=sctp-port:5001\r\n"
	"a=max-message-size:1000\r\n"
	"a=dcmap:0 label=\"chat\";subprotocol=\"MSRP\"\r\n"
	"a=ice-ufrag:core\r\n"
	"a=candidate:1 1 udp 1 203.0.113.5 31010 typ host\r\n";


static const char core_offer_relay[] =
	"v=0\r\n"
	"o=core 90 90 IN IP4 10.20.30.40\r\n"
	"s=-\r\n"
	"c=IN IP4 10.20.30.40\r\n"
	"t=0 0\r\n"
	"m=audio 31000 RTP/AVP 0\r\n"
	"a=sendrecv\r\n"
	"m=application 31010 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	"a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:"
	"99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
	"a=setup:actpass\r\n"
	"a=sctp-port:5000\r\n"
	"a=dcmap:1 label=\"t\"\r\n";


static const char browser_answer_relay[] =
	"v=0\r\n"
	"o=- 5 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=mid:0\r\n"
	"a=ice-ufrag:Bb01\r\n"
	"a=ice-pwd:browserpasswordbrowserpw\r\n"
	"a=fingerprint:sha-256 3B:8F:1C:D2:5E:90:A7:64:0B:F3:28:C1:9D:E5:47:"
	"7A:12:B6:83:4F:D9:20:6E:AC:F1:35:98:0D:C7:5B:E2:64\r\n"
	"a=setup:active\r\n"
	"a=rtcp-mux\r\n"
	"a=sendrecv\r\n"
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=mid:1\r\n"
	"a=ice-ufrag:Dd02\r\n"
	"a=ice-pwd:browserpasswordbrowserdc\r\n"
	"a=fingerprint:sha-256 3B:8F:1C:D2:5E:90:A7:64:0B:F3:28:C1:9D:E5:47:"
	"7A:12:B6:83:4F:D9:20:6E:AC:F1:35:98:0D:C7:5B:E2:64\r\n"
	"a=setup:active\r\n"
	"a=sctp-port:5000\r\n"
	"a=max-message-size:262144\r\n";


/* D-64, core_datachannel relay: a browser's data-channel m-line goes to the
   core end to end (its own transport, out of BUNDLE, DTLS and SCTP
   attributes untouched both ways); a core's offered one is relayed to
   the browser the same way */
int test_sdpx_dcrelay(void)
{
	static const char *fp_b = "a=fingerprint:sha-256 3B:8F:1C:D2:5E:90:"
		"A7:64:0B:F3:28:C1:9D:E5:47:7A:12:B6:83:4F:D9:20:6E:AC:F1:35:"
		"98:0D:C7:5B:E2:64";
	static const char *fp_c = "a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:"
		"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:"
		"44:55:66:77:88:99";
	struct sdpx_call *call = NULL;
	struct mbuf *in = NULL, *in2 = NULL, *in3 = NULL;
	struct mbuf *out = mbuf_alloc(8192);
	struct fake f;
	struct pl pl;
	struct sa sa;
	int err = 0;

	memset(&f, 0, sizeof(f));
	dc_calls = 0;
	TEST_ASSERT(out);
	sdpx_dcrelay_set(true);
	TEST_ERR(load(&in, "chrome-offer-av-dc.sdp"));

	/* max-bundle (no candidates of its own): the browser would refuse
	   an answer that takes it out of the group, so the AGW ends it */
	pl = mbpl(in);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_ops_dc, &f));
	TEST_EQ(dc_calls, 1);
	TEST_ASSERT(!f.srelay[2]);
	HAS(out, 2, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel");
	call = mem_deref(call);
	TEST_ERR(subst(&in2, in, "a=rtcp-mux\r\n",
		       "a=rtcp-mux\r\n"
		       "a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ "
		       "host\r\n"));
	TEST_ERR(subst(&in3, in2, "a=sctp-port:5000\r\n",
		       "a=sctp-port:5000\r\n"
		       "a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ "
		       "host\r\n"));
	pl = mbpl(in3);
	mbuf_reset(out);
	dc_calls = 0;
	memset(&f, 0, sizeof(f));
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_ops_dc, &f));
	TEST_EQ(dc_calls, 1);
	call = mem_deref(call);
	in3 = mem_deref(in3);

	/* balanced: a candidate of its own */
	TEST_ERR(subst(&in3, in2, "a=sctp-port:5000\r\n",
		       "a=sctp-port:5000\r\n"
		       "a=candidate:1 1 udp 2113937151 127.0.0.1 50004 typ "
		       "host\r\n"));
	pl = mbpl(in3);
	mbuf_reset(out);
	dc_calls = 0;
	memset(&f, 0, sizeof(f));
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_ops_dc, &f));

	TEST_EQ(dc_calls, 0);              /* not terminated */
	TEST_EQ(f.nstream, 3);
	TEST_ASSERT(f.srelay[2] && f.smux[2] && !f.srelay[0]);
	TEST_ASSERT(f.stid[2] != f.stid[0]);
	TEST_ASSERT(f.tp[f.stid[2]].relay && !f.tp[f.stid[0]].relay);
	TEST_STREQ(f.tp[f.stid[2]].ufrag, "Xk7q");
	HAS(out, 2, "m=application 30004 UDP/DTLS/SCTP webrtc-datachannel");
	HAS(out, 2, "c=IN IP4 198.51.100.7");
	HAS(out, 2, fp_b);
	HAS(out, 2, "a=setup:actpass");
	HAS(out, 2, "a=sctp-port:5000");
	HAS(out, 2, "a=max-message-size:262144");
	HASNT(out, 2, "a=ice-");
	HASNT(out, 2, "a=candidate");
	HASNT(out, 2, "a=mid");

	pl.p = core_answer_relay;
	pl.l = strlen(core_answer_relay);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_browser(out, call, &pl, &fake_ops_dc, &f));
	HAS(out, -1, "a=group:BUNDLE 0");
	HAS(out, 2, "m=application 40002 UDP/DTLS/SCTP webrtc-datachannel");
	HAS(out, 2, "a=mid:2");
	HAS(out, 2, "a=ice-ufrag:agwU1");
	HAS(out, 2, "a=candidate:1 1 udp 2130706431 192.0.2.10 40002 typ "
	    "host");
	HAS(out, 2, fp_c);                 /* the core's, from its session */
	HAS(out, 2, "a=setup:active");
	HAS(out, 2, "a=tls-id:abc123");
	HAS(out, 2, "a=sctp-port:5001");
	HAS(out, 2, "a=max-message-size:1000");
	HAS(out, 2, "a=dcmap:0 label=\"chat\";subprotocol=\"MSRP\"");
	HASNT(out, 2, "a=ice-ufrag:core");
	HASNT(out, 2, "a=candidate:1 1 udp 1 ");
	TEST_EQ(sect_count(out, 2, "a=fingerprint:"), 1);
	TEST_ERR(sa_set_str(&sa, "203.0.113.5", 31010));
	TEST_ASSERT(sa_cmp(&f.rtp[2], &sa, SA_ALL));
	TEST_ASSERT(sa_cmp(&f.rtcp[2], &sa, SA_ALL));
	call = mem_deref(call);

	/* a core's offer is relayed whatever the configuration says */
	sdpx_dcrelay_set(false);
	memset(&f, 0, sizeof(f));
	pl.p = core_offer_relay;
	pl.l = strlen(core_offer_relay);
	mbuf_reset(out);
	TEST_ERR(sdpx_offer_to_browser(out, &call, &pl, &fake_ops_dc, &f));
	TEST_EQ(f.ntp, 2);
	TEST_ASSERT(f.srelay[1] && !f.srelay[0] && f.stid[1] != f.stid[0]);
	HAS(out, -1, "a=group:BUNDLE 0");
	HAS(out, 1, "m=application 40002 UDP/DTLS/SCTP webrtc-datachannel");
	HAS(out, 1, "a=ice-ufrag:agwU1");
	HAS(out, 1, fp_c);
	HAS(out, 1, "a=setup:actpass");
	HAS(out, 1, "a=dcmap:1 label=\"t\"");
	TEST_ERR(sa_set_str(&sa, "10.20.30.40", 31010));
	TEST_ASSERT(sa_cmp(&f.rtp[1], &sa, SA_ALL));

	pl.p = browser_answer_relay;
	pl.l = strlen(browser_answer_relay);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_core(out, call, &pl, &fake_ops_dc, &f));
	TEST_ASSERT(f.remote[f.stid[1]].relay && !f.remote[f.stid[0]].relay);
	TEST_STREQ(f.remote[f.stid[1]].ufrag, "Dd02");
	HAS(out, 1, "m=application 30002 UDP/DTLS/SCTP webrtc-datachannel");
	HAS(out, 1, "c=IN IP4 198.51.100.7");
	HAS(out, 1, fp_b);
	HAS(out, 1, "a=setup:active");
	HAS(out, 1, "a=sctp-port:5000");
	HASNT(out, 1, "a=ice-");
	HASNT(out, 1, "a=mid");

	/* the browser's re-offer (hold, say) keeps it relayed, though
	   core_datachannel is terminate */
	memset(&f, 0, sizeof(f));
	dc_calls = 0;
	mbuf_reset(out);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &fake_ops_dc, &f));
	TEST_EQ(dc_calls, 0);
	TEST_ASSERT(f.srelay[1] && f.tp[f.stid[1]].relay);
	HAS(out, 1, "m=application 30002 UDP/DTLS/SCTP webrtc-datachannel");
	HAS(out, 1, fp_b);

 out:
	sdpx_dcrelay_set(false);
	mem_deref(call);
	mem_deref(in);
	mem_deref(in2);
	mem_deref(in3);
	mem_deref(out);
	return err;
}

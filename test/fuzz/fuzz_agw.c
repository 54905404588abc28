/**
 * @file fuzz_agw.c  Fuzz the eIMS-AGW's receive paths: the W3 port's
 *                   RFC 7983 demultiplexing, ICE-lite STUN, DTLS and
 *                   SRTP, and a stream's core-side RTP and RTCP sockets
 *
 * Input: one mode byte, then records of a channel byte, a 16-bit
 * big-endian length and that many bytes. Mode bits: 0 the AGW is the
 * DTLS client (else server); 1 the browser's side is known; 2 a valid
 * check (USE-CANDIDATE) from the browser's address first; 3 early media
 * allowed; 4 SRTP keyed with fixed keys (as if DTLS had finished); 5 the
 * core muxes RTP and RTCP; 6 stream 0 is transcoded (AMR-WB, AMR with
 * bit 0; bit 7 octet-aligned; builds with TRANSCODE=1). Channel (low 3
 * bits): 0 W3 from the checked
 * address, 1 W3 from another, 2 core RTP from the core, 3 core RTCP,
 * 4 core RTP from another source, 5 a valid check from the address of
 * channel 1, 6 W3 of transport 1 (a relayed data channel, dcrelay.c)
 * from the checked address, 7 its core-side port from the core. Each
 * input gets a new session; its sockets are real, on 127.0.0.1 (what
 * the AGW sends goes to the discard port). With libre's
 * memory bookkeeping, an input that leaves a block allocated aborts.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "net/net.h"
#include "tls/tlsx.h"
#include "tls/dtls.h"
#include "srtp/srtp.h"
#include "agw/agw.h"
#include "agw/agw_int.h"
#ifdef IMSEDGE_TRANSCODE
#include "codec/codec.h"
#endif
#include "core/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* test/data/cert.pem and key.pem (P-256, CN=localhost) */
static const char pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBmzCCAUGgAwIBAgIUMwgIuek50Fh35aBoBSjSb/Y0ZNkwCgYIKoZIzj0EAwIw\n"
	"FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMTA4NDYwMVoYDzIxMjYxMDI4\n"
	"MDg0NjAxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
	"PQMBBwNCAASeBguv8FTzvDvhGwIQ+KbgunijQ9lQg+G8mM/mblSunwo7fo16VChm\n"
	"ODcpHRCVrSbPTtJ/LImnDOWmqdmHQJOso28wbTAdBgNVHQ4EFgQUYY8YoMBxdxb4\n"
	"ZOVkaJbvLJClX8AwHwYDVR0jBBgwFoAUYY8YoMBxdxb4ZOVkaJbvLJClX8AwDwYD\n"
	"VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI\n"
	"zj0EAwIDSAAwRQIhAMhhQpO08fuI6mtUQDMdiuPjPVXX257xChUMbj6zHw7BAiAs\n"
	"7q1z2UAAYqljbzu5uipFJoF4OtVnMyFF4zAmwGzipQ==\n"
	"-----END CERTIFICATE-----\n"
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcW6Nja9lDIUFQ6Rj\n"
	"JkhYVFmoO2YJRstBz29pqI9w/KyhRANCAASeBguv8FTzvDvhGwIQ+KbgunijQ9lQ\n"
	"g+G8mM/mblSunwo7fo16VChmODcpHRCVrSbPTtJ/LImnDOWmqdmHQJOs\n"
	"-----END PRIVATE KEY-----\n";

enum {
	M_CLIENT = 1 << 0,
	M_REMOTE = 1 << 1,
	M_CHECK  = 1 << 2,
	M_EARLY  = 1 << 3,
	M_SRTP   = 1 << 4,
	M_MUX    = 1 << 5,
	M_XCODE  = 1 << 6,
	M_XC_OA  = 1 << 7,
};

static struct tls *tls;
static struct agw *agw;

static struct agw_sess *sess_new(uint8_t mode);
static struct sa src_w3, src_other, src_core, src_core2;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct agw_conf conf;
	int err;
	(void)argc;
	(void)argv;

	err = libre_init();
	log_init(LOG_LVL_ERROR + 1, false);

	memset(&conf, 0, sizeof(conf));
	(void)sa_set_str(&conf.media_listen, "127.0.0.1", 0);
	(void)sa_set_str(&conf.media_core_addr, "127.0.0.1", 0);
	conf.port_min = 41000;
	conf.transcoding = true;
	conf.max_xcode = 4;
	conf.opus_complexity = 0;
	conf.port_max = 41999;
	conf.max_calls = 10;
	conf.dscp = 46;
	conf.consent_timeout = 30;
	conf.media_port_shared = true;  /* shared.c's demux, see feed_w3 */
	conf.media_core_port_shared = true;  /* coreport.c's, feed_core */

	/* discard port: what the AGW sends goes nowhere */
	(void)sa_set_str(&src_w3, "127.0.0.1", 9);
	(void)sa_set_str(&src_other, "127.0.0.2", 9);
	(void)sa_set_str(&src_core, "127.0.0.3", 9);
	(void)sa_set_str(&src_core2, "127.0.0.4", 9);

	if (!err)
		err = tls_alloc(&tls, TLS_METHOD_SSLV23, NULL, NULL);
	if (!err)
		err = tls_set_certificate(tls, pem, sizeof(pem) - 1);
	if (!err)
		err = agw_alloc(&agw, &conf, tls);

	/* libre allocates its fd table with the first socket, for good */
	if (!err)
		mem_deref(sess_new(0));

	return err;
}


static void feed_w3(struct agw_sess *s, unsigned tid, const struct sa *src,
		    const uint8_t *p, size_t n)
{
	struct agw_w3 *w3 = agw_sess_w3(s, tid);
	struct mbuf *mb = mbuf_alloc(n ? n : 1);

	if (!mb || !w3) {
		mem_deref(mb);
		return;
	}

	(void)mbuf_write_mem(mb, p, n);
	mb->pos = 0;
	/* odd lengths through the shared port's demultiplexing */
	if (n & 1)
		agw_shared_recv_test(agw, src, mb);
	else
		agw_w3_recv_test(w3, src, mb);
	mem_deref(mb);
}


static void feed_core(struct agw_sess *s, unsigned idx, bool rtcp,
		      const struct sa *src, const uint8_t *p, size_t n)
{
	struct agw_stream *st = agw_sess_stream_find(s, idx);
	struct mbuf mb;

	if (!st)
		return;

	mb.buf = (uint8_t *)p;
	mb.size = n;
	mb.pos = 0;
	mb.end = n;
	/* odd lengths through the shared core port's demultiplexing
	   (stream 2 relays a data channel: a port of its own) */
	if (n & 1 && st->core_shared)
		agw_coreport_recv_test(s->agw, rtcp && !st->rtcp_mux, src,
				       &mb);
	else
		agw_core_recv_test(st, rtcp, src, &mb);
}


/* What a browser sends: a check that passes */
static void check(struct agw_sess *s, unsigned t, const struct sa *src)
{
	struct agw_w3 *w3 = agw_sess_w3(s, t);
	uint32_t prio = 0x6e001eff;
	uint64_t tiebrk = 1;
	uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	bool use_cand = true;
	char user[64];
	struct mbuf *mb;

	mb = mbuf_alloc(256);
	if (!mb || !w3) {
		mem_deref(mb);
		return;
	}

	(void)re_snprintf(user, sizeof(user), "%s:brUfrag1", w3->ufrag);
	if (!stun_msg_encode(mb, STUN_METHOD_BINDING, STUN_CLASS_REQUEST,
			     tid, NULL, (uint8_t *)w3->pwd, strlen(w3->pwd),
			     true, 0, 4,
			     STUN_ATTR_USERNAME, user,
			     STUN_ATTR_PRIORITY, &prio,
			     STUN_ATTR_CONTROLLING, &tiebrk,
			     STUN_ATTR_USE_CAND, &use_cand)) {
		mb->pos = 0;
		agw_w3_recv_test(w3, src, mb);
	}

	mem_deref(mb);
}


static void srtp_fixed(struct agw_sess *s)
{
	static const uint8_t k1[30] = {1}, k2[30] = {2};
	struct agw_w3 *w3 = agw_sess_w3(s, 0);

	if (w3 && !w3->srtp)
		(void)srtpx_alloc(&w3->srtp, SRTP_AES_CM_128_HMAC_SHA1_80,
				  k1, k2);
}


/* transport 1 relays a data-channel m-line (stream 2) to the core */
static int relay_new(struct agw_sess *s, const struct agw_w3_prm *prm)
{
	struct agw_w3_prm rp = *prm;
	struct agw_stream_prm sp;
	int err;

	rp.relay = true;
	memset(&sp, 0, sizeof(sp));
	sp.tid = 1;
	sp.core_rtcp_mux = true;
	sp.dcrelay = true;

	err = agw_sess_transport(s, 1, &rp, NULL);
	if (!err)
		err = agw_sess_stream(s, 2, &sp, NULL);
	if (!err)
		err = agw_sess_core_peer(s, 2, &src_core, NULL);

	return err;
}


static struct agw_sess *sess_new(uint8_t mode)
{
	struct agw_stream_prm sp;
	struct agw_w3_prm prm;
	struct agw_sess *s;
	uint32_t ssrc = 0x11223344;
	uint8_t pt = 111;
	int err;

	if (agw_sess_alloc(&s, agw, false, NULL, NULL))
		return NULL;

	memset(&prm, 0, sizeof(prm));
	str_ncpy(prm.ufrag, "brUfrag1", sizeof(prm.ufrag));
	str_ncpy(prm.pwd, "browserPassword0123456789", sizeof(prm.pwd));
	prm.fp_type = TLS_FINGERPRINT_SHA256;
	prm.fp_len = 32;
	prm.setup = mode & M_CLIENT ? AGW_SETUP_ACTIVE : AGW_SETUP_PASSIVE;

	memset(&sp, 0, sizeof(sp));
	sp.core_rtcp_mux = (mode & M_MUX) != 0;
	sp.ssrcv = &ssrc;
	sp.ssrcc = 1;
	sp.ptv = &pt;
	sp.ptc = 1;

	err = agw_sess_transport(s, 0, mode & M_REMOTE ? &prm : NULL, NULL);
	if (!err)
		err = agw_sess_stream(s, 0, &sp, NULL);
	if (!err)
		err = agw_sess_stream(s, 1, &sp, NULL);
	if (!err)
		err = agw_sess_core_peer(s, 0, &src_core, NULL);
	if (!err)
		err = relay_new(s, &prm);
	if (err)
		return mem_deref(s);

#ifdef IMSEDGE_TRANSCODE
	/* stream 0 transcoded: Opus 111 / DTMF 126 <-> AMR-WB 96 / DTMF 101
	   (mode bit 7: octet-aligned), or AMR 97 when bit 0 is set too */
	if (mode & M_XCODE) {
		struct agw_xcode_prm xp;

		memset(&xp, 0, sizeof(xp));
		xp.w3_pt = 111;
		xp.w3_dtmf_pt = 126;
		xp.core_codec = mode & M_CLIENT ? CODEC_AMR : CODEC_AMRWB;
		xp.core_pt = mode & M_CLIENT ? 97 : 96;
		xp.core_dtmf_pt = 101;
		xp.octet_align = (mode & M_XC_OA) != 0;
		xp.core_dtx = true;
		if (agw_sess_xcode(s, 0, &xp))
			return mem_deref(s);
	}
#endif

	agw_sess_early_media(s, (mode & M_EARLY) != 0);
	if (mode & M_CHECK) {
		check(s, 0, &src_w3);
		check(s, 1, &src_w3);
	}
	if (mode & M_SRTP)
		srtp_fixed(s);

	return s;
}


static void record(struct agw_sess *s, uint8_t ch, const uint8_t *p,
		   size_t n)
{
	switch (ch & 7) {

	case 0: feed_w3(s, 0, &src_w3, p, n);             break;
	case 1: feed_w3(s, 0, &src_other, p, n);          break;
	case 2: feed_core(s, 0, false, &src_core, p, n);  break;
	case 3: feed_core(s, 0, true, &src_core, p, n);   break;
	case 4: feed_core(s, 0, false, &src_core2, p, n); break;
	case 5: check(s, 0, &src_other);                  break;
	case 6: feed_w3(s, 1, &src_w3, p, n);             break;
	default: feed_core(s, 2, false, &src_core, p, n); break;
	}
}


/* libre's own bookkeeping (debug builds): what an input allocated is
   gone when its session is */
static void leak_check(const struct memstat *before)
{
	struct memstat after;

	if (mem_get_stat(&after))
		return;

	if (after.blocks_cur != before->blocks_cur) {
		mem_debug();
		abort();
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memstat before;
	struct agw_sess *s;
	bool closed = false;

	if (size < 1 || size > 65536)
		return 0;

	memset(&before, 0, sizeof(before));
	(void)mem_get_stat(&before);

	s = sess_new(data[0]);
	if (!s)
		return 0;

	++data;
	--size;

	while (size >= 3 && !closed) {
		uint8_t ch = data[0];
		size_t n = (size_t)data[1] << 8 | data[2];

		data += 3;
		size -= 3;
		n = min(n, size);

		record(s, ch, data, n);
		closed = s->closed;

		data += n;
		size -= n;
	}

	mem_deref(s);
	leak_check(&before);

	return 0;
}

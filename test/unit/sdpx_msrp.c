/**
 * @file sdpx_msrp.c  Tests for MSRP over a data channel in SDP (RFC 8873)
 *                    <-> m=message toward the core (RFC 4975, 6714;
 *                    D-45), against a fake AGW
 */
#include <string.h>
#include <re.h>
#include "agw/agw.h"
#include "sdp/sdpx.h"
#include "test.h"

static struct {
	unsigned nmsrp, npeer;
	struct agw_msrp_prm prm;
	struct agw_msrp_peer peer;
} f;


static int fk_transport(void *arg, unsigned tid, const struct agw_w3_prm *prm,
			struct agw_w3_info *info)
{
	(void)arg;
	(void)prm;

	memset(info, 0, sizeof(*info));
	(void)sa_set_str(&info->cand, "192.0.2.10", 40000 + 2 * tid);
	str_ncpy(info->ufrag, "agwU", sizeof(info->ufrag));
	str_ncpy(info->pwd, "agwPasswordAgwPassword00", sizeof(info->pwd));
	str_ncpy(info->fingerprint, "sha-256 0A:1B", sizeof(info->fingerprint));

	return 0;
}


static int fk_remote(void *arg, unsigned tid, const struct agw_w3_prm *prm)
{
	(void)arg;
	(void)tid;
	(void)prm;

	return 0;
}


static int fk_stream(void *arg, unsigned idx, const struct agw_stream_prm *prm,
		     struct agw_stream_info *info)
{
	(void)arg;
	(void)prm;

	(void)sa_set_str(&info->rtp, "198.51.100.7", 30000 + 2 * idx);
	info->rtcp = info->rtp;
	sa_set_port(&info->rtcp, 30001 + 2 * idx);

	return 0;
}


static int fk_peer(void *arg, unsigned idx, const struct sa *rtp,
		   const struct sa *rtcp)
{
	(void)arg;
	(void)idx;
	(void)rtp;
	(void)rtcp;

	return 0;
}


static int fk_dc(void *arg, unsigned idx, const struct agw_dc_prm *prm,
		 struct agw_dc_info *info)
{
	(void)arg;
	(void)idx;
	(void)prm;

	info->sctp_port = 5000;
	info->max_message = 65536;

	return 0;
}


static int fk_msrp(void *arg, unsigned idx, const struct agw_msrp_prm *prm,
		   struct agw_msrp_info *info)
{
	(void)arg;
	(void)idx;

	++f.nmsrp;
	f.prm = *prm;
	(void)sa_set_str(&info->core, "198.51.100.7", 30100);
	str_ncpy(info->core_uri, "msrp://198.51.100.7:30100/agwcore;tcp",
		 sizeof(info->core_uri));
	str_ncpy(info->w3_uri, "msrp://192.0.2.10:40000/agwdc;dc",
		 sizeof(info->w3_uri));

	return 0;
}


static int fk_msrp_peer(void *arg, unsigned idx,
			const struct agw_msrp_peer *peer)
{
	(void)arg;
	(void)idx;

	++f.npeer;
	f.peer = *peer;

	return 0;
}


static const struct sdpx_ops ops = {
	fk_transport, fk_remote, fk_stream, fk_peer, fk_dc, NULL, NULL,
	fk_msrp, fk_msrp_peer
};

static const char offer[] =
	"v=0\r\n"
	"o=- 1 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0 1\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=ice-ufrag:Xk7q\r\n"
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
	"a=fingerprint:sha-256 3B:8F:1C:D2:5E:90:A7:64:0B:F3:28:C1:9D:E5:47:"
	"7A:12:B6:83:4F:D9:20:6E:AC:F1:35:98:0D:C7:5B:E2:64\r\n"
	"a=setup:actpass\r\n"
	"a=mid:0\r\n"
	"a=rtcp-mux\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=ice-ufrag:Xk7q\r\n"
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
	"a=fingerprint:sha-256 3B:8F:1C:D2:5E:90:A7:64:0B:F3:28:C1:9D:E5:47:"
	"7A:12:B6:83:4F:D9:20:6E:AC:F1:35:98:0D:C7:5B:E2:64\r\n"
	"a=setup:actpass\r\n"
	"a=mid:1\r\n"
	"a=sctp-port:5000\r\n"
	"a=dcmap:1 label=\"chat\";subprotocol=\"MSRP\"\r\n"
	"a=dcsa:1 accept-types:text/plain message/cpim\r\n"
	"a=dcsa:1 path:msrp://x.invalid:9/brow;dc\r\n"
	"a=dcsa:1 setup:active\r\n"
	"a=dcsa:3 path:msrp://other.invalid:9/no;dc\r\n";

static const char answer_fmt[] =
	"v=0\r\n"
	"o=core 7 7 IN IP4 10.20.30.40\r\n"
	"s=-\r\n"
	"c=IN IP4 10.20.30.40\r\n"
	"t=0 0\r\n"
	"m=audio 31000 RTP/AVP 0\r\n"
	"m=message 7777 TCP/MSRP *\r\n"
	"a=path:msrp://10.20.30.40:7777/core1;tcp\r\n"
	"a=accept-types:text/plain\r\n"
	"a=max-size:100000\r\n"
	"a=setup:%s\r\n"
	"a=msrp-cema\r\n";


static bool hit(const struct mbuf *mb, const char *s)
{
	return memmem(mb->buf, mb->end, s, strlen(s)) != NULL;
}


static bool has(const struct mbuf *mb, const char *s)
{
	if (!hit(mb, s)) {
		(void)re_fprintf(stderr, "  no \"%s\" in:\n%b", s, mb->buf,
				 mb->end);
		return false;
	}

	return true;
}


/* D-45: the core sees m=message with the AGW's path, setup, CEMA and
   the channel's other dcsa attributes; the browser gets the AGW's path
   as a=dcsa; the core's answer reaches the AGW (it connects: passive) */
int test_sdpx_msrp(void)
{
	struct sdpx_call *call = NULL;
	struct mbuf *out = mbuf_alloc(8192);
	char ans[sizeof(answer_fmt) + 16];
	struct pl pl;
	int err = 0;

	memset(&f, 0, sizeof(f));
	TEST_ASSERT(out);
	pl_set_str(&pl, offer);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &ops, NULL));
	TEST_EQ(f.nmsrp, 1);
	TEST_EQ(f.prm.sid, 1);
	TEST_STREQ(f.prm.b_path, "msrp://x.invalid:9/brow;dc");
	TEST_ASSERT(has(out, "\r\nm=message 30100 TCP/MSRP *\r\n"
			"c=IN IP4 198.51.100.7\r\n"
			"a=path:msrp://198.51.100.7:30100/agwcore;tcp\r\n"
			"a=setup:actpass\r\na=msrp-cema\r\n"
			"a=accept-types:text/plain message/cpim\r\n"
			"a=sendrecv\r\n"));
	TEST_ASSERT(!hit(out, "dcsa") && !hit(out, "dcmap") &&
		    !hit(out, "brow"));

	(void)re_snprintf(ans, sizeof(ans), answer_fmt, "passive");
	pl_set_str(&pl, ans);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_browser(out, call, &pl, &ops, NULL));
	TEST_EQ(f.npeer, 1);
	TEST_STREQ(f.peer.path, "msrp://10.20.30.40:7777/core1;tcp");
	TEST_ASSERT(f.peer.connect);
	TEST_EQ(sa_port(&f.peer.addr), 7777);
	TEST_ASSERT(has(out, "m=application 40000 UDP/DTLS/SCTP "
			"webrtc-datachannel\r\n"));
	TEST_ASSERT(has(out, "a=dcmap:1 label=\"chat\";subprotocol=\"MSRP\""
			"\r\n"));
	TEST_ASSERT(has(out, "a=dcsa:1 path:msrp://192.0.2.10:40000/agwdc;dc"
			"\r\na=dcsa:1 accept-types:text/plain\r\n"
			"a=dcsa:1 max-size:100000\r\n"));
	TEST_ASSERT(!hit(out, "core1"));

	/* an answer with setup:active: the core connects */
	call = mem_deref(call);
	pl_set_str(&pl, offer);
	mbuf_reset(out);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &ops, NULL));
	(void)re_snprintf(ans, sizeof(ans), answer_fmt, "active");
	pl_set_str(&pl, ans);
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_browser(out, call, &pl, &ops, NULL));
	TEST_ASSERT(!f.peer.connect);

	/* RFC 4976: the core's path lists its relay first; without CEMA the
	   AGW connects to the first URI and keeps the whole path (To-Path) */
	call = mem_deref(call);
	pl_set_str(&pl, offer);
	mbuf_reset(out);
	TEST_ERR(sdpx_offer_to_core(out, &call, &pl, &ops, NULL));
	pl_set_str(&pl, "v=0\r\no=core 7 7 IN IP4 10.20.30.40\r\ns=-\r\n"
		   "c=IN IP4 10.20.30.40\r\nt=0 0\r\n"
		   "m=audio 31000 RTP/AVP 0\r\n"
		   "m=message 7777 TCP/MSRP *\r\n"
		   "a=path:msrp://192.0.2.77:2855/relay1;tcp "
		   "msrp://10.20.30.40:7777/core1;tcp\r\n"
		   "a=accept-types:text/plain\r\n");
	mbuf_reset(out);
	TEST_ERR(sdpx_answer_to_browser(out, call, &pl, &ops, NULL));
	TEST_STREQ(f.peer.path, "msrp://192.0.2.77:2855/relay1;tcp "
		   "msrp://10.20.30.40:7777/core1;tcp");
	TEST_ASSERT(f.peer.connect);
	TEST_EQ(sa_port(&f.peer.addr), 2855);
	TEST_ASSERT(has(out, "a=dcsa:1 path:msrp://192.0.2.10:40000/agwdc;dc"
			"\r\n"));
	TEST_ASSERT(!hit(out, "relay1"));

	/* an MSRP channel without a path is refused */
	call = mem_deref(call);
	{
		char o2[sizeof(offer)];
		char *p;

		str_ncpy(o2, offer, sizeof(o2));
		p = strstr(o2, "a=dcsa:1 path:");
		memcpy(p, "a=dcsa:1 pat0:", 14);
		pl_set_str(&pl, o2);
		mbuf_reset(out);
		TEST_EQ(sdpx_offer_to_core(out, &call, &pl, &ops, NULL),
			EPROTO);
	}

 out:
	mem_deref(call);
	mem_deref(out);
	return err;
}

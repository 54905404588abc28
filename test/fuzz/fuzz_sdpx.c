/**
 * @file fuzz_sdpx.c  Fuzz the SDP interworking: up to four SDPs, split at
 *                    NUL bytes, rewritten in turn on one call against a
 *                    fake AGW. The first byte of each picks the rewrite
 *                    (bits 0-1: offer to core, answer to browser, offer to
 *                    browser, answer to core) and an AGW call to fail
 *                    (bits 2-4, 0 = none); bit 5 sets core_datachannel
 *                    relay (dcrelay.c). Every output must be CRLF-only
 *                    and parse again (or only exceed a limit).
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "agw/agw.h"
#include "sdp/sdpx.h"
#include "sdp/sdpx_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned ncalls, fail_at;


static int op(void)
{
	return ++ncalls == fail_at ? EIO : 0;
}


static int fake_transport(void *arg, unsigned tid,
			  const struct agw_w3_prm *prm,
			  struct agw_w3_info *info)
{
	(void)arg;
	(void)prm;

	if (tid >= SDPX_MAX_MEDIA)
		abort();

	memset(info, 0, sizeof(*info));
	(void)sa_set_str(&info->cand, tid & 1 ? "2001:db8::1" : "192.0.2.1",
			 40000 + tid);
	/* media_listen any: further host candidates on other addresses */
	(void)sa_set_str(&info->morev[0], "198.51.100.7", 40000 + tid);
	(void)sa_set_str(&info->morev[1], "2001:db8::7", 40000 + tid);
	info->morec = tid & 2 ? 2 : 0;
	str_ncpy(info->ufrag, "agwU", sizeof(info->ufrag));
	str_ncpy(info->pwd, "agwPasswordAgwPassword", sizeof(info->pwd));
	str_ncpy(info->fingerprint, "sha-256 AA:BB",
		 sizeof(info->fingerprint));

	return op();
}


static int fake_remote(void *arg, unsigned tid, const struct agw_w3_prm *prm)
{
	(void)arg;
	(void)prm;

	if (tid >= SDPX_MAX_MEDIA)
		abort();

	return op();
}


static int fake_stream(void *arg, unsigned idx,
		       const struct agw_stream_prm *prm,
		       struct agw_stream_info *info)
{
	(void)arg;

	if (idx >= SDPX_MAX_MEDIA || prm->tid >= SDPX_MAX_MEDIA ||
	    prm->ptc > SDPX_MAX_FMT || prm->ssrcc > SDPX_MAX_SSRC ||
	    (prm->dcrelay && (!prm->core_rtcp_mux || prm->ptc)))
		abort();

	(void)sa_set_str(&info->rtp, "198.51.100.1", 30000 + 2 * idx);
	info->rtcp = info->rtp;
	sa_set_port(&info->rtcp, 30001 + 2 * idx);

	return op();
}


static int fake_peer(void *arg, unsigned idx, const struct sa *rtp,
		     const struct sa *rtcp)
{
	(void)arg;
	(void)rtp;
	(void)rtcp;

	if (idx >= SDPX_MAX_MEDIA)
		abort();

	return op();
}


/* data-channel m-lines (src/sdp/dc.c) are fuzzed too */
static int fake_dc(void *arg, unsigned idx, const struct agw_dc_prm *prm,
		   struct agw_dc_info *info)
{
	(void)arg;

	if (idx >= SDPX_MAX_MEDIA || prm->tid >= SDPX_MAX_MEDIA ||
	    !prm->sctp_port)
		abort();

	info->sctp_port = 5000;
	info->max_message = 65536;

	return op();
}


/* transcoding: the parameters must be what the AGW's path can take */
static int fake_xcode(void *arg, unsigned idx,
		      const struct agw_xcode_prm *prm)
{
	(void)arg;

	if (idx >= SDPX_MAX_MEDIA)
		abort();
	if (prm && (prm->w3_pt > 127 || prm->core_pt > 127 ||
		    prm->w3_dtmf_pt > 127 || prm->core_dtmf_pt > 127 ||
		    prm->mode_set > 0x1ff))
		abort();

	return op();
}


/* real-time text: payload types the AGW can take (agw_sess_rtt) */
static int fake_rtt(void *arg, unsigned idx, const struct agw_rtt_prm *prm,
		    struct agw_stream_info *info)
{
	(void)arg;

	if (idx >= SDPX_MAX_MEDIA || prm->tid >= SDPX_MAX_MEDIA ||
	    prm->rx_t140 > 127 || prm->rx_red > 127 ||
	    prm->tx_t140 > 127 || prm->tx_red > 127 ||
	    prm->tx_t140 == prm->tx_red || !prm->tx_t140)
		abort();

	if (info) {
		(void)sa_set_str(&info->rtp, "198.51.100.7", 30000 + 2 * idx);
		info->rtcp = info->rtp;
		sa_set_port(&info->rtcp, 30001 + 2 * idx);
	}

	return op();
}


/* MSRP over a data channel (src/sdp/msrp.c): paths are bounded strings */
static int fake_msrp(void *arg, unsigned idx, const struct agw_msrp_prm *prm,
		     struct agw_msrp_info *info)
{
	(void)arg;

	if (idx >= SDPX_MAX_MEDIA ||
	    strnlen(prm->b_path, sizeof(prm->b_path)) >= sizeof(prm->b_path))
		abort();

	(void)sa_set_str(&info->core, "198.51.100.7", 30100);
	str_ncpy(info->core_uri, "msrp://198.51.100.7:30100/c;tcp",
		 sizeof(info->core_uri));
	str_ncpy(info->w3_uri, "msrp://192.0.2.10:40000/w;dc",
		 sizeof(info->w3_uri));

	return op();
}


static int fake_msrp_peer(void *arg, unsigned idx,
			  const struct agw_msrp_peer *peer)
{
	(void)arg;

	if (idx >= SDPX_MAX_MEDIA ||
	    strnlen(peer->path, sizeof(peer->path)) >= sizeof(peer->path))
		abort();

	return op();
}


static const struct sdpx_ops ops = {
	fake_transport, fake_remote, fake_stream, fake_peer, fake_dc,
	fake_xcode, fake_rtt, fake_msrp, fake_msrp_peer
};


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	return libre_init();
}


static void check_output(const struct mbuf *mb)
{
	struct sdpx_sdp *sdp = NULL;
	struct pl pl;
	size_t i;
	int err;

	for (i = 0; i < mb->end; i++) {
		if (mb->buf[i] == '\n' && (!i || mb->buf[i-1] != '\r'))
			abort();
		if (mb->buf[i] == '\r' &&
		    (i + 1 == mb->end || mb->buf[i+1] != '\n'))
			abort();
	}

	pl.p = (const char *)mb->buf;
	pl.l = mb->end;
	err = sdpx_parse(&sdp, &pl);
	if (err && err != EMSGSIZE && err != ENOMEM)
		abort();

	mem_deref(sdp);
}


static void rewrite(struct sdpx_call **callp, uint8_t sel, const struct pl *pl)
{
	struct mbuf *mb = mbuf_alloc(1024);
	int err;

	if (!mb)
		return;

	ncalls = 0;
	fail_at = (sel >> 2) & 7;
	sdpx_dcrelay_set(sel & 0x20);

	switch (sel & 3) {

	case 0:
		err = sdpx_offer_to_core(mb, callp, pl, &ops, NULL);
		break;

	case 1:
		err = *callp ? sdpx_answer_to_browser(mb, *callp, pl, &ops,
						      NULL) : EINVAL;
		break;

	case 2:
		err = sdpx_offer_to_browser(mb, callp, pl, &ops, NULL);
		break;

	default:
		err = *callp ? sdpx_answer_to_core(mb, *callp, pl, &ops,
						   NULL) : EINVAL;
		break;
	}

	if (err ? mb->end != 0 : !mb->end)
		abort();

	if (!err)
		check_output(mb);

	mem_deref(mb);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdpx_call *call = NULL;
	const uint8_t *p = data, *end = data + size;
	unsigned n;

	if (size > 4 * 65536)
		return 0;

	for (n = 0; n < 4 && p < end; n++) {
		const uint8_t *nul = memchr(p, 0, end - p);
		const uint8_t *e = nul ? nul : end;
		struct pl pl;

		if (e > p) {
			pl.p = (const char *)p + 1;
			pl.l = e - p - 1;
			rewrite(&call, p[0], &pl);
		}

		p = e + 1;
	}

	mem_deref(call);

	return 0;
}

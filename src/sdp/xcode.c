/**
 * @file xcode.c  SDP side of transcoding (D-35, D-61): a browser's offer
 *                gets the core codecs it lacks added toward the core;
 *                a core answer choosing one of them puts the stream on
 *                the AGW's transcoding path and the browser gets Opus
 *
 * Only with ops->xcode (a build with TRANSCODE=1). Added toward the core,
 * after the browser's own payload types, on dynamic payload types the
 * browser did not use: AMR-WB/16000 and AMR/8000 (bandwidth-efficient,
 * the RFC 4867 default, mode-change-capability=2), and telephone-event
 * at 16000 and 8000 when the browser offered it at 48000. Only when the
 * browser offered opus/48000/2: the path always speaks Opus to it.
 *
 * A core answer whose first codec is one of those: its fmtp (octet-align,
 * mode-set) is what the AGW's path uses (RFC 4867 8.3: the answer's
 * parameters are what is sent), and the browser's answer carries its own
 * Opus payload type (and telephone-event/48000 if the core kept DTMF).
 *
 * A core offer with no codec a browser has, but AMR-WB or AMR (in the
 * core's order): the browser is offered Opus (and telephone-event/48000
 * when the core offered DTMF at that rate) on payload types the core's
 * m-line does not use; its answer starts the path, and the core's answer
 * carries its codec with the offer's fmtp echoed (RFC 4867 8.3).
 * Not yet: the config keys (core_codecs, transcoding, opus_complexity,
 * amr_wb_mode_set, max_transcoded_calls), G.711 or G.722 toward the
 * browser of such a call (it is offered Opus only), G.722 to the core.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "../codec/codec.h"
#include "sdpx_int.h"
#include "sdpx.h"

/* what may be added toward the core, in this order */
static const struct {
	int codec;                      /* enum codec_id, -1 DTMF */
	const char *rtpmap;
	const char *fmtp;
	uint32_t rate;
} adds[SDPX_XMAX] = {
	{CODEC_AMRWB, "AMR-WB/16000", "mode-change-capability=2;max-red=0",
	 16000},
	{CODEC_AMR, "AMR/8000", "mode-change-capability=2;max-red=0", 8000},
	{-1, "telephone-event/16000", "0-15", 16000},
	{-1, "telephone-event/8000", "0-15", 8000},
};


static bool rtpmap_is(const struct sdpx_media *m, uint8_t pt,
		      const char *enc, uint32_t rate)
{
	struct pl e;
	uint32_t r, ch;

	return sdpx_rtpmap(m, pt, &e, &r, &ch) && r == rate &&
		!pl_strcasecmp(&e, enc);
}


static bool browser_has(const struct sdpx_media *m, const char *rtpmap)
{
	size_t i;

	for (i = 0; i < m->ptc; i++) {
		struct pl e;
		uint32_t r, ch;
		char buf[64];

		if (!sdpx_rtpmap(m, m->ptv[i], &e, &r, &ch))
			continue;

		if (re_snprintf(buf, sizeof(buf), "%r/%u", &e, r) > 0 &&
		    !str_casecmp(buf, rtpmap))
			return true;
	}

	return false;
}


static int free_pt(const struct sdpx_ml *ml, uint8_t from)
{
	int pt;
	size_t i;

	for (pt = from; pt <= 127; pt++) {
		bool used = sdpx_pt_has(ml->bptv, ml->bptc, pt);

		for (i = 0; !used && i < ml->xc; i++)
			used = ml->xv[i].pt == pt;
		if (!used)
			return pt;
	}

	return -1;
}


/**
 * Decide what a browser's audio m-line gets added toward the core
 *
 * @param ml   The call's m-line (browser payload types stored)
 * @param m    The browser's m-line
 * @param ops  The AGW (nothing is added without ops->xcode)
 */
void sdpx_xcode_offer(struct sdpx_ml *ml, const struct sdpx_media *m,
		      const struct sdpx_ops *ops)
{
	bool dtmf = false;
	size_t i;

	ml->xc = 0;
	ml->opus_pt = -1;
	ml->te48_pt = -1;
	ml->xfmtp[0] = '\0';
	if (!ops || !ops->xcode || ml->rejected || ml->kind != SDPX_AUDIO)
		return;

	for (i = 0; i < m->ptc; i++) {
		if (ml->opus_pt < 0 && rtpmap_is(m, m->ptv[i], "opus", 48000))
			ml->opus_pt = m->ptv[i];
		if (ml->te48_pt < 0 &&
		    rtpmap_is(m, m->ptv[i], "telephone-event", 48000))
			ml->te48_pt = m->ptv[i];
		if (rtpmap_is(m, m->ptv[i], "telephone-event", 8000) ||
		    rtpmap_is(m, m->ptv[i], "telephone-event", 48000))
			dtmf = true;
	}

	if (ml->opus_pt < 0)
		return;

	for (i = 0; i < ARRAY_SIZE(adds); i++) {
		int pt;

		if ((adds[i].codec < 0 && !dtmf) ||
		    browser_has(m, adds[i].rtpmap) ||
		    ml->bptc + ml->xc >= SDPX_MAX_FMT)
			continue;

		pt = free_pt(ml, 96);
		if (pt < 0)
			break;

		ml->xv[ml->xc].pt = (uint8_t)pt;
		ml->xv[ml->xc].add = (uint8_t)i;
		++ml->xc;
	}
}


/** The m-line's payload types toward the core: the browser's, then ours */
size_t sdpx_xcode_pts(uint8_t *ptv, const struct sdpx_ml *ml)
{
	size_t i, n = ml->bptc;

	memcpy(ptv, ml->bptv, ml->bptc);
	for (i = 0; i < ml->xc && n < SDPX_MAX_FMT; i++)
		ptv[n++] = ml->xv[i].pt;

	return n;
}


/** a=rtpmap and a=fmtp of what was added toward the core */
int sdpx_xcode_write_offer(struct mbuf *mb, const struct sdpx_ml *ml)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < ml->xc; i++) {
		const uint8_t pt = ml->xv[i].pt, a = ml->xv[i].add;

		err  = mbuf_printf(mb, "a=rtpmap:%u %s\r\n", pt,
				   adds[a].rtpmap);
		err |= mbuf_printf(mb, "a=fmtp:%u %s\r\n", pt, adds[a].fmtp);
	}

	return err;
}


static const struct sdpx_xpt *added(const struct sdpx_ml *ml, uint8_t pt)
{
	size_t i;

	for (i = 0; i < ml->xc; i++) {
		if (ml->xv[i].pt == pt)
			return &ml->xv[i];
	}

	return NULL;
}


/* a=fmtp:<pt> of the core's m-line */
static bool fmtp_of(const struct sdpx_media *m, uint8_t pt, struct pl *prm)
{
	struct pl name, arg, rest, tok;
	size_t i;
	int p;

	for (i = 0; i < m->linec; i++) {
		if (m->linev[i].type != 'a')
			continue;

		sdpx_attr_split(&m->linev[i].val, &name, &arg);
		if (pl_strcasecmp(&name, "fmtp") || !sdpx_pt_of(&arg, &p) ||
		    p != pt)
			continue;

		rest = arg;
		(void)sdpx_token(&rest, &tok);
		while (rest.l && (*rest.p == ' ' || *rest.p == '\t')) {
			++rest.p;
			--rest.l;
		}
		*prm = rest;
		return true;
	}

	return false;
}


/* mode-set=0,2,5 (RFC 4867 8.1): a bit per mode, at most @p max */
static int mode_set(uint16_t *set, const struct pl *v, uint32_t max)
{
	uint32_t mode = 0;
	bool have = false;
	size_t i;

	*set = 0;
	for (i = 0; i <= v->l; i++) {
		const char ch = i < v->l ? v->p[i] : ',';

		if (ch >= '0' && ch <= '9') {
			mode = mode * 10 + (uint32_t)(ch - '0');
			if (mode > max)
				return EPROTO;
			have = true;
		}
		else if (ch == ',') {
			if (!have)
				return EPROTO;
			*set |= (uint16_t)(1u << mode);
			mode = 0;
			have = false;
		}
		else if (ch != ' ') {
			return EPROTO;
		}
	}

	return 0;
}


/* RFC 4867 8.1 parameters the path needs; EPROTO for what it cannot do
   (interleaving, crc, robust-sorting, a bad mode-set) */
static int amr_fmtp(struct agw_xcode_prm *xp, const struct sdpx_media *m,
		    uint8_t pt, bool wb)
{
	struct pl prm, v;

	if (!fmtp_of(m, pt, &prm))
		return 0;               /* defaults: BE, all modes */

	if (fmt_param_get(&prm, "octet-align", &v))
		xp->octet_align = !pl_strcmp(&v, "1");

	if ((fmt_param_get(&prm, "interleaving", &v) && pl_u32(&v)) ||
	    (fmt_param_get(&prm, "crc", &v) && pl_u32(&v)) ||
	    (fmt_param_get(&prm, "robust-sorting", &v) && pl_u32(&v)))
		return EPROTO;

	if (fmt_param_get(&prm, "mode-set", &v))
		return mode_set(&xp->mode_set, &v, wb ? 8 : 7);

	return 0;
}


/**
 * Take a core answer for an m-line the ALG added codecs to: pass-through
 * if the core chose one of the browser's codecs, else the transcoding
 * path on the AGW and Opus (and DTMF) toward the browser
 *
 * @param ml   The call's m-line (cptv/cptc: what the browser gets)
 * @param m    The core's answer m-line
 * @param idx  Stream index
 * @param ops  The AGW
 * @param arg  Handler argument of ops
 *
 * @return 0, EPROTO for an answer the path cannot take, or what
 *         ops->xcode returns
 */
int sdpx_xcode_answer(struct sdpx_ml *ml, const struct sdpx_media *m,
		      unsigned idx, const struct sdpx_ops *ops, void *arg)
{
	const struct sdpx_xpt *x = NULL;
	struct agw_xcode_prm xp;
	size_t i;
	int err;

	for (i = 0; i < m->ptc && !x; i++) {
		const struct sdpx_xpt *a = added(ml, m->ptv[i]);

		if (sdpx_pt_has(ml->bptv, ml->bptc, m->ptv[i]))
			break;          /* a browser codec first: relay */
		if (a && adds[a->add].codec >= 0)
			x = a;
	}

	if (!x) {
		if (ml->xcoded && ops->xcode)
			(void)ops->xcode(arg, idx, NULL);
		ml->xcoded = false;
		return 0;
	}

	if (!ops->xcode)
		return EPROTO;

	memset(&xp, 0, sizeof(xp));
	xp.w3_pt = (uint8_t)ml->opus_pt;
	xp.core_codec = adds[x->add].codec;
	xp.core_pt = x->pt;
	xp.opus_complexity = 5;
	xp.core_dtx = true;

	/* DTMF at the codec's rate (ours or the browser's payload type) */
	for (i = 0; i < m->ptc && ml->te48_pt >= 0; i++) {
		if (rtpmap_is(m, m->ptv[i], "telephone-event",
			      adds[x->add].rate)) {
			xp.w3_dtmf_pt = (uint8_t)ml->te48_pt;
			xp.core_dtmf_pt = m->ptv[i];
			break;
		}
	}

	err = amr_fmtp(&xp, m, x->pt, xp.core_codec == CODEC_AMRWB);
	if (err)
		return err;

	err = ops->xcode(arg, idx, &xp);
	if (err)
		return err;

	ml->xcoded = true;
	ml->cptc = 0;
	ml->cptv[ml->cptc++] = xp.w3_pt;
	if (xp.w3_dtmf_pt)
		ml->cptv[ml->cptc++] = xp.w3_dtmf_pt;

	return 0;
}


/* a dynamic payload type the core's m-line does not use (nor @p not),
   from @p from on */
static int unused_pt(const struct sdpx_media *m, int from, int not)
{
	int pt, i;

	for (i = 0; i < 32; i++) {
		pt = 96 + (from - 96 + i) % 32;
		if (pt != not && !sdpx_pt_has(m->ptv, m->ptc, pt))
			return pt;
	}

	return -1;
}


/**
 * A core offer's audio m-line without a codec the browser has: find an
 * AMR-WB or AMR payload type (in the core's order) the path can take,
 * and offer the browser Opus (and telephone-event/48000 if the core
 * offered telephone-event at that codec's rate) instead
 *
 * @param ml   The call's m-line (bptv/bptc: what the browser is offered)
 * @param m    The core's m-line
 * @param ops  The AGW (false without ops->xcode)
 *
 * @return true if the m-line can be transcoded
 */
bool sdpx_xcode_core_offer(struct sdpx_ml *ml, const struct sdpx_media *m,
			   const struct sdpx_ops *ops)
{
	struct agw_xcode_prm xp;
	struct pl prm;
	size_t i, j;

	ml->xc = 0;
	ml->xfmtp[0] = '\0';
	if (!ops || !ops->xcode || ml->kind != SDPX_AUDIO)
		return false;

	for (i = 0; i < m->ptc && !ml->xc; i++) {
		for (j = 0; j < ARRAY_SIZE(adds); j++) {
			bool wb = adds[j].codec == CODEC_AMRWB;
			struct pl e;
			uint32_t r, ch;

			if (adds[j].codec < 0 ||
			    !sdpx_rtpmap(m, m->ptv[i], &e, &r, &ch) ||
			    r != adds[j].rate ||
			    pl_strcasecmp(&e, wb ? "AMR-WB" : "AMR"))
				continue;

			memset(&xp, 0, sizeof(xp));
			if (amr_fmtp(&xp, m, m->ptv[i], wb))
				continue;

			ml->xv[0].pt = m->ptv[i];
			ml->xv[0].add = (uint8_t)j;
			ml->xc = 1;
			if (fmtp_of(m, m->ptv[i], &prm) &&
			    prm.l < sizeof(ml->xfmtp))
				(void)pl_strcpy(&prm, ml->xfmtp,
						sizeof(ml->xfmtp));
			break;
		}
	}

	if (!ml->xc)
		return false;

	for (i = 0; i < m->ptc; i++) {
		if (rtpmap_is(m, m->ptv[i], "telephone-event",
			      adds[ml->xv[0].add].rate)) {
			ml->xv[1].pt = m->ptv[i];
			ml->xv[1].add = adds[ml->xv[0].add].rate == 16000 ?
				2 : 3;
			ml->xc = 2;
			break;
		}
	}

	ml->opus_pt = unused_pt(m, 111, -1);
	ml->te48_pt = ml->xc > 1 ? unused_pt(m, 110, ml->opus_pt) : -1;
	if (ml->opus_pt < 0 || (ml->xc > 1 && ml->te48_pt < 0)) {
		ml->xc = 0;
		return false;
	}

	ml->bptc = 0;
	ml->bptv[ml->bptc++] = (uint8_t)ml->opus_pt;
	if (ml->te48_pt >= 0)
		ml->bptv[ml->bptc++] = (uint8_t)ml->te48_pt;

	return true;
}


/** a=rtpmap/fmtp of Opus (and DTMF) toward the browser: a transcoded
    m-line in an answer, or one offered for transcoding */
int sdpx_xcode_write_browser(struct mbuf *mb, const struct sdpx_ml *ml,
			     bool offer)
{
	int err;

	if (offer ? !ml->xc : !ml->xcoded)
		return 0;

	err  = mbuf_printf(mb, "a=rtpmap:%d opus/48000/2\r\n", ml->opus_pt);
	err |= mbuf_printf(mb, "a=fmtp:%d minptime=10;useinbandfec=1\r\n",
			   ml->opus_pt);
	if (offer ? ml->te48_pt >= 0 : ml->cptc > 1)
		err |= mbuf_printf(mb, "a=rtpmap:%d telephone-event/48000\r\n"
				   "a=fmtp:%d 0-15\r\n",
				   offer ? ml->te48_pt : ml->cptv[1],
				   offer ? ml->te48_pt : ml->cptv[1]);

	return err;
}


/**
 * Take the browser's answer to an offer made for transcoding: it must
 * have kept Opus; the AGW's path starts and the core gets its own codec
 *
 * @param ml   The call's m-line (cptv/cptc: what the core gets)
 * @param m    The browser's answer m-line
 * @param idx  Stream index
 * @param ops  The AGW
 * @param arg  Handler argument of ops
 *
 * @return 0, EPROTO if the browser did not take Opus, or what
 *         ops->xcode returns
 */
int sdpx_xcode_browser_answer(struct sdpx_ml *ml, const struct sdpx_media *m,
			      unsigned idx, const struct sdpx_ops *ops,
			      void *arg)
{
	const uint8_t a = ml->xv[0].add;
	struct agw_xcode_prm xp;
	struct pl fmtp;
	int err;

	if (!ops->xcode || ml->opus_pt < 0 ||
	    !sdpx_pt_has(m->ptv, m->ptc, ml->opus_pt))
		return EPROTO;

	memset(&xp, 0, sizeof(xp));
	xp.w3_pt = (uint8_t)ml->opus_pt;
	xp.core_codec = adds[a].codec;
	xp.core_pt = ml->xv[0].pt;
	xp.opus_complexity = 5;
	xp.core_dtx = true;
	if (ml->xc > 1 && sdpx_pt_has(m->ptv, m->ptc, ml->te48_pt)) {
		xp.w3_dtmf_pt = (uint8_t)ml->te48_pt;
		xp.core_dtmf_pt = ml->xv[1].pt;
	}

	/* the offer's parameters, as kept */
	pl_set_str(&fmtp, ml->xfmtp);
	if (fmtp.l) {
		struct pl v;

		if (fmt_param_get(&fmtp, "octet-align", &v))
			xp.octet_align = !pl_strcmp(&v, "1");
		if (fmt_param_get(&fmtp, "mode-set", &v) &&
		    mode_set(&xp.mode_set, &v,
			     xp.core_codec == CODEC_AMRWB ? 8 : 7))
			return EPROTO;
	}

	err = ops->xcode(arg, idx, &xp);
	if (err)
		return err;

	ml->xcoded = true;
	ml->cptc = 0;
	ml->cptv[ml->cptc++] = xp.core_pt;
	if (xp.core_dtmf_pt)
		ml->cptv[ml->cptc++] = xp.core_dtmf_pt;

	return 0;
}


/** The core's codec in the answer to its offer; its fmtp echoed (RFC 4867
    8.3: octet-align, mode-set and the rest as offered) */
int sdpx_xcode_write_core_answer(struct mbuf *mb, const struct sdpx_ml *ml)
{
	const uint8_t a = ml->xv[0].add;
	int err;

	if (!ml->xcoded || !ml->xc)
		return 0;

	err = mbuf_printf(mb, "a=rtpmap:%u %s\r\n", ml->xv[0].pt,
			  adds[a].rtpmap);
	if (ml->xfmtp[0])
		err |= mbuf_printf(mb, "a=fmtp:%u %s\r\n", ml->xv[0].pt,
				   ml->xfmtp);
	if (ml->cptc > 1)
		err |= mbuf_printf(mb, "a=rtpmap:%u %s\r\na=fmtp:%u 0-15\r\n",
				   ml->xv[1].pt, adds[ml->xv[1].add].rtpmap,
				   ml->xv[1].pt);

	return err;
}

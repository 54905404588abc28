/**
 * @file xcode.c  SDP side of transcoding (D-35, D-61): a browser's offer
 *                gets the core codecs it lacks added toward the core;
 *                a core answer choosing one of them puts the stream on
 *                the AGW's transcoding path and the browser gets Opus
 *
 * Only with ops->xcode (a build with TRANSCODE=1). Added toward the core,
 * after the browser's own payload types, on payload types the browser did
 * not use, the codecs of the `core_codecs` key in its order (default
 * AMR-WB AMR G722; sdpx_xcode_set()) that the browser did not offer itself:
 * AMR-WB/16000 and AMR/8000 (bandwidth-efficient, the RFC 4867 default,
 * mode-change-capability=2, AMR-WB with `amr_wb_mode_set` as mode-set),
 * PCMA/PCMU/G722 (their static payload types if free; G722/8000, the
 * RTP clock of RFC 3551 although it samples at 16 kHz), and
 * telephone-event at 16000 and/or 8000 (the clocks of what was added:
 * 8000 for G.722) when the browser offered it at 48000. Only when the browser offered opus/48000/2: the
 * path always speaks Opus to it.
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
 * Not yet: G.711 or G.722 toward the browser of such a call (it is
 * offered Opus only). A core offer with G.722 is the browser's own codec
 * (every WebRTC browser has it): relayed, never transcoded.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "../codec/codec.h"
#include "sdpx_int.h"
#include "sdpx.h"

/* what may be added toward the core (codecs in core_codecs' order,
   then DTMF) */
enum { ADD_TE16 = 5, ADD_TE8 = 6 };
static const struct {
	int codec;                      /* enum codec_id, -1 DTMF */
	const char *rtpmap;
	const char *fmtp;
	uint32_t rate;
	int spt;                        /* static payload type, or -1 */
} adds[SDPX_XMAX] = {
	{CODEC_AMRWB, "AMR-WB/16000", "mode-change-capability=2;max-red=0",
	 16000, -1},
	{CODEC_AMR, "AMR/8000", "mode-change-capability=2;max-red=0", 8000,
	 -1},
	{CODEC_PCMA, "PCMA/8000", NULL, 8000, 8},
	{CODEC_PCMU, "PCMU/8000", NULL, 8000, 0},
	/* RFC 3551 4.5.2: G.722's RTP clock is 8000 (it samples at 16 kHz),
	   so its DTMF is telephone-event/8000 */
	{CODEC_G722, "G722/8000", NULL, 8000, 9},
	{-1, "telephone-event/16000", "0-15", 16000, -1},
	{-1, "telephone-event/8000", "0-15", 8000, -1},
};

/* core_codecs and amr_wb_mode_set (sdpx_xcode_set) */
static struct {
	int codecv[5];                  /* enum codec_id */
	size_t codecc;
	uint16_t wb_mode_set;           /* bit per mode, 0: all */
} cfg = {{CODEC_AMRWB, CODEC_AMR, CODEC_G722, 0, 0}, 3, 0};


/**
 * Set what the ALG adds toward the core (config core_codecs) and the
 * AMR-WB mode-set it offers (amr_wb_mode_set)
 *
 * @param codecv       enum codec_id of AMR-WB, AMR, PCMA, PCMU, G722, in
 *                     order
 * @param codecc       How many (others are ignored)
 * @param wb_mode_set  Bit per AMR-WB mode, 0: all
 */
void sdpx_xcode_set(const int *codecv, size_t codecc, uint16_t wb_mode_set)
{
	size_t i;

	cfg.codecc = 0;
	for (i = 0; i < codecc && cfg.codecc < ARRAY_SIZE(cfg.codecv); i++) {
		if (codecv[i] == CODEC_AMRWB || codecv[i] == CODEC_AMR ||
		    codecv[i] == CODEC_PCMA || codecv[i] == CODEC_PCMU ||
		    codecv[i] == CODEC_G722)
			cfg.codecv[cfg.codecc++] = codecv[i];
	}

	cfg.wb_mode_set = wb_mode_set & 0x1ff;
}


static int add_row(int codec)
{
	int i;

	for (i = 0; i < ADD_TE16; i++) {
		if (adds[i].codec == codec)
			return i;
	}

	return -1;
}


static bool configured(int codec)
{
	size_t i;

	for (i = 0; i < cfg.codecc; i++) {
		if (cfg.codecv[i] == codec)
			return true;
	}

	return false;
}


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


static bool pt_used(const struct sdpx_ml *ml, int pt)
{
	size_t i;

	if (sdpx_pt_has(ml->bptv, ml->bptc, (uint8_t)pt))
		return true;

	for (i = 0; i < ml->xc; i++) {
		if (ml->xv[i].pt == pt)
			return true;
	}

	return false;
}


/* the static payload type @p spt if free, else a free dynamic one */
static int free_pt(const struct sdpx_ml *ml, int spt)
{
	int pt;

	if (spt >= 0 && !pt_used(ml, spt))
		return spt;

	for (pt = 96; pt <= 127; pt++) {
		if (!pt_used(ml, pt))
			return pt;
	}

	return -1;
}


/* the browser's m-line has the static payload type @p spt without an
   a=rtpmap (so it is that codec) */
static bool static_has(const struct sdpx_media *m, int spt)
{
	struct pl e;
	uint32_t r, ch;

	return spt >= 0 && sdpx_pt_has(m->ptv, m->ptc, (uint8_t)spt) &&
		!sdpx_rtpmap(m, (uint8_t)spt, &e, &r, &ch);
}


static bool add(struct sdpx_ml *ml, const struct sdpx_media *m, int row)
{
	int pt;

	if (browser_has(m, adds[row].rtpmap) ||
	    static_has(m, adds[row].spt) ||
	    ml->bptc + ml->xc >= SDPX_MAX_FMT)
		return false;

	pt = free_pt(ml, adds[row].spt);
	if (pt < 0)
		return false;

	ml->xv[ml->xc].pt = (uint8_t)pt;
	ml->xv[ml->xc].add = (uint8_t)row;
	++ml->xc;

	return true;
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
	bool dtmf = false, wb = false, nb = false;
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

	for (i = 0; i < cfg.codecc; i++) {
		const int row = add_row(cfg.codecv[i]);

		if (row < 0 || !add(ml, m, row))
			continue;

		if (adds[row].rate == 16000)
			wb = true;
		else
			nb = true;
	}

	if (dtmf && wb)
		(void)add(ml, m, ADD_TE16);
	if (dtmf && nb)
		(void)add(ml, m, ADD_TE8);
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


/* "mode-set=0,1,2;" */
static int mode_set_print(struct mbuf *mb, uint16_t set)
{
	const char *sep = "";
	int err = mbuf_printf(mb, "mode-set=");
	unsigned i;

	for (i = 0; i <= 8; i++) {
		if (!(set & (1u << i)))
			continue;

		err |= mbuf_printf(mb, "%s%u", sep, i);
		sep = ",";
	}

	return err | mbuf_printf(mb, ";");
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
		if (!adds[a].fmtp)
			continue;

		err |= mbuf_printf(mb, "a=fmtp:%u ", pt);
		if (adds[a].codec == CODEC_AMRWB && cfg.wb_mode_set)
			err |= mode_set_print(mb, cfg.wb_mode_set);
		err |= mbuf_printf(mb, "%s\r\n", adds[a].fmtp);
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

	if (xp.core_codec == CODEC_AMRWB || xp.core_codec == CODEC_AMR) {
		err = amr_fmtp(&xp, m, x->pt, xp.core_codec == CODEC_AMRWB);
		if (err)
			return err;
	}

	/* an answer without mode-set: what we offered (RFC 4867 8.3.1) */
	if (xp.core_codec == CODEC_AMRWB && !xp.mode_set)
		xp.mode_set = cfg.wb_mode_set;

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
 * AMR-WB or AMR payload type (in the core's order; of those in
 * core_codecs) the path can take,
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

			if ((adds[j].codec != CODEC_AMRWB &&
			     adds[j].codec != CODEC_AMR) ||
			    !configured(adds[j].codec) ||
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
				ADD_TE16 : ADD_TE8;
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

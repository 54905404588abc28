/**
 * @file codec.c  Payload types a browser can take from the core: PCMU,
 *                PCMA, G722, opus/48000/2 and telephone-event for audio
 *                (static 0, 8, 9 even without rtpmap); VP8, VP9, H264,
 *                AV1 for video
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"


struct codec {
	const char *name;
	uint32_t rate;
	uint32_t chans;
	bool codec;          /* a codec, not telephone-event */
};

static const struct codec browser_codecs[] = {
	{"PCMU",            8000,  1, true},
	{"PCMA",            8000,  1, true},
	{"G722",            8000,  1, true},
	{"opus",            48000, 2, true},
	{"telephone-event", 8000,  1, false},
	{"telephone-event", 48000, 1, false},
	{"VP8",             90000, 1, true},
	{"VP9",             90000, 1, true},
	{"H264",            90000, 1, true},
	{"AV1",             90000, 1, true},
};

/* static payload types the browser knows without an rtpmap (RFC 3551) */
static const struct {
	uint8_t pt;
	const char *rtpmap;
} statics[] = {
	{0, "PCMU/8000"},
	{8, "PCMA/8000"},
	{9, "G722/8000"},
};


static const struct codec *codec_find(const struct pl *enc, uint32_t rate,
				      uint32_t chans)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(browser_codecs); i++) {
		const struct codec *c = &browser_codecs[i];

		if (!pl_strcasecmp(enc, c->name) && rate == c->rate &&
		    chans == c->chans)
			return c;
	}

	return NULL;
}


static bool static_pt(uint8_t pt)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(statics); i++) {
		if (statics[i].pt == pt)
			return true;
	}

	return false;
}


/**
 * Keep the payload types of a core m-line that a browser can receive
 *
 * @param ptv Returned payload types (SDPX_MAX_FMT entries)
 * @param ptc Returned count
 * @param m   The core's m-line
 *
 * @return how many of them are codecs (not telephone-event)
 */
size_t sdpx_codec_filter(uint8_t *ptv, size_t *ptc,
			 const struct sdpx_media *m)
{
	const enum sdpx_kind kind = sdpx_kind(m);
	size_t i, codecs = 0;

	*ptc = 0;

	for (i = 0; i < m->ptc; i++) {
		const uint8_t pt = m->ptv[i];
		const struct codec *c;
		uint32_t rate, chans;
		struct pl enc;

		if (sdpx_rtpmap(m, pt, &enc, &rate, &chans)) {
			c = codec_find(&enc, rate, chans);
			if (!c || (kind == SDPX_VIDEO) != (rate == 90000))
				continue;
			codecs += c->codec;
		}
		else if (kind == SDPX_AUDIO && static_pt(pt)) {
			++codecs;
		}
		else {
			continue;
		}

		ptv[(*ptc)++] = pt;
	}

	return codecs;
}


/* The clock of a media payload type the browser takes, 0: none */
static uint32_t media_clock(const struct sdpx_media *m, uint8_t pt)
{
	const struct codec *c;
	uint32_t rate, chans;
	struct pl enc;

	if (!sdpx_rtpmap(m, pt, &enc, &rate, &chans))
		return static_pt(pt) ? 8000 : 0;

	/* RFC 2198: a RED packet's timestamp is its primary's */
	if (!pl_strcasecmp(&enc, "red"))
		return rate;

	c = codec_find(&enc, rate, chans);

	return c && c->codec ? rate : 0;
}


/**
 * The RTP clock of each payload type of a stream, for jitter (RFC 3550
 * A.8): 0 for those that carry no media of their own
 * (telephone-event, RTX, FEC)
 *
 * @param clockv Returned clocks, one per prm->ptv entry
 * @param prm    Stream parameters (ptv, ptc set; clockv set to @p clockv)
 * @param m      The m-line the payload types come from
 */
void sdpx_clock(uint32_t *clockv, struct agw_stream_prm *prm,
		const struct sdpx_media *m)
{
	size_t i;

	for (i = 0; i < prm->ptc; i++)
		clockv[i] = media_clock(m, prm->ptv[i] & 0x7f);

	prm->clockv = clockv;
}


/** a=rtpmap for kept static payload types the core left without one */
int sdpx_write_static_rtpmaps(struct mbuf *mb, const struct sdpx_media *m,
			      const uint8_t *ptv, size_t ptc)
{
	struct pl enc;
	uint32_t rate, chans;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < ARRAY_SIZE(statics); i++) {

		if (!sdpx_pt_has(ptv, ptc, statics[i].pt) ||
		    sdpx_rtpmap(m, statics[i].pt, &enc, &rate, &chans))
			continue;

		err = mbuf_printf(mb, "a=rtpmap:%u %s\r\n", statics[i].pt,
				  statics[i].rtpmap);
	}

	return err;
}

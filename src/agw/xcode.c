/**
 * @file xcode.c  eIMS-AGW transcoding path of one stream: browser Opus
 *                <-> core AMR-WB, AMR, PCMA or PCMU (D-35, D-61, D-62)
 *
 * Used only for a stream the SDP layer found no common codec for; every
 * other stream stays on the pass-through path (relay.c). Per direction:
 * plain RTP in (after SRTP on W3), decode, 20 ms frames at the core
 * codec's PCM rate (Opus runs at 8 or 16 kHz: no resampling), encode,
 * a new RTP header (the AGW's own SSRC, sequence and timestamps per
 * side), out. Timestamps follow the sender's (scaled to the other
 * clock), so they stay continuous across DTX and hold; sequence numbers
 * are the AGW's, continuous whatever arrives (nothing sent, no number
 * used: a hold leaves no gap); a pause of the sender (a timestamp jump
 * of over 250 ms with no sequence gap: hold, unmarked DTX, the end of a
 * DTMF event) marks the next packet (RFC 3551 4.1).
 *
 * Memory: a direction's decoder and encoder are made with its first
 * audio packet, so a direction that carries none (held, one-way, early
 * media) holds no codec state; what is sent is built in the AGW's one
 * xbuf.
 *
 * Jitter: each direction's RTP goes through a reordering jitter buffer
 * (xcode_jb.c): in-order packets go on at once; after a gap the packets
 * wait (20..120 ms, adaptive) for the missing one, and leave in order.
 *
 * Loss: a sequence gap of up to XC_CONCEAL_MAX packets is concealed
 * frame by frame (Opus: PLC, and the in-band FEC of the packet after a
 * single loss; AMR: frame erasure; G.711: silence); late and duplicate
 * packets are dropped by the jitter buffer.
 *
 * AMR: RFC 4867 payloads, octet-aligned or bandwidth-efficient, one
 * frame a packet sent, up to AMR_RTP_MAX_FRAMES taken; a CMR received
 * sets the encoder toward the core to the highest mode of the mode-set
 * not above it; the CMR sent asks for the highest mode of the mode-set.
 *
 * DTMF: RFC 4733 telephone-event crosses with its timestamp and duration
 * scaled to the other side's clock (48000 <-> 16000/8000) and the other
 * side's payload type, in the same sequence space as the audio; it does
 * not touch the codecs.
 *
 * RTCP: what either side sends describes the stream the AGW terminates,
 * so it is not passed on; each side gets the AGW's own sender report
 * (SR + SDES CNAME) for what the AGW sends it, every XC_RTCP_MS.
 */
#include <string.h>
#include <time.h>
#include <re.h>
#include "../net/net.h"
#include "../tls/dtls.h"
#include "../tls/tlsx.h"
#include "../srtp/srtp.h"
#include "../codec/codec.h"
#include "../core/log.h"
#include "agw.h"
#include "agw_int.h"
#include "xcode.h"
#include "xcode_jb.h"

#define LOG_MODULE "agw"

enum {
	XC_CONCEAL_MAX = 5,          /**< Lost packets concealed at most   */
	XC_RTCP_MS     = 5000,
	XC_HDR         = 12,
	XC_FRAME_MAX   = 320,        /**< Samples of 20 ms at 16 kHz       */
};

/** Received RTP, parsed */
struct rtph {
	bool m;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint8_t *pl;
	size_t plen;
};

/** One direction: decode the sender's codec, encode the receiver's */
struct xdir {
	struct agw_xcode *x;
	struct xjb *jb;
	struct tmr tmr_jb;
	uint32_t jb_ssrc;
	struct codec_dec *dec;       /**< NULL until this direction's audio */
	struct codec_enc *enc;       /**< ... likewise                     */
	const struct codec *dc, *ec; /**< Decoded, encoded                 */
	struct codec_prm dprm, eprm; /**< Their parameters                 */
	bool to_core;
	uint32_t in_clock;           /**< RTP clock of what arrives        */
	uint32_t out_clock;          /**< RTP clock of what leaves         */
	uint8_t in_pt, in_dtmf_pt;
	uint8_t out_pt, out_dtmf_pt;
	/* input */
	bool started;
	uint32_t in_ssrc;
	uint16_t in_seq;
	uint32_t in_ts;              /**< Of the last packet taken         */
	/* output */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t out_ts;             /**< Mapped from in_ts                */
	bool mark;                   /**< Next packet starts a talkspurt   */
	int16_t pcm[XC_FRAME_MAX];   /**< Less than one encoder frame      */
	size_t pcmn;
	uint32_t pcm_ts;             /**< Output timestamp of pcm[0]       */
	uint32_t pkts, octets;       /**< For the SR                       */
	uint32_t last_ts;            /**< Last timestamp sent              */
};

/** The transcoding path of one stream */
struct agw_xcode {
	struct agw_stream *st;
	struct agw_xcode_prm prm;
	struct rtpq_pts pts_w3;      /**< rtpq's clocks: Opus from the browser */
	struct rtpq_pts pts_core;    /**< the core's codec                 */
	const struct codec *core;
	struct xdir up;              /**< Browser -> core                  */
	struct xdir down;            /**< Core -> browser                  */
	struct tmr tmr_rtcp;
	bool counted;                /**< In agw->xcodes                   */
	uint8_t *buf;                /**< agw->xbuf: what is sent          */
};

/* the size of what x->buf points to */
#define XBUF_SIZE sizeof(((struct agw *)0)->xbuf)


static void destructor(void *arg)
{
	struct agw_xcode *x = arg;

	if (x->counted)
		--x->st->sess->agw->xcodes;
	tmr_cancel(&x->tmr_rtcp);
	tmr_cancel(&x->up.tmr_jb);
	tmr_cancel(&x->down.tmr_jb);
	mem_deref(x->up.jb);
	mem_deref(x->down.jb);
	mem_deref(x->up.dec);
	mem_deref(x->up.enc);
	mem_deref(x->down.dec);
	mem_deref(x->down.enc);
}


static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}


static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}


static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}


static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}


/* RFC 3550 5.1: version 2, CSRCs, header extension, padding */
static int rtp_parse(struct rtph *h, const uint8_t *p, size_t n)
{
	size_t hlen;

	if (n < XC_HDR || (p[0] >> 6) != 2)
		return EBADMSG;

	hlen = XC_HDR + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (n < hlen + 4)
			return EBADMSG;
		hlen += 4 + 4u * be16(p + hlen + 2);
	}
	if (hlen > n)
		return EBADMSG;

	h->plen = n - hlen;
	if (p[0] & 0x20) {
		uint8_t pad = p[n - 1];

		if (!pad || pad > h->plen)
			return EBADMSG;
		h->plen -= pad;
	}

	h->m    = p[1] >> 7;
	h->pt   = p[1] & 0x7f;
	h->seq  = be16(p + 2);
	h->ts   = be32(p + 4);
	h->ssrc = be32(p + 8);
	h->pl   = p + hlen;

	return 0;
}


static int send_out(struct agw_xcode *x, struct xdir *d, bool rtcp,
		    size_t len)
{
	struct agw_stream *st = x->st;
	int err;

	if (d->to_core) {
		err = agw_core_send(st, rtcp, x->buf, len);
		if (err)
			++st->stats.w3_dropped;
		else if (!rtcp) {
			++st->stats.w3_pkts;
			st->stats.w3_bytes += len;
		}
	}
	else {
		err = agw_relay_to_w3(st, rtcp, x->buf, len, XBUF_SIZE);
		if (!err && !rtcp) {
			++st->stats.core_pkts;
			st->stats.core_bytes += len;
		}
	}

	return err;
}


static void send_rtp(struct agw_xcode *x, struct xdir *d, uint8_t pt,
		     uint32_t ts, bool m, size_t plen)
{
	x->buf[0] = 0x80;
	x->buf[1] = (uint8_t)((m ? 0x80 : 0) | pt);
	put16(x->buf + 2, d->seq++);
	put32(x->buf + 4, ts);
	put32(x->buf + 8, d->ssrc);

	if (send_out(x, d, false, XC_HDR + plen))
		return;

	++d->pkts;
	d->octets += (uint32_t)plen;
	d->last_ts = ts;
}


/* input timestamp -> output timestamp (integer clock ratios) */
static uint32_t ts_map(const struct xdir *d, uint32_t ts)
{
	int32_t delta = (int32_t)(ts - d->in_ts);
	int64_t scaled = (int64_t)delta * d->out_clock / d->in_clock;

	return d->out_ts + (uint32_t)scaled;
}


static uint8_t cmr_out(const struct agw_xcode *x)
{
	int mode;

	if (!x->prm.mode_set)
		return AMR_CMR_NONE;

	for (mode = 8; mode >= 0; mode--) {
		if (x->prm.mode_set & (1u << mode))
			return (uint8_t)mode;
	}

	return AMR_CMR_NONE;
}


/* encode one 20 ms frame of pcm[] and send it */
static void encode_frame(struct agw_xcode *x, struct xdir *d, size_t fs)
{
	bool amr = d->to_core && (x->core->id == CODEC_AMR ||
				  x->core->id == CODEC_AMRWB);
	bool wb = x->core->id == CODEC_AMRWB;
	uint8_t frame[CODEC_MAX_FRAME];
	uint32_t ts = d->pcm_ts;
	size_t len = 0, plen;
	int err;

	err = codec_encode(d->enc, frame, &len, d->pcm);
	d->pcmn -= fs;
	memmove(d->pcm, d->pcm + fs, d->pcmn * sizeof(d->pcm[0]));
	d->pcm_ts += (uint32_t)((uint64_t)fs * d->out_clock /
				codec_enc_srate(d->enc));
	if (err || !len) {  /* DTX: nothing this frame */
		d->mark = true;
		return;
	}

	if (amr) {
		struct amr_rtp p;

		p.n = 0;
		p.cmr = cmr_out(x);
		if (amr_rtp_add(&p, wb, frame, len) ||
		    amr_rtp_encode(x->buf + XC_HDR,
				   XBUF_SIZE - XC_HDR - AGW_TRAILER_MAX,
				   &plen, &p, wb, x->prm.octet_align))
			return;
	}
	else {
		if (len > XBUF_SIZE - XC_HDR - AGW_TRAILER_MAX)
			return;
		memcpy(x->buf + XC_HDR, frame, len);
		plen = len;
	}

	send_rtp(x, d, d->out_pt, ts, d->mark, plen);
	d->mark = false;
}


/* decoded samples (at the encoder's rate) for output timestamp ts */
static void pcm_push(struct agw_xcode *x, struct xdir *d,
		     const int16_t *pcm, size_t n, uint32_t ts)
{
	size_t fs = codec_enc_srate(d->enc) / 50;

	if (!d->pcmn)
		d->pcm_ts = ts;

	while (n) {
		size_t k = min(n, fs - d->pcmn % fs);

		if (d->pcmn + k > ARRAY_SIZE(d->pcm))
			return;

		memcpy(d->pcm + d->pcmn, pcm, k * sizeof(*pcm));
		d->pcmn += k;
		pcm += k;
		n -= k;

		if (d->pcmn >= fs)
			encode_frame(x, d, fs);
	}
}


static void dropped(struct agw_xcode *x, const struct xdir *d)
{
	if (d->to_core)
		++x->st->stats.w3_dropped;
	else
		++x->st->stats.core_dropped;
}


/* a direction's decoder and encoder, made with its first audio: a
   direction that carries none (one-way, held, early media) costs no
   codec state (issue 11: 18-49 KiB a direction) */
static int dir_codecs(struct xdir *d)
{
	int err;

	if (d->dec && d->enc)
		return 0;

	err = d->dec ? 0 : codec_dec_alloc(&d->dec, d->dc, &d->dprm);
	if (!err && !d->enc)
		err = codec_enc_alloc(&d->enc, d->ec, &d->eprm);

	return err;
}


/* the encoder's mode (a CMR obeyed), made or still to be made */
static void dir_mode(struct xdir *d, int mode)
{
	struct codec_prm p = d->eprm;

	p.mode = mode;
	if (codec_prm_check(d->ec, &p, NULL))
		return;

	d->eprm.mode = mode;
	if (d->enc)
		(void)codec_enc_mode(d->enc, mode);
}


static void decode_push(struct agw_xcode *x, struct xdir *d,
			const uint8_t *buf, size_t len, bool fec,
			uint32_t ts)
{
	int16_t pcm[CODEC_MAX_SAMPLES];
	size_t n = 0;

	if (dir_codecs(d)) {
		dropped(x, d);
		return;
	}

	if (codec_decode(d->dec, pcm, &n, buf, len, fec) || !n)
		return;

	pcm_push(x, d, pcm, n, ts);
}


static void conceal(struct agw_xcode *x, struct xdir *d, unsigned lost,
		    const struct rtph *h)
{
	uint32_t step = d->out_clock / 50;
	uint32_t ts = ts_map(d, h->ts) - lost * step;
	bool opus = d->to_core;  /* going up, Opus is decoded */
	unsigned i;

	/* the lost frames before this packet; the last from its FEC */
	for (i = 0; i < lost; i++, ts += step) {
		bool fec = opus && i + 1 == lost && h->plen;

		decode_push(x, d, fec ? h->pl : NULL, fec ? h->plen : 0,
			    fec, ts);
	}
}


/* sequence bookkeeping; false: drop (late, duplicate) */
static bool seq_take(struct agw_xcode *x, struct xdir *d,
		     const struct rtph *h)
{
	uint16_t gap;

	if (!d->started || h->ssrc != d->in_ssrc) {
		/* a new sender (or the first packet): timestamps continue
		   from what was sent */
		if (d->started)
			d->out_ts = d->last_ts + d->out_clock / 50;
		d->started = true;
		d->in_ssrc = h->ssrc;
		d->in_seq = h->seq;
		d->in_ts = h->ts;
		d->pcmn = 0;
		d->mark = true;
		return true;
	}

	gap = (uint16_t)(h->seq - d->in_seq);
	if (!gap || gap >= 0x8000)
		return false;

	if (gap > 1 && gap - 1u <= XC_CONCEAL_MAX && h->pt == d->in_pt)
		conceal(x, d, gap - 1u, h);
	else if (gap > 1)
		d->pcmn = 0;
	else if ((uint32_t)(h->ts - d->in_ts) > d->in_clock / 4 &&
		 (uint32_t)(h->ts - d->in_ts) < 0x80000000u)
		d->mark = true;  /* paused (hold, unmarked DTX): > 250 ms, more
				    than any one packet holds */

	d->out_ts = ts_map(d, h->ts);
	d->in_ts = h->ts;
	d->in_seq = h->seq;

	return true;
}


/* RFC 4733 2.3: event, E/R/volume, duration (in the sender's clock) */
static void dtmf(struct agw_xcode *x, struct xdir *d, const struct rtph *h)
{
	uint32_t dur;

	if (!d->out_dtmf_pt || h->plen < 4 ||
	    h->plen > XBUF_SIZE - XC_HDR - AGW_TRAILER_MAX)
		return;

	memcpy(x->buf + XC_HDR, h->pl, h->plen);
	dur = (uint32_t)be16(h->pl + 2) * d->out_clock / d->in_clock;
	put16(x->buf + XC_HDR + 2, (uint16_t)min(dur, 0xffffu));

	send_rtp(x, d, d->out_dtmf_pt, d->out_ts, h->m, h->plen);
}


static void cmr_obey(struct agw_xcode *x, uint8_t cmr)
{
	int mode;

	if (cmr == AMR_CMR_NONE)
		return;

	for (mode = cmr; mode >= 0; mode--) {
		if (!x->prm.mode_set || (x->prm.mode_set & (1u << mode))) {
			dir_mode(&x->up, mode);
			return;
		}
	}
}


static void audio_amr(struct agw_xcode *x, struct xdir *d,
		      const struct rtph *h)
{
	bool wb = x->core->id == CODEC_AMRWB;
	uint32_t step = d->out_clock / 50;
	struct amr_rtp p;
	uint32_t ts = d->out_ts;
	size_t i;

	if (amr_rtp_decode(&p, wb, x->prm.octet_align, h->pl, h->plen)) {
		++x->st->stats.core_dropped;
		return;
	}

	cmr_obey(x, p.cmr);
	for (i = 0; i < p.n; i++, ts += step) {
		const struct amr_frame *f = &p.fv[i];
		int bits = amr_frame_bits(wb, f->ft);

		/* NO_DATA, SPEECH_LOST and damaged frames: erasure (after a
		   SID the decoder goes on with comfort noise) */
		if (f->ft == AMR_FT_NO_DATA || f->ft == AMR_FT_SPEECH_LOST ||
		    !f->q)
			decode_push(x, d, NULL, 0, false, ts);
		else
			decode_push(x, d, f->b, 1 + ((size_t)bits + 7) / 8,
				    false, ts);
	}
}


/* a packet leaves the jitter buffer, in sequence order */
static void jb_out(const uint8_t *p, size_t n, void *arg)
{
	struct xdir *d = arg;
	struct agw_xcode *x = d->x;
	struct rtph h;

	if (rtp_parse(&h, p, n) || !seq_take(x, d, &h))
		goto drop;

	if (h.pt == d->in_dtmf_pt) {
		dtmf(x, d, &h);
		return;
	}

	if (h.m)
		d->mark = true;

	if (!d->to_core && (x->core->id == CODEC_AMR ||
			    x->core->id == CODEC_AMRWB)) {
		audio_amr(x, d, &h);
		return;
	}

	if (d->to_core) {
		struct codec_opus_toc t;

		if (codec_opus_toc(&t, h.pl, h.plen))
			goto drop;
		if (t.dtx) {  /* no audio in it: DTX */
			d->mark = true;
			return;
		}
	}
	else if (!h.plen) {
		goto drop;
	}

	decode_push(x, d, h.pl, h.plen, false, d->out_ts);
	return;

 drop:
	dropped(x, d);
}


static void jb_tmr(void *arg)
{
	struct xdir *d = arg;
	uint64_t now = tmr_jiffies();
	uint64_t due = xjb_poll(d->jb, now);

	if (due)
		tmr_start(&d->tmr_jb, due - now, jb_tmr, d);
	else
		tmr_cancel(&d->tmr_jb);
}


static void rtp_in(struct agw_xcode *x, struct xdir *d, const uint8_t *p,
		   size_t n)
{
	struct rtph h;

	if (rtp_parse(&h, p, n) ||
	    (h.pt != d->in_pt && (!d->in_dtmf_pt || h.pt != d->in_dtmf_pt))) {
		dropped(x, d);
		return;
	}

	/* a new sender: what the old one left waiting is dropped */
	if (h.ssrc != d->jb_ssrc) {
		xjb_reset(d->jb);
		d->jb_ssrc = h.ssrc;
	}

	xjb_put(d->jb, p, n, tmr_jiffies());
	jb_tmr(d);
}


/**
 * Browser to core: plain RTP or RTCP (after SRTP) of a transcoded stream
 *
 * @param x    Transcoding path
 * @param p    Packet
 * @param n    Length
 * @param rtcp RTCP (taken, not passed on)
 */
void agw_xcode_from_w3(struct agw_xcode *x, const uint8_t *p, size_t n,
		       bool rtcp)
{
	if (!x || !p)
		return;

	if (rtcp)
		return;

	rtp_in(x, &x->up, p, n);
}


/**
 * Core to browser: plain RTP or RTCP of a transcoded stream (latched)
 *
 * @param x    Transcoding path
 * @param p    Packet
 * @param n    Length
 * @param rtcp RTCP (taken, not passed on)
 */
void agw_xcode_from_core(struct agw_xcode *x, const uint8_t *p, size_t n,
			 bool rtcp)
{
	if (!x || !p)
		return;

	if (rtcp || !x->st->sess->early)
		return;

	rtp_in(x, &x->down, p, n);
}


/* RFC 3550 6.4.1 SR (no report blocks) + 6.5 SDES CNAME */
static void send_sr(struct agw_xcode *x, struct xdir *d)
{
	static const char cname[] = "imsedge";
	uint8_t *b = x->buf;
	struct timespec tv;
	uint64_t frac;
	size_t sdes;

	if (!d->pkts)
		return;

	(void)clock_gettime(CLOCK_REALTIME, &tv);
	frac = ((uint64_t)tv.tv_nsec << 32) / 1000000000u;

	b[0] = 0x80;
	b[1] = 200;
	put16(b + 2, 6);
	put32(b + 4, d->ssrc);
	put32(b + 8, (uint32_t)tv.tv_sec + 2208988800u);
	put32(b + 12, (uint32_t)frac);
	put32(b + 16, d->last_ts);
	put32(b + 20, d->pkts);
	put32(b + 24, d->octets);

	/* SDES: header, SSRC, CNAME item, end, padding to 32 bits */
	sdes = 4 + 4 + 2 + sizeof(cname) - 1 + 1;
	sdes = (sdes + 3) & ~(size_t)3;
	memset(b + 28, 0, sdes);
	b[28] = 0x81;
	b[29] = 202;
	put16(b + 30, (uint16_t)(sdes / 4 - 1));
	put32(b + 32, d->ssrc);
	b[36] = 1;
	b[37] = sizeof(cname) - 1;
	memcpy(b + 38, cname, sizeof(cname) - 1);

	(void)send_out(x, d, true, 28 + sdes);
}


static void rtcp_tmr(void *arg)
{
	struct agw_xcode *x = arg;

	tmr_start(&x->tmr_rtcp, XC_RTCP_MS, rtcp_tmr, x);
	if (x->st->sess->closed)
		return;

	send_sr(x, &x->up);
	send_sr(x, &x->down);
}


static int dir_init(struct xdir *d, const struct codec *dc,
		    const struct codec *ec, const struct codec_prm *prm,
		    const struct codec_prm *eprm)
{
	uint32_t r;
	int err;

	/* the codecs come with the direction's first audio (dir_codecs):
	   here their parameters are only checked; pcm[] holds less than
	   one frame of the encoder */
	if (codec_prm_check(dc, prm, NULL) || codec_prm_check(ec, eprm, &r) ||
	    r / 50 > XC_FRAME_MAX)
		return EINVAL;

	d->dc = dc;
	d->ec = ec;
	d->dprm = *prm;
	d->eprm = *eprm;
	err = xjb_alloc(&d->jb, jb_out, d);
	if (err)
		return err;

	err = tls_random((uint8_t *)&r, sizeof(r));
	if (err)
		return err;

	d->ssrc = r;
	d->seq = (uint16_t)(r >> 7);
	d->out_ts = r * 2654435761u;
	d->last_ts = d->out_ts;
	d->in_clock = dc->clock;
	d->out_clock = ec->clock;
	d->mark = true;

	return 0;
}


/**
 * Allocate the transcoding path of a stream
 *
 * @param xp   Path (out)
 * @param st   Stream
 * @param prm  What each side speaks
 *
 * @return 0, EINVAL for a codec the path cannot do, or an errno
 */
int agw_xcode_alloc(struct agw_xcode **xp, struct agw_stream *st,
		    const struct agw_xcode_prm *prm)
{
	const struct codec *opus = codec_get(CODEC_OPUS);
	struct codec_prm cp, op;
	struct agw_xcode *x;
	int err;

	if (!xp || !st || !prm)
		return EINVAL;

	if (!st->sess->agw->conf.transcoding)
		return ENOTSUP;

	if (prm->core_codec == CODEC_OPUS || !codec_get(prm->core_codec) ||
	    prm->w3_pt > 127 || prm->core_pt > 127 ||
	    prm->w3_dtmf_pt > 127 || prm->core_dtmf_pt > 127 ||
	    prm->opus_complexity < 0 || prm->opus_complexity > 10)
		return EINVAL;

	x = mem_zalloc(sizeof(*x), destructor);
	if (!x)
		return ENOMEM;

	x->st = st;
	x->buf = st->sess->agw->xbuf;
	x->prm = *prm;
	x->core = codec_get(prm->core_codec);
	++st->sess->agw->xcodes;
	x->counted = true;

	memset(&cp, 0, sizeof(cp));
	cp.srate = x->core->srate;
	cp.dtx = prm->core_dtx;
	cp.mode = cmr_out(x) == AMR_CMR_NONE ?
		(x->core->id == CODEC_AMRWB ? 8 : 7) : cmr_out(x);

	memset(&op, 0, sizeof(op));
	op.srate = x->core->srate;
	op.complexity = prm->opus_complexity;
	op.fec = true;

	/* up: Opus -> core codec; down: core codec -> Opus */
	x->up.x = x;
	x->down.x = x;
	err = dir_init(&x->up, opus, x->core, &op, &cp);
	if (err)
		goto out;
	err = dir_init(&x->down, x->core, opus, &cp, &op);
	if (err)
		goto out;

	x->up.to_core = true;
	x->up.in_pt = prm->w3_pt;
	x->up.in_dtmf_pt = prm->w3_dtmf_pt;
	x->up.out_pt = prm->core_pt;
	x->up.out_dtmf_pt = prm->core_dtmf_pt;
	x->down.in_pt = prm->core_pt;
	x->down.in_dtmf_pt = prm->core_dtmf_pt;
	x->down.out_pt = prm->w3_pt;
	x->down.out_dtmf_pt = prm->w3_dtmf_pt;

	tmr_start(&x->tmr_rtcp, XC_RTCP_MS, rtcp_tmr, x);

 out:
	if (err)
		mem_deref(x);
	else
		*xp = x;

	return err;
}


static bool prm_eq(const struct agw_xcode_prm *a,
		   const struct agw_xcode_prm *b)
{
	return a->w3_pt == b->w3_pt && a->w3_dtmf_pt == b->w3_dtmf_pt &&
		a->core_codec == b->core_codec && a->core_pt == b->core_pt &&
		a->core_dtmf_pt == b->core_dtmf_pt &&
		a->octet_align == b->octet_align &&
		a->mode_set == b->mode_set &&
		a->opus_complexity == b->opus_complexity &&
		a->core_dtx == b->core_dtx;
}


/* a new path goes on with the old one's SSRCs, sequence numbers and
   timestamps (a codec change mid-call is not a new stream) */
static void carry(struct xdir *d, const struct xdir *old)
{
	d->ssrc = old->ssrc;
	d->seq = old->seq;
	d->out_ts = old->last_ts + (uint32_t)((uint64_t)old->out_clock /
					      50);
	d->last_ts = d->out_ts;
	d->pkts = old->pkts;
	d->octets = old->octets;
}


/* Each side's media payload type and clock, for rtpq's jitter: Opus
   from the browser, the core's codec from the core */
static void clocks(struct agw_xcode *x, const struct agw_xcode_prm *prm)
{
	const struct codec *core = codec_get(prm->core_codec);

	rtpq_pts_reset(&x->pts_w3);
	(void)rtpq_pt(&x->pts_w3, prm->w3_pt & 0x7f, 48000);
	rtpq_pts_reset(&x->pts_core);
	if (core)
		(void)rtpq_pt(&x->pts_core, prm->core_pt & 0x7f,
			      core->clock);
}


/**
 * Put a stream on the transcoding path, change it (re-INVITE), or put
 * it back on the pass-through relay
 *
 * @param s    Session
 * @param idx  Stream index
 * @param prm  What each side speaks; NULL: pass-through
 *
 * @return 0, ENOENT for no such stream, EINVAL for parameters the path
 *         cannot do, or an errno
 */
int agw_sess_xcode(struct agw_sess *s, unsigned idx,
		   const struct agw_xcode_prm *prm)
{
	struct agw_xcode_prm p;
	struct agw_stream *st;
	struct agw_xcode *x;
	int err;

	if (!s)
		return EINVAL;

	st = agw_sess_stream_find(s, idx);
	if (!st)
		return ENOENT;

	if (!prm) {
		st->q_w3.pts = st->q_core.pts = &st->relay_pts;
		st->xc = mem_deref(st->xc);
		return 0;
	}

	p = *prm;
	p.opus_complexity = s->agw->conf.opus_complexity;
	if (st->xc && prm_eq(&st->xc->prm, &p))
		return 0;

	/* a new path (not a change of one): within max_transcoded_calls */
	if (!st->xc && s->agw->xcodes >= s->agw->conf.max_xcode) {
		log_warn("stream %u: not transcoded, %u streams are "
			 "(max_transcoded_calls)", idx, s->agw->xcodes);
		return EBUSY;
	}

	err = agw_xcode_alloc(&x, st, &p);
	if (err)
		return err;

	clocks(x, prm);
	st->q_w3.pts = &x->pts_w3;
	st->q_core.pts = &x->pts_core;
	if (st->xc) {
		carry(&x->up, &st->xc->up);
		carry(&x->down, &st->xc->down);
		mem_deref(st->xc);
	}
	else {
		++s->agw->xcodes_total;
	}

	st->xc = x;
	log_info("stream %u: transcoding opus/%u <-> %s/%u", idx,
		 (unsigned)prm->w3_pt, x->core->name,
		 (unsigned)prm->core_pt);

	return 0;
}


/**
 * Whether the AGW transcodes (config "transcoding", a build with
 * TRANSCODE=1) and has room for one more transcoded stream
 *
 * @param agw  The AGW
 *
 * @return true if the SDP layer may offer transcoded codecs
 */
bool agw_xcode_enabled(const struct agw *agw)
{
	return agw && agw->conf.transcoding &&
		agw->xcodes < agw->conf.max_xcode;
}

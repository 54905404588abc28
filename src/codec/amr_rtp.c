/**
 * @file amr_rtp.c  RFC 4867 payloads of AMR and AMR-WB: octet-aligned
 *                  and bandwidth-efficient, several frames a packet
 *
 * Payload (section 4.3/4.4): CMR (4 bits; octet-aligned: then 4 reserved
 * bits), one table-of-contents entry per frame (F: more follow, FT, Q;
 * 6 bits, octet-aligned: padded to a byte), then the frames' speech bits
 * in ToC order (octet-aligned: each padded to a byte), then zero padding
 * to a byte. Interleaving and CRCs (octet-aligned options) are not
 * supported: the SDP layer never agrees to them.
 *
 * A received payload is checked whole before anything is used: every
 * FT known (an FT reserved for future use discards the packet, 4.3.2),
 * at most AMR_RTP_MAX_FRAMES entries, and its length exactly what the
 * ToC says.
 */
#include <string.h>
#include <re.h>
#include "codec.h"

/* speech bits per FT (3GPP TS 26.101 table 1a, TS 26.201 table 1a);
   -1: reserved or not used on RTP */
static const int16_t nb_bits[16] = {
	95, 103, 118, 134, 148, 159, 204, 244, 39,
	-1, -1, -1, -1, -1, -1, 0
};

static const int16_t wb_bits[16] = {
	132, 177, 253, 285, 317, 365, 397, 461, 477, 40,
	-1, -1, -1, -1, 0, 0
};

struct bitr {
	const uint8_t *p;
	size_t len;        /* bits */
	size_t pos;        /* bits */
};

struct bitw {
	uint8_t *p;
	size_t size;       /* bytes */
	size_t pos;        /* bits */
};


/**
 * Speech bits of a frame type
 *
 * @param wb  AMR-WB (else AMR)
 * @param ft  Frame type
 *
 * @return Bits (0 for NO_DATA, SPEECH_LOST), -1 for an FT not allowed
 */
int amr_frame_bits(bool wb, unsigned ft)
{
	if (ft > 15)
		return -1;

	return wb ? wb_bits[ft] : nb_bits[ft];
}


static unsigned get(struct bitr *r, unsigned n)
{
	unsigned v = 0;

	while (n--) {
		v = v << 1 | ((r->p[r->pos / 8] >> (7 - r->pos % 8)) & 1);
		++r->pos;
	}

	return v;
}


static void put(struct bitw *w, unsigned v, unsigned n)
{
	while (n--) {
		uint8_t *b = &w->p[w->pos / 8];
		unsigned sh = 7 - w->pos % 8;

		*b = (uint8_t)((*b & ~(1u << sh)) | (((v >> n) & 1) << sh));
		++w->pos;
	}
}


static void align(size_t *pos)
{
	*pos = (*pos + 7) & ~(size_t)7;
}


/* read @p bits of speech into a storage-format frame */
static void get_frame(struct bitr *r, struct amr_frame *f, int bits)
{
	int i;

	memset(f->b, 0, sizeof(f->b));
	f->b[0] = (uint8_t)(f->ft << 3 | (f->q ? 0x04 : 0));
	for (i = 0; i < bits; i++) {
		if (get(r, 1))
			f->b[1 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
}


static int toc_read(struct amr_rtp *p, struct bitr *r, bool wb, bool oa,
		    size_t *bitsp)
{
	size_t bits = 0;
	bool more = true;

	p->n = 0;
	while (more) {
		struct amr_frame *f;
		int fb;

		if (r->pos + (oa ? 8 : 6) > r->len)
			return EBADMSG;
		if (p->n == AMR_RTP_MAX_FRAMES)
			return E2BIG;

		f = &p->fv[p->n++];
		more = get(r, 1);
		f->ft = (uint8_t)get(r, 4);
		f->q = get(r, 1);
		if (oa)
			(void)get(r, 2);

		fb = amr_frame_bits(wb, f->ft);
		if (fb < 0)
			return EBADMSG;

		bits += oa ? ((size_t)fb + 7) / 8 * 8 : (size_t)fb;
	}

	*bitsp = bits;
	return 0;
}


/**
 * Parse an RTP payload of AMR or AMR-WB frames (RFC 4867 4.3, 4.4)
 *
 * @param p    Its CMR and frames, in storage format (out)
 * @param wb   AMR-WB (else AMR)
 * @param oa   Octet-aligned (else bandwidth-efficient)
 * @param buf  Payload
 * @param len  Its length
 *
 * @return 0; EBADMSG for a malformed payload (truncated, wrong length,
 *         an FT not allowed, a CMR out of range), E2BIG for more than
 *         AMR_RTP_MAX_FRAMES frames, EINVAL
 */
int amr_rtp_decode(struct amr_rtp *p, bool wb, bool oa,
		   const uint8_t *buf, size_t len)
{
	struct bitr r;
	size_t i, bits;
	int err;

	if (!p || !buf)
		return EINVAL;
	if (!len || len > SIZE_MAX / 8)
		return EBADMSG;

	r.p = buf;
	r.len = len * 8;
	r.pos = 0;

	p->cmr = (uint8_t)get(&r, 4);
	if (oa)
		(void)get(&r, 4);
	if (p->cmr != AMR_CMR_NONE && p->cmr > (wb ? 8 : 7))
		return EBADMSG;

	err = toc_read(p, &r, wb, oa, &bits);
	if (err)
		return err;

	bits += r.pos;

	/* exactly the payload the ToC describes, padded to an octet */
	align(&bits);
	if (bits != r.len)
		return EBADMSG;

	for (i = 0; i < p->n; i++) {
		struct amr_frame *f = &p->fv[i];
		int fb = amr_frame_bits(wb, f->ft);

		get_frame(&r, f, fb);
		if (oa)
			align(&r.pos);
	}

	return 0;
}


/**
 * Write an RTP payload of AMR or AMR-WB frames (RFC 4867 4.3, 4.4)
 *
 * @param buf   Output
 * @param size  Its size
 * @param lenp  Bytes written
 * @param p     CMR and frames (storage format; ft and q are used, the
 *              header byte of b[] is not)
 * @param wb    AMR-WB (else AMR)
 * @param oa    Octet-aligned (else bandwidth-efficient)
 *
 * @return 0; EINVAL for no frames, an FT not allowed or a bad CMR;
 *         ENOBUFS if @p size is too small
 */
int amr_rtp_encode(uint8_t *buf, size_t size, size_t *lenp,
		   const struct amr_rtp *p, bool wb, bool oa)
{
	struct bitw w;
	size_t i, bits = oa ? 8 : 4;

	if (!buf || !lenp || !p || !p->n || p->n > AMR_RTP_MAX_FRAMES)
		return EINVAL;
	if (p->cmr != AMR_CMR_NONE && p->cmr > (wb ? 8 : 7))
		return EINVAL;

	for (i = 0; i < p->n; i++) {
		int fb = amr_frame_bits(wb, p->fv[i].ft);

		if (fb < 0)
			return EINVAL;

		bits += oa ? 8 + ((size_t)fb + 7) / 8 * 8 : 6 + (size_t)fb;
	}

	align(&bits);
	if (bits / 8 > size)
		return ENOBUFS;

	memset(buf, 0, bits / 8);
	w.p = buf;
	w.size = size;
	w.pos = 0;

	put(&w, p->cmr, 4);
	if (oa)
		put(&w, 0, 4);

	for (i = 0; i < p->n; i++) {
		put(&w, i + 1 < p->n, 1);
		put(&w, p->fv[i].ft, 4);
		put(&w, p->fv[i].q, 1);
		if (oa)
			put(&w, 0, 2);
	}

	for (i = 0; i < p->n; i++) {
		int j, fb = amr_frame_bits(wb, p->fv[i].ft);

		for (j = 0; j < fb; j++)
			put(&w, (p->fv[i].b[1 + j / 8] >> (7 - j % 8)) & 1,
			    1);
		if (oa)
			align(&w.pos);
	}

	*lenp = bits / 8;
	return 0;
}


/**
 * Append a storage-format frame (an encoder's output) to a payload
 *
 * @param p    Payload being built
 * @param wb   AMR-WB (else AMR)
 * @param sf   Frame: header byte, speech bits
 * @param len  Its length
 *
 * @return 0, EINVAL for a frame whose length does not match its FT,
 *         E2BIG when the payload is full
 */
int amr_rtp_add(struct amr_rtp *p, bool wb, const uint8_t *sf, size_t len)
{
	struct amr_frame *f;
	unsigned ft;
	int fb;

	if (!p || !sf || !len || len > AMR_FRAME_MAX)
		return EINVAL;

	ft = (sf[0] >> 3) & 0x0f;
	fb = amr_frame_bits(wb, ft);
	if (fb < 0 || len != 1 + ((size_t)fb + 7) / 8)
		return EINVAL;
	if (p->n == AMR_RTP_MAX_FRAMES)
		return E2BIG;

	f = &p->fv[p->n++];
	memset(f->b, 0, sizeof(f->b));
	memcpy(f->b, sf, len);
	f->ft = (uint8_t)ft;
	f->q = (sf[0] & 0x04) != 0;

	return 0;
}

/**
 * @file rx.c  T.140 receiver (RFC 4103 4, 5): text in sequence order,
 *             gaps filled from the redundant generations, a gap they
 *             cannot fill waited for (T140_WAIT_MS, packets held in
 *             order meanwhile) and then marked with U+FFFD
 */
#include <string.h>
#include <re.h>
#include "t140.h"

struct held {
	struct le le;
	uint16_t seq;
	struct mbuf *mb;             /**< The RTP payload                */
};

struct t140_rx {
	struct tmr tmr;
	struct list heldl;           /**< struct held, in sequence order */
	t140_text_h *texth;
	void *arg;
	uint8_t pt;
	uint8_t pt_red;
	uint16_t next;               /**< Sequence number expected       */
	bool started;
	uint32_t lost;               /**< Losses marked                  */
};

static const uint8_t fffd[] = {0xef, 0xbf, 0xbd};


static void held_destructor(void *arg)
{
	struct held *h = arg;

	list_unlink(&h->le);
	mem_deref(h->mb);
}


static void destructor(void *arg)
{
	struct t140_rx *rx = arg;

	tmr_cancel(&rx->tmr);
	list_flush(&rx->heldl);
}


static void text(struct t140_rx *rx, const uint8_t *p, size_t n)
{
	if (n)
		rx->texth(p, n, rx->arg);
}


/* the payload's blocks: RED, or one plain T.140 block */
static int blocks(const struct t140_rx *rx, uint8_t pt,
		  struct t140_block *bv, size_t *bc, const uint8_t *p,
		  size_t n)
{
	size_t i;
	int err;

	if (pt == rx->pt) {
		bv[0].pt = pt;
		bv[0].ts_off = 0;
		bv[0].data = p;
		bv[0].len = n;
		*bc = 1;
		return 0;
	}

	err = t140_red_decode(bv, bc, p, n);
	if (err)
		return err;

	for (i = 0; i < *bc; i++) {
		if (bv[i].pt != rx->pt)
			return EPROTO;
	}

	return 0;
}


/* Take one packet whose predecessors are handled, or whose missing
   predecessors are given up: fill from redundancy, mark what it cannot
   fill */
static void take(struct t140_rx *rx, uint16_t seq, const uint8_t *p,
		 size_t n, uint8_t pt)
{
	struct t140_block bv[T140_GEN_MAX + 1];
	size_t bc = ARRAY_SIZE(bv), red, gap, i;

	if (blocks(rx, pt, bv, &bc, p, n))
		return;

	red = bc - 1;
	gap = rx->started ? (uint16_t)(seq - rx->next) : 0;

	if (gap > red) {
		text(rx, fffd, sizeof(fffd));
		++rx->lost;
	}

	for (i = red - min(gap, red); i < red; i++)
		text(rx, bv[i].data, bv[i].len);

	text(rx, bv[red].data, bv[red].len);

	rx->next = seq + 1;
	rx->started = true;
}


static bool take_held(struct t140_rx *rx, bool force)
{
	struct le *le = list_head(&rx->heldl);
	struct held *h;
	struct t140_block bv[T140_GEN_MAX + 1];
	size_t bc = ARRAY_SIZE(bv);
	uint16_t gap;
	uint8_t pt;

	if (!le)
		return false;

	h = le->data;
	gap = (uint16_t)(h->seq - rx->next);
	pt = h->mb->buf[0];

	if (gap >= 0x8000) {
		mem_deref(h);                      /* taken meanwhile */
		return true;
	}

	if (!force && gap && blocks(rx, pt, bv, &bc, h->mb->buf + 1,
				   h->mb->end - 1) == 0 && gap > bc - 1)
		return false;

	take(rx, h->seq, h->mb->buf + 1, h->mb->end - 1, pt);
	mem_deref(h);

	return true;
}


static void wait_h(void *arg)
{
	struct t140_rx *rx = arg;

	/* the wait is over: give up the gap before the first one held */
	if (take_held(rx, true))
		while (take_held(rx, false))
			;

	if (list_head(&rx->heldl))
		tmr_start(&rx->tmr, T140_WAIT_MS, wait_h, rx);
}


static int hold(struct t140_rx *rx, uint16_t seq, uint8_t pt,
		const uint8_t *p, size_t n)
{
	struct held *h;
	struct le *le;

	for (le = rx->heldl.head; le; le = le->next) {
		const struct held *o = le->data;

		if (o->seq == seq)
			return 0;                  /* duplicate */
		if ((int16_t)(seq - o->seq) < 0)
			break;
	}

	h = mem_zalloc(sizeof(*h), held_destructor);
	if (!h)
		return ENOMEM;

	h->seq = seq;
	h->mb = mbuf_alloc(n + 1);
	if (!h->mb || mbuf_write_u8(h->mb, pt) ||
	    mbuf_write_mem(h->mb, p, n)) {
		mem_deref(h);
		return ENOMEM;
	}

	if (le)
		list_insert_before(&rx->heldl, le, &h->le, h);
	else
		list_append(&rx->heldl, &h->le, h);

	if (!tmr_isrunning(&rx->tmr))
		tmr_start(&rx->tmr, T140_WAIT_MS, wait_h, rx);

	/* too many held: the wait ends now */
	if (list_count(&rx->heldl) > T140_HOLD_MAX)
		wait_h(rx);

	return 0;
}


/**
 * Make a T.140 receiver
 *
 * @param rxp     Returned receiver
 * @param pt_t140 Payload type of t140/1000
 * @param pt_red  Payload type of red/1000, 0 for none
 * @param texth   Text handler
 * @param arg     Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int t140_rx_alloc(struct t140_rx **rxp, uint8_t pt_t140, uint8_t pt_red,
		  t140_text_h *texth, void *arg)
{
	struct t140_rx *rx;

	if (!rxp || !texth || pt_t140 > 127 || pt_red > 127 ||
	    (pt_red && pt_red == pt_t140))
		return EINVAL;

	rx = mem_zalloc(sizeof(*rx), destructor);
	if (!rx)
		return ENOMEM;

	tmr_init(&rx->tmr);
	rx->texth  = texth;
	rx->arg    = arg;
	rx->pt     = pt_t140;
	rx->pt_red = pt_red;

	*rxp = rx;

	return 0;
}


/**
 * Take one RTP packet
 *
 * @param rx Receiver
 * @param p  RTP packet
 * @param n  Its length
 *
 * @return 0 if taken (also an old or duplicate one, ignored), EBADMSG
 *         not RTP, EPROTO another payload type or a RED block of one
 */
int t140_rx_packet(struct t140_rx *rx, const uint8_t *p, size_t n)
{
	struct t140_block bv[T140_GEN_MAX + 1];
	size_t bc = ARRAY_SIZE(bv);
	struct rtp_header h;
	struct mbuf mb;
	uint16_t gap;
	int err;

	if (!rx || !p)
		return EINVAL;

	mbuf_init(&mb);
	mb.buf = (uint8_t *)(uintptr_t)p;
	mb.size = mb.end = n;

	if (rtp_hdr_decode(&h, &mb) || h.ver != RTP_VERSION)
		return EBADMSG;

	if (h.pt != rx->pt && (!rx->pt_red || h.pt != rx->pt_red))
		return EPROTO;

	err = blocks(rx, h.pt, bv, &bc, mbuf_buf(&mb), mbuf_get_left(&mb));
	if (err)
		return err;

	gap = (uint16_t)(h.seq - rx->next);
	if (rx->started && gap >= 0x8000)
		return 0;                          /* old or duplicate */

	if (!rx->started || gap <= bc - 1) {
		take(rx, h.seq, mbuf_buf(&mb), mbuf_get_left(&mb), h.pt);
		while (take_held(rx, false))
			;
		if (!list_head(&rx->heldl))
			tmr_cancel(&rx->tmr);
		return 0;
	}

	return hold(rx, h.seq, h.pt, mbuf_buf(&mb), mbuf_get_left(&mb));
}


/** Losses marked so far */
uint32_t t140_rx_lost(const struct t140_rx *rx)
{
	return rx ? rx->lost : 0;
}

/**
 * @file tx.c  T.140 sender (RFC 4103 5): text gathered for 300 ms per
 *             packet, two redundant generations (RED), two packets more
 *             after the last text so that it goes out three times
 */
#include <string.h>
#include <re.h>
#include "t140.h"

enum {
	HDR = 12,
};

struct gen {
	uint8_t buf[T140_BLOCK_MAX];
	size_t len;
	uint32_t ts;
};

struct t140_tx {
	struct tmr tmr;
	t140_send_h *sendh;
	void *arg;
	uint8_t pt;
	uint8_t pt_red;              /**< 0: no redundancy               */
	uint16_t seq;
	uint32_t ssrc;
	uint32_t ts0;
	uint64_t t0;
	uint8_t pend[T140_TX_MAX];   /**< Text not sent yet              */
	size_t pendn;
	struct gen gen[T140_GENS];   /**< Sent before, oldest first      */
	unsigned idle;               /**< Empty packets still to send    */
	bool marker;                 /**< Next packet starts a burst     */
};


static void destructor(void *arg)
{
	struct t140_tx *tx = arg;

	tmr_cancel(&tx->tmr);
}


/* at most T140_BLOCK_MAX bytes, not splitting a UTF-8 sequence */
static size_t take(const struct t140_tx *tx)
{
	size_t k = min(tx->pendn, (size_t)T140_BLOCK_MAX);

	if (k == tx->pendn)
		return k;

	while (k && (tx->pend[k] & 0xc0) == 0x80)
		--k;

	return k;
}


static int packet(struct t140_tx *tx, const uint8_t *prim, size_t n,
		  uint32_t ts)
{
	struct t140_block bv[T140_GENS + 1];
	struct rtp_header h;
	struct mbuf *mb;
	size_t i, bc = 0;
	int err;

	mb = mbuf_alloc(HDR + 4 * T140_GENS + 3 * T140_BLOCK_MAX);
	if (!mb)
		return ENOMEM;

	memset(&h, 0, sizeof(h));
	h.ver  = RTP_VERSION;
	h.m    = tx->marker;
	h.pt   = tx->pt_red ? tx->pt_red : tx->pt;
	h.seq  = tx->seq++;
	h.ts   = ts;
	h.ssrc = tx->ssrc;

	for (i = 0; tx->pt_red && i < T140_GENS; i++) {
		const struct gen *g = &tx->gen[i];
		const uint32_t off = ts - g->ts;

		bv[bc].pt = tx->pt;
		bv[bc].ts_off = (uint16_t)min(off, 0x3fffu);
		bv[bc].data = g->buf;
		bv[bc].len = off > 0x3fff ? 0 : g->len;
		++bc;
	}

	bv[bc].pt = tx->pt;
	bv[bc].ts_off = 0;
	bv[bc].data = prim;
	bv[bc].len = n;
	++bc;

	err = rtp_hdr_encode(mb, &h);
	if (!err && tx->pt_red)
		err = t140_red_encode(mb, bv, bc);
	else if (!err && n)
		err = mbuf_write_mem(mb, prim, n);

	if (!err)
		(void)tx->sendh(mb->buf, mb->end, tx->arg);

	tx->marker = false;
	mem_deref(mb);

	return err;
}


static void tick(void *arg)
{
	struct t140_tx *tx = arg;
	const uint32_t ts = tx->ts0 + (uint32_t)(tmr_jiffies() - tx->t0);
	const size_t n = take(tx);
	struct gen g;

	if (!n && !tx->idle) {
		tx->marker = true;
		return;
	}

	memcpy(g.buf, tx->pend, n);
	g.len = n;
	g.ts  = ts;

	(void)packet(tx, g.buf, g.len, ts);

	memmove(tx->pend, tx->pend + n, tx->pendn - n);
	tx->pendn -= n;

	if (tx->pt_red) {
		memmove(&tx->gen[0], &tx->gen[1],
			(T140_GENS - 1) * sizeof(tx->gen[0]));
		tx->gen[T140_GENS - 1] = g;
		tx->idle = n ? T140_GENS : tx->idle - 1;
	}

	if (tx->pendn || tx->idle)
		tmr_start(&tx->tmr, T140_BUFFER_MS, tick, tx);
	else
		tx->marker = true;
}


/**
 * Make a T.140 sender
 *
 * @param txp     Returned sender
 * @param pt_t140 Payload type of t140/1000
 * @param pt_red  Payload type of red/1000, 0 for none
 * @param sendh   Packet handler
 * @param arg     Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int t140_tx_alloc(struct t140_tx **txp, uint8_t pt_t140, uint8_t pt_red,
		  t140_send_h *sendh, void *arg)
{
	struct t140_tx *tx;

	if (!txp || !sendh || pt_t140 > 127 || pt_red > 127 ||
	    (pt_red && pt_red == pt_t140))
		return EINVAL;

	tx = mem_zalloc(sizeof(*tx), destructor);
	if (!tx)
		return ENOMEM;

	tmr_init(&tx->tmr);
	tx->sendh  = sendh;
	tx->arg    = arg;
	tx->pt     = pt_t140;
	tx->pt_red = pt_red;
	tx->seq    = (uint16_t)rand_u16();
	tx->ssrc   = rand_u32();
	tx->ts0    = rand_u32();
	tx->t0     = tmr_jiffies();
	tx->marker = true;

	*txp = tx;

	return 0;
}


/**
 * Queue text to send; the first text after a pause leaves at once
 *
 * @param tx Sender
 * @param p  UTF-8 text
 * @param n  Length
 *
 * @return 0 if success, ENOBUFS more than T140_TX_MAX bytes waiting
 */
int t140_tx_text(struct t140_tx *tx, const uint8_t *p, size_t n)
{
	if (!tx || (!p && n))
		return EINVAL;

	if (n > sizeof(tx->pend) - tx->pendn)
		return ENOBUFS;

	memcpy(tx->pend + tx->pendn, p, n);
	tx->pendn += n;

	if (n && !tmr_isrunning(&tx->tmr))
		tmr_start(&tx->tmr, 0, tick, tx);

	return 0;
}

/**
 * @file red.c  RED payload (RFC 2198) for text (RFC 4103 4): headers
 *              F|PT|timestamp offset (14 bits)|length (10 bits) for the
 *              redundant blocks, oldest first, one byte 0|PT for the
 *              primary, then the blocks' data and the primary's
 */
#include <string.h>
#include <re.h>
#include "t140.h"


/**
 * Decode a RED payload
 *
 * @param bv Blocks (redundant ones oldest first, the primary last)
 * @param bc In: room in bv; out: blocks found
 * @param p  Payload
 * @param n  Its length
 *
 * @return 0 if success, EBADMSG malformed, EMSGSIZE more blocks than
 *         room or T140_GEN_MAX redundant ones
 */
int t140_red_decode(struct t140_block *bv, size_t *bc, const uint8_t *p,
		    size_t n)
{
	size_t i = 0, k, pos = 0, data;

	if (!bv || !bc || !*bc || (!p && n))
		return EINVAL;

	/* headers */
	for (;;) {
		if (pos >= n)
			return EBADMSG;

		if (!(p[pos] & 0x80))
			break;

		if (pos + 4 > n)
			return EBADMSG;

		if (i + 1 >= *bc || i >= T140_GEN_MAX)
			return EMSGSIZE;

		bv[i].pt     = p[pos] & 0x7f;
		bv[i].ts_off = (uint16_t)(p[pos + 1] << 6 | p[pos + 2] >> 2);
		bv[i].len    = (size_t)((p[pos + 2] & 3) << 8 | p[pos + 3]);
		pos += 4;
		++i;
	}

	bv[i].pt = p[pos++] & 0x7f;
	bv[i].ts_off = 0;

	/* data */
	data = pos;
	for (k = 0; k < i; k++) {
		if (bv[k].len > n - data)
			return EBADMSG;

		bv[k].data = p + data;
		data += bv[k].len;
	}

	bv[i].data = p + data;
	bv[i].len  = n - data;
	*bc = i + 1;

	return 0;
}


/**
 * Encode a RED payload
 *
 * @param mb Buffer (written at its position)
 * @param bv Blocks: redundant ones oldest first, the primary last
 * @param bc How many (at least the primary)
 *
 * @return 0 if success, EINVAL a block too long or an offset too large
 */
int t140_red_encode(struct mbuf *mb, const struct t140_block *bv,
		    size_t bc)
{
	size_t i;
	int err = 0;

	if (!mb || !bv || !bc || bc > T140_GEN_MAX + 1)
		return EINVAL;

	for (i = 0; i + 1 < bc; i++) {
		if (bv[i].len > T140_BLOCK_MAX || bv[i].ts_off > 0x3fff ||
		    bv[i].pt > 127)
			return EINVAL;
	}

	for (i = 0; !err && i + 1 < bc; i++) {
		err  = mbuf_write_u8(mb, 0x80 | bv[i].pt);
		err |= mbuf_write_u8(mb, (uint8_t)(bv[i].ts_off >> 6));
		err |= mbuf_write_u8(mb, (uint8_t)((bv[i].ts_off & 0x3f) << 2 |
						   bv[i].len >> 8));
		err |= mbuf_write_u8(mb, (uint8_t)bv[i].len);
	}

	if (!err)
		err = mbuf_write_u8(mb, bv[bc - 1].pt & 0x7f);

	for (i = 0; !err && i < bc; i++) {
		if (bv[i].len)
			err = mbuf_write_mem(mb, bv[i].data, bv[i].len);
	}

	return err;
}

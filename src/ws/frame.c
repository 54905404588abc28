/**
 * @file frame.c  WebSocket frame codec (RFC 6455 section 5)
 */
#include <string.h>
#include <re.h>
#include "ws.h"


static bool is_control(uint8_t op)
{
	return (op & 0x8) != 0;
}


static bool is_known(uint8_t op)
{
	return op <= WS_BIN || (op >= WS_CLOSE && op <= WS_PONG);
}


/**
 * Decode one frame header and unmask its payload in place
 *
 * On success the payload starts at mb->pos and is f->len bytes long.
 *
 * @param f      Decoded frame header
 * @param mb     Buffer positioned at a frame
 * @param maxlen Largest acceptable payload
 *
 * @return 0 if a whole frame is present, ENODATA if more bytes are
 *         needed (mb->pos unchanged), EMSGSIZE if longer than maxlen,
 *         EPROTO if the frame breaks RFC 6455
 */
int ws_frame_decode(struct ws_frame *f, struct mbuf *mb, uint64_t maxlen)
{
	size_t start, hlen = 2, left;
	const uint8_t *p;
	uint64_t len;
	uint8_t *pl;
	size_t i;

	if (!f || !mb)
		return EINVAL;

	start = mb->pos;
	left  = mbuf_get_left(mb);
	p     = mbuf_buf(mb);

	if (left < 2)
		return ENODATA;

	f->fin    = (p[0] >> 7) & 1;
	f->rsv    = (p[0] >> 4) & 7;
	f->opcode = (enum ws_opcode)(p[0] & 0x0f);
	f->masked = (p[1] >> 7) & 1;
	len       = p[1] & 0x7f;

	if (f->rsv || !is_known(f->opcode))
		return EPROTO;

	if (is_control(f->opcode) && (!f->fin || len > 125))
		return EPROTO;

	if (len == 126) {
		hlen += 2;
		if (left < hlen)
			return ENODATA;
		len = (uint64_t)p[2] << 8 | p[3];
		if (len < 126)
			return EPROTO;   /* not minimal (RFC 6455 5.2) */
	}
	else if (len == 127) {
		hlen += 8;
		if (left < hlen)
			return ENODATA;
		len = 0;
		for (i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		if (len >> 63 || len <= 0xffff)
			return EPROTO;
	}

	if (len > maxlen)
		return EMSGSIZE;

	if (f->masked) {
		if (left < hlen + 4)
			return ENODATA;
		memcpy(f->mkey, p + hlen, 4);
		hlen += 4;
	}

	if (left - hlen < len)
		return ENODATA;

	f->len  = len;
	mb->pos = start + hlen;

	if (f->masked) {
		pl = mbuf_buf(mb);
		for (i = 0; i < len; i++)
			pl[i] ^= f->mkey[i & 3];
	}

	return 0;
}


/**
 * Encode one unmasked frame (server to client)
 *
 * @param mb  Buffer to append to
 * @param op  Opcode
 * @param fin Final fragment
 * @param p   Payload (may be NULL if n is 0)
 * @param n   Payload length
 *
 * @return 0 if success, otherwise errorcode
 */
int ws_frame_encode(struct mbuf *mb, enum ws_opcode op, bool fin,
		    const uint8_t *p, size_t n)
{
	int err;

	if (!mb || (n && !p))
		return EINVAL;

	if (is_control(op) && n > 125)
		return EMSGSIZE;

	err = mbuf_write_u8(mb, (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f)));

	if (n < 126) {
		err |= mbuf_write_u8(mb, (uint8_t)n);
	}
	else if (n <= 0xffff) {
		err |= mbuf_write_u8(mb, 126);
		err |= mbuf_write_u16(mb, htons((uint16_t)n));
	}
	else {
		err |= mbuf_write_u8(mb, 127);
		err |= mbuf_write_u64(mb, sys_htonll((uint64_t)n));
	}

	if (n)
		err |= mbuf_write_mem(mb, p, n);

	return err;
}


/**
 * Validate UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF)
 *
 * @param p Text
 * @param n Length
 *
 * @return true if valid
 */
bool ws_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t k, need;
		uint32_t cp;

		/* ASCII (all of a SIP message but its display names) eight
		   bytes at a time */
		if (c < 0x80) {
			uint64_t w;

			++i;
			while (n - i >= 8) {
				memcpy(&w, p + i, 8);
				if (w & UINT64_C(0x8080808080808080))
					break;
				i += 8;
			}
			continue;
		}
		else if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		}
		else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		}
		else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		}
		else {
			return false;
		}

		if (n - i <= need)
			return false;

		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}

		if ((need == 2 && cp < 0x800) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;

		i += need + 1;
	}

	return true;
}


/**
 * Short text for a close code, for logs
 *
 * @param code Close code
 *
 * @return Text
 */
const char *ws_close_reason(uint16_t code)
{
	switch (code) {

	case WS_CLOSE_NORMAL:      return "normal";
	case WS_CLOSE_GOING_AWAY:  return "going away";
	case WS_CLOSE_PROTOCOL:    return "protocol error";
	case WS_CLOSE_UNSUPPORTED: return "unsupported data";
	case WS_CLOSE_NO_STATUS:   return "no status";
	case WS_CLOSE_INVALID:     return "invalid payload";
	case WS_CLOSE_POLICY:      return "policy violation";
	case WS_CLOSE_TOO_BIG:     return "message too big";
	case WS_CLOSE_INTERNAL:    return "internal error";
	case WS_CLOSE_TRY_AGAIN:   return "try again later";
	default:                   return "other";
	}
}

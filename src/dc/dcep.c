/**
 * @file dcep.c  Data Channel Establishment Protocol messages (RFC 8832 5)
 *
 * DATA_CHANNEL_OPEN: type (0x03), channel type, priority, reliability
 * parameter, label length, protocol length, label, protocol; the
 * lengths must add up to the message exactly. DATA_CHANNEL_ACK: the
 * type byte alone. Label and protocol are UTF-8 (RFC 8832 5.1), at most
 * DC_LABEL_MAX bytes here.
 */
#include <string.h>
#include <re.h>
#include "../ws/ws.h"
#include "dc.h"

enum {
	OPEN_HDR = 12,
};


static bool chan_type_ok(uint8_t t)
{
	switch (t) {

	case 0x00: case 0x01: case 0x02:   /* reliable, rexmit, timed */
	case 0x80: case 0x81: case 0x82:   /* ... unordered           */
		return true;

	default:
		return false;
	}
}


static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}


static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}


static int decode_open(struct dcep_open *o, const uint8_t *p, size_t n)
{
	size_t ll, pl;

	if (n < OPEN_HDR)
		return EBADMSG;

	ll = get16(p + 8);
	pl = get16(p + 10);
	if (n != OPEN_HDR + ll + pl)
		return EBADMSG;

	if (ll > DC_LABEL_MAX || pl > DC_LABEL_MAX)
		return EMSGSIZE;

	if (!chan_type_ok(p[1]))
		return EPROTO;

	if (!ws_utf8_valid(p + OPEN_HDR, ll) ||
	    !ws_utf8_valid(p + OPEN_HDR + ll, pl) ||
	    memchr(p + OPEN_HDR, 0, ll + pl))
		return EBADMSG;

	o->type     = p[1];
	o->priority = get16(p + 2);
	o->rel      = get32(p + 4);
	o->label.p  = (const char *)p + OPEN_HDR;
	o->label.l  = ll;
	o->proto.p  = (const char *)p + OPEN_HDR + ll;
	o->proto.l  = pl;

	return 0;
}


/**
 * Decode a DCEP message
 *
 * @param type Returned message type
 * @param open Returned OPEN fields (if type is DCEP_OPEN; points into p)
 * @param p    Message (the payload of one PPID 50 message)
 * @param n    Its length
 *
 * @return 0 if success, EBADMSG malformed, EMSGSIZE label or protocol
 *         too long, EPROTO unknown message or channel type
 */
int dcep_decode(enum dcep_type *type, struct dcep_open *open,
		const uint8_t *p, size_t n)
{
	if (!type || !open || (!p && n))
		return EINVAL;

	if (!n)
		return EBADMSG;

	switch (p[0]) {

	case DCEP_ACK:
		if (n != 1)
			return EBADMSG;
		*type = DCEP_ACK;
		return 0;

	case DCEP_OPEN:
		*type = DCEP_OPEN;
		return decode_open(open, p, n);

	default:
		return EPROTO;
	}
}


/**
 * Encode a DATA_CHANNEL_OPEN
 *
 * @param mb   Buffer (written at its position)
 * @param open Fields
 *
 * @return 0 if success, otherwise errorcode
 */
int dcep_encode_open(struct mbuf *mb, const struct dcep_open *open)
{
	int err;

	if (!mb || !open || open->label.l > DC_LABEL_MAX ||
	    open->proto.l > DC_LABEL_MAX || !chan_type_ok(open->type))
		return EINVAL;

	err  = mbuf_write_u8(mb, DCEP_OPEN);
	err |= mbuf_write_u8(mb, open->type);
	err |= mbuf_write_u16(mb, htons(open->priority));
	err |= mbuf_write_u32(mb, htonl(open->rel));
	err |= mbuf_write_u16(mb, htons((uint16_t)open->label.l));
	err |= mbuf_write_u16(mb, htons((uint16_t)open->proto.l));
	err |= mbuf_write_pl(mb, &open->label);
	err |= mbuf_write_pl(mb, &open->proto);

	return err;
}


/**
 * Encode a DATA_CHANNEL_ACK
 *
 * @param mb Buffer (written at its position)
 *
 * @return 0 if success, otherwise errorcode
 */
int dcep_encode_ack(struct mbuf *mb)
{
	if (!mb)
		return EINVAL;

	return mbuf_write_u8(mb, DCEP_ACK);
}

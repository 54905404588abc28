/**
 * @file dtls_frag.c  ClientHello reassembly for the DTLS server role
 *
 * mbedtls 2.28 refuses a fragmented ClientHello ("bad client hello
 * message"), and Chrome's no longer fits one 1200-byte datagram (it
 * carries large key shares). Before the handshake, a server collects
 * the fragments and hands mbedtls one record holding the whole message
 * with fragment_offset 0 and fragment_length = length: the form in
 * which DTLS hashes the transcript anyway (RFC 6347 4.2.6).
 */
#include <string.h>
#include <re.h>
#include "dtls_frag.h"

enum {
	REC_HDR   = 13,
	HS_HDR    = 12,
	HELLO_MAX = 16384,
	TYPE_HANDSHAKE = 22,
	HS_CLIENT_HELLO = 1,
};

struct dtls_frag {
	uint8_t body[HELLO_MAX];
	uint8_t seen[HELLO_MAX / 8];
	size_t len;               /**< Message length, 0 = none pending */
	size_t have;              /**< Bytes received                   */
	uint16_t msg_seq;
};


static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}


static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}


static void add_bytes(struct dtls_frag *f, size_t off, const uint8_t *p,
		      size_t n)
{
	size_t i;

	memcpy(f->body + off, p, n);

	for (i = off; i < off + n; i++) {
		if (!(f->seen[i / 8] & (1u << (i % 8)))) {
			f->seen[i / 8] |= (uint8_t)(1u << (i % 8));
			++f->have;
		}
	}
}


/* The whole ClientHello as one record, after the last fragment's
   record header */
static int emit(struct dtls_frag *f, struct mbuf *out, const uint8_t *rec)
{
	uint8_t hdr[REC_HDR + HS_HDR];
	size_t len = f->len;

	memcpy(hdr, rec, REC_HDR);
	hdr[11] = (uint8_t)((HS_HDR + len) >> 8);
	hdr[12] = (uint8_t)(HS_HDR + len);
	hdr[REC_HDR] = HS_CLIENT_HELLO;
	put24(hdr + REC_HDR + 1, (uint32_t)len);
	hdr[REC_HDR + 4] = (uint8_t)(f->msg_seq >> 8);
	hdr[REC_HDR + 5] = (uint8_t)f->msg_seq;
	put24(hdr + REC_HDR + 6, 0);
	put24(hdr + REC_HDR + 9, (uint32_t)len);

	f->len = 0;     /* a retransmitted fragment starts over */

	return mbuf_write_mem(out, hdr, sizeof(hdr)) |
		mbuf_write_mem(out, f->body, len);
}


/* One record: a ClientHello fragment is kept; true if it was one */
static bool fragment(struct dtls_frag *f, const uint8_t *rec, size_t len,
		     struct mbuf *out, int *err)
{
	const uint8_t *hs = rec + REC_HDR;
	uint32_t msg_len, off, flen;
	uint16_t seq;

	if (rec[0] != TYPE_HANDSHAKE || rec[3] || rec[4] || len < HS_HDR ||
	    hs[0] != HS_CLIENT_HELLO)
		return false;

	msg_len = get24(hs + 1);
	seq     = (uint16_t)(hs[4] << 8 | hs[5]);
	off     = get24(hs + 6);
	flen    = get24(hs + 9);

	if (off == 0 && flen == msg_len)
		return false;          /* whole: mbedtls takes it as it is */

	if (flen != len - HS_HDR || msg_len > HELLO_MAX || !msg_len ||
	    off + flen > msg_len)
		return true;           /* malformed fragment: dropped */

	if (f->len != msg_len || f->msg_seq != seq) {
		memset(f->seen, 0, sizeof(f->seen));
		f->len = msg_len;
		f->have = 0;
		f->msg_seq = seq;
	}

	add_bytes(f, off, hs + HS_HDR, flen);

	if (f->have == f->len)
		*err = emit(f, out, rec);

	return true;
}


/**
 * Pass a datagram through ClientHello reassembly
 *
 * @param fp   Reassembly state (allocated on the first fragment)
 * @param p    Datagram
 * @param n    Length
 * @param outp Set to the datagram to give mbedtls instead (its other
 *             records, and the whole ClientHello once complete); NULL
 *             if the datagram holds no ClientHello fragment
 *
 * @return 0 if success, otherwise errorcode
 */
int dtls_frag_process(struct dtls_frag **fp, const uint8_t *p, size_t n,
		      struct mbuf **outp)
{
	struct mbuf *out = NULL;
	bool any = false;
	size_t off = 0;
	int err = 0;

	if (!fp || !p || !outp)
		return EINVAL;

	*outp = NULL;

	while (off + REC_HDR <= n && !err) {
		size_t len = (size_t)p[off + 11] << 8 | p[off + 12];
		const uint8_t *rec = p + off;

		if (off + REC_HDR + len > n)
			break;

		if (!*fp && rec[0] == TYPE_HANDSHAKE && len >= HS_HDR &&
		    rec[REC_HDR] == HS_CLIENT_HELLO &&
		    (get24(rec + REC_HDR + 6) ||
		     get24(rec + REC_HDR + 9) != get24(rec + REC_HDR + 1))) {
			*fp = mem_zalloc(sizeof(**fp), NULL);
			if (!*fp)
				return ENOMEM;
		}

		if (!out)
			out = mbuf_alloc(n + HS_HDR);
		if (!out)
			return ENOMEM;

		if (*fp && fragment(*fp, rec, len, out, &err))
			any = true;
		else
			err = mbuf_write_mem(out, rec, REC_HDR + len);

		off += REC_HDR + len;
	}

	if (err || !any) {
		mem_deref(out);
		return err;
	}

	*outp = out;
	return 0;
}

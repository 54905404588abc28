/**
 * @file enc.c  MSRP framer: a parsed message written again with its own
 *              To-Path and From-Path, whole or as pieces of its body
 *              (RFC 4975 5.1 chunking, Byte-Range and the continuation
 *              flag per piece)
 */
#include <ctype.h>
#include <string.h>
#include <re.h>
#include "msrp.h"


static int start(struct mbuf *mb, const struct msrp_msg *msg,
		 const struct pl *tid)
{
	if (msg->req)
		return mbuf_printf(mb, "MSRP %r %r\r\n", tid, &msg->method);

	if (msg->reason.l)
		return mbuf_printf(mb, "MSRP %r %03u %r\r\n", tid, msg->scode,
				   &msg->reason);

	return mbuf_printf(mb, "MSRP %r %03u\r\n", tid, msg->scode);
}


static bool is_hdr(const struct msrp_hdr *h, const char *name)
{
	return !pl_strcasecmp(&h->name, name);
}


static int range(struct mbuf *mb, uint64_t s, uint64_t e, uint64_t t)
{
	int err = mbuf_printf(mb, "Byte-Range: %llu-", (unsigned long long)s);

	err |= e ? mbuf_printf(mb, "%llu/", (unsigned long long)e) :
		mbuf_write_str(mb, "*/");
	err |= t ? mbuf_printf(mb, "%llu\r\n", (unsigned long long)t) :
		mbuf_write_str(mb, "*\r\n");

	return err;
}


static int write_msg(struct mbuf *mb, const struct msrp_msg *msg,
		     const char *to_path, const char *from_path,
		     const struct pl *tid, const struct msrp_range *r,
		     const struct pl *body, enum msrp_flag flag)
{
	bool ranged = false;
	size_t i;
	int err;

	if (!to_path || !from_path || !to_path[0] || !from_path[0] ||
	    strpbrk(to_path, "\r\n") || strpbrk(from_path, "\r\n"))
		return EINVAL;

	err  = start(mb, msg, tid);
	err |= mbuf_printf(mb, "To-Path: %s\r\nFrom-Path: %s\r\n", to_path,
			   from_path);

	for (i = 0; !err && i < msg->hdrc; i++) {
		const struct msrp_hdr *h = &msg->hdrv[i];

		if (is_hdr(h, "To-Path") || is_hdr(h, "From-Path"))
			continue;

		/* Content-Type goes last, before the body (RFC 4975 9) */
		if (is_hdr(h, "Content-Type") && body)
			continue;

		if (is_hdr(h, "Byte-Range") && r) {
			err = range(mb, r->start, r->end, r->total);
			ranged = true;
			continue;
		}

		err = mbuf_printf(mb, "%r: %r\r\n", &h->name, &h->val);
	}

	if (r && !ranged)
		err |= range(mb, r->start, r->end, r->total);

	if (body) {
		if (msg->ctype.l)
			err |= mbuf_printf(mb, "Content-Type: %r\r\n",
					   &msg->ctype);
		err |= mbuf_write_str(mb, "\r\n");
		err |= mbuf_write_mem(mb, (const uint8_t *)body->p, body->l);
		err |= mbuf_write_str(mb, "\r\n");
	}

	err |= mbuf_printf(mb, "-------%r%c\r\n", tid, (char)flag);

	return err;
}


/**
 * Write a message again with new To-Path and From-Path values
 *
 * @param mb        Buffer
 * @param msg       Parsed message
 * @param to_path   To-Path value
 * @param from_path From-Path value
 *
 * @return 0 if success, EINVAL a path with CR or LF, otherwise errorcode
 */
int msrp_encode(struct mbuf *mb, const struct msrp_msg *msg,
		const char *to_path, const char *from_path)
{
	if (!mb || !msg)
		return EINVAL;

	return write_msg(mb, msg, to_path, from_path, &msg->tid,
			 msg->has_range ? &msg->range : NULL,
			 msg->has_body ? &msg->body : NULL, msg->flag);
}


/**
 * How many pieces of at most max body bytes a message is split into
 *
 * @param msg Parsed message
 * @param max Body bytes a piece (0: MSRP_CHUNK_DEF)
 *
 * @return Number of pieces (1 if it is not split)
 */
size_t msrp_pieces(const struct msrp_msg *msg, size_t max)
{
	if (!msg || !msg->req || !msg->has_body)
		return 1;

	if (!max)
		max = MSRP_CHUNK_DEF;

	return msg->body.l <= max ? 1 : (msg->body.l + max - 1) / max;
}


/**
 * Write bytes [off, off + len) of a request's body as a chunk of its own:
 * its own transaction id, Byte-Range from the message's and flag "+"
 * unless it is the last piece (which keeps the message's flag)
 *
 * @param mb        Buffer
 * @param msg       Parsed request with a body
 * @param to_path   To-Path value
 * @param from_path From-Path value
 * @param tid       Transaction id of the piece
 * @param off       Offset into the body
 * @param len       Bytes of the piece
 *
 * @return 0 if success, EINVAL bad arguments, otherwise errorcode
 */
int msrp_encode_piece(struct mbuf *mb, const struct msrp_msg *msg,
		      const char *to_path, const char *from_path,
		      const char *tid, size_t off, size_t len)
{
	struct msrp_range r = {1, 0, 0};
	struct pl tpl, body;
	size_t i;

	if (!mb || !msg || !tid || !msg->req || !msg->has_body ||
	    off > msg->body.l || len > msg->body.l - off)
		return EINVAL;

	pl_set_str(&tpl, tid);
	if (tpl.l < MSRP_TID_MIN || tpl.l > MSRP_TID_MAX)
		return EINVAL;
	/* ident (RFC 4975 9): an alphanumeric, then those or .-+%= */
	for (i = 0; i < tpl.l; i++) {
		const unsigned char c = (unsigned char)tid[i];

		if (!isalnum(c) && (!i || !strchr(".-+%=", c)))
			return EINVAL;
	}

	if (msg->has_range)
		r = msg->range;

	r.start += off;
	r.end = r.start + len - 1;
	if (!len)
		r.end = r.start - 1;

	body.p = msg->body.p + off;
	body.l = len;

	return write_msg(mb, msg, to_path, from_path, &tpl, &r, &body,
			 off + len == msg->body.l ? msg->flag : MSRP_MORE);
}

/**
 * @file sipx.c  SIP helpers over libre's parser: validation and replies
 */
#include <string.h>
#include <re.h>
#include "sipx.h"


static bool clen_valid(const struct pl *clen)
{
	size_t i;

	if (clen->l > 9)
		return false;

	for (i = 0; i < clen->l; i++) {
		if (clen->p[i] < '0' || clen->p[i] > '9')
			return false;
	}

	return true;
}


/**
 * Decode one whole SIP message (as carried in one WebSocket message or
 * one UDP datagram, so a short body is malformed, not "more to come")
 *
 * @param msgp Returned message
 * @param p    Bytes
 * @param n    Length
 *
 * @return 0 if success, EBADMSG if malformed, otherwise errorcode
 */
int sipx_decode(struct sip_msg **msgp, const uint8_t *p, size_t n)
{
	struct mbuf *mb;
	int err;

	if (!msgp || !p)
		return EINVAL;

	/* the message keeps a reference to its buffer */
	mb = mbuf_alloc(n ? n : 1);
	if (!mb)
		return ENOMEM;

	err = mbuf_write_mem(mb, p, n);
	if (err)
		goto out;
	mb->pos = 0;

	err = sip_msg_decode(msgp, mb);
	if (err == ENODATA)
		err = EBADMSG;
	if (err)
		goto out;

	/* libre leaves the body after the headers; on a message transport
	   Content-Length may be absent, but if present it must match */
	if (pl_isset(&(*msgp)->clen) &&
	    (!clen_valid(&(*msgp)->clen) ||
	     pl_u32(&(*msgp)->clen) != mbuf_get_left(mb))) {
		*msgp = mem_deref(*msgp);
		err = EBADMSG;
	}

 out:
	mem_deref(mb);
	return err;
}


/**
 * Check the headers every request and response needs (RFC 3261 8.1.1)
 *
 * @param msg    SIP message
 * @param reason Set to a reason phrase on failure
 *
 * @return 0 if valid, otherwise EBADMSG
 */
int sipx_validate(const struct sip_msg *msg, const char **reason)
{
	if (!msg || !reason)
		return EINVAL;

	if (!sip_msg_hdr(msg, SIP_HDR_VIA) || !pl_isset(&msg->via.branch)) {
		*reason = "Missing or bad Via";
		return EBADMSG;
	}

	if (!sip_msg_hdr(msg, SIP_HDR_FROM) || !pl_isset(&msg->from.auri)) {
		*reason = "Missing or bad From";
		return EBADMSG;
	}

	if (!sip_msg_hdr(msg, SIP_HDR_TO) || !pl_isset(&msg->to.auri)) {
		*reason = "Missing or bad To";
		return EBADMSG;
	}

	if (!pl_isset(&msg->callid)) {
		*reason = "Missing Call-ID";
		return EBADMSG;
	}

	if (!sip_msg_hdr(msg, SIP_HDR_CSEQ) || !pl_isset(&msg->cseq.met)) {
		*reason = "Missing or bad CSeq";
		return EBADMSG;
	}

	if (msg->req && pl_cmp(&msg->cseq.met, &msg->met)) {
		*reason = "CSeq method does not match";
		return EBADMSG;
	}

	if (msg->req && !sip_msg_hdr(msg, SIP_HDR_MAX_FORWARDS)) {
		*reason = "Missing Max-Forwards";
		return EBADMSG;
	}

	return 0;
}


static bool via_print(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	struct mbuf *mb = arg;
	(void)msg;

	return 0 != mbuf_printf(mb, "Via: %r\r\n", &hdr->val);
}


/**
 * Write a response to a request, copying Via, From, To, Call-ID and
 * CSeq (RFC 3261 8.2.6.2); a To tag is added to final responses that
 * lack one
 *
 * @param mb     Buffer to write to
 * @param req    Request
 * @param scode  Status code
 * @param reason Reason phrase
 * @param hdrs   Extra header lines, each ending in CRLF (may be NULL)
 *
 * @return 0 if success, EBADMSG if the request lacks what a response
 *         must copy, otherwise errorcode
 */
int sipx_reply(struct mbuf *mb, const struct sip_msg *req, uint16_t scode,
	       const char *reason, const char *hdrs)
{
	const struct sip_hdr *to, *from, *cseq;
	int err;

	if (!mb || !req || !req->req || !reason)
		return EINVAL;

	/* without these a response cannot be matched: not answerable */
	to   = sip_msg_hdr(req, SIP_HDR_TO);
	from = sip_msg_hdr(req, SIP_HDR_FROM);
	cseq = sip_msg_hdr(req, SIP_HDR_CSEQ);
	if (!to || !from || !cseq || !pl_isset(&req->callid) ||
	    !sip_msg_hdr(req, SIP_HDR_VIA))
		return EBADMSG;

	err = mbuf_printf(mb, "SIP/2.0 %u %s\r\n", scode, reason);
	if (sip_msg_hdr_apply(req, true, SIP_HDR_VIA, via_print, mb))
		return ENOMEM;

	err |= mbuf_printf(mb, "To: %r", &to->val);
	if (scode > 100 && !pl_isset(&req->to.tag))
		err |= mbuf_printf(mb, ";tag=%016llx", rand_u64());

	err |= mbuf_printf(mb, "\r\nFrom: %r\r\n"
			   "Call-ID: %r\r\n"
			   "CSeq: %r\r\n"
			   "%s"
			   "Server: imsedge\r\n"
			   "Content-Length: 0\r\n"
			   "\r\n",
			   &from->val, &req->callid, &cseq->val,
			   hdrs ? hdrs : "");

	return err;
}

/**
 * @file chan.c  Data channels on an association: DCEP OPEN/ACK (RFC
 *               8832), channels agreed in SDP (RFC 8864), messages and
 *               the close by stream reset (RFC 8831 6.7, D-46)
 *
 * A channel is closed toward the owner once (chcloseh) and forgotten
 * when both directions of its stream are reset, so its id is not
 * reused before that.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include <usrsctp.h>
#include "../core/log.h"
#include "dc.h"
#include "dc_int.h"

#define LOG_MODULE "dc"

enum {
	PPID_STRING_PART = 52,       /* deprecated (RFC 8831 8)      */
	PPID_BINARY_PART = 54,
	TYPE_UNORDERED   = 0x80,
};


static void chan_destructor(void *arg)
{
	struct dc_chan *ch = arg;

	list_unlink(&ch->le);
	mem_deref(ch->rx);
}


/** The channel on stream sid, or NULL */
struct dc_chan *dc_chan_find(const struct dc_assoc *a, uint16_t sid)
{
	struct le *le;

	for (le = a->chanl.head; le; le = le->next) {
		struct dc_chan *ch = le->data;

		if (ch->info.sid == sid)
			return ch;
	}

	return NULL;
}


/** Channels the owner sees as open (not closing) */
static uint32_t open_count(const struct dc_assoc *a)
{
	struct le *le;
	uint32_t n = 0;

	for (le = a->chanl.head; le; le = le->next) {
		const struct dc_chan *ch = le->data;

		n += !ch->closing;
	}

	return n;
}


static int chan_new(struct dc_chan **chp, struct dc_assoc *a, uint16_t sid)
{
	struct dc_chan *ch;

	ch = mem_zalloc(sizeof(*ch), chan_destructor);
	if (!ch)
		return ENOMEM;

	ch->info.sid = sid;
	list_append(&a->chanl, &ch->le, ch);
	*chp = ch;

	return 0;
}


static ssize_t send_raw(struct dc_assoc *a, const struct dc_chan *ch,
			uint32_t ppid, const void *p, size_t n, bool ordered)
{
	struct sctp_sendv_spa spa;
	const uint8_t rel = ch->info.type & 0x7f;

	memset(&spa, 0, sizeof(spa));
	spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
	spa.sendv_sndinfo.snd_sid  = ch->info.sid;
	spa.sendv_sndinfo.snd_ppid = htonl(ppid);
	spa.sendv_sndinfo.snd_flags = SCTP_EOR;
	if (!ordered)
		spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;

	if (rel == 0x01 || rel == 0x02) {
		spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
		spa.sendv_prinfo.pr_policy = rel == 0x01 ?
			SCTP_PR_SCTP_RTX : SCTP_PR_SCTP_TTL;
		spa.sendv_prinfo.pr_value = ch->info.rel;
	}

	return usrsctp_sendv(a->sock, p, n, NULL, 0, &spa, sizeof(spa),
			     SCTP_SENDV_SPA, 0);
}


static int send_dcep(struct dc_assoc *a, const struct dc_chan *ch,
		     struct mbuf *mb)
{
	if (send_raw(a, ch, DC_PPID_DCEP, mb->buf, mb->end, true) < 0)
		return errno;

	return 0;
}


/* Reset the outgoing stream (now, or when the association is up) */
static void reset_request(struct dc_assoc *a, struct dc_chan *ch)
{
	if (!ch->reset_out)
		ch->reset_want = true;

	dc_chan_flush_resets(a);
}


/**
 * Ask for the outgoing resets that are due, in one request
 *
 * @param a Association
 */
void dc_chan_flush_resets(struct dc_assoc *a)
{
	struct sctp_reset_streams *rs;
	uint16_t n = 0;
	struct le *le;
	size_t sz;

	if (!a->up || a->closed)
		return;

	sz = sizeof(*rs) + list_count(&a->chanl) * sizeof(uint16_t);
	rs = calloc(1, sz);
	if (!rs)
		return;

	for (le = a->chanl.head; le; le = le->next) {
		const struct dc_chan *ch = le->data;

		if (ch->reset_want)
			rs->srs_stream_list[n++] = ch->info.sid;
	}

	if (!n)
		goto out;

	rs->srs_assoc_id = SCTP_ALL_ASSOC;
	rs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
	rs->srs_number_streams = n;

	/* EALREADY/EAGAIN: one is under way; tried again on its event */
	if (usrsctp_setsockopt(a->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, rs,
			       (socklen_t)sz))
		goto out;

	for (le = a->chanl.head; le; le = le->next) {
		struct dc_chan *ch = le->data;

		if (ch->reset_want) {
			ch->reset_want = false;
			ch->reset_out = true;
		}
	}

 out:
	free(rs);
}


/* Closed toward the owner once; the handler may free the association,
   so the caller must hold a reference and check a->closed */
static void chan_closing(struct dc_assoc *a, struct dc_chan *ch)
{
	if (ch->closing)
		return;

	ch->closing = true;
	ch->rx = mem_deref(ch->rx);
	reset_request(a, ch);

	if (a->h.chcloseh)
		a->h.chcloseh(ch->info.sid, a->arg);
}


static bool sid_peer(const struct dc_assoc *a, uint16_t sid)
{
	/* the DTLS client uses even ids (RFC 8832 6) */
	return (sid & 1) == (a->client ? 1 : 0);
}


static void refuse(struct dc_assoc *a, uint16_t sid, const char *why)
{
	struct dc_chan *ch;

	++a->stats.refused;
	log_info("channel %u refused: %s", sid, why);

	/* a peer that never resets refused streams back: bounded */
	if (list_count(&a->chanl) >= 2 * a->conf.max_channels + 8) {
		log_info("too many refused channels pending: aborting");
		dc_assoc_fail(a, EOVERFLOW);
		return;
	}

	/* a channel entry only to reset the stream and wait for the peer */
	if (chan_new(&ch, a, sid))
		return;

	ch->closing = true;
	reset_request(a, ch);
}


static void copy_pl(char *dst, size_t sz, const struct pl *pl)
{
	(void)pl_strcpy(pl, dst, sz);
}


static void dcep_open(struct dc_assoc *a, uint16_t sid,
		      const struct dcep_open *o)
{
	struct dc_chan *ch;
	struct mbuf *mb;
	int err;

	if (dc_chan_find(a, sid)) {
		log_info("channel %u: OPEN on a stream in use", sid);
		++a->stats.refused;
		return;
	}

	if (!sid_peer(a, sid))
		return refuse(a, sid, "stream id of the wrong parity");

	if (open_count(a) >= a->conf.max_channels)
		return refuse(a, sid, "too many channels");

	err = chan_new(&ch, a, sid);
	if (err)
		return;

	ch->info.type = o->type;
	ch->info.rel  = o->rel;
	copy_pl(ch->info.label, sizeof(ch->info.label), &o->label);
	copy_pl(ch->info.proto, sizeof(ch->info.proto), &o->proto);

	if (a->h.openh && !a->h.openh(&ch->info, a->arg)) {
		mem_deref(ch);
		return refuse(a, sid, "not accepted");
	}

	mb = mbuf_alloc(1);
	err = mb ? dcep_encode_ack(mb) : ENOMEM;
	if (!err)
		err = send_dcep(a, ch, mb);
	mem_deref(mb);

	ch->acked = true;
	++a->stats.opened;
	log_debug("channel %u '%s' (%s) opened by the peer", sid,
		  ch->info.label, ch->info.proto);

	if (err) {
		log_info("channel %u: ACK: %m", sid, err);
		chan_closing(a, ch);
	}
}


static void dcep_recv(struct dc_assoc *a, const struct dc_msg *m)
{
	struct dcep_open o;
	enum dcep_type t;
	struct dc_chan *ch;
	int err;

	if (!(m->flags & MSG_EOR)) {
		++a->stats.refused;
		return;
	}

	err = dcep_decode(&t, &o, m->data, m->len);
	if (err) {
		log_info("channel %u: bad DCEP message: %m", m->sid, err);
		++a->stats.refused;
		if (!dc_chan_find(a, m->sid))
			refuse(a, m->sid, "bad DCEP message");
		return;
	}

	if (t == DCEP_OPEN) {
		dcep_open(a, m->sid, &o);
		return;
	}

	ch = dc_chan_find(a, m->sid);
	if (ch && ch->local)
		ch->acked = true;
}


static void deliver(struct dc_assoc *a, struct dc_chan *ch, uint32_t ppid,
		    const uint8_t *p, size_t n)
{
	enum dc_ppid pp;

	switch (ppid) {

	case DC_PPID_STRING_EMPTY: pp = DC_PPID_STRING; n = 0; break;
	case DC_PPID_BINARY_EMPTY: pp = DC_PPID_BINARY; n = 0; break;
	case DC_PPID_BINARY:       pp = DC_PPID_BINARY; break;
	default:                   pp = DC_PPID_STRING; break;
	}

	/* a message is a sign the peer got the OPEN (RFC 8832 6) */
	ch->acked = true;
	++a->stats.rx_msgs;
	a->stats.rx_bytes += n;

	if (a->h.recvh)
		a->h.recvh(ch->info.sid, pp, p, n, a->arg);
}


/* parts of one message (no MSG_EOR): joined up to max_message */
static void data_part(struct dc_assoc *a, struct dc_chan *ch,
		      const struct dc_msg *m)
{
	const bool eor = m->flags & MSG_EOR;
	const size_t have = ch->rx ? ch->rx->end : 0;

	if (ch->rx_skip) {
		ch->rx_skip = !eor;
		return;
	}

	if (have + m->len > a->conf.max_message) {
		log_info("channel %u: message over %u bytes: closing",
			 ch->info.sid, a->conf.max_message);
		ch->rx_skip = !eor;
		chan_closing(a, ch);
		return;
	}

	if (!ch->rx)
		ch->rx = mbuf_alloc(m->len);

	if (!ch->rx || mbuf_write_mem(ch->rx, m->data, m->len)) {
		chan_closing(a, ch);
		return;
	}

	if (!eor)
		return;

	deliver(a, ch, m->ppid, ch->rx->buf, ch->rx->end);
	if (!a->closed && !ch->closing)
		ch->rx = mem_deref(ch->rx);
}


/**
 * A message usrsctp delivered (not a notification)
 *
 * @param a Association
 * @param m Message
 */
void dc_chan_data(struct dc_assoc *a, const struct dc_msg *m)
{
	struct dc_chan *ch;

	if (m->ppid == DC_PPID_DCEP) {
		dcep_recv(a, m);
		return;
	}

	ch = dc_chan_find(a, m->sid);
	if (!ch || ch->closing) {
		log_debug("stream %u: message on no open channel", m->sid);
		return;
	}

	switch (m->ppid) {

	case DC_PPID_STRING:
	case DC_PPID_BINARY:
	case DC_PPID_STRING_EMPTY:
	case DC_PPID_BINARY_EMPTY:
		break;

	default:
		log_info("channel %u: PPID %u not supported: closing",
			 m->sid, m->ppid);
		chan_closing(a, ch);
		return;
	}

	if (!ch->rx && (m->flags & MSG_EOR) && m->len <= a->conf.max_message)
		deliver(a, ch, m->ppid, m->data, m->len);
	else
		data_part(a, ch, m);
}


/**
 * Streams were reset: the peer's (incoming) close the channel and are
 * answered with ours; with both done the channel is forgotten
 *
 * @param a        Association
 * @param sidv     Stream ids
 * @param sidc     How many
 * @param incoming The peer reset its outgoing streams
 * @param failed   The reset was denied or failed
 */
void dc_chan_reset_event(struct dc_assoc *a, const uint16_t *sidv,
			 size_t sidc, bool incoming, bool failed)
{
	size_t i;

	mem_ref(a);

	for (i = 0; i < sidc && !a->closed; i++) {
		struct dc_chan *ch = dc_chan_find(a, sidv[i]);

		if (!ch)
			continue;

		if (failed) {
			if (!incoming && ch->reset_out) {
				ch->reset_out = false;
				ch->reset_want = true;
			}
			continue;
		}

		if (incoming)
			ch->reset_in = true;

		if (incoming && !ch->closing)
			log_debug("channel %u closed by the peer",
				  ch->info.sid);

		chan_closing(a, ch);
		if (!a->closed && ch->reset_in && ch->reset_out)
			mem_deref(ch);
	}

	if (!a->closed)
		dc_chan_flush_resets(a);

	mem_deref(a);
}


static int send_open(struct dc_assoc *a, struct dc_chan *ch)
{
	struct dcep_open o;
	struct mbuf *mb;
	int err;

	memset(&o, 0, sizeof(o));
	o.type = ch->info.type;
	o.rel  = ch->info.rel;
	pl_set_str(&o.label, ch->info.label);
	pl_set_str(&o.proto, ch->info.proto);

	mb = mbuf_alloc(64);
	if (!mb)
		return ENOMEM;

	err = dcep_encode_open(mb, &o);
	if (!err)
		err = send_dcep(a, ch, mb);

	mem_deref(mb);

	return err;
}


/**
 * The association is up: send the OPENs of channels opened before
 * and the resets asked for before
 *
 * @param a Association
 */
void dc_chan_up(struct dc_assoc *a)
{
	struct le *le;

	for (le = a->chanl.head; le; le = le->next) {
		struct dc_chan *ch = le->data;
		int err;

		if (!ch->local || ch->info.negotiated || ch->closing)
			continue;

		err = send_open(a, ch);
		if (err)
			log_info("channel %u: OPEN: %m", ch->info.sid, err);
	}

	dc_chan_flush_resets(a);
}


static int check_names(const char *label, const char *proto)
{
	if (!label || !proto || strlen(label) > DC_LABEL_MAX ||
	    strlen(proto) > DC_LABEL_MAX)
		return EINVAL;

	return 0;
}


static int chan_local(struct dc_chan **chp, struct dc_assoc *a,
		      uint16_t sid, const char *label, const char *proto)
{
	struct dc_chan *ch;
	int err;

	if (a->closed)
		return ENOTCONN;

	if (open_count(a) >= a->conf.max_channels)
		return EOVERFLOW;

	err = chan_new(&ch, a, sid);
	if (err)
		return err;

	ch->local = true;
	str_ncpy(ch->info.label, label, sizeof(ch->info.label));
	str_ncpy(ch->info.proto, proto, sizeof(ch->info.proto));
	++a->stats.opened;
	*chp = ch;

	return 0;
}


/**
 * Open a reliable, ordered channel by DCEP on the next free stream id
 * of this side (the OPEN leaves once the association is up)
 *
 * @param a     Association
 * @param sidp  Returned stream id
 * @param label Label (UTF-8)
 * @param proto Sub-protocol ("" if none)
 *
 * @return 0 if success, EOVERFLOW at the channel limit, ENOSPC no
 *         stream id free, otherwise errorcode
 */
int dc_chan_open(struct dc_assoc *a, uint16_t *sidp, const char *label,
		 const char *proto)
{
	struct dc_chan *ch;
	uint16_t sid;
	int err;

	if (!a || !sidp || check_names(label, proto))
		return EINVAL;

	for (sid = a->client ? 0 : 1; sid < DC_STREAMS; sid += 2) {
		if (!dc_chan_find(a, sid))
			break;
	}

	if (sid >= DC_STREAMS)
		return ENOSPC;

	err = chan_local(&ch, a, sid, label, proto);
	if (err)
		return err;

	if (a->up) {
		err = send_open(a, ch);
		if (err) {
			mem_deref(ch);
			return err;
		}
	}

	*sidp = sid;

	return 0;
}


/**
 * A channel agreed in SDP (RFC 8864 a=dcmap): no DCEP, reliable and
 * ordered here
 *
 * @param a     Association
 * @param sid   Stream id from a=dcmap
 * @param label Label
 * @param proto Sub-protocol
 *
 * @return 0 if success, EADDRINUSE stream in use, otherwise errorcode
 */
int dc_chan_negotiated(struct dc_assoc *a, uint16_t sid, const char *label,
		       const char *proto)
{
	struct dc_chan *ch;
	int err;

	if (!a || sid >= DC_STREAMS || check_names(label, proto))
		return EINVAL;

	if (dc_chan_find(a, sid))
		return EADDRINUSE;

	err = chan_local(&ch, a, sid, label, proto);
	if (err)
		return err;

	ch->info.negotiated = true;
	ch->acked = true;

	return 0;
}


/**
 * Send one message on an open channel
 *
 * @param a      Association
 * @param sid    Stream id
 * @param binary Binary (else UTF-8 string) message
 * @param p      Message
 * @param n      Length (0: an empty message)
 *
 * @return 0 if success, ENOENT no such open channel, ENOTCONN not up,
 *         EMSGSIZE over the peer's limit, ENOBUFS send buffer full
 */
int dc_chan_send(struct dc_assoc *a, uint16_t sid, bool binary,
		 const uint8_t *p, size_t n)
{
	static const uint8_t zero = 0;
	struct dc_chan *ch;
	uint32_t ppid;
	bool ordered;

	if (!a || (!p && n))
		return EINVAL;

	ch = dc_chan_find(a, sid);
	if (!ch || ch->closing)
		return ENOENT;

	if (!a->up)
		return ENOTCONN;

	if (n > a->conf.max_send)
		return EMSGSIZE;

	if (n)
		ppid = binary ? DC_PPID_BINARY : DC_PPID_STRING;
	else
		ppid = binary ? DC_PPID_BINARY_EMPTY : DC_PPID_STRING_EMPTY;

	/* ordered until the ACK (RFC 8832 6) */
	ordered = !ch->acked || !(ch->info.type & TYPE_UNORDERED);

	if (send_raw(a, ch, ppid, n ? p : &zero, n ? n : 1, ordered) < 0)
		return errno == EWOULDBLOCK ? ENOBUFS : errno;

	++a->stats.tx_msgs;
	a->stats.tx_bytes += n;

	return 0;
}


/**
 * Close a channel: reset its outgoing stream (RFC 8831 6.7). No close
 * handler is called for a close asked for here.
 *
 * @param a   Association
 * @param sid Stream id
 *
 * @return 0 if success, ENOENT no such open channel
 */
int dc_chan_close(struct dc_assoc *a, uint16_t sid)
{
	struct dc_chan *ch;

	if (!a)
		return EINVAL;

	ch = dc_chan_find(a, sid);
	if (!ch || ch->closing)
		return ENOENT;

	ch->closing = true;
	ch->rx = mem_deref(ch->rx);
	reset_request(a, ch);

	return 0;
}


/**
 * A channel's label and protocol
 *
 * @param a   Association
 * @param sid Stream id
 *
 * @return the channel, NULL if none is open on sid
 */
const struct dc_chan_info *dc_chan_info(const struct dc_assoc *a,
					uint16_t sid)
{
	const struct dc_chan *ch = a ? dc_chan_find(a, sid) : NULL;

	return ch && !ch->closing ? &ch->info : NULL;
}

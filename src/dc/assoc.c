/**
 * @file assoc.c  One SCTP association over one DTLS association (RFC
 *                8261): made when the m-line is accepted, started once
 *                DTLS is up, fed the DTLS application data
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include <usrsctp.h>
#include "../core/log.h"
#include "dc.h"
#include "dc_int.h"

#define LOG_MODULE "dc"


static void destructor(void *arg)
{
	struct dc_assoc *a = arg;

	tmr_cancel(&a->tmr_rx);
	a->closed = true;
	dc_sctp_detach(a);
	dc_msg_flush(&a->rxq);
	list_flush(&a->chanl);
}


/**
 * Make an association (not started: no packet leaves before
 * dc_assoc_start)
 *
 * @param ap          Returned association
 * @param conf        Limits and SCTP ports
 * @param dtls_client This side is the DTLS client (even stream ids)
 * @param h           Handlers (sendh and closeh required)
 * @param arg         Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int dc_assoc_alloc(struct dc_assoc **ap, const struct dc_conf *conf,
		   bool dtls_client, const struct dc_handlers *h, void *arg)
{
	struct dc_assoc *a;
	int err;

	if (!ap || !conf || !h || !h->sendh || !h->closeh ||
	    !conf->max_channels || !conf->max_message ||
	    !conf->local_port || !conf->remote_port)
		return EINVAL;

	a = mem_zalloc(sizeof(*a), destructor);
	if (!a)
		return ENOMEM;

	a->conf   = *conf;
	a->h      = *h;
	a->arg    = arg;
	a->client = dtls_client;
	if (!a->conf.max_send)
		a->conf.max_send = a->conf.max_message;
	if (!a->conf.max_buffered)
		a->conf.max_buffered = 4 * a->conf.max_message;
	tmr_init(&a->tmr_rx);

	err = dc_sctp_attach(a);

	if (err)
		mem_deref(a);
	else
		*ap = a;

	return err;
}


/**
 * Start the association (DTLS is up): both sides send INIT (RFC 8831
 * 6.2 lets either start; simultaneous starts merge)
 *
 * @param a Association
 *
 * @return 0 if success, otherwise errorcode
 */
int dc_assoc_start(struct dc_assoc *a)
{
	struct sockaddr_conn sc;
	struct sctp_paddrparams pp;

	if (!a || a->closed)
		return EINVAL;

	if (a->started)
		return 0;

	memset(&sc, 0, sizeof(sc));
	sc.sconn_family = AF_CONN;
#ifdef HAVE_SCONN_LEN
	sc.sconn_len = sizeof(sc);
#endif
	sc.sconn_port = htons(a->conf.remote_port);
	sc.sconn_addr = a;

	if (usrsctp_connect(a->sock, (struct sockaddr *)&sc, sizeof(sc)) &&
	    errno != EINPROGRESS)
		return errno;

	a->started = true;

	/* a fixed path MTU: SCTP packets fit one DTLS record. The path is
	   named by the peer's AF_CONN address (without one usrsctp
	   refuses with EAFNOSUPPORT and keeps its default MTU, whose
	   packets DTLS cannot carry: messages over ~1.1 KB toward the
	   browser were lost) */
	memset(&pp, 0, sizeof(pp));
	memcpy(&pp.spp_address, &sc, sizeof(sc));
	pp.spp_flags = SPP_PMTUD_DISABLE;
	pp.spp_pathmtu = DC_SCTP_MTU;
	if (usrsctp_setsockopt(a->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS,
			       &pp, sizeof(pp)))
		log_warn("path MTU: %m", errno);

	return 0;
}


/**
 * Feed one SCTP packet (DTLS application data) into the association
 *
 * @param a Association
 * @param p Packet
 * @param n Its length
 */
void dc_assoc_input(struct dc_assoc *a, const uint8_t *p, size_t n)
{
	if (!a || !a->started || a->closed || !n)
		return;

	usrsctp_conninput(a, p, n, 0);
}


/** true once the association is up (COMM_UP) and not closed */
bool dc_assoc_up(const struct dc_assoc *a)
{
	return a && a->up && !a->closed;
}


/**
 * Get an association's counters
 *
 * @param a  Association
 * @param st Returned counters
 */
void dc_assoc_stats(const struct dc_assoc *a, struct dc_stats *st)
{
	if (!a || !st)
		return;

	*st = a->stats;
	st->channels = (uint32_t)list_count(&a->chanl);
}


/**
 * The association ended: tell the owner once (it may free it)
 *
 * @param a   Association
 * @param err 0: shut down by the peer, otherwise why
 */
void dc_assoc_fail(struct dc_assoc *a, int err)
{
	if (a->closed)
		return;

	a->closed = true;
	a->up = false;
	a->h.closeh(err, a->arg);
}


static void assoc_change(struct dc_assoc *a,
			 const struct sctp_assoc_change *ac)
{
	switch (ac->sac_state) {

	case SCTP_COMM_UP:
		log_debug("association up (%u/%u streams)",
			  ac->sac_outbound_streams, ac->sac_inbound_streams);
		a->up = true;
		dc_chan_up(a);
		break;

	case SCTP_COMM_LOST:
	case SCTP_CANT_STR_ASSOC:
		dc_assoc_fail(a, ECONNRESET);
		break;

	case SCTP_SHUTDOWN_COMP:
		dc_assoc_fail(a, 0);
		break;

	default:
		break;
	}
}


static void strreset(struct dc_assoc *a,
		     const struct sctp_stream_reset_event *ev, size_t len)
{
	const size_t hdr = sizeof(*ev);
	const uint16_t f = ev->strreset_flags;
	size_t sidc;

	if (len < hdr || ev->strreset_length > len ||
	    ev->strreset_length < hdr)
		return;

	sidc = (ev->strreset_length - hdr) / sizeof(uint16_t);

	dc_chan_reset_event(a, ev->strreset_stream_list, sidc,
			    f & SCTP_STREAM_RESET_INCOMING_SSN,
			    f & (SCTP_STREAM_RESET_DENIED |
				 SCTP_STREAM_RESET_FAILED));
}


/**
 * A usrsctp notification (assoc.c handles the association's, chan.c
 * the streams')
 *
 * @param a Association
 * @param m Notification
 */
void dc_assoc_notify(struct dc_assoc *a, const struct dc_msg *m)
{
	const union sctp_notification *sn = m->data;

	if (m->len < sizeof(sn->sn_header) || sn->sn_header.sn_length >
	    m->len)
		return;

	switch (sn->sn_header.sn_type) {

	case SCTP_ASSOC_CHANGE:
		if (m->len >= sizeof(sn->sn_assoc_change))
			assoc_change(a, &sn->sn_assoc_change);
		break;

	case SCTP_STREAM_RESET_EVENT:
		strreset(a, &sn->sn_strreset_event, m->len);
		break;

	case SCTP_SEND_FAILED_EVENT:
		log_debug("a message could not be sent");
		break;

	default:
		break;
	}
}

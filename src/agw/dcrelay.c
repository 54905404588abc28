/**
 * @file dcrelay.c  eIMS-AGW: a data-channel m-line relayed end to end
 *                  toward a data-channel capable core (TS 26.114
 *                  DCMTSI), without ending DTLS or SCTP
 *
 * The m-line has a W3 transport of its own (never bundled with media,
 * whose DTLS the AGW ends) and a stream with one core-side port (RTCP
 * muxed, so no second socket). ICE-lite and consent run on the W3 side
 * as for media. A DTLS datagram (RFC 7983: first byte 20..63) from an
 * ICE-checked address goes unchanged to the core (its latched source,
 * else c=/port of its SDP); one from the core goes unchanged to the
 * selected browser address. The AGW has no DTLS session there: the
 * browser's and the core's fingerprints pass in SDP and the two ends
 * authenticate each other. Early media does not gate it (the DTLS
 * handshake of an answer in a 183 may run before the 2xx).
 */
#include <re.h>
#include "../net/net.h"
#include "../tls/dtls.h"
#include "../srtp/srtp.h"
#include "agw.h"
#include "agw_int.h"


static struct agw_stream *relay_stream(const struct agw_w3 *w3)
{
	struct le *le;

	for (le = w3->sess->streaml.head; le; le = le->next) {
		struct agw_stream *st = le->data;

		if (st->w3 == w3 && st->dcrelay)
			return st;
	}

	return NULL;
}


/**
 * Relay a DTLS datagram from the browser to the core
 *
 * @param w3  Relaying transport
 * @param src Source address
 * @param p   Datagram
 * @param n   Length, at most AGW_PKT_MAX
 */
void agw_dcrelay_from_w3(struct agw_w3 *w3, const struct sa *src,
			 const uint8_t *p, size_t n)
{
	struct agw_stream *st = relay_stream(w3);

	if (!st || !agw_ice_checked(w3, src)) {
		agw_w3_drop(w3);
		return;
	}

	if (agw_core_send(st, false, p, n)) {
		++st->stats.w3_dropped;
		return;
	}

	++st->stats.w3_pkts;
	st->stats.w3_bytes += n;
}


/**
 * Relay a DTLS datagram from the core (source latched) to the browser
 *
 * @param st Relaying stream
 * @param p  Datagram
 * @param n  Length, at most AGW_PKT_MAX
 */
void agw_dcrelay_from_core(struct agw_stream *st, const uint8_t *p,
			   size_t n)
{
	struct agw_w3 *w3 = st->w3;

	if (st->sess->closed || !w3 || !w3->relay || !w3->have_peer ||
	    net_udp_send(agw_w3_sock_for(w3, &w3->peer), &w3->peer, p, n)) {
		++st->stats.core_dropped;
		return;
	}

	++st->stats.core_pkts;
	st->stats.core_bytes += n;
}

/**
 * @file relay.c  eIMS-AGW packet paths: SRTP/SRTCP from the browser to
 *                plain RTP/RTCP toward the core, and back
 *
 * Each packet is copied into the AGW's one buffer, converted in place
 * and sent from there: no allocation, work bounded by the packet and
 * the number of streams in the transport's BUNDLE group.
 *
 * Browser to core: only from an address that passed a check, only once
 * DTLS has keyed SRTP; a BUNDLE is split by SSRC (the stream that lists
 * it), then by payload type (the first stream that lists it); RTCP by
 * the sender's SSRC, else to the first stream. A transport with one
 * stream needs neither. Core to browser: RTP only once early media is
 * allowed (D-38), to the selected address.
 *
 * A stream with a transcoding path (st->xc, xcode.c) hands its plain
 * packets there instead; what it makes goes out through
 * agw_relay_to_w3() or agw_core_send().
 *
 * Reception quality (src/rtpq) is measured here, on what the AGW
 * receives from each side: browser RTP after SRTP authentication, core
 * RTP from the latched source, relayed or transcoded alike; the first
 * report block of each side's RTCP SR/RR is kept as its view.
 */
#include <string.h>
#include <re.h>
#include "../net/net.h"
#include "../tls/dtls.h"
#include "../srtp/srtp.h"
#include "agw.h"
#include "agw_int.h"
#ifdef IMSEDGE_TRANSCODE
#include "xcode.h"
#endif


/**
 * Tell RTCP from RTP on a muxed port (RFC 5761 4: second byte 192..223)
 *
 * @param p Packet
 * @param n Length
 *
 * @return true if RTCP
 */
bool agw_is_rtcp(const uint8_t *p, size_t n)
{
	return n >= 2 && p[1] >= 192 && p[1] <= 223;
}


static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}


static bool has_ssrc(const struct agw_stream *st, uint32_t ssrc)
{
	size_t i;

	for (i = 0; i < st->ssrcc; i++) {

		if (st->ssrcv[i] == ssrc)
			return true;
	}

	return false;
}


static bool has_pt(const struct agw_stream *st, uint8_t pt)
{
	return (st->ptmap[pt >> 5] >> (pt & 31)) & 1;
}


/* The stream of a packet from the browser; RTP header of 12 bytes or
   RTCP of 8 (sender SSRC at 4) */
static struct agw_stream *pick(const struct agw_w3 *w3, const uint8_t *p,
			       bool rtcp)
{
	struct agw_stream *first = NULL, *by_pt = NULL;
	uint32_t ssrc = be32(p + (rtcp ? 4 : 8));
	uint8_t pt = p[1] & 0x7f;
	struct le *le;
	unsigned n = 0;

	for (le = w3->sess->streaml.head; le; le = le->next) {
		struct agw_stream *st = le->data;

		if (st->w3 != w3 || st->rtt)
			continue;

		if (has_ssrc(st, ssrc))
			return st;

		if (!first)
			first = st;
		if (!rtcp && !by_pt && has_pt(st, pt))
			by_pt = st;
		++n;
	}

	if (by_pt)
		return by_pt;

	return rtcp || n == 1 ? first : NULL;
}


static int unprotect(struct agw_w3 *w3, uint8_t *buf, size_t *len,
		     bool rtcp)
{
	if (rtcp)
		return srtpx_unprotect_rtcp(w3->srtp, buf, len);

	return srtpx_unprotect(w3->srtp, buf, len);
}


/* An SRTP/SRTCP packet that did not authenticate (or was replayed):
   counted on the transport's first stream, like every drop */
static void srtp_failed(struct agw_w3 *w3)
{
	struct le *le;

	for (le = w3->sess->streaml.head; le; le = le->next) {
		struct agw_stream *st = le->data;

		if (st->w3 == w3) {
			++st->stats.w3_srtp_failed;
			break;
		}
	}
}


/**
 * Relay SRTP or SRTCP from the browser to the core
 *
 * @param w3  Transport it arrived on
 * @param src Source address
 * @param p   Packet (first byte 128..191)
 * @param n   Length, at most AGW_PKT_MAX
 */
void agw_relay_w3(struct agw_w3 *w3, const struct sa *src,
		  const uint8_t *p, size_t n)
{
	uint8_t *buf = w3->sess->agw->buf;
	bool rtcp = agw_is_rtcp(p, n);
	struct agw_stream *st;
	size_t len = n;

	if (n < 12 || !w3->srtp || !agw_ice_checked(w3, src))
		goto drop;

	memcpy(buf, p, n);
	if (unprotect(w3, buf, &len, rtcp)) {
		srtp_failed(w3);
		goto drop;
	}

	/* the browser has the keys: DTLS has nothing left to retransmit,
	   and without data channels its record buffers can go */
	if (!w3->srtp_seen) {
		w3->srtp_seen = true;
		dtls_sess_peer_keyed(w3->dtls, !w3->dc);
	}

	if (len < (rtcp ? 8u : 12u))
		goto drop;

	st = pick(w3, buf, rtcp);
	if (!st)
		goto drop;

	if (!rtcp)
		rtpq_rtp(&st->q_w3, buf, len, net_udp_rx_time());
	else if (rtpq_rr(buf, len, &st->rr_w3))
		st->have_rr_w3 = true;

#ifdef IMSEDGE_TRANSCODE
	if (st->xc) {
		agw_xcode_from_w3(st->xc, buf, len, rtcp);
		return;
	}
#endif

	if (agw_core_send(st, rtcp, buf, len)) {
		++st->stats.w3_dropped;
		return;
	}

	++st->stats.w3_pkts;
	st->stats.w3_bytes += len;
	return;

 drop:
	agw_w3_drop(w3);
}


static int protect(struct agw_w3 *w3, uint8_t *buf, size_t *len,
		   size_t cap, bool rtcp)
{
	if (rtcp)
		return srtpx_protect_rtcp(w3->srtp, buf, len, cap);

	return srtpx_protect(w3->srtp, buf, len, cap);
}


/**
 * Send plain RTP or RTCP to the browser as SRTP/SRTCP, protected in place
 *
 * @param st   Stream
 * @param rtcp RTCP
 * @param buf  Packet; @p cap bytes of room for the SRTP trailer
 * @param len  Length
 * @param cap  Size of @p buf
 *
 * @return 0, EAGAIN while media may not flow (no keys, no selected
 *         address, early media held back, closed), or an errno
 */
int agw_relay_to_w3(struct agw_stream *st, bool rtcp, uint8_t *buf,
		    size_t len, size_t cap)
{
	struct agw_sess *s = st->sess;
	struct agw_w3 *w3 = st->w3;
	int err;

	if (s->closed || (!rtcp && !s->early) || !w3 || !w3->srtp ||
	    !w3->have_peer)
		return EAGAIN;

	err = protect(w3, buf, &len, cap, rtcp);
	if (err)
		return err;

	return net_udp_send(agw_w3_sock_for(w3, &w3->peer), &w3->peer, buf,
			    len);
}


/**
 * Relay plain RTP or RTCP from the core to the browser as SRTP/SRTCP
 *
 * @param st   Stream it arrived on (source already latched)
 * @param rtcp RTCP
 * @param p    Packet
 * @param n    Length, at most AGW_PKT_MAX
 */
void agw_relay_core(struct agw_stream *st, bool rtcp, const uint8_t *p,
		    size_t n)
{
	uint8_t *buf = st->sess->agw->buf;

	if (st->rtt) {
		agw_rtt_from_core(st->rtt, p, n, rtcp);
		return;
	}

	if (!rtcp)
		rtpq_rtp(&st->q_core, p, n, net_udp_rx_time());
	else if (rtpq_rr(p, n, &st->rr_core))
		st->have_rr_core = true;

#ifdef IMSEDGE_TRANSCODE
	if (st->xc) {
		agw_xcode_from_core(st->xc, p, n, rtcp);
		return;
	}
#endif

	memcpy(buf, p, n);
	if (agw_relay_to_w3(st, rtcp, buf, n, sizeof(st->sess->agw->buf))) {
		++st->stats.core_dropped;
		return;
	}

	++st->stats.core_pkts;
	st->stats.core_bytes += n;
}

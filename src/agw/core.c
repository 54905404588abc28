/**
 * @file core.c  eIMS-AGW core-side sockets of a stream: an even RTP port
 *               and the odd RTCP port above it on media_core_addr,
 *               symmetric RTP (latching, D-36)
 *
 * Plain RTP/RTCP from the core is taken from any source at first; the
 * first one latches the socket, and media toward the core goes to the
 * latched source instead of the address in the core's SDP. Packets from
 * another source are dropped until the latched one has been silent for
 * AGW_LATCH_MS, then the next source latches. RTP and RTCP latch
 * separately. The RTCP port is reserved also while the core muxes, so a
 * re-INVITE can turn muxing off.
 *
 * With media_core_port_shared (coreport.c) a stream has no sockets of
 * its own: it is found on the shared pair by the core's address from
 * its SDP, so latching only ever sees that source.
 */
#include <string.h>
#include <re.h>
#include "../net/net.h"
#include "../tls/dtls.h"
#include "../srtp/srtp.h"
#include "../core/log.h"
#include "agw.h"
#include "agw_int.h"

#define LOG_MODULE "agw"


static void rtp_sock_h(const struct sa *src, uint8_t *buf, size_t len,
		       void *arg)
{
	agw_core_input(arg, false, src, buf, len);
}


static void rtcp_sock_h(const struct sa *src, uint8_t *buf, size_t len,
			void *arg)
{
	agw_core_input(arg, true, src, buf, len);
}


static int rtcp_open(struct agw_stream *st, uint16_t port)
{
	struct agw *agw = st->sess->agw;

	return agw_udp_open(agw, &st->rtcp, &agw->conf.media_core_addr,
			    port, rtcp_sock_h, st);
}


static int bind_h(uint16_t port, void *arg)
{
	struct agw_stream *st = arg;
	struct agw *agw = st->sess->agw;
	int err;

	err = agw_udp_open(agw, &st->rtp, &agw->conf.media_core_addr, port,
			   rtp_sock_h, st);
	if (err || st->rtcp_mux)
		return err;

	err = rtcp_open(st, port + 1);
	if (err)
		st->rtp = mem_deref(st->rtp);

	return err;
}


/**
 * Put the stream on the shared core port, or take a port pair and open
 * its own core-side sockets (no shared port, a relayed data channel, or
 * another stream's core already sends from @p peer)
 *
 * @param st   Stream (rtcp_mux set)
 * @param peer The core's RTP address if known already (its offer), or
 *             NULL
 *
 * @return 0 if success, ENOSPC if the pool is exhausted, else errorcode
 */
int agw_core_open(struct agw_stream *st, const struct sa *peer)
{
	struct agw *agw = st->sess->agw;

	if (agw->coreport && !st->dcrelay &&
	    agw_coreport_free(agw->coreport, peer))
		return agw_coreport_attach(agw->coreport, st);

	return agw_port_take(agw, true, bind_h, st, &st->port);
}


/**
 * Switch core-side RTCP muxing (re-INVITE): open or close the RTCP
 * socket on the reserved port
 *
 * @param st  Stream
 * @param mux The core muxes RTP and RTCP
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_core_mux(struct agw_stream *st, bool mux)
{
	int err;

	if (mux == st->rtcp_mux)
		return 0;

	if (st->core_shared) {
		agw_coreport_mux(st->sess->agw->coreport, st, mux);
		memset(&st->latch_rtcp, 0, sizeof(st->latch_rtcp));
		return 0;
	}

	if (mux) {
		st->rtcp = mem_deref(st->rtcp);
	}
	else {
		err = rtcp_open(st, st->port + 1);
		if (err)
			return err;
	}

	st->rtcp_mux = mux;
	memset(&st->latch_rtcp, 0, sizeof(st->latch_rtcp));

	return 0;
}


/**
 * Close the stream's core-side sockets and give the ports back
 *
 * @param st Stream
 */
void agw_core_close(struct agw_stream *st)
{
	if (st->core_shared) {
		agw_coreport_detach(st);
		return;
	}

	st->rtp  = mem_deref(st->rtp);
	st->rtcp = mem_deref(st->rtcp);
	agw_port_release(st->sess->agw, st->port, true);
	st->port = 0;
}


/**
 * Set the core's addresses from its SDP; a changed address unlatches
 *
 * @param st   Stream
 * @param rtp  RTP address
 * @param rtcp RTCP address, NULL for the default
 */
void agw_core_peer(struct agw_stream *st, const struct sa *rtp,
		   const struct sa *rtcp)
{
	struct sa c = *rtp;

	if (rtcp)
		c = *rtcp;
	else if (!st->rtcp_mux)
		sa_set_port(&c, sa_port(rtp) + 1);

	if (!sa_cmp(&st->peer_rtp, rtp, SA_ALL))
		memset(&st->latch_rtp, 0, sizeof(st->latch_rtp));
	if (!sa_cmp(&st->peer_rtcp, &c, SA_ALL))
		memset(&st->latch_rtcp, 0, sizeof(st->latch_rtcp));

	st->peer_rtp  = *rtp;
	st->peer_rtcp = c;

	if (st->core_shared)
		agw_coreport_peer(st->sess->agw->coreport, st);
}


/**
 * Send plain RTP or RTCP to the core: to the latched source, else to
 * the address from the core's SDP
 *
 * @param st   Stream
 * @param rtcp RTCP (to the RTCP port unless the core muxes)
 * @param buf  Packet
 * @param len  Length
 *
 * @return 0 if success, ENOTCONN if the core's address is unknown, else
 *         errorcode
 */
int agw_core_send(struct agw_stream *st, bool rtcp, const uint8_t *buf,
		  size_t len)
{
	bool own = rtcp && !st->rtcp_mux;
	const struct agw_latch *l = own ? &st->latch_rtcp : &st->latch_rtp;
	const struct sa *dst = own ? &st->peer_rtcp : &st->peer_rtp;
	struct net_udp *u = own ? st->rtcp : st->rtp;

	if (l->set)
		dst = &l->src;

	if (!u || !sa_isset(dst, SA_ALL))
		return ENOTCONN;

	return net_udp_send(u, dst, buf, len);
}


static bool latch(struct agw_stream *st, struct agw_latch *l,
		  const struct sa *src)
{
	uint64_t now = tmr_jiffies();

	if (l->set && !sa_cmp(&l->src, src, SA_ALL)) {

		if (now - l->ts < st->sess->agw->latch_ms)
			return false;

		log_info("stream %u: re-latched from %J to %J", st->idx,
			 &l->src, src);
	}
	else if (!l->set) {
		log_debug("stream %u: latched to %J", st->idx, src);
	}

	l->src = *src;
	l->ts  = now;
	l->set = true;

	return true;
}


/* Version 2 and long enough for a header */
static bool rtp_valid(const uint8_t *p, size_t n, bool rtcp)
{
	return n >= (rtcp ? 8u : 12u) && (p[0] >> 6) == 2;
}


/**
 * A datagram from the core for a stream (its own socket or the shared
 * port)
 *
 * @param st        Stream
 * @param rtcp_sock Arrived on the RTCP port
 * @param src       Source address
 * @param p         Datagram
 * @param n         Length
 */
void agw_core_input(struct agw_stream *st, bool rtcp_sock,
		    const struct sa *src, const uint8_t *p, size_t n)
{
	bool rtcp = rtcp_sock || agw_is_rtcp(p, n);
	struct agw_latch *l = rtcp_sock ? &st->latch_rtcp : &st->latch_rtp;
	bool valid;

	/* a relayed data channel takes DTLS only (RFC 7983) */
	if (st->dcrelay)
		valid = n && p[0] >= 20 && p[0] <= 63 && !rtcp_sock;
	else
		valid = rtp_valid(p, n, rtcp);

	if (n > AGW_PKT_MAX || !valid) {
		++st->stats.core_dropped;
		return;
	}

	if (!latch(st, l, src)) {
		++st->stats.core_dropped;
		++st->stats.core_unlatched;
		return;
	}

	if (st->dcrelay)
		agw_dcrelay_from_core(st, p, n);
	else
		agw_relay_core(st, rtcp, p, n);
}


/**
 * Feed a datagram as if received on a core-side socket (fuzzing)
 *
 * @param st   Stream
 * @param rtcp On the RTCP socket
 * @param src  Source address
 * @param mb   Datagram
 */
void agw_core_recv_test(struct agw_stream *st, bool rtcp,
			const struct sa *src, struct mbuf *mb)
{
	agw_core_input(st, rtcp, src, mbuf_buf(mb), mbuf_get_left(mb));
}

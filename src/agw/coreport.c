/**
 * @file coreport.c  One core-side media port pair for every call
 *                   (media_core_port_shared yes)
 *
 * Every stream's core-side RTP goes to one port P, its RTCP (unless the
 * core muxes) to P+1, both taken from rtp_ports when the AGW starts: a
 * wake-up's recvmmsg() batch carries datagrams of many calls, and what
 * the AGW sends toward the core in one turn of the loop leaves in one
 * sendmmsg() (net_udp_tx_batch), as on the browser-side shared port.
 *
 * A datagram finds its stream by its source address:port, which must be
 * the address the core's SDP gave for that stream (RTP on P, RTCP on
 * P+1; muxed RTCP arrives on P from the RTP address). Latching
 * (core.c) then only ever sees that source: a core that sends from an
 * address other than its SDP's (NAT) needs a port of its own
 * (media_core_port_shared no). Datagrams from addresses no stream has
 * are dropped and counted.
 *
 * Two streams cannot share a core address:port. A stream whose core
 * address is known when it is set up (the core offered) and already
 * taken gets a port pair of its own (agw_coreport_free()). Later (the
 * core's answer, a re-INVITE) the AGW's port is already in the core's
 * SDP and cannot move: the stream that named the address last takes it
 * (the other one's core most likely moved on), counted as a collision.
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

enum {
	PEER_BUCKETS = 4096,
	/* every call's bursts in one queue, as on the browser-side port */
	RCVBUF       = 8 << 20,
	/* datagrams per wake-up before other sockets get their turn */
	WAKE_MAX     = 512,
};

struct agw_coreport {
	struct agw *agw;             /**< Owner (no reference)             */
	struct net_udp *rtp;         /**< Port P                           */
	struct net_udp *rtcp;        /**< Port P+1                         */
	uint16_t port;
	struct hash *rtph;           /**< struct agw_stream by peer RTP    */
	struct hash *rtcph;          /**< ... by peer RTCP (not muxed)     */
	uint64_t unknown;            /**< Dropped: no stream has the source */
	uint64_t collisions;         /**< An address taken from a stream   */
};


static void destructor(void *arg)
{
	struct agw_coreport *cp = arg;

	/* streams hold a reference to the AGW: none are left */
	mem_deref(cp->rtp);
	mem_deref(cp->rtcp);
	hash_flush(cp->rtph);
	mem_deref(cp->rtph);
	hash_flush(cp->rtcph);
	mem_deref(cp->rtcph);
	if (cp->port)
		agw_port_release(cp->agw, cp->port, true);
}


static bool peer_cmp(struct le *le, void *arg)
{
	const struct agw_coreport_key *k = le->data;

	return sa_cmp(&k->addr, arg, SA_ALL);
}


static struct agw_coreport_key *lookup(struct hash *h, const struct sa *src)
{
	struct le *le = hash_lookup(h, sa_hash(src, SA_ALL), peer_cmp,
				    (void *)src);

	return le ? le->data : NULL;
}


static void recv_any(struct agw_coreport *cp, struct hash *h, bool rtcp,
		     const struct sa *src, uint8_t *p, size_t n)
{
	struct agw_coreport_key *k = lookup(h, src);

	if (!k) {
		++cp->unknown;
		return;
	}

	agw_core_input(k->st, rtcp, src, p, n);
}


static void rtp_h(const struct sa *src, uint8_t *buf, size_t len, void *arg)
{
	struct agw_coreport *cp = arg;

	recv_any(cp, cp->rtph, false, src, buf, len);
}


static void rtcp_h(const struct sa *src, uint8_t *buf, size_t len, void *arg)
{
	struct agw_coreport *cp = arg;

	recv_any(cp, cp->rtcph, true, src, buf, len);
}


static void sock_tune(struct net_udp *u)
{
	(void)net_udp_rcvbuf_set(u, RCVBUF);
	(void)net_udp_wake_max_set(u, WAKE_MAX);
	if (net_udp_tx_batch(u))
		log_debug("core port: sends not batched");
}


static int bind_h(uint16_t port, void *arg)
{
	struct agw_coreport *cp = arg;
	const struct sa *a = &cp->agw->conf.media_core_addr;
	int err;

	err = agw_udp_open(cp->agw, &cp->rtp, a, port, rtp_h, cp);
	if (err)
		return err;

	err = agw_udp_open(cp->agw, &cp->rtcp, a, port + 1, rtcp_h, cp);
	if (err) {
		cp->rtp = mem_deref(cp->rtp);
		return err;
	}

	sock_tune(cp->rtp);
	sock_tune(cp->rtcp);

	return 0;
}


/**
 * Open the shared core-side port pair (media_core_port_shared yes)
 *
 * @param cpp Returned port
 * @param agw The AGW
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_coreport_alloc(struct agw_coreport **cpp, struct agw *agw)
{
	struct agw_coreport *cp;
	int err;

	cp = mem_zalloc(sizeof(*cp), destructor);
	if (!cp)
		return ENOMEM;

	cp->agw = agw;
	err = hash_alloc(&cp->rtph, PEER_BUCKETS);
	if (!err)
		err = hash_alloc(&cp->rtcph, PEER_BUCKETS);
	if (!err)
		err = agw_port_take(agw, true, bind_h, cp, &cp->port);

	if (err) {
		mem_deref(cp);
		return err;
	}

	log_info("core-side media on one port pair: %u/%u (receive buffer "
		 "%d KiB)", cp->port, cp->port + 1,
		 net_udp_rcvbuf(cp->rtp) / 2048);
	*cpp = cp;

	return 0;
}


/**
 * Whether a stream whose core sends from @p rtp may use the shared port
 *
 * @param cp  Shared port
 * @param rtp The core's RTP address (NULL or unset: not known yet)
 *
 * @return true unless another stream has the address
 */
bool agw_coreport_free(const struct agw_coreport *cp, const struct sa *rtp)
{
	if (!rtp || !sa_isset(rtp, SA_ALL))
		return true;

	return lookup(cp->rtph, rtp) == NULL;
}


/**
 * Put a stream on the shared port (no core address yet)
 *
 * @param cp Shared port
 * @param st Stream (rtcp_mux set)
 *
 * @return 0
 */
int agw_coreport_attach(struct agw_coreport *cp, struct agw_stream *st)
{
	st->core_shared = true;
	st->port = cp->port;
	st->rtp = mem_ref(cp->rtp);
	st->rtcp = st->rtcp_mux ? NULL : mem_ref(cp->rtcp);
	st->key_rtp.st = st;
	st->key_rtcp.st = st;

	return 0;
}


static void key_set(struct agw_coreport *cp, struct hash *h,
		    struct agw_coreport_key *k, const struct sa *addr)
{
	struct agw_coreport_key *old;

	hash_unlink(&k->he);
	if (!addr || !sa_isset(addr, SA_ALL))
		return;

	old = lookup(h, addr);
	if (old) {
		log_warn("core port: stream %u of another call also sends "
			 "from %J: it now goes to stream %u", old->st->idx,
			 addr, k->st->idx);
		++cp->collisions;
		hash_unlink(&old->he);
	}

	k->addr = *addr;
	hash_append(h, sa_hash(addr, SA_ALL), &k->he, k);
}


/**
 * The stream's core addresses changed (SDP, RTCP muxing): demultiplex by
 * them from now on
 *
 * @param cp Shared port
 * @param st Stream on the shared port
 */
void agw_coreport_peer(struct agw_coreport *cp, struct agw_stream *st)
{
	key_set(cp, cp->rtph, &st->key_rtp, &st->peer_rtp);
	key_set(cp, cp->rtcph, &st->key_rtcp,
		st->rtcp_mux ? NULL : &st->peer_rtcp);
}


/**
 * Switch core-side RTCP muxing on the shared port (re-INVITE)
 *
 * @param cp  Shared port
 * @param st  Stream on the shared port
 * @param mux The core muxes RTP and RTCP
 */
void agw_coreport_mux(struct agw_coreport *cp, struct agw_stream *st,
		      bool mux)
{
	st->rtcp = mem_deref(st->rtcp);
	if (!mux)
		st->rtcp = mem_ref(cp->rtcp);

	st->rtcp_mux = mux;
	agw_coreport_peer(cp, st);
}


/**
 * Take a stream off the shared port
 *
 * @param st Stream
 */
void agw_coreport_detach(struct agw_stream *st)
{
	if (!st->core_shared)
		return;

	hash_unlink(&st->key_rtp.he);
	hash_unlink(&st->key_rtcp.he);
	st->rtp  = mem_deref(st->rtp);
	st->rtcp = mem_deref(st->rtcp);
	st->core_shared = false;
	st->port = 0;
}


/**
 * Counters of the shared core-side port
 *
 * @param cp         Shared port (NULL: zeros)
 * @param collisions Returned: addresses taken from another stream
 *                   (optional)
 *
 * @return Datagrams dropped: no stream has the source
 */
uint64_t agw_coreport_unknown(const struct agw_coreport *cp,
			      uint64_t *collisions)
{
	if (collisions)
		*collisions = cp ? cp->collisions : 0;

	return cp ? cp->unknown : 0;
}


/**
 * Feed a datagram as if received on the shared core-side port (fuzzing)
 *
 * @param agw  The AGW (media_core_port_shared)
 * @param rtcp On the RTCP port
 * @param src  Source address
 * @param mb   Datagram
 */
void agw_coreport_recv_test(struct agw *agw, bool rtcp, const struct sa *src,
			    struct mbuf *mb)
{
	struct agw_coreport *cp = agw->coreport;

	if (!cp)
		return;

	recv_any(cp, rtcp ? cp->rtcph : cp->rtph, rtcp, src, mbuf_buf(mb),
		 mbuf_get_left(mb));
}

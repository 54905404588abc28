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
 *
 * A core address that is this shared port itself (two users of this AGW
 * calling each other through a core that does not anchor media) is
 * never demultiplexed: the stream the core offers it to takes a port
 * pair of its own, and its answer then names that port to the other leg.
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

/* The streams of one port by the core's address: addr:port, and the
   address alone for a core that sends from another port of its host */
struct peers {
	struct hash *exact;          /**< struct agw_coreport_key          */
	struct hash *ip;             /**< The same keys by address only    */
};

struct agw_coreport {
	struct agw *agw;             /**< Owner (no reference)             */
	struct net_udp *rtp;         /**< Port P                           */
	struct net_udp *rtcp;        /**< Port P+1                         */
	uint16_t port;
	struct peers rtph;           /**< Streams by peer RTP              */
	struct peers rtcph;          /**< ... by peer RTCP (not muxed)     */
	uint64_t unknown;            /**< Dropped: no stream has the source */
	uint64_t collisions;         /**< An address taken from a stream   */
	uint64_t same_host;          /**< Taken by the source's address    */
};


static void peers_close(struct peers *pp)
{
	hash_clear(pp->exact);
	pp->exact = mem_deref(pp->exact);
	hash_clear(pp->ip);
	pp->ip = mem_deref(pp->ip);
}


static int peers_open(struct peers *pp)
{
	int err = hash_alloc(&pp->exact, PEER_BUCKETS);

	return err ? err : hash_alloc(&pp->ip, PEER_BUCKETS);
}


static void destructor(void *arg)
{
	struct agw_coreport *cp = arg;

	/* streams hold a reference to the AGW: none are left */
	mem_deref(cp->rtp);
	mem_deref(cp->rtcp);
	peers_close(&cp->rtph);
	peers_close(&cp->rtcph);
	if (cp->port)
		agw_port_release(cp->agw, cp->port, true);
}


static bool peer_cmp(struct le *le, void *arg)
{
	const struct agw_coreport_key *k = le->data;

	return sa_cmp(&k->addr, arg, SA_ALL);
}


static struct agw_coreport_key *lookup(const struct peers *pp,
				       const struct sa *src)
{
	struct le *le = hash_lookup(pp->exact, sa_hash(src, SA_ALL),
				    peer_cmp, (void *)src);

	return le ? le->data : NULL;
}


/*
 * A source no stream named: the one stream whose core is on the same
 * address, if exactly one is (a core that sends from another port than
 * its SDP's: asymmetric RTP; core.c's latching then answers that port).
 * Several calls with a core on that address: nobody's (two matches end
 * the search).
 */
static struct agw_coreport_key *lookup_host(const struct peers *pp,
					    const struct sa *src)
{
	struct agw_coreport_key *found = NULL;
	struct le *le;

	le = list_head(hash_list(pp->ip, sa_hash(src, SA_ADDR)));
	for (; le; le = le->next) {
		struct agw_coreport_key *k = le->data;

		if (!sa_cmp(&k->addr, src, SA_ADDR))
			continue;
		if (found)
			return NULL;
		found = k;
	}

	return found;
}


static void recv_any(struct agw_coreport *cp, struct peers *pp, bool rtcp,
		     const struct sa *src, uint8_t *p, size_t n)
{
	struct agw_coreport_key *k = lookup(pp, src);

	if (!k) {
		k = lookup_host(pp, src);
		if (!k) {
			++cp->unknown;
			return;
		}
		++cp->same_host;
	}

	agw_core_input(k->st, rtcp, src, p, n);
}


static void rtp_h(const struct sa *src, uint8_t *buf, size_t len, void *arg)
{
	struct agw_coreport *cp = arg;

	recv_any(cp, &cp->rtph, false, src, buf, len);
}


static void rtcp_h(const struct sa *src, uint8_t *buf, size_t len, void *arg)
{
	struct agw_coreport *cp = arg;

	recv_any(cp, &cp->rtcph, true, src, buf, len);
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
	err = peers_open(&cp->rtph);
	if (!err)
		err = peers_open(&cp->rtcph);
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

	if (agw_coreport_is_self(cp, rtp))
		return false;

	return lookup(&cp->rtph, rtp) == NULL;
}


/**
 * Whether an address is the shared port pair itself: the core hands one
 * call's AGW address to another call on this AGW (two browsers calling
 * each other through a core that does not anchor media). Both legs on
 * the shared port would demultiplex by the same source, so the leg the
 * core offers to takes a port pair of its own.
 *
 * @param cp   Shared port
 * @param addr Address (RTP or RTCP) from the core's SDP
 *
 * @return true if it is the shared RTP or RTCP port at the address the
 *         AGW advertises or listens on
 */
bool agw_coreport_is_self(const struct agw_coreport *cp,
			  const struct sa *addr)
{
	const struct agw_conf *c = &cp->agw->conf;
	uint16_t port = sa_port(addr);

	if (port != cp->port && port != cp->port + 1)
		return false;

	return sa_cmp(addr, &c->media_core_addr, SA_ADDR) ||
		(sa_isset(&c->media_core_public, SA_ADDR) &&
		 sa_cmp(addr, &c->media_core_public, SA_ADDR));
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


static void key_unlink(struct agw_coreport_key *k)
{
	hash_unlink(&k->he);
	hash_unlink(&k->he_ip);
}


static void key_set(struct agw_coreport *cp, struct peers *pp,
		    struct agw_coreport_key *k, const struct sa *addr)
{
	struct agw_coreport_key *old;

	key_unlink(k);
	if (!addr || !sa_isset(addr, SA_ALL))
		return;

	if (agw_coreport_is_self(cp, addr)) {
		/* this stream's packets would come back to it: only a
		   port of its own (set up as the core's offer) hairpins */
		log_warn("core port: stream %u's core address %J is this "
			 "AGW's shared port; its media is dropped (a call "
			 "between two users of this AGW needs the offer to "
			 "come from the core)", k->st->idx, addr);
		++cp->collisions;
		return;
	}

	old = lookup(pp, addr);
	if (old) {
		log_warn("core port: stream %u of another call also sends "
			 "from %J: it now goes to stream %u", old->st->idx,
			 addr, k->st->idx);
		++cp->collisions;
		key_unlink(old);
	}

	k->addr = *addr;
	hash_append(pp->exact, sa_hash(addr, SA_ALL), &k->he, k);
	hash_append(pp->ip, sa_hash(addr, SA_ADDR), &k->he_ip, k);
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
	key_set(cp, &cp->rtph, &st->key_rtp, &st->peer_rtp);
	key_set(cp, &cp->rtcph, &st->key_rtcp,
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

	key_unlink(&st->key_rtp);
	key_unlink(&st->key_rtcp);
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
 * @param same_host  Returned: datagrams given to the one stream whose
 *                   core is on the source's address, from another port
 *                   (optional)
 *
 * @return Datagrams dropped: no stream has the source
 */
uint64_t agw_coreport_unknown(const struct agw_coreport *cp,
			      uint64_t *collisions, uint64_t *same_host)
{
	if (collisions)
		*collisions = cp ? cp->collisions : 0;
	if (same_host)
		*same_host = cp ? cp->same_host : 0;

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

	recv_any(cp, rtcp ? &cp->rtcph : &cp->rtph, rtcp, src, mbuf_buf(mb),
		 mbuf_get_left(mb));
}

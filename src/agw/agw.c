/**
 * @file agw.c  eIMS-AGW: allocation, the media port pool, media sockets
 *
 * One pool (rtp_ports MIN-MAX) serves both sides: a W3 transport takes
 * one port on media_listen, a stream an even port and the odd one
 * above it on media_core_addr. The search starts where the last one
 * ended, so a port just freed is not handed out again at once (a late
 * packet of the old call would reach the new one); a port some other
 * process holds is skipped.
 */
#include <string.h>
#include <re.h>
#include "../tls/dtls.h"
#include "../srtp/srtp.h"
#include "../net/net.h"
#include "../core/log.h"
#include "agw.h"
#include "agw_int.h"

#define LOG_MODULE "agw"


static void destructor(void *arg)
{
	struct agw *agw = arg;

	/* sessions hold a reference: sessl is empty here */
	mem_deref(agw->shared);      /* gives its port back to portmap */
	mem_deref(agw->coreport);
	mem_deref(agw->portmap);
	mem_deref(agw->tls);
}


static int fingerprint_get(struct agw *agw)
{
	uint8_t md[32];
	size_t i;
	int n, err;

	err = tls_fingerprint(agw->tls, TLS_FINGERPRINT_SHA256, md,
			      sizeof(md));
	if (err)
		return err;

	n = re_snprintf(agw->fingerprint, sizeof(agw->fingerprint),
			"sha-256 ");
	for (i = 0; i < sizeof(md) && n > 0; i++)
		n += re_snprintf(agw->fingerprint + n,
				 sizeof(agw->fingerprint) - n,
				 i ? ":%02X" : "%02X", md[i]);

	return n > 0 ? 0 : ENOMEM;
}


/**
 * Allocate the eIMS-AGW
 *
 * @param agwp Returned AGW
 * @param conf Addresses (concrete ones: they go into SDP) and limits
 *             (copied)
 * @param tls  TLS context with the AGW's certificate, for DTLS
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_alloc(struct agw **agwp, const struct agw_conf *conf,
	      struct tls *tls)
{
	struct agw *agw;
	int err;

	if (!agwp || !conf || !tls || !conf->port_min ||
	    conf->port_min > conf->port_max || conf->dscp > 63 ||
	    !sa_isset(&conf->media_listen, SA_ADDR) ||
	    !sa_isset(&conf->media_core_addr, SA_ADDR))
		return EINVAL;

	agw = mem_zalloc(sizeof(*agw), destructor);
	if (!agw)
		return ENOMEM;

	agw->conf     = *conf;
	agw->tls      = mem_ref(tls);
	agw->latch_ms = AGW_LATCH_MS;
	agw->nports   = (uint32_t)conf->port_max - conf->port_min + 1;

	agw->portmap = mem_zalloc((agw->nports + 7) / 8, NULL);
	if (!agw->portmap) {
		err = ENOMEM;
		goto out;
	}

	err = fingerprint_get(agw);
	if (!err && conf->media_port_shared)
		err = agw_shared_alloc(&agw->shared, agw);
	if (!err && conf->media_core_port_shared)
		err = agw_coreport_alloc(&agw->coreport, agw);

 out:
	if (err)
		mem_deref(agw);
	else
		*agwp = agw;

	return err;
}


/**
 * Get the number of sessions, emergency sessions included
 *
 * @param agw AGW
 *
 * @return Number of sessions
 */
uint32_t agw_session_count(const struct agw *agw)
{
	return agw ? list_count(&agw->sessl) : 0;
}


/**
 * Transcoded streams: now, and put on the transcoding path since start
 *
 * @param agw   AGW (may be NULL: zeros)
 * @param now   Returned count now
 * @param total Returned count since start
 */
void agw_xcode_count(const struct agw *agw, uint32_t *now, uint64_t *total)
{
	*now = agw ? agw->xcodes : 0;
	*total = agw ? agw->xcodes_total : 0;
}


/**
 * Datagrams the shared media ports dropped: no call has their source
 *
 * @param agw     AGW (may be NULL: zeros)
 * @param browser Returned: on the browser-side port (media_port_shared)
 * @param core    Returned: on the core-side pair (media_core_port_shared)
 */
void agw_unknown_sources(const struct agw *agw, uint64_t *browser,
			 uint64_t *core)
{
	*browser = agw && agw->shared ? agw_shared_unknown(agw->shared) : 0;
	*core = agw ? agw_coreport_unknown(agw->coreport, NULL, NULL) : 0;
}


/**
 * Media ports of the pool in use and in all
 *
 * @param agw   AGW (may be NULL: zeros)
 * @param used  Returned ports in use
 * @param total Returned size of the pool
 */
void agw_ports(const struct agw *agw, uint32_t *used, uint32_t *total)
{
	uint32_t i, n = 0;

	*used = *total = 0;
	if (!agw)
		return;

	for (i = 0; i < (agw->nports + 7) / 8; i++) {
		uint8_t b = agw->portmap[i];

		for (; b; b &= (uint8_t)(b - 1))
			++n;
	}

	*used = n;
	*total = agw->nports;
}


static bool used(const struct agw *agw, uint32_t i)
{
	return i >= agw->nports || (agw->portmap[i >> 3] & (1u << (i & 7)));
}


static void mark(struct agw *agw, uint32_t i, bool on)
{
	if (i >= agw->nports)
		return;

	if (on)
		agw->portmap[i >> 3] |= (uint8_t)(1u << (i & 7));
	else
		agw->portmap[i >> 3] &= (uint8_t)~(1u << (i & 7));
}


/* A pair is an even port and the next; a single port prefers one whose
   pair partner is taken (or outside the range), keeping pairs whole */
static bool candidate(const struct agw *agw, uint32_t i, bool pair,
		      bool holes)
{
	uint32_t port = agw->conf.port_min + i;
	uint32_t buddy = port ^ 1;

	if (used(agw, i))
		return false;

	if (pair)
		return !(port & 1) && !used(agw, i + 1);

	if (!holes)
		return true;

	return buddy < agw->conf.port_min || buddy > agw->conf.port_max ||
		used(agw, buddy - agw->conf.port_min);
}


/**
 * Take a port (or an even/odd pair) from the pool: the bind handler
 * opens the sockets; a port in use elsewhere is skipped
 *
 * @param agw   AGW
 * @param pair  Take an even port and the next odd port
 * @param bindh Bind handler: 0, EADDRINUSE/EACCES (try the next) or error
 * @param arg   Handler argument
 * @param portp Returned (even) port
 *
 * @return 0 if success, ENOSPC if the pool is exhausted, else errorcode
 */
int agw_port_take(struct agw *agw, bool pair, agw_bind_h *bindh,
		  void *arg, uint16_t *portp)
{
	unsigned pass;
	uint32_t k, i;
	int err;

	for (pass = pair ? 1 : 0; pass < 2; pass++) {

		for (k = 0; k < agw->nports; k++) {

			i = (agw->cursor + k) % agw->nports;

			if (!candidate(agw, i, pair, pass == 0))
				continue;

			err = bindh((uint16_t)(agw->conf.port_min + i), arg);
			if (err == EADDRINUSE || err == EACCES)
				continue;
			if (err)
				return err;

			mark(agw, i, true);
			if (pair)
				mark(agw, i + 1, true);

			agw->cursor = (i + (pair ? 2 : 1)) % agw->nports;
			*portp = (uint16_t)(agw->conf.port_min + i);

			return 0;
		}
	}

	return ENOSPC;
}


/**
 * Give a port (or a pair) back to the pool
 *
 * @param agw  AGW
 * @param port Port (the even one of a pair)
 * @param pair Also the next port
 */
void agw_port_release(struct agw *agw, uint16_t port, bool pair)
{
	uint32_t i;

	if (!agw || !port || port < agw->conf.port_min)
		return;

	i = port - agw->conf.port_min;
	mark(agw, i, false);
	if (pair)
		mark(agw, i + 1, false);
}


/**
 * Open a media socket (src/net/): datagrams up to AGW_PKT_MAX (a longer
 * one is dropped there), DSCP marking
 *
 * @param agw  AGW
 * @param up   Returned socket
 * @param addr Local address (its port is ignored)
 * @param port Local port
 * @param rh   Receive handler
 * @param arg  Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_udp_open(struct agw *agw, struct net_udp **up,
		 const struct sa *addr, uint16_t port, net_udp_recv_h *rh,
		 void *arg)
{
	struct net_udp *u;
	struct sa laddr = *addr;
	int err;

	sa_set_port(&laddr, port);

	err = net_udp_open(&u, &laddr, AGW_PKT_MAX, rh, arg);
	if (err)
		return err;

	if (agw->conf.dscp) {
		err = net_udp_dscp_set(u, agw->conf.dscp);
		if (err)
			log_warn("DSCP %u on port %u: %m", agw->conf.dscp,
				 port, err);
	}

	*up = u;

	return 0;
}

/**
 * @file sess.c  eIMS-AGW sessions (one call's media) and streams
 *
 * A session owns its W3 transports and streams; freeing it closes
 * every socket and returns the ports to the pool at once (D-40).
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


/**
 * The address the AGW puts in its SDP for a local port: the public one
 * (media_public, media_core_public: NAT, port forwards) if set,
 * otherwise the address it listens on
 *
 * @param out   Returned address and port
 * @param pub   Public address (port ignored), may be unset
 * @param laddr Local address (port ignored)
 * @param port  Local port (a forward keeps it)
 */
void agw_advertised(struct sa *out, const struct sa *pub,
		    const struct sa *laddr, uint16_t port)
{
	*out = sa_isset(pub, SA_ADDR) ? *pub : *laddr;
	sa_set_port(out, port);
}


/* The counters of a stream with its reception figures (rtpq) */
static void stream_stats(const struct agw_stream *st, struct agw_stats *x)
{
	struct rtpq_stat q;

	*x = st->stats;
	x->srtp = st->w3 && st->w3->srtp ? srtp_suite_name(st->w3->suite) :
		NULL;

	rtpq_get(&st->q_w3, &q);
	x->w3_expected = q.expected;
	x->w3_lost = q.lost;
	x->w3_jitter_us = q.jitter_us;
	rtpq_get(&st->q_core, &q);
	x->core_expected = q.expected;
	x->core_lost = q.lost;
	x->core_jitter_us = q.jitter_us;

	/* the core reports on what it receives (its codec's clock), the
	   browser on what the AGW sends it (the browser side's clock) */
	if (st->have_rr_core) {
		x->w3_far_reports = 1;
		x->w3_far_lost = st->rr_core.lost;
		x->w3_far_fraction = st->rr_core.fraction;
		x->w3_far_jitter_us = rtpq_us(st->rr_core.jitter,
					      st->q_core.jclock);
	}
	if (st->have_rr_w3) {
		x->core_far_reports = 1;
		x->core_far_lost = st->rr_w3.lost;
		x->core_far_fraction = st->rr_w3.fraction;
		x->core_far_jitter_us = rtpq_us(st->rr_w3.jitter,
						st->q_w3.jclock);
	}
}


/* One line per stream when a session ends: what it relayed */
static void stats_log(const struct agw_sess *s)
{
	struct le *le;

	for (le = s->streaml.head; le; le = le->next) {
		const struct agw_stream *st = le->data;
		struct agw_stats x;

		stream_stats(st, &x);
		log_info("session %s stream %u: browser->core %llu pkts "
			 "(%llu dropped, %llu SRTP failed, %lld of %lld lost, "
			 "jitter %u us), core->browser %llu pkts (%llu "
			 "dropped, %lld of %lld lost, jitter %u us)",
			 s->label, st->idx,
			 (unsigned long long)x.w3_pkts,
			 (unsigned long long)x.w3_dropped,
			 (unsigned long long)x.w3_srtp_failed,
			 (long long)x.w3_lost, (long long)x.w3_expected,
			 x.w3_jitter_us,
			 (unsigned long long)x.core_pkts,
			 (unsigned long long)x.core_dropped,
			 (long long)x.core_lost, (long long)x.core_expected,
			 x.core_jitter_us);
	}
}


static void destructor(void *arg)
{
	struct agw_sess *s = arg;
	struct agw_stats sum;

	stats_log(s);
	agw_sess_totals(s, &sum);

	/* gauges (jitter, fraction) describe live calls only */
	sum.w3_jitter_us = sum.core_jitter_us = 0;
	sum.w3_far_jitter_us = sum.core_far_jitter_us = 0;
	sum.w3_far_fraction = sum.core_far_fraction = 0;
	agw_stats_add(&s->agw->done, &sum);

	/* streams first: they point at transports */
	list_flush(&s->msrpl);
	list_flush(&s->streaml);
	list_flush(&s->w3l);
	list_unlink(&s->le);
	mem_deref(s->agw);
}


/**
 * Allocate a session: refused with EOVERFLOW at max_calls sessions,
 * unless it is an emergency call (which counts, but is never refused)
 *
 * @param sp        Returned session
 * @param agw       AGW
 * @param emergency Emergency call (Iq Emergency Call Indicator)
 * @param closeh    Called when the session ends on its own (optional)
 * @param arg       Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_sess_alloc(struct agw_sess **sp, struct agw *agw, bool emergency,
		   agw_close_h *closeh, void *arg)
{
	struct agw_sess *s;

	if (!sp || !agw)
		return EINVAL;

	if (!emergency && list_count(&agw->sessl) >= agw->conf.max_calls)
		return EOVERFLOW;

	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;

	s->agw       = mem_ref(agw);
	s->emergency = emergency;
	(void)re_snprintf(s->label, sizeof(s->label), "%u", ++agw->sess_seq);
	s->closeh    = closeh;
	s->arg       = arg;
	list_append(&agw->sessl, &s->le, s);

	*sp = s;

	return 0;
}


/**
 * End a session on its own: media stops, the owner is told once (it
 * may free the session from its handler)
 *
 * @param s      Session
 * @param reason Why
 */
void agw_sess_close(struct agw_sess *s, enum agw_close_reason reason)
{
	struct le *le;

	if (s->closed)
		return;

	s->closed = true;

	for (le = s->w3l.head; le; le = le->next) {
		struct agw_w3 *w3 = le->data;

		tmr_cancel(&w3->tmr_consent);
	}

	log_info("session %s closes (%s)", s->label,
		 reason == AGW_CLOSE_CONSENT ? "consent expired" :
		 reason == AGW_CLOSE_DTLS ? "DTLS failed" :
		 reason == AGW_CLOSE_DTLS_CLOSED ? "DTLS closed by the browser" :
		 "error");

	if (s->closeh)
		s->closeh(reason, s->arg);
}


/**
 * Find a W3 transport of a session
 *
 * @param s   Session
 * @param tid Transport id
 *
 * @return Transport, NULL if none
 */
struct agw_w3 *agw_sess_w3(const struct agw_sess *s, unsigned tid)
{
	struct le *le;

	for (le = s->w3l.head; le; le = le->next) {
		struct agw_w3 *w3 = le->data;

		if (w3->tid == tid)
			return w3;
	}

	return NULL;
}


/**
 * Find a stream of a session
 *
 * @param s   Session
 * @param idx Stream index (m-line)
 *
 * @return Stream, NULL if none
 */
struct agw_stream *agw_sess_stream_find(const struct agw_sess *s,
					unsigned idx)
{
	struct le *le;

	for (le = s->streaml.head; le; le = le->next) {
		struct agw_stream *st = le->data;

		if (st->idx == idx)
			return st;
	}

	return NULL;
}


/**
 * Set up a W3 transport, or update it (re-INVITE: the port stays; a
 * changed fingerprint, role or ICE credentials starts a new DTLS
 * association, changed ICE credentials also new local ones)
 *
 * @param s    Session
 * @param tid  Transport id
 * @param prm  Browser's parameters, NULL if not known yet (the AGW
 *             offers; see agw_sess_transport_remote())
 * @param info Returned parameters for the AGW's SDP (optional)
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_sess_transport(struct agw_sess *s, unsigned tid,
		       const struct agw_w3_prm *prm,
		       struct agw_w3_info *info)
{
	struct agw_w3 *w3;
	int err = 0;

	if (!s)
		return EINVAL;

	w3 = agw_sess_w3(s, tid);
	if (!w3) {
		err = agw_w3_alloc(&w3, s, tid);
		if (err)
			return err;
	}

	if (prm)
		err = agw_w3_remote(w3, prm, true);

	if (!err && info)
		agw_w3_info(w3, info);

	return err;
}


/**
 * Give a W3 transport the browser's parameters (its SDP answer)
 *
 * @param s   Session
 * @param tid Transport id
 * @param prm Browser's parameters
 *
 * @return 0 if success, ENOENT if no such transport, else errorcode
 */
int agw_sess_transport_remote(struct agw_sess *s, unsigned tid,
			      const struct agw_w3_prm *prm)
{
	struct agw_w3 *w3;

	if (!s || !prm)
		return EINVAL;

	w3 = agw_sess_w3(s, tid);
	if (!w3)
		return ENOENT;

	return agw_w3_remote(w3, prm, false);
}


static void stream_destructor(void *arg)
{
	struct agw_stream *st = arg;

	mem_deref(st->xc);
	mem_deref(st->rtt);
	agw_core_close(st);
	list_unlink(&st->le);
}


static int stream_prm(struct agw_stream *st,
		      const struct agw_stream_prm *prm)
{
	struct agw_w3 *w3 = agw_sess_w3(st->sess, prm->tid);
	size_t i;
	int err;

	if (!w3)
		return ENOENT;

	if (prm->ssrcc > AGW_SSRC_MAX || (prm->ssrcc && !prm->ssrcv) ||
	    (prm->ptc && !prm->ptv))
		return EINVAL;

	err = agw_core_mux(st, prm->core_rtcp_mux);
	if (err)
		return err;

	st->w3 = w3;
	st->dcrelay = prm->dcrelay;
	st->ssrcc = prm->ssrcc;
	for (i = 0; i < prm->ssrcc; i++)
		st->ssrcv[i] = prm->ssrcv[i];

	memset(st->ptmap, 0, sizeof(st->ptmap));
	for (i = 0; i < prm->ptc; i++) {
		uint8_t pt = prm->ptv[i] & 0x7f;

		st->ptmap[pt >> 5] |= 1u << (pt & 31);
	}

	/* the relay's clocks; a transcoding path has its own (xcode.c) */
	rtpq_pts_reset(&st->relay_pts);
	for (i = 0; prm->clockv && i < prm->ptc; i++)
		(void)rtpq_pt(&st->relay_pts, prm->ptv[i] & 0x7f,
			      prm->clockv[i]);
	if (!st->xc)
		st->q_w3.pts = st->q_core.pts = &st->relay_pts;

	return 0;
}


static int stream_new(struct agw_stream **stp, struct agw_sess *s,
		      unsigned idx, const struct agw_stream_prm *prm)
{
	struct agw_stream *st;
	int err;

	if (!agw_sess_w3(s, prm->tid))
		return ENOENT;

	st = mem_zalloc(sizeof(*st), stream_destructor);
	if (!st)
		return ENOMEM;

	st->sess     = s;
	st->idx      = idx;
	st->rtcp_mux = prm->core_rtcp_mux;
	st->dcrelay  = prm->dcrelay;

	err = agw_core_open(st, prm->core_peer);
	if (err)
		goto out;

	list_append(&s->streaml, &st->le, st);

 out:
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}


/**
 * Set up a stream (m-line) or update it (re-INVITE: the ports stay)
 *
 * @param s    Session
 * @param idx  Stream index
 * @param prm  Stream parameters (the transport must exist)
 * @param info Returned core-side addresses (optional)
 *
 * @return 0 if success, ENOSPC if the port pool is exhausted, ENOENT if
 *         the transport does not exist, otherwise errorcode
 */
int agw_sess_stream(struct agw_sess *s, unsigned idx,
		    const struct agw_stream_prm *prm,
		    struct agw_stream_info *info)
{
	struct agw_stream *st;
	bool is_new = false;
	int err;

	if (!s || !prm)
		return EINVAL;

	st = agw_sess_stream_find(s, idx);
	if (!st) {
		err = stream_new(&st, s, idx, prm);
		if (err)
			return err;

		is_new = true;
	}

	err = stream_prm(st, prm);
	if (err) {
		if (is_new)
			mem_deref(st);
		return err;
	}

	if (info) {
		const struct agw_conf *c = &s->agw->conf;

		agw_advertised(&info->rtp, &c->media_core_public,
			       &c->media_core_addr, st->port);
		agw_advertised(&info->rtcp, &c->media_core_public,
			       &c->media_core_addr, st->rtcp_mux ? st->port :
			       st->port + 1);
	}

	return 0;
}


/**
 * Set where the core receives a stream's media (its SDP); until a
 * packet from the core latches a source, media goes there
 *
 * @param s    Session
 * @param idx  Stream index
 * @param rtp  Core's RTP address
 * @param rtcp Core's RTCP address (NULL: RTP port + 1, or the RTP
 *             address if the core muxes)
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_sess_core_peer(struct agw_sess *s, unsigned idx,
		       const struct sa *rtp, const struct sa *rtcp)
{
	struct agw_stream *st;

	if (!s || !rtp)
		return EINVAL;

	st = agw_sess_stream_find(s, idx);
	if (!st)
		return ENOENT;

	agw_core_peer(st, rtp, rtcp);

	return 0;
}


/**
 * Allow or hold back core-to-browser RTP (D-38: a 2xx or an authorizing
 * P-Early-Media allows it); RTCP is not held back
 *
 * @param s       Session
 * @param allowed Let it through
 */
void agw_sess_early_media(struct agw_sess *s, bool allowed)
{
	if (!s)
		return;

	s->early = allowed;
}


/**
 * Get the packet counters of a stream
 *
 * @param s   Session
 * @param idx Stream index
 * @param st  Returned counters
 *
 * @return 0 if success, ENOENT if no such stream
 */
int agw_sess_stats(const struct agw_sess *s, unsigned idx,
		   struct agw_stats *st)
{
	const struct agw_stream *stream;

	if (!s || !st)
		return EINVAL;

	stream = agw_sess_stream_find(s, idx);
	if (!stream)
		return ENOENT;

	stream_stats(stream, st);

	return 0;
}


#ifndef IMSEDGE_TRANSCODE
/**
 * Put a stream on the transcoding path, or back on the relay
 *
 * @param s    Session
 * @param idx  Stream index
 * @param prm  What each side speaks; NULL: pass-through
 *
 * @return 0; ENOTSUP in a build without transcoding (TRANSCODE=0)
 */
int agw_sess_xcode(struct agw_sess *s, unsigned idx,
		   const struct agw_xcode_prm *prm)
{
	(void)s;
	(void)idx;

	return prm ? ENOTSUP : 0;
}


bool agw_xcode_enabled(const struct agw *agw)
{
	(void)agw;

	return false;
}
#endif
/**
 * Name a session in the logs (the call's id) instead of its number
 *
 * @param s     Session
 * @param label Label (truncated to 63 characters)
 */
void agw_sess_label(struct agw_sess *s, const char *label)
{
	if (s && label)
		str_ncpy(s->label, label, sizeof(s->label));
}


/**
 * Sum the counters of all streams of a session
 *
 * @param s   Session
 * @param sum Returned sums
 */
void agw_sess_totals(const struct agw_sess *s, struct agw_stats *sum)
{
	struct le *le;

	if (!sum)
		return;

	memset(sum, 0, sizeof(*sum));
	if (!s)
		return;

	for (le = s->streaml.head; le; le = le->next) {
		struct agw_stats x;

		stream_stats(le->data, &x);
		agw_stats_add(sum, &x);
	}
}


/**
 * Add counters to a sum (jitter and fraction lost: the highest)
 *
 * @param sum Sum
 * @param x   Counters to add
 */
void agw_stats_add(struct agw_stats *sum, const struct agw_stats *x)
{
	sum->w3_pkts        += x->w3_pkts;
	sum->w3_bytes       += x->w3_bytes;
	sum->w3_dropped     += x->w3_dropped;
	sum->w3_srtp_failed += x->w3_srtp_failed;
	sum->core_pkts      += x->core_pkts;
	sum->core_bytes     += x->core_bytes;
	sum->core_dropped   += x->core_dropped;
	sum->core_unlatched += x->core_unlatched;
	sum->w3_expected    += x->w3_expected;
	sum->w3_lost        += x->w3_lost;
	sum->core_expected  += x->core_expected;
	sum->core_lost      += x->core_lost;
	sum->w3_far_reports += x->w3_far_reports;
	sum->core_far_reports += x->core_far_reports;
	sum->w3_far_lost    += x->w3_far_lost;
	sum->core_far_lost  += x->core_far_lost;
	sum->w3_jitter_us   = MAX(sum->w3_jitter_us, x->w3_jitter_us);
	sum->core_jitter_us = MAX(sum->core_jitter_us, x->core_jitter_us);
	sum->w3_far_jitter_us = MAX(sum->w3_far_jitter_us,
				    x->w3_far_jitter_us);
	sum->core_far_jitter_us = MAX(sum->core_far_jitter_us,
				      x->core_far_jitter_us);
	sum->w3_far_fraction = MAX(sum->w3_far_fraction, x->w3_far_fraction);
	sum->core_far_fraction = MAX(sum->core_far_fraction,
				     x->core_far_fraction);
	if (!sum->srtp)
		sum->srtp = x->srtp;
}


/**
 * The AGW's counters since start: ended sessions and live ones
 *
 * @param agw AGW (may be NULL: zeros)
 * @param sum Returned sums
 */
void agw_totals(const struct agw *agw, struct agw_stats *sum)
{
	struct le *le;

	memset(sum, 0, sizeof(*sum));
	if (!agw)
		return;

	*sum = agw->done;
	for (le = agw->sessl.head; le; le = le->next) {
		struct agw_stats x;

		agw_sess_totals(le->data, &x);
		agw_stats_add(sum, &x);
	}
}

/**
 * @file xcode_jb.c  Adaptive reordering jitter buffer of the transcoding
 *                   path (issue 11: "a small adaptive jitter buffer in
 *                   the transcoding path only")
 *
 * What a decoder needs from a jitter buffer here is the packets in
 * sequence order, and a decision on each missing one: wait for it, or
 * conceal it (Opus PLC/FEC, AMR frame erasure: xcode.c does that for a
 * sequence gap). Playout timing stays with the far ends' own jitter
 * buffers (the browser's NetEq, the phone's): the AGW re-encodes as
 * packets come, so an in-order packet leaves at once (no added delay);
 * only a gap holds the packets after it, until the missing one comes
 * (they all leave, in order) or the wait runs out (the missing ones are
 * given up: a gap for the decoder).
 *
 * The wait adapts within XJB_MIN_MS..XJB_MAX_MS: a packet that comes
 * after it was given up (late) adds XJB_STEP_MS; XJB_CALM packets in a
 * row with none late take XJB_STEP_MS off. At most XJB_SLOTS packets of
 * up to XJB_PKT_MAX bytes are held, each in memory of its own size taken
 * only while it is held: a stream with nothing out of order costs the
 * slots' bookkeeping alone (issue 11's RSS per transcoded call). A packet
 * too big to hold (or with no memory to hold it), or too far ahead, ends
 * the wait at once. Duplicates, and packets older than what already
 * left, are dropped.
 *
 * Time is the caller's (ms, e.g. tmr_jiffies()): xjb_poll() gives up
 * what waited long enough and says when to call it again.
 */
#include <string.h>
#include <re.h>
#include "xcode_jb.h"

struct slot {
	bool used;
	uint16_t seq;
	uint16_t len;
	uint64_t at;                 /**< Arrival (ms)                     */
	uint8_t *p;                  /**< The packet, while held           */
};

struct xjb {
	xjb_h *h;
	void *arg;
	bool started;
	uint16_t next;               /**< Sequence number expected next    */
	unsigned held;
	uint32_t depth;              /**< The wait for a missing one (ms)  */
	uint32_t calm;               /**< In-time packets since a late one */
	uint64_t given;              /**< Bit i: next-1-i was given up     */
	struct xjb_stats stats;
	struct slot sv[XJB_SLOTS];
};


static uint16_t seq_of(const uint8_t *p)
{
	return (uint16_t)(p[2] << 8 | p[3]);
}


/* the next one leaves (sent, or given up if lost) */
static void advance(struct xjb *jb, bool lost)
{
	jb->given = jb->given << 1 | (lost ? 1 : 0);
	++jb->next;
	if (lost)
		++jb->stats.lost;
}


static void emit(struct xjb *jb, const uint8_t *p, size_t n)
{
	advance(jb, false);
	jb->h(p, n, jb->arg);
}


/* the held packet that is next, or NULL */
static struct slot *held_next(struct xjb *jb)
{
	struct slot *s = &jb->sv[jb->next % XJB_SLOTS];

	return jb->held && s->used && s->seq == jb->next ? s : NULL;
}


static void emit_slot(struct xjb *jb, struct slot *s)
{
	uint8_t *p = s->p;

	s->used = false;
	s->p = NULL;
	--jb->held;
	emit(jb, p, s->len);
	mem_deref(p);
}


/* what is held from next on, in order, up to the first gap */
static void drain(struct xjb *jb)
{
	struct slot *s;

	while ((s = held_next(jb)))
		emit_slot(jb, s);
}


/* up to seq: what is held leaves, what is missing is given up */
static void skip_to(struct xjb *jb, uint16_t seq)
{
	struct slot *s;

	while (jb->next != seq) {
		s = held_next(jb);
		if (s)
			emit_slot(jb, s);
		else
			advance(jb, true);
	}
}


/* give up what is missing before the first held packet, send it and
   what follows it in order */
static void give_up(struct xjb *jb)
{
	unsigned i;

	for (i = 0; jb->held && i < XJB_SLOTS; i++) {
		if (held_next(jb))
			break;
		advance(jb, true);
	}

	drain(jb);
}


static void adapt(struct xjb *jb, bool late)
{
	if (late) {
		jb->calm = 0;
		jb->depth = min(jb->depth + XJB_STEP_MS, (uint32_t)XJB_MAX_MS);
		return;
	}

	if (++jb->calm >= XJB_CALM && jb->depth > XJB_MIN_MS) {
		jb->depth -= XJB_STEP_MS;
		jb->calm = 0;
	}
}


/* behind next: late (given up before) or a duplicate */
static void behind(struct xjb *jb, uint16_t seq)
{
	uint16_t age = (uint16_t)(jb->next - 1 - seq);

	if (age < 64 && (jb->given & (1ull << age))) {
		jb->given &= ~(1ull << age);
		++jb->stats.late;
		adapt(jb, true);
	}
	else {
		++jb->stats.dup;
	}
}


/**
 * Put a received RTP packet in (its header checked by the caller); what
 * may leave, leaves (the handler is called)
 *
 * @param jb   Jitter buffer
 * @param p    RTP packet
 * @param n    Its length
 * @param now  Time (ms)
 */
void xjb_put(struct xjb *jb, const uint8_t *p, size_t n, uint64_t now)
{
	struct slot *s;
	uint16_t seq, d;

	if (!jb || !p || n < 12)
		return;

	seq = seq_of(p);
	if (!jb->started) {
		jb->started = true;
		jb->next = seq;
	}

	d = (uint16_t)(seq - jb->next);
	if (d >= 0x8000) {
		behind(jb, seq);
		return;
	}

	if (!d) {
		if (jb->held)
			++jb->stats.reordered;
		emit(jb, p, n);
		drain(jb);
		adapt(jb, false);
		return;
	}

	s = &jb->sv[seq % XJB_SLOTS];
	if (d < XJB_SLOTS && s->used) {
		++jb->stats.dup;
		return;
	}

	if (d < XJB_SLOTS && n <= XJB_PKT_MAX)
		s->p = mem_alloc(n, NULL);

	if (d >= XJB_SLOTS || n > XJB_PKT_MAX || !s->p) {
		/* too far ahead (a long loss, a jump) or too big (or no
		   memory) to hold: no more waiting for what is missing before
		   it */
		if (n > XJB_PKT_MAX || (d < XJB_SLOTS && !s->p))
			++jb->stats.big;
		if (d < XJB_JUMP) {
			skip_to(jb, seq);
		}
		else {  /* a jump: a new sequence, nothing counted lost */
			while (jb->held)
				give_up(jb);
			jb->next = seq;
			jb->given = 0;
		}
		emit(jb, p, n);
		drain(jb);
		return;
	}

	memcpy(s->p, p, n);
	s->seq = seq;
	s->len = (uint16_t)n;
	s->at = now;
	s->used = true;
	++jb->held;
}


/**
 * Give up what waited long enough (the packets after it leave)
 *
 * @param jb   Jitter buffer
 * @param now  Time (ms)
 *
 * @return When to poll again (ms, the caller's clock), 0: nothing held
 */
uint64_t xjb_poll(struct xjb *jb, uint64_t now)
{
	uint64_t first;
	unsigned i;

	if (!jb)
		return 0;

	while (jb->held) {
		first = UINT64_MAX;
		for (i = 0; i < XJB_SLOTS; i++) {
			if (jb->sv[i].used)
				first = min(first, jb->sv[i].at);
		}

		if (now < first + jb->depth)
			return first + jb->depth;

		give_up(jb);
	}

	return 0;
}


/**
 * Drop what is held and start again with the next packet (a new
 * sender); the wait is kept
 *
 * @param jb  Jitter buffer
 */
void xjb_reset(struct xjb *jb)
{
	unsigned i;

	if (!jb)
		return;

	for (i = 0; i < XJB_SLOTS; i++) {
		jb->sv[i].used = false;
		jb->sv[i].p = mem_deref(jb->sv[i].p);
	}
	jb->held = 0;
	jb->started = false;
	jb->given = 0;
}


/**
 * The wait for a missing packet now
 *
 * @param jb  Jitter buffer
 *
 * @return ms
 */
uint32_t xjb_depth(const struct xjb *jb)
{
	return jb ? jb->depth : 0;
}


/**
 * What the buffer did
 *
 * @param jb  Jitter buffer
 *
 * @return Counters (NULL for no buffer)
 */
const struct xjb_stats *xjb_stats(const struct xjb *jb)
{
	return jb ? &jb->stats : NULL;
}


static void destructor(void *arg)
{
	struct xjb *jb = arg;
	unsigned i;

	for (i = 0; i < XJB_SLOTS; i++)
		mem_deref(jb->sv[i].p);
}


/**
 * Allocate a jitter buffer
 *
 * @param jbp  Jitter buffer (out)
 * @param h    Called for each packet that leaves, in order
 * @param arg  Its argument
 *
 * @return 0, EINVAL or ENOMEM
 */
int xjb_alloc(struct xjb **jbp, xjb_h *h, void *arg)
{
	struct xjb *jb;

	if (!jbp || !h)
		return EINVAL;

	jb = mem_zalloc(sizeof(*jb), destructor);
	if (!jb)
		return ENOMEM;

	jb->h = h;
	jb->arg = arg;
	jb->depth = XJB_MIN_MS;
	*jbp = jb;

	return 0;
}

/**
 * @file dc.c  Tests for data channels: the DCEP codec, and two usrsctp
 *             associations in one process (a DTLS client and server
 *             side) whose SCTP packets are passed between them from the
 *             main loop, as DTLS would carry them
 */
#include <string.h>
#include <re.h>
#include "dc/dc.h"
#include "test.h"

/* the SCTP tests need usrsctp: not built with DATACHANNEL=0 (main.c) */
#ifndef IMSEDGE_NO_DATACHANNEL
enum {
	GUARD_MS = 30000,
	POLL_MS  = 5,
	MAX_MSG  = 4096,
	CHANS    = 3,
};

struct peer {
	struct dc_assoc *a;
	struct peer *other;
	struct list q;               /* packets on their way to other */
	struct tmr tmr;
	unsigned sent;
	unsigned drop_every;         /* lose every n-th packet (0: none) */
	unsigned opened;             /* OPENs from the peer accepted */
	uint16_t open_sid;
	char open_label[DC_LABEL_MAX + 1];
	char open_proto[DC_LABEL_MAX + 1];
	unsigned rx;                 /* messages received */
	uint16_t rx_sid;
	enum dc_ppid rx_ppid;
	struct mbuf *rx_last;
	unsigned chclosed;
	uint16_t chclosed_sid;
	bool closed;
	int close_err;
};

struct pkt {
	struct le le;
	size_t n;
	uint8_t p[];
};

static struct {
	struct tmr poll;
	struct tmr guard;
	bool (*cond)(void);
	bool timeout;
} loop;

static struct peer pa, pb;


static void pkt_destructor(void *arg)
{
	struct pkt *k = arg;

	list_unlink(&k->le);
}


static void deliver(void *arg)
{
	struct peer *pe = arg;
	struct le *le;

	while ((le = list_head(&pe->q))) {
		struct pkt *k = le->data;

		if (pe->a)
			dc_assoc_input(pe->a, k->p, k->n);
		mem_deref(k);
	}
}


static int send_h(const uint8_t *p, size_t n, void *arg)
{
	struct peer *pe = arg;
	struct peer *to = pe->other;
	struct pkt *k;

	++pe->sent;
	if (pe->drop_every && pe->sent % pe->drop_every == 0)
		return 0;

	k = mem_zalloc(sizeof(*k) + n, pkt_destructor);
	if (!k)
		return ENOMEM;

	memcpy(k->p, p, n);
	k->n = n;
	list_append(&to->q, &k->le, k);
	tmr_start(&to->tmr, 0, deliver, to);

	return 0;
}


static bool open_h(const struct dc_chan_info *ci, void *arg)
{
	struct peer *pe = arg;

	++pe->opened;
	pe->open_sid = ci->sid;
	str_ncpy(pe->open_label, ci->label, sizeof(pe->open_label));
	str_ncpy(pe->open_proto, ci->proto, sizeof(pe->open_proto));

	return true;
}


static void recv_h(uint16_t sid, enum dc_ppid ppid, const uint8_t *p,
		   size_t n, void *arg)
{
	struct peer *pe = arg;

	++pe->rx;
	pe->rx_sid = sid;
	pe->rx_ppid = ppid;
	mem_deref(pe->rx_last);
	pe->rx_last = mbuf_alloc(n + 1);
	if (pe->rx_last)
		(void)mbuf_write_mem(pe->rx_last, p, n);
}


static void chclose_h(uint16_t sid, void *arg)
{
	struct peer *pe = arg;

	++pe->chclosed;
	pe->chclosed_sid = sid;
}


static void close_h(int err, void *arg)
{
	struct peer *pe = arg;

	pe->closed = true;
	pe->close_err = err;
}


static void poll_h(void *arg)
{
	(void)arg;

	if (loop.cond()) {
		re_cancel();
		return;
	}

	tmr_start(&loop.poll, POLL_MS, poll_h, NULL);
}


static void guard_h(void *arg)
{
	(void)arg;

	loop.timeout = true;
	re_cancel();
}


/* Run the loop until cond() holds: 0, or ETIMEDOUT */
static int run_until(bool (*cond)(void))
{
	loop.cond = cond;
	loop.timeout = false;
	tmr_start(&loop.poll, 0, poll_h, NULL);
	tmr_start(&loop.guard, GUARD_MS, guard_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&loop.poll);
	tmr_cancel(&loop.guard);

	return loop.timeout ? ETIMEDOUT : 0;
}


static int pair_start(uint32_t max_channels, unsigned drop_every)
{
	static const struct dc_handlers h = {
		send_h, open_h, recv_h, chclose_h, close_h
	};
	struct dc_conf c;
	int err;

	memset(&pa, 0, sizeof(pa));
	memset(&pb, 0, sizeof(pb));
	pa.other = &pb;
	pb.other = &pa;
	pa.drop_every = pb.drop_every = drop_every;
	tmr_init(&pa.tmr);
	tmr_init(&pb.tmr);
	tmr_init(&loop.poll);
	tmr_init(&loop.guard);

	memset(&c, 0, sizeof(c));
	c.max_channels = max_channels;
	c.max_message  = MAX_MSG;
	c.max_send     = 4 * MAX_MSG;   /* to test the receiver's limit */
	c.local_port   = DC_SCTP_PORT;
	c.remote_port  = DC_SCTP_PORT;

	err = dc_assoc_alloc(&pa.a, &c, true, &h, &pa);
	if (!err)
		err = dc_assoc_alloc(&pb.a, &c, false, &h, &pb);
	if (!err)
		err = dc_assoc_start(pa.a);
	if (!err)
		err = dc_assoc_start(pb.a);

	return err;
}


static void peer_free(struct peer *pe)
{
	tmr_cancel(&pe->tmr);
	pe->a = mem_deref(pe->a);
	list_flush(&pe->q);
	pe->rx_last = mem_deref(pe->rx_last);
}


static void pair_stop(void)
{
	peer_free(&pa);
	peer_free(&pb);
	dc_close();
}


static bool both_up(void)
{
	return dc_assoc_up(pa.a) && dc_assoc_up(pb.a);
}


static bool b_opened(void)
{
	return pb.opened > 0;
}


static bool a_opened(void)
{
	return pa.opened > 0;
}


static bool b_got(void)
{
	return pb.rx > 0;
}


static bool a_got(void)
{
	return pa.rx > 0;
}


static bool b_chclosed(void)
{
	return pb.chclosed > 0;
}


static bool none_open(void)
{
	struct dc_stats sa, sb;

	dc_assoc_stats(pa.a, &sa);
	dc_assoc_stats(pb.a, &sb);

	return !sa.channels && !sb.channels;
}


static bool rx_is(const struct peer *pe, const char *s)
{
	return pe->rx_last && pe->rx_last->end == strlen(s) &&
		!memcmp(pe->rx_last->buf, s, strlen(s));
}

#endif /* IMSEDGE_NO_DATACHANNEL */


int test_dcep_codec(void)
{
	static const uint8_t ack[] = {0x02};
	static const uint8_t bad[][16] = {
		/* lengths do not add up */
		{0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 'a'},
		/* unknown channel type */
		{0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 'a'},
		/* invalid UTF-8 in the label */
		{0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xff},
		/* NUL in the protocol */
		{0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x00},
	};
	static const size_t badn[] = {13, 13, 13, 13};
	struct dcep_open o, d;
	struct mbuf *mb;
	enum dcep_type t;
	size_t i;
	int err;

	mb = mbuf_alloc(64);
	TEST_ASSERT(mb);

	memset(&o, 0, sizeof(o));
	o.type = 0x81;
	o.priority = 256;
	o.rel = 3;
	pl_set_str(&o.label, "chat \xc3\xbc");
	pl_set_str(&o.proto, "msrp");
	TEST_ERR(dcep_encode_open(mb, &o));
	TEST_EQ(mb->end, 12 + 7 + 4);

	TEST_ERR(dcep_decode(&t, &d, mb->buf, mb->end));
	TEST_EQ(t, DCEP_OPEN);
	TEST_EQ(d.type, 0x81);
	TEST_EQ(d.priority, 256);
	TEST_EQ(d.rel, 3);
	TEST_ASSERT(!pl_strcmp(&d.label, "chat \xc3\xbc"));
	TEST_ASSERT(!pl_strcmp(&d.proto, "msrp"));

	/* one byte more or less than the lengths say */
	TEST_EQ(dcep_decode(&t, &d, mb->buf, mb->end - 1), EBADMSG);
	TEST_ERR(mbuf_write_u8(mb, 0));
	TEST_EQ(dcep_decode(&t, &d, mb->buf, mb->end), EBADMSG);

	TEST_ERR(dcep_decode(&t, &d, ack, sizeof(ack)));
	TEST_EQ(t, DCEP_ACK);
	TEST_EQ(dcep_decode(&t, &d, mb->buf, 2), EBADMSG);
	TEST_EQ(dcep_decode(&t, &d, ack, 0), EBADMSG);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		TEST_ASSERT(dcep_decode(&t, &d, bad[i], badn[i]) != 0);
	}

	/* unknown message type */
	TEST_EQ(dcep_decode(&t, &d, (const uint8_t *)"\x04", 1), EPROTO);

	/* a label over DC_LABEL_MAX */
	mb->pos = mb->end = 0;
	TEST_ERR(mbuf_write_u8(mb, 0x03));
	TEST_ERR(mbuf_fill(mb, 0, 7));
	TEST_ERR(mbuf_write_u16(mb, htons(DC_LABEL_MAX + 1)));
	TEST_ERR(mbuf_write_u16(mb, 0));
	TEST_ERR(mbuf_fill(mb, 'x', DC_LABEL_MAX + 1));
	TEST_EQ(dcep_decode(&t, &d, mb->buf, mb->end), EMSGSIZE);

 out:
	mem_deref(mb);
	return err;
}


#ifndef IMSEDGE_NO_DATACHANNEL

/* D-43: OPEN -> ACK; messages both ways, byte-exact; D-46: close by a
   stream reset in both directions */
int test_dc_open_send_close(void)
{
	static const char hello[] = "hello \xe2\x82\xac \xf0\x9f\x98\x80";
	uint16_t sid = 0xffff;
	int err;

	TEST_ERR(pair_start(CHANS, 0));
	TEST_ERR(run_until(both_up));

	TEST_ERR(dc_chan_open(pa.a, &sid, "chat", "msrp"));
	TEST_EQ(sid % 2, 0);          /* DTLS client: even */
	TEST_ERR(run_until(b_opened));
	TEST_EQ(pb.open_sid, sid);
	TEST_STREQ(pb.open_label, "chat");
	TEST_STREQ(pb.open_proto, "msrp");

	TEST_ERR(dc_chan_send(pa.a, sid, false, (const uint8_t *)hello,
			      strlen(hello)));
	TEST_ERR(run_until(b_got));
	TEST_EQ(pb.rx_sid, sid);
	TEST_EQ(pb.rx_ppid, DC_PPID_STRING);
	TEST_ASSERT(rx_is(&pb, hello));

	/* the answer on the same stream, binary, and an empty one */
	TEST_ERR(dc_chan_send(pb.a, sid, true, (const uint8_t *)"\0\1", 2));
	TEST_ERR(run_until(a_got));
	TEST_EQ(pa.rx_ppid, DC_PPID_BINARY);
	TEST_EQ(pa.rx_last->end, 2);
	TEST_ERR(dc_chan_send(pb.a, sid, false, NULL, 0));
	pa.rx = 0;
	TEST_ERR(run_until(a_got));
	TEST_EQ(pa.rx_ppid, DC_PPID_STRING);
	TEST_EQ(pa.rx_last->end, 0);

	/* A closes: B hears of it, resets back; both forget the channel */
	TEST_ERR(dc_chan_close(pa.a, sid));
	TEST_ERR(run_until(b_chclosed));
	TEST_EQ(pb.chclosed_sid, sid);
	TEST_ERR(run_until(none_open));
	TEST_EQ(pa.chclosed, 0);      /* closed by A itself: no handler */
	TEST_ASSERT(!dc_chan_info(pb.a, sid));
	TEST_EQ(dc_chan_send(pa.a, sid, false, (const uint8_t *)"x", 1),
		ENOENT);

	/* the id can be used again, from the other side's range too */
	TEST_ERR(dc_chan_open(pb.a, &sid, "again", ""));
	TEST_EQ(sid % 2, 1);
	TEST_ERR(run_until(a_opened));
	TEST_EQ(pa.open_sid, sid);
	TEST_ASSERT(!pa.closed && !pb.closed);

 out:
	pair_stop();
	return err;
}


static bool a_opened_all(void)
{
	return pa.opened == CHANS;
}


/* Limits: no channel beyond one's own max_channels (EOVERFLOW), a
   message beyond max_message closes its channel at the receiver, the
   sender's own limit is EMSGSIZE */
int test_dc_limits(void)
{
	uint16_t sidv[CHANS + 1];
	struct mbuf *big = NULL;
	size_t i;
	int err;

	TEST_ERR(pair_start(CHANS, 0));
	TEST_ERR(run_until(both_up));

	/* B's own limit */
	for (i = 0; i < CHANS; i++)
		TEST_ERR(dc_chan_open(pb.a, &sidv[i], "c", ""));
	TEST_EQ(dc_chan_open(pb.a, &sidv[i], "c", ""), EOVERFLOW);

	TEST_ERR(run_until(a_opened_all));

	big = mbuf_alloc(MAX_MSG + 1);
	TEST_ASSERT(big);
	TEST_ERR(mbuf_fill(big, 'x', MAX_MSG + 1));

	/* what A accepts; A's message over its limit is closed at B */
	TEST_EQ(dc_chan_send(pb.a, sidv[1], false, big->buf, 4 * MAX_MSG + 1),
		EMSGSIZE);
	TEST_ERR(dc_chan_send(pb.a, sidv[1], false, big->buf, big->end));
	TEST_ERR(run_until(b_chclosed));
	TEST_EQ(pb.chclosed_sid, sidv[1]);
	TEST_EQ(pa.rx, 0);

	/* exactly the limit passes */
	TEST_ERR(dc_chan_send(pb.a, sidv[2], true, big->buf, MAX_MSG));
	TEST_ERR(run_until(a_got));
	TEST_EQ(pa.rx_last->end, MAX_MSG);

 out:
	mem_deref(big);
	pair_stop();
	return err;
}


static bool chan_refused(void)
{
	struct dc_stats st;

	dc_assoc_stats(pb.a, &st);

	return st.refused > 0 && pa.chclosed > 0;
}


/* A peer over max_channels: the OPEN is answered by a stream reset,
   and the opener sees its channel closed */
int test_dc_refuse(void)
{
	uint16_t sid;
	int err;

	TEST_ERR(pair_start(2, 0));
	TEST_ERR(run_until(both_up));
	TEST_ERR(dc_chan_negotiated(pb.a, 2, "n", ""));
	TEST_ERR(dc_chan_open(pb.a, &sid, "b", ""));
	TEST_ERR(run_until(a_opened));

	/* B now has 2 of 2, A 1 of 2; A opens one: B refuses it */
	TEST_ERR(dc_chan_open(pa.a, &sid, "refused", ""));
	TEST_ERR(run_until(chan_refused));
	TEST_EQ(pa.chclosed_sid, sid);
	TEST_EQ(pb.opened, 0);

 out:
	pair_stop();
	return err;
}


/* D-44: a channel agreed in SDP carries messages without DCEP */
int test_dc_negotiated(void)
{
	int err;

	TEST_ERR(pair_start(CHANS, 0));
	TEST_ERR(dc_chan_negotiated(pa.a, 7, "t140", "t140"));
	TEST_ERR(dc_chan_negotiated(pb.a, 7, "t140", "t140"));
	TEST_EQ(dc_chan_negotiated(pb.a, 7, "t140", "t140"), EADDRINUSE);
	TEST_ERR(run_until(both_up));

	TEST_ERR(dc_chan_send(pa.a, 7, false, (const uint8_t *)"abc", 3));
	TEST_ERR(run_until(b_got));
	TEST_ASSERT(rx_is(&pb, "abc"));
	TEST_EQ(pb.opened, 0);        /* no DCEP OPEN went */

 out:
	pair_stop();
	return err;
}


static bool b_got_3(void)
{
	return pb.rx >= 3;
}


/* Lost packets are retransmitted from usrsctp's timers (libre loop) */
int test_dc_loss(void)
{
	static const char *msgs[] = {"one", "two", "three"};
	uint16_t sid;
	size_t i;
	int err;

	TEST_ERR(pair_start(CHANS, 3));
	TEST_ERR(run_until(both_up));
	TEST_ERR(dc_chan_open(pa.a, &sid, "l", ""));

	for (i = 0; i < ARRAY_SIZE(msgs); i++)
		TEST_ERR(dc_chan_send(pa.a, sid, false,
				      (const uint8_t *)msgs[i],
				      strlen(msgs[i])));

	TEST_ERR(run_until(b_got_3));
	TEST_ASSERT(rx_is(&pb, "three"));  /* ordered */

 out:
	pair_stop();
	return err;
}

#endif /* IMSEDGE_NO_DATACHANNEL */

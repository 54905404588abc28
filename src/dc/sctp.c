/**
 * @file sctp.c  usrsctp on the libre loop: no threads, AF_CONN, timers
 *               from a libre timer, deliveries queued for the loop
 *
 * usrsctp is initialised when the first association is made and shut
 * down by dc_close(). Its output callback finds the association by the
 * AF_CONN address (the association itself) in the list of live ones,
 * so a packet usrsctp still emits for one already freed is dropped.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include <usrsctp.h>
#include "../core/log.h"
#include "dc.h"
#include "dc_int.h"

#define LOG_MODULE "dc"

enum {
	IDLE_TICKS = 250,            /**< Tick on this long after the last
					association (usrsctp frees
					sockets from its timers)        */
};

static struct {
	struct list assocl;
	struct tmr tmr;
	uint64_t last;
	uint32_t idle;
	bool inited;
} g;


static bool live(const struct dc_assoc *a)
{
	struct le *le;

	for (le = g.assocl.head; le; le = le->next) {
		if (le->data == a)
			return true;
	}

	return false;
}


static int conn_output(void *addr, void *buf, size_t len, uint8_t tos,
		       uint8_t set_df)
{
	struct dc_assoc *a = addr;

	(void)tos;
	(void)set_df;

	if (!live(a) || a->closed)
		return 0;

	(void)a->h.sendh(buf, len, a->arg);

	return 0;
}


static void tick(void *arg)
{
	const uint64_t now = tmr_jiffies();
	const uint64_t dt = now - g.last;

	(void)arg;

	g.last = now;
	usrsctp_handle_timers((uint32_t)min(dt, 1000u));

	if (g.assocl.head)
		g.idle = 0;
	else if (++g.idle > IDLE_TICKS)
		return;

	tmr_start(&g.tmr, DC_TICK_MS, tick, NULL);
}


static void init(void)
{
	if (g.inited)
		return;

	usrsctp_init_nothreads(0, conn_output, NULL);

	/* as browsers: no ECN, ASCONF or AUTH; SACK at once when asked */
	usrsctp_sysctl_set_sctp_ecn_enable(0);
	usrsctp_sysctl_set_sctp_asconf_enable(0);
	usrsctp_sysctl_set_sctp_auth_enable(0);
	usrsctp_sysctl_set_sctp_enable_sack_immediately(1);

	tmr_init(&g.tmr);
	g.inited = true;
}


/**
 * Handle one delivery from usrsctp and free it (fuzzing calls it too)
 *
 * @param a Association
 * @param m Delivery (data from malloc(), taken)
 */
void dc_msg_handle(struct dc_assoc *a, struct dc_msg *m)
{
	if (!m->data)
		dc_assoc_fail(a, 0);
	else if (m->flags & MSG_NOTIFICATION)
		dc_assoc_notify(a, m);
	else
		dc_chan_data(a, m);

	free(m->data);
	free(m);
}


static void rx_process(void *arg)
{
	struct dc_assoc *a = arg;
	struct le *le;

	mem_ref(a);

	while (!a->closed && (le = list_head(&a->rxq))) {
		struct dc_msg *m = le->data;

		list_unlink(&m->le);
		a->rxq_bytes -= m->len;
		dc_msg_handle(a, m);
	}

	if (!a->closed && a->rxq_over)
		dc_assoc_fail(a, ENOBUFS);

	if (!a->closed)
		dc_chan_flush_resets(a);

	mem_deref(a);
}


static int receive_cb(struct socket *sock, union sctp_sockstore addr,
		      void *data, size_t len, struct sctp_rcvinfo rcv,
		      int flags, void *ulp)
{
	struct dc_assoc *a = ulp;
	struct dc_msg *m;

	(void)sock;
	(void)addr;

	if (!live(a) || a->rxq_over)
		goto drop;

	if (a->rxq_bytes + len > a->conf.max_buffered + a->conf.max_message) {
		a->rxq_over = true;
		goto drop;
	}

	m = calloc(1, sizeof(*m));
	if (!m) {
		a->rxq_over = true;
		goto drop;
	}

	m->data  = data;
	m->len   = data ? len : 0;
	m->sid   = rcv.rcv_sid;
	m->ppid  = ntohl(rcv.rcv_ppid);
	m->flags = flags;
	list_append(&a->rxq, &m->le, m);
	a->rxq_bytes += m->len;
	tmr_start(&a->tmr_rx, 0, rx_process, a);

	return 1;

 drop:
	free(data);
	if (live(a))
		tmr_start(&a->tmr_rx, 0, rx_process, a);

	return 1;
}


static int sockopt(struct socket *s, int level, int name, const void *v,
		   socklen_t len)
{
	return usrsctp_setsockopt(s, level, name, v, len) ? errno : 0;
}


static int sock_setup(struct dc_assoc *a)
{
	static const uint16_t events[] = {
		SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT,
		SCTP_SEND_FAILED_EVENT,
	};
	const int one = 1;
	const int buf = (int)max(a->conf.max_buffered, (uint32_t)DC_BUF_MIN);
	struct linger lg = {1, 0};
	struct sctp_assoc_value av = {SCTP_ALL_ASSOC,
				      SCTP_ENABLE_RESET_STREAM_REQ};
	struct sctp_initmsg im;
	struct sctp_event ev;
	size_t i;
	int err;

	if (usrsctp_set_non_blocking(a->sock, 1))
		return errno;

	memset(&im, 0, sizeof(im));
	im.sinit_num_ostreams  = DC_STREAMS;
	im.sinit_max_instreams = DC_STREAMS;

	err  = sockopt(a->sock, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	err |= sockopt(a->sock, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	err |= sockopt(a->sock, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	err |= sockopt(a->sock, IPPROTO_SCTP, SCTP_NODELAY, &one,
		       sizeof(one));
	err |= sockopt(a->sock, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av,
		       sizeof(av));
	err |= sockopt(a->sock, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof(im));

	for (i = 0; !err && i < ARRAY_SIZE(events); i++) {
		memset(&ev, 0, sizeof(ev));
		ev.se_assoc_id = SCTP_ALL_ASSOC;
		ev.se_type = events[i];
		ev.se_on = 1;
		err = sockopt(a->sock, IPPROTO_SCTP, SCTP_EVENT, &ev,
			      sizeof(ev));
	}

	return err ? EPROTO : 0;
}


/**
 * Give an association its usrsctp socket (initialising usrsctp first)
 *
 * @param a Association
 *
 * @return 0 if success, otherwise errorcode
 */
int dc_sctp_attach(struct dc_assoc *a)
{
	struct sockaddr_conn sc;
	int err;

	init();

	a->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP,
				 receive_cb, NULL, 0, a);
	if (!a->sock)
		return errno ? errno : ENOMEM;

	list_append(&g.assocl, &a->le, a);
	usrsctp_register_address(a);

	err = sock_setup(a);
	if (err)
		return err;

	memset(&sc, 0, sizeof(sc));
	sc.sconn_family = AF_CONN;
#ifdef HAVE_SCONN_LEN
	sc.sconn_len = sizeof(sc);
#endif
	sc.sconn_port = htons(a->conf.local_port);
	sc.sconn_addr = a;

	if (usrsctp_bind(a->sock, (struct sockaddr *)&sc, sizeof(sc)))
		return errno;

	if (!tmr_isrunning(&g.tmr)) {
		g.last = tmr_jiffies();
		tmr_start(&g.tmr, DC_TICK_MS, tick, NULL);
	}

	return 0;
}


/**
 * Close an association's socket (an ABORT if it is up) and forget it
 *
 * @param a Association
 */
void dc_sctp_detach(struct dc_assoc *a)
{
	if (a->sock) {
		usrsctp_close(a->sock);
		a->sock = NULL;
	}

	if (live(a)) {
		usrsctp_deregister_address(a);
		list_unlink(&a->le);
	}
}


/** Free queued deliveries */
void dc_msg_flush(struct list *q)
{
	struct le *le;

	while ((le = list_head(q))) {
		struct dc_msg *m = le->data;

		list_unlink(&m->le);
		free(m->data);
		free(m);
	}
}


/**
 * Shut usrsctp down (at exit, every association freed)
 */
void dc_close(void)
{
	int i;

	if (!g.inited)
		return;

	tmr_cancel(&g.tmr);

	/* usrsctp_finish() refuses while sockets remain; let timers run */
	for (i = 0; i < 200 && usrsctp_finish(); i++)
		usrsctp_handle_timers(50);

	if (i == 200)
		log_warn("usrsctp did not shut down");

	g.inited = false;
}

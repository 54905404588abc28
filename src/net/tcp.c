/**
 * @file tcp.c  Listening and accepting on libre's TCP sockets, as the
 *              W2 and WWSF servers both want it
 */
#include <re.h>
#include "net.h"


/**
 * Listen for TCP connections with a backlog of the caller's choosing:
 * libre's tcp_listen() has 5, so a burst of browsers (a page reload
 * across an office) would see SYNs dropped
 *
 * @param tsp     Returned TCP socket
 * @param local   Local address to bind to
 * @param backlog Connections the kernel may queue before accept
 * @param ch      Connect handler (accept or reject in it)
 * @param arg     Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int net_tcp_listen(struct tcp_sock **tsp, const struct sa *local,
		   int backlog, tcp_conn_h *ch, void *arg)
{
	struct tcp_sock *ts = NULL;
	int err;

	if (!tsp || !local || backlog < 1)
		return EINVAL;

	err = tcp_sock_alloc(&ts, local, ch, arg);
	if (!err)
		err = tcp_sock_bind(ts, local);
	if (!err)
		err = tcp_sock_listen(ts, backlog);

	if (err)
		mem_deref(ts);
	else
		*tsp = ts;

	return err;
}


/**
 * Accept an incoming TCP connection with TCP_NODELAY (see
 * net_tcp_nodelay); on failure the connection is rejected here
 *
 * @param tcp Returned TCP connection
 * @param ts  Listening socket (in its connect handler)
 * @param eh  Established handler
 * @param rh  Receive handler
 * @param ch  Close handler
 * @param arg Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int net_tcp_accept(struct tcp_conn **tcp, struct tcp_sock *ts,
		   tcp_estab_h *eh, tcp_recv_h *rh, tcp_close_h *ch,
		   void *arg)
{
	int err;

	err = tcp_accept(tcp, ts, eh, rh, ch, arg);
	if (err) {
		tcp_reject(ts);
		return err;
	}

	(void)net_tcp_nodelay(tcp_conn_fd(*tcp));

	return 0;
}

/**
 * @file net.c  Socket options (POSIX and lwIP sockets)
 */
#include <errno.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <re.h>
#include "net.h"


/**
 * Send small writes at once (no Nagle): a TLS flight or a SIP message
 * is written whole, so waiting for an ACK only adds a delayed-ACK stall
 *
 * @param fd TCP socket
 *
 * @return 0 if success, otherwise errorcode
 */
int net_tcp_nodelay(int fd)
{
	int on = 1;

	if (fd < 0)
		return EBADF;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)))
		return errno;

	return 0;
}

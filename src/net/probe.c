/**
 * @file probe.c  Can this host bind an address? (imsedge -t)
 */
#include <re.h>
#include "net.h"
#include "net_sys.h"


/**
 * Bind a socket to an address and close it again: tells whether the
 * address is one of this host's and the port is free. TCP sockets also
 * listen (with SO_REUSEADDR, as the servers do, so only a listening
 * socket makes the port busy, not connections in TIME_WAIT).
 *
 * @param addr Address (port 0: any port)
 * @param tcp  true for TCP, false for UDP
 *
 * @return 0 if it binds, else the errno (EADDRINUSE, EADDRNOTAVAIL, ...)
 */
int net_bind_probe(const struct sa *addr, bool tcp)
{
	int fd, on = 1, err = 0;

	if (!addr || (sa_af(addr) != AF_INET && sa_af(addr) != AF_INET6))
		return EINVAL;

	fd = net_sys_socket(sa_af(addr), tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0)
		return errno;

	if (tcp)
		(void)net_sys_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
					 sizeof(on));

	if (net_sys_bind(fd, &addr->u.sa, addr->len) < 0)
		err = errno;
#ifndef NET_LWIP
	else if (tcp && listen(fd, 1) < 0)
		err = errno;
#endif

	(void)net_sys_close(fd);
	return err;
}

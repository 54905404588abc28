/**
 * @file net.c  Socket options (POSIX and lwIP sockets)
 */
#include <errno.h>
#include <re.h>
#include "net_sys.h"
#include <netinet/tcp.h>
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

	if (net_sys_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)))
		return errno;

	return 0;
}


/**
 * Mark what a socket sends with a DSCP (RFC 2474): IP_TOS for IPv4,
 * IPV6_TCLASS for IPv6; the ECN bits stay 0
 *
 * @param fd   UDP socket
 * @param af   Address family of the socket (AF_INET or AF_INET6)
 * @param dscp Code point, 0..63
 *
 * @return 0 if success, ENOTSUP where the option is missing, otherwise
 *         errorcode
 */
int net_udp_dscp(int fd, int af, uint8_t dscp)
{
	int tos = dscp << 2;

	if (fd < 0)
		return EBADF;

	if (dscp > 63)
		return EINVAL;

	switch (af) {

	case AF_INET:
#ifdef IP_TOS
		if (net_sys_setsockopt(fd, IPPROTO_IP, IP_TOS, &tos,
				       sizeof(tos)))
			return errno;
		return 0;
#else
		return ENOTSUP;
#endif

	case AF_INET6:
#ifdef IPV6_TCLASS
		if (net_sys_setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos,
			       sizeof(tos)))
			return errno;
		return 0;
#else
		return ENOTSUP;
#endif

	default:
		return EAFNOSUPPORT;
	}
}

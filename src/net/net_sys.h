/**
 * @file net_sys.h  The one place that picks the socket backend of src/net
 *
 * Default: the C library's BSD sockets, readiness through libre's
 * fd_listen(). With -DNET_LWIP: lwIP's socket API (lwip_socket(), ...;
 * Debian's liblwip-dev takes the system's struct sockaddr), and no
 * fd_listen(): the owner of the loop polls net_udp_fd() (lwip_poll())
 * and calls net_udp_drain() -- the readiness seam.
 *
 * Capabilities are compile-time only (headers, -D from board.mk), never
 * run probes:
 *   NET_HAVE_MMSG  recvmmsg() and sendmmsg() (glibc, musl:
 *                  MSG_WAITFORONE is defined); -DNET_NO_MMSG turns it off
 *
 * Private to src/net/.
 */

#ifdef NET_LWIP

#include <fcntl.h>
#include "lwip/sockets.h"

#define net_sys_socket       lwip_socket
#define net_sys_bind         lwip_bind
#define net_sys_getsockname  lwip_getsockname
#define net_sys_recvfrom     lwip_recvfrom
#define net_sys_sendto       lwip_sendto
#define net_sys_setsockopt   lwip_setsockopt
#define net_sys_getsockopt   lwip_getsockopt
#define net_sys_fcntl        lwip_fcntl
#define net_sys_close        lwip_close

#define net_sys_listen(fd, fh, arg)  ((void)(fh), 0)
#define net_sys_unlisten(fd)         ((void)(fd))

#else

#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define net_sys_socket       socket
#define net_sys_bind         bind
#define net_sys_getsockname  getsockname
#define net_sys_recvfrom     recvfrom
#define net_sys_sendto       sendto
#define net_sys_setsockopt   setsockopt
#define net_sys_getsockopt   getsockopt
#define net_sys_fcntl        fcntl
#define net_sys_close        close

#define net_sys_listen(fd, fh, arg)  fd_listen((fd), FD_READ, (fh), (arg))
#define net_sys_unlisten(fd)         fd_close(fd)

#if defined(MSG_WAITFORONE) && !defined(NET_NO_MMSG)
#define NET_HAVE_MMSG 1
#define net_sys_recvmmsg     recvmmsg
#define net_sys_sendmmsg     sendmmsg
#endif

#endif

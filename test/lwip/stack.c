/**
 * @file stack.c  lwIP in-process: the tcpip thread and one netif
 *
 * Debian's liblwip (lwIP 2.1.3 as GNU Hurd's translator builds it:
 * NO_SYS=0, a POSIX sys_arch, sockets on the system's struct sockaddr,
 * LWIP_NETIF_LOOPBACK, no loopif, LWIP_STATS=0). The netif owns addr/24;
 * a datagram to addr loops back inside lwIP (netif_loop_output() ->
 * netif_poll() on the tcpip thread); what would leave through the
 * netif is counted and dropped.
 */
#include <stdbool.h>
#include <stdint.h>
#include <poll.h>
#include "lwip/tcpip.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"
#include "lwip/udp.h"
#include "lwip/ip_addr.h"
#include "stack.h"

/* lwIP's own lookup of a socket number (sockets.c, exported) */
struct lwip_sock *lwip_socket_dbg_get_socket(int fd);

static struct netif nif;
static volatile bool tcpip_ready;
static uint64_t wire_out;


static void ready_h(void *arg)
{
	(void)arg;
	tcpip_ready = true;
}


static err_t out4(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
	(void)n;
	(void)p;
	(void)dst;
	++wire_out;
	return ERR_OK;
}


static err_t out6(struct netif *n, struct pbuf *p, const ip6_addr_t *dst)
{
	(void)n;
	(void)p;
	(void)dst;
	++wire_out;
	return ERR_OK;
}


static err_t nif_init(struct netif *n)
{
	n->name[0]    = 't';
	n->name[1]    = 'e';
	n->output     = out4;
	n->output_ip6 = out6;
	n->mtu        = 1500;
	n->flags      = 0;

	return ERR_OK;
}


/**
 * Start lwIP's tcpip thread and bring up the test netif
 *
 * @param addr IPv4 address of the netif (a /24)
 *
 * @return 0 if success, otherwise errorcode
 */
int stack_up(const char *addr)
{
	ip4_addr_t ip, mask, gw;
	int i;

	if (!ip4addr_aton(addr, &ip))
		return EINVAL;
	IP4_ADDR(&mask, 255, 255, 255, 0);
	ip4_addr_set_zero(&gw);

	tcpip_init(ready_h, NULL);
	for (i = 0; i < 1000 && !tcpip_ready; i++)
		sys_msleep(1);
	if (!tcpip_ready)
		return ETIMEDOUT;

	LOCK_TCPIP_CORE();
	if (!netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, tcpip_input)) {
		UNLOCK_TCPIP_CORE();
		return ENODEV;
	}
	netif_set_default(&nif);
	netif_set_up(&nif);
	netif_set_link_up(&nif);
	UNLOCK_TCPIP_CORE();

	return 0;
}


/**
 * Wait for lwIP sockets (lwip_poll())
 *
 * @param fds        Sockets and events
 * @param n          Number of sockets
 * @param timeout_ms Longest wait
 *
 * @return Number of ready sockets, 0 on timeout, -1 on error
 */
int stack_poll(struct pollfd *fds, unsigned n, int timeout_ms)
{
	return lwip_poll(fds, n, timeout_ms);
}


/**
 * Tell whether a number is an open lwIP socket
 *
 * @param fd Socket number
 *
 * @return true if lwIP knows it
 */
bool stack_is_socket(int fd)
{
	return lwip_socket_dbg_get_socket(fd) != NULL;
}


/**
 * Tell whether lwIP's UDP has a PCB bound to a port (its PCB list)
 *
 * @param port Local port
 *
 * @return true if bound
 */
bool stack_udp_bound(uint16_t port)
{
	struct udp_pcb *pcb;
	bool found = false;

	LOCK_TCPIP_CORE();
	for (pcb = udp_pcbs; pcb; pcb = pcb->next) {
		if (pcb->local_port == port)
			found = true;
	}
	UNLOCK_TCPIP_CORE();

	return found;
}


/**
 * Get the number of packets that tried to leave through the netif
 * (none should: every address is the netif's own)
 *
 * @return Packets
 */
uint64_t stack_wire_out(void)
{
	return wire_out;
}

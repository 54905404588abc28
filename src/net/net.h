/**
 * @file net.h  Socket options, in the subset lwIP's BSD socket API offers
 *
 * Only this module includes socket headers; Linux-only options sit behind
 * compile-time capability checks with a portable fallback.
 */

int net_tcp_nodelay(int fd);
int net_udp_dscp(int fd, int af, uint8_t dscp);

/**
 * @file stack.h  lwIP in-process for the lwIP test build: the only file
 *                that includes lwIP's headers besides src/net/net_sys.h
 */

struct pollfd;

int  stack_up(const char *addr);
int  stack_poll(struct pollfd *fds, unsigned n, int timeout_ms);
bool stack_is_socket(int fd);
bool stack_udp_bound(uint16_t port);
uint64_t stack_wire_out(void);

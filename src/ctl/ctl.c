/**
 * @file ctl.c  The control socket: a local stream socket (mode 0600)
 *              that takes one command line and answers with text, then
 *              closes. imsedge -s is its client.
 *
 * One client at a time is served on the loop: the line is read with a
 * 1 s timeout, the answer written with one, so a stuck client costs at
 * most that. Only the socket's owner (root on a router) can connect.
 */
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <re.h>
#include "../core/log.h"
#include "../net/net.h"
#include "ctl.h"

#define LOG_MODULE "ctl"

enum {
	CTL_LINE_MAX = 512,
	CTL_CONNS_MAX = 4,
};

struct ctl {
	char *path;
	int fd;
	ctl_cmd_h *cmdh;
	void *arg;
};


static void destructor(void *arg)
{
	struct ctl *ctl = arg;

	if (ctl->fd >= 0) {
		fd_close(ctl->fd);
		(void)close(ctl->fd);
		(void)unlink(ctl->path);
	}
	mem_deref(ctl->path);
}


static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}


/* Read one line (the client sends it and waits) */
static bool read_line(int fd, char *line, size_t sz)
{
	size_t n = 0;

	while (n + 1 < sz) {
		ssize_t k = read(fd, line + n, sz - 1 - n);

		if (k <= 0)
			break;
		n += (size_t)k;
		if (memchr(line, '\n', n))
			break;
	}

	line[n] = '\0';
	return n > 0 && strchr(line, '\n');
}


static void serve(struct ctl *ctl, int fd)
{
	char line[CTL_LINE_MAX];
	struct pl cmd = PL_INIT, args = PL_INIT;
	struct mbuf *mb;
	int err;

	if (!read_line(fd, line, sizeof(line))) {
		write_all(fd, (const uint8_t *)"error: one command line\n", 24);
		return;
	}

	mb = mbuf_alloc(4096);
	if (!mb)
		return;

	line[strcspn(line, "\r\n")] = '\0';
	pl_set_str(&cmd, line);
	if (pl_strchr(&cmd, ' ')) {
		args.p = pl_strchr(&cmd, ' ');
		cmd.l = args.p - cmd.p;
		while (*args.p == ' ')
			++args.p;
		args.l = strlen(args.p);
	}

	err = cmd.l ? ctl->cmdh(&cmd, &args, mb, ctl->arg) : EINVAL;

	if (err) {
		mbuf_reset(mb);
		(void)mbuf_printf(mb, "error: %s: %m\n", line, err);
	}

	write_all(fd, mb->buf, mb->end);
	mem_deref(mb);
}


static void accept_h(int flags, void *arg)
{
	struct ctl *ctl = arg;
	int i, fd;
	(void)flags;

	for (i = 0; i < CTL_CONNS_MAX; i++) {
		if (net_unix_accept(&fd, ctl->fd))
			return;

		serve(ctl, fd);
		(void)close(fd);
	}
}


/**
 * Open the control socket
 *
 * @param ctlp Returned control socket
 * @param path Its path (replaced if stale; EADDRINUSE if in use)
 * @param cmdh Command handler
 * @param arg  Its argument
 *
 * @return 0 if success, otherwise errorcode
 */
int ctl_alloc(struct ctl **ctlp, const char *path, ctl_cmd_h *cmdh,
	      void *arg)
{
	struct ctl *ctl;
	int err;

	if (!ctlp || !path || !cmdh)
		return EINVAL;

	ctl = mem_zalloc(sizeof(*ctl), destructor);
	if (!ctl)
		return ENOMEM;

	ctl->fd = -1;
	ctl->cmdh = cmdh;
	ctl->arg = arg;

	err = str_dup(&ctl->path, path);
	if (!err)
		err = net_unix_listen(&ctl->fd, path);
	if (!err)
		err = fd_listen(ctl->fd, FD_READ, accept_h, ctl);

	if (err) {
		if (ctl->fd >= 0 && err != EADDRINUSE) {
			(void)close(ctl->fd);
			ctl->fd = -1;
		}
		mem_deref(ctl);
		return err;
	}

	*ctlp = ctl;
	return 0;
}


/**
 * imsedge -s: send one command line, copy the answer to out
 *
 * @param path Control socket
 * @param line Command line (without newline)
 * @param out  Where the answer goes
 *
 * @return 0 if the answer does not start with "error:", else errorcode
 */
int ctl_client(const char *path, const char *line, FILE *out)
{
	char buf[4096];
	bool first = true, bad = false;
	ssize_t n;
	int fd, err;

	err = net_unix_connect(&fd, path, 5000);
	if (err)
		return err;

	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0) {
		err = errno;
		(void)close(fd);
		return err;
	}

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first && n >= 6 && !memcmp(buf, "error:", 6))
			bad = true;
		first = false;
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
			(void)close(fd);
			return EIO;
		}
	}

	(void)close(fd);
	return bad ? EINVAL : 0;
}

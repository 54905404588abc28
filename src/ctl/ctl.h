/**
 * @file ctl.h  The control socket: a local stream socket (mode 0600) that
 *              takes one command line and answers with text, then closes
 */

#ifndef IMSEDGE_CTL_H
#define IMSEDGE_CTL_H

struct ctl;

/**
 * A command: its name and the rest of the line; print the answer to mb
 *
 * @return 0, or an errorcode (answered "error: ...")
 */
typedef int (ctl_cmd_h)(const struct pl *cmd, const struct pl *args,
			struct mbuf *mb, void *arg);

int ctl_alloc(struct ctl **ctlp, const char *path, ctl_cmd_h *cmdh,
	      void *arg);
int ctl_client(const char *path, const char *line, FILE *out);

#endif

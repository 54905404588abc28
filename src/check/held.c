/**
 * @file held.c  Is a busy port held by a running imsedge? (Linux /proc)
 *
 * imsedge -t runs beside the running daemon (before a reload, the
 * OpenWrt init script checks the new file): a port that daemon holds is
 * not a problem. The port's listening socket is found in /proc/net/ and
 * its owner among /proc/PID/fd; without /proc the answer is "no".
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <unistd.h>
#include <re.h>
#include "check_int.h"


/* Inodes of sockets bound to this port (listening, for TCP) */
static size_t port_inodes(unsigned long *inov, size_t n, uint16_t port,
			  bool tcp)
{
	static const char *tcpf[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	static const char *udpf[] = {"/proc/net/udp", "/proc/net/udp6"};
	const char **files = tcp ? tcpf : udpf;
	char line[512];
	size_t k = 0;
	int i;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");

		if (!f)
			continue;

		while (k < n && fgets(line, sizeof(line), f)) {
			char *colon = strchr(line, ':');
			unsigned lport, st;
			unsigned long ino;

			/* "sl: LOCAL:PORT REMOTE:PORT ST ... UID TMO INODE" */
			colon = colon ? strchr(colon + 1, ':') : NULL;
			if (!colon || sscanf(colon + 1, "%x %*s %x %*s %*s "
					     "%*s %*u %*u %lu", &lport, &st,
					     &ino) != 3)
				continue;

			if (lport == port && (!tcp || st == 0x0A) && ino)
				inov[k++] = ino;
		}

		(void)fclose(f);
	}

	return k;
}


static bool pid_holds(const char *pid, const unsigned long *inov, size_t n)
{
	char path[64], link[64];
	struct dirent *e;
	bool hit = false;
	DIR *d;

	(void)re_snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	d = opendir(path);
	if (!d)
		return false;

	while (!hit && (e = readdir(d))) {
		char fdp[96];
		ssize_t len;
		size_t i;

		(void)re_snprintf(fdp, sizeof(fdp), "%s/%s", path, e->d_name);
		len = readlink(fdp, link, sizeof(link) - 1);
		if (len <= 8 || strncmp(link, "socket:[", 8))
			continue;
		link[len] = '\0';

		for (i = 0; i < n && !hit; i++)
			hit = strtoul(link + 8, NULL, 10) == inov[i];
	}

	(void)closedir(d);
	return hit;
}


static bool is_imsedge(const char *pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	(void)re_snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return false;

	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	(void)fclose(f);

	return !strcmp(comm, "imsedge\n");
}


/**
 * Whether a port in use is held by a running imsedge (another process)
 *
 * @param port Port number
 * @param tcp  TCP (listening) or UDP
 *
 * @return true if a process named imsedge holds it
 */
bool check_held_by_imsedge(uint16_t port, bool tcp)
{
	unsigned long inov[8];
	struct dirent *e;
	bool hit = false;
	size_t n;
	DIR *d;

	n = port_inodes(inov, ARRAY_SIZE(inov), port, tcp);
	if (!n)
		return false;

	d = opendir("/proc");
	if (!d)
		return false;

	while (!hit && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    (pid_t)atol(e->d_name) == getpid())
			continue;

		hit = is_imsedge(e->d_name) && pid_holds(e->d_name, inov, n);
	}

	(void)closedir(d);
	return hit;
}

/**
 * @file util.c  mediabench: clocks, /proc, latency histogram
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <re.h>
#include "mb.h"

/* 1 µs bins up to 200 ms, then 1 ms bins up to 600 s: no sample is
   clipped below ten minutes, and the maximum is kept exactly */
enum {
	HIST_FINE   = 200000,        /* µs */
	HIST_COARSE = 600000,        /* ms */
};

static uint32_t hist[HIST_FINE];
static uint32_t hist_ms[HIST_COARSE + 1];

static uint64_t hist_n;
static uint64_t hist_maxns;


uint64_t mb_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);

	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}


/* utime + stime of the whole thread group */
int mb_proc_cpu(int pid, double *secs)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return errno;

	n = fread(buf, 1, sizeof(buf) - 1, f);
	(void)fclose(f);
	buf[n] = '\0';

	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			 "%*u %lu %lu", &ut, &st) != 2)
		return EPROTO;

	*secs = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);

	return 0;
}


/* key: "VmRSS" (all resident pages), "RssAnon" (heap and stacks: not
   the code and data pages of the binary, which the first calls page in
   once for all) */
int mb_proc_rss(int pid, const char *key, long *kib)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	FILE *f;
	int err = ENOENT;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return errno;

	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == ':' &&
		    sscanf(line + kl + 1, "%ld", kib) == 1) {
			err = 0;
			break;
		}
	}

	(void)fclose(f);
	return err;
}


double mb_self_cpu(void)
{
	struct rusage ru;

	(void)getrusage(RUSAGE_SELF, &ru);

	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}


void mb_hist_reset(void)
{
	memset(hist, 0, sizeof(hist));
	memset(hist_ms, 0, sizeof(hist_ms));
	hist_n = 0;
	hist_maxns = 0;
}


void mb_hist_add(uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (us < HIST_FINE)
		++hist[us];
	else
		++hist_ms[min(us / 1000, (uint64_t)HIST_COARSE)];
	++hist_n;
	if (ns > hist_maxns)
		hist_maxns = ns;
}


uint64_t mb_hist_count(void)
{
	return hist_n;
}


/* The bin (µs, upper edge) below which pct percent of samples lie */
double mb_hist_pct(double pct)
{
	uint64_t want, sum = 0;
	size_t i;

	if (!hist_n)
		return 0;

	want = (uint64_t)((double)hist_n * pct / 100.0);
	if (want >= hist_n)
		want = hist_n - 1;

	for (i = 0; i < HIST_FINE; i++) {
		sum += hist[i];
		if (sum > want)
			return (double)i + 1;
	}

	for (i = HIST_FINE / 1000; i <= HIST_COARSE; i++) {
		sum += hist_ms[i];
		if (sum > want)
			return min((double)(i + 1) * 1000, mb_hist_max());
	}

	return mb_hist_max();
}


double mb_hist_max(void)
{
	return (double)hist_maxns / 1000.0;
}


void mb_fp_hex(char *buf, size_t sz, const uint8_t *md, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < len && n + 4 <= sz; i++)
		n += (size_t)snprintf(buf + n, sz - n, "%s%02X", i ? ":" : "",
				      md[i]);
}


/* "AB:CD:..." (optionally after "sha-256 ") */
int mb_fp_parse(uint8_t *md, size_t len, const char *s)
{
	size_t i;
	unsigned v;

	if (!strncasecmp(s, "sha-256 ", 8))
		s += 8;

	for (i = 0; i < len; i++) {
		if (sscanf(s, "%2x", &v) != 1)
			return EBADMSG;
		md[i] = (uint8_t)v;
		s += 2;
		if (i + 1 < len && *s++ != ':')
			return EBADMSG;
	}

	return 0;
}


/* MB_SYSCALLS=1: count the target's system calls in the window with
   perf's raw_syscalls:sys_enter tracepoint (needs perf and tracefs);
   returns the counting child's pid, -1 if not counting */
int mb_sc_start(int pid, char *file, size_t sz)
{
	char ps[16];
	int c;

	if (!getenv("MB_SYSCALLS"))
		return -1;

	(void)snprintf(file, sz, "/tmp/mediabench-sc-%d.txt", pid);
	(void)snprintf(ps, sizeof(ps), "%d", pid);
	c = fork();
	if (c == 0) {
		execlp("perf", "perf", "stat", "-x", ",", "-e",
		       "raw_syscalls:sys_enter", "-p", ps, "-o", file,
		       (char *)NULL);
		_exit(127);
	}

	return c;
}


/* Stop the count; the number of system calls, 0 if unknown */
uint64_t mb_sc_stop(int c, const char *file)
{
	unsigned long long n = 0;
	char line[256];
	FILE *f;

	if (c <= 0)
		return 0;

	(void)kill(c, SIGINT);
	(void)waitpid(c, NULL, 0);

	f = fopen(file, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "raw_syscalls:sys_enter") &&
		    sscanf(line, "%llu", &n) == 1)
			break;
	(void)fclose(f);
	(void)unlink(file);

	return n;
}

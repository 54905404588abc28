/**
 * @file trim.c  Give freed heap back to the system after a burst
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <sys/auxv.h>
#endif
#include <unistd.h>
#include <re.h>
#ifdef __GLIBC__   /* defined by any libc header, re.h includes some */
#include <malloc.h>
#endif
#include "log.h"
#include "trim.h"

#define LOG_MODULE "trim"

enum {
	TRIM_MIN_BYTES = 256 * 1024,
	TRIM_DELAY     = 1000,    /* ms of quiet: the burst has ended     */
	TRIM_MAX_WAIT  = 10000,   /* ms: a burst that goes on is trimmed  */
	TRIM_INTERVAL  = 2000,    /* ms: at most one trim in this time    */
};

static struct {
	struct tmr tmr;
	size_t noted;          /**< Bytes freed since the last trim      */
	uint64_t first;        /**< Threshold reached (jiffies), 0 = no  */
	uint64_t last;         /**< When the last trim ran (jiffies)     */
	uint32_t delay;
	uint32_t interval;
	uint32_t count;        /**< Trims run                             */
	trim_hook_h *hook;     /**< Another allocator's trim (tls_mem)   */
} t = {
	.delay = TRIM_DELAY,
	.interval = TRIM_INTERVAL,
};


static void trim_handler(void *arg)
{
	(void)arg;

	log_debug("%zu KiB freed by handshakes and calls: returning free "
		  "memory", t.noted / 1024);
	t.noted = 0;
	t.first = 0;
	t.last  = tmr_jiffies();
	++t.count;
	if (t.hook)
		t.hook();
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}


/**
 * Run another allocator's trim with each heap trim (one; the last set
 * wins)
 *
 * @param h Trim function, NULL for none
 */
void trim_set_hook(trim_hook_h *h)
{
	t.hook = h;
}


/**
 * Choose the allocator's settings at start, before anything is
 * allocated; call it first in main()
 *
 * glibc: its per-thread cache (tcache) keeps up to 7 freed chunks of
 * each small size as in use, where malloc_trim() cannot give back the
 * pages they sit on; after a load of 1,000 connections that was about
 * 400 KiB of the heap left resident (docs/figures.md). The cache can
 * only be switched off by the GLIBC_TUNABLES read at process start, so
 * the process runs itself again once with glibc.malloc.tcache_count=0
 * added (same pid, name, arguments and descriptors), unless the tunable
 * is set already (by us or the operator) or its own binary cannot be run;
 * then it goes on as it is. One arena for all threads (libre's async
 * workers): their freed memory is trimmed with the main heap's.
 * musl: nothing to choose.
 *
 * @param argv The process's arguments
 */
void trim_setup(char *argv[])
{
#ifdef __GLIBC__
	const char *tun = getenv("GLIBC_TUNABLES");
	char self[4096];
	ssize_t len;
	char *v;

	/* by its own path: the process keeps its name (/proc/pid/comm,
	   which imsedge -t looks for) */
	/* never twice: glibc drops this tunable from the environment of a
	   secure-execution process (file capabilities, setuid), where it
	   would otherwise find it missing again after every exec */
	if (getenv("IMSEDGE_REEXEC")) {
		(void)unsetenv("IMSEDGE_REEXEC");
		(void)mallopt(M_ARENA_MAX, 1);
		return;
	}

	len = getauxval(AT_SECURE) ? -1 :
		readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0 && (!tun || !strstr(tun, "glibc.malloc.tcache_count"))) {
		size_t n = (tun ? strlen(tun) : 0) + 40;

		self[len] = '\0';
		v = malloc(n);
		if (v) {
			(void)snprintf(v, n, "%s%sglibc.malloc.tcache_count=0",
				       tun ? tun : "", tun && *tun ? ":" : "");
			if (!setenv("GLIBC_TUNABLES", v, 1) &&
			    !setenv("IMSEDGE_REEXEC", "1", 1))
				(void)execv(self, argv);
			(void)unsetenv("IMSEDGE_REEXEC");
			free(v);
		}
	}

	(void)mallopt(M_ARENA_MAX, 1);
#else
	(void)argv;
#endif
}


/**
 * Note that about this many bytes went back to the allocator
 *
 * @param bytes Bytes freed
 */
void trim_note(size_t bytes)
{
	uint64_t now, due;

	t.noted += bytes;
	if (t.noted < TRIM_MIN_BYTES)
		return;

	/* TRIM_DELAY after the last note, TRIM_MAX_WAIT after the first
	   at most, not sooner than interval after the last trim */
	now = tmr_jiffies();
	if (!t.first)
		t.first = now;

	due = min(now + t.delay, t.first + TRIM_MAX_WAIT);
	if (t.count)
		due = max(due, t.last + t.interval);

	tmr_start(&t.tmr, due > now ? due - now : 0, trim_handler, NULL);
}


/**
 * Change the delay before a trim and the shortest time between two
 * (tests)
 *
 * @param delay_ms    Delay after the threshold is reached
 * @param interval_ms Shortest time between two trims
 */
void trim_set_timing(uint32_t delay_ms, uint32_t interval_ms)
{
	t.delay = delay_ms;
	t.interval = interval_ms;
}


/**
 * Cancel a pending trim and forget what was noted (before the main
 * loop goes)
 */
void trim_close(void)
{
	tmr_cancel(&t.tmr);
	t.noted = 0;
	t.first = 0;
}


/**
 * Number of trims run so far
 *
 * @return Count
 */
uint32_t trim_count(void)
{
	return t.count;
}


/**
 * When the last trim ran
 *
 * @return tmr_jiffies() then, 0 if none ran
 */
uint64_t trim_last(void)
{
	return t.last;
}

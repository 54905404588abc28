/**
 * @file trim.c  Give freed heap back to the system after a burst
 */
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
#ifdef __GLIBC__
	(void)malloc_trim(0);
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

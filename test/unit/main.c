/**
 * @file main.c  Unit test runner: runs every test with a leak check
 *
 * Prints one line per test and closes with "N passed, N failed".
 * With libre's memory bookkeeping (host builds), a test that leaves a
 * block allocated fails.
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <re.h>
#include "core/log.h"
#include "test.h"

struct test {
	const char *name;
	int (*fn)(void);
};

#define ENTRY(name) {#name, name},
#ifdef IMSEDGE_NO_DATACHANNEL
static const struct test tests[] = { TESTS(ENTRY) CODEC_TESTS(ENTRY) };
#define NAME(name) #name,
static const char *const skipped[] = { DC_TESTS(NAME) };
#undef NAME
#else
static const struct test tests[] = { TESTS(ENTRY) CODEC_TESTS(ENTRY)
	DC_TESTS(ENTRY) };
#endif
#undef ENTRY


void test_fail(const char *file, int line, const char *what, int err)
{
	(void)fprintf(stderr, "  %s:%d: %s failed (%s)\n", file, line, what,
		      err ? strerror(err) : "false");
}


void test_fail_eq(const char *file, int line, const char *what,
		  long long got, long long want)
{
	(void)fprintf(stderr, "  %s:%d: %s is %lld, want %lld\n", file, line,
		      what, got, want);
}


void test_fail_str(const char *file, int line, const char *got,
		   const char *want)
{
	(void)fprintf(stderr, "  %s:%d: got \"%s\"\n    want \"%s\"\n", file,
		      line, got, want);
}


const char *test_datapath(const char *name)
{
	static char path[4][512];
	static unsigned n;
	const char *dir = getenv("IMSEDGE_TEST_DATA");
	char *p = path[n++ % ARRAY_SIZE(path)];

	(void)re_snprintf(p, sizeof(path[0]), "%s/%s",
			  dir ? dir : "test/data", name);
	return p;
}


/**
 * Write a 12-byte RTP header (version 2, no padding, extension, CSRCs or
 * marker)
 *
 * @param p    Buffer of at least 12 bytes
 * @param pt   Payload type
 * @param seq  Sequence number
 * @param ts   Timestamp
 * @param ssrc SSRC
 */
void test_rtp_hdr(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts,
		  uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = pt;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}


static void dummy_fd(int flags, void *arg)
{
	(void)flags;
	(void)arg;
}


/* libre allocates its fd table on first use and keeps it until
   libre_close(): do that before the first leak-checked test */
static void loop_warmup(void)
{
	int fds[2];

	if (pipe(fds))
		return;

	(void)fd_listen(fds[0], FD_READ, dummy_fd, NULL);
	fd_close(fds[0]);
	(void)close(fds[0]);
	(void)close(fds[1]);
}


static bool leak_check(const struct memstat *before)
{
	struct memstat after;

	if (mem_get_stat(&after))
		return true;   /* RELEASE build: no bookkeeping */

	if (after.blocks_cur != before->blocks_cur) {
		(void)fprintf(stderr, "  leak: %zu blocks, %zu bytes\n",
			      after.blocks_cur - before->blocks_cur,
			      after.bytes_cur - before->bytes_cur);
		mem_debug();
		return false;
	}

	return true;
}


int main(int argc, char *argv[])
{
	unsigned passed = 0, failed = 0;
	size_t i;

	if (libre_init())
		return 1;

	loop_warmup();
	log_init(getenv("IMSEDGE_TEST_LOG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR + 1,
		 false);

	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		struct memstat before;
		bool ok;

		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;

		memset(&before, 0, sizeof(before));
		(void)mem_get_stat(&before);

		ok = tests[i].fn() == 0;
		ok = leak_check(&before) && ok;

		(void)printf("%s %s\n", ok ? "ok  " : "FAIL", tests[i].name);
		if (ok)
			++passed;
		else
			++failed;
	}

	libre_close();

#ifdef IMSEDGE_NO_DATACHANNEL
	for (i = 0; i < ARRAY_SIZE(skipped); i++) {
		if (argc <= 1 || strstr(skipped[i], argv[1]))
			(void)printf("skip %s: built with DATACHANNEL=0 (no "
				     "usrsctp linked)\n", skipped[i]);
	}
#endif

	(void)printf("unit: %u passed, %u failed\n", passed, failed);

	return failed ? 1 : 0;
}

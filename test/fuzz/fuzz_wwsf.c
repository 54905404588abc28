/**
 * @file fuzz_wwsf.c  Fuzz the WWSF HTTP session (request parser, limits,
 *                    dispatch to files and the API hook) detached from
 *                    sockets, and the path mapping
 *
 * Input: byte 0 sets the feed chunk size, the rest is the byte stream
 * from one client. A small page root is made in /tmp on start; a file
 * outside it and a dotfile inside it hold a marker that must never
 * appear in a response, and every mapped path must lie under the root.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re.h>
#include "core/log.h"
#include "wwsf/wwsf.h"
#include "wwsf/wwsf_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char marker[] = "TOPSECRET";
static char top[64], root[96], rroot[PATH_MAX];
static struct wwsf_site *site;
static struct mbuf *out;


static void put(const char *name, const char *data)
{
	char path[160];
	FILE *f;

	(void)re_snprintf(path, sizeof(path), "%s/%s", top, name);
	f = fopen(path, "wb");
	if (!f)
		abort();
	(void)fputs(data, f);
	(void)fclose(f);
}


static void api_handler(struct wwsf_req *req, void *arg)
{
	const uint8_t *p;
	char json[32];
	size_t n;
	int len;
	(void)arg;

	/* not an echo: the marker check below must see only files */
	wwsf_req_body(req, &p, &n);
	len = re_snprintf(json, sizeof(json), "{\"n\":%zu}", n);
	(void)wwsf_reply(req, 200, "OK", NULL, "application/json",
			 (uint8_t *)json, len > 0 ? (size_t)len : 0);
}


static void cleanup(void)
{
	static const char *const names[] = {
		"root/leak", "root/.secret", "root/index.html", "root/app.js",
		"root/app.js.gz", "root/sub/index.html", "outside",
	};
	char path[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		(void)re_snprintf(path, sizeof(path), "%s/%s", top, names[i]);
		(void)unlink(path);
	}
	(void)re_snprintf(path, sizeof(path), "%s/root/sub", top);
	(void)rmdir(path);
	(void)rmdir(root);
	(void)rmdir(top);
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[160];
	(void)argc;
	(void)argv;

	if (libre_init())
		abort();

	log_init(LOG_LVL_ERROR + 1, false);

	str_ncpy(top, "/tmp/imsedge-fuzz-wwsf-XXXXXX", sizeof(top));
	if (!mkdtemp(top))
		abort();
	(void)re_snprintf(root, sizeof(root), "%s/root", top);
	(void)re_snprintf(path, sizeof(path), "%s/sub", root);
	if (mkdir(root, 0700) || mkdir(path, 0700))
		abort();

	put("outside", marker);
	put("root/.secret", marker);
	put("root/index.html", "<!doctype html>\n");
	put("root/app.js", "x()\n");
	put("root/app.js.gz", "\x1f\x8bgz");
	put("root/sub/index.html", "sub\n");
	(void)re_snprintf(path, sizeof(path), "%s/leak", root);
	if (symlink("../outside", path))
		abort();

	if (!realpath(root, rroot))
		abort();

	if (wwsf_site_alloc(&site, root, "wss://fuzz.example:7443"))
		abort();
	site->apih = api_handler;

	out = mbuf_alloc(65536);
	if (!out)
		abort();

	(void)atexit(cleanup);

	return 0;
}


static int out_send(struct mbuf *mb, void *arg)
{
	(void)arg;

	if (memmem(mbuf_buf(mb), mbuf_get_left(mb), marker,
		   sizeof(marker) - 1))
		abort();

	mbuf_reset(out);
	return mbuf_write_mem(out, mbuf_buf(mb), mbuf_get_left(mb));
}


/* The path mapping on its own: whatever it maps is under the root */
static void path_check(const uint8_t *data, size_t size)
{
	char path[PATH_MAX];
	struct pl target;
	size_t n = strlen(rroot);

	target.p = (const char *)data;
	target.l = min(size, (size_t)2048);

	if (wwsf_path_map(root, &target, path, sizeof(path)))
		return;

	if (strncmp(path, rroot, n) || path[n] != '/' ||
	    strstr(path, "/."))
		abort();
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wwsf_sess *s = NULL;
	struct sa peer;
	size_t step, pos;

	if (size < 1)
		return 0;

	step = data[0] ? data[0] : 4096;
	++data;
	--size;

	path_check(data, size);

	(void)sa_set_str(&peer, "127.0.0.1", 1);
	if (wwsf_sess_alloc(&s, site, &peer, out_send, NULL, NULL))
		return 0;

	for (pos = 0; pos < size; pos += step)
		wwsf_sess_recv(s, data + pos, min(step, size - pos));

	/* what is left pending runs into its deadline */
	wwsf_sess_tick(s, tmr_jiffies() + WWSF_SEND_TMO + 1);

	mem_deref(s);
	return 0;
}

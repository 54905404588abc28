/**
 * @file dcbench.c  Data-channel benchmark: usrsctp associations in one
 *                  process whose packets pass between them from the
 *                  libre loop (no DTLS, no sockets)
 *
 *   dcbench [--msgs N] [--size BYTES] [--assocs N] [--msrp 1]
 *
 * 1. messages/s: N messages of BYTES on one channel of one association,
 *    sent as fast as the send buffer takes them, until the other side
 *    has them all; CPU time per message (both ends, one process).
 * 2. memory: --assocs pairs set up with one channel each; VmRSS growth
 *    per association (both ends counted, so divided by 2 x pairs).
 * 3. --msrp 1: the messages are MSRP SEND chunks with a BYTES body, and
 *    the receiving end does what the AGW's relay does with each one
 *    (src/agw/msrp.c toward TCP, without the socket): msrp_decode(),
 *    then msrp_encode() with To-Path and From-Path replaced; then the
 *    same decode + encode alone, in a loop, for the MSRP share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "dc/dc.h"
#include "msrp/msrp.h"

static const char to_path[] = "msrp://198.51.100.7:30100/c0re5e55;tcp";
static const char from_path[] = "msrp://192.0.2.10:40000/w3se55;dc";

struct pkt {
	struct le le;
	size_t n;
	uint8_t p[];
};

struct end {
	struct dc_assoc *a;
	struct end *other;
	struct list q;
	struct tmr tmr;
	uint64_t rx;
	bool opened;
};

static struct {
	struct end *sender;
	uint16_t sid;
	uint64_t want, sent;
	uint8_t *msg;
	size_t size;
	struct tmr tmr;
	bool msrp;                   /* relay each message as MSRP        */
	struct mbuf *out;
	uint64_t bad;
} run;


static void pkt_destructor(void *arg)
{
	struct pkt *k = arg;

	list_unlink(&k->le);
}


static void deliver(void *arg)
{
	struct end *e = arg;
	struct le *le;

	while ((le = list_head(&e->q))) {
		struct pkt *k = le->data;

		dc_assoc_input(e->a, k->p, k->n);
		mem_deref(k);
	}
}


static int send_h(const uint8_t *p, size_t n, void *arg)
{
	struct end *e = arg;
	struct end *to = e->other;
	struct pkt *k = mem_alloc(sizeof(*k) + n, pkt_destructor);

	if (!k)
		return ENOMEM;

	memset(&k->le, 0, sizeof(k->le));
	memcpy(k->p, p, n);
	k->n = n;
	list_append(&to->q, &k->le, k);
	tmr_start(&to->tmr, 0, deliver, to);

	return 0;
}


static bool open_h(const struct dc_chan_info *ci, void *arg)
{
	struct end *e = arg;

	(void)ci;
	e->opened = true;

	return true;
}


static void recv_h(uint16_t sid, enum dc_ppid ppid, const uint8_t *p,
		   size_t n, void *arg)
{
	struct end *e = arg;

	(void)sid;
	(void)ppid;

	if (run.msrp) {
		struct msrp_msg m;

		run.out->pos = run.out->end = 0;
		if (msrp_decode(&m, p, n) ||
		    msrp_encode(run.out, &m, to_path, from_path))
			++run.bad;
	}

	if (++e->rx == run.want)
		re_cancel();
}


static void close_h(int err, void *arg)
{
	(void)arg;
	(void)fprintf(stderr, "dcbench: association closed: %s\n",
		      strerror(err));
	re_cancel();
}


static int pair(struct end *a, struct end *b, uint32_t max_msg)
{
	static const struct dc_handlers h = {
		send_h, open_h, recv_h, NULL, close_h
	};
	struct dc_conf c;
	int err;

	memset(&c, 0, sizeof(c));
	c.max_channels = 4;
	c.max_message  = max_msg;
	c.max_buffered = 256 * 1024;
	c.local_port   = DC_SCTP_PORT;
	c.remote_port  = DC_SCTP_PORT;

	a->other = b;
	b->other = a;
	tmr_init(&a->tmr);
	tmr_init(&b->tmr);

	err  = dc_assoc_alloc(&a->a, &c, true, &h, a);
	err |= err ? 0 : dc_assoc_alloc(&b->a, &c, false, &h, b);
	err |= err ? 0 : dc_assoc_start(a->a);
	err |= err ? 0 : dc_assoc_start(b->a);

	return err;
}


static void end_free(struct end *e)
{
	tmr_cancel(&e->tmr);
	e->a = mem_deref(e->a);
	list_flush(&e->q);
}


static void wait_h(void *arg)
{
	(void)arg;
	re_cancel();
}


/* run the loop for at most ms, or until something calls re_cancel() */
static void spin(uint32_t ms)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, ms, wait_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&t);
}


static bool settle(struct end *a, struct end *b, uint32_t ms)
{
	uint64_t t0 = tmr_jiffies();

	while (tmr_jiffies() - t0 < ms) {
		if (dc_assoc_up(a->a) && dc_assoc_up(b->a) &&
		    (b->opened || !a->opened))
			return true;
		spin(5);
	}

	return false;
}


static void pump(void *arg)
{
	(void)arg;

	while (run.sent < run.want) {
		if (dc_chan_send(run.sender->a, run.sid, true, run.msg,
				 run.size))
			break;   /* ENOBUFS: the buffer drains first */
		++run.sent;
	}

	if (run.sent < run.want)
		tmr_start(&run.tmr, 1, pump, NULL);
}


static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);

	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}


static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);

	return ts.tv_sec + ts.tv_nsec / 1e9;
}


static long rss_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;

	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	}

	(void)fclose(f);

	return kb;
}


/* an MSRP SEND chunk as a browser sends it over the data channel */
static uint8_t *msrp_msg(size_t body, size_t *len)
{
	struct mbuf *mb = mbuf_alloc(body + 512);
	uint8_t *p = NULL;
	int err;

	if (!mb)
		return NULL;

	err  = mbuf_printf(mb, "MSRP a786hjs2 SEND\r\n"
			   "To-Path: msrp://192.0.2.10:40000/w3se55;dc\r\n"
			   "From-Path: msrp://b1.invalid:9/br0w5e;dc\r\n"
			   "Message-ID: 87652491\r\n"
			   "Byte-Range: 1-%zu/%zu\r\n"
			   "Content-Type: text/plain\r\n\r\n", body, body);
	err |= mbuf_fill(mb, 'x', body);
	err |= mbuf_write_str(mb, "\r\n-------a786hjs2$\r\n");

	if (!err) {
		p = malloc(mb->end);
		if (p) {
			memcpy(p, mb->buf, mb->end);
			*len = mb->end;
		}
	}

	mem_deref(mb);

	return p;
}


static int throughput(uint64_t msgs, size_t size)
{
	struct end a, b;
	uint64_t t0, t1;
	double c0, c1;
	int err;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));

	err = pair(&a, &b, (uint32_t)max(size + 512, (size_t)1024));
	if (!err)
		err = dc_chan_open(a.a, &run.sid, "bench", "");
	if (err || !settle(&a, &b, 5000)) {
		(void)fprintf(stderr, "dcbench: no association\n");
		err = err ? err : ETIMEDOUT;
		goto out;
	}

	run.sender = &a;
	run.want = msgs;
	run.size = size;
	run.msg = run.msrp ? msrp_msg(size, &run.size) : calloc(1, size);
	run.out = mbuf_alloc(run.size + 256);
	tmr_init(&run.tmr);
	if (!run.msg || !run.out) {
		err = ENOMEM;
		goto out;
	}

	t0 = wall_us();
	c0 = cpu_s();
	pump(NULL);
	(void)re_main(NULL);
	t1 = wall_us();
	c1 = cpu_s();
	tmr_cancel(&run.tmr);

	(void)printf("%s: %llu of %zu bytes in %.3f s: %.0f msg/s, "
		     "%.1f Mbit/s, %.1f CPU us per message (both ends%s)\n",
		     run.msrp ? "MSRP messages" : "messages",
		     (unsigned long long)b.rx, run.size, (t1 - t0) / 1e6,
		     b.rx / ((t1 - t0) / 1e6),
		     b.rx * run.size * 8 / (double)(t1 - t0),
		     (c1 - c0) * 1e6 / (double)max(b.rx, (uint64_t)1),
		     run.msrp ? ", decoded and re-encoded" : "");

	err = b.rx == msgs && !run.bad ? 0 : EPROTO;

 out:
	free(run.msg);
	run.out = mem_deref(run.out);
	end_free(&a);
	end_free(&b);

	return err;
}


/* the AGW's MSRP work per message alone: decode + encode */
static int msrp_only(uint64_t n, size_t body)
{
	struct mbuf *out;
	struct msrp_msg m;
	uint8_t *p;
	size_t len = 0;
	uint64_t i;
	double c0, c1;
	int err = 0;

	p = msrp_msg(body, &len);
	out = mbuf_alloc(len + 256);
	if (!p || !out) {
		err = ENOMEM;
		goto out;
	}

	c0 = cpu_s();
	for (i = 0; i < n && !err; i++) {
		out->pos = out->end = 0;
		err = msrp_decode(&m, p, len);
		if (!err)
			err = msrp_encode(out, &m, to_path, from_path);
	}
	c1 = cpu_s();

	(void)printf("MSRP decode + encode alone: %.2f CPU us per %zu-byte "
		     "message\n", (c1 - c0) * 1e6 / (double)n, len);

 out:
	free(p);
	mem_deref(out);

	return err;
}


static int memory(unsigned pairs)
{
	struct end *v = calloc(2 * pairs, sizeof(*v));
	long r0, r1;
	unsigned i, up = 0;
	int err = 0;

	if (!v)
		return ENOMEM;

	r0 = rss_kb();

	for (i = 0; i < pairs && !err; i++) {
		uint16_t sid;

		err = pair(&v[2 * i], &v[2 * i + 1], 65536);
		if (!err)
			err = dc_chan_open(v[2 * i].a, &sid, "m", "");
	}

	for (i = 0; i < pairs && !err; i++)
		up += settle(&v[2 * i], &v[2 * i + 1], 5000);

	r1 = rss_kb();
	(void)printf("memory: %u of %u associations up with a channel each "
		     "side: VmRSS +%ld KiB, %.1f KiB per association\n",
		     2 * up, 2 * pairs, r1 - r0,
		     (r1 - r0) / (2.0 * pairs));

	for (i = 0; i < 2 * pairs; i++)
		end_free(&v[i]);
	free(v);

	return err;
}


int main(int argc, char *argv[])
{
	uint64_t msgs = 20000;
	size_t size = 100;
	unsigned assocs = 50;
	int i, err;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--msgs"))
			msgs = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--size"))
			size = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--assocs"))
			assocs = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--msrp"))
			run.msrp = atoi(argv[i + 1]) != 0;
	}

	if (!msgs || !size || size > 65536 || !assocs) {
		(void)fprintf(stderr, "usage: dcbench [--msgs N] [--size B]"
			      " [--assocs N]\n");
		return 2;
	}

	err = libre_init();
	if (err)
		return 1;

	err = memory(assocs);
	if (!err)
		err = throughput(msgs, size);
	if (!err && run.msrp)
		err = msrp_only(msgs * 10, size);

	dc_close();
	libre_close();

	return err ? 1 : 0;
}

/**
 * @file main.c  mediabench: media relay benchmark, imsedge AGW vs rtpengine
 *
 *   mediabench [--calls N] [--seconds S] [--only agw|rtpengine]
 *              [--xcode opus-pcma|opus-amrwb|opus-g722] [--data DIR]
 *              [--log FILE]
 *              [--shared] [--core-shared] [--gcm]
 *
 * --xcode: transcoded calls instead of relayed ones (the browser sends
 * Opus, the core PCMA, AMR-WB or G.722); rtpengine for opus-pcma and
 * opus-g722 (it has no AMR-WB encoder); a table per transcoded call.
 * --shared runs the AGW with media_port_shared (one browser-side port),
 * --core-shared with media_core_port_shared (one core-side port pair).
 * --inflight N: DTLS handshakes at once (default 16).
 * --stagger G: set the calls up in G groups, each while the calls of the
 *   earlier groups carry media (default: all at once, before any media).
 * --gcm: the simulated browsers offer the AES-GCM SRTP profiles (RFC
 * 7714) too, as Chromium and Firefox do; without it AES-CM only. Each
 * target's detail line names the suite it negotiated; the floor is
 * measured with the AGW's.
 * --max-loss PCT: a target losing more than PCT % of the packets (default
 * 0.1) fails the run; below it its figures are printed with the loss.
 *
 * Runs the same traffic through (1) the AGW in a child process (agwd) and
 * (2) rtpengine-daemon in userspace mode, then measures the floor, and
 * prints one table. Exits non-zero if calls do not establish or media
 * does not flow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <re.h>
#include "tls/tlsx.h"
#include "core/log.h"
#include "core/trim.h"
#include "agw/agw.h"
#include "mb.h"

enum {
	AGW_PORT_MIN = 30000,
	AGW_PORT_MAX = 34999,
};

double mb_max_loss = 0.1;
unsigned mb_inflight = MB_DTLS_INFLIGHT;
unsigned mb_stagger;
bool mb_gcm;

static int agwd_pid = -1;
static int rtpe_pid = -1;


void mb_stop_child(int *pidp)
{
	int i, st;

	if (*pidp <= 0)
		return;

	(void)kill(*pidp, SIGTERM);
	for (i = 0; i < 50; i++) {
		if (waitpid(*pidp, &st, WNOHANG) == *pidp)
			goto out;
		usleep(100000);
	}
	(void)kill(*pidp, SIGKILL);
	(void)waitpid(*pidp, &st, 0);
 out:
	*pidp = -1;
}


static void cleanup(void)
{
	mb_stop_child(&agwd_pid);
	mb_stop_child(&rtpe_pid);
}


static void on_signal(int sig)
{
	(void)sig;
	cleanup();
	_exit(2);
}


static void row(const struct mb_result *r, const char *name)
{
	double rate = r->rx / r->secs;

	(void)printf("| %-22s | %5u | %9.0f | %10.0f | %6.2f | %7.0f | %7.0f |"
		     " %6.1f |\n", name, r->calls, rate,
		     r->cpu_s > 0 ? r->rx / r->cpu_s : 0,
		     r->rx ? r->cpu_s * 1e6 / r->rx : 0,
		     r->lat_p50, r->lat_p99, r->rss_call_kib);
}


/* a transcoded call: CPU (% of one core, from the CPU per packet that
   came out, at 50 packets/s each way: a loaded machine's losses do not
   flatter it), calls per core, latency, RSS */
static void xc_row(const struct mb_result *r, const char *name,
		   const char *pair)
{
	double pct = r->rx ? 100.0 * r->cpu_s / r->rx * 2 *
		(1000 / MB_PTIME_MS) : 0;

	(void)printf("| %-22s | %-11s | %5u | %9.0f | %7.3f | %7.0f | "
		     "%7.2f | %7.2f | %6.1f |\n", name, pair, r->calls,
		     r->rx / r->secs, pct, pct > 0 ? 100.0 / pct : 0,
		     r->lat_p50 / 1000, r->lat_p99 / 1000, r->rss_call_kib);
}


static void detail(const struct mb_result *r);


/* RSS per call without the code pages the first calls fault in once */
static void anon_line(const struct mb_result *ra, const struct mb_result *rr)
{
	(void)printf("RSS per call, anonymous only (RssAnon: heap and stacks, "
		     "not the code pages the first calls page in):");
	if (ra)
		(void)printf(" imsedge-agw %.1f KiB", ra->rss_anon_call_kib);
	if (rr)
		(void)printf(" rtpengine %.1f KiB", rr->rss_anon_call_kib);
	(void)printf("\n");
}


static void xc_table(const struct mb_result *ra, const struct mb_result *rr,
		     const char *pair)
{
	(void)printf("\n| %-22s | pair        | calls | pkts out/s | "
		     "CPU %% of a core per call | calls per core | lat p50 "
		     "ms | lat p99 ms | RSS per call KiB |\n"
		     "|---|---|---|---|---|---|---|---|---|\n", "target");
	if (ra)
		xc_row(ra, "imsedge-agw", pair);
	if (rr)
		xc_row(rr, "rtpengine (userspace)", pair);
	anon_line(ra, rr);
	if (ra && rr && rr->cpu_s > 0 && ra->rx && rr->rx)
		(void)printf("imsedge / rtpengine CPU per transcoded packet: "
			     "%.2f (goal <= 0.5)\n", (ra->cpu_s / ra->rx) /
			     (rr->cpu_s / rr->rx));
	if (ra)
		detail(ra);
	if (rr)
		detail(rr);
	(void)printf("latency: the generator's send time (before SRTP "
		     "protect) of the packet a received one was made of (by "
		     "its RTP timestamp, anchored on each stream's first "
		     "packet) to its receive handler: decode, encode and both "
		     "hops; both directions pooled.\n");
}


static void setup_row(const struct mb_result *r, const char *name)
{
	(void)printf("| %-22s | %5u | %8.3f | %9.0f | %8.2f |\n", name,
		     r->calls, r->setup_cpu_s,
		     r->setup_cpu_s > 0 ? r->calls / r->setup_cpu_s : 0,
		     r->setup_cpu_s * 1e3 / r->calls);
}


static void detail(const struct mb_result *r)
{
	double loss = r->tx_all ?
		100.0 * (double)(r->tx_all - min(r->rx_all, r->tx_all)) /
		(double)r->tx_all : 0;

	(void)printf("  %s: setup of %u calls (signalling, ICE, DTLS) %llu ms;"
		     " SRTP suite %s; window %.1f s: sent %llu, received %llu "
		     "(to core %llu, to browser %llu); loss over the run "
		     "%.3f%%; latency max %.0f us; target CPU %.1f%% of one "
		     "core, generator CPU %.1f%%%s%s\n",
		     r->name, r->calls, (unsigned long long)r->setup_ms,
		     srtp_suite_name((enum srtp_suite)r->srtp_suite), r->secs,
		     (unsigned long long)r->tx, (unsigned long long)r->rx,
		     (unsigned long long)r->rx_dir[0],
		     (unsigned long long)r->rx_dir[1], loss, r->lat_max,
		     100.0 * r->cpu_s / r->secs,
		     100.0 * r->gen_cpu_s / r->secs,
		     r->note[0] ? "; " : "", r->note);
	if (r->syscalls && r->rx)
		(void)printf("  %s: %llu system calls in the window, %.3f per "
			     "relayed packet\n", r->name,
			     (unsigned long long)r->syscalls,
			     (double)r->syscalls / (double)r->rx);
}


static void machine(void)
{
	struct utsname u;
	char line[256], model[128] = "?";
	FILE *f;

	if (uname(&u))
		memset(&u, 0, sizeof(u));

	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && p) {
			str_ncpy(model, p + 2, sizeof(model));
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		(void)fclose(f);

	(void)printf("machine: %s %s %s; %s; %ld CPUs online\n", u.sysname,
		     u.release, u.machine, model, sysconf(_SC_NPROCESSORS_ONLN));
}


static enum mb_xc xc;


static int run_agw(const char *self, const char *data, unsigned calls,
		   unsigned secs, struct tls *tls, struct mb_result *res)
{
	struct mb_target t;
	struct sa ctl;
	char rsp[256];
	int err;

	err = mb_agwd_start(&agwd_pid, &ctl, self, data, calls);
	if (err) {
		(void)re_fprintf(stderr, "mediabench: agwd did not start: %m\n",
			      err);
		return err;
	}

	memset(&t, 0, sizeof(t));
	t.name = "imsedge-agw";
	t.setup = mb_agwd_setup;
	t.arg = &ctl;
	t.pid = agwd_pid;
	t.xc = xc;
	mb_agwd_xc(xc);

	err = mb_gen_run(&t, calls, secs, tls, res);

	if (!mb_agwd_cmd(&ctl, "stats", rsp, sizeof(rsp))) {
		unsigned long long w3, w3d, co, cod, unl;
		unsigned n, closed;

		if (sscanf(rsp, "stats %llu %llu %llu %llu %llu %u %u", &w3,
			   &w3d, &co, &cod, &unl, &n, &closed) == 7) {
			(void)snprintf(res->note + strlen(res->note),
				       sizeof(res->note) - strlen(res->note),
				       "%sAGW counters: relayed %llu+%llu, "
				       "dropped w3 %llu core %llu "
				       "(unlatched %llu), sessions %u, "
				       "closed %u", res->note[0] ? "; " : "",
				       w3, co, w3d, cod, unl, n, closed);
			if (err)
				(void)re_fprintf(stderr, "mediabench: %s\n",
					      res->note);
			if (closed && !err) {
				(void)re_fprintf(stderr, "mediabench: AGW "
					      "closed %u sessions\n", closed);
				err = EPROTO;
			}
		}
	}

	(void)mb_agwd_cmd(&ctl, "quit", rsp, sizeof(rsp));
	mb_stop_child(&agwd_pid);

	return err;
}


static int run_rtpe(const char *log, unsigned calls, unsigned secs,
		    struct tls *tls, struct mb_result *res)
{
	struct mb_target t;
	struct sa ng;
	int err;

	err = mb_rtpe_start(&rtpe_pid, &ng, log);
	if (err) {
		(void)re_fprintf(stderr, "mediabench: rtpengine did not answer "
			      "ng ping (%m); see %s (is rtpengine-daemon "
			      "installed? tools/setup)\n", err, log);
		return err;
	}

	memset(&t, 0, sizeof(t));
	t.name = "rtpengine";
	t.setup = mb_rtpe_setup;
	t.arg = &ng;
	t.pid = rtpe_pid;
	t.xc = xc;
	mb_rtpe_xc(xc);

	err = mb_gen_run(&t, calls, secs, tls, res);
	mb_stop_child(&rtpe_pid);

	return err;
}


static void usage(void)
{
	(void)re_fprintf(stderr, "usage: mediabench [--calls N] [--seconds S] "
		      "[--only agw|rtpengine] [--xcode opus-pcma|opus-amrwb|"
		      "opus-g722] "
		      "[--data DIR] [--log FILE] [--shared] [--core-shared] "
		      "[--gcm] [--max-loss PCT]\n"
		      "                  [--inflight N] [--stagger G]\n");
}


int main(int argc, char *argv[])
{
	struct mb_result ra, rr, rf;
	struct rlimit rl;
	struct tls *tls = NULL;
	const char *data = getenv("IMSEDGE_TEST_DATA");
	const char *only = NULL, *log = "build/mediabench-rtpengine.log";
	char cert[512], key[512], self[512];
	unsigned calls = 50, secs = 20, suite = SRTP_AES_CM_128_HMAC_SHA1_80;
	double pns = 0, uns = 0, sns = 0;
	bool have_a = false, have_r = false;
	int lost = 0;
	ssize_t n;
	int i, err = 0;

	trim_setup(argv);   /* imsedge's allocator settings, agwd's too */

	memset(&ra, 0, sizeof(ra));
	memset(&rr, 0, sizeof(rr));
	if (!data)
		data = "test/data";

	if (argc == 5 && !strcmp(argv[1], "agwd"))
		return mb_agwd_main(atoi(argv[2]), argv[3], AGW_PORT_MIN,
				    AGW_PORT_MAX, (unsigned)atoi(argv[4])) ?
			1 : 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--calls") && i + 1 < argc)
			calls = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			secs = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--data") && i + 1 < argc)
			data = argv[++i];
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			log = argv[++i];
		else if (!strcmp(argv[i], "--xcode") && i + 1 < argc &&
			 !strcmp(argv[i + 1], "opus-pcma") && ++i)
			xc = MB_XC_OPUS_PCMA;
		else if (!strcmp(argv[i], "--xcode") && i + 1 < argc &&
			 !strcmp(argv[i + 1], "opus-amrwb") && ++i)
			xc = MB_XC_OPUS_AMRWB;
		else if (!strcmp(argv[i], "--xcode") && i + 1 < argc &&
			 !strcmp(argv[i + 1], "opus-g722") && ++i)
			xc = MB_XC_OPUS_G722;
		else if (!strcmp(argv[i], "--max-loss") && i + 1 < argc)
			mb_max_loss = atof(argv[++i]);
		else if (!strcmp(argv[i], "--inflight") && i + 1 < argc &&
			 atoi(argv[i + 1]) > 0)
			mb_inflight = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--stagger") && i + 1 < argc &&
			 atoi(argv[i + 1]) > 0)
			mb_stagger = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--gcm"))
			mb_gcm = true;
		else if (!strcmp(argv[i], "--shared"))
			(void)setenv("MB_AGW_SHARED", "1", 1);  /* to agwd */
		else if (!strcmp(argv[i], "--core-shared"))
			(void)setenv("MB_AGW_CORE_SHARED", "1", 1);
		else {
			usage();
			return 2;
		}
	}
	if (!calls || !secs || calls > 2000) {
		usage();
		return 2;
	}

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < 8192) {
		rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}

	(void)signal(SIGINT, on_signal);
	(void)signal(SIGTERM, on_signal);
	(void)signal(SIGPIPE, SIG_IGN);
	(void)atexit(cleanup);

	if (libre_init())
		return 1;
	(void)fd_setsize(8192);
	log_init(LOG_LVL_WARN, false);

	(void)snprintf(cert, sizeof(cert), "%s/cert2.pem", data);
	(void)snprintf(key, sizeof(key), "%s/key2.pem", data);
	err = tls_alloc_files(&tls, cert, key);
	if (err) {
		(void)re_fprintf(stderr, "mediabench: %s: %m\n", cert, err);
		goto out;
	}

	(void)printf("mediabench: %u calls, %u s window (after 2 s warm-up), "
		     "%u-byte RTP payload, 50 packets/s per stream, 2 streams "
		     "per call\n", calls, secs, MB_PAYLOAD);
	(void)fflush(stdout);

	if (!only || !strcmp(only, "agw")) {
		err = run_agw(self, data, calls, secs, tls, &ra);
		/* too much loss (EPROTO with a result): still shown beside
		   the other target, and the run fails at the end */
		if (err == EPROTO && ra.rx_dir[0] && ra.rx_dir[1])
			lost = err;
		else if (err)
			goto out;
		have_a = true;
		suite = ra.srtp_suite;
	}

	if (xc == MB_XC_OPUS_AMRWB && (!only || !strcmp(only, "rtpengine")))
		(void)printf("rtpengine: not run for Opus <-> AMR-WB "
			     "(Debian's rtpengine transcodes with libavcodec, "
			     "which has no AMR-WB encoder)\n");
	else if (!only || !strcmp(only, "rtpengine")) {
		err = run_rtpe(log, calls, secs, tls, &rr);
		if (err == EPROTO && rr.rx_dir[0] && rr.rx_dir[1])
			lost = err;
		else if (err)
			goto out;
		have_r = true;
	}

	if (xc) {
		(void)printf("\n");
		machine();
		xc_table(have_a ? &ra : NULL, have_r ? &rr : NULL,
			 xc == MB_XC_OPUS_PCMA ? "Opus-PCMA" :
			 xc == MB_XC_OPUS_G722 ? "Opus-G722" : "Opus-AMR-WB");
		err = lost;
		goto out;
	}

	err = mb_floor(suite, &rf, &pns, &uns, &sns);
	if (err) {
		(void)re_fprintf(stderr, "mediabench: floor: %m\n", err);
		goto out;
	}

	(void)printf("\n");
	machine();
	(void)printf("\n| %-22s | calls | pkts relayed/s | pkts per CPU-s |"
		     " CPU us/pkt | lat p50 us | lat p99 us | RSS per call "
		     "KiB |\n|---|---|---|---|---|---|---|---|\n", "target");
	if (have_a)
		row(&ra, "imsedge-agw");
	if (have_r)
		row(&rr, "rtpengine (userspace)");
	(void)printf("| %-22s |     - |         - | %10.0f | %6.2f |       - |"
		     "       - |      - |\n", "floor: p+u+2 syscalls",
		     1e9 / (pns + uns + sns), (pns + uns + sns) / 1000);
	(void)printf("| %-22s |     - |         - | %10.0f | %6.2f |       - |"
		     "       - |      - |\n", "floor: 1 op+2 syscalls",
		     1e9 / ((pns + uns) / 2 + sns), ((pns + uns) / 2 + sns) /
		     1000);
	anon_line(have_a ? &ra : NULL, have_r ? &rr : NULL);

	(void)printf("\n| %-22s | calls | setup CPU s | call setups per "
		     "CPU-s | CPU ms per call |\n|---|---|---|---|---|\n",
		     "call setup (target)");
	if (have_a)
		setup_row(&ra, "imsedge-agw");
	if (have_r)
		setup_row(&rr, "rtpengine (userspace)");
	(void)printf("call setup: the target's CPU (utime + stime) from the "
		     "first call's signalling until every call is keyed: "
		     "allocation, ICE-lite check answers and the DTLS "
		     "handshake (ECDHE X25519, ECDSA P-256 certificates both "
		     "ways), %u at a time.\n", mb_inflight);

	(void)printf("\nfloor: %s protect %.0f ns, unprotect %.0f ns "
		     "(172-byte packet); sendto+recvfrom on loopback %.0f ns. "
		     "A relayed packet needs one of protect/unprotect and the "
		     "two syscalls (second floor line).\n",
		     srtp_suite_name((enum srtp_suite)suite), pns, uns, sns);
	if (have_a)
		detail(&ra);
	if (have_r)
		detail(&rr);
	(void)printf("latency: generator send time (before SRTP protect) to "
		     "generator receive handler, one way through the relay, "
		     "both directions pooled.\n");
	err = lost;
	if (lost)
		(void)printf("FAILED: a target lost more than %g%% (its "
			     "loss over the run is above)\n", mb_max_loss);

 out:
	cleanup();
	mem_deref(tls);
	libre_close();

	if (err)
		(void)re_fprintf(stderr, "mediabench: FAILED (%m)\n", err);

	return err ? 1 : 0;
}

/**
 * @file main.c  imsedge: argv, config, the enabled functions, re_main(),
 *               orderly shutdown
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <getopt.h>
#include <sys/resource.h>
#include <re.h>
#define DEBUG_MODULE "main"
#define DEBUG_LEVEL 4
#include <re_dbg.h>
#include "core/trim.h"
#include "core/conf.h"
#include "tls/tlsx.h"
#include "keygen/keygen.h"
#include "w2/w2.h"
#include "agw/agw.h"
#include "codec/codec.h"
#include "sdp/sdpx.h"
#include "dc/dc.h"
#include "crypto/crypto.h"
#include "pcscf/pcscf.h"
#include "jwt/jwt.h"
#include "waf/waf.h"
#include "web/web.h"
#include "check/check.h"
#include "metrics/metrics.h"
#include "ctl/ctl.h"
#include "net/net.h"

#define LOG_MODULE "main"

#ifndef IMSEDGE_VERSION
#define IMSEDGE_VERSION "0.0.0"
#endif

enum {
	SHUTDOWN_GRACE_MS = 1500,  /* < the 2 s procd and the tests allow */
};

static struct {
	const char *path;
	struct imsedge_conf *conf;
	struct w2 *w2;
	struct pcscf *pcscf;
	struct agw *agw;
	struct web *web;
	struct metrics *metrics;
	struct ctl *ctl;
	struct tmr tmr_exit;
	int sigfd[2];
	bool stopping;
} app = {.sigfd = {-1, -1}};


static void usage(FILE *f)
{
	(void)fprintf(f,
		      "usage: imsedge [-t] -c FILE\n"
		      "       imsedge -s [-j] [-c FILE] [drop AOR | end CALLID]"
		      "\n"
		      "       imsedge -k KEYFILE [-x CERTFILE [-n CN] "
		      "[-a DNS:name|IP:addr]...] [-f]\n"
		      "       imsedge -u USERSFILE NAME IMPI IMPU[,IMPU...] "
		      "< password\n"
		      "       imsedge -v | -h\n"
		      "\n"
		      "  -c FILE  configuration file (runs in the foreground)\n"
		      "  -t       check the configuration and exit\n"
		      "  -s       status of the running imsedge (its "
		      "control_socket), or\n"
		      "           drop a registration, end a call; -j: JSON\n"
		      "  -k FILE  make an EC P-256 private key (mode 0600) "
		      "if missing, and exit\n"
		      "           (alone: the WAF's token_key)\n"
		      "  -x FILE  make a self-signed certificate for it "
		      "if missing (10 years)\n"
		      "  -n CN    the certificate's common name "
		      "(default imsedge)\n"
		      "  -a SAN   add a subjectAltName DNS:name or IP:addr "
		      "(repeatable)\n"
		      "  -f       replace the key and certificate "
		      "if they exist\n"
		      "  -u FILE  add or replace a web login in a users "
		      "file (wwsf_users);\n"
		      "           the password is the first line of stdin\n"
		      "  -v       print the version\n"
		      "  -h       print this help\n");
}


static void exit_now(void *arg)
{
	(void)arg;

	if (w2_conn_count(app.w2))
		log_warn("exit with %u connections still closing",
			 w2_conn_count(app.w2));
	re_cancel();
}


static void stop(void)
{
	if (app.stopping) {
		re_cancel();
		return;
	}

	app.stopping = true;
	log_info("shutting down");
	pcscf_shutdown(app.pcscf);

	if (!w2_shutdown(app.w2, exit_now, NULL)) {
		re_cancel();
		return;
	}

	tmr_start(&app.tmr_exit, SHUTDOWN_GRACE_MS, exit_now, NULL);
}


static void reload(void)
{
	struct imsedge_conf *conf;
	struct w2_reload *w2r = NULL;
	struct web_reload *webr = NULL;
	char errbuf[512], keys[256];
	int err;

	err = conf_load(&conf, app.path, errbuf, sizeof(errbuf));
	if (err) {
		log_error("reload failed, keeping the running config: %s",
			  errbuf);
		return;
	}

	/* read everything first: a failure must change nothing */
	err = w2_reload_prepare(&w2r, app.w2, conf);
	if (!err)
		err = web_reload_prepare(&webr, app.web, conf);
	if (err) {
		log_error("reload failed, keeping the running config: %m",
			  err);
		mem_deref(w2r);
		mem_deref(conf);
		return;
	}

	w2_reload_apply(w2r);
	web_reload_apply(webr);
	mem_deref(w2r);
	mem_deref(webr);

	log_init(conf->log_level, conf->log_syslog);
	if (conf_restart_needed(app.conf, conf, keys, sizeof(keys)))
		log_warn("reload: changed keys that need a restart to take "
			 "effect: %s", keys);
	log_info("reloaded %s", app.path);
	mem_deref(app.conf);
	app.conf = conf;
}


/* Signals arrive through a self-pipe so handlers run on the loop */
static void sig_catch(int sig)
{
	uint8_t b = (uint8_t)sig;
	int saved = errno;
	ssize_t n;

	/* a full pipe already holds a wake-up: a failed write loses none */
	n = write(app.sigfd[1], &b, 1);
	(void)n;
	errno = saved;
}


static void sig_read(int flags, void *arg)
{
	uint8_t b;
	(void)flags;
	(void)arg;

	while (read(app.sigfd[0], &b, 1) == 1) {
		if (b == SIGHUP)
			reload();
		else
			stop();
	}
}


static int sig_init(void)
{
	struct sigaction sa;
	int i;

	if (pipe(app.sigfd))
		return errno;

	for (i = 0; i < 2; i++) {
		(void)fcntl(app.sigfd[i], F_SETFL, O_NONBLOCK);
		(void)fcntl(app.sigfd[i], F_SETFD, FD_CLOEXEC);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_catch;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);

	return fd_listen(app.sigfd[0], FD_READ, sig_read, NULL);
}


static void sig_close(void)
{
	int i;

	if (app.sigfd[0] >= 0)
		fd_close(app.sigfd[0]);

	for (i = 0; i < 2; i++) {
		if (app.sigfd[i] >= 0)
			(void)close(app.sigfd[i]);
		app.sigfd[i] = -1;
	}
}


static void report(const char *problem, void *arg)
{
	unsigned *n = arg;

	(void)fprintf(stderr, "%s\n", problem);
	++*n;
}


/* -t: every problem on stderr, one per line, or "FILE: configuration
   OK" on stdout */
static int check(void)
{
	unsigned n = 0;
	int err;

	err = conf_check(&app.conf, app.path, report, &n);
	if (err) {
		if (!n)
			(void)fprintf(stderr, "%s: %s\n", app.path,
				      strerror(err));
		return err;
	}

	log_init(LOG_LVL_ERROR + 1, false);    /* the checks print */
	if (check_conf(app.conf, 0, report, &n))
		return EINVAL;

	(void)printf("%s: configuration OK\n", app.path);
	return 0;
}


/* imsedge -u FILE NAME IMPI IMPUS: the password is stdin's first line */
static int users_cmd(const char *file, char *argv[], int argc)
{
	char pw[256];
	size_t n;
	int err;

	if (argc != 3)
		return EINVAL;

	if (isatty(STDIN_FILENO))
		(void)fprintf(stderr, "password for %s: ", argv[0]);

	if (!fgets(pw, sizeof(pw), stdin)) {
		(void)fprintf(stderr, "imsedge: no password on stdin\n");
		return 1;
	}

	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	if (!n) {
		(void)fprintf(stderr, "imsedge: empty password\n");
		return 1;
	}

	err = libre_init();
	if (!err)
		err = waf_users_set(file, argv[0], pw, argv[1], argv[2],
				    WAF_PBKDF2_ITER);
	memset(pw, 0, sizeof(pw));
	libre_close();

	if (err) {
		(void)fprintf(stderr, "imsedge: %s: cannot set %s: %s\n",
			      file, argv[0], strerror(err));
		return 1;
	}

	(void)printf("imsedge: %s: %s set\n", file, argv[0]);
	return 0;
}


/* libre's own diagnostics go through our logger, one line each */
static void dbg_print(int level, const char *p, size_t len, void *arg)
{
	enum log_level lvl = level <= DBG_WARNING ? LOG_LVL_WARN :
		level <= DBG_INFO ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	(void)arg;

	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		--len;

	log_msg(lvl, "libre", "%b", p, len);
}


/* Enough descriptors for every connection, call and transaction the
   limits allow (libre's default table holds 1024) */
static int fd_limits(const struct imsedge_conf *conf)
{
	uint64_t want = (uint64_t)conf->max_connections * 5 / 4 + 64 +
		(uint64_t)conf->max_calls * 4 + 256;
	struct rlimit rl;
	int err;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < want) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			log_warn("cannot raise the descriptor limit to %llu",
				 (unsigned long long)want);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < want)
			log_warn("descriptor limit %llu is below the %llu the "
				 "configured limits need",
				 (unsigned long long)rl.rlim_cur,
				 (unsigned long long)want);
		want = rl.rlim_cur;
	}

	err = fd_setsize((int)min(want, (uint64_t)INT32_MAX));
	if (err)
		log_error("fd_setsize(%llu): %m", (unsigned long long)want, err);

	return err;
}


/* media_listen any or an interface: its addresses now; the core side
   defaults to the first of them */
static int media_addrs(const struct imsedge_conf *conf, struct agw_conf *ac)
{
	const char *ifname = conf->media_if;
	unsigned i, n = ARRAY_SIZE(ac->w3_addrv);
	int err;

	err = net_if_addrs(strcmp(ifname, "any") ? ifname : NULL,
			   ac->w3_addrv, &n);
	if (err == ENODEV) {
		log_error("media_listen %s: no such interface", ifname);
		return err;
	}
	if (err) {
		log_error("media_listen %s: no address: %m", ifname, err);
		return err;
	}

	ac->w3_addrc = n;
	ac->media_listen = ac->w3_addrv[0];
	if (!sa_isset(&ac->media_core_addr, SA_ADDR))
		ac->media_core_addr = ac->w3_addrv[0];

	for (i = 0; i < n; i++)
		log_info("media: browsers on %j (%s)", &ac->w3_addrv[i],
			 ifname);

	return 0;
}


/* The media gateway, when media_listen is set; its DTLS certificate is
   the W2 one (browsers check it by the fingerprint in SDP) */
/* core_codecs, amr_wb_mode_set and core_datachannel to the SDP
   interworking */
static void xcode_config(const struct imsedge_conf *conf)
{
	static const int ids[CONF_CODECS] = {
		CODEC_AMRWB, CODEC_AMR, CODEC_PCMA, CODEC_PCMU, CODEC_G722
	};
	int v[CONF_CODECS];
	size_t i;

	for (i = 0; i < conf->core_codecc && i < CONF_CODECS; i++)
		v[i] = ids[conf->core_codecv[i]];

	sdpx_xcode_set(v, i, conf->amr_wb_mode_set);
	sdpx_dcrelay_set(conf->core_dc_relay);
}


static int agw_start(const struct imsedge_conf *conf)
{
	struct agw_conf ac;
	struct tls *tls = NULL;
	int err;

	if (!sa_isset(&conf->media_listen, SA_ADDR) && !conf->media_if) {
		log_info("no media_listen: calls are refused with 488");
		return 0;
	}

	memset(&ac, 0, sizeof(ac));
	ac.media_listen    = conf->media_listen;
	ac.media_core_addr = conf->media_core_addr;
	ac.media_public    = conf->media_public;
	ac.media_core_public = conf->media_core_public;
	ac.port_min        = conf->rtp_port_min;
	ac.port_max        = conf->rtp_port_max;
	ac.max_calls       = conf->max_calls;
	ac.dscp            = conf->media_dscp;
	ac.media_port_shared = conf->media_port_shared;
	ac.media_core_port_shared = conf->media_core_port_shared;
	ac.consent_timeout = conf->consent_timeout;
	ac.transcoding     = conf->transcoding;
	ac.max_xcode       = conf->max_transcoded_calls;
	ac.opus_complexity = (int)conf->opus_complexity;
	xcode_config(conf);
	ac.datachannel     = conf->datachannel;
#ifdef IMSEDGE_NO_DATACHANNEL
	if (ac.datachannel)
		log_info("built without data channels (DATACHANNEL=0, no "
			 "usrsctp): data-channel m-lines are rejected unless "
			 "relayed (core_datachannel relay, a core's offer)");
	ac.datachannel = false;
#endif
	ac.max_datachannels = conf->max_datachannels;
	ac.dc_max_message  = conf->dc_max_message;

	if (conf->media_if) {
		err = media_addrs(conf, &ac);
		if (err)
			return err;
	}

	err = tls_alloc_files(&tls, conf->tls_cert, conf->tls_key);
	if (!err)
		err = agw_alloc(&app.agw, &ac, tls);
	mem_deref(tls);

	if (err)
		log_error("media gateway: %m", err);
	else
		log_info("media: browsers on %j%s, core on %j, ports %u-%u, "
			 "max %u calls", &ac.media_listen,
			 ac.w3_addrc > 1 ? " and more" : "",
			 &ac.media_core_addr, conf->rtp_port_min,
			 conf->rtp_port_max, conf->max_calls);
	if (!err && (sa_isset(&conf->media_public, SA_ADDR) ||
		     sa_isset(&conf->media_core_public, SA_ADDR)))
		log_info("media: advertised as %j (browsers), %j (core)",
			 sa_isset(&conf->media_public, SA_ADDR) ?
			 &conf->media_public : &ac.media_listen,
			 sa_isset(&conf->media_core_public, SA_ADDR) ?
			 &conf->media_core_public : &ac.media_core_addr);

	return err;
}


/* The control socket's commands (imsedge -s) */
static int ctl_cmd(const struct pl *cmd, const struct pl *args,
		   struct mbuf *mb, void *arg)
{
	int err;
	(void)arg;

	if (!pl_strcmp(cmd, "status"))
		return pcscf_status(app.pcscf, mb, !pl_strcmp(args, "json"),
				    w2_conn_count(app.w2));

	if (!pl_strcmp(cmd, "drop")) {
		err = pcscf_drop(app.pcscf, args);
		if (!err) {
			log_info("control: registrations of %r dropped", args);
			(void)mbuf_printf(mb, "dropped %r\n", args);
		}
		return err;
	}

	if (!pl_strcmp(cmd, "end")) {
		err = pcscf_end_call(app.pcscf, args);
		if (!err) {
			log_info("control: call %r ended", args);
			(void)mbuf_printf(mb, "ended %r\n", args);
		}
		return err;
	}

	return ENOTSUP;
}


/* A control socket another imsedge holds is no reason not to start */
static int ctl_start(void)
{
	const char *path = app.conf->control_socket;
	int err = ctl_alloc(&app.ctl, path, ctl_cmd, NULL);

	if (err)
		log_warn("control socket %s: %m: imsedge -s cannot reach this "
			 "instance", path, err);
	else
		log_info("control socket %s", path);

	return 0;
}


/* imsedge -s [-j] [drop AOR | end CALLID] */
static int status_cmd(const char *path, bool json, char *argv[], int argc)
{
	char line[256];
	int err;

	if (argc == 0)
		(void)re_snprintf(line, sizeof(line), "status%s",
				  json ? " json" : "");
	else if (argc == 2 && (!strcmp(argv[0], "drop") ||
			       !strcmp(argv[0], "end")))
		(void)re_snprintf(line, sizeof(line), "%s %s", argv[0],
				  argv[1]);
	else
		return EINVAL;

	if (strchr(line, '\n'))
		return EINVAL;

	err = ctl_client(path, line, stdout);
	if (err && err != EINVAL)
		(void)fprintf(stderr, "imsedge: %s: %s\n", path,
			      strerror(err));

	return err ? 1 : 0;    /* EINVAL from here: the daemon said error */
}


/* -s: the socket named by -c FILE, else the default */
static int status_main(bool json, char *argv[], int argc)
{
	struct imsedge_conf *conf = NULL;
	char errbuf[512];
	int err;

	if (!app.path)
		return status_cmd(CONF_CONTROL_SOCKET, json, argv, argc);

	err = libre_init();
	if (!err)
		err = conf_load(&conf, app.path, errbuf, sizeof(errbuf));
	if (err) {
		(void)fprintf(stderr, "%s\n", errbuf);
		libre_close();
		return 1;
	}

	err = status_cmd(conf->control_socket, json, argv, argc);
	mem_deref(conf);
	libre_close();

	return err;
}


static int metrics_write(struct mbuf *mb, void *arg)
{
	return metrics_print(mb, arg);
}


/* Plain HTTP on loopback (metrics_listen) and/or HTTPS on the WWSF
   (metrics_token) */
static int metrics_start(void)
{
	struct metrics_src src = {app.w2, app.pcscf, app.agw};
	int err;

	if (!sa_isset(&app.conf->metrics_listen, SA_PORT) &&
	    !app.conf->metrics_token)
		return 0;

	err = metrics_alloc(&app.metrics, &app.conf->metrics_listen, &src);
	if (err)
		return err;

	web_set_metrics(app.web, metrics_write, app.metrics);

	return 0;
}


/* Every failed start-up step says so: no exit without a log line */
static int step(int err, const char *what)
{
	if (err)
		log_error("start-up failed: %s: %m", what, err);

	return err;
}


static int run(void)
{
	int err;

	log_info("imsedge %s starting", IMSEDGE_VERSION);

	dbg_handler_set(dbg_print, NULL);
	dbg_init(DBG_WARNING, DBG_NONE);

	err = step(fd_limits(app.conf), "descriptor limit");
	if (!err)
		err = step(sig_init(), "signal setup");
	if (!err)
		err = step(w2_alloc(&app.w2, app.conf), "W2 listener");
	if (!err)
		err = step(crypto_select(app.conf->crypto_provider),
			   "crypto provider");
	if (!err)
		err = step(agw_start(app.conf), "media gateway");
	if (!err)
		err = step(pcscf_alloc(&app.pcscf, app.conf, app.w2,
				       app.agw), "eP-CSCF");
	if (!err)
		err = step(web_alloc(&app.web, app.conf, app.pcscf),
			   "web access (WWSF, WAF, token keys)");
	if (!err)
		err = step(metrics_start(), "metrics");
	if (!err)
		err = ctl_start();
	if (err)
		return err;

	log_info("ready");

	err = re_main(NULL);
	if (err)
		log_error("event loop failed: %m", err);

	log_info("stopped");

	return err;
}


int main(int argc, char *argv[])
{
	struct keygen_prm kg;
	char errbuf[512];
	bool test = false, keygen = false, status = false, json = false;
	const char *users = NULL;
	int c, err;

	trim_setup(argv);
	memset(&kg, 0, sizeof(kg));

	while ((c = getopt(argc, argv, "c:thvk:x:n:a:fu:sj")) != -1) {
		switch (c) {

		case 's':
			status = true;
			break;

		case 'j':
			json = true;
			break;

		case 'c':
			app.path = optarg;
			break;

		case 't':
			test = true;
			break;

		case 'v':
			(void)printf("imsedge %s\n", IMSEDGE_VERSION);
			return 0;

		case 'h':
			usage(stdout);
			return 0;

		case 'u':
			users = optarg;
			break;

		case 'k':
		case 'x':
		case 'n':
		case 'a':
		case 'f':
			keygen = true;
			if (keygen_opt(&kg, c, optarg)) {
				usage(stderr);
				return 2;
			}
			break;

		default:
			usage(stderr);
			return 2;
		}
	}

	if (status) {
		if (test || keygen || users)
			goto usage;
		err = status_main(json, argv + optind, argc - optind);
		if (err == EINVAL)
			goto usage;
		return err;
	}

	if (json)
		goto usage;

	if (users) {
		if (app.path || test || keygen) {
			usage(stderr);
			return 2;
		}

		err = users_cmd(users, argv + optind, argc - optind);
		if (err == EINVAL)
			usage(stderr);

		return err == EINVAL ? 2 : err;
	}

	if (keygen) {
		if (app.path || test || optind != argc || !kg.keyfile ||
		    (!kg.certfile && (kg.cn || kg.sanc))) {
			usage(stderr);
			return 2;
		}

		return keygen_cmd(&kg) ? 1 : 0;
	}

	if (!app.path || optind != argc) {
 usage:
		usage(stderr);
		return 2;
	}

	err = libre_init();
	if (err) {
		(void)fprintf(stderr, "imsedge: libre_init: %s\n",
			      strerror(err));
		return 1;
	}

	err = tls_init();
	if (err) {
		(void)fprintf(stderr, "imsedge: psa_crypto_init: %s\n",
			      strerror(err));
		libre_close();
		return 1;
	}

	/* one DRBG, seeded once, for every random number (libre's too) */
	err = tls_rand_attach();
	if (err) {
		(void)fprintf(stderr, "imsedge: random generator: %s\n",
			      strerror(err));
		libre_close();
		return 1;
	}

	if (test) {
		err = check();
		goto out;
	}

	err = conf_load(&app.conf, app.path, errbuf, sizeof(errbuf));
	if (err) {
		(void)fprintf(stderr, "%s\n", errbuf);
		goto out;
	}

	log_init(app.conf->log_level, app.conf->log_syslog);

	err = run();

 out:
	tmr_cancel(&app.tmr_exit);
	app.ctl = mem_deref(app.ctl);
	web_set_metrics(app.web, NULL, NULL);
	app.metrics = mem_deref(app.metrics);
	app.web = mem_deref(app.web);
	app.pcscf = mem_deref(app.pcscf);
	app.agw = mem_deref(app.agw);
	dc_close();
	app.w2 = mem_deref(app.w2);
	app.conf = mem_deref(app.conf);
	trim_close();
	sig_close();
	log_close();
	tls_rand_detach();
	libre_close();

	return err ? 1 : 0;
}

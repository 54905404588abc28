/**
 * @file agwd.c  mediabench: the AGW under test in its own process
 *
 * The child runs an AGW (libimsedge.a) on 127.0.0.1 and takes one-line
 * text commands on a UDP control socket (its port goes to the parent
 * through a pipe):
 *
 *   new IDX CORE_IP:PORT UFRAG PWD FP   browser offer, AGW passive (DTLS
 *        -> ok CAND UFRAG PWD FP CORE    server), early media allowed
 *   stats -> stats W3 W3DROP CORE CORE_DROP UNLATCHED SESSIONS CLOSED
 *   quit  -> bye
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <re.h>
#include "tls/tlsx.h"
#include "tls/tls_mem.h"
#include "core/log.h"
#include "agw/agw.h"
#include "net/net.h"
#include "agw/agw_int.h"
#include "codec/codec.h"
#include "mb.h"

/* what the calls speak (the parent's --xcode) */
static enum mb_xc agwd_xc;

struct agwd {
	struct agw *agw;
	struct tls *tls;
	struct udp_sock *ctl;
	struct agw_sess **sv;
	unsigned calls;
	unsigned closed;
};


static void close_h(enum agw_close_reason reason, void *arg)
{
	struct agwd *d = arg;

	++d->closed;
	(void)re_fprintf(stderr, "agwd: a session closed (reason %d)\n", reason);
}


static int cmd_new(struct agwd *d, char *args, struct mbuf *rsp)
{
	char core[64], ufrag[257], pwd[257], fp[160];
	struct agw_w3_prm prm;
	struct agw_w3_info wi;
	struct agw_stream_prm sp;
	struct agw_stream_info si;
	struct agw_xcode_prm xp;
	struct sa csa;
	uint8_t ptv[2] = {0, 0};
	unsigned idx, xc = MB_XC_NONE;
	int err;

	if (sscanf(args, "%u %63s %256s %256s %159s %u", &idx, core, ufrag,
		   pwd, fp, &xc) < 5 || idx >= d->calls || d->sv[idx])
		return EINVAL;

	err = sa_decode(&csa, core, strlen(core));
	if (err)
		return err;

	memset(&prm, 0, sizeof(prm));
	str_ncpy(prm.ufrag, ufrag, sizeof(prm.ufrag));
	str_ncpy(prm.pwd, pwd, sizeof(prm.pwd));
	prm.fp_type = TLS_FINGERPRINT_SHA256;
	prm.fp_len = MB_FP_LEN;
	prm.setup = AGW_SETUP_PASSIVE;
	err = mb_fp_parse(prm.fp, MB_FP_LEN, fp);
	if (err)
		return err;

	memset(&sp, 0, sizeof(sp));
	sp.tid = 0;
	sp.ptv = ptv;
	sp.ptc = 1;
	memset(&xp, 0, sizeof(xp));
	if (xc != MB_XC_NONE) {
		xp.w3_pt = MB_OPUS_PT;
		xp.core_codec = xc == MB_XC_OPUS_PCMA ? CODEC_PCMA :
			xc == MB_XC_OPUS_G722 ? CODEC_G722 : CODEC_AMRWB;
		xp.core_pt = xc == MB_XC_OPUS_PCMA ? 8 :
			xc == MB_XC_OPUS_G722 ? 9 : MB_AMRWB_PT;
		ptv[0] = xp.w3_pt;
		ptv[1] = xp.core_pt;
		sp.ptc = 2;
	}

	err = agw_sess_alloc(&d->sv[idx], d->agw, false, close_h, d);
	if (!err)
		err = agw_sess_transport(d->sv[idx], 0, &prm, &wi);
	if (!err)
		err = agw_sess_stream(d->sv[idx], 0, &sp, &si);
	if (!err)
		err = agw_sess_core_peer(d->sv[idx], 0, &csa, NULL);
	if (!err && xc != MB_XC_NONE)
		err = agw_sess_xcode(d->sv[idx], 0, &xp);
	if (err) {
		d->sv[idx] = mem_deref(d->sv[idx]);
		return err;
	}

	agw_sess_early_media(d->sv[idx], true);

	return mbuf_printf(rsp, "ok %J %s %s %s %J", &wi.cand, wi.ufrag,
			   wi.pwd, wi.fingerprint + 8, &si.rtp);
}


static int cmd_stats(struct agwd *d, struct mbuf *rsp)
{
	struct agw_stats sum, st;
	unsigned i;

	memset(&sum, 0, sizeof(sum));
	for (i = 0; i < d->calls; i++) {
		if (!d->sv[i] || agw_sess_stats(d->sv[i], 0, &st))
			continue;
		sum.w3_pkts += st.w3_pkts;
		sum.w3_dropped += st.w3_dropped;
		sum.core_pkts += st.core_pkts;
		sum.core_dropped += st.core_dropped;
		sum.core_unlatched += st.core_unlatched;
	}

	if (d->agw->shared)
		(void)re_fprintf(stderr, "agwd: shared port: %llu datagrams "
			      "from unknown sources\n", (unsigned long long)
			      agw_shared_unknown(d->agw->shared));

	if (d->agw->coreport) {
		uint64_t coll, host;
		uint64_t unk = agw_coreport_unknown(d->agw->coreport, &coll,
						    &host);

		(void)re_fprintf(stderr, "agwd: core port: %llu datagrams "
			      "from unknown sources, %llu collisions, %llu "
			      "by the core's host\n",
			      (unsigned long long)unk,
			      (unsigned long long)coll,
			      (unsigned long long)host);
	}

	/* core side: datagrams per receive and per send call */
	{
		struct net_udp_stats us;
		uint64_t rx = 0, reads = 0, tx = 0, writes = 0;

		for (i = 0; i < d->calls; i++) {
			struct agw_stream *cs = d->sv[i] ?
				agw_sess_stream_find(d->sv[i], 0) : NULL;

			if (!cs || !cs->rtp || (cs->core_shared && i))
				continue;
			net_udp_stats(cs->rtp, &us);
			rx += us.rx;
			reads += us.reads;
			tx += us.tx;
			writes += us.writes;
		}
		(void)re_fprintf(stderr, "agwd: core side: %llu datagrams "
			      "in %llu receive calls (%.2f per call), %llu "
			      "in %llu send calls (%.2f per call)\n",
			      (unsigned long long)rx,
			      (unsigned long long)reads,
			      reads ? (double)rx / (double)reads : 0.0,
			      (unsigned long long)tx,
			      (unsigned long long)writes,
			      writes ? (double)tx / (double)writes : 0.0);
	}

	/* browser side: datagrams per receive call */
	{
		struct net_udp_stats us;
		uint64_t rx = 0, reads = 0, tx = 0, writes = 0, txd = 0;

		for (i = 0; i < d->calls; i++) {
			struct agw_w3 *w3 = d->sv[i] ?
				agw_sess_w3(d->sv[i], 0) : NULL;

			if (!w3 || (w3->shared && i))
				continue;
			net_udp_stats(w3->us, &us);
			rx += us.rx;
			reads += us.reads;
			tx += us.tx;
			writes += us.writes;
			txd += us.tx_dropped;
		}
		(void)re_fprintf(stderr, "agwd: browser side: %llu datagrams "
			      "in %llu receive calls (%.2f per call)\n",
			      (unsigned long long)rx,
			      (unsigned long long)reads,
			      reads ? (double)rx / (double)reads : 0.0);
		(void)re_fprintf(stderr, "agwd: browser side: %llu datagrams "
			      "sent in %llu send calls (%.2f per call), "
			      "%llu refused\n",
			      (unsigned long long)tx,
			      (unsigned long long)writes,
			      writes ? (double)tx / (double)writes : 0.0,
			      (unsigned long long)txd);
	}

	return mbuf_printf(rsp, "stats %llu %llu %llu %llu %llu %u %u",
			   (unsigned long long)sum.w3_pkts,
			   (unsigned long long)sum.w3_dropped,
			   (unsigned long long)sum.core_pkts,
			   (unsigned long long)sum.core_dropped,
			   (unsigned long long)sum.core_unlatched,
			   agw_session_count(d->agw), d->closed);
}


static void ctl_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct agwd *d = arg;
	struct mbuf *rsp = mbuf_alloc(512);
	char req[1024];
	size_t n = min(mbuf_get_left(mb), sizeof(req) - 1);
	int err;

	if (!rsp)
		return;

	memcpy(req, mbuf_buf(mb), n);
	req[n] = '\0';

	if (!strncmp(req, "new ", 4))
		err = cmd_new(d, req + 4, rsp);
	else if (!strcmp(req, "stats"))
		err = cmd_stats(d, rsp);
	else if (!strcmp(req, "ping"))
		err = mbuf_printf(rsp, "pong");
	else if (!strcmp(req, "quit")) {
		err = mbuf_printf(rsp, "bye");
		re_cancel();
	}
	else
		err = EINVAL;

	if (err) {
		rsp->pos = rsp->end = 0;
		(void)mbuf_printf(rsp, "err %m", err);
	}

	rsp->pos = 0;
	(void)udp_send(d->ctl, src, rsp);
	mem_deref(rsp);
}


int mb_agwd_main(int fd, const char *datadir, uint16_t pmin, uint16_t pmax,
		 unsigned calls)
{
	struct agwd d;
	struct agw_conf conf;
	struct sa laddr;
	char cert[512], key[512], port[16];
	unsigned i;
	int err;

	memset(&d, 0, sizeof(d));
	d.calls = calls;
	d.sv = calloc(calls, sizeof(*d.sv));
	if (!d.sv)
		return ENOMEM;

	err = libre_init();
	if (err)
		return err;

	(void)fd_setsize(8192);
	log_init(LOG_LVL_WARN, false);

	/* MB_TLS_MEM_MIN=99999: mbedtls' record buffers in the C heap, as
	   before tls_mem.c (comparisons, docs/figures.md) */
	if (getenv("MB_TLS_MEM_MIN"))
		tls_mem_set_min(strtoul(getenv("MB_TLS_MEM_MIN"), NULL, 10));

	(void)snprintf(cert, sizeof(cert), "%s/cert.pem", datadir);
	(void)snprintf(key, sizeof(key), "%s/key.pem", datadir);

	memset(&conf, 0, sizeof(conf));
	(void)sa_set_str(&conf.media_listen, "127.0.0.1", 0);
	(void)sa_set_str(&conf.media_core_addr, "127.0.0.1", 0);
	conf.port_min = pmin;
	conf.port_max = pmax;
	conf.max_calls = calls;
	conf.consent_timeout = 30;
	/* mediabench --shared: one browser-side port for all calls */
	conf.media_port_shared = getenv("MB_AGW_SHARED") != NULL;
	/* mediabench --core-shared: one core-side port pair for all calls */
	conf.media_core_port_shared = getenv("MB_AGW_CORE_SHARED") != NULL;
	conf.transcoding = true;
	conf.max_xcode = calls;
	conf.opus_complexity = 5;

	(void)sa_set_str(&laddr, "127.0.0.1", 0);

	err = tls_alloc_files(&d.tls, cert, key);
	if (!err)
		err = agw_alloc(&d.agw, &conf, d.tls);
	if (!err)
		err = udp_listen(&d.ctl, &laddr, ctl_recv, &d);
	if (!err)
		err = udp_local_get(d.ctl, &laddr);
	if (err) {
		(void)re_fprintf(stderr, "agwd: start: %s\n", strerror(err));
		goto out;
	}

	(void)snprintf(port, sizeof(port), "%u\n", sa_port(&laddr));
	if (write(fd, port, strlen(port)) < 0)
		err = errno;
	(void)close(fd);

	if (!err)
		err = re_main(NULL);

 out:
	for (i = 0; i < calls; i++)
		mem_deref(d.sv[i]);
	free(d.sv);
	mem_deref(d.ctl);
	mem_deref(d.agw);
	mem_deref(d.tls);
	libre_close();

	return err;
}


/* fork + exec ourselves as "agwd"; the control port comes back through a
   pipe */
int mb_agwd_start(int *pidp, struct sa *ctl, const char *self,
		  const char *datadir, unsigned calls)
{
	char fdarg[16], callarg[16], buf[32];
	int fds[2], pid;
	ssize_t n;

	if (pipe(fds))
		return errno;

	pid = fork();
	if (pid < 0)
		return errno;

	if (pid == 0) {
		(void)close(fds[0]);
		(void)snprintf(fdarg, sizeof(fdarg), "%d", fds[1]);
		(void)snprintf(callarg, sizeof(callarg), "%u", calls);
		execl(self, self, "agwd", fdarg, datadir, callarg,
		      (char *)NULL);
		_exit(127);
	}

	(void)close(fds[1]);
	*pidp = pid;
	n = read(fds[0], buf, sizeof(buf) - 1);
	(void)close(fds[0]);
	if (n <= 0)
		return EPIPE;
	buf[n] = '\0';

	return sa_set_str(ctl, "127.0.0.1", (uint16_t)atoi(buf));
}


/* One blocking request/response on the control socket */
int mb_agwd_cmd(const struct sa *ctl, const char *req, char *rsp, size_t sz)
{
	struct timeval tv = {5, 0};
	ssize_t n;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return errno;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, req, strlen(req), 0, &ctl->u.sa, ctl->len) < 0) {
		err = errno;
		goto out;
	}

	n = recv(fd, rsp, sz - 1, 0);
	if (n < 0) {
		err = errno == EAGAIN ? ETIMEDOUT : errno;
		goto out;
	}
	rsp[n] = '\0';

 out:
	(void)close(fd);
	return err;
}


/* what the next calls speak */
void mb_agwd_xc(enum mb_xc xc)
{
	agwd_xc = xc;
}


int mb_agwd_setup(void *arg, unsigned idx, const struct sa *br,
		  const struct sa *core, const char *lufrag,
		  const char *lpwd, const char *lfp, struct mb_call_prm *prm)
{
	const struct sa *ctl = arg;
	char req[512], rsp[512], cand[64], rcore[64], fp[160];
	int err;

	(void)br;
	(void)re_snprintf(req, sizeof(req), "new %u %J %s %s %s %u", idx,
			  core, lufrag, lpwd, lfp, (unsigned)agwd_xc);

	err = mb_agwd_cmd(ctl, req, rsp, sizeof(rsp));
	if (err)
		return err;

	memset(prm, 0, sizeof(*prm));
	if (sscanf(rsp, "ok %63s %64s %128s %159s %63s", cand, prm->rufrag,
		   prm->rpwd, fp, rcore) != 5) {
		(void)re_fprintf(stderr, "agwd: call %u: %s\n", idx, rsp);
		return EPROTO;
	}

	prm->br_server = false;
	err = sa_decode(&prm->w3, cand, strlen(cand));
	if (!err)
		err = sa_decode(&prm->core, rcore, strlen(rcore));
	if (!err)
		err = mb_fp_parse(prm->rfp, MB_FP_LEN, fp);

	return err;
}

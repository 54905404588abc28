/**
 * @file main.c  lwIP test build: src/net/ (compiled with -DNET_LWIP) and
 *               the eIMS-AGW's relay on lwIP's sockets and stack
 *
 * Everything binds to ADDR, an address only lwIP's netif has (the
 * kernel has no such address: a kernel socket cannot even bind it).
 * This loop is the readiness seam: stack_poll() (lwip_poll()) on
 * net_udp_fd(), then net_udp_drain().
 *
 *   1. relay: sender -> net_udp in -> net_udp out -> receiver, N
 *      datagrams of varying size, every byte and the order checked
 *   2. agw: a browser's STUN check, SRTP through the AGW's W3 socket to
 *      plain RTP at a core socket, and plain RTP back as SRTP, all
 *      through the AGW's own code (agw.c, w3.c, ice.c, core.c, relay.c)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <re.h>
#include "net/net.h"
#include "tls/tlsx.h"
#include "tls/dtls.h"
#include "srtp/srtp.h"
#include "agw/agw.h"
#include "agw/agw_int.h"
#include "core/log.h"
#include "stack.h"

#define ADDR "192.0.2.1"     /* TEST-NET-1 (RFC 5737) */

enum {
	RELAY_N  = 2000,
	BURST    = 16,
	AGW_N    = 200,
	SOCK_MAX = 8,
};

#define CHECK(cond) do {                                               \
		if (!(cond)) {                                         \
			(void)fprintf(stderr, "%s:%d: %s failed\n",    \
				      __FILE__, __LINE__, #cond);      \
			err = err ? err : EINVAL;                      \
			goto out;                                      \
		}                                                      \
	} while (0)

struct rx {
	struct net_udp *fwd;         /* relay: send what arrives here */
	struct sa fwd_dst;
	struct sa src;
	uint8_t buf[1600];
	size_t len;
	unsigned n;
	unsigned bad;
	bool seq;                    /* check datagram n of seq_fill() */
};

static struct net_udp *socks[SOCK_MAX];
static unsigned sockc;


/* Datagram i: i as two bytes, then (i * 7) % 1200 bytes of (i + k) */
static size_t seq_fill(uint8_t *p, unsigned i)
{
	size_t k, len = 2 + (i * 7) % 1200;

	p[0] = (uint8_t)(i >> 8);
	p[1] = (uint8_t)i;
	for (k = 2; k < len; k++)
		p[k] = (uint8_t)(i + k);

	return len;
}


static void recv_h(const struct sa *src, uint8_t *buf, size_t len,
		   void *arg)
{
	struct rx *rx = arg;
	uint8_t want[1600];

	if (rx->fwd) {
		if (net_udp_send(rx->fwd, &rx->fwd_dst, buf, len))
			++rx->bad;
		++rx->n;
		return;
	}

	if (rx->seq && (len != seq_fill(want, rx->n) ||
			memcmp(buf, want, len)))
		++rx->bad;

	rx->src = *src;
	rx->len = min(len, sizeof(rx->buf));
	memcpy(rx->buf, buf, rx->len);
	++rx->n;
}


/* The readiness seam: lwip_poll() on every socket, drain the ready */
static void pump(int timeout_ms)
{
	struct pollfd pfd[SOCK_MAX];
	unsigned i;

	for (i = 0; i < sockc; i++) {
		pfd[i].fd = net_udp_fd(socks[i]);
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}

	if (stack_poll(pfd, sockc, timeout_ms) <= 0)
		return;

	for (i = 0; i < sockc; i++) {
		if (pfd[i].revents & POLLIN)
			(void)net_udp_drain(socks[i]);
	}
}


static int wait_n(const struct rx *rx, unsigned want)
{
	uint64_t t0 = tmr_jiffies();

	while (rx->n < want) {
		if (tmr_jiffies() - t0 > 5000)
			return ETIMEDOUT;
		pump(100);
	}

	return 0;
}


static int sock_open(struct net_udp **up, struct rx *rx, struct sa *addr)
{
	struct sa laddr;
	int err;

	(void)sa_set_str(&laddr, ADDR, 0);
	err = net_udp_open(up, &laddr, 1500, recv_h, rx);
	if (!err && addr)
		err = net_udp_local(*up, addr);
	if (!err && sockc < SOCK_MAX)
		socks[sockc++] = *up;

	return err;
}


static unsigned kernel_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!d)
		return 0;
	while (readdir(d))
		++n;
	(void)closedir(d);

	return n;
}


/* Proof that a socket is lwIP's: lwIP knows the number, lwIP's UDP has
   its port, the kernel cannot bind its address */
static int on_lwip(const struct net_udp *u)
{
	struct sa a;
	int err;

	err = net_udp_local(u, &a);
	if (err)
		return err;

	if (!stack_is_socket(net_udp_fd(u)) || !stack_udp_bound(sa_port(&a)))
		return ENOTSOCK;

	return 0;
}


static int kernel_bind(void)
{
	struct sa a;
	int fd, err = 0;

	(void)sa_set_str(&a, ADDR, 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return errno;
	if (bind(fd, &a.u.sa, a.len) < 0)
		err = errno;
	(void)close(fd);

	return err;
}


/* 1. sender -> relay (net_udp in, net_udp out) -> receiver */
static int test_relay(void)
{
	struct net_udp *snd = NULL, *rin = NULL, *rout = NULL, *recv = NULL;
	struct rx rx_snd, rx_rin, rx_rout, rx_recv;
	struct net_udp_stats st;
	struct sa a_rin, a_recv;
	uint8_t buf[1600];
	unsigned fds0 = kernel_fds(), i, k;
	uint64_t wire0 = stack_wire_out();
	int err;

	memset(&rx_snd, 0, sizeof(rx_snd));
	memset(&rx_rin, 0, sizeof(rx_rin));
	memset(&rx_rout, 0, sizeof(rx_rout));
	memset(&rx_recv, 0, sizeof(rx_recv));
	rx_recv.seq = true;

	err = sock_open(&snd, &rx_snd, NULL);
	if (!err)
		err = sock_open(&rin, &rx_rin, &a_rin);
	if (!err)
		err = sock_open(&rout, &rx_rout, NULL);
	if (!err)
		err = sock_open(&recv, &rx_recv, &a_recv);
	CHECK(!err);

	rx_rin.fwd = rout;
	rx_rin.fwd_dst = a_recv;

	CHECK(!on_lwip(snd) && !on_lwip(rin) && !on_lwip(rout) &&
	      !on_lwip(recv));
	CHECK(kernel_fds() == fds0);
	CHECK(kernel_bind() == EADDRNOTAVAIL);

	for (i = 0; i < RELAY_N; i += BURST) {

		for (k = i; k < i + BURST && k < RELAY_N; k++)
			CHECK(!net_udp_send(snd, &a_rin, buf,
					    seq_fill(buf, k)));

		err = wait_n(&rx_recv, k);
		CHECK(!err);
	}

	CHECK(rx_rin.n == RELAY_N && rx_rin.bad == 0);
	CHECK(rx_recv.n == RELAY_N && rx_recv.bad == 0);
	net_udp_stats(rin, &st);
	CHECK(st.rx == RELAY_N && st.rx_oversize == 0);
	CHECK(stack_wire_out() == wire0);

	(void)printf("relay: %u datagrams sender -> relay -> receiver on "
		     "lwIP, in order, intact (%llu reads at the relay)\n",
		     rx_recv.n, (unsigned long long)st.reads);

 out:
	sockc = 0;
	mem_deref(snd);
	mem_deref(rin);
	mem_deref(rout);
	mem_deref(recv);
	return err;
}


/* --- 2. the AGW ------------------------------------------------------ */

static const uint8_t key_b[30] = {1}, key_a[30] = {2};


static int tls_new(struct tls **tlsp)
{
	int err = tls_alloc(tlsp, TLS_METHOD_SSLV23, NULL, NULL);

	if (!err)
		err = tls_set_certificate_files(*tlsp, "test/data/cert.pem",
						"test/data/key.pem", NULL);
	return err;
}


/* A check from the browser socket; the AGW answers over lwIP */
static int check(struct net_udp *br, struct rx *rx, struct agw_w3 *w3,
		 const struct sa *dst)
{
	uint32_t prio = 0x6e001eff;
	uint64_t tiebrk = 1;
	uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	bool use_cand = true;
	char user[64];
	struct mbuf *mb = mbuf_alloc(256);
	unsigned n0 = rx->n;
	int err;

	if (!mb)
		return ENOMEM;

	(void)re_snprintf(user, sizeof(user), "%s:brUfrag1", w3->ufrag);
	err = stun_msg_encode(mb, STUN_METHOD_BINDING, STUN_CLASS_REQUEST,
			      tid, NULL, (uint8_t *)w3->pwd, strlen(w3->pwd),
			      true, 0, 4,
			      STUN_ATTR_USERNAME, user,
			      STUN_ATTR_PRIORITY, &prio,
			      STUN_ATTR_CONTROLLING, &tiebrk,
			      STUN_ATTR_USE_CAND, &use_cand);
	if (!err)
		err = net_udp_send(br, dst, mb->buf, mb->end);
	if (!err)
		err = wait_n(rx, n0 + 1);

	/* a Binding success response (0x0101) */
	if (!err && (rx->len < 20 || rx->buf[0] != 0x01 ||
		     rx->buf[1] != 0x01))
		err = EPROTO;

	mem_deref(mb);
	return err;
}


static size_t rtp_fill(uint8_t *p, unsigned i)
{
	size_t k, len = 12 + 20 + i % 140;

	p[0] = 0x80;
	p[1] = 111;
	p[2] = (uint8_t)(i >> 8);
	p[3] = (uint8_t)i;
	memset(p + 4, 0, 4);
	p[4] = (uint8_t)(i >> 8);
	p[5] = (uint8_t)i;
	p[8] = 0x11; p[9] = 0x22; p[10] = 0x33; p[11] = 0x44;
	for (k = 12; k < len; k++)
		p[k] = (uint8_t)(i * 3 + k);

	return len;
}


struct agw_fix {
	struct tls *tls;
	struct agw *agw;
	struct agw_sess *s;
	struct net_udp *br, *core;
	struct rx rx_br, rx_core;
	struct sa a_core;
	struct srtpx *srtp;          /* the browser's */
};


static int agw_fix_open(struct agw_fix *f)
{
	struct agw_stream_prm sp;
	struct agw_w3_prm prm;
	struct agw_conf conf;
	uint32_t ssrc = 0x11223344;
	uint8_t pt = 111;
	int err;

	memset(&conf, 0, sizeof(conf));
	(void)sa_set_str(&conf.media_listen, ADDR, 0);
	(void)sa_set_str(&conf.media_core_addr, ADDR, 0);
	conf.port_min = 30000;
	conf.port_max = 30099;
	conf.max_calls = 2;
	conf.dscp = 46;
	conf.consent_timeout = 30;

	memset(&prm, 0, sizeof(prm));
	str_ncpy(prm.ufrag, "brUfrag1", sizeof(prm.ufrag));
	str_ncpy(prm.pwd, "browserPassword0123456789", sizeof(prm.pwd));
	prm.fp_type = TLS_FINGERPRINT_SHA256;
	prm.fp_len = 32;
	prm.setup = AGW_SETUP_PASSIVE;

	memset(&sp, 0, sizeof(sp));
	sp.core_rtcp_mux = true;
	sp.ssrcv = &ssrc;
	sp.ssrcc = 1;
	sp.ptv = &pt;
	sp.ptc = 1;

	err = tls_new(&f->tls);
	if (!err)
		err = agw_alloc(&f->agw, &conf, f->tls);
	if (!err)
		err = agw_sess_alloc(&f->s, f->agw, false, NULL, NULL);
	if (!err)
		err = agw_sess_transport(f->s, 0, &prm, NULL);
	if (!err)
		err = agw_sess_stream(f->s, 0, &sp, NULL);
	if (!err)
		err = sock_open(&f->br, &f->rx_br, NULL);
	if (!err)
		err = sock_open(&f->core, &f->rx_core, &f->a_core);
	if (!err)
		err = agw_sess_core_peer(f->s, 0, &f->a_core, NULL);
	if (!err)
		err = srtpx_alloc(&f->srtp, SRTP_AES_CM_128_HMAC_SHA1_80,
				  key_b, key_a);
	if (!err)
		agw_sess_early_media(f->s, true);

	return err;
}


static void agw_fix_close(struct agw_fix *f)
{
	sockc = 0;
	mem_deref(f->srtp);
	mem_deref(f->br);
	mem_deref(f->core);
	mem_deref(f->s);
	mem_deref(f->agw);
	mem_deref(f->tls);
}


/* Browser -> AGW (SRTP in, plain RTP out) -> core, then back */
static int agw_relay(struct agw_fix *f, struct agw_w3 *w3,
		     struct agw_stream *st)
{
	uint8_t buf[1600], want[1600];
	unsigned i;
	size_t len, n;
	int err = 0;

	for (i = 0; i < AGW_N; i++) {

		len = rtp_fill(buf, i);
		CHECK(!srtpx_protect(f->srtp, buf, &len, sizeof(buf)));
		CHECK(!net_udp_send(f->br, &w3->laddr, buf, len));
		err = wait_n(&f->rx_core, i + 1);
		CHECK(!err);
		n = rtp_fill(want, i);
		CHECK(f->rx_core.len == n && !memcmp(f->rx_core.buf, want, n));
	}

	for (i = 0; i < AGW_N; i++) {
		struct sa a_rtp;

		CHECK(!net_udp_local(st->rtp, &a_rtp));
		n = rtp_fill(want, 1000 + i);
		CHECK(!net_udp_send(f->core, &a_rtp, want, n));
		err = wait_n(&f->rx_br, i + 2);
		CHECK(!err);
		len = f->rx_br.len;
		memcpy(buf, f->rx_br.buf, len);
		CHECK(!srtpx_unprotect(f->srtp, buf, &len));
		CHECK(len == n && !memcmp(buf, want, n));
	}

 out:
	return err;
}


static int test_agw(void)
{
	struct agw_stream *st;
	struct agw_w3 *w3;
	struct agw_stats stats;
	struct agw_fix f;
	int err;

	memset(&f, 0, sizeof(f));
	err = agw_fix_open(&f);
	CHECK(!err);

	w3 = agw_sess_w3(f.s, 0);
	st = agw_sess_stream_find(f.s, 0);
	CHECK(w3 && st && st->rtp);
	socks[sockc++] = w3->us;
	socks[sockc++] = st->rtp;
	CHECK(!on_lwip(w3->us) && !on_lwip(st->rtp));

	err = check(f.br, &f.rx_br, w3, &w3->laddr);
	CHECK(!err);
	CHECK(w3->have_peer && w3->nominated);

	/* keys as if DTLS-SRTP had run: the AGW's mirror the browser's */
	CHECK(!srtpx_alloc(&w3->srtp, SRTP_AES_CM_128_HMAC_SHA1_80, key_a,
			   key_b));

	err = agw_relay(&f, w3, st);
	CHECK(!err);

	CHECK(!agw_sess_stats(f.s, 0, &stats));
	CHECK(stats.w3_pkts == AGW_N && stats.core_pkts == AGW_N);
	CHECK(stats.w3_dropped == 0 && stats.core_dropped == 0);

	(void)printf("agw: STUN check answered, %u SRTP -> RTP and %u RTP "
		     "-> SRTP through the AGW on lwIP\n", AGW_N, AGW_N);

 out:
	agw_fix_close(&f);
	return err;
}


int main(void)
{
	int err;

	err = libre_init();
	if (err)
		return 1;
	log_init(getenv("IMSEDGE_TEST_LOG") ? LOG_LVL_DEBUG :
		 LOG_LVL_ERROR + 1, false);

	err = stack_up(ADDR);
	if (err) {
		(void)fprintf(stderr, "lwIP: %s\n", strerror(err));
		return 1;
	}

	err = test_relay();
	if (!err)
		err = test_agw();

	libre_close();
	(void)printf("lwip-test: %s (net_udp on lwIP, %s)\n",
		     err ? "FAILED" : "ok",
		     net_udp_mmsg() ? "recvmmsg" : "recvfrom loop");

	return err ? 1 : 0;
}

/**
 * @file ng.c  mediabench: rtpengine-daemon (userspace) driven over its ng
 *             control protocol (bencode over UDP, "COOKIE DICT")
 *
 * Per call: "offer" with the browser's SDP (UDP/TLS/RTP/SAVPF, ICE,
 * fingerprint, rtcp-mux) and flags that make the core side plain RTP/AVP
 * without ICE; "answer" with the core's plain SDP. rtpengine then does
 * ICE and DTLS-SRTP toward the browser, as the AGW does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <re.h>
#include "mb.h"

enum { NG_BUF = 8192 };


/* --- bencode ---------------------------------------------------------- */

static int b_str(struct mbuf *mb, const char *s)
{
	return mbuf_printf(mb, "%zu:%s", strlen(s), s);
}


static int b_kv(struct mbuf *mb, const char *k, const char *v)
{
	int err = b_str(mb, k);

	return err ? err : b_str(mb, v);
}


/* Skip one bencoded value at *p; 0 on success */
static int b_skip(const char **p, const char *end)
{
	const char *q = *p;
	char *e;
	unsigned long n;

	if (q >= end)
		return EBADMSG;

	if (*q == 'i') {
		q = memchr(q, 'e', (size_t)(end - q));
		if (!q)
			return EBADMSG;
		*p = q + 1;
		return 0;
	}

	if (*q == 'l' || *q == 'd') {
		++q;
		while (q < end && *q != 'e') {
			if (b_skip(&q, end))
				return EBADMSG;
		}
		if (q >= end)
			return EBADMSG;
		*p = q + 1;
		return 0;
	}

	n = strtoul(q, &e, 10);
	if (e >= end || *e != ':' || (size_t)(end - e - 1) < n)
		return EBADMSG;
	*p = e + 1 + n;

	return 0;
}


/* The string value of top-level key k of a dictionary, as a pl */
static int b_get(struct pl *val, const char *p, const char *end,
		 const char *k)
{
	const char *ks, *vs;
	char *e;
	unsigned long n;

	if (p >= end || *p != 'd')
		return EBADMSG;
	++p;

	while (p < end && *p != 'e') {
		ks = p;
		if (b_skip(&p, end))
			return EBADMSG;
		vs = p;
		if (b_skip(&p, end))
			return EBADMSG;

		n = strtoul(ks, &e, 10);
		if (n != strlen(k) || memcmp(e + 1, k, n))
			continue;
		if (*vs < '0' || *vs > '9')
			return EPROTO;
		n = strtoul(vs, &e, 10);
		val->p = e + 1;
		val->l = n;
		return 0;
	}

	return ENOENT;
}


static int ng_cmd(const struct sa *ng, struct mbuf *req, char *rsp,
		  size_t sz, struct pl *dict)
{
	static unsigned cookie;
	char ck[32], *sp;
	struct timeval tv = {3, 0};
	struct mbuf *mb;
	ssize_t n = -1;
	int fd, err = 0, tries;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	(void)snprintf(ck, sizeof(ck), "mb%u_%d", ++cookie, getpid());
	mb = mbuf_alloc(req->end + 64);
	if (!mb) {
		err = ENOMEM;
		goto out;
	}
	err = mbuf_printf(mb, "%s %b", ck, req->buf, req->end);
	if (err)
		goto out;

	for (tries = 0; tries < 3 && n < 0; tries++) {
		if (sendto(fd, mb->buf, mb->end, 0, &ng->u.sa, ng->len) < 0) {
			err = errno;
			goto out;
		}
		n = recv(fd, rsp, sz - 1, 0);
	}
	if (n < 0) {
		err = ETIMEDOUT;
		goto out;
	}
	rsp[n] = '\0';

	sp = memchr(rsp, ' ', (size_t)n);
	if (!sp || (size_t)(sp - rsp) != strlen(ck) ||
	    memcmp(rsp, ck, strlen(ck))) {
		err = EPROTO;
		goto out;
	}

	dict->p = sp + 1;
	dict->l = (size_t)(rsp + n - sp - 1);

 out:
	mem_deref(mb);
	(void)close(fd);
	return err;
}


/* Send a command, check result "ok", return the "sdp" string */
static int ng_sdp(const struct sa *ng, struct mbuf *req, char *rsp,
		  size_t sz, struct pl *sdp)
{
	struct pl dict, res, why;
	int err;

	err = ng_cmd(ng, req, rsp, sz, &dict);
	if (err)
		return err;

	err = b_get(&res, dict.p, dict.p + dict.l, "result");
	if (err || pl_strcmp(&res, "ok")) {
		if (!b_get(&why, dict.p, dict.p + dict.l, "error-reason"))
			(void)re_fprintf(stderr, "rtpengine: %r\n", &why);
		else
			(void)re_fprintf(stderr, "rtpengine: %r\n", &dict);
		return EPROTO;
	}

	return b_get(sdp, dict.p, dict.p + dict.l, "sdp");
}


/* --- SDP ---------------------------------------------------------------- */

static int sdp_line(const struct pl *sdp, const char *pfx, struct pl *val)
{
	const char *p = sdp->p, *end = sdp->p + sdp->l, *eol;
	size_t n = strlen(pfx);

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) >= n && !memcmp(p, pfx, n)) {
			val->p = p + n;
			val->l = (size_t)(eol - p) - n;
			if (val->l && val->p[val->l - 1] == '\r')
				--val->l;
			return 0;
		}
		p = eol + 1;
	}

	return ENOENT;
}


/* c= address and m=audio port */
static int sdp_addr(const struct pl *sdp, struct sa *sa)
{
	struct pl c, m, ip, port;

	if (sdp_line(sdp, "c=IN IP4 ", &c) || sdp_line(sdp, "m=audio ", &m))
		return EBADMSG;
	if (re_regex(c.p, c.l, "[0-9.]+", &ip) ||
	    re_regex(m.p, m.l, "[0-9]+", &port))
		return EBADMSG;

	return sa_set(sa, &ip, (uint16_t)pl_u32(&port));
}


/* --- the daemon ------------------------------------------------------- */

int mb_rtpe_start(int *pidp, struct sa *ng, const char *log)
{
	char ngarg[64];
	struct mbuf *req;
	char rsp[256];
	struct pl dict;
	uint16_t port = (uint16_t)(22400 + getpid() % 500);
	int pid, fd, i, err = ETIMEDOUT;

	(void)snprintf(ngarg, sizeof(ngarg), "--listen-ng=127.0.0.1:%u", port);
	(void)sa_set_str(ng, "127.0.0.1", port);

	pid = fork();
	if (pid < 0)
		return errno;

	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			(void)dup2(fd, 1);
			(void)dup2(fd, 2);
		}
		execlp("rtpengine", "rtpengine", "--config-file=none",
		       "--table=-1", "--interface=127.0.0.1", ngarg,
		       "--foreground", "--log-stderr", "--log-level=5",
		       "--port-min=40000", "--port-max=44999",
		       "--dtls-passive", (char *)NULL);
		_exit(127);
	}

	*pidp = pid;

	req = mbuf_alloc(64);
	if (!req)
		return ENOMEM;
	(void)mbuf_printf(req, "d");
	(void)b_kv(req, "command", "ping");
	(void)mbuf_printf(req, "e");

	for (i = 0; i < 50; i++) {
		usleep(100000);
		if (!ng_cmd(ng, req, rsp, sizeof(rsp), &dict) &&
		    strstr(rsp, "pong")) {
			err = 0;
			break;
		}
	}

	mem_deref(req);
	return err;
}


static enum mb_xc rtpe_xc;


/* what the next calls speak: Opus from the browser, PCMA or G.722 from
   the core (rtpengine has no AMR-WB encoder) */
void mb_rtpe_xc(enum mb_xc xc)
{
	rtpe_xc = xc;
}


int mb_rtpe_setup(void *arg, unsigned idx, const struct sa *br,
		  const struct sa *core, const char *lufrag,
		  const char *lpwd, const char *lfp, struct mb_call_prm *prm)
{
	const struct sa *ng = arg;
	char callid[32], *rsp = NULL, *sdpb = NULL;
	struct mbuf *req = NULL;
	struct pl sdp, v;
	int err;

	memset(prm, 0, sizeof(*prm));
	(void)snprintf(callid, sizeof(callid), "mbcall%u-%d", idx, getpid());

	rsp = malloc(NG_BUF);
	sdpb = malloc(NG_BUF);
	req = mbuf_alloc(NG_BUF);
	if (!rsp || !sdpb || !req) {
		err = ENOMEM;
		goto out;
	}

	/* the browser's offer */
	(void)re_snprintf(sdpb, NG_BUF,
		"v=0\r\no=- %u 1 IN IP4 %j\r\ns=-\r\n"
		"c=IN IP4 %j\r\nt=0 0\r\n"
		"m=audio %u UDP/TLS/RTP/SAVPF %s\r\n"
		"a=mid:0\r\na=rtpmap:%s\r\na=sendrecv\r\n"
		"a=rtcp-mux\r\na=setup:actpass\r\n"
		"a=fingerprint:sha-256 %s\r\n"
		"a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
		"a=candidate:1 1 udp 2130706431 %j %u typ host\r\n"
		"a=end-of-candidates\r\n",
		idx + 1, br, br, sa_port(br), rtpe_xc ? "111" : "0",
		rtpe_xc ? "111 opus/48000/2" : "0 PCMU/8000", lfp, lufrag,
		lpwd, br, sa_port(br));

	err  = mbuf_printf(req, "d");
	err |= b_kv(req, "command", "offer");
	err |= b_kv(req, "call-id", callid);
	err |= b_kv(req, "from-tag", "browser");
	err |= b_kv(req, "sdp", sdpb);
	err |= b_kv(req, "ICE", "remove");
	err |= b_kv(req, "transport-protocol", "RTP/AVP");
	err |= mbuf_printf(req, "8:rtcp-muxl5:demuxe");
	if (rtpe_xc == MB_XC_OPUS_G722)  /* offer the core G.722: transcoded */
		err |= mbuf_printf(req, "5:codecd9:transcodel4:G722ee");
	else if (rtpe_xc)    /* offer the core PCMA too: transcoded */
		err |= mbuf_printf(req, "5:codecd9:transcodel4:PCMAee");
	err |= mbuf_printf(req, "e");
	if (err) {
		err = ENOMEM;
		goto out;
	}

	err = ng_sdp(ng, req, rsp, NG_BUF, &sdp);
	if (!err)
		err = sdp_addr(&sdp, &prm->core);
	if (err) {
		(void)re_fprintf(stderr, "rtpengine: offer: %m\n", err);
		goto out;
	}

	/* the core's answer */
	(void)re_snprintf(sdpb, NG_BUF,
		"v=0\r\no=- %u 1 IN IP4 127.0.0.1\r\ns=-\r\n"
		"c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio %u RTP/AVP %s\r\n"
		"a=rtpmap:%s\r\na=sendrecv\r\n",
		idx + 1, sa_port(core), rtpe_xc == MB_XC_OPUS_G722 ? "9" :
		rtpe_xc ? "8" : "0", rtpe_xc == MB_XC_OPUS_G722 ?
		"9 G722/8000" : rtpe_xc ? "8 PCMA/8000" : "0 PCMU/8000");

	mbuf_rewind(req);
	err  = mbuf_printf(req, "d");
	err |= b_kv(req, "command", "answer");
	err |= b_kv(req, "call-id", callid);
	err |= b_kv(req, "from-tag", "browser");
	err |= b_kv(req, "to-tag", "core");
	err |= b_kv(req, "sdp", sdpb);
	err |= mbuf_printf(req, "e");
	if (err) {
		err = ENOMEM;
		goto out;
	}

	err = ng_sdp(ng, req, rsp, NG_BUF, &sdp);
	if (err) {
		(void)re_fprintf(stderr, "rtpengine: answer: %m\n", err);
		goto out;
	}

	err = sdp_addr(&sdp, &prm->w3);
	if (!err)
		err = sdp_line(&sdp, "a=ice-ufrag:", &v);
	if (!err)
		err = pl_strcpy(&v, prm->rufrag, sizeof(prm->rufrag));
	if (!err)
		err = sdp_line(&sdp, "a=ice-pwd:", &v);
	if (!err)
		err = pl_strcpy(&v, prm->rpwd, sizeof(prm->rpwd));
	if (!err)
		err = sdp_line(&sdp, "a=fingerprint:sha-256 ", &v);
	if (!err) {
		char fp[128];

		(void)pl_strcpy(&v, fp, sizeof(fp));
		err = mb_fp_parse(prm->rfp, MB_FP_LEN, fp);
	}
	if (!err && !sdp_line(&sdp, "a=setup:", &v))
		prm->br_server = !pl_strcmp(&v, "active");
	if (err) {
		(void)re_fprintf(stderr, "rtpengine: answer SDP without ICE/DTLS "
			      "(%m):\n%r\n", err, &sdp);
		goto out;
	}

	if (idx == 0 && getenv("MB_DEBUG"))
		(void)re_fprintf(stderr, "rtpengine answer:\n%r\n", &sdp);

 out:
	mem_deref(req);
	free(sdpb);
	free(rsp);
	return err;
}

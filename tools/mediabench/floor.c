/**
 * @file floor.c  mediabench: the floor, measured in this process
 *
 * What relaying one packet cannot avoid: libsrtp protect and unprotect of
 * a 172-byte RTP packet (srtpx, the wrapper the AGW uses, with the suite
 * DTLS negotiated) and a sendto + recvfrom pair on loopback UDP.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <re.h>
#include "srtp/srtp.h"
#include "mb.h"

enum {
	BATCH  = 1000,
	ROUNDS = 200,                /* 200k packets */
	SYS_N  = 200000,
	CAP    = 256,
};


static int srtp_floor(enum srtp_suite suite, double *prot_ns,
		      double *unprot_ns)
{
	static uint8_t pkt[BATCH][CAP];
	static size_t len[BATCH];
	uint8_t ka[64], kb[64];
	struct srtpx *a = NULL, *b = NULL;
	uint64_t tp = 0, tu = 0, t;
	unsigned r, i, seq = 0;
	int err;

	rand_bytes(ka, sizeof(ka));
	rand_bytes(kb, sizeof(kb));

	err = srtpx_alloc(&a, suite, ka, kb);
	if (!err)
		err = srtpx_alloc(&b, suite, kb, ka);
	if (err)
		goto out;

	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < BATCH; i++, seq++) {
			memset(pkt[i], 0, MB_PKT);
			pkt[i][0] = 0x80;
			pkt[i][2] = (uint8_t)(seq >> 8);
			pkt[i][3] = (uint8_t)seq;
			pkt[i][4] = (uint8_t)(seq >> 16);
			pkt[i][11] = 1;
			len[i] = MB_PKT;
		}

		t = mb_now_ns();
		for (i = 0; i < BATCH && !err; i++)
			err = srtpx_protect(a, pkt[i], &len[i], CAP);
		tp += mb_now_ns() - t;

		t = mb_now_ns();
		for (i = 0; i < BATCH && !err; i++)
			err = srtpx_unprotect(b, pkt[i], &len[i]);
		tu += mb_now_ns() - t;

		if (err)
			goto out;
	}

	*prot_ns = (double)tp / (ROUNDS * BATCH);
	*unprot_ns = (double)tu / (ROUNDS * BATCH);

 out:
	mem_deref(a);
	mem_deref(b);
	return err;
}


static int sys_floor(double *ns)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	uint8_t buf[CAP];
	int s1, s2, i, err = 0;
	uint64_t t;

	s1 = socket(AF_INET, SOCK_DGRAM, 0);
	s2 = socket(AF_INET, SOCK_DGRAM, 0);
	if (s1 < 0 || s2 < 0) {
		err = errno;
		goto out;
	}

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s2, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(s2, (struct sockaddr *)&sin, &sl)) {
		err = errno;
		goto out;
	}

	memset(buf, 0, sizeof(buf));
	t = mb_now_ns();
	for (i = 0; i < SYS_N; i++) {
		if (sendto(s1, buf, MB_PKT + 10, 0, (struct sockaddr *)&sin,
			   sizeof(sin)) < 0 ||
		    recvfrom(s2, buf, sizeof(buf), 0, NULL, NULL) < 0) {
			err = errno;
			goto out;
		}
	}
	*ns = (double)(mb_now_ns() - t) / SYS_N;

 out:
	if (s1 >= 0)
		(void)close(s1);
	if (s2 >= 0)
		(void)close(s2);
	return err;
}


int mb_floor(unsigned suite, struct mb_result *res, double *prot_ns,
	     double *unprot_ns, double *sys_ns)
{
	int err;

	err = srtp_floor((enum srtp_suite)suite, prot_ns, unprot_ns);
	if (!err)
		err = sys_floor(sys_ns);

	memset(res, 0, sizeof(*res));
	res->name = "floor";

	return err;
}

/**
 * @file fuzz_dtls.c  Fuzz the DTLS session with received datagrams
 *
 * Input: one mode byte (bit 0: client role, else server; bit 1: server
 * with HelloVerifyRequest cookies; bit 2: a peer fingerprint nobody
 * has), then datagrams, each a 16-bit
 * big-endian length and that many bytes. A client sends its ClientHello
 * first. The seeds in corpus/dtls are datagrams of a real handshake
 * between two sessions (test/unit/dtls.c).
 */
#include <string.h>
#include <re.h>
#include "tls/tlsx.h"
#include "tls/dtls.h"
#include "core/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* test/data/cert.pem and key.pem (P-256, CN=localhost) */
static const char pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBmzCCAUGgAwIBAgIUMwgIuek50Fh35aBoBSjSb/Y0ZNkwCgYIKoZIzj0EAwIw\n"
	"FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMTA4NDYwMVoYDzIxMjYxMDI4\n"
	"MDg0NjAxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
	"PQMBBwNCAASeBguv8FTzvDvhGwIQ+KbgunijQ9lQg+G8mM/mblSunwo7fo16VChm\n"
	"ODcpHRCVrSbPTtJ/LImnDOWmqdmHQJOso28wbTAdBgNVHQ4EFgQUYY8YoMBxdxb4\n"
	"ZOVkaJbvLJClX8AwHwYDVR0jBBgwFoAUYY8YoMBxdxb4ZOVkaJbvLJClX8AwDwYD\n"
	"VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI\n"
	"zj0EAwIDSAAwRQIhAMhhQpO08fuI6mtUQDMdiuPjPVXX257xChUMbj6zHw7BAiAs\n"
	"7q1z2UAAYqljbzu5uipFJoF4OtVnMyFF4zAmwGzipQ==\n"
	"-----END CERTIFICATE-----\n"
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcW6Nja9lDIUFQ6Rj\n"
	"JkhYVFmoO2YJRstBz29pqI9w/KyhRANCAASeBguv8FTzvDvhGwIQ+KbgunijQ9lQ\n"
	"g+G8mM/mblSunwo7fo16VChmODcpHRCVrSbPTtJ/LImnDOWmqdmHQJOs\n"
	"-----END PRIVATE KEY-----\n";

static struct tls *tls;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int err;
	(void)argc;
	(void)argv;

	err = libre_init();
	log_init(LOG_LVL_ERROR + 1, false);
	if (!err)
		err = tls_alloc(&tls, TLS_METHOD_SSLV23, NULL, NULL);
	if (!err)
		err = tls_set_certificate(tls, pem, sizeof(pem) - 1);

	return err;
}


static int send_h(struct mbuf *mb, void *arg)
{
	size_t *sum = arg;

	*sum += mbuf_get_left(mb);

	return 0;
}


static void close_h(int err, void *arg)
{
	(void)err;
	(void)arg;
}


static struct dtls_sess *sess_new(uint8_t mode, size_t *sum)
{
	static const uint8_t clid[] = {192, 0, 2, 1, 0x13, 0x88};
	static const uint8_t fp[32];
	struct dtls_sess *s;
	int err;

	err = dtls_sess_alloc(&s, tls, mode & 1 ? DTLS_CLIENT : DTLS_SERVER,
			      send_h, NULL, NULL, close_h, sum);
	if (err)
		return NULL;

	if ((mode & 3) == 2)
		err |= dtls_sess_set_client_id(s, clid, sizeof(clid));
	if (mode & 4)
		err |= dtls_sess_set_peer_fingerprint(s,
			TLS_FINGERPRINT_SHA256, fp, sizeof(fp));

	err |= dtls_sess_start(s);

	return err ? mem_deref(s) : s;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dtls_sess *s;
	size_t sum = 0;

	if (size < 1 || size > 65536)
		return 0;

	s = sess_new(data[0], &sum);
	if (!s)
		return 0;

	++data;
	--size;

	while (size >= 2) {
		size_t n = (size_t)data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		n = min(n, size);

		if (n && dtls_sess_recv(s, data, n))
			break;

		data += n;
		size -= n;
	}

	mem_deref(s);

	return 0;
}

/**
 * @file fuzz_jwt.c  Fuzz token verification: arbitrary bytes as a bearer
 *                   token against a fixed keyring at a fixed time
 */
#include <re.h>
#include "jwt/jwt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* test/data/jwt/a.key's public half; the seed tokens are signed by it */
static const char pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAa+qxuepaVRJRGIB6qcagWd0kMXx\n"
	"aYN/9UmI6nGctXBOyq3v/fr7t2xw0R6u4U7BbKmWIESHLNZ+qYpKZlgq1A==\n"
	"-----END PUBLIC KEY-----\n";

static struct jwt_keyring *ring;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct jwt_key *key;
	int err;

	(void)argc;
	(void)argv;

	err = libre_init();
	if (!err)
		err = jwt_key_load_mem(&key, (const uint8_t *)pub,
				       sizeof(pub) - 1);
	if (!err)
		err = jwt_keyring_alloc(&ring);
	if (!err) {
		err = jwt_keyring_add(ring, "https://phone.example.net:8443",
				      key);
		mem_deref(key);
	}

	return err;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwt_claims *c = NULL;
	const char *reason = NULL;
	struct pl pl;

	pl.p = (const char *)data;
	pl.l = size;

	if (!jwt_verify(&c, &pl, ring, 1700000000, &reason)) {
		(void)jwt_claims_aud_has(c, "wss://edge.example.net:8443");
		mem_deref(c);
	}

	return 0;
}

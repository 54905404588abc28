/**
 * @file fuzz_waf_login.c  Fuzz the WAF's request bodies: each input is
 *                         given to waf_login and to waf_guest
 *
 * A users file with one user (PBKDF2 at 1 iteration, for speed) and the
 * token key are written to a scratch directory at start; the clock moves
 * a minute per input so the rate limits never freeze the target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
#include "core/conf.h"
#include "core/log.h"
#include "waf/waf.h"
#include "waf/waf_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* test/data/jwt/a.key: a test key, nothing else trusts it */
static const char key_pem[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MHcCAQEEIKhR2V3+wHDAVCSLcScAwGJGzB1o1t70h6Rgz1SCseP+oAoGCCqGSM49\n"
	"AwEHoUQDQgAEAa+qxuepaVRJRGIB6qcagWd0kMXxaYN/9UmI6nGctXBOyq3v/fr7\n"
	"t2xw0R6u4U7BbKmWIESHLNZ+qYpKZlgq1A==\n"
	"-----END EC PRIVATE KEY-----\n";

static struct waf *waf;
static int64_t now = 1700000000;


static int64_t clock_h(void)
{
	return now;
}


static int setup(const char *dir)
{
	static struct conf_pool pc = {.name = "guests",
				      .tmpl = "sip:guest{1-3}@ims.test"};
	static struct list pools = LIST_INIT;
	char users[300], key[300];
	struct waf_cfg cfg;
	FILE *f;
	int err;

	(void)re_snprintf(users, sizeof(users), "%s/users", dir);
	(void)re_snprintf(key, sizeof(key), "%s/key.pem", dir);

	f = fopen(key, "w");
	if (!f)
		return errno;
	(void)fputs(key_pem, f);
	(void)fclose(f);

	err = waf_users_set(users, "alice", "secret", "alice@ims.test",
			    "sip:alice@ims.test,tel:+15551234", 1);
	if (err)
		return err;

	list_append(&pools, &pc.le, &pc);

	memset(&cfg, 0, sizeof(cfg));
	cfg.users_file = users;
	cfg.key_file = key;
	cfg.issuer = "https://phone.example.net:8443";
	cfg.audience = "wss://phone.example.net:8443/sip";
	cfg.w2_url = "wss://phone.example.net:8443/sip";
	cfg.pools = &pools;

	err = waf_alloc(&waf, &cfg);

	(void)unlink(users);
	(void)unlink(key);

	return err;
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/imsedge-fuzz-waf-XXXXXX";
	int err;

	(void)argc;
	(void)argv;

	err = libre_init();
	if (err)
		return err;

	log_init(LOG_LVL_ERROR + 1, false);

	if (!mkdtemp(dir))
		return errno;

	err = setup(dir);
	(void)rmdir(dir);
	if (err)
		abort();

	waf_set_clock(waf, clock_h);

	return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct waf_reply r = {0};
	struct sa peer;

	now += 61;
	sa_set_in(&peer, 0x7f000001, 40000);

	if (!waf_login(waf, &peer, data, size, &r) && !r.body)
		abort();
	waf_reply_reset(&r);

	if (!waf_guest(waf, &peer, data, size, &r) && !r.body)
		abort();
	waf_reply_reset(&r);

	return 0;
}

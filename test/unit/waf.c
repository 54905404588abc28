/**
 * @file waf.c  Tests for the WAF: users file, logins, rate limits, guest
 *              pools and leases (D-18), token refresh (D-13)
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re.h>
#include "core/conf.h"
#include "core/file.h"
#include "jwt/jwt.h"
#include "waf/waf.h"
#include "waf/waf_int.h"
#include "test.h"

enum { T0 = 1700000000, ITER = 10, LIFE = 600 };

#define ISS "https://phone.example.net:8443"
#define AUD "wss://phone.example.net:8443/sip"
#define W2  "wss://phone.example.net:8443/sip"

static int64_t test_now = T0;
static char last_jti[64];   /* of the last guest_impu() */

struct scratch {
	char dir[256];
	char users[300];
	char state[300];
};


static int64_t clock_h(void)
{
	return test_now;
}


static int scratch_init(struct scratch *s)
{
	const char *tmp = getenv("TMPDIR");

	(void)re_snprintf(s->dir, sizeof(s->dir), "%s/imsedge-waf-XXXXXX",
			  tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(s->dir))
		return errno;

	(void)re_snprintf(s->users, sizeof(s->users), "%s/users", s->dir);
	(void)re_snprintf(s->state, sizeof(s->state), "%s/revoked", s->dir);

	return 0;
}


static void scratch_close(const struct scratch *s)
{
	if (!s->dir[0] || strstr(s->dir, "XXXXXX"))
		return;

	(void)unlink(s->users);
	(void)unlink(s->state);
	(void)rmdir(s->dir);
}


static int put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return errno;

	(void)fputs(text, f);

	return fclose(f) ? errno : 0;
}


static int slurp(char **textp, const char *path)
{
	struct mbuf *mb = mbuf_alloc(1024);
	int err;

	if (!mb)
		return ENOMEM;

	err = file_read(mb, path, 65536);
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, textp, mb->end);
	}

	mem_deref(mb);

	return err;
}


static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	while ((hay = strstr(hay, needle))) {
		++n;
		++hay;
	}

	return n;
}


/* The reason a users text is refused, "" if it parses */
static const char *parse_err(const char *text)
{
	static char errbuf[256];
	struct waf_users *u = NULL;

	errbuf[0] = '\0';
	if (waf_users_parse(&u, "users", text, strlen(text), errbuf,
			    sizeof(errbuf)) && !errbuf[0])
		(void)re_snprintf(errbuf, sizeof(errbuf), "failed");

	mem_deref(u);

	return errbuf;
}


#define H "$pbkdf2-sha256$10$AAAAAAAAAAAAAAAAAAAAAA$" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

int test_waf_users_parse(void)
{
	static const struct {
		const char *text, *err;
	} tv[] = {
		{"# c\n\na " H " a@x sip:a@x\n", ""},
		{"a " H " a@x sip:a@x,tel:+1,sips:b@x\r\n  # x\n", ""},
		{"a\t" H "\ta@x\tsip:a@x", ""},
		{"#\n\nb@c " H " a@x sip:a@x\nx\n", "users:4: want NAME"},
		{"a " H " a@x sip:a@x extra\n", "users:1: want NAME"},
		{"a\n", "users:1: want NAME"},
		{"\n\na!b " H " a@x sip:a@x\n", "users:3: bad user name"},
		{"a $pbkdf2-sha1$10$AAAAAAAAAAA$AAAA a@x sip:a@x\n",
		 "users:1: bad hash"},
		{"a $pbkdf2-sha256$0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAA"
		 "AAAAAAAAAAAAAAAAAAAAAAAAA a@x sip:a@x\n",
		 "users:1: iterations not in"},
		{"a $pbkdf2-sha256$10$AAAAAAAAAAAAAAAAAAAAAA$AAAA a@x "
		 "sip:a@x\n",
		 "users:1: bad hash"},
		{"a $pbkdf2-sha256$10$AAAAAAAAAAAAAAAAAAAAAA=$AAAAAAAAAAAAAAAA"
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAA a@x sip:a@x\n",
		 "users:1: bad hash"},
		{"a " H " a\"x sip:a@x\n", "users:1: bad IMPI"},
		{"a " H " a@x http://a\n", "users:1: bad IMPU"},
		{"a " H " a@x sip:a@x,\n", "users:1: bad IMPU"},
		{"a " H " a@x sip:a@x,,sip:b@x\n", "users:1: bad IMPU"},
		{"a " H " a@x sip:1,sip:2,sip:3,sip:4,sip:5,sip:6,sip:7,"
		 "sip:8,sip:9,sip:10,sip:11,sip:12,sip:13,sip:14,sip:15,"
		 "sip:16,sip:17\n", "users:1: more than 16 IMPUs"},
		{"a " H " a@x sip:a@x\nb " H " b@x sip:b@x\na " H
		 " a@x sip:a@x\n", "users:3: user listed twice"},
	};
	struct waf_users *u = NULL;
	const struct waf_user *user;
	char errbuf[128];
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		const char *got = parse_err(tv[i].text);

		if (strncmp(got, tv[i].err, strlen(tv[i].err)) ||
		    (!tv[i].err[0] && got[0])) {
			(void)re_fprintf(stderr, "  users #%zu: \"%s\"\n", i,
					 got);
			err = EINVAL;
			goto out;
		}
	}

	TEST_ERR(waf_users_parse(&u, "u", tv[1].text, strlen(tv[1].text),
				 errbuf, sizeof(errbuf)));
	user = waf_users_find(u, "a");
	TEST_ASSERT(user != NULL);
	TEST_STREQ(user->impi, "a@x");
	TEST_EQ(user->impuc, 3);
	TEST_STREQ(user->impu[2], "sips:b@x");
	TEST_EQ(user->iter, 10);
	TEST_EQ(user->saltlen, 16);
	TEST_ASSERT(waf_users_find(u, "b") == NULL);
	TEST_EQ(u->iter_max, 10);

 out:
	mem_deref(u);
	return err;
}


int test_waf_users_set(void)
{
	struct scratch s = {""};
	struct waf_users *u = NULL;
	const struct waf_user *a, *b;
	char *text = NULL, *text2 = NULL, *bob = NULL;
	struct stat st;
	int err = 0;

	TEST_ERR(scratch_init(&s));
	TEST_ERR(put(s.users, "# the users\n\n"));

	TEST_ERR(waf_users_set(s.users, "alice", "old", "alice@ims.test",
			       "sip:alice@ims.test", ITER));
	TEST_ERR(waf_users_set(s.users, "bob", "pw", "bob@ims.test",
			       "sip:bob@ims.test,tel:+15551234", ITER));
	TEST_ERR(slurp(&text, s.users));
	bob = strstr(text, "bob ");
	TEST_ASSERT(bob != NULL);

	/* replace alice: comment and bob's line stay as they were */
	TEST_ERR(waf_users_set(s.users, "alice", "new secret",
			       "alice@ims.test",
			       "sip:alice@ims.test,sips:alice@ims.test",
			       ITER + 1));
	TEST_ERR(slurp(&text2, s.users));
	TEST_ASSERT(!strncmp(text2, "# the users\n\nalice ", 19));
	TEST_ASSERT(strstr(text2, bob) != NULL);
	TEST_EQ(count(text2, "\n"), 4);
	TEST_ASSERT(strstr(text2, "$11$") != NULL);

	TEST_EQ(stat(s.users, &st), 0);
	TEST_EQ(st.st_mode & 0777, 0600);

	TEST_ERR(waf_users_load(&u, s.users));
	a = waf_users_find(u, "alice");
	b = waf_users_find(u, "bob");
	TEST_ASSERT(a && b);
	TEST_EQ(a->impuc, 2);
	TEST_EQ(b->impuc, 2);
	TEST_ASSERT(waf_user_check(u, a, "new secret"));
	TEST_ASSERT(!waf_user_check(u, a, "old"));
	TEST_ASSERT(!waf_user_check(u, a, "new secreT"));
	TEST_ASSERT(waf_user_check(u, b, "pw"));
	TEST_ASSERT(!waf_user_check(u, NULL, "pw"));

	/* refused, and the file untouched */
	TEST_EQ(waf_users_set(s.users, "al ice", "x", "a@x", "sip:a@x", ITER),
		EINVAL);
	TEST_EQ(waf_users_set(s.users, "a", "x", "a@x", "http://a", ITER),
		EINVAL);
	TEST_EQ(waf_users_set(s.users, "a", "", "a@x", "sip:a@x", ITER),
		EINVAL);
	TEST_EQ(waf_users_set(s.users, "a", "x", "a@x", "sip:a@x",
			      WAF_ITER_MAX + 1), ERANGE);
	mem_deref(text);
	TEST_ERR(slurp(&text, s.users));
	TEST_STREQ(text, text2);

	/* a file that does not parse is not rewritten */
	TEST_ERR(put(s.users, "broken line\n"));
	TEST_EQ(waf_users_set(s.users, "a", "x", "a@x", "sip:a@x", ITER),
		EINVAL);
	mem_deref(text);
	TEST_ERR(slurp(&text, s.users));
	TEST_STREQ(text, "broken line\n");

	/* a last line without newline gets one */
	TEST_ERR(put(s.users, "# no newline"));
	TEST_ERR(waf_users_set(s.users, "a", "x", "a@x", "sip:a@x", ITER));
	mem_deref(text);
	TEST_ERR(slurp(&text, s.users));
	TEST_ASSERT(!strncmp(text, "# no newline\na $pbkdf2-sha256$10$",
			     33));

 out:
	mem_deref(u);
	mem_deref(text);
	mem_deref(text2);
	scratch_close(&s);
	return err;
}


/* A WAF over a users file with alice and bob, and two pools */
struct fix {
	struct scratch s;
	struct list pools;
	struct conf_pool pc[2];
	struct waf *waf;
	struct jwt_keyring *ring;
	struct sa peer;
};


static int fix_init(struct fix *f, bool users, bool pools)
{
	struct waf_cfg cfg;
	int err;

	memset(f, 0, sizeof(*f));
	test_now = T0;
	list_init(&f->pools);

	err = scratch_init(&f->s);
	if (err)
		return err;

	err  = waf_users_set(f->s.users, "alice", "secret",
			     "alice@ims.test",
			     "sip:alice@ims.test,tel:+15551234", ITER);
	err |= waf_users_set(f->s.users, "bob", "pw", "bob@ims.test",
			     "sip:bob@ims.test", ITER);
	if (err)
		return err;

	f->pc[0].name = "guests";
	f->pc[0].tmpl = "sip:guest{1-3}@ims.test";
	f->pc[1].name = "lobby";
	f->pc[1].tmpl = "tel:+1555{10-11}";
	if (pools) {
		list_append(&f->pools, &f->pc[0].le, &f->pc[0]);
		list_append(&f->pools, &f->pc[1].le, &f->pc[1]);
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.users_file = users ? f->s.users : NULL;
	cfg.key_file = test_datapath("jwt/a.key");
	cfg.issuer = ISS;
	cfg.audience = AUD;
	cfg.w2_url = W2;
	cfg.lifetime = LIFE;
	cfg.pools = &f->pools;

	err = waf_alloc(&f->waf, &cfg);
	if (err)
		return err;

	waf_set_clock(f->waf, clock_h);
	waf_set_budget(f->waf, UINT32_MAX);  /* slow qemu boards too */

	err = jwt_keyring_alloc(&f->ring);
	if (!err)
		err = jwt_keyring_add(f->ring, ISS, waf_key(f->waf));
	if (!err)
		err = sa_set_str(&f->peer, "192.0.2.1", 40000);

	return err;
}


static void fix_close(struct fix *f)
{
	f->waf = mem_deref(f->waf);
	f->ring = mem_deref(f->ring);
	scratch_close(&f->s);
}


static int login(struct fix *f, const struct sa *peer, const char *body,
		 struct waf_reply *r)
{
	waf_reply_reset(r);
	return waf_login(f->waf, peer ? peer : &f->peer,
			 (const uint8_t *)body, strlen(body), r);
}


static int guest(struct fix *f, const struct sa *peer, const char *body,
		 struct waf_reply *r)
{
	waf_reply_reset(r);
	return waf_guest(f->waf, peer ? peer : &f->peer,
			 (const uint8_t *)body, str_len(body), r);
}


static int body(struct odict **op, const struct waf_reply *r)
{
	if (!r->body)
		return ENOENT;

	return jwt_json_decode(op, (const char *)r->body->buf, r->body->end);
}


static bool error_is(const struct waf_reply *r, uint16_t scode,
		     const char *error)
{
	struct odict *o = NULL;
	bool ok;

	ok = r->scode == scode && !body(&o, r) &&
		!str_cmp(odict_string(o, "error"), error) &&
		odict_string(o, "message");

	mem_deref(o);

	return ok;
}


/* Verify the token of a 200 answer and return its claims */
static int token_of(struct jwt_claims **cp, const struct fix *f,
		    const struct waf_reply *r, struct odict **op)
{
	const char *reason;
	struct pl pl;
	int err;

	if (r->scode != 200)
		return EPROTO;

	err = body(op, r);
	if (err)
		return err;

	if (!odict_string(*op, "token"))
		return ENOENT;

	pl_set_str(&pl, odict_string(*op, "token"));

	return jwt_verify(cp, &pl, f->ring, test_now, &reason);
}


static int impu_at(const struct odict *o, unsigned i, const char **impu)
{
	const struct odict_entry *e = odict_get_type(o, ODICT_ARRAY, "impu");
	char key[8];

	if (!e)
		return ENOENT;

	(void)re_snprintf(key, sizeof(key), "%u", i);
	*impu = odict_string(e->u.odict, key);

	return *impu ? 0 : ENOENT;
}


int test_waf_login(void)
{
	struct fix f;
	struct waf_reply r = {0};
	struct jwt_claims *c = NULL;
	struct odict *o = NULL;
	const char *impu;
	uint64_t num;
	char *huge = NULL;
	int err = 0;

	TEST_ERR(fix_init(&f, true, false));

	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\","
		       "\"password\":\"secret\"}", &r));
	TEST_EQ(r.scode, 200);
	TEST_EQ(r.retry_after, 0);
	TEST_ERR(token_of(&c, &f, &r, &o));

	/* every claim (D-13: iss, aud, exp; D-14: the identities) */
	TEST_STREQ(c->iss, ISS);
	TEST_ASSERT(jwt_claims_aud_has(c, AUD));
	TEST_STREQ(c->sub, "alice");
	TEST_STREQ(c->impi, "alice@ims.test");
	TEST_EQ(c->impuc, 2);
	TEST_STREQ(c->impu[0], "sip:alice@ims.test");
	TEST_STREQ(c->impu[1], "tel:+15551234");
	TEST_EQ(c->iat, T0);
	TEST_EQ(c->exp, T0 + LIFE);
	TEST_EQ(strlen(c->jti), 22);
	TEST_ASSERT(c->pool == NULL);

	/* and the answer around it */
	TEST_ASSERT(odict_get_number(o, &num, "expires"));
	TEST_EQ(num, T0 + LIFE);
	TEST_ASSERT(odict_get_number(o, &num, "lifetime"));
	TEST_EQ(num, LIFE);
	TEST_STREQ(odict_string(o, "impi"), "alice@ims.test");
	TEST_ERR(impu_at(o, 1, &impu));
	TEST_STREQ(impu, "tel:+15551234");
	TEST_STREQ(odict_string(o, "w2_url"), W2);
	TEST_STREQ(odict_string(o, "user"), "alice");
	o = mem_deref(o);

	/* two logins: two tokens (jti differs) */
	TEST_ERR(login(&f, NULL, "{\"password\":\"pw\",\"username\":\"bob\","
		       "\"remember\":true}", &r));
	TEST_EQ(r.scode, 200);

	/* wrong password, unknown user: the same answer */
	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\","
		       "\"password\":\"Secret\"}", &r));
	TEST_ASSERT(error_is(&r, 401, "invalid_credentials"));
	TEST_ERR(login(&f, NULL, "{\"username\":\"carol\","
		       "\"password\":\"secret\"}", &r));
	TEST_ASSERT(error_is(&r, 401, "invalid_credentials"));
	TEST_ERR(login(&f, NULL, "{\"username\":\"a l\","
		       "\"password\":\"secret\"}", &r));
	TEST_ASSERT(error_is(&r, 401, "invalid_credentials"));

	/* not the shape of a login */
	TEST_ERR(login(&f, NULL, "", &r));
	TEST_ASSERT(error_is(&r, 400, "bad_request"));
	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\"", &r));
	TEST_ASSERT(error_is(&r, 400, "bad_request"));
	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\"}", &r));
	TEST_ASSERT(error_is(&r, 400, "bad_request"));
	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\","
		       "\"password\":7}", &r));
	TEST_ASSERT(error_is(&r, 400, "bad_request"));
	TEST_ERR(login(&f, NULL, "[\"alice\",\"secret\"]", &r));
	TEST_ASSERT(error_is(&r, 400, "bad_request"));
	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\","
		       "\"password\":\"secret\"}x", &r));
	TEST_ASSERT(error_is(&r, 400, "bad_request"));

	huge = mem_zalloc(WAF_BODY_MAX + 100, NULL);
	TEST_ASSERT(huge != NULL);
	memset(huge, ' ', WAF_BODY_MAX + 1);
	memcpy(huge, "{\"username\":\"alice\",\"password\":\"secret\"}",
	       40);
	TEST_EQ(strlen(huge), WAF_BODY_MAX + 1);   /* valid JSON, too long */
	TEST_ERR(login(&f, NULL, huge, &r));
	TEST_ASSERT(error_is(&r, 400, "bad_request"));

	/* guests are not enabled here */
	TEST_ERR(guest(&f, NULL, "", &r));
	TEST_ASSERT(error_is(&r, 404, "no_pool"));

 out:
	waf_reply_reset(&r);
	mem_deref(c);
	mem_deref(o);
	mem_deref(huge);
	fix_close(&f);
	return err;
}


int test_waf_rate_limit(void)
{
	static const char bad[] = "{\"username\":\"alice\","
		"\"password\":\"guess\"}";
	static const char good[] = "{\"username\":\"alice\","
		"\"password\":\"secret\"}";
	struct waf_limiter *l = NULL;
	struct waf_reply r = {0};
	struct sa other, same_ip;
	struct fix f;
	unsigned i;
	int err = 0;

	TEST_ERR(fix_init(&f, true, false));
	TEST_ERR(sa_set_str(&other, "2001:db8::1", 40000));
	TEST_ERR(sa_set_str(&same_ip, "192.0.2.1", 50000));

	for (i = 0; i < 5; i++) {
		test_now = T0 + i;
		TEST_ERR(login(&f, NULL, bad, &r));
		TEST_ASSERT(error_is(&r, 401, "invalid_credentials"));
	}

	/* the 6th attempt is refused, the right password too, from any
	   port of that address, until 60 s after the first failure */
	test_now = T0 + 10;
	TEST_ERR(login(&f, NULL, good, &r));
	TEST_ASSERT(error_is(&r, 429, "rate_limited"));
	TEST_EQ(r.retry_after, 50);
	TEST_ERR(login(&f, &same_ip, good, &r));
	TEST_EQ(r.scode, 429);

	TEST_ERR(login(&f, &other, good, &r));
	TEST_EQ(r.scode, 200);

	test_now = T0 + 59;
	TEST_ERR(login(&f, NULL, good, &r));
	TEST_EQ(r.scode, 429);
	TEST_EQ(r.retry_after, 1);
	test_now = T0 + 60;
	TEST_ERR(login(&f, NULL, good, &r));
	TEST_EQ(r.scode, 200);

	/* a flood of addresses: the table stays at its bound */
	TEST_ERR(waf_limiter_alloc(&l, 64, 5, 60));
	for (i = 0; i < 5000; i++) {
		struct sa a;

		sa_set_in(&a, 0x0a000000 + i, 1);
		TEST_ERR(waf_limiter_hit(l, &a, T0));
		TEST_ASSERT(waf_limiter_count(l) <= 64);
	}
	TEST_EQ(waf_limiter_count(l), 64);
	for (i = 0; i < 2000; i++) {
		struct sa a;

		sa_set_in(&a, 0x0b000000 + i, 1);
		test_now = T0 + 100;
		TEST_ERR(login(&f, &a, bad, &r));
		TEST_EQ(r.scode, 401);
	}

	/* the overall PBKDF2 budget: 3 checks in one second */
	waf_set_budget(f.waf, 3 * ITER);
	test_now = T0 + 200;
	for (i = 0; i < 3; i++) {
		struct sa a;

		sa_set_in(&a, 0x0c000000 + i, 1);
		TEST_ERR(login(&f, &a, good, &r));
		TEST_EQ(r.scode, 200);
	}
	TEST_ERR(login(&f, &other, good, &r));
	TEST_ASSERT(error_is(&r, 503, "busy"));
	TEST_EQ(r.retry_after, 1);
	test_now = T0 + 201;
	TEST_ERR(login(&f, &other, good, &r));
	TEST_EQ(r.scode, 200);

 out:
	waf_reply_reset(&r);
	mem_deref(l);
	fix_close(&f);
	return err;
}


static int guest_impu(struct fix *f, const struct sa *peer,
		      const char *req, const char *want_impu,
		      const char *want_impi, const char *want_pool)
{
	struct waf_reply r = {0};
	struct jwt_claims *c = NULL;
	struct odict *o = NULL;
	int err = 0;

	TEST_ERR(guest(f, peer, req, &r));
	TEST_ERR(token_of(&c, f, &r, &o));
	TEST_EQ(c->impuc, 1);
	TEST_STREQ(c->impu[0], want_impu);
	TEST_STREQ(c->impi, want_impi);
	TEST_STREQ(c->sub, "guest");
	TEST_STREQ(c->pool, want_pool);
	TEST_STREQ(odict_string(o, "pool"), want_pool);
	TEST_ASSERT(waf_lease_valid(f->waf, want_impu, c->jti));
	TEST_ASSERT(!waf_lease_valid(f->waf, want_impu, "other"));
	str_ncpy(last_jti, c->jti, sizeof(last_jti));

 out:
	waf_reply_reset(&r);
	mem_deref(c);
	mem_deref(o);
	return err;
}


int test_waf_guest(void)
{
	char first_jti[64];
	struct waf_reply r = {0};
	struct sa p[16];
	struct fix f;
	unsigned i;
	int err = 0;

	TEST_ERR(fix_init(&f, false, true));
	for (i = 0; i < ARRAY_SIZE(p); i++)
		sa_set_in(&p[i], 0xc0000200 + i, 1000);

	/* lowest free identity first; the default pool is the first */
	TEST_ERR(guest_impu(&f, &p[0], "", "sip:guest1@ims.test",
			    "guest1@ims.test", "guests"));
	str_ncpy(first_jti, last_jti, sizeof(first_jti));
	test_now = T0 + 10;
	TEST_ERR(guest_impu(&f, &p[1], "{}", "sip:guest2@ims.test",
			    "guest2@ims.test", "guests"));
	TEST_ERR(guest_impu(&f, &p[2], "{\"pool\":\"lobby\"}",
			    "tel:+155510", "+155510", "lobby"));

	/* D-57: another token's end leaves a lease alone; its own frees
	   it, and a released identity is the next one given */
	waf_lease_release(f.waf, "sip:guest1@ims.test", "not-the-holder");
	TEST_ASSERT(waf_lease_valid(f.waf, "sip:guest1@ims.test",
				    first_jti));
	waf_lease_release(f.waf, "sip:guest1@ims.test", first_jti);
	TEST_ASSERT(!waf_lease_valid(f.waf, "sip:guest1@ims.test", "x"));
	TEST_ERR(guest_impu(&f, &p[3], "{\"pool\":\"guests\"}",
			    "sip:guest1@ims.test", "guest1@ims.test",
			    "guests"));
	TEST_ERR(guest_impu(&f, &p[4], "", "sip:guest3@ims.test",
			    "guest3@ims.test", "guests"));

	/* exhausted: 503, retry when the soonest lease (guest2, leased at
	   T0 + 10) ends */
	test_now = T0 + 100;
	TEST_ERR(guest(&f, &p[5], "{}", &r));
	TEST_ASSERT(error_is(&r, 503, "pool_empty"));
	TEST_EQ(r.retry_after, 10 + LIFE - 100);

	/* leases end with their token (all three were leased at T0 + 10) */
	test_now = T0 + 10 + LIFE - 1;
	TEST_ERR(guest(&f, &p[6], "{}", &r));
	TEST_EQ(r.scode, 503);
	TEST_EQ(r.retry_after, 1);
	test_now = T0 + 10 + LIFE;
	TEST_ERR(guest_impu(&f, &p[6], "{}", "sip:guest1@ims.test",
			    "guest1@ims.test", "guests"));
	TEST_ERR(guest_impu(&f, &p[6], "{}", "sip:guest2@ims.test",
			    "guest2@ims.test", "guests"));

	/* unknown pool, wrong type, not JSON */
	TEST_ERR(guest(&f, &p[7], "{\"pool\":\"vip\"}", &r));
	TEST_ASSERT(error_is(&r, 404, "no_pool"));
	TEST_ERR(guest(&f, &p[7], "{\"pool\":1}", &r));
	TEST_ASSERT(error_is(&r, 400, "bad_request"));
	TEST_ERR(guest(&f, &p[7], "pool=lobby", &r));
	TEST_ASSERT(error_is(&r, 400, "bad_request"));

	/* 10 guest requests a minute per address */
	for (i = 0; i < 7; i++) {
		TEST_ERR(guest(&f, &p[7], "{\"pool\":\"vip\"}", &r));
		TEST_EQ(r.scode, 404);
	}
	TEST_ERR(guest(&f, &p[7], "{\"pool\":\"vip\"}", &r));
	TEST_ASSERT(error_is(&r, 429, "rate_limited"));

	/* logins are not enabled here */
	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\","
		       "\"password\":\"secret\"}", &r));
	TEST_ASSERT(error_is(&r, 404, "no_login"));

 out:
	waf_reply_reset(&r);
	fix_close(&f);
	return err;
}


static int refresh(struct fix *f, const char *tok, struct waf_reply *r)
{
	struct pl pl;

	waf_reply_reset(r);
	pl_set_str(&pl, tok);

	return waf_refresh(f->waf, &f->peer, &pl, r);
}


static int token_str(char **tokp, const struct waf_reply *r)
{
	struct odict *o = NULL;
	int err;

	err = body(&o, r);
	if (!err)
		err = str_dup(tokp, odict_string(o, "token"));

	mem_deref(o);

	return err;
}


int test_waf_refresh(void)
{
	struct waf_reply r = {0};
	struct jwt_claims *c = NULL, *c2 = NULL;
	struct odict *o = NULL;
	char *tok = NULL, *tok2 = NULL, *g1 = NULL, *g2 = NULL;
	struct fix f;
	int err = 0;

	TEST_ERR(fix_init(&f, true, true));

	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\","
		       "\"password\":\"secret\"}", &r));
	TEST_ERR(token_str(&tok, &r));

	/* a new token, same identities, later expiry */
	test_now = T0 + 100;
	TEST_ERR(refresh(&f, tok, &r));
	TEST_ERR(token_of(&c, &f, &r, &o));
	TEST_EQ(c->exp, T0 + 100 + LIFE);
	TEST_STREQ(c->sub, "alice");
	TEST_STREQ(c->impi, "alice@ims.test");
	TEST_EQ(c->impuc, 2);
	TEST_STREQ(c->impu[1], "tel:+15551234");
	o = mem_deref(o);

	/* D-13: tampered, and expired (no skew for refresh) */
	TEST_ERR(str_dup(&tok2, tok));
	tok2[strlen(tok2) - 5] ^= 1;
	TEST_ERR(refresh(&f, tok2, &r));
	TEST_ASSERT(error_is(&r, 401, "token_invalid"));
	TEST_ERR(refresh(&f, "", &r));
	TEST_ASSERT(error_is(&r, 401, "token_invalid"));

	test_now = T0 + LIFE;
	TEST_ERR(refresh(&f, tok, &r));
	TEST_ASSERT(error_is(&r, 401, "token_expired"));
	test_now = T0 + LIFE + JWT_SKEW + 1;
	TEST_ERR(refresh(&f, tok, &r));
	TEST_ASSERT(error_is(&r, 401, "token_expired"));

	/* a guest's refresh moves the lease to the new token */
	test_now = T0 + 1000;
	TEST_ERR(guest(&f, NULL, "", &r));
	TEST_ERR(token_str(&g1, &r));
	test_now = T0 + 1000 + LIFE - 10;
	TEST_ERR(refresh(&f, g1, &r));
	TEST_ERR(token_of(&c2, &f, &r, &o));
	TEST_STREQ(c2->impu[0], "sip:guest1@ims.test");
	TEST_STREQ(c2->pool, "guests");
	TEST_ERR(token_str(&g2, &r));
	o = mem_deref(o);
	TEST_ASSERT(waf_lease_valid(f.waf, "sip:guest1@ims.test", c2->jti));

	/* past the first token's life, guest1 is still held */
	test_now = T0 + 1000 + LIFE + 100;
	TEST_ERR(guest_impu(&f, NULL, "", "sip:guest2@ims.test",
			    "guest2@ims.test", "guests"));

	/* the old token lost the lease: refreshing it fails */
	test_now = T0 + 1000 + LIFE - 5;
	TEST_ERR(refresh(&f, g1, &r));
	TEST_ASSERT(error_is(&r, 401, "token_invalid"));

 out:
	waf_reply_reset(&r);
	mem_deref(c);
	mem_deref(c2);
	mem_deref(o);
	mem_deref(tok);
	mem_deref(tok2);
	mem_deref(g1);
	mem_deref(g2);
	fix_close(&f);
	return err;
}


int test_waf_config(void)
{
	struct waf_reply r = {0};
	struct odict *o = NULL;
	struct fix f;
	bool b;
	int err = 0;

	TEST_ERR(fix_init(&f, true, true));
	TEST_ERR(waf_config(f.waf, &r));
	TEST_EQ(r.scode, 200);
	TEST_ERR(body(&o, &r));
	TEST_ASSERT(odict_get_boolean(o, &b, "guest") && b);
	TEST_ASSERT(odict_get_boolean(o, &b, "login") && b);
	TEST_STREQ(odict_string(o, "w2_url"), W2);
	TEST_EQ(odict_count(odict_get_type(o, ODICT_ARRAY, "pools")->u.odict,
			    false), 2);
	o = mem_deref(o);
	fix_close(&f);

	TEST_ERR(fix_init(&f, false, false));
	waf_reply_reset(&r);
	TEST_ERR(waf_config(f.waf, &r));
	TEST_ERR(body(&o, &r));
	TEST_ASSERT(odict_get_boolean(o, &b, "guest") && !b);
	TEST_ASSERT(odict_get_boolean(o, &b, "login") && !b);

	/* SIGHUP: a broken file keeps the old table */
	fix_close(&f);
	TEST_ERR(fix_init(&f, true, false));
	TEST_ERR(put(f.s.users, "broken\n"));
	TEST_EQ(waf_reload_users(f.waf), EINVAL);
	TEST_ERR(login(&f, NULL, "{\"username\":\"bob\",\"password\":\"pw\"}",
		       &r));
	TEST_EQ(r.scode, 200);
	TEST_ERR(put(f.s.users, ""));
	TEST_ERR(waf_reload_users(f.waf));
	TEST_ERR(login(&f, NULL, "{\"username\":\"bob\",\"password\":\"pw\"}",
		       &r));
	TEST_EQ(r.scode, 401);

 out:
	waf_reply_reset(&r);
	mem_deref(o);
	fix_close(&f);
	return err;
}


/* D-60: the revocation table and its state file */
int test_waf_revoke(void)
{
	struct waf_revoke *r = NULL, *r2 = NULL;
	struct mbuf *mb = NULL;
	struct scratch sc;
	struct stat st;
	char name[32];
	unsigned i;
	int err = 0;

	memset(&sc, 0, sizeof(sc));
	TEST_ERR(scratch_init(&sc));

	/* no state file yet: an empty table */
	TEST_ERR(waf_revoke_alloc(&r, sc.state, T0));
	TEST_EQ(waf_revoke_count(r), 0);
	TEST_ASSERT(!waf_revoke_has(r, "alice", "j1", T0, T0));

	/* a user: tokens issued up to AT, until UNTIL */
	TEST_ERR(waf_revoke_user(r, "alice", T0, T0 + 100, T0));
	TEST_ASSERT(waf_revoke_has(r, "alice", "j1", T0, T0));
	TEST_ASSERT(waf_revoke_has(r, "alice", NULL, T0 - 50, T0 + 99));
	TEST_ASSERT(!waf_revoke_has(r, "alice", "j1", T0 + 1, T0 + 1));
	TEST_ASSERT(!waf_revoke_has(r, "alice", "j1", T0, T0 + 100));
	TEST_ASSERT(!waf_revoke_has(r, "bob", "j1", T0, T0));
	TEST_ASSERT(!waf_revoke_has(r, NULL, "j1", T0, T0));
	TEST_EQ(waf_revoke_user_at(r, "alice"), T0);

	/* a token by jti */
	TEST_ERR(waf_revoke_jti(r, "Zm9vYmFy", T0 + 50, T0));
	TEST_ASSERT(waf_revoke_has(r, NULL, "Zm9vYmFy", T0, T0 + 49));
	TEST_ASSERT(!waf_revoke_has(r, NULL, "Zm9vYmFy", T0, T0 + 50));
	TEST_EQ(waf_revoke_count(r), 2);

	/* no blanks or control characters in names */
	TEST_EQ(waf_revoke_jti(r, "a b", T0 + 50, T0), EINVAL);
	TEST_EQ(waf_revoke_jti(r, "a\nuser x 1 2", T0 + 50, T0), EINVAL);
	TEST_EQ(waf_revoke_jti(r, "", T0 + 50, T0), EINVAL);

	/* kept across a restart, mode 0600 */
	TEST_EQ(stat(sc.state, &st), 0);
	TEST_EQ(st.st_mode & 0777, 0600);
	TEST_ERR(waf_revoke_alloc(&r2, sc.state, T0 + 1));
	TEST_EQ(waf_revoke_count(r2), 2);
	TEST_ASSERT(waf_revoke_has(r2, "alice", NULL, T0, T0 + 1));
	TEST_ASSERT(waf_revoke_has(r2, NULL, "Zm9vYmFy", T0, T0 + 1));
	r2 = mem_deref(r2);

	/* expired entries are not read back */
	TEST_ERR(waf_revoke_alloc(&r2, sc.state, T0 + 60));
	TEST_EQ(waf_revoke_count(r2), 1);
	r2 = mem_deref(r2);

	/* bad lines are skipped, good ones kept */
	TEST_ERR(waf_revoke_alloc(&r2, NULL, T0));
	{
		static const char text[] =
			"# comment\n"
			"user bob 1700000000 1700000100\r\n"
			"jti abc\n"
			"user carol x 1700000100\n"
			"jti q 1700000100 5\n"
			"frob x 1700000100\n"
			"user dave 1700000000 1700000100 junk\n"
			"jti Zm9v 1700000100";

		TEST_EQ(waf_revoke_parse(r2, "t", text, sizeof(text) - 1,
					 T0), 5);
	}
	TEST_EQ(waf_revoke_count(r2), 2);
	TEST_ASSERT(waf_revoke_has(r2, "bob", NULL, T0, T0));
	TEST_ASSERT(waf_revoke_has(r2, NULL, "Zm9v", T0, T0));
	r2 = mem_deref(r2);

	/* bounded: full means refused, not forgotten */
	TEST_ERR(waf_revoke_alloc(&r2, NULL, T0));
	for (i = 0; i < WAF_REVOKE_MAX; i++) {
		(void)re_snprintf(name, sizeof(name), "j%u", i);
		TEST_ERR(waf_revoke_jti(r2, name, T0 + 10, T0));
	}
	TEST_EQ(waf_revoke_jti(r2, "one-more", T0 + 10, T0), ENOSPC);
	TEST_ASSERT(waf_revoke_has(r2, NULL, "j0", T0, T0));
	/* ... until entries expire */
	TEST_ERR(waf_revoke_jti(r2, "one-more", T0 + 20, T0 + 10));
	TEST_EQ(waf_revoke_count(r2), 1);

	/* a state file that cannot be written: still revoked in memory */
	r = mem_deref(r);
	TEST_ERR(waf_revoke_alloc(&r, "/nonexistent-dir/revoked", T0));
	TEST_ERR(waf_revoke_user(r, "alice", T0, T0 + 100, T0));
	TEST_ASSERT(waf_revoke_has(r, "alice", NULL, T0, T0));

 out:
	mem_deref(mb);
	mem_deref(r);
	mem_deref(r2);
	scratch_close(&sc);
	return err;
}


static int logout(struct fix *f, const char *tok, struct waf_reply *r)
{
	struct pl pl;

	waf_reply_reset(r);
	pl_set_str(&pl, tok);

	return waf_logout(f->waf, &f->peer, &pl, r);
}


static int claims_of(struct jwt_claims **cp, const struct fix *f,
		     const char *tok)
{
	const char *reason;
	struct pl pl;

	pl_set_str(&pl, tok);

	return jwt_verify(cp, &pl, f->ring, test_now, &reason);
}


/* Rewrite the users file without one user's line */
static int user_remove(const char *path, const char *name)
{
	struct mbuf *mb = mbuf_alloc(1024), *out = mbuf_alloc(1024);
	struct pl rest, line;
	size_t n = strlen(name);
	int err;

	if (!mb || !out) {
		err = ENOMEM;
		goto out;
	}

	err = file_read(mb, path, 1 << 20);
	if (err)
		goto out;

	rest.p = (const char *)mb->buf;
	rest.l = mb->end;
	while (rest.l) {
		const char *nl = pl_strchr(&rest, '\n');

		line.p = rest.p;
		line.l = nl ? (size_t)(nl - rest.p) + 1 : rest.l;
		pl_advance(&rest, line.l);
		if (line.l > n && !strncmp(line.p, name, n) &&
		    (line.p[n] == ' ' || line.p[n] == '\t'))
			continue;
		err |= mbuf_write_pl(out, &line);
	}

	err |= mbuf_write_u8(out, 0);
	if (!err)
		err = put(path, (const char *)out->buf);

 out:
	mem_deref(mb);
	mem_deref(out);
	return err;
}


/* D-60: logout and removed users revoke tokens; D-57: a guest's logout
   frees its identity */
int test_waf_logout(void)
{
	struct waf_reply r = {0};
	struct jwt_claims *c = NULL;
	char *a1 = NULL, *a2 = NULL, *b1 = NULL, *g1 = NULL;
	struct fix f;
	int err = 0;

	TEST_ERR(fix_init(&f, true, true));

	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\","
		       "\"password\":\"secret\"}", &r));
	TEST_ERR(token_str(&a1, &r));
	TEST_ERR(login(&f, NULL, "{\"username\":\"bob\","
		       "\"password\":\"pw\"}", &r));
	TEST_ERR(token_str(&b1, &r));

	TEST_ERR(claims_of(&c, &f, a1));
	TEST_ASSERT(!waf_token_revoked(f.waf, c));

	/* logout revokes every token of the user issued so far */
	TEST_ERR(logout(&f, a1, &r));
	TEST_EQ(r.scode, 200);
	TEST_ASSERT(waf_token_revoked(f.waf, c));
	TEST_ERR(refresh(&f, a1, &r));
	TEST_ASSERT(error_is(&r, 401, "token_invalid"));
	c = mem_deref(c);

	/* a login in the same second gets a token that is not revoked */
	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\","
		       "\"password\":\"secret\"}", &r));
	TEST_ERR(token_str(&a2, &r));
	TEST_ERR(claims_of(&c, &f, a2));
	TEST_ASSERT(c->iat > T0);
	TEST_ASSERT(!waf_token_revoked(f.waf, c));
	c = mem_deref(c);

	/* bob is not affected; a bad token is 401 */
	TEST_ERR(claims_of(&c, &f, b1));
	TEST_ASSERT(!waf_token_revoked(f.waf, c));
	TEST_ERR(logout(&f, "x.y.z", &r));
	TEST_ASSERT(error_is(&r, 401, "token_invalid"));
	TEST_ERR(logout(&f, "", &r));
	TEST_ASSERT(error_is(&r, 401, "token_invalid"));

	/* a removed user's tokens are revoked on reload, and stay so
	   when a user of the same name comes back */
	TEST_ERR(user_remove(f.s.users, "bob"));
	TEST_ERR(waf_reload_users(f.waf));
	TEST_ASSERT(waf_token_revoked(f.waf, c));
	TEST_ERR(waf_users_set(f.s.users, "bob", "pw", "bob@ims.test",
			       "sip:bob@ims.test", ITER));
	TEST_ERR(waf_reload_users(f.waf));
	TEST_ASSERT(waf_token_revoked(f.waf, c));
	c = mem_deref(c);

	/* a guest's logout revokes its token and frees its identity */
	TEST_ERR(guest_impu(&f, NULL, "", "sip:guest1@ims.test",
			    "guest1@ims.test", "guests"));
	waf_reply_reset(&r);
	TEST_ERR(guest(&f, NULL, "", &r));
	TEST_ERR(token_str(&g1, &r));
	TEST_ERR(claims_of(&c, &f, g1));
	TEST_STREQ(c->impu[0], "sip:guest2@ims.test");
	TEST_ERR(logout(&f, g1, &r));
	TEST_EQ(r.scode, 200);
	TEST_ASSERT(waf_token_revoked(f.waf, c));
	TEST_ASSERT(!waf_lease_valid(f.waf, "sip:guest2@ims.test", c->jti));
	TEST_ASSERT(waf_lease_valid(f.waf, "sip:guest1@ims.test", last_jti));
	TEST_ERR(guest_impu(&f, NULL, "", "sip:guest2@ims.test",
			    "guest2@ims.test", "guests"));

	/* an expired token: nothing left to revoke, 200 */
	test_now = T0 + LIFE + 1;
	TEST_ERR(logout(&f, b1, &r));
	TEST_EQ(r.scode, 200);

 out:
	waf_reply_reset(&r);
	mem_deref(c);
	mem_deref(a1);
	mem_deref(a2);
	mem_deref(b1);
	mem_deref(g1);
	fix_close(&f);
	return err;
}


/* D-60: revocations outlast a restart of the WAF (the state file) */
int test_waf_revoke_restart(void)
{
	struct waf_reply r = {0};
	struct jwt_claims *c = NULL;
	struct waf_cfg cfg;
	char *a1 = NULL;
	struct fix f;
	int err = 0;

	TEST_ERR(fix_init(&f, true, false));

	/* the fixture's WAF again, with a state file */
	f.waf = mem_deref(f.waf);
	memset(&cfg, 0, sizeof(cfg));
	cfg.users_file = f.s.users;
	cfg.key_file = test_datapath("jwt/a.key");
	cfg.issuer = ISS;
	cfg.audience = AUD;
	cfg.w2_url = W2;
	cfg.lifetime = LIFE;
	cfg.state_file = f.s.state;
	TEST_ERR(waf_alloc(&f.waf, &cfg));
	waf_set_clock(f.waf, clock_h);
	waf_set_budget(f.waf, UINT32_MAX);

	TEST_ERR(login(&f, NULL, "{\"username\":\"alice\","
		       "\"password\":\"secret\"}", &r));
	TEST_ERR(token_str(&a1, &r));
	TEST_ERR(claims_of(&c, &f, a1));
	TEST_ERR(logout(&f, a1, &r));
	TEST_EQ(r.scode, 200);

	f.waf = mem_deref(f.waf);
	TEST_ERR(waf_alloc(&f.waf, &cfg));
	waf_set_clock(f.waf, clock_h);
	TEST_ASSERT(waf_token_revoked(f.waf, c));

 out:
	waf_reply_reset(&r);
	mem_deref(c);
	mem_deref(a1);
	fix_close(&f);
	return err;
}

/**
 * @file jwt.c  ES256 JWTs: claims, signing, the keyring of trusted
 *              issuers, verification
 *
 * Verification trusts nothing it has not checked: the algorithm is
 * pinned (the header cannot choose HS256 or none), the issuer must be in
 * the keyring before its key is picked, a key id that the issuer does not
 * have is refused instead of ignored, and the claims are read only after
 * the signature holds.
 */
#include <string.h>
#include <re.h>
#include <mbedtls/sha256.h>
#include "jwt.h"
#include "jwt_int.h"

enum {
	HEADER_MAX = 512,      /* decoded header, bytes                  */
	B64_SIG    = 86,       /* base64url of 64 bytes                  */
};

/** One trusted (issuer, key) pair */
struct ring_entry {
	struct le le;
	char *iss;
	struct jwt_key *key;
};

/** Trusted (issuer, key) pairs; an issuer may have several keys */
struct jwt_keyring {
	struct list entries;
};

/** What jwt_verify() is working on */
struct vctx {
	struct pl part[3];        /* header, payload, signature (text)  */
	struct odict *hdr;
	struct odict *pay;
	uint8_t sig[JWT_SIG_LEN + 3];
	size_t siglen;
	const char *reason;
};


static void claims_destructor(void *arg)
{
	struct jwt_claims *c = arg;
	size_t i;

	mem_deref(c->iss);
	mem_deref(c->aud);
	mem_deref(c->sub);
	mem_deref(c->impi);
	mem_deref(c->jti);
	mem_deref(c->pool);

	for (i = 0; c->impu && i < c->impuc; i++)
		mem_deref(c->impu[i]);
	mem_deref(c->impu);

	for (i = 0; c->audv && i < c->audc; i++)
		mem_deref(c->audv[i]);
	mem_deref(c->audv);
}


/**
 * Allocate empty claims; the destructor frees every string in them
 *
 * @param cp Returned claims
 *
 * @return 0 if success, otherwise errorcode
 */
int jwt_claims_alloc(struct jwt_claims **cp)
{
	struct jwt_claims *c;

	if (!cp)
		return EINVAL;

	c = mem_zalloc(sizeof(*c), claims_destructor);
	if (!c)
		return ENOMEM;

	*cp = c;

	return 0;
}


static int strv_add(char ***vp, size_t *cp, size_t max, const char *str)
{
	int err;

	if (*cp >= max)
		return E2BIG;

	/* room for the most there may be, at the first */
	if (!*vp) {
		*vp = mem_zalloc(max * sizeof(**vp), NULL);
		if (!*vp)
			return ENOMEM;
	}

	err = str_dup(&(*vp)[*cp], str);
	if (!err)
		++*cp;

	return err;
}


/**
 * Append an IMPU to claims
 *
 * @param c    Claims
 * @param impu The IMPU (copied)
 *
 * @return 0 if success, E2BIG beyond JWT_IMPU_MAX, otherwise errorcode
 */
int jwt_claims_add_impu(struct jwt_claims *c, const char *impu)
{
	if (!c || !str_isset(impu))
		return EINVAL;

	return strv_add(&c->impu, &c->impuc, JWT_IMPU_MAX, impu);
}


static bool strv_has(char * const *v, size_t n, const char *str)
{
	size_t i;

	for (i = 0; v && str && i < n; i++) {
		if (!str_cmp(v[i], str))
			return true;
	}

	return false;
}


/**
 * Tell whether claims name an audience ("aud" string or array member)
 *
 * @param c   Claims
 * @param aud The audience
 *
 * @return true if it is one of the token's audiences
 */
bool jwt_claims_aud_has(const struct jwt_claims *c, const char *aud)
{
	if (!c || !aud)
		return false;

	if (c->audc)
		return strv_has(c->audv, c->audc, aud);

	return c->aud && !str_cmp(c->aud, aud);
}


/**
 * Tell whether claims list an IMPU
 *
 * @param c    Claims
 * @param impu The IMPU (compared exactly)
 *
 * @return true if the token authorizes it
 */
bool jwt_claims_impu_has(const struct jwt_claims *c, const char *impu)
{
	return c && strv_has(c->impu, c->impuc, impu);
}


/* --- signing ------------------------------------------------------- */

static int print_strv(struct mbuf *mb, char * const *v, size_t n)
{
	size_t i;
	int err = mbuf_write_str(mb, "[");

	for (i = 0; i < n && !err; i++)
		err = mbuf_printf(mb, "%s%H", i ? "," : "", jwt_json_str,
				  v[i]);

	return err ? err : mbuf_write_str(mb, "]");
}


static int print_opt(struct mbuf *mb, const char *name, const char *val)
{
	if (!val)
		return 0;

	return mbuf_printf(mb, ",\"%s\":%H", name, jwt_json_str, val);
}


static int claims_print(struct mbuf *mb, const struct jwt_claims *c)
{
	int err;

	err = mbuf_printf(mb, "{\"iss\":%H,\"aud\":", jwt_json_str, c->iss);
	if (c->audc)
		err |= print_strv(mb, c->audv, c->audc);
	else
		err |= mbuf_printf(mb, "%H", jwt_json_str, c->aud);
	err |= print_opt(mb, "sub", c->sub);
	err |= mbuf_printf(mb, ",\"impi\":%H,\"impu\":", jwt_json_str,
			   c->impi);
	err |= print_strv(mb, c->impu, c->impuc);
	err |= mbuf_printf(mb, ",\"iat\":%lli", (long long)c->iat);
	if (c->nbf)
		err |= mbuf_printf(mb, ",\"nbf\":%lli", (long long)c->nbf);
	err |= mbuf_printf(mb, ",\"exp\":%lli", (long long)c->exp);
	err |= print_opt(mb, "jti", c->jti);
	err |= print_opt(mb, "pool", c->pool);
	err |= mbuf_write_str(mb, "}");

	return err ? ENOMEM : 0;
}


static bool claims_signable(const struct jwt_claims *c)
{
	return str_isset(c->iss) && (str_isset(c->aud) || c->audc) &&
		str_isset(c->impi) && c->impuc >= 1 &&
		c->impuc <= JWT_IMPU_MAX && c->audc <= JWT_AUD_MAX && c->exp;
}


/* Append base64url of the bytes in mb to out */
static int append_b64(struct mbuf *out, const uint8_t *buf, size_t len)
{
	size_t need = (len * 4 + 2) / 3 + 1;
	int err;

	err = mbuf_resize(out, out->pos + need);
	if (err)
		return err;

	err = jwt_b64_encode((char *)out->buf + out->pos, need, buf, len,
			     true);
	if (err)
		return err;

	out->pos += need - 1;
	out->end = out->pos;

	return 0;
}


/**
 * Sign claims as an ES256 JWT with header
 * {"alg":"ES256","typ":"JWT","kid":<key id>}
 *
 * @param tokp Returned token, NUL-terminated (mem_deref it)
 * @param c    Claims: iss, aud, impi, at least one impu and exp required
 * @param key  A private key
 *
 * @return 0 if success, EINVAL for missing claims or a public key,
 *         EOVERFLOW if the token would exceed JWT_TOKEN_MAX
 */
int jwt_sign(char **tokp, const struct jwt_claims *c,
	     const struct jwt_key *key)
{
	struct mbuf *json = NULL, *tok = NULL;
	uint8_t hash[32], sig[JWT_SIG_LEN];
	int err;

	if (!tokp || !c || !jwt_key_can_sign(key) || !claims_signable(c))
		return EINVAL;

	json = mbuf_alloc(512);
	tok = mbuf_alloc(1024);
	if (!json || !tok) {
		err = ENOMEM;
		goto out;
	}

	err = mbuf_printf(json, "{\"alg\":\"ES256\",\"typ\":\"JWT\","
			  "\"kid\":\"%s\"}", key->kid);
	err |= append_b64(tok, json->buf, json->end);
	err |= mbuf_write_str(tok, ".");
	mbuf_rewind(json);
	err |= claims_print(json, c);
	err |= append_b64(tok, json->buf, json->end);
	if (err) {
		err = ENOMEM;
		goto out;
	}

	if (mbedtls_sha256(tok->buf, tok->end, hash, 0)) {
		err = EIO;
		goto out;
	}

	err = jwt_key_sign_hash(key, hash, sig);
	if (err)
		goto out;

	err  = mbuf_write_str(tok, ".");
	err |= append_b64(tok, sig, sizeof(sig));
	if (err) {
		err = ENOMEM;
		goto out;
	}

	if (tok->end > JWT_TOKEN_MAX) {
		err = EOVERFLOW;
		goto out;
	}

	tok->pos = 0;
	err = mbuf_strdup(tok, tokp, tok->end);

 out:
	mem_deref(json);
	mem_deref(tok);

	return err;
}


/* --- keyring ------------------------------------------------------- */

static void entry_destructor(void *arg)
{
	struct ring_entry *e = arg;

	list_unlink(&e->le);
	mem_deref(e->iss);
	mem_deref(e->key);
}


static void ring_destructor(void *arg)
{
	struct jwt_keyring *r = arg;

	list_flush(&r->entries);
}


/**
 * Allocate an empty keyring of trusted (issuer, key) pairs
 *
 * @param rp Returned keyring
 *
 * @return 0 if success, otherwise errorcode
 */
int jwt_keyring_alloc(struct jwt_keyring **rp)
{
	struct jwt_keyring *r;

	if (!rp)
		return EINVAL;

	r = mem_zalloc(sizeof(*r), ring_destructor);
	if (!r)
		return ENOMEM;

	list_init(&r->entries);
	*rp = r;

	return 0;
}


/**
 * Trust a key for an issuer (an issuer may have several: rotation)
 *
 * @param r      Keyring
 * @param issuer The "iss" value the key signs for
 * @param key    The key (a reference is taken)
 *
 * @return 0 if success, EALREADY if the pair is there, otherwise errorcode
 */
int jwt_keyring_add(struct jwt_keyring *r, const char *issuer,
		    struct jwt_key *key)
{
	struct ring_entry *e;
	struct le *le;
	int err;

	if (!r || !str_isset(issuer) || !key)
		return EINVAL;

	for (le = r->entries.head; le; le = le->next) {
		e = le->data;
		if (!str_cmp(e->iss, issuer) && !str_cmp(e->key->kid,
							  key->kid))
			return EALREADY;
	}

	e = mem_zalloc(sizeof(*e), entry_destructor);
	if (!e)
		return ENOMEM;

	err = str_dup(&e->iss, issuer);
	if (err) {
		mem_deref(e);
		return err;
	}

	e->key = mem_ref(key);
	list_append(&r->entries, &e->le, e);

	return 0;
}


/**
 * Count the (issuer, key) pairs of a keyring
 *
 * @param r Keyring
 *
 * @return The number of pairs
 */
unsigned jwt_keyring_count(const struct jwt_keyring *r)
{
	return r ? list_count(&r->entries) : 0;
}


/* --- verification -------------------------------------------------- */

static int fail(struct vctx *v, int err, const char *reason)
{
	v->reason = reason;
	return err;
}


static int split(struct vctx *v, const struct pl *token)
{
	const char *p = token->p, *end = token->p + token->l;
	unsigned i;

	for (i = 0; i < 3; i++) {
		const char *dot = memchr(p, '.', (size_t)(end - p));

		if (i < 2 && !dot)
			return EBADMSG;
		if (i == 2 && dot)
			return EBADMSG;

		v->part[i].p = p;
		v->part[i].l = (size_t)((i < 2 ? dot : end) - p);
		if (!v->part[i].l)
			return EBADMSG;

		p = i < 2 ? dot + 1 : end;
	}

	return 0;
}


static int part_json(struct odict **op, const struct pl *part)
{
	size_t len = part->l / 4 * 3 + 3;
	uint8_t *buf;
	int err;

	buf = mem_alloc(len, NULL);
	if (!buf)
		return ENOMEM;

	err = jwt_b64_decode(buf, &len, part->p, part->l, true);
	if (!err)
		err = jwt_json_decode(op, (const char *)buf, len);

	mem_deref(buf);

	return err ? EBADMSG : 0;
}


/* alg pinned to ES256; typ JWT if there; no crit; kid a string */
static int header_check(struct vctx *v, const char **kidp)
{
	const struct odict_entry *e;

	e = odict_lookup(v->hdr, "alg");
	if (!e || e->type != ODICT_STRING || strcmp(e->u.str, "ES256"))
		return fail(v, EACCES, JWT_REASON_ALG);

	e = odict_lookup(v->hdr, "typ");
	if (e && (e->type != ODICT_STRING || strcmp(e->u.str, "JWT")))
		return fail(v, EACCES, JWT_REASON_HEADER);

	if (odict_lookup(v->hdr, "crit"))
		return fail(v, EACCES, JWT_REASON_HEADER);

	e = odict_lookup(v->hdr, "kid");
	if (e && e->type != ODICT_STRING)
		return fail(v, EBADMSG, JWT_REASON_MALFORMED);

	*kidp = e ? e->u.str : NULL;

	return 0;
}


static int signature_check(struct vctx *v, const struct jwt_keyring *ring,
			   const char *iss, const char *kid)
{
	bool issuer = false, kid_found = false;
	uint8_t hash[32];
	struct le *le;

	if (v->siglen != JWT_SIG_LEN)
		return fail(v, EACCES, JWT_REASON_SIGNATURE);

	/* the signing input: header "." payload, as sent */
	if (mbedtls_sha256((const uint8_t *)v->part[0].p,
			       v->part[1].p + v->part[1].l - v->part[0].p,
			       hash, 0))
		return fail(v, EIO, JWT_REASON_SIGNATURE);

	for (le = ring->entries.head; le; le = le->next) {
		const struct ring_entry *e = le->data;

		if (strcmp(e->iss, iss))
			continue;

		issuer = true;
		if (kid && strcmp(kid, e->key->kid))
			continue;

		kid_found = true;
		if (jwt_key_verify_hash(e->key, hash, v->sig))
			return 0;
	}

	if (!issuer)
		return fail(v, EACCES, JWT_REASON_ISSUER);
	if (!kid_found)
		return fail(v, EACCES, JWT_REASON_KID);

	return fail(v, EACCES, JWT_REASON_SIGNATURE);
}


/* A string claim: absent is fine unless required, any other type not */
static int claim_str(struct vctx *v, char **strp, const char *name,
		     bool required)
{
	const struct odict_entry *e = odict_lookup(v->pay, name);

	if (!e)
		return required ? fail(v, EACCES, JWT_REASON_CLAIMS) : 0;

	if (e->type != ODICT_STRING || !e->u.str[0])
		return fail(v, EACCES, JWT_REASON_INVALID);

	return str_dup(strp, e->u.str);
}


static int claim_int(struct vctx *v, int64_t *val, const char *name,
		     bool required)
{
	const struct odict_entry *e = odict_lookup(v->pay, name);

	if (!e)
		return required ? fail(v, EACCES, JWT_REASON_CLAIMS) : 0;

	if (e->type != ODICT_INT || e->u.integer <= 0)
		return fail(v, EACCES, JWT_REASON_INVALID);

	*val = e->u.integer;

	return 0;
}


/* An array of 1..max non-empty strings */
static int claim_strv(struct vctx *v, const struct odict_entry *e,
		      char ***vp, size_t *cp, size_t max)
{
	struct le *le;
	int err = 0;

	if (e->type != ODICT_ARRAY || !odict_count(e->u.odict, false) ||
	    odict_count(e->u.odict, false) > max)
		return fail(v, EACCES, JWT_REASON_INVALID);

	for (le = e->u.odict->lst.head; le && !err; le = le->next) {
		const struct odict_entry *m = le->data;

		if (m->type != ODICT_STRING || !m->u.str[0])
			return fail(v, EACCES, JWT_REASON_INVALID);

		err = strv_add(vp, cp, max, m->u.str);
	}

	return err;
}


static int claim_aud(struct vctx *v, struct jwt_claims *c)
{
	const struct odict_entry *e = odict_lookup(v->pay, "aud");
	int err;

	if (!e)
		return fail(v, EACCES, JWT_REASON_CLAIMS);

	if (e->type == ODICT_ARRAY) {
		err = claim_strv(v, e, &c->audv, &c->audc, JWT_AUD_MAX);
		return err ? err : str_dup(&c->aud, c->audv[0]);
	}

	return claim_str(v, &c->aud, "aud", true);
}


static int claims_read(struct vctx *v, struct jwt_claims *c)
{
	const struct odict_entry *e;
	int err;

	err = claim_str(v, &c->iss, "iss", true);
	if (!err)
		err = claim_aud(v, c);
	if (!err)
		err = claim_str(v, &c->impi, "impi", true);
	if (!err)
		err = claim_str(v, &c->sub, "sub", false);
	if (!err)
		err = claim_str(v, &c->jti, "jti", false);
	if (!err)
		err = claim_str(v, &c->pool, "pool", false);
	if (!err)
		err = claim_int(v, &c->exp, "exp", true);
	if (!err)
		err = claim_int(v, &c->iat, "iat", true);
	if (!err)
		err = claim_int(v, &c->nbf, "nbf", false);
	if (err)
		return err;

	e = odict_lookup(v->pay, "impu");
	if (!e)
		return fail(v, EACCES, JWT_REASON_CLAIMS);

	return claim_strv(v, e, &c->impu, &c->impuc, JWT_IMPU_MAX);
}


static int times_check(struct vctx *v, const struct jwt_claims *c,
		       int64_t now)
{
	if (c->exp <= now - JWT_SKEW)
		return fail(v, EACCES, JWT_REASON_EXPIRED);

	if (c->nbf && c->nbf > now + JWT_SKEW)
		return fail(v, EACCES, JWT_REASON_NOT_YET);

	if (c->iat > now + JWT_SKEW)
		return fail(v, EACCES, JWT_REASON_NOT_YET);

	return 0;
}


static int verify(struct vctx *v, struct jwt_claims *c,
		  const struct pl *token, const struct jwt_keyring *ring,
		  int64_t now)
{
	const struct odict_entry *iss;
	const char *kid = NULL;
	int err;

	if (!pl_isset(token) || token->l > JWT_TOKEN_MAX ||
	    split(v, token) || v->part[0].l > HEADER_MAX / 3 * 4 ||
	    v->part[2].l > B64_SIG + 4)
		return fail(v, EBADMSG, JWT_REASON_MALFORMED);

	v->siglen = sizeof(v->sig);
	if (jwt_b64_decode(v->sig, &v->siglen, v->part[2].p, v->part[2].l,
			   true) ||
	    part_json(&v->hdr, &v->part[0]) ||
	    part_json(&v->pay, &v->part[1]))
		return fail(v, EBADMSG, JWT_REASON_MALFORMED);

	err = header_check(v, &kid);
	if (err)
		return err;

	iss = odict_lookup(v->pay, "iss");
	if (!iss)
		return fail(v, EACCES, JWT_REASON_CLAIMS);
	if (iss->type != ODICT_STRING)
		return fail(v, EACCES, JWT_REASON_ISSUER);

	err = signature_check(v, ring, iss->u.str, kid);
	if (err)
		return err;

	err = claims_read(v, c);
	if (err)
		return v->reason ? err : fail(v, err, JWT_REASON_INVALID);

	return times_check(v, c, now);
}


/**
 * Verify an ES256 JWT against a keyring and read its claims
 *
 * Checks, in order: size and form (three base64url parts, JSON objects),
 * the header (alg exactly ES256, typ JWT if present, no crit), the
 * issuer (in the keyring), the key id (one of the issuer's keys if
 * present), the signature, the claims (aud, impi, impu, exp, iat
 * required; types exact) and the times (exp, nbf, iat against now with
 * JWT_SKEW seconds of slack).
 *
 * @param cp     Returned claims (on success only)
 * @param token  The token text
 * @param ring   Trusted (issuer, key) pairs
 * @param now    Current time, seconds since the epoch
 * @param reason Returned reason on failure, a static string (may be NULL)
 *
 * @return 0 if valid, EBADMSG if malformed, EACCES if refused,
 *         otherwise errorcode
 */
int jwt_verify(struct jwt_claims **cp, const struct pl *token,
	       const struct jwt_keyring *ring, int64_t now,
	       const char **reason)
{
	struct jwt_claims *c = NULL;
	struct vctx v;
	int err;

	memset(&v, 0, sizeof(v));

	if (!cp || !token || !ring) {
		err = fail(&v, EINVAL, JWT_REASON_MALFORMED);
		goto out;
	}

	err = jwt_claims_alloc(&c);
	if (err) {
		(void)fail(&v, err, JWT_REASON_MALFORMED);
		goto out;
	}

	err = verify(&v, c, token, ring, now);

 out:
	mem_deref(v.hdr);
	mem_deref(v.pay);

	if (err) {
		mem_deref(c);
		if (reason)
			*reason = v.reason ? v.reason : JWT_REASON_MALFORMED;
	}
	else {
		*cp = c;
	}

	return err;
}

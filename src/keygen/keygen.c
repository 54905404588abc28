/**
 * @file keygen.c  imsedge -k: options, which files to make, and writing
 *                 them atomically (temporary file, fsync, rename)
 *
 * Both files there: nothing is done (unless forced), so a boot script can
 * run it every time. The key alone: a certificate is made for it. The
 * certificate alone: an error, a certificate is useless without its key.
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re.h>
#include <mbedtls/platform_util.h>
#include "keygen.h"
#include "keygen_int.h"

enum {
	KEY_PEM_MAX  = 1024,   /* EC P-256 SEC1 PEM: about 230 bytes */
	CERT_PEM_MAX = 8192,   /* also the most one TLS record holds */
};

/** A file written next to its place, not yet renamed into it */
struct pending {
	const char *path;
	char *tmp;
};


static int opt_fail(int opt, const char *arg, const char *why, int err)
{
	(void)fprintf(stderr, "imsedge: -%c %s: %s\n", opt, arg ? arg : "",
		      why);
	return err;
}


/**
 * Take one command line option of the key and certificate generator
 *
 * @param prm Parameters to fill (zeroed before the first option)
 * @param opt 'k' key file, 'x' certificate file, 'n' subject CN,
 *            'a' subjectAltName (repeatable), 'f' replace existing files
 * @param arg The option's argument (none for 'f')
 *
 * @return 0 if success, otherwise errorcode (the reason is on stderr)
 */
int keygen_opt(struct keygen_prm *prm, int opt, const char *arg)
{
	struct keygen_san san;

	if (!prm)
		return EINVAL;

	switch (opt) {

	case 'k':
		prm->keyfile = arg;
		return 0;

	case 'x':
		prm->certfile = arg;
		return 0;

	case 'n':
		if (keygen_cn_check(arg))
			return opt_fail(opt, arg, "not 1 to 64 printable "
					"characters without '\\'", EINVAL);
		prm->cn = arg;
		return 0;

	case 'a':
		if (prm->sanc >= KEYGEN_SAN_MAX)
			return opt_fail(opt, arg, "too many -a", E2BIG);
		if (keygen_san_decode(&san, arg))
			return opt_fail(opt, arg, "not DNS:name or IP:address",
					EINVAL);
		prm->san[prm->sanc++] = arg;
		return 0;

	case 'f':
		prm->force = true;
		return 0;

	default:
		return EINVAL;
	}
}


static int exists(bool *yes, const char *path)
{
	struct stat st;

	if (!stat(path, &st)) {
		*yes = true;
		return 0;
	}

	*yes = false;

	return errno == ENOENT ? 0 : errno;
}


static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}

		buf += n;
		len -= (size_t)n;
	}

	return 0;
}


/* Write buf to a new file next to pd->path, with mode, synced */
static int pending_write(struct pending *pd, const char *buf, mode_t mode)
{
	int fd, err;

	err = re_sdprintf(&pd->tmp, "%s.XXXXXX", pd->path);
	if (err)
		return err;

	fd = mkstemp(pd->tmp);
	if (fd < 0) {
		err = errno;
		pd->tmp = mem_deref(pd->tmp);
		return err;
	}

	err = fchmod(fd, mode) ? errno : 0;
	if (!err)
		err = write_all(fd, (const uint8_t *)buf, strlen(buf));
	if (!err && fsync(fd))
		err = errno;
	if (close(fd) && !err)
		err = errno;

	return err;
}


static int pending_commit(struct pending *pd)
{
	int err = 0;

	if (!pd->tmp)
		return 0;

	if (rename(pd->tmp, pd->path))
		err = errno;
	else
		pd->tmp = mem_deref(pd->tmp);

	return err;
}


static void pending_drop(struct pending *pd)
{
	if (pd->tmp)
		(void)unlink(pd->tmp);

	pd->tmp = mem_deref(pd->tmp);
}


/* Make the PEM texts, write both, then rename both into place */
static int pair_write(const struct keygen_prm *prm, mbedtls_pk_context *pk,
		      bool new_key, char *errbuf, size_t errsz)
{
	struct pending key = {prm->keyfile, NULL};
	struct pending crt = {prm->certfile, NULL};
	uint8_t kpem[KEY_PEM_MAX], cpem[CERT_PEM_MAX];
	const struct pending *failed = NULL;
	int err;

	err = keygen_cert_pem(cpem, sizeof(cpem), pk, prm);
	if (err) {
		(void)re_snprintf(errbuf, errsz, "cannot make the "
				  "certificate: %m", err);
		goto out;
	}

	if (new_key) {
		err = keygen_key_pem(kpem, sizeof(kpem), pk);
		if (!err)
			err = pending_write(&key, (char *)kpem, 0600);
		if (err) {
			failed = &key;
			goto out;
		}
	}

	err = pending_write(&crt, (char *)cpem, 0644);
	if (err) {
		failed = &crt;
		goto out;
	}

	err = pending_commit(&key);
	if (err) {
		failed = &key;
		goto out;
	}

	err = pending_commit(&crt);
	if (err)
		failed = &crt;

 out:
	if (failed)
		(void)re_snprintf(errbuf, errsz, "%s: %m", failed->path, err);

	pending_drop(&key);
	pending_drop(&crt);
	mbedtls_platform_zeroize(kpem, sizeof(kpem));

	return err;
}


/* A key alone (the WAF's token key): made if missing, or with force */
static int key_only(const struct keygen_prm *prm, enum keygen_made *madep,
		    char *errbuf, size_t errsz)
{
	struct pending key = {prm->keyfile, NULL};
	uint8_t kpem[KEY_PEM_MAX];
	mbedtls_pk_context pk;
	bool have;
	int err;

	err = exists(&have, prm->keyfile);
	if (err || (have && !prm->force)) {
		if (err)
			(void)re_snprintf(errbuf, errsz, "%s: %m",
					  prm->keyfile, err);
		*madep = KEYGEN_KEPT;
		return err;
	}

	mbedtls_pk_init(&pk);
	err = keygen_key_new(&pk);
	if (!err)
		err = keygen_key_pem(kpem, sizeof(kpem), &pk);
	if (!err)
		err = pending_write(&key, (char *)kpem, 0600);
	if (!err)
		err = pending_commit(&key);

	if (err)
		(void)re_snprintf(errbuf, errsz, "%s: %m", prm->keyfile, err);
	else
		*madep = KEYGEN_KEY;

	pending_drop(&key);
	mbedtls_platform_zeroize(kpem, sizeof(kpem));
	mbedtls_pk_free(&pk);

	return err;
}


/* Decide what to make; *madep says it */
static int plan(const struct keygen_prm *prm, enum keygen_made *madep,
		char *errbuf, size_t errsz)
{
	bool have_key, have_cert;
	const char *path;
	int err;

	path = prm->keyfile;
	err = exists(&have_key, path);
	if (!err) {
		path = prm->certfile;
		err = exists(&have_cert, path);
	}
	if (err) {
		(void)re_snprintf(errbuf, errsz, "%s: %m", path, err);
		return err;
	}

	if (prm->force || !have_key)
		*madep = KEYGEN_BOTH;
	else
		*madep = have_cert ? KEYGEN_KEPT : KEYGEN_CERT;

	if (*madep == KEYGEN_BOTH && have_cert && !prm->force) {
		(void)re_snprintf(errbuf, errsz, "%s exists without its key "
				  "%s (-f replaces both)", prm->certfile,
				  prm->keyfile);
		return EEXIST;
	}

	return 0;
}


/**
 * Make the private key and the self-signed certificate files, those of
 * them that are missing (all with force)
 *
 * @param prm    Files, names and force
 * @param madep  Returned: what was made
 * @param errbuf Returned: the reason, if it failed
 * @param errsz  Size of errbuf
 *
 * @return 0 if success, otherwise errorcode
 */
int keygen_files(const struct keygen_prm *prm, enum keygen_made *madep,
		 char *errbuf, size_t errsz)
{
	enum keygen_made made = KEYGEN_KEPT;
	mbedtls_pk_context pk;
	int err;

	if (!prm || !prm->keyfile || !madep || !errbuf || !errsz)
		return EINVAL;

	errbuf[0] = '\0';

	if (!prm->certfile)
		return key_only(prm, madep, errbuf, errsz);

	if (!strcmp(prm->keyfile, prm->certfile)) {
		(void)re_snprintf(errbuf, errsz, "the key and the certificate "
				  "need two files");
		return EINVAL;
	}

	err = plan(prm, &made, errbuf, errsz);
	if (err || made == KEYGEN_KEPT)
		goto out;

	mbedtls_pk_init(&pk);

	if (made == KEYGEN_BOTH)
		err = keygen_key_new(&pk);
	else
		err = keygen_key_load(&pk, prm->keyfile);

	if (err)
		(void)re_snprintf(errbuf, errsz, "%s: %s: %m", prm->keyfile,
				  made == KEYGEN_BOTH ? "cannot make a key" :
				  "cannot load the key", err);
	else
		err = pair_write(prm, &pk, made == KEYGEN_BOTH, errbuf,
				 errsz);

	mbedtls_pk_free(&pk);

 out:
	if (!err)
		*madep = made;

	return err;
}


/**
 * imsedge -k: make the missing files and say what was done
 *
 * @param prm Files, names and force
 *
 * @return 0 if success, otherwise errorcode (the reason is on stderr)
 */
int keygen_cmd(const struct keygen_prm *prm)
{
	enum keygen_made made = KEYGEN_KEPT;
	char errbuf[512] = "";
	int err;

	err = keygen_files(prm, &made, errbuf, sizeof(errbuf));
	if (err) {
		(void)fprintf(stderr, "imsedge: %s\n",
			      errbuf[0] ? errbuf : strerror(err));
		return err;
	}

	switch (made) {

	case KEYGEN_KEPT:
		if (prm->certfile)
			(void)printf("imsedge: %s and %s exist, left "
				     "unchanged (-f replaces them)\n",
				     prm->keyfile, prm->certfile);
		else
			(void)printf("imsedge: %s exists, left unchanged "
				     "(-f replaces it)\n", prm->keyfile);
		break;

	case KEYGEN_KEY:
		(void)printf("imsedge: wrote %s\n", prm->keyfile);
		break;

	case KEYGEN_CERT:
		(void)printf("imsedge: wrote %s for the key in %s\n",
			     prm->certfile, prm->keyfile);
		break;

	case KEYGEN_BOTH:
		(void)printf("imsedge: wrote %s and %s\n", prm->keyfile,
			     prm->certfile);
		break;
	}

	return 0;
}

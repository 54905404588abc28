/**
 * @file afalg.c  The afalg provider: the Linux kernel crypto API
 *
 * Each keyed context is a transform socket (socket(AF_ALG,
 * SOCK_SEQPACKET), bound to skcipher "ctr(aes)" or hash "hmac(sha1)",
 * keyed with ALG_SET_KEY) and one operation socket from accept(). AES-CTR
 * is a sendmsg() with ALG_SET_OP/ALG_SET_IV and a read() of the result;
 * HMAC sends the message with MSG_MORE and reads the MAC. The kernel
 * picks the highest-priority driver for the algorithm, which is where a
 * SoC engine with a kernel driver comes in. Two descriptors per context.
 *
 * The ABI constants are defined here when the libc does not (musl ships
 * no linux/if_alg.h); they are stable kernel ABI.
 */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <re.h>
#include "crypto.h"

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef SOL_ALG
#define SOL_ALG 279
#endif

enum {
	ALG_KEY        = 1,   /* ALG_SET_KEY    */
	ALG_IV         = 2,   /* ALG_SET_IV     */
	ALG_OP         = 3,   /* ALG_SET_OP     */
	ALG_OP_ENC     = 1,   /* ALG_OP_ENCRYPT */
	AFALG_CHUNK    = 16384,  /* bytes per sendmsg(): 1024 AES blocks */
};

/* struct sockaddr_alg */
struct afalg_addr {
	sa_family_t family;
	uint8_t type[14];
	uint32_t feat;
	uint32_t mask;
	uint8_t name[64];
};

struct afalg {
	int tfm;
	int op;
};

struct crypto_ctr {
	struct afalg a;
};

struct crypto_hmac {
	struct afalg a;
};


static void afalg_close(struct afalg *a)
{
	if (a->op >= 0)
		(void)close(a->op);
	if (a->tfm >= 0)
		(void)close(a->tfm);
	a->op = a->tfm = -1;
}


static int tfm_open(int *fdp, const char *type, const char *name)
{
	struct afalg_addr sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.family = AF_ALG;
	str_ncpy((char *)sa.type, type, sizeof(sa.type));
	str_ncpy((char *)sa.name, name, sizeof(sa.name));

	fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;

	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;
		(void)close(fd);
		return err;
	}

	*fdp = fd;
	return 0;
}


static int afalg_open(struct afalg *a, const char *type, const char *name,
		      const uint8_t *key, size_t key_len)
{
	int err;

	a->tfm = a->op = -1;

	err = tfm_open(&a->tfm, type, name);
	if (err)
		return err;

	if (setsockopt(a->tfm, SOL_ALG, ALG_KEY, key, (socklen_t)key_len))
		goto error;

	a->op = accept4(a->tfm, NULL, NULL, SOCK_CLOEXEC);
	if (a->op < 0)
		goto error;

	return 0;

 error:
	err = errno;
	afalg_close(a);
	return err;
}


static int afalg_init(void)
{
	int fd, err;

	err = tfm_open(&fd, "skcipher", "ctr(aes)");
	if (err)
		return err;
	(void)close(fd);

	err = tfm_open(&fd, "hash", "hmac(sha1)");
	if (err)
		return err;
	(void)close(fd);

	return 0;
}


static void ctr_destructor(void *arg)
{
	struct crypto_ctr *c = arg;

	afalg_close(&c->a);
}


static int afalg_ctr_alloc(struct crypto_ctr **cp, const uint8_t *key,
			   size_t key_len)
{
	struct crypto_ctr *c;
	int err;

	if (!cp || !key || (key_len != 16 && key_len != 32))
		return EINVAL;

	c = mem_zalloc(sizeof(*c), ctr_destructor);
	if (!c)
		return ENOMEM;

	c->a.tfm = c->a.op = -1;
	err = afalg_open(&c->a, "skcipher", "ctr(aes)", key, key_len);
	if (err)
		mem_deref(c);
	else
		*cp = c;

	return err;
}


static int ctr_chunk(int op, const uint8_t iv[CRYPTO_AES_BLOCK],
		     const uint8_t *in, uint8_t *out, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t)) +
			 CMSG_SPACE(sizeof(uint32_t) + CRYPTO_AES_BLOCK)];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *cm;
	uint32_t v;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	memset(&msg, 0, sizeof(msg));
	iov.iov_base       = (void *)in;
	iov.iov_len        = len;
	msg.msg_iov        = &iov;
	msg.msg_iovlen     = 1;
	msg.msg_control    = u.buf;
	msg.msg_controllen = sizeof(u.buf);

	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_ALG;
	cm->cmsg_type  = ALG_OP;
	cm->cmsg_len   = CMSG_LEN(sizeof(uint32_t));
	v = ALG_OP_ENC;
	memcpy(CMSG_DATA(cm), &v, sizeof(v));

	/* struct af_alg_iv: u32 ivlen, then the IV */
	cm = CMSG_NXTHDR(&msg, cm);
	cm->cmsg_level = SOL_ALG;
	cm->cmsg_type  = ALG_IV;
	cm->cmsg_len   = CMSG_LEN(sizeof(uint32_t) + CRYPTO_AES_BLOCK);
	v = CRYPTO_AES_BLOCK;
	memcpy(CMSG_DATA(cm), &v, sizeof(v));
	memcpy(CMSG_DATA(cm) + sizeof(v), iv, CRYPTO_AES_BLOCK);

	n = sendmsg(op, &msg, 0);
	if (n < 0)
		return errno;
	if ((size_t)n != len)
		return EIO;

	n = read(op, out, len);
	if (n < 0)
		return errno;

	return (size_t)n == len ? 0 : EIO;
}


static int afalg_ctr_crypt(struct crypto_ctr *c,
			   const uint8_t iv[CRYPTO_AES_BLOCK],
			   const uint8_t *in, uint8_t *out, size_t len)
{
	uint8_t ctr[CRYPTO_AES_BLOCK];
	int err = 0;

	if (!c || !iv || (len && (!in || !out)))
		return EINVAL;

	memcpy(ctr, iv, sizeof(ctr));

	while (len && !err) {
		size_t n = min(len, (size_t)AFALG_CHUNK);

		err = ctr_chunk(c->a.op, ctr, in, out, n);
		crypto_ctr_add(ctr, n / CRYPTO_AES_BLOCK);
		in  += n;
		out += n;
		len -= n;
	}

	return err;
}


static void hmac_destructor(void *arg)
{
	struct crypto_hmac *h = arg;

	afalg_close(&h->a);
}


static int afalg_hmac_alloc(struct crypto_hmac **hp, const uint8_t *key,
			    size_t key_len)
{
	struct crypto_hmac *h;
	int err;

	if (!hp || (!key && key_len))
		return EINVAL;

	h = mem_zalloc(sizeof(*h), hmac_destructor);
	if (!h)
		return ENOMEM;

	h->a.tfm = h->a.op = -1;
	err = afalg_open(&h->a, "hash", "hmac(sha1)", key, key_len);
	if (err)
		mem_deref(h);
	else
		*hp = h;

	return err;
}


static int send_all(int fd, const uint8_t *p, size_t len, int flags)
{
	do {
		ssize_t n = send(fd, p, len, flags);

		if (n < 0)
			return errno;

		p   += n;
		len -= (size_t)n;
	} while (len);

	return 0;
}


static int afalg_hmac_update(struct crypto_hmac *h, const uint8_t *p,
			     size_t len)
{
	if (!h || (!p && len))
		return EINVAL;

	if (!len)
		return 0;

	return send_all(h->a.op, p, len, MSG_MORE);
}


static int afalg_hmac_final(struct crypto_hmac *h,
			    uint8_t mac[CRYPTO_SHA1_LEN])
{
	ssize_t n;
	int err;

	if (!h || !mac)
		return EINVAL;

	/* an empty send without MSG_MORE finalises the hash */
	if (send(h->a.op, NULL, 0, 0) < 0)
		return errno;

	n = read(h->a.op, mac, CRYPTO_SHA1_LEN);
	if (n < 0)
		err = errno;
	else
		err = n == CRYPTO_SHA1_LEN ? 0 : EIO;

	return err;
}


const struct crypto_provider crypto_afalg = {
	.name        = "afalg",
	.srtp_native = false,
	.init        = afalg_init,
	.ctr_alloc   = afalg_ctr_alloc,
	.ctr_crypt   = afalg_ctr_crypt,
	.hmac_alloc  = afalg_hmac_alloc,
	.hmac_update = afalg_hmac_update,
	.hmac_final  = afalg_hmac_final,
};

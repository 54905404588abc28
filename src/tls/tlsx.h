/**
 * @file tlsx.h  imsedge extensions to libre's re_tls.h (mbedtls backend)
 */

int  tls_init(void);
int tls_set_certificate_files(struct tls *tls, const char *certfile,
			      const char *keyfile, const char *pwd);
int tls_alloc_files(struct tls **tlsp, const char *certfile,
		    const char *keyfile);
bool tls_conn_established(const struct tls_conn *tc);
size_t tls_conn_bufsize(const struct tls_conn *tc);
bool   tls_conn_lean(const struct tls_conn *tc);
int  tls_random(void *buf, size_t len);
int  tls_rand_attach(void);
void tls_rand_detach(void);
int  tls_mbedtls_rng(void *ctx, unsigned char *buf, size_t len);

/**
 * @file keygen_int.h  Private: key and certificate making (cert.c) for
 *                     the file and command line side (keygen.c)
 */
#include <mbedtls/pk.h>

/** One subjectAltName entry, decoded from "DNS:name" or "IP:addr" */
struct keygen_san {
	int tag;                /**< GeneralName: KEYGEN_GN_DNS or _IP    */
	const char *name;       /**< dNSName (points into the string)     */
	uint8_t ip[16];         /**< iPAddress, network order             */
	size_t len;             /**< Bytes of name or of ip               */
};

enum {
	KEYGEN_GN_DNS = 2,      /**< GeneralName dNSName [2] IA5String    */
	KEYGEN_GN_IP  = 7,      /**< GeneralName iPAddress [7]            */
};

int keygen_san_decode(struct keygen_san *san, const char *str);
int keygen_cn_check(const char *cn);
int keygen_key_new(mbedtls_pk_context *pk);
int keygen_key_load(mbedtls_pk_context *pk, const char *path);
int keygen_key_pem(uint8_t *buf, size_t size, mbedtls_pk_context *pk);
int keygen_cert_pem(uint8_t *buf, size_t size, mbedtls_pk_context *pk,
		    const struct keygen_prm *prm);

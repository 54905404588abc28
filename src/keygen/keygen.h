/**
 * @file keygen.h  A private key and a self-signed certificate for W2,
 *                 made by imsedge itself (routers have no openssl tool)
 *
 * The key is EC P-256 (PEM, SEC1), the certificate X.509 v3, self-signed
 * with ECDSA-SHA256: subject CN, subjectAltName DNS/IP entries,
 * basicConstraints CA:false, keyUsage digitalSignature, extKeyUsage
 * serverAuth, a random serial, valid from now for KEYGEN_DAYS days.
 * Both files are written through a temporary file and rename(2); the key
 * with mode 0600, the certificate 0644.
 */

#ifndef IMSEDGE_KEYGEN_H
#define IMSEDGE_KEYGEN_H

enum {
	KEYGEN_SAN_MAX = 16,    /**< Most subjectAltName entries          */
	KEYGEN_CN_MAX  = 64,    /**< X.509 upper bound of a common name   */
	KEYGEN_DAYS    = 825,   /**< Validity: what Apple clients accept */
};

/** What to make: the two files and the names in the certificate */
struct keygen_prm {
	const char *keyfile;    /**< PEM private key                      */
	const char *certfile;   /**< PEM self-signed certificate, or NULL
				     for a key alone (a token key)        */
	const char *cn;         /**< Subject CN, NULL for "imsedge"       */
	const char *san[KEYGEN_SAN_MAX]; /**< "DNS:name" or "IP:addr"     */
	size_t sanc;            /**< Entries used in san[]                */
	bool force;             /**< Replace files that exist             */
};

/** What keygen_files() did */
enum keygen_made {
	KEYGEN_KEPT = 0,        /**< Both files existed: left unchanged   */
	KEYGEN_CERT,            /**< A certificate for the existing key   */
	KEYGEN_BOTH,            /**< A new key and certificate            */
	KEYGEN_KEY,             /**< A new key alone (no certfile asked)  */
};

int keygen_opt(struct keygen_prm *prm, int opt, const char *arg);
int keygen_files(const struct keygen_prm *prm, enum keygen_made *madep,
		 char *errbuf, size_t errsz);
int keygen_cmd(const struct keygen_prm *prm);

#endif

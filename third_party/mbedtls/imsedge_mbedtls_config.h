/*
 * imsedge_mbedtls_config.h -- mbedtls 3.6 user configuration for imsedge.
 *
 * Included by mbedtls/build_info.h after mbedtls/mbedtls_config.h through
 *   -DMBEDTLS_USER_CONFIG_FILE='"imsedge_mbedtls_config.h"'
 * That define must be identical when building mbedtls and when compiling
 * anything against its headers (third_party/deps.mk puts it in DEPS_CFLAGS and
 * third_party/build installs this file into deps/include/).
 *
 * Everything else stays at the mbedtls default (TLS 1.2 and 1.3, PSA
 * crypto: the program calls psa_crypto_init() before any TLS).
 */
#ifndef IMSEDGE_MBEDTLS_CONFIG_H
#define IMSEDGE_MBEDTLS_CONFIG_H

/* DTLS-SRTP key negotiation (RFC 5764) for WebRTC media. */
#define MBEDTLS_SSL_DTLS_SRTP

/* Per-connection memory: a peer may send full 16 KiB records, so the
 * input buffer stays at the maximum; what imsedge sends (SIP messages,
 * HTTP responses, DTLS) is written in records of at most 8 KiB, which
 * halves the output buffer every idle connection holds. A certificate
 * chain must fit one record; src/tls checks that when it loads one. */
#define MBEDTLS_SSL_OUT_CONTENT_LEN 8192

/* Record buffers of variable length: src/tls releases them while a
 * connection is idle and mbedtls takes them back when records move
 * (third_party/patches/mbedtls/0001-ssl-release-idle-record-buffers). */
#define MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH

/* No persistent PSA keys: nothing is stored in files. */
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
#undef MBEDTLS_PSA_ITS_FILE_C

#endif

/*
 * imsedge_mbedtls_config.h -- mbedtls 2.28 user configuration for imsedge.
 *
 * Included at the end of mbedtls/config.h through
 *   -DMBEDTLS_USER_CONFIG_FILE='"imsedge_mbedtls_config.h"'
 * That define must be identical when building mbedtls and when compiling
 * anything against its headers (third_party/deps.mk puts it in DEPS_CFLAGS and
 * third_party/build installs this file into deps/include/).
 *
 * Everything else stays at the mbedtls default.
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

#endif

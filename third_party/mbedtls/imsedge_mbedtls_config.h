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

/* Fast constant-time ECC (issue 13), measured with callgrind (x86_64)
 * and qemu-user (armhf) per operation, see docs/figures.md:
 * - Everest: HACL*'s verified X25519 (3rdparty/everest, built into
 *   libmbedcrypto by library/Makefile) instead of the generic Montgomery
 *   ladder, in mbedtls_ecdh_* and in PSA's ECDH, which runs on it;
 *   third_party/patches/mbedtls/0002 makes PSA's X25519 public key use
 *   it too. 3.4x fewer instructions on x86_64, about 2x on armhf.
 * - MBEDTLS_USE_PSA_CRYPTO: TLS 1.2/DTLS 1.2, X.509 and pk go through PSA
 *   (TLS 1.3 always does), so DTLS reaches the same implementations.
 * - p256-m (3rdparty/p256-m, a small constant-time P-256 as a PSA driver:
 *   key generation, ECDH, randomized ECDSA sign, ECDSA verify) only where
 *   the compiler has no 128-bit integer, i.e. mbedtls' bignum works in
 *   32-bit limbs (armhf, mipsel): there ECDH and ECDSA verify take about
 *   a quarter of the generic code's time. With 64-bit limbs (x86_64,
 *   aarch64) the generic code is 4-5x faster than p256-m, so it stays.
 *   Signing stays generic on every board: TLS signs with deterministic
 *   ECDSA (RFC 6979, MBEDTLS_ECDSA_DETERMINISTIC, which src/jwt needs
 *   too), which p256-m does not do.
 * mbedtls' generic ECP code stays for everything else (src/jwt/,
 * src/keygen/, P-384). tls_init() calls psa_crypto_init() before any pk,
 * X.509 or TLS use. test/unit/ecc.c fails if this is not compiled in. */
#define MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED
#define MBEDTLS_USE_PSA_CRYPTO
#if !defined(__SIZEOF_INT128__)
#define MBEDTLS_PSA_P256M_DRIVER_ENABLED
#endif

/* mbedtls_calloc/mbedtls_free through pointers the program sets
 * (mbedtls_platform_set_calloc_free): src/tls/tls_mem.c gives the
 * record buffers (8-17 KB, allocated and freed with every handshake and
 * idle connection) a pool of their own, out of the heap where the long-
 * lived small objects of calls and connections sit (issue 13). */
#define MBEDTLS_PLATFORM_MEMORY

/* No persistent PSA keys: nothing is stored in files. */
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
#undef MBEDTLS_PSA_ITS_FILE_C

#endif

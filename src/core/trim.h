/**
 * @file trim.h  Give freed heap back to the system after a burst
 *
 * TLS handshakes (W2) and keyed DTLS-SRTP calls (AGW) free tens of
 * kilobytes each (record buffers, handshake state) between the small
 * objects that stay for the connection's or call's life. glibc keeps
 * such holes resident; its malloc_trim() gives whole free pages back.
 * Callers note what they freed; once TRIM_MIN_BYTES have been noted, one
 * trim runs when no note has come for TRIM_DELAY (a burst then costs one
 * trim), TRIM_MAX_WAIT after the threshold at the latest, and at most
 * once every TRIM_INTERVAL. musl's allocator unmaps freed memory itself:
 * there the notes count but nothing runs. Single-threaded (the libre
 * main loop). trim_set_hook() adds the trim of mbedtls' record buffer
 * pool (tls_mem.h). trim_setup() chooses glibc's settings at start (no
 * per-thread cache: its chunks pin pages that a trim cannot give back).
 */

#ifndef IMSEDGE_CORE_TRIM_H
#define IMSEDGE_CORE_TRIM_H

/** Another allocator's trim, run with the heap's (tls/tls_mem.c) */
typedef void (trim_hook_h)(void);

void     trim_setup(char *argv[]);
void     trim_set_hook(trim_hook_h *h);
void     trim_note(size_t bytes);
void     trim_set_timing(uint32_t delay_ms, uint32_t interval_ms);
void     trim_close(void);
uint32_t trim_count(void);
uint64_t trim_last(void);

#endif

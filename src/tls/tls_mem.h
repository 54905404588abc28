/**
 * @file tls_mem.h  mbedtls' allocator: record buffers in a pool of
 *                  their own
 *
 * Every TLS connection and DTLS session allocates two record buffers
 * (about 17 KB in, 8.5 KB out), and our mbedtls patch 0001 frees and
 * allocates them again whenever a connection goes idle or wakes up. In
 * the heap those blocks sit between the small objects that stay for a
 * call's or connection's life; once freed, the allocator carves small
 * objects out of the holes and the pages stay resident (issue 13:
 * about 4 KiB per call). Here every mbedtls allocation of TLS_MEM_MIN
 * bytes or more and at most one slot (TLS_MEM_SLOT) takes a slot of its
 * own in mmap'ed chunks of TLS_MEM_CHUNK slots; smaller ones go to the
 * C library as before. A freed slot is reused first (no system call
 * while handshakes come and go); tls_mem_trim() (run with the heap trim,
 * core/trim.c) gives the pages of free slots back and unmaps empty
 * chunks. Thread-safe (a mutex on the pool path only).
 */

enum {
	TLS_MEM_MIN   = 4096,      /**< Smallest size taken from the pool */
	TLS_MEM_SLOT  = 20480,     /**< Slot size (in_buf: 16 KiB + head) */
	TLS_MEM_CHUNK = 16,        /**< Slots per mapping                 */
};

/** What the pool holds (tests, figures) */
struct tls_mem_stats {
	size_t slots;              /**< Slots in use                      */
	size_t dirty;              /**< Free slots with pages resident     */
	size_t chunks;             /**< Mappings                          */
	uint64_t maps;             /**< mmap calls so far                 */
};

void  tls_mem_init(void);
void *tls_mem_calloc(size_t n, size_t size);
void  tls_mem_free(void *p);
void  tls_mem_set_min(size_t min);
void  tls_mem_trim(void);
void  tls_mem_stats(struct tls_mem_stats *st);

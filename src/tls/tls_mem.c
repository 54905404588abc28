/**
 * @file tls_mem.c  mbedtls' allocator: record buffers in a pool of
 *                  their own (tls_mem.h)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#include <re.h>
#include <mbedtls/platform.h>
#include "tls_mem.h"

/* One mapping of TLS_MEM_CHUNK slots; a bit per slot */
struct chunk {
	uint8_t *base;
	uint32_t used;             /**< Slots handed out                  */
	uint32_t dirty;            /**< Free slots whose pages are touched */
};

static struct {
	pthread_mutex_t mtx;
	struct chunk *v;           /**< Sorted by base                    */
	size_t n;
	size_t cap;
	size_t slot;               /**< TLS_MEM_SLOT rounded to pages     */
	uintptr_t pmask;           /**< Page size - 1                     */
	size_t min;                /**< Smallest size taken               */
	uint64_t maps;
} pool = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.min = TLS_MEM_MIN,
};


static size_t chunk_size(void)
{
	return pool.slot * TLS_MEM_CHUNK;
}


static size_t popcount32(uint32_t x)
{
	return (size_t)__builtin_popcount(x);
}


/* The chunk holding p, or NULL */
static struct chunk *chunk_find(const void *p)
{
	const uint8_t *a = p;
	size_t lo = 0, hi = pool.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct chunk *c = &pool.v[mid];

		if (a < c->base)
			hi = mid;
		else if (a >= c->base + chunk_size())
			lo = mid + 1;
		else
			return c;
	}

	return NULL;
}


static struct chunk *chunk_new(void)
{
	struct chunk *c;
	uint8_t *base;
	size_t i;

	if (pool.n == pool.cap) {
		size_t cap = pool.cap ? pool.cap * 2 : 8;
		struct chunk *v = realloc(pool.v, cap * sizeof(*v));

		if (!v)
			return NULL;
		pool.v = v;
		pool.cap = cap;
	}

	base = mmap(NULL, chunk_size(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	++pool.maps;

	for (i = pool.n; i > 0 && pool.v[i - 1].base > base; i--)
		pool.v[i] = pool.v[i - 1];

	c = &pool.v[i];
	c->base = base;
	c->used = 0;
	c->dirty = 0;
	++pool.n;

	return c;
}


/* A free slot: a touched one first (no page faults), in the lowest chunk
   (the high ones empty out and go back) */
static void *slot_get(size_t size)
{
	struct chunk *c = NULL;
	uint32_t all = (1u << TLS_MEM_CHUNK) - 1, bit;
	size_t i;
	void *p;

	for (i = 0; i < pool.n && !c; i++) {
		if (pool.v[i].dirty)
			c = &pool.v[i];
	}
	for (i = 0; i < pool.n && !c; i++) {
		if (pool.v[i].used != all)
			c = &pool.v[i];
	}
	if (!c)
		c = chunk_new();
	if (!c)
		return NULL;

	bit = c->dirty ? c->dirty & -c->dirty : ~c->used & (c->used + 1);
	p = c->base + (size_t)__builtin_ctz(bit) * pool.slot;
	if (c->dirty & bit)
		memset(p, 0, size);    /* fresh pages are zero already */

	c->used  |= bit;
	c->dirty &= ~bit;

	return p;
}


/**
 * Use the pool for mbedtls' allocations; before any TLS (later is safe
 * too: what the C library allocated goes back to it). Not under
 * AddressSanitizer (which does not see into the pool's mappings): there
 * the pool only serves tls_mem_calloc() called directly (tests).
 */
void tls_mem_init(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	if (pg <= 0)
		pg = 4096;

	pool.pmask = (uintptr_t)pg - 1;
	pool.slot = (TLS_MEM_SLOT + (size_t)pool.pmask) & ~(size_t)pool.pmask;

	/* under AddressSanitizer mbedtls keeps the checked C allocator */
#ifndef __SANITIZE_ADDRESS__
	(void)mbedtls_platform_set_calloc_free(tls_mem_calloc, tls_mem_free);
#endif
}


/**
 * calloc() for mbedtls
 *
 * @param n    Number of elements
 * @param size Size of each
 *
 * @return Zeroed memory, NULL if none or n * size overflows
 */
void *tls_mem_calloc(size_t n, size_t size)
{
	size_t len;
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;

	len = n * size;
	if (len < pool.min || len > TLS_MEM_SLOT || !pool.slot)
		return calloc(n, size);

	pthread_mutex_lock(&pool.mtx);
	p = slot_get(len);
	pthread_mutex_unlock(&pool.mtx);

	return p ? p : calloc(n, size);
}


/**
 * free() for mbedtls
 *
 * @param p Memory from tls_mem_calloc(), or NULL
 */
void tls_mem_free(void *p)
{
	struct chunk *c;

	/* slots are page-aligned; few heap blocks are */
	if (!p || ((uintptr_t)p & pool.pmask)) {
		free(p);
		return;
	}

	pthread_mutex_lock(&pool.mtx);
	c = chunk_find(p);
	if (c) {
		uint32_t bit = 1u << (((uint8_t *)p - c->base) / pool.slot);

		c->used  &= ~bit;
		c->dirty |= bit;
	}
	pthread_mutex_unlock(&pool.mtx);

	if (!c)
		free(p);
}


/**
 * Set the smallest allocation taken from the pool (default TLS_MEM_MIN;
 * above TLS_MEM_SLOT: none, all go to the C library, for comparisons)
 *
 * @param min Bytes
 */
void tls_mem_set_min(size_t min)
{
	pool.min = min;
}


/**
 * Give back the pages of free slots and unmap empty chunks (after a
 * burst: the next handshakes fault the pages in again)
 */
void tls_mem_trim(void)
{
	size_t i, j = 0, s;

	pthread_mutex_lock(&pool.mtx);
	for (i = 0; i < pool.n; i++) {
		struct chunk *c = &pool.v[i];

		if (!c->used) {
			(void)munmap(c->base, chunk_size());
			continue;
		}

		for (s = 0; s < TLS_MEM_CHUNK; s++) {
			if (c->dirty & (1u << s))
				(void)madvise(c->base + s * pool.slot,
					      pool.slot, MADV_DONTNEED);
		}
		c->dirty = 0;
		pool.v[j++] = *c;
	}
	pool.n = j;
	pthread_mutex_unlock(&pool.mtx);
}


/**
 * Tell what the pool holds
 *
 * @param st Returned counts
 */
void tls_mem_stats(struct tls_mem_stats *st)
{
	size_t i;

	if (!st)
		return;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&pool.mtx);
	for (i = 0; i < pool.n; i++) {
		st->slots += popcount32(pool.v[i].used);
		st->dirty += popcount32(pool.v[i].dirty);
	}
	st->chunks = pool.n;
	st->maps = pool.maps;
	pthread_mutex_unlock(&pool.mtx);
}

/*
 * ossl-fork-fix.c  LD_PRELOAD shim for the benchmark's Kamailio WSS proxy
 *
 * Kamailio 5.6 (Debian 12: 5.6.3) with OpenSSL 3 corrupts its shared
 * memory under concurrent TLS load and crashes ("qm_free(): BUG: freeing
 * already freed pointer ... tls_init.c: ser_free", then SIGSEGV/SIGABRT in
 * a TCP worker; kamailio issue #3791). The cause: OpenSSL keeps per-thread
 * state (the error queue, the public/private DRBGs, ...) behind pthread
 * keys; the main process creates it while loading the tls module, in
 * Kamailio's shared memory, and every forked worker inherits the same
 * pointers, so all workers use one error queue and one DRBG at once.
 * Kamailio fixed this upstream in 5.8 (core parameter tls_threads_mode: an
 * at-fork handler that clears OpenSSL's thread-locals in each child).
 *
 * This shim does the same for 5.6: it notes every pthread key that
 * libcrypto creates, and after fork() the child sets those keys to NULL,
 * so each process lazily creates its own OpenSSL per-thread state. It
 * calls no OpenSSL function and costs nothing after start-up.
 * tools/bench/kamailio-wss-start builds and preloads it (BENCH_OSSL_FIX=0
 * runs Kamailio as shipped).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

enum { MAXKEYS = 64 };

typedef int (*key_create_fn)(pthread_key_t *, void (*)(void *));

static pthread_key_t keys[MAXKEYS];
static int nkeys;


int pthread_key_create(pthread_key_t *key, void (*destructor)(void *))
{
	static key_create_fn real;
	Dl_info info;
	int err;

	if (!real)
		real = (key_create_fn)dlsym(RTLD_NEXT, "pthread_key_create");
	if (!real)
		return 11; /* EAGAIN */

	err = real(key, destructor);
	if (!err && nkeys < MAXKEYS &&
	    dladdr(__builtin_return_address(0), &info) && info.dli_fname &&
	    strstr(info.dli_fname, "libcrypto"))
		keys[nkeys++] = *key;

	return err;
}


static void child_after_fork(void)
{
	int i;

	for (i = 0; i < nkeys; i++)
		(void)pthread_setspecific(keys[i], NULL);
}


__attribute__((constructor)) static void init(void)
{
	(void)pthread_atfork(NULL, NULL, child_after_fork);
}

/**
 * @file fuzz_reginfo.c  Fuzz the reginfo reader (RFC 3680 NOTIFY bodies
 *                       from the core; D-58): arbitrary bytes as a
 *                       document, every contact it reports checked to
 *                       lie inside the input
 */
#include <string.h>
#include <re.h>
#include "core/conf.h"
#include "pcscf/pcscf.h"
#include "pcscf/pcscf_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in_p;
static size_t in_l;


static void inside(const struct pl *pl)
{
	if (pl->l && ((const uint8_t *)pl->p < in_p ||
		      (const uint8_t *)pl->p + pl->l > in_p + in_l))
		__builtin_trap();
}


static bool contact_h(const struct reginfo_contact *c, void *arg)
{
	unsigned *n = arg;

	inside(&c->doc_state);
	inside(&c->aor);
	inside(&c->reg_state);
	inside(&c->state);
	inside(&c->event);
	inside(&c->uri);
	if (!pl_isset(&c->aor))
		__builtin_trap();

	return ++*n > 100000;
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	return libre_init();
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl body;
	unsigned n = 0;

	in_p = data;
	in_l = size;
	body.p = (const char *)data;
	body.l = size;

	(void)reginfo_decode(&body, contact_h, &n);

	return 0;
}

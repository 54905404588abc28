/**
 * @file fuzz_trust.c  Fuzz the trust boundary (src/pcscf/trust.c) and the
 *                     one parameter scanner (src/sip/param.c): a request
 *                     as a browser sends it, checked and rewritten as it
 *                     would cross to the core. Besides memory safety it
 *                     checks the property itself (D-52, D-53): whatever
 *                     is accepted crosses without any integrity-protected
 *                     and without a header the table removes.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/conf.h"
#include "sip/sipx.h"
#include "w2/w2.h"
#include "pcscf/pcscf.h"
#include "pcscf/pcscf_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	return libre_init();
}


static bool has_ci(const uint8_t *p, size_t n, const char *what)
{
	size_t l = strlen(what), i;

	for (i = 0; i + l <= n; i++) {
		if (!strncasecmp((const char *)p + i, what, l))
			return true;
	}

	return false;
}


/* Scan every header value both ways: terminates, stays in bounds */
static void scan_all(const struct sip_msg *msg)
{
	struct le *le;

	for (le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		struct pl rest, name, val, scheme;
		uint32_t u;

		rest = hdr->val;
		while (!sipx_param_next(&rest, ';', &name, &val))
			;
		if (!sipx_auth_split(&hdr->val, &scheme, &rest)) {
			while (!sipx_param_next(&rest, ',', &name, &val))
				;
		}
		(void)sipx_u32(&hdr->val, &u);
	}
}


/* Every line of what crosses: no header the table keeps back */
static void check_crossed(const struct mbuf *mb)
{
	const char *p = (const char *)mb->buf, *end = p + mb->end;

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		const char *colon = memchr(p, ':', (eol ? eol : end) - p);
		struct pl name;

		if (colon) {
			name.p = p;
			name.l = colon - p;
			if (trust_hdr(&name) == TR_DROP ||
			    trust_hdr(&name) == TR_OWN)
				abort();
		}

		if (!eol)
			break;
		p = eol + 1;
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL;
	const char *why = NULL;
	struct mbuf *mb;
	uint32_t fwd;

	if (size > 65536 || sipx_decode(&msg, data, size))
		return 0;

	scan_all(msg);
	(void)trust_maxfwd(msg, &fwd);

	if (!msg->req || trust_check(msg, &why))
		goto out;

	mb = mbuf_alloc(1024);
	if (!mb)
		goto out;

	if (!trust_print_auth(mb, msg, NULL, NULL) &&
	    has_ci(mb->buf, mb->end, "integrity-protected"))
		abort();

	mb->end = 0;
	if (!pc_print_hdrs(mb, msg, trust_skip, NULL))
		check_crossed(mb);

	mem_deref(mb);
 out:
	mem_deref(msg);
	return 0;
}

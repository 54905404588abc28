/**
 * @file fuzz_conf.c  Fuzz the configuration parser (a file an operator
 *                    or a UCI translation writes)
 */
#include <re.h>
#include "core/conf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	return libre_init();
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsedge_conf *conf = NULL;
	char errbuf[256];

	if (!conf_parse(&conf, "fuzz", (const char *)data, size, errbuf,
			sizeof(errbuf)))
		mem_deref(conf);

	return 0;
}

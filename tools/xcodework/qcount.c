/**
 * @file qcount.c  Count the guest instructions qemu-user executed, from
 *                 its log (-d in_asm,exec,nochain), between two marks
 *
 *   qemu-arm-static -d in_asm,exec,nochain -D /dev/fd/3 prog ... \
 *       3>&1 >/dev/null | qcount xw_begin xw_end
 *
 * in_asm gives each translation block's guest instructions (one line
 * each, after "IN:"); with nochain every execution of a block is logged
 * ("Trace N: host [cs_base/pc/flags/cflags] symbol"). The sum of the
 * sizes of the blocks executed after the first block of symbol BEGIN and
 * before the first of END is the count. A host tool (built with the
 * host's cc), not part of imsedge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HBITS = 22, HSIZE = 1 << HBITS };

static unsigned long keys[HSIZE];
static unsigned sizes[HSIZE];
static unsigned char used[HSIZE];


static size_t slot(unsigned long pc)
{
	size_t h = (size_t)((pc * 2654435761UL) >> 7) & (HSIZE - 1);

	while (used[h] && keys[h] != pc)
		h = (h + 1) & (HSIZE - 1);

	return h;
}


int main(int argc, char *argv[])
{
	static char line[4096];
	unsigned long long total = 0, miss = 0, tbs = 0;
	unsigned long first = 0;
	unsigned n = 0;
	int in_tb = 0, on = 0, done = 0;

	if (argc != 3) {
		(void)fprintf(stderr, "usage: qcount BEGIN-SYMBOL END-SYMBOL "
			      "<qemu-log\n");
		return 2;
	}

	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "Trace ", 6)) {
			char *p = strchr(line, '['), *sym;
			unsigned long pc;
			size_t h;

			in_tb = 0;
			if (!p || !(p = strchr(p, '/')))
				continue;
			pc = strtoul(p + 1, &p, 16);
			sym = strchr(p, ']');
			sym = sym ? sym + 1 : p;
			while (*sym == ' ')
				++sym;
			sym[strcspn(sym, "\n")] = '\0';
			if (!on && !done && !strcmp(sym, argv[1]))
				on = 1;
			else if (on && !strcmp(sym, argv[2])) {
				on = 0;
				done = 1;
			}
			if (!on)
				continue;
			h = slot(pc);
			if (used[h])
				total += sizes[h];
			else
				++miss;
			++tbs;
		}
		else if (!strncmp(line, "IN:", 3)) {
			in_tb = 1;
			n = 0;
		}
		else if (in_tb && line[0] == '0' && line[1] == 'x') {
			if (!n++)
				first = strtoul(line + 2, NULL, 16);
		}
		else if (in_tb && (line[0] == '\n' || line[0] == '-')) {
			size_t h = slot(first);

			if (n) {
				used[h] = 1;
				keys[h] = first;
				sizes[h] = n;
			}
			in_tb = 0;
		}
	}

	if (!done) {
		(void)fprintf(stderr, "qcount: marks %s .. %s not both seen\n",
			      argv[1], argv[2]);
		return 1;
	}

	(void)printf("%llu instructions, %llu blocks, %llu unknown\n",
		     total, tbs, miss);
	return 0;
}

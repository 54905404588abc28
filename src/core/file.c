/**
 * @file file.c  Bounded whole-file reads
 */
#include <stdio.h>
#include <re.h>
#include "file.h"


/**
 * Read a whole file into a buffer, appending at mb->end
 *
 * @param mb   Buffer
 * @param path File path
 * @param max  Maximum size in bytes
 *
 * @return 0 if success, EFBIG if larger than max, otherwise errorcode
 */
int file_read(struct mbuf *mb, const char *path, size_t max)
{
	uint8_t buf[4096];
	size_t total = 0;
	FILE *f;
	int err = 0;

	if (!mb || !path)
		return EINVAL;

	f = fopen(path, "rb");
	if (!f)
		return errno;

	mbuf_skip_to_end(mb);

	for (;;) {
		size_t n = fread(buf, 1, sizeof(buf), f);

		if (n == 0) {
			if (ferror(f))
				err = EIO;
			break;
		}

		total += n;
		if (total > max) {
			err = EFBIG;
			break;
		}

		err = mbuf_write_mem(mb, buf, n);
		if (err)
			break;
	}

	(void)fclose(f);
	return err;
}

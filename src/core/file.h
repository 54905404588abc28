/**
 * @file file.h  Bounded whole-file reads
 */

int file_read(struct mbuf *mb, const char *path, size_t max);

/**
 * @file fuzz_dc.c  Fuzz a data-channel association: SCTP packets into
 *                  usrsctp's input path (CRC32c not checked, so the
 *                  fuzzer reaches the chunk parsers) and deliveries into
 *                  the channel layer (DCEP, messages in parts, stream
 *                  resets, association events)
 *
 * Input: one mode byte (bit 0: DTLS client role, bit 1: treat the
 * association as up), then records: 0x00, a 16-bit big-endian length
 * and an SCTP packet; or 0x01, stream id (16 bits), PPID (32 bits), a
 * flags byte (bit 0: end of message, bit 1: a notification), a 16-bit
 * length and the payload. Everything is big-endian.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include <usrsctp.h>
#include "core/log.h"
#include "dc/dc.h"
#include "dc/dc_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int send_h(const uint8_t *p, size_t n, void *arg)
{
	(void)p;
	(void)n;
	(void)arg;

	return 0;
}


static bool open_h(const struct dc_chan_info *ci, void *arg)
{
	(void)arg;

	return ci->label[0] != 'x';
}


static void close_h(int err, void *arg)
{
	(void)err;
	(void)arg;
}


static const struct dc_handlers h = {
	send_h, open_h, NULL, NULL, close_h
};


static int assoc(struct dc_assoc **ap, bool client)
{
	struct dc_conf c;

	memset(&c, 0, sizeof(c));
	c.max_channels = 4;
	c.max_message  = 2048;
	c.local_port   = DC_SCTP_PORT;
	c.remote_port  = DC_SCTP_PORT;

	return dc_assoc_alloc(ap, &c, client, &h, NULL);
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dc_assoc *a = NULL;
	int err;

	(void)argc;
	(void)argv;

	err = libre_init();
	log_init(LOG_LVL_ERROR + 1, false);
	if (!err)
		err = assoc(&a, false);   /* initialises usrsctp */

	mem_deref(a);
	usrsctp_enable_crc32c_offload();

	return err;
}


static void deliver(struct dc_assoc *a, const uint8_t *p, size_t n)
{
	struct dc_msg *m;
	const size_t len = (size_t)(p[7] << 8 | p[8]);

	if (9 + len > n)
		return;

	m = calloc(1, sizeof(*m));
	if (!m)
		return;

	m->data = malloc(len ? len : 1);
	if (!m->data) {
		free(m);
		return;
	}

	memcpy(m->data, p + 9, len);
	m->len   = len;
	m->sid   = (uint16_t)(p[0] << 8 | p[1]);
	m->ppid  = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 |
		(uint32_t)p[4] << 8 | p[5];
	m->flags = ((p[6] & 1) ? MSG_EOR : 0) |
		((p[6] & 2) ? MSG_NOTIFICATION : 0);

	dc_msg_handle(a, m);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dc_assoc *a = NULL;
	size_t pos = 1;

	if (size < 1 || assoc(&a, data[0] & 1))
		return 0;

	(void)dc_assoc_start(a);
	a->up = data[0] & 2;

	while (pos + 3 <= size && !a->closed) {
		const uint8_t kind = data[pos];
		size_t n;

		if (kind == 0) {
			n = (size_t)(data[pos + 1] << 8 | data[pos + 2]);
			pos += 3;
			if (pos + n > size)
				break;
			dc_assoc_input(a, data + pos, n);
			pos += n;
		}
		else if (kind == 1 && pos + 10 <= size) {
			n = (size_t)(data[pos + 8] << 8 | data[pos + 9]);
			deliver(a, data + pos + 1, size - pos - 1);
			pos += 10 + n;
		}
		else {
			break;
		}
	}

	mem_deref(a);
	usrsctp_handle_timers(1000);

	return 0;
}

/**
 * @file b64.c  Strict base64 without padding: base64url (RFC 4648 5) for
 *              JWS, the standard alphabet (RFC 4648 4) for password hashes
 *
 * Decoding accepts exactly what encoding makes: no '=', no white space,
 * no other character, no length that leaves 6 bits over, and zero bits
 * in what the last character carries beyond the data. So every byte
 * string has one text form, and a tampered token cannot hide in it.
 */
#include <re.h>
#include "jwt.h"

static const char alpha_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char alpha_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/**
 * Encode bytes as base64 without padding, NUL-terminated
 *
 * @param out Output buffer
 * @param osz Its size: at least (len * 4 + 2) / 3 + 1
 * @param in  Bytes
 * @param len Number of bytes
 * @param url true: base64url alphabet, false: standard alphabet
 *
 * @return 0 if success, otherwise errorcode
 */
int jwt_b64_encode(char *out, size_t osz, const uint8_t *in, size_t len,
		   bool url)
{
	const char *a = url ? alpha_url : alpha_std;
	size_t i, o = 0;

	if (!out || (!in && len))
		return EINVAL;

	if (len > (SIZE_MAX - 3) / 4 || osz < (len * 4 + 2) / 3 + 1)
		return EOVERFLOW;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i+1] << 8 |
			in[i+2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}

	if (len - i == 1) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4];
	}
	else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i+1];

		out[o++] = a[v >> 10];
		out[o++] = a[(v >> 4) & 63];
		out[o++] = a[(v & 15) << 2];
	}

	out[o] = '\0';

	return 0;
}


static int b64_val(char ch, bool url)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == (url ? '-' : '+'))
		return 62;
	if (ch == (url ? '_' : '/'))
		return 63;

	return -1;
}


/**
 * Decode base64 without padding, strictly (see the file comment)
 *
 * @param out  Output buffer
 * @param olen In: its size; out: the number of bytes decoded
 * @param in   Text (need not be NUL-terminated)
 * @param len  Length of the text
 * @param url  true: base64url alphabet, false: standard alphabet
 *
 * @return 0 if success, EBADMSG for text that is not canonical base64,
 *         EOVERFLOW if the output does not fit
 */
int jwt_b64_decode(uint8_t *out, size_t *olen, const char *in, size_t len,
		   bool url)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;

	if (!out || !olen || (!in && len))
		return EINVAL;

	if (len % 4 == 1)
		return EBADMSG;

	if (len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > *olen)
		return EOVERFLOW;

	for (i = 0; i < len; i++) {
		int v = b64_val(in[i], url);

		if (v < 0)
			return EBADMSG;

		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;

		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}

	/* the bits left over must be zero: one text per byte string */
	if (acc & ((1u << bits) - 1))
		return EBADMSG;

	*olen = o;

	return 0;
}

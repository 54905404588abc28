/**
 * @file httpx.h  HTTP/1.1 request heads checked before libre parses them
 *                (shared by W2's Upgrade and the WWSF)
 */

int httpx_head_check(const uint8_t *p, size_t n, unsigned max_headers,
		     const char **why);
int httpx_host_check(const struct http_msg *msg, const char **why);

/**
 * @file dtls_frag.h  ClientHello reassembly for the DTLS server role
 *                    (private to src/tls)
 */

struct dtls_frag;

int dtls_frag_process(struct dtls_frag **fp, const uint8_t *p, size_t n,
		      struct mbuf **outp);

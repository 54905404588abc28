/**
 * @file metrics.h  Prometheus metrics over HTTP on loopback
 */

#ifndef IMSEDGE_METRICS_H
#define IMSEDGE_METRICS_H

struct metrics;
struct w2;
struct pcscf;
struct agw;

/** What the metrics read their gauges from (each may be NULL) */
struct metrics_src {
	const struct w2 *w2;
	const struct pcscf *pcscf;
	const struct agw *agw;
};

int  metrics_alloc(struct metrics **mp, const struct sa *laddr,
		   const struct metrics_src *src);
int  metrics_print(struct mbuf *mb, struct metrics *m);
const struct sa *metrics_laddr(const struct metrics *m);

#endif

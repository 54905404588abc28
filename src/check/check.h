/**
 * @file check.h  imsedge -t: everything start-up would need, checked
 *                without starting
 */

#ifndef IMSEDGE_CHECK_H
#define IMSEDGE_CHECK_H

#include "../core/conf.h"

/** What the checks may skip */
enum check_flags {
	CHECK_NO_PORTS = 1 << 0,  /**< a running imsedge holds the ports */
};

unsigned check_conf(const struct imsedge_conf *conf, unsigned flags,
		    conf_report_h *reph, void *arg);

#endif

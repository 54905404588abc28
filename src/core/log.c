/**
 * @file log.c  One-line event logging to stderr or syslog
 *
 * Every line is "LEVEL module: text". Lines are formatted with libre's
 * printf (so %m prints an errno and %J a socket address) and truncated
 * at LINE_MAX bytes; a log line never allocates.
 */
#include <string.h>
#include <stdio.h>
#include <syslog.h>
#include <re.h>
#include "log.h"

enum { LOG_LINE_MAX = 512 };

static struct {
	enum log_level level;
	bool syslog;
} logger = {LOG_LVL_INFO, false};

static const char *names[] = {"debug", "info", "warn", "error"};


void log_init(enum log_level level, bool use_syslog)
{
	if (use_syslog && !logger.syslog)
		openlog("imsedge", LOG_PID, LOG_DAEMON);
	else if (!use_syslog && logger.syslog)
		closelog();

	logger.level  = level;
	logger.syslog = use_syslog;
}


void log_close(void)
{
	if (logger.syslog)
		closelog();
	logger.syslog = false;
}


enum log_level log_level_get(void)
{
	return logger.level;
}


int log_level_decode(enum log_level *lvl, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (0 == str_casecmp(name, names[i])) {
			*lvl = (enum log_level)i;
			return 0;
		}
	}

	return EINVAL;
}


void log_msg(enum log_level level, const char *mod, const char *fmt, ...)
{
	static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
	char line[LOG_LINE_MAX];
	va_list ap;

	if (level < logger.level)
		return;

	va_start(ap, fmt);
	(void)re_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (logger.syslog) {
		syslog(prio[level], "%s: %s", mod, line);
		return;
	}

	(void)fprintf(stderr, "%-5s %s: %s\n", names[level], mod, line);
}

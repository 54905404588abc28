/**
 * @file log.c  One-line event logging to stderr or syslog
 *
 * On stderr every line is "TIME LEVEL module: text", TIME in ISO 8601
 * UTC with milliseconds (2026-12-01T22:05:03.123Z); syslog adds its own
 * time, so there the line is "module: text". Lines are formatted with
 * libre's printf (so %m prints an errno and %J a socket address) and
 * truncated at LOG_LINE_MAX bytes; a log line never allocates.
 *
 * Security events (log_security) are one greppable format, for fail2ban
 * and the like:  security: event=NAME peer=ADDR [text]
 */
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <sys/time.h>
#include <syslog.h>
#include <re.h>
#include "log.h"

enum { LOG_LINE_MAX = 1024 };

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


/**
 * Print the current time as ISO 8601 UTC with milliseconds
 *
 * @param buf Buffer, at least 25 bytes
 * @param sz  Size of buf
 */
void log_timestamp(char *buf, size_t sz)
{
	struct timeval tv;
	struct tm tm;

	(void)gettimeofday(&tv, NULL);
	if (!gmtime_r(&tv.tv_sec, &tm)) {
		(void)re_snprintf(buf, sz, "-");
		return;
	}

	(void)re_snprintf(buf, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  tm.tm_hour, tm.tm_min, tm.tm_sec,
			  (int)(tv.tv_usec / 1000));
}


static void emit(enum log_level level, const char *mod, const char *line)
{
	static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
	char ts[32];

	if (logger.syslog) {
		syslog(prio[level], "%s: %s", mod, line);
		return;
	}

	log_timestamp(ts, sizeof(ts));
	(void)fprintf(stderr, "%s %-5s %s: %s\n", ts, names[level], mod,
		      line);
}


void log_msg(enum log_level level, const char *mod, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	if (level < logger.level)
		return;

	va_start(ap, fmt);
	(void)re_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	emit(level, mod, line);
}


/**
 * Log a security event (a refused login, a lockout, a refused token or
 * Origin) as "security: event=EVENT peer=ADDR text", at warn level
 *
 * @param event One word, e.g. login_failed (see README, Logs)
 * @param peer  The client's address (its port is printed apart)
 * @param fmt   Further text (printf format)
 */
void log_security(const char *event, const struct sa *peer,
		  const char *fmt, ...)
{
	char text[LOG_LINE_MAX - 96], line[LOG_LINE_MAX];
	va_list ap;

	if (LOG_LVL_WARN < logger.level)
		return;

	va_start(ap, fmt);
	(void)re_vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	if (peer && sa_isset(peer, SA_ADDR))
		(void)re_snprintf(line, sizeof(line),
				  "event=%s peer=%j port=%u %s", event, peer,
				  sa_port(peer), text);
	else
		(void)re_snprintf(line, sizeof(line),
				  "event=%s peer=- %s", event, text);

	emit(LOG_LVL_WARN, "security", line);
}

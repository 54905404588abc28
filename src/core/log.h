/**
 * @file log.h  One-line event logging to stderr or syslog
 */

#ifndef IMSEDGE_CORE_LOG_H
#define IMSEDGE_CORE_LOG_H

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
};

void log_init(enum log_level level, bool use_syslog);
void log_close(void);
enum log_level log_level_get(void);
int  log_level_decode(enum log_level *lvl, const char *name);
void log_msg(enum log_level level, const char *mod, const char *fmt, ...);
void log_timestamp(char *buf, size_t sz);
struct sa;
void log_security(const char *event, const struct sa *peer,
		  const char *fmt, ...);

#define log_debug(...) log_msg(LOG_LVL_DEBUG, LOG_MODULE, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO,  LOG_MODULE, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN,  LOG_MODULE, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, LOG_MODULE, __VA_ARGS__)

#endif

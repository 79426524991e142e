/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - one logging function for the daemon and the CLI.
 *
 * Before the daemon detaches, messages go to stderr prefixed "bpfuse: ";
 * afterwards to syslog (LOG_DAEMON).  Nothing above debug level may be
 * logged on a per-request path: use counters instead.
 */
#ifndef BPFUSE_LOG_H
#define BPFUSE_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_debug(int on);
int log_debug_enabled(void);
/* Switch to syslog; called once the daemon no longer has a terminal. */
void log_use_syslog(void);
/* Route libfuse's own messages through log_msg(). */
void log_hook_libfuse(void);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define pr_debug(...)                                   \
	do {                                            \
		if (log_debug_enabled())                \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__); \
	} while (0)

#endif

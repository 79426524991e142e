// SPDX-License-Identifier: GPL-2.0
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#define FUSE_USE_VERSION 317
#include <fuse_log.h>

static int debug_on;
static int use_syslog;

void log_set_debug(int on)
{
	debug_on = on;
}

int log_debug_enabled(void)
{
	return debug_on;
}

void log_use_syslog(void)
{
	openlog("bpfuse", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = 1;
}

static void vlog(enum log_level lvl, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char buf[1024];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (use_syslog)
		syslog(prio[lvl], "%s", buf);
	else
		fprintf(stderr, "bpfuse: %s%s\n", lvl == LOG_LVL_ERR ? "error: " :
			lvl == LOG_LVL_WARN ? "warning: " : "", buf);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

static void libfuse_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	enum log_level lvl;

	if (level <= FUSE_LOG_ERR)
		lvl = LOG_LVL_ERR;
	else if (level == FUSE_LOG_WARNING)
		lvl = LOG_LVL_WARN;
	else if (level <= FUSE_LOG_INFO)
		lvl = LOG_LVL_INFO;
	else
		lvl = LOG_LVL_DEBUG;
	if (lvl == LOG_LVL_DEBUG && !debug_on)
		return;
	vlog(lvl, fmt, ap);
}

void log_hook_libfuse(void)
{
	fuse_set_log_func(libfuse_log);
}

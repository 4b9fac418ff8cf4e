/*
 * log.c - stderr logging with a level filter and number masking (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int g_level = RV_LOG_INFO;
static int g_numbers = RV_NUMBERS_MASKED;

void log_init(const struct rv_config *cfg)
{
	g_level = cfg->log_level;
	g_numbers = cfg->log_numbers;
}

int log_enabled(int level)
{
	return level <= g_level;
}

void rv_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	if (!log_enabled(level))
		return;
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s rtpvault %s: ", ts, level >= 0 && level < 4 ? names[level] : "?");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *log_number(const char *num, char *buf, size_t n)
{
	size_t l = strlen(num);
	if (g_numbers == RV_NUMBERS_FULL || l <= 6) {
		if (g_numbers == RV_NUMBERS_FULL)
			snprintf(buf, n, "%s", num);
		else
			snprintf(buf, n, "%.*s", (int)l, "******");
		return buf;
	}
	snprintf(buf, n, "%.4s%.*s%s", num, (int)(l - 6), "********************************", num + l - 2);
	return buf;
}

/*
 * log.h - operational messages on stderr, filtered by [log] level.
 *
 * Phone numbers go through log_number(), which masks all but the first 4
 * and last 2 digits unless [log] numbers = full.  Nothing else personal
 * (audio, SIP bodies) is ever logged; malformed packets are counted, never
 * logged per packet.
 */
#ifndef RV_LOG_H
#define RV_LOG_H

#include <stddef.h>

#include "config.h"

void log_init(const struct rv_config *cfg);
/* level: RV_LOG_ERROR, RV_LOG_WARN, RV_LOG_INFO, RV_LOG_DEBUG */
void rv_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A number as it may appear in a log line (buf of n bytes). */
const char *log_number(const char *num, char *buf, size_t n);
int log_enabled(int level);

#endif

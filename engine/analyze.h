/*
 * analyze.h - the `rtpvault analyze` sink: reports every call of a capture,
 * its streams and DTMF, then the counters, as a table or as one JSON object
 * (docs/analyze-json.md).  Nothing is stored.
 *
 * Calls are reported when they end.  Up to [limits] report_buffer finished
 * calls are kept and printed in order of their first INVITE; beyond that the
 * buffer is printed and emptied, so memory stays bounded on any input.
 */
#ifndef RV_ANALYZE_H
#define RV_ANALYZE_H

#include <stdbool.h>
#include <stdio.h>

#include "engine.h"

struct analyze;

struct analyze *analyze_new(FILE *out, bool json, size_t report_buffer);
void analyze_free(struct analyze *a);
const struct engine_sink *analyze_sink(void);
/* Prints what is buffered, the streams without signalling (e may be NULL)
 * and the counters; closes the JSON object. */
void analyze_finish(struct analyze *a, struct engine *e, const struct rv_counters *cnt);

#endif

/*
 * json.h - a minimal streaming JSON writer.  Strings are escaped per RFC
 * 8259; bytes that are not valid UTF-8 (a Call-ID is arbitrary bytes) are
 * written as \u00XX of their Latin-1 value so the output is always valid.
 */
#ifndef RV_JSON_H
#define RV_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *f;
	int depth;
	bool need_comma[64];
	bool pretty;
};

void json_init(struct json *j, FILE *f, bool pretty);
void json_obj_open(struct json *j, const char *key);   /* key NULL inside arrays / at top */
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *s);
void json_strn(struct json *j, const char *key, const void *s, size_t n);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* Epoch microseconds as seconds with 6 decimals; 0 writes null. */
void json_time(struct json *j, const char *key, uint64_t us);
void json_raw_escape(FILE *f, const void *s, size_t n);

#endif

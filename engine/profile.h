/*
 * profile.h - which [profile NAME] applies to a call.
 *
 * Profiles are tried in file order; the first whose rules match the initial
 * INVITE wins (callee or caller number prefix or POSIX extended regex, a
 * "Name: value" header, or a trunk address = signalling source or
 * destination).  A profile with no rules matches nothing by itself.  A
 * profile named "default" always exists: from the file when present (its
 * rules are irrelevant: it is the fallback), otherwise implicit with 180 days
 * of retention and the [storage] key_file.  It applies when nothing matches.
 *
 * Does NOT: re-evaluate the profile after the INVITE, or decide consent
 * (recorder.c reads minor_header / guardian_* of the chosen profile).
 */
#ifndef RV_PROFILE_H
#define RV_PROFILE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct sip_msg;
struct ip_addr;

#define PROFILE_DEFAULT_RETENTION_US (180ULL * 86400 * 1000000)

struct profile_rt {
	const char *name;
	const struct rv_config_profile *cfg; /* NULL for the implicit default */
	uint64_t retention_us;               /* 0: kept forever */
	const char *key_file;                /* resolved: profile key_file or [storage] key_file */
	regex_t callee_re, caller_re;
	bool has_callee_re, has_caller_re;
	char hname[128], hvalue[256];         /* match_header split, "" if unset */
	char minor_name[128], minor_value[256]; /* minor_header split, "" if unset */
};

struct profiles {
	size_t n;
	size_t def; /* index of "default" */
	struct profile_rt p[RV_CONFIG_MAX_PROFILES + 1];
};

/* Compiles the rules of cfg's profiles (cfg borrowed for ps's lifetime).
 * 0, or -1 with a message in err. */
int profiles_init(struct profiles *ps, const struct rv_config *cfg, char *err, size_t errlen);
void profiles_free(struct profiles *ps);
/* Index of the profile for a call (first match in file order, else default).
 * m may be NULL (then header rules do not match). */
size_t profiles_select(const struct profiles *ps, const char *caller, const char *callee, const struct ip_addr *src,
		       const struct ip_addr *dst, const struct sip_msg *m);
/* Index of the profile named name, or -1. */
int profiles_find(const struct profiles *ps, const char *name);
/* Whether the INVITE m marks the called party as a minor for profile i. */
bool profiles_is_minor(const struct profiles *ps, size_t i, const struct sip_msg *m);
/* Splits "Name: value" into its parts; -1 when there is no name or colon. */
int profile_split_header(const char *h, char *name, size_t nl, char *value, size_t vl);

/* Rule helpers shared with the exempt rules: num starts with one of the
 * listed prefixes (empty entries never match); a is one of the listed
 * addresses (NULL never matches). */
bool match_prefix_in(const char *num, const struct rv_config_list *l);
bool match_addr_in(const struct ip_addr *a, const struct rv_config_list *l);

#endif

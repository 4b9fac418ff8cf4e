/*
 * access.h - who is calling, which roles they hold, and what a role may do
 * with the calls of a profile.
 *
 * The caller is the real uid of the process (getuid(), never an environment
 * variable or option): its user name (getpwuid) and groups (getgrouplist)
 * are matched against the [access] lists (admin, compliance, supervisor,
 * auditor; an item is a user name or @group).  A profile's read_roles,
 * export_roles and erase_roles name roles; a caller may act on a call when
 * one of its roles is in that list.  Audit commands (list, verify, anchor)
 * need admin, compliance or auditor.
 *
 * Profile of a call: the "profile" field of its sealed metadata; absent (calls
 * recorded before profiles existed) means "default".  A profile name found in
 * no [profile] section is index ACCESS_PROFILE_BUILTIN when it is "default"
 * (the built-in default rules, i.e. the profile key defaults) and
 * ACCESS_PROFILE_UNKNOWN otherwise, which only admin may read, export or
 * erase (fail closed when a profile was removed from the config).
 *
 * Does NOT: protect the key or the store (file permissions do: a user who
 * can read the key file can decrypt without this program); this is the
 * policy layer for the people who operate the tool.
 */
#ifndef RV_ACCESS_H
#define RV_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "crypto.h"
#include "store.h"

enum access_role {
	ROLE_ADMIN = 1u << 0,
	ROLE_COMPLIANCE = 1u << 1,
	ROLE_SUPERVISOR = 1u << 2,
	ROLE_AUDITOR = 1u << 3,
};

#define ACCESS_PROFILE_BUILTIN (-1)
#define ACCESS_PROFILE_UNKNOWN (-2)

struct access_who {
	uint32_t uid;
	char user[64];
	unsigned roles; /* enum access_role bits */
};

/* Fills w for the real uid of this process.  0, or -1 when the uid has no
 * passwd entry (w->user is then the number and roles come from none). */
int access_whoami(const struct rv_config *cfg, struct access_who *w);
/* Profile index of a profile name (NULL or "" = "default"). */
int access_profile_index(const struct rv_config *cfg, const char *name);
/* Name of a profile index, for messages and audit entries. */
const char *access_profile_name(const struct rv_config *cfg, int profile_index);
bool access_check_read(const struct rv_config *cfg, int profile_index, const struct access_who *w);
bool access_check_export(const struct rv_config *cfg, int profile_index, const struct access_who *w);
bool access_check_erase(const struct rv_config *cfg, int profile_index, const struct access_who *w);
/* May read and verify the audit log (admin, compliance, auditor). */
bool access_check_audit(const struct access_who *w);
/* purpose is in the profile's purposes list (case-insensitive), or the list is empty. */
bool access_purpose_allowed(const struct rv_config *cfg, int profile_index, const char *purpose);
/* The allowed purposes as "a, b, c" (or "any"), for messages. */
void access_purposes_str(const struct rv_config *cfg, int profile_index, char *out, size_t n);
/* "admin,supervisor" or "none". */
void access_roles_str(unsigned roles, char *out, size_t n);


/* ---- audit helper: one entry in its own write transaction, committed ----
 * detail is JSON text (NULL = "{}"); purpose/ticket may be NULL.  Returns 0
 * only when the entry is committed; *seq (may be NULL) = its sequence number.
 * The audit key is that of kek (the [storage] key_file KEK). */
int access_audit(struct store *st, const struct rv_kek *kek, const struct access_who *w, const char *command,
		 int result, const char *purpose, const char *ticket, const char *detail, uint64_t *seq);

/* ---- least privilege for capture ----
 * Step 1, as soon as the capture device, the store and the key are open and
 * before any thread is started: empties the capability bounding set (needs
 * CAP_SETPCAP: done when running as root, best effort otherwise) and sets
 * no_new_privs.  Threads created afterwards inherit both.
 * Step 2, after the threads and the remaining keys are set up: becomes user
 * (setgroups/setgid/setuid; user "" = stay who we are), clears the ambient,
 * inheritable, permitted and effective capability sets, and checks that
 * uid 0 cannot be regained.  0, or -1 with a message in err. */
int access_priv_prepare(char *err, size_t errlen);
int access_priv_drop(const char *user, char *err, size_t errlen);

/* When the binary runs set-uid/set-gid (real uid = the caller, effective
 * uid = the service user who owns the key and store), a config the caller
 * wrote could grant it roles: the config must then be owned by root or the
 * effective uid and not group/world-writable.  0 when fine (always for an
 * ordinary run), -1 with a message. */
int access_config_trusted(const char *path, char *err, size_t errlen);

/* ---- evidence bundles ----
 * manifest.hmac of a bundle: hex HMAC-SHA256(kek->audit_key,
 * "rtpvault bundle v1\n" || manifest.json bytes). */
int access_bundle_mac(const struct rv_kek *kek, const void *manifest, size_t len, char hex[65]);

#endif

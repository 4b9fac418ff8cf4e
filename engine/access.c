/*
 * access.c - roles of the calling OS user and the per-profile rights (see
 * access.h).  Role membership comes from getuid() -> getpwuid() and the
 * user's groups (getgrouplist); nothing from the environment.
 *
 * Does NOT: cache anything across calls, or trust $USER / $LOGNAME.
 */
#include "access.h"

#include "audit.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_GROUPS 256

/* The defaults of the profile keys (config_keys.h) for the built-in default. */
#define BUILTIN_READ (ROLE_ADMIN | ROLE_COMPLIANCE | ROLE_SUPERVISOR)
#define BUILTIN_EXPORT (ROLE_ADMIN | ROLE_COMPLIANCE | ROLE_SUPERVISOR)
#define BUILTIN_ERASE (ROLE_ADMIN | ROLE_COMPLIANCE)

static bool in_list(const struct rv_config_list *l, const char *user, const gid_t *gids, int ngids)
{
	for (size_t i = 0; i < l->count; i++) {
		const char *it = l->items[i];
		if (it[0] == '@') {
			struct group *g = getgrnam(it + 1);
			if (!g)
				continue;
			for (int k = 0; k < ngids; k++)
				if (gids[k] == g->gr_gid)
					return true;
		} else if (user[0] && strcmp(it, user) == 0) {
			return true;
		}
	}
	return false;
}

int access_whoami(const struct rv_config *cfg, struct access_who *w)
{
	memset(w, 0, sizeof(*w));
	uid_t uid = getuid();
	w->uid = (uint32_t)uid;
	struct passwd *pw = getpwuid(uid);
	if (!pw) {
		snprintf(w->user, sizeof(w->user), "%u", (unsigned)uid);
		return -1;
	}
	snprintf(w->user, sizeof(w->user), "%s", pw->pw_name);
	gid_t gids[MAX_GROUPS];
	int ng = MAX_GROUPS;
	if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &ng) < 0)
		ng = MAX_GROUPS; /* more groups than we look at: the first MAX_GROUPS count */
	if (in_list(&cfg->access_admin, w->user, gids, ng))
		w->roles |= ROLE_ADMIN;
	if (in_list(&cfg->access_compliance, w->user, gids, ng))
		w->roles |= ROLE_COMPLIANCE;
	if (in_list(&cfg->access_supervisor, w->user, gids, ng))
		w->roles |= ROLE_SUPERVISOR;
	if (in_list(&cfg->access_auditor, w->user, gids, ng))
		w->roles |= ROLE_AUDITOR;
	return 0;
}

int access_profile_index(const struct rv_config *cfg, const char *name)
{
	if (!name || !name[0])
		name = "default";
	for (size_t i = 0; i < cfg->profile_count; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return (int)i;
	return strcmp(name, "default") == 0 ? ACCESS_PROFILE_BUILTIN : ACCESS_PROFILE_UNKNOWN;
}

const char *access_profile_name(const struct rv_config *cfg, int pi)
{
	if (pi >= 0 && (size_t)pi < cfg->profile_count)
		return cfg->profiles[pi].name;
	return pi == ACCESS_PROFILE_BUILTIN ? "default" : "(unknown profile)";
}

static unsigned roles_of(const struct rv_config_list *l)
{
	unsigned r = 0;
	for (size_t i = 0; i < l->count; i++) {
		const char *it = l->items[i];
		if (strcasecmp(it, "admin") == 0)
			r |= ROLE_ADMIN;
		else if (strcasecmp(it, "compliance") == 0)
			r |= ROLE_COMPLIANCE;
		else if (strcasecmp(it, "supervisor") == 0)
			r |= ROLE_SUPERVISOR;
		else if (strcasecmp(it, "auditor") == 0)
			r |= ROLE_AUDITOR;
	}
	return r;
}

enum right { R_READ, R_EXPORT, R_ERASE };

static bool check(const struct rv_config *cfg, int pi, const struct access_who *w, enum right what)
{
	unsigned allowed;
	if (pi >= 0 && (size_t)pi < cfg->profile_count) {
		const struct rv_config_profile *p = &cfg->profiles[pi];
		allowed = roles_of(what == R_READ ? &p->read_roles : what == R_EXPORT ? &p->export_roles : &p->erase_roles);
	} else if (pi == ACCESS_PROFILE_BUILTIN) {
		allowed = what == R_READ ? BUILTIN_READ : what == R_EXPORT ? BUILTIN_EXPORT : BUILTIN_ERASE;
	} else {
		allowed = ROLE_ADMIN; /* fail closed: a profile the config no longer knows */
	}
	return (w->roles & allowed) != 0;
}

bool access_check_read(const struct rv_config *cfg, int pi, const struct access_who *w)
{
	return check(cfg, pi, w, R_READ);
}

bool access_check_export(const struct rv_config *cfg, int pi, const struct access_who *w)
{
	return check(cfg, pi, w, R_EXPORT);
}

bool access_check_erase(const struct rv_config *cfg, int pi, const struct access_who *w)
{
	return check(cfg, pi, w, R_ERASE);
}

bool access_check_audit(const struct access_who *w)
{
	return (w->roles & (ROLE_ADMIN | ROLE_COMPLIANCE | ROLE_AUDITOR)) != 0;
}

bool access_purpose_allowed(const struct rv_config *cfg, int pi, const char *purpose)
{
	if (!purpose || !purpose[0])
		return false;
	if (pi < 0 || (size_t)pi >= cfg->profile_count)
		return true;
	const struct rv_config_list *l = &cfg->profiles[pi].purposes;
	if (l->count == 0)
		return true;
	for (size_t i = 0; i < l->count; i++)
		if (strcasecmp(l->items[i], purpose) == 0)
			return true;
	return false;
}

void access_purposes_str(const struct rv_config *cfg, int pi, char *out, size_t n)
{
	out[0] = '\0';
	if (pi < 0 || (size_t)pi >= cfg->profile_count || cfg->profiles[pi].purposes.count == 0) {
		snprintf(out, n, "any");
		return;
	}
	const struct rv_config_list *l = &cfg->profiles[pi].purposes;
	size_t o = 0;
	for (size_t i = 0; i < l->count && o < n; i++) {
		int k = snprintf(out + o, n - o, "%s%s", i ? ", " : "", l->items[i]);
		if (k < 0)
			break;
		o += (size_t)k;
	}
}

void access_roles_str(unsigned roles, char *out, size_t n)
{
	static const char *names[] = { "admin", "compliance", "supervisor", "auditor" };
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < 4 && o < n; i++) {
		if (!(roles & (1u << i)))
			continue;
		int k = snprintf(out + o, n - o, "%s%s", o ? "," : "", names[i]);
		if (k < 0)
			break;
		o += (size_t)k;
	}
	if (!out[0])
		snprintf(out, n, "none");
}

/* ---------------------------------------------------------------- audit */

int access_audit(struct store *st, const struct rv_kek *kek, const struct access_who *w, const char *command,
		 int result, const char *purpose, const char *ticket, const char *detail, uint64_t *seq)
{
	struct audit_entry *e = calloc(1, sizeof(*e));
	struct store_txn *t = NULL;
	if (!e)
		return STORE_E_NOMEM;
	e->uid = w->uid;
	snprintf(e->user, sizeof(e->user), "%s", w->user);
	snprintf(e->command, sizeof(e->command), "%s", command);
	e->result = (uint8_t)result;
	snprintf(e->purpose, sizeof(e->purpose), "%s", purpose ? purpose : "");
	snprintf(e->ticket, sizeof(e->ticket), "%s", ticket ? ticket : "");
	snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "{}");
	int rc = store_txn_begin(st, &t);
	if (rc == 0)
		rc = audit_append(t, kek, e);
	if (rc == 0) {
		rc = store_txn_commit(t);
	} else if (t) {
		store_txn_abort(t);
	}
	if (rc == 0 && seq)
		*seq = e->seq;
	free(e);
	return rc;
}

/* ---------------------------------------------------------------- privileges */

struct cap_hdr {
	uint32_t version;
	int pid;
};
struct cap_data {
	uint32_t effective, permitted, inheritable;
};
#define CAP_V3 0x20080522

static int last_cap(void)
{
	int last = 40;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = 40;
		fclose(f);
	}
	return last < 63 ? last : 63;
}

int access_priv_prepare(char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return -1;
	}
	int last = last_cap();
	for (int c = 0; c <= last; c++) {
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) {
			if (geteuid() == 0) {
				snprintf(err, errlen, "prctl(PR_CAPBSET_DROP, %d): %s", c, strerror(errno));
				return -1;
			}
			break; /* not root and no CAP_SETPCAP: the unit's CapabilityBoundingSet limits it */
		}
	}
	return 0;
}

int access_priv_drop(const char *user, char *err, size_t errlen)
{
	if (user && user[0]) {
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "[service] user %s: no such user", user);
			return -1;
		}
		uid_t uid = pw->pw_uid;
		gid_t gid = pw->pw_gid;
		if (uid == 0) {
			snprintf(err, errlen, "[service] user %s is root: name an unprivileged user", user);
			return -1;
		}
		if (getuid() != uid || geteuid() != uid) {
			if (geteuid() != 0) {
				snprintf(err, errlen, "cannot become %s: not started as root", user);
				return -1;
			}
			if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
				snprintf(err, errlen, "cannot become %s: %s", user, strerror(errno));
				return -1;
			}
		}
		if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
			snprintf(err, errlen, "still not %s after setuid", user);
			return -1;
		}
		if (setuid(0) == 0 || seteuid(0) == 0) {
			snprintf(err, errlen, "uid 0 can be regained after dropping to %s", user);
			return -1;
		}
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (geteuid() != 0) {
		struct cap_hdr h = { CAP_V3, 0 };
		struct cap_data d[2];
		memset(d, 0, sizeof(d));
		if (syscall(SYS_capset, &h, d) != 0) {
			snprintf(err, errlen, "capset: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- bundles */

int access_bundle_mac(const struct rv_kek *kek, const void *manifest, size_t len, char hex[65])
{
	static const char label[] = "rtpvault bundle v1\n";
	uint8_t *buf = malloc(sizeof(label) - 1 + len + 1);
	uint8_t mac[32];
	unsigned int ol = 0;
	if (!buf)
		return -1;
	memcpy(buf, label, sizeof(label) - 1);
	if (len)
		memcpy(buf + sizeof(label) - 1, manifest, len);
	const unsigned char *r = HMAC(EVP_sha256(), kek->audit_key, RV_KEY_LEN, buf, sizeof(label) - 1 + len, mac, &ol);
	free(buf);
	if (!r || ol != 32)
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

/* ---------------------------------------------------------------- setuid installs */

int access_config_trusted(const char *path, char *err, size_t errlen)
{
	if (getuid() == geteuid() && getgid() == getegid())
		return 0; /* ordinary run: the caller's own rights are the limit */
	struct stat st;
	if (!path) {
		snprintf(err, errlen, "a set-uid/set-gid rtpvault needs -c CONF (a config owned by root or the service user)");
		return -1;
	}
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022) != 0) {
		snprintf(err, errlen,
			 "%s: running set-uid/set-gid, the config must be owned by root or the service user and not "
			 "group/world-writable (otherwise a caller could grant itself roles)",
			 path);
		return -1;
	}
	return 0;
}

/*
 * keyring.c - the key-encryption keys a process may need (see keyring.h).
 *
 * Retired-key convention (also in docs/compliance.md, "Keys"): rotating the
 * key in KEYFILE (`rtpvault keys rotate`) creates the new key as
 * KEYFILE.next (mode 0400, O_EXCL), hard-links the current KEYFILE to
 * KEYFILE.<kek id, 8 lower-case hex digits>.retired, then renames
 * KEYFILE.next over KEYFILE.  So KEYFILE always holds the current key, and
 * every key that wrapped data keys before lives beside it as a .retired
 * file until no record refers to it any more; then the operator may remove
 * it.  keyring_add_file(KEYFILE) loads KEYFILE and every such sibling whose
 * name matches exactly (with the same checks as kek_load: mode, size), and
 * skips a sibling whose key id does not match its name.
 *
 * Does NOT: create, rotate or delete key files (cli_retention.c does).
 */
#include "keyring.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_one(struct keyring *kr, const char *path, int profile)
{
	struct rv_kek k;
	int rc = kek_load(path, &k);
	if (rc)
		return rc;
	for (size_t i = 0; i < kr->n; i++) {
		if (kr->keys[i].id == k.id) {
			if (profile >= 0 && kr->profile[i] < 0)
				kr->profile[i] = profile;
			kek_wipe(&k);
			return 0;
		}
	}
	if (kr->n >= KEYRING_MAX) {
		kek_wipe(&k);
		return CRYPTO_E_ARG;
	}
	char *p = strdup(path);
	if (!p) {
		kek_wipe(&k);
		return CRYPTO_E_NOMEM;
	}
	kr->keys[kr->n] = k;
	kr->paths[kr->n] = p;
	kr->profile[kr->n] = profile;
	kr->n++;
	kek_wipe(&k);
	return 0;
}

static bool is_hex8(const char *s)
{
	for (int i = 0; i < 8; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int keyring_add_file(struct keyring *kr, const char *path, int profile)
{
	if (!kr || !path || !path[0])
		return CRYPTO_E_ARG;
	int rc = add_one(kr, path, profile);
	if (rc)
		return rc;
	/* retired siblings: <base>.<8 hex>.retired in the same directory */
	const char *slash = strrchr(path, '/');
	char dir[4096];
	const char *base = slash ? slash + 1 : path;
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path == 0 ? 1 : slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	size_t bl = strlen(base);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t nl = strlen(n);
		if (nl != bl + 1 + 8 + 8 || strncmp(n, base, bl) != 0 || n[bl] != '.' || !is_hex8(n + bl + 1) ||
		    strcmp(n + bl + 9, ".retired") != 0)
			continue;
		char full[4096 + 256];
		snprintf(full, sizeof(full), "%.*s%s", (int)(base - path), path, n);
		struct rv_kek k;
		if (kek_load(full, &k) != 0)
			continue;
		char want[9];
		snprintf(want, sizeof(want), "%08x", k.id);
		bool ok = memcmp(want, n + bl + 1, 8) == 0;
		kek_wipe(&k);
		if (ok)
			add_one(kr, full, -1);
	}
	closedir(d);
	return 0;
}

const struct rv_kek *keyring_find(const struct keyring *kr, uint32_t kek_id)
{
	for (size_t i = 0; i < kr->n; i++)
		if (kr->keys[i].id == kek_id)
			return &kr->keys[i];
	return NULL;
}

void keyring_wipe(struct keyring *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->n; i++) {
		kek_wipe(&kr->keys[i]);
		free(kr->paths[i]);
		kr->paths[i] = NULL;
	}
	kr->n = 0;
}

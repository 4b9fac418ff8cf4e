/*
 * keyring.h - every key-encryption key a process may need, by key id.
 *
 * Profiles may have their own KEK (healthcare: its own key file); rotation
 * leaves retired KEKs in use until no wrapped data key refers to them.  The
 * keyring loads the [storage] key_file, each profile's key_file, and the
 * retired keys listed next to them (see docs/storage-format.md, "Keys"), with
 * the same checks as kek_load (0400-style permissions, exactly 32 bytes).
 * Readers unwrap a record's data key with keyring_find(record's kek_id).
 */
#ifndef RV_KEYRING_H
#define RV_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define KEYRING_MAX 64

struct keyring {
	size_t n;
	struct rv_kek keys[KEYRING_MAX];
	char *paths[KEYRING_MAX];   /* owned: the file each key came from */
	int profile[KEYRING_MAX];   /* profile index that uses it as current key, -1 for [storage] key_file / retired */
};

/* Loads path and the retired keys recorded beside it; adds to kr (duplicates
 * by id are ignored).  profile: -1 or the profile index.  0 or a crypto_err. */
int keyring_add_file(struct keyring *kr, const char *path, int profile);
/* The key with this id, or NULL. */
const struct rv_kek *keyring_find(const struct keyring *kr, uint32_t kek_id);
/* Wipes every key and frees the paths. */
void keyring_wipe(struct keyring *kr);

#endif

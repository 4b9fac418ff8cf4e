/*
 * test_s_keyring.c - keyring.c: loading a key file with its retired siblings
 * (KEYFILE.<8 hex kek id>.retired), duplicates by id, lookups by id, names
 * that do not follow the convention or do not match their key, unsafe
 * permissions, and wiping; on real files in a temporary directory.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "keyring.h"

static char dir[512];

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static uint32_t make_key(const char *name)
{
	char p[1200];
	path_of(p, sizeof(p), name);
	assert_int_equal(kek_create(p), 0);
	struct rv_kek k;
	assert_int_equal(kek_load(p, &k), 0);
	uint32_t id = k.id;
	kek_wipe(&k);
	return id;
}

/* "Retires" name: renames it to name.<id>.retired as rotation does. */
static void retire(const char *name, uint32_t id, const char *suffix_override)
{
	char a[1200], b[1200], rn[300];
	path_of(a, sizeof(a), name);
	if (suffix_override)
		snprintf(rn, sizeof(rn), "%s%s", name, suffix_override);
	else
		snprintf(rn, sizeof(rn), "%s.%08x.retired", name, id);
	path_of(b, sizeof(b), rn);
	assert_int_equal(rename(a, b), 0);
}

static int setup(void **state)
{
	(void)state;
	const char *base = getenv("RV_TMP");
	snprintf(dir, sizeof(dir), "%s/keyring-XXXXXX", base && base[0] ? base : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' && rm -rf '%s'", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_current_and_retired(void **state)
{
	(void)state;
	uint32_t id1 = make_key("kek.key");
	retire("kek.key", id1, NULL);
	uint32_t id2 = make_key("kek.key");
	retire("kek.key", id2, NULL);
	uint32_t id3 = make_key("kek.key");
	uint32_t other = make_key("other.key"); /* another file: not a sibling */
	char p[1200];
	path_of(p, sizeof(p), "kek.key");
	struct keyring kr;
	memset(&kr, 0, sizeof(kr));
	assert_int_equal(keyring_add_file(&kr, p, 3), 0);
	assert_int_equal(kr.n, 3);
	assert_int_equal(kr.keys[0].id, id3); /* the file itself comes first */
	assert_int_equal(kr.profile[0], 3);
	assert_string_equal(kr.paths[0], p);
	assert_non_null(keyring_find(&kr, id1));
	assert_non_null(keyring_find(&kr, id2));
	assert_non_null(keyring_find(&kr, id3));
	assert_null(keyring_find(&kr, other));
	for (size_t i = 1; i < kr.n; i++) {
		assert_int_equal(kr.profile[i], -1);
		assert_non_null(strstr(kr.paths[i], ".retired"));
	}
	/* adding again: duplicates by id are ignored */
	assert_int_equal(keyring_add_file(&kr, p, -1), 0);
	assert_int_equal(kr.n, 3);
	char o[1200];
	path_of(o, sizeof(o), "other.key");
	assert_int_equal(keyring_add_file(&kr, o, -1), 0);
	assert_int_equal(kr.n, 4);
	assert_non_null(keyring_find(&kr, other));
	keyring_wipe(&kr);
	assert_int_equal(kr.n, 0);
	assert_null(keyring_find(&kr, id3));
}

static void test_bad_siblings_skipped(void **state)
{
	(void)state;
	uint32_t a = make_key("k.key");
	retire("k.key", a, ".deadbeef.retired");      /* name does not match its key id */
	uint32_t b = make_key("k.key");
	retire("k.key", b, ".retired");               /* no id */
	uint32_t c = make_key("k.key");
	retire("k.key", c, ".zzzzzzzz.retired");     /* not hex */
	uint32_t d = make_key("k.key");
	retire("k.key", d, NULL);
	char dp[1200], name[64];
	snprintf(name, sizeof(name), "k.key.%08x.retired", d);
	path_of(dp, sizeof(dp), name);
	assert_int_equal(chmod(dp, 0644), 0);         /* unsafe permissions: refused like kek_load */
	uint32_t cur = make_key("k.key");
	char p[1200];
	path_of(p, sizeof(p), "k.key");
	struct keyring kr;
	memset(&kr, 0, sizeof(kr));
	assert_int_equal(keyring_add_file(&kr, p, -1), 0);
	assert_int_equal(kr.n, 1);
	assert_non_null(keyring_find(&kr, cur));
	assert_null(keyring_find(&kr, a));
	assert_null(keyring_find(&kr, b));
	assert_null(keyring_find(&kr, c));
	assert_null(keyring_find(&kr, d));
	keyring_wipe(&kr);
}

static void test_errors(void **state)
{
	(void)state;
	struct keyring kr;
	memset(&kr, 0, sizeof(kr));
	char p[1200];
	path_of(p, sizeof(p), "missing.key");
	assert_int_equal(keyring_add_file(&kr, p, -1), CRYPTO_E_KEYFILE_MISSING);
	assert_int_equal(keyring_add_file(&kr, "", -1), CRYPTO_E_ARG);
	assert_int_equal(keyring_add_file(NULL, p, -1), CRYPTO_E_ARG);
	make_key("open.key");
	path_of(p, sizeof(p), "open.key");
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(keyring_add_file(&kr, p, -1), CRYPTO_E_KEYFILE_PERMS);
	assert_int_equal(kr.n, 0);
	keyring_wipe(&kr);
	keyring_wipe(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_current_and_retired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_siblings_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

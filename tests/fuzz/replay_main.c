/*
 * replay_main.c - a plain main() for every libFuzzer target, so crash inputs
 * reproduce with gcc (+ASan/UBSan) and regression inputs run in make test.
 *
 * Usage: replay_NAME FILE|DIR...   Each file is passed whole to
 * LLVMFuzzerTestOneInput, then every prefix length of it up to 4 KiB
 * (tcpdump's truncation sweep), so a parser is tested at every cut.
 * Prints TAP: one "ok" line per input file.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_files;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("not ok %d - %s (cannot open)\n", ++n_files, path);
		return 1;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf) {
		printf("not ok %d - %s (out of memory)\n", ++n_files, path);
		return 1;
	}
	/* exact-size copies so ASan sees any read past the end */
	size_t sweep = len < 4096 ? len : 4096;
	for (size_t cut = 0; cut <= sweep; cut++) {
		size_t l = cut == sweep ? len : cut;
		uint8_t *copy = malloc(l ? l : 1);
		memcpy(copy, buf, l);
		LLVMFuzzerTestOneInput(copy, l);
		free(copy);
	}
	free(buf);
	printf("ok %d - %s\n", ++n_files, path);
	return 0;
}

static int replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		printf("not ok %d - %s (missing)\n", ++n_files, path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	DIR *d = opendir(path);
	if (!d)
		return 1;
	struct dirent *e;
	int rc = 0;
	char **names = NULL;
	size_t nn = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char **nv = realloc(names, (nn + 1) * sizeof(*names));
		if (!nv)
			break;
		names = nv;
		names[nn] = malloc(strlen(path) + strlen(e->d_name) + 2);
		sprintf(names[nn], "%s/%s", path, e->d_name);
		nn++;
	}
	closedir(d);
	for (size_t i = 0; i < nn; i++) {
		for (size_t j = i + 1; j < nn; j++)
			if (strcmp(names[j], names[i]) < 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	}
	for (size_t i = 0; i < nn; i++) {
		rc |= replay_path(names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= replay_path(argv[i]);
	return rc;
}

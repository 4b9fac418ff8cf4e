/*
 * cli_audit.c - (being written) see cli.h.
 */
#include <stdio.h>

#include "cli.h"

int cmd_audit(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rtpvault: audit is not implemented in this build yet\n");
	return 2;
}

int cmd_verify_bundle(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rtpvault: verify bundle is not implemented in this build yet\n");
	return 2;
}

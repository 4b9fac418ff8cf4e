/*
 * stats.c - (being written) see cli.h.
 */
#include <stdio.h>

#include "cli.h"

int cmd_stats(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rtpvault: stats is not implemented in this build yet\n");
	return 2;
}

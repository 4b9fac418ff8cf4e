/*
 * cli_retention.c - (being written) see cli.h.
 */
#include <stdio.h>

#include "cli.h"

int cmd_sweep(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rtpvault: sweep is not implemented in this build yet\n");
	return 2;
}

int cmd_hold(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rtpvault: hold is not implemented in this build yet\n");
	return 2;
}

int cmd_unhold(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rtpvault: unhold is not implemented in this build yet\n");
	return 2;
}

int cmd_erase(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rtpvault: erase is not implemented in this build yet\n");
	return 2;
}

int cmd_keys_rotate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rtpvault: keys rotate is not implemented in this build yet\n");
	return 2;
}

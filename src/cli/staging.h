/* SPDX-License-Identifier: GPL-2.0 */
/*
 * staging.h - `bpfuse staging`: list, upload or discard what failed uploads kept in a
 * cache directory, without mounting (staging.c, docs/s3.md).
 */
#ifndef BPFUSE_STAGING_H
#define BPFUSE_STAGING_H

/*
 * @argv[0] is list, retry or discard, the rest its arguments.  Returns the exit status:
 * 0 done, 1 something failed or was refused (one line each), 2 a usage error.
 */
int staging_main(int argc, char **argv);

#endif

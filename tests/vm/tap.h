/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - what the VM test programs (fp_test.c, kf_test.c, fp_stress.c) print: "ok N - ..." and
 * "not ok N - ..." lines counted in checks/failures, and a fatal exit.  Define TAP_PROG
 * (the program's name) before including it.
 */
#ifndef BPFUSE_VM_TAP_H
#define BPFUSE_VM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int checks, failures;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failures++;
	printf("%s %d - ", ok ? "ok" : "not ok", checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void __attribute__((unused)) die(const char *fmt, ...)
{
	va_list ap;

	printf(TAP_PROG ": fatal: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

#endif

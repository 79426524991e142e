// SPDX-License-Identifier: GPL-2.0
#include "trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fuse_trace.skel.h"
#include "log.h"

struct trace {
	struct fuse_trace_bpf *skel;
	int ncpus;
};

/*
 * libbpf's own messages are debug output: the caller reports one line.  While
 * trace_open() runs, libbpf's first warning is also kept, and the verifier's
 * last word when a program was refused, because they name the real cause of
 * a failed load or attach (the CO-RE relocation that failed, the program the
 * kernel refused, the tracepoint it could not find); the error code alone
 * does not.  trace_open() runs once, before the session loop starts threads.
 */
static char libbpf_first_warn[192];
static char libbpf_verifier_says[192];
static int libbpf_capture;

static void copy_line(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* The verifier's log ends with its verdict, then statistics lines. */
static void keep_verifier_verdict(const char *msg)
{
	const char *log = strstr(msg, "-- BEGIN PROG LOAD LOG --");
	const char *line, *eol, *verdict = NULL;
	size_t verdict_len = 0;

	if (!log)
		return;
	for (line = strchr(log, '\n'); line && *line; line = eol) {
		line++;
		eol = strchr(line, '\n');
		if (!eol)
			eol = line + strlen(line);
		if (eol == line || !strncmp(line, "processed ", 10) ||
		    !strncmp(line, "verification time", 17) || !strncmp(line, "stack depth", 11) ||
		    !strncmp(line, "-- END PROG LOAD LOG --", 23))
			continue;
		verdict = line;
		verdict_len = (size_t)(eol - line);
	}
	if (verdict)
		copy_line(libbpf_verifier_says, sizeof(libbpf_verifier_says), verdict, verdict_len);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512], *msg;
	va_list aq;
	int n;

	if (libbpf_capture && level == LIBBPF_WARN) {
		va_copy(aq, ap);
		n = vasprintf(&msg, fmt, aq);
		va_end(aq);
		if (n >= 0) {
			const char *m = strncmp(msg, "libbpf: ", 8) ? msg : msg + 8;
			size_t len = strcspn(m, "\n");

			if (!libbpf_first_warn[0])
				copy_line(libbpf_first_warn, sizeof(libbpf_first_warn), m, len);
			keep_verifier_verdict(msg);
			free(msg);
		}
	}
	if (!log_debug_enabled() || level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	pr_debug("libbpf: %s", buf);
	return 0;
}

/*
 * Can BPF attach to the running kernel's fuse_request_send/end tracepoints?
 * Under CONFIG_BPF_EVENTS every tracepoint leaves a btf_trace_<name> typedef
 * in the kernel's BTF (include/trace/bpf_probe.h): in vmlinux's, or in the
 * fuse module's when fuse is a module.  tests/integration/lib/stats.sh
 * probes the same.  Returns 0, or -errno with the cause in @why.
 */
static int trace_probe(char *why, unsigned int whylen)
{
	static const char *const tps[] = { "btf_trace_fuse_request_send",
					   "btf_trace_fuse_request_end" };
	struct btf *vmlinux, *mod = NULL;
	unsigned int i;
	int err = 0;

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		err = errno ? -errno : -ENOENT;
		if (access("/sys/kernel/btf/vmlinux", F_OK))
			snprintf(why, whylen, "the kernel exposes no BTF (no "
				 "/sys/kernel/btf/vmlinux), which the CO-RE programs need");
		else
			snprintf(why, whylen, "cannot read the kernel's BTF: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		if (btf__find_by_name_kind(vmlinux, tps[i], BTF_KIND_TYPEDEF) >= 0)
			continue;
		if (!mod)
			mod = btf__load_module_btf("fuse", vmlinux);
		if (mod && btf__find_by_name_kind(mod, tps[i], BTF_KIND_TYPEDEF) >= 0)
			continue;
		err = -ENOENT;
		snprintf(why, whylen, "the kernel has no tracepoint '%s' (no %s in its BTF)",
			 tps[i] + strlen("btf_trace_"), tps[i]);
		break;
	}
	btf__free(mod);
	btf__free(vmlinux);
	return err;
}

/* "<what>: <strerror> (verifier: <verdict>)", else "(libbpf: <first warning>)" */
static void trace_why_failed(char *why, unsigned int whylen, const char *what, int err)
{
	if (libbpf_verifier_says[0])
		snprintf(why, whylen, "%s: %s (verifier: %s)", what, strerror(-err),
			 libbpf_verifier_says);
	else if (libbpf_first_warn[0])
		snprintf(why, whylen, "%s: %s (libbpf: %s)", what, strerror(-err),
			 libbpf_first_warn);
	else
		snprintf(why, whylen, "%s: %s", what, strerror(-err));
}

int trace_open(struct trace **out, uint32_t conn, char *why, unsigned int whylen)
{
	struct trace *t;
	int err;

	*out = NULL;
	libbpf_set_print(libbpf_print);
	err = trace_probe(why, whylen);
	if (err)
		return err;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = -EINVAL;
		snprintf(why, whylen, "cannot count CPUs");
		goto out_free;
	}
	libbpf_first_warn[0] = '\0';
	libbpf_verifier_says[0] = '\0';
	libbpf_capture = 1;
	t->skel = fuse_trace_bpf__open();
	if (!t->skel) {
		err = -errno;
		trace_why_failed(why, whylen, "cannot open the BPF object", err);
		goto out_free;
	}
	t->skel->rodata->target_conn = conn;
	err = fuse_trace_bpf__load(t->skel);
	if (err) {
		trace_why_failed(why, whylen, "cannot load the raw tracepoint programs", err);
		goto out_destroy;
	}
	err = fuse_trace_bpf__attach(t->skel);
	if (err) {
		trace_why_failed(why, whylen, "cannot attach the raw tracepoints "
				 "fuse_request_send/end", err);
		goto out_destroy;
	}
	libbpf_capture = 0;
	*out = t;
	return 0;

out_destroy:
	fuse_trace_bpf__destroy(t->skel);
out_free:
	libbpf_capture = 0;
	free(t);
	return err;
}

void trace_close(struct trace *t)
{
	if (!t)
		return;
	fuse_trace_bpf__destroy(t->skel);
	free(t);
}

int trace_read_op(struct trace *t, uint32_t op, struct trace_op_stats *out)
{
	struct trace_op_stats *percpu;
	int i, b, err = 0;

	memset(out, 0, sizeof(*out));
	if (op >= TRACE_MAX_OPCODE)
		return -EINVAL;
	percpu = calloc((size_t)t->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.op_stats), &op, percpu)) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < t->ncpus; i++) {
		out->sent += percpu[i].sent;
		out->done += percpu[i].done;
		out->errors += percpu[i].errors;
		out->lat_sum_ns += percpu[i].lat_sum_ns;
		for (b = 0; b < TRACE_LAT_BUCKETS; b++)
			out->lat_hist[b] += percpu[i].lat_hist[b];
	}
out:
	free(percpu);
	return err;
}

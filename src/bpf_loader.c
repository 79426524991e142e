// SPDX-License-Identifier: GPL-2.0
#include "bpf_loader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fuse_trace.skel.h"
#include "log.h"

struct trace {
	struct fuse_trace_bpf *skel;
	int ncpus;
};

/* libbpf's own messages are debug output: the caller reports one line. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];

	if (!log_debug_enabled() || level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	pr_debug("libbpf: %s", buf);
	return 0;
}

int trace_open(struct trace **out, uint32_t conn, char *why, unsigned int whylen)
{
	struct trace *t;
	int err;

	*out = NULL;
	libbpf_set_print(libbpf_print);
	if (access("/sys/kernel/tracing/events/fuse/fuse_request_send", F_OK) &&
	    access("/sys/kernel/debug/tracing/events/fuse/fuse_request_send", F_OK) &&
	    access("/sys/kernel/btf/vmlinux", F_OK)) {
		snprintf(why, whylen, "the kernel has no fuse tracepoints");
		return -ENOENT;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = -EINVAL;
		snprintf(why, whylen, "cannot count CPUs");
		goto out_free;
	}
	t->skel = fuse_trace_bpf__open();
	if (!t->skel) {
		err = -errno;
		snprintf(why, whylen, "cannot open the BPF object: %s", strerror(-err));
		goto out_free;
	}
	t->skel->rodata->target_conn = conn;
	err = fuse_trace_bpf__load(t->skel);
	if (err) {
		snprintf(why, whylen, "cannot load the BPF programs (kernel without fuse "
			 "tracepoints or BTF?): %s", strerror(-err));
		goto out_destroy;
	}
	err = fuse_trace_bpf__attach(t->skel);
	if (err) {
		snprintf(why, whylen, "cannot attach to fuse/fuse_request_send|end: %s",
			 strerror(-err));
		goto out_destroy;
	}
	*out = t;
	return 0;

out_destroy:
	fuse_trace_bpf__destroy(t->skel);
out_free:
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

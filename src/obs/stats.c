// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - rendering a mount's counters (table, JSON, Prometheus); serving
 * them is stats_server.c.
 */
#include "stats.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"
#include "config.h"
#include "fs.h"
#include "fastpath.h"
#include "log.h"

static const char *const opnames[STATS_MAX_OP] = {
	[1] = "LOOKUP", [2] = "FORGET", [3] = "GETATTR", [4] = "SETATTR", [5] = "READLINK",
	[6] = "SYMLINK", [8] = "MKNOD", [9] = "MKDIR", [10] = "UNLINK", [11] = "RMDIR",
	[12] = "RENAME", [13] = "LINK", [14] = "OPEN", [15] = "READ", [16] = "WRITE",
	[17] = "STATFS", [18] = "RELEASE", [20] = "FSYNC", [21] = "SETXATTR", [22] = "GETXATTR",
	[23] = "LISTXATTR", [24] = "REMOVEXATTR", [25] = "FLUSH", [26] = "INIT", [27] = "OPENDIR",
	[28] = "READDIR", [29] = "RELEASEDIR", [30] = "FSYNCDIR", [31] = "GETLK", [32] = "SETLK",
	[33] = "SETLKW", [34] = "ACCESS", [35] = "CREATE", [36] = "INTERRUPT", [37] = "BMAP",
	[38] = "DESTROY", [39] = "IOCTL", [40] = "POLL", [41] = "NOTIFY_REPLY",
	[42] = "BATCH_FORGET", [43] = "FALLOCATE", [44] = "READDIRPLUS", [45] = "RENAME2",
	[46] = "LSEEK", [47] = "COPY_FILE_RANGE", [48] = "SETUPMAPPING", [49] = "REMOVEMAPPING",
	[50] = "SYNCFS", [51] = "TMPFILE", [52] = "STATX",
};

const char *stats_opcode_name(unsigned int op)
{
	return op < STATS_MAX_OP ? opnames[op] : NULL;
}

/* Upper bound in microseconds of the bucket holding the @pct percentile. */
static uint64_t hist_percentile_us(const struct trace_op_stats *s, double pct)
{
	uint64_t total = 0, acc = 0;
	int b;

	for (b = 0; b < TRACE_LAT_BUCKETS; b++)
		total += s->lat_hist[b];
	if (!total)
		return 0;
	for (b = 0; b < TRACE_LAT_BUCKETS; b++) {
		acc += s->lat_hist[b];
		if ((double)acc >= pct * (double)total)
			break;
	}
	return 2ULL << (b < TRACE_LAT_BUCKETS ? b : TRACE_LAT_BUCKETS - 1);
}

struct op_view {
	const char *name;
	unsigned int op;
	struct trace_op_stats bpf; /* zero when BPF is off */
	uint64_t d_count, d_errors;
};

/* Collect every opcode that either source has seen. Returns how many. */
static int collect(struct fs *fs, struct op_view *v)
{
	int n = 0;
	unsigned int op;

	for (op = 1; op < STATS_MAX_OP; op++) {
		struct op_view *o = &v[n];

		memset(o, 0, sizeof(*o));
		if (fs->trace)
			trace_read_op(fs->trace, op, &o->bpf);
		o->d_count = stats_get(&fs->stats.op_count[op]);
		o->d_errors = stats_get(&fs->stats.op_errors[op]);
		if (!o->bpf.sent && !o->bpf.done && !o->d_count)
			continue;
		o->op = op;
		o->name = opnames[op] ? opnames[op] : "UNKNOWN";
		n++;
	}
	return n;
}

/* Requests the daemon handled, by either transport. */
static uint64_t handled_total(const struct fs *fs)
{
	uint64_t n = 0;
	unsigned int op;

	for (op = 1; op < STATS_MAX_OP; op++)
		n += stats_get(&fs->stats.op_count[op]);
	return n;
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void render_table(struct fs *fs, struct op_view *v, int n, FILE *out)
{
	const struct stats *s = &fs->stats;
	int i;

	fprintf(out, "bpfuse %s on %s (connection %u)\n", fs->cfg->source_spec,
		fs->cfg->mountpoint, fs->conn);
	if (fs->trace)
		fprintf(out, "requests to userspace: BPF tracepoints fuse_request_send/end\n");
	else
		fprintf(out, "requests to userspace: daemon counters only (BPF off: %s)\n",
			fs->trace_why);
	fprintf(out, "\n%-16s %12s %8s %9s %9s %9s %9s %12s\n", "opcode", "to-daemon", "errors",
		"p50(us)", "p90(us)", "p99(us)", "mean(us)", "daemon-seen");
	for (i = 0; i < n; i++) {
		const struct op_view *o = &v[i];

		if (fs->trace)
			fprintf(out, "%-16s %12llu %8llu %9llu %9llu %9llu %9.1f %12llu\n", o->name,
				(unsigned long long)o->bpf.sent, (unsigned long long)o->bpf.errors,
				(unsigned long long)hist_percentile_us(&o->bpf, 0.50),
				(unsigned long long)hist_percentile_us(&o->bpf, 0.90),
				(unsigned long long)hist_percentile_us(&o->bpf, 0.99),
				o->bpf.done ? (double)o->bpf.lat_sum_ns / o->bpf.done / 1000.0 : 0.0,
				(unsigned long long)o->d_count);
		else
			fprintf(out, "%-16s %12llu %8llu %9s %9s %9s %9s %12llu\n", o->name,
				(unsigned long long)o->d_count, (unsigned long long)o->d_errors, "-",
				"-", "-", "-", (unsigned long long)o->d_count);
	}
	fprintf(out, "\nreads served by the daemon: %llu from backend (%llu bytes), "
		"%llu from cache (%llu bytes)\n",
		(unsigned long long)stats_get(&s->reads_backend),
		(unsigned long long)stats_get(&s->bytes_read_backend),
		(unsigned long long)stats_get(&s->reads_cache),
		(unsigned long long)stats_get(&s->bytes_read_cache));
	fprintf(out, "bytes written through the daemon: %llu\n",
		(unsigned long long)stats_get(&s->bytes_written));
	fprintf(out, "opens: %llu passthrough, %llu through the daemon; evictions %llu; "
		"error replies %llu\n",
		(unsigned long long)stats_get(&s->passthrough_opens),
		(unsigned long long)stats_get(&s->plain_opens),
		(unsigned long long)stats_get(&s->evictions),
		(unsigned long long)stats_get(&s->errors));
	if (fs->uring) {
		uint64_t by_ring = stats_get(&s->uring_requests), all = handled_total(fs);

		fprintf(out, "transport: io_uring (%llu requests by the ring, %llu by /dev/fuse "
			"reads)\n", (unsigned long long)by_ring,
			(unsigned long long)(all > by_ring ? all - by_ring : 0));
	} else {
		fprintf(out, "transport: /dev/fuse reads (io_uring off: %s)\n", fs->uring_why);
	}
	if (fs->cfg->backend == BACKEND_S3)
		fprintf(out, "s3 requests: HEAD %llu, GET %llu, LIST %llu, PUT %llu, DELETE %llu, "
			"COPY %llu; %llu bytes fetched; cache %llu bytes in %llu objects, %llu CRC "
			"errors (%llu refetched), %llu disk errors, %llu reads served from S3; %llu answers "
			"refused (bad size or range); %llu cache files changed behind the daemon, "
			"%llu bytes scrubbed\n",
			(unsigned long long)stats_get(&s->s3_head),
			(unsigned long long)stats_get(&s->s3_get),
			(unsigned long long)stats_get(&s->s3_list),
			(unsigned long long)stats_get(&s->s3_put),
			(unsigned long long)stats_get(&s->s3_delete),
			(unsigned long long)stats_get(&s->s3_copy),
			(unsigned long long)stats_get(&s->s3_bytes_fetched),
			(unsigned long long)stats_get(&s->cache_bytes),
			(unsigned long long)stats_get(&s->cache_entries),
			(unsigned long long)stats_get(&s->cache_crc_errors),
			(unsigned long long)stats_get(&s->crc_refetches),
			(unsigned long long)stats_get(&s->cache_disk_errors),
			(unsigned long long)stats_get(&s->cache_fallbacks),
			(unsigned long long)stats_get(&s->s3_protocol_errors),
			(unsigned long long)stats_get(&s->cache_changed_behind),
			(unsigned long long)stats_get(&s->cache_scrubbed_bytes));
	if (fs->cfg->backend == BACKEND_S3 && fs->cfg->s3_prefetch)
		fprintf(out, "s3 prefetch: %llu files queued, %llu fetched (%llu bytes), %llu "
			"skipped, %llu errors\n",
			(unsigned long long)stats_get(&s->s3_prefetch_queued),
			(unsigned long long)stats_get(&s->s3_prefetch_fetched),
			(unsigned long long)stats_get(&s->s3_prefetch_bytes),
			(unsigned long long)stats_get(&s->s3_prefetch_skipped),
			(unsigned long long)stats_get(&s->s3_prefetch_errors));
	else if (fs->cfg->backend == BACKEND_S3)
		fprintf(out, "s3 prefetch: off\n");
	if (fs->ks) {
		struct fastpath_stats k;

		fastpath_read_stats(fs->ks, &k);
		fprintf(out, "in-kernel fast path: LOOKUP %llu answered / %llu upcalled, GETATTR "
			"%llu / %llu, READ %llu / %llu; values changing while read: %llu; maps flushed: "
			"%llu%s\n",
			(unsigned long long)k.lookup_hit, (unsigned long long)k.lookup_miss,
			(unsigned long long)k.getattr_hit, (unsigned long long)k.getattr_miss,
			(unsigned long long)k.read_hit, (unsigned long long)k.read_miss,
			(unsigned long long)k.unstable, (unsigned long long)k.flushes,
			k.publishing ? "" : " (no longer filled: a directory of the source is not watched)");
		fprintf(out, "in-kernel fast path: OPEN %llu answered (no RELEASE follows) / %llu "
			"upcalled, %llu files published for it (%llu refused: descriptor budget); "
			"LOOKUP \"no such name\" %llu answered, %llu names published (%llu refused: "
			"cap); IOCTL %llu answered; %llu requests of another connection; %llu "
			"entries past fastpath_max_age passed on\n",
			(unsigned long long)k.open_hit, (unsigned long long)k.open_miss,
			(unsigned long long)k.opens, (unsigned long long)k.opens_refused,
			(unsigned long long)k.negative_hit, (unsigned long long)k.negatives,
			(unsigned long long)k.negatives_refused, (unsigned long long)k.ioctl_hit,
			(unsigned long long)k.foreign, (unsigned long long)k.expired);
		fprintf(out, "in-kernel fast path: %llu blocks of partly cached files published "
			"from %llu cache files (%llu refused: descriptor budget)\n",
			(unsigned long long)k.file_blocks, (unsigned long long)k.block_files,
			(unsigned long long)k.block_files_refused);
		fprintf(out, "fast-path FORGET: %llu grace periods waited (%.3f ms each on average), "
			"%llu could not be waited for%s\n", (unsigned long long)k.grace_periods,
			k.grace_periods ? (double)k.grace_period_ns / k.grace_periods / 1e6 : 0.0,
			(unsigned long long)k.grace_period_failures,
			k.grace_period_failures ? " (folded without: a lookup in flight may be missed)" :
			"");
		fprintf(out, "fast-path maps: %.1f MiB of kernel memory pinned now, at most %.1f MiB "
			"when full; %llu inserts refused for want of room%s\n",
			(double)k.memlock_bytes / (1 << 20), (double)k.memlock_max_bytes / (1 << 20),
			(unsigned long long)k.map_full,
			k.map_full ? " (degraded: raise fastpath_entries= / fastpath_blocks=)" : "");
		for (i = 0; i < FASTPATH_NMAPS; i++)
			fprintf(out, "  %-12s %9u entries max, %12llu bytes now, %12llu when full, "
				"%llu refused\n", k.maps[i].name, k.maps[i].max_entries,
				(unsigned long long)k.maps[i].memlock_bytes,
				(unsigned long long)k.maps[i].memlock_max_bytes,
				(unsigned long long)k.maps[i].full);
	} else {
		fprintf(out, "in-kernel fast path: off (%s)\n", fs->fastpath_why);
	}
	fprintf(out, "kernel cache invalidations sent: %llu; change events lost: %llu; "
		"whole-mount drops: %llu; own changes not invalidated: %llu\n",
		(unsigned long long)stats_get(&s->invalidations),
		(unsigned long long)stats_get(&s->watch_overflows),
		(unsigned long long)stats_get(&s->watch_full_drops),
		(unsigned long long)stats_get(&s->watch_own_events));
	if (fs->trace)
		fprintf(out, "latency: round trip kernel -> daemon -> kernel; percentiles are "
			"log2 bucket upper bounds\n");
	else
		fprintf(out, "latency: needs the BPF tracepoints\n");
}

/* The "fastpath" object of the JSON: key, and the counter of struct fastpath_stats */
#define FP_JSON(key, field)                                                                  \
	{ key, offsetof(struct fastpath_stats, field) +                                       \
		       0 * sizeof(char[__builtin_types_compatible_p(                          \
				   __typeof__(((struct fastpath_stats *)0)->field), uint64_t) ? 1 : -1]) }
static const struct {
	const char *key;
	size_t off;
} fp_json[] = {
	FP_JSON("lookup_hit", lookup_hit), FP_JSON("lookup_miss", lookup_miss),
	FP_JSON("getattr_hit", getattr_hit), FP_JSON("getattr_miss", getattr_miss),
	FP_JSON("read_hit", read_hit), FP_JSON("read_miss", read_miss),
	FP_JSON("kfunc_errors", kfunc_err), FP_JSON("unstable_reads", unstable),
	FP_JSON("map_flushes", flushes), FP_JSON("grace_periods", grace_periods),
	FP_JSON("grace_period_failures", grace_period_failures),
	FP_JSON("grace_period_ns", grace_period_ns),
	FP_JSON("open_hit", open_hit), FP_JSON("open_miss", open_miss),
	FP_JSON("opens_published", opens), FP_JSON("opens_refused", opens_refused),
	FP_JSON("block_files", block_files), FP_JSON("block_files_refused", block_files_refused),
	FP_JSON("file_blocks", file_blocks),
	FP_JSON("negative_hit", negative_hit), FP_JSON("negatives_published", negatives),
	FP_JSON("negatives_refused", negatives_refused), FP_JSON("ioctl_hit", ioctl_hit),
	FP_JSON("foreign_requests", foreign), FP_JSON("expired", expired),
	FP_JSON("map_full", map_full), FP_JSON("memlock_bytes", memlock_bytes),
	FP_JSON("memlock_max_bytes", memlock_max_bytes),
};
#undef FP_JSON

static void render_json(struct fs *fs, struct op_view *v, int n, FILE *out)
{
	const struct stats *s = &fs->stats;
	int i, b;

	fprintf(out, "{\"mountpoint\":");
	json_string(out, fs->cfg->mountpoint);
	fprintf(out, ",\"source\":");
	json_string(out, fs->cfg->source_spec);
	fprintf(out, ",\"connection\":%u,\"request_source\":\"%s\"", fs->conn,
		fs->trace ? "bpf" : "daemon");
	if (!fs->trace) {
		fprintf(out, ",\"bpf_off_reason\":");
		json_string(out, fs->trace_why);
	}
	fprintf(out, ",\"transport\":\"%s\",\"uring_requests\":%llu",
		fs->uring ? "io_uring" : "dev_fuse",
		(unsigned long long)stats_get(&fs->stats.uring_requests));
	if (!fs->uring) {
		fprintf(out, ",\"uring_off_reason\":");
		json_string(out, fs->uring_why);
	}
	if (fs->ks) {
		struct fastpath_stats k;

		fastpath_read_stats(fs->ks, &k);
		fprintf(out, ",\"fastpath\":{\"publishing\":%s", k.publishing ? "true" : "false");
		for (i = 0; i < (int)(sizeof(fp_json) / sizeof(fp_json[0])); i++)
			fprintf(out, ",\"%s\":%llu", fp_json[i].key,
				(unsigned long long)*(const uint64_t *)((const char *)&k +
									fp_json[i].off));
		fprintf(out, ",\"maps\":{");
		for (i = 0; i < FASTPATH_NMAPS; i++)
			fprintf(out, "%s\"%s\":{\"max_entries\":%u,\"memlock_bytes\":%llu,"
				"\"memlock_max_bytes\":%llu,\"full\":%llu}", i ? "," : "",
				k.maps[i].name, k.maps[i].max_entries,
				(unsigned long long)k.maps[i].memlock_bytes,
				(unsigned long long)k.maps[i].memlock_max_bytes,
				(unsigned long long)k.maps[i].full);
		fprintf(out, "}}");
	} else {
		fprintf(out, ",\"fastpath\":null,\"fastpath_off_reason\":");
		json_string(out, fs->fastpath_why);
	}
	fprintf(out, ",\"ops\":{");
	for (i = 0; i < n; i++) {
		const struct op_view *o = &v[i];

		fprintf(out, "%s\"%s\":{\"daemon_requests\":%llu,\"daemon_errors\":%llu",
			i ? "," : "", o->name, (unsigned long long)o->d_count,
			(unsigned long long)o->d_errors);
		if (fs->trace) {
			fprintf(out, ",\"requests\":%llu,\"replies\":%llu,\"errors\":%llu,"
				"\"latency_us\":{\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"mean\":%.2f},"
				"\"hist_log2_us\":[",
				(unsigned long long)o->bpf.sent, (unsigned long long)o->bpf.done,
				(unsigned long long)o->bpf.errors,
				(unsigned long long)hist_percentile_us(&o->bpf, 0.50),
				(unsigned long long)hist_percentile_us(&o->bpf, 0.90),
				(unsigned long long)hist_percentile_us(&o->bpf, 0.99),
				o->bpf.done ? (double)o->bpf.lat_sum_ns / o->bpf.done / 1000.0 : 0.0);
			for (b = 0; b < TRACE_LAT_BUCKETS; b++)
				fprintf(out, "%s%llu", b ? "," : "",
					(unsigned long long)o->bpf.lat_hist[b]);
			fprintf(out, "]");
		}
		fprintf(out, "}");
	}
	fprintf(out, "},\"daemon\":{\"reads_backend\":%llu,\"bytes_read_backend\":%llu,"
		"\"reads_cache\":%llu,\"bytes_read_cache\":%llu,\"bytes_written\":%llu,"
		"\"passthrough_opens\":%llu,\"plain_opens\":%llu,\"evictions\":%llu,"
		"\"errors\":%llu,\"invalidations\":%llu,\"watch_overflows\":%llu,"
		"\"watch_full_drops\":%llu,\"watch_own_events\":%llu,\"fuse_proto_minor\":%u,"
		"\"inodes\":%zu,",
		(unsigned long long)stats_get(&s->reads_backend),
		(unsigned long long)stats_get(&s->bytes_read_backend),
		(unsigned long long)stats_get(&s->reads_cache),
		(unsigned long long)stats_get(&s->bytes_read_cache),
		(unsigned long long)stats_get(&s->bytes_written),
		(unsigned long long)stats_get(&s->passthrough_opens),
		(unsigned long long)stats_get(&s->plain_opens),
		(unsigned long long)stats_get(&s->evictions),
		(unsigned long long)stats_get(&s->errors),
		(unsigned long long)stats_get(&s->invalidations),
		(unsigned long long)stats_get(&s->watch_overflows),
		(unsigned long long)stats_get(&s->watch_full_drops),
		(unsigned long long)stats_get(&s->watch_own_events), fs->proto_minor,
		inode_table_count(&fs->inodes));
	fprintf(out, "\"s3\":{\"head\":%llu,\"get\":%llu,\"list\":%llu,\"put\":%llu,"
		"\"delete\":%llu,\"copy\":%llu,\"bytes_fetched\":%llu,\"cache_block_hits\":%llu,"
		"\"buffer_hits\":%llu,\"crc_refetches\":%llu,\"cache_fallbacks\":%llu,\"cache_crc_errors\":%llu,"
		"\"cache_disk_errors\":%llu,\"cache_bytes\":%llu,\"cache_entries\":%llu,"
		"\"protocol_errors\":%llu,\"cache_changed_behind\":%llu,\"cache_scrubbed_bytes\":%llu,"
		"\"prefetch\":{\"on\":%s,\"queued\":%llu,\"fetched\":%llu,\"bytes\":%llu,"
		"\"skipped\":%llu,\"errors\":%llu}}}}\n",
		(unsigned long long)stats_get(&s->s3_head), (unsigned long long)stats_get(&s->s3_get),
		(unsigned long long)stats_get(&s->s3_list), (unsigned long long)stats_get(&s->s3_put),
		(unsigned long long)stats_get(&s->s3_delete),
		(unsigned long long)stats_get(&s->s3_copy),
		(unsigned long long)stats_get(&s->s3_bytes_fetched),
		(unsigned long long)stats_get(&s->cache_block_hits),
		(unsigned long long)stats_get(&s->s3_pool_hits),
		(unsigned long long)stats_get(&s->crc_refetches),
		(unsigned long long)stats_get(&s->cache_fallbacks),
		(unsigned long long)stats_get(&s->cache_crc_errors),
		(unsigned long long)stats_get(&s->cache_disk_errors),
		(unsigned long long)stats_get(&s->cache_bytes),
		(unsigned long long)stats_get(&s->cache_entries),
		(unsigned long long)stats_get(&s->s3_protocol_errors),
		(unsigned long long)stats_get(&s->cache_changed_behind),
		(unsigned long long)stats_get(&s->cache_scrubbed_bytes),
		fs->cfg->backend == BACKEND_S3 && fs->cfg->s3_prefetch ? "true" : "false",
		(unsigned long long)stats_get(&s->s3_prefetch_queued),
		(unsigned long long)stats_get(&s->s3_prefetch_fetched),
		(unsigned long long)stats_get(&s->s3_prefetch_bytes),
		(unsigned long long)stats_get(&s->s3_prefetch_skipped),
		(unsigned long long)stats_get(&s->s3_prefetch_errors));
}

static void prom_label(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fprintf(out, "\\n");
		else
			fputc(*s, out);
	}
}

static void render_prometheus(struct fs *fs, struct op_view *v, int n, FILE *out)
{
	const struct stats *s = &fs->stats;
	int i, b;

#define MNT_LABEL()                                   \
	do {                                          \
		fprintf(out, "mount=\"");             \
		prom_label(out, fs->cfg->mountpoint); \
		fprintf(out, "\"");                   \
	} while (0)

	fprintf(out, "# HELP bpfuse_uring_requests_total FUSE requests that came by "
		"FUSE-over-io_uring.\n# TYPE bpfuse_uring_requests_total counter\n"
		"bpfuse_uring_requests_total{");
	MNT_LABEL();
	fprintf(out, "} %llu\n", (unsigned long long)stats_get(&s->uring_requests));
	fprintf(out, "# HELP bpfuse_daemon_requests_total FUSE requests the daemon handled.\n"
		"# TYPE bpfuse_daemon_requests_total counter\n");
	for (i = 0; i < n; i++) {
		fprintf(out, "bpfuse_daemon_requests_total{");
		MNT_LABEL();
		fprintf(out, ",opcode=\"%s\"} %llu\n", v[i].name, (unsigned long long)v[i].d_count);
	}
	if (fs->trace) {
		fprintf(out, "# HELP bpfuse_requests_total FUSE requests the kernel sent to "
			"userspace (BPF).\n# TYPE bpfuse_requests_total counter\n");
		for (i = 0; i < n; i++) {
			fprintf(out, "bpfuse_requests_total{");
			MNT_LABEL();
			fprintf(out, ",opcode=\"%s\"} %llu\n", v[i].name,
				(unsigned long long)v[i].bpf.sent);
		}
		fprintf(out, "# HELP bpfuse_request_latency_seconds Round trip of FUSE requests "
			"to userspace (BPF).\n# TYPE bpfuse_request_latency_seconds histogram\n");
		for (i = 0; i < n; i++) {
			uint64_t acc = 0;

			for (b = 0; b < TRACE_LAT_BUCKETS; b++) {
				acc += v[i].bpf.lat_hist[b];
				fprintf(out, "bpfuse_request_latency_seconds_bucket{");
				MNT_LABEL();
				fprintf(out, ",opcode=\"%s\",le=\"%g\"} %llu\n", v[i].name,
					(double)(2ULL << b) / 1e6, (unsigned long long)acc);
			}
			fprintf(out, "bpfuse_request_latency_seconds_bucket{");
			MNT_LABEL();
			fprintf(out, ",opcode=\"%s\",le=\"+Inf\"} %llu\n", v[i].name,
				(unsigned long long)v[i].bpf.done);
			fprintf(out, "bpfuse_request_latency_seconds_sum{");
			MNT_LABEL();
			fprintf(out, ",opcode=\"%s\"} %g\n", v[i].name,
				(double)v[i].bpf.lat_sum_ns / 1e9);
			fprintf(out, "bpfuse_request_latency_seconds_count{");
			MNT_LABEL();
			fprintf(out, ",opcode=\"%s\"} %llu\n", v[i].name,
				(unsigned long long)v[i].bpf.done);
		}
	}
	fprintf(out, "# TYPE bpfuse_read_bytes_total counter\n");
	fprintf(out, "bpfuse_read_bytes_total{");
	MNT_LABEL();
	fprintf(out, ",from=\"backend\"} %llu\n",
		(unsigned long long)stats_get(&s->bytes_read_backend));
	fprintf(out, "bpfuse_read_bytes_total{");
	MNT_LABEL();
	fprintf(out, ",from=\"cache\"} %llu\n", (unsigned long long)stats_get(&s->bytes_read_cache));
	fprintf(out, "# TYPE bpfuse_opens_total counter\n");
	fprintf(out, "bpfuse_opens_total{");
	MNT_LABEL();
	fprintf(out, ",mode=\"passthrough\"} %llu\n",
		(unsigned long long)stats_get(&s->passthrough_opens));
	fprintf(out, "bpfuse_opens_total{");
	MNT_LABEL();
	fprintf(out, ",mode=\"daemon\"} %llu\n", (unsigned long long)stats_get(&s->plain_opens));
	fprintf(out, "# TYPE bpfuse_error_replies_total counter\nbpfuse_error_replies_total{");
	MNT_LABEL();
	fprintf(out, "} %llu\n", (unsigned long long)stats_get(&s->errors));
	fprintf(out, "# TYPE bpfuse_invalidations_total counter\nbpfuse_invalidations_total{");
	MNT_LABEL();
	fprintf(out, "} %llu\n", (unsigned long long)stats_get(&s->invalidations));
	fprintf(out, "# TYPE bpfuse_watch_full_drops_total counter\nbpfuse_watch_full_drops_total{");
	MNT_LABEL();
	fprintf(out, "} %llu\n", (unsigned long long)stats_get(&s->watch_full_drops));
	if (fs->cfg->backend == BACKEND_S3) {
		/* one metric per family; a NULL label is a metric without one */
		static const struct {
			const char *name, *type, *help, *label;
			size_t off;
		} m[] = {
#define S3M(n, t, h, l, f) { n, t, h, l, offsetof(struct stats, f) }
			S3M("bpfuse_s3_requests_total", "counter",
			    "Requests bpfuse made to the S3 server, by kind.", "kind=\"head\"", s3_head),
			S3M("bpfuse_s3_requests_total", NULL, NULL, "kind=\"get\"", s3_get),
			S3M("bpfuse_s3_requests_total", NULL, NULL, "kind=\"list\"", s3_list),
			S3M("bpfuse_s3_requests_total", NULL, NULL, "kind=\"put\"", s3_put),
			S3M("bpfuse_s3_requests_total", NULL, NULL, "kind=\"delete\"", s3_delete),
			S3M("bpfuse_s3_requests_total", NULL, NULL, "kind=\"copy\"", s3_copy),
			S3M("bpfuse_s3_fetched_bytes_total", "counter",
			    "Object bytes fetched from the S3 server.", NULL, s3_bytes_fetched),
			S3M("bpfuse_s3_protocol_errors_total", "counter",
			    "Replies of the S3 server bpfuse refused as malformed.", NULL,
			    s3_protocol_errors),
			S3M("bpfuse_cache_bytes", "gauge", "Bytes the local cache directory holds.",
			    NULL, cache_bytes),
			S3M("bpfuse_cache_entries", "gauge", "Objects the local cache directory holds.",
			    NULL, cache_entries),
			S3M("bpfuse_cache_evictions_total", "counter",
			    "Objects evicted from the cache to stay under its size.", NULL, evictions),
			S3M("bpfuse_cache_crc_errors_total", "counter",
			    "Cached blocks whose checksum did not match (fetched again).", NULL,
			    cache_crc_errors),
			S3M("bpfuse_s3_prefetch_files_total", "counter",
			    "Files of listed directories the background prefetch handled, by outcome.",
			    "outcome=\"queued\"", s3_prefetch_queued),
			S3M("bpfuse_s3_prefetch_files_total", NULL, NULL, "outcome=\"fetched\"",
			    s3_prefetch_fetched),
			S3M("bpfuse_s3_prefetch_files_total", NULL, NULL, "outcome=\"skipped\"",
			    s3_prefetch_skipped),
			S3M("bpfuse_s3_prefetch_files_total", NULL, NULL, "outcome=\"failed\"",
			    s3_prefetch_errors),
			S3M("bpfuse_s3_prefetch_bytes_total", "counter",
			    "Bytes the background prefetch fetched.", NULL, s3_prefetch_bytes),
#undef S3M
		};
		size_t j;

		for (j = 0; j < sizeof(m) / sizeof(m[0]); j++) {
			const uint64_t *c = (const void *)((const char *)s + m[j].off);

			if (m[j].type)
				fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", m[j].name, m[j].help,
					m[j].name, m[j].type);
			fprintf(out, "%s{", m[j].name);
			MNT_LABEL();
			fprintf(out, "%s%s} %llu\n", m[j].label ? "," : "",
				m[j].label ? m[j].label : "", (unsigned long long)stats_get(c));
		}
	}
	if (fs->ks) {
		struct fastpath_stats k;
		static const struct {
			const char *name, *type, *help;
		} m[] = {
			{ "bpfuse_fastpath_map_max_entries", "gauge",
			  "max_entries of a fast-path map (fastpath_entries=, fastpath_blocks=)." },
			{ "bpfuse_fastpath_map_memlock_bytes", "gauge",
			  "Kernel memory a fast-path map pins now (its fdinfo memlock)." },
			{ "bpfuse_fastpath_map_memlock_max_bytes", "gauge",
			  "Kernel memory a fast-path map pins when full." },
			{ "bpfuse_fastpath_map_full_total", "counter",
			  "Inserts into a fast-path map refused for want of room (served by the "
			  "daemon instead)." },
		};
		size_t j;

		fastpath_read_stats(fs->ks, &k);
		for (j = 0; j < sizeof(m) / sizeof(m[0]); j++) {
			fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", m[j].name, m[j].help, m[j].name,
				m[j].type);
			for (i = 0; i < FASTPATH_NMAPS; i++) {
				const struct fastpath_map_stats *ms = &k.maps[i];
				unsigned long long val = j == 0 ? ms->max_entries :
							 j == 1 ? ms->memlock_bytes :
							 j == 2 ? ms->memlock_max_bytes : ms->full;

				fprintf(out, "%s{", m[j].name);
				MNT_LABEL();
				fprintf(out, ",map=\"%s\"} %llu\n", ms->name, val);
			}
		}
	}
#undef MNT_LABEL
}

void stats_render(struct fs *fs, enum stats_format fmt, FILE *out)
{
	struct op_view v[STATS_MAX_OP];
	int n = collect(fs, v);

	if (fmt == STATS_JSON)
		render_json(fs, v, n, out);
	else if (fmt == STATS_PROMETHEUS)
		render_prometheus(fs, v, n, out);
	else
		render_table(fs, v, n, out);
}

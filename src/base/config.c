// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - the option table and its parser.
 *
 * The table is declarative (name, kind, offsetof field, bounds, help), in the
 * manner of xdp-tools' option tables: adding an option is one row, and the
 * same row feeds the parser, the validation and --help.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "log.h"
#include "mountinfo.h"
#include "config_priv.h"
#define F(field) offsetof(struct config, field)

static const struct opt_desc opt_table[] = {
	{ "entry_timeout", OPT_SECONDS, F(entry_timeout_s), 0, CONFIG_MAX_TIMEOUT_S,
	  "seconds the kernel may cache a name lookup (default 1)" },
	{ "attr_timeout", OPT_SECONDS, F(attr_timeout_s), 0, CONFIG_MAX_TIMEOUT_S,
	  "seconds the kernel may cache attributes (default 1)" },
	{ "negative_timeout", OPT_SECONDS, F(negative_timeout_s), 0, CONFIG_MAX_TIMEOUT_S,
	  "seconds the kernel may cache a failed lookup (default 0)" },
	{ "threads", OPT_UINT, F(threads), 1, CONFIG_MAX_THREADS,
	  "maximum request worker threads, 1-1024 (default 16)" },
	{ "allow_other", OPT_FLAG, F(allow_other), 1, 0,
	  "let other users use the mount (turns on default_permissions)" },
	{ "default_permissions", OPT_FLAG, F(default_permissions), 1, 0,
	  "let the kernel check file mode bits and ownership" },
	{ "ro", OPT_FLAG, F(read_only), 1, 0, "mount read-only" },
	{ "rw", OPT_FLAG, F(read_only), 0, 0, "mount read-write (default)" },
	{ "passthrough", OPT_ONOFF, F(passthrough), 0, 0,
	  "FUSE passthrough of file I/O when the kernel offers it (default on)" },
	{ "io_uring", OPT_AUTO, F(io_uring), 0, 0,
	  "FUSE-over-io_uring: auto uses it when the kernel's enable_uring is on (not for "
	  "s3://); on also turns that system-wide switch on (default auto)" },
	{ "profile", OPT_PROFILE, F(profile), 0, 0,
	  "default|dataset|shared: a preset of the caching options below (the AWS profile "
	  "is aws_profile=)" },
	{ "keep_cache", OPT_ONOFF, F(keep_cache), 0, 0,
	  "keep file pages cached across opens (default: on if attr_timeout > 0)" },
	{ "cache_readdir", OPT_ONOFF, F(cache_readdir), 0, 0,
	  "let the kernel cache directory listings (default off)" },
	{ "invalidate", OPT_ONOFF, F(invalidate), 0, 0,
	  "push changes made in SOURCE behind the mount into the kernel (default on)" },
	{ "kernel_open", OPT_ONOFF, F(kernel_open), 0, 0,
	  "the kernel opens and closes files without asking bpfuse; file data through the "
	  "page cache, no passthrough (local sources; default: on with profile=dataset)" },
	{ "trust_watch", OPT_ONOFF, F(trust_watch), 0, 0,
	  "keep long timeouts on a network-filesystem SOURCE although changes made by "
	  "other clients are not seen (default off: timeouts capped at 1 s)" },
	{ "fastpath", OPT_ONOFF, F(fastpath), 0, 0,
	  "answer requests in the kernel with BPF on a patched kernel (default on)" },
	{ "fastpath_remote", OPT_ONOFF, F(fastpath_remote), 0, 0,
	  "use the fast path on a network-filesystem SOURCE too, although other clients' "
	  "changes are then never seen for what the kernel answers itself (default off)" },
	{ "fastpath_max_age", OPT_SECONDS, F(fastpath_max_age_s), 0, CONFIG_MAX_TIMEOUT_S,
	  "serve what the fast path published at most this many seconds, then ask the "
	  "daemon again (default 0: until the daemon deletes it)" },
	{ "fastpath_entries", OPT_UINT, F(fastpath_entries), CONFIG_MIN_FASTPATH_ENTRIES,
	  CONFIG_MAX_FASTPATH_ENTRIES,
	  "names and nodes the fast path's maps may hold, 16-4194304 (default 65536); "
	  "what does not fit is answered by the daemon" },
	{ "fastpath_blocks", OPT_UINT, F(fastpath_blocks), CONFIG_MIN_FASTPATH_ENTRIES,
	  CONFIG_MAX_FASTPATH_BLOCKS,
	  "64 KiB file blocks the fast path's block map may hold, 16-16777216 (default: "
	  "twice fastpath_entries)" },
	{ "fastpath_obj", OPT_PATH, F(fastpath_obj), 0, 0,
	  "the fast-path BPF object (default: bpf/fastpath.bpf.o beside the binary, else "
	  BPFUSE_BPF_DIR "/fastpath.bpf.o)" },
	{ "trace", OPT_ONOFF, F(trace), 0, 0,
	  "count requests per opcode with BPF tracepoints (default on)" },
	{ "metrics_port", OPT_UINT, F(metrics_port), 0, 65535,
	  "serve Prometheus metrics on 127.0.0.1:N (default 0: off)" },
	{ "debug", OPT_FLAG, F(debug), 1, 0, "log every request to stderr; implies -f" },
	{ "endpoint", OPT_STRING, F(s3_endpoint), sizeof(((struct config *)0)->s3_endpoint), 0,
	  "s3: the S3 endpoint URL (default: AWS_ENDPOINT_URL, else AWS)" },
	{ "region", OPT_STRING, F(s3_region), sizeof(((struct config *)0)->s3_region), 0,
	  "s3: the signing region (default: AWS_REGION, the profile's, else us-east-1)" },
	{ "aws_profile", OPT_STRING, F(s3_aws_profile),
	  sizeof(((struct config *)0)->s3_aws_profile), 0,
	  "s3: the AWS profile for keys, region and endpoint (default: AWS_PROFILE, else "
	  "default); not the cache profile=" },
	{ "cache_dir", OPT_PATH, F(cache_dir), 0, 0,
	  "s3: the cache directory (default /var/cache/bpfuse; created 0700)" },
	{ "cache_size", OPT_SIZE, F(cache_size_bytes), 0, 0,
	  "s3: bytes of object data the cache may hold, K/M/G/T suffixes (default 10G)" },
	{ "path_style", OPT_ONOFF, F(s3_path_style), 0, 0,
	  "s3: path-style URLs (default on) or virtual-hosted (off)" },
	{ "cold_direct", OPT_ONOFF, F(s3_cold_direct), 0, 0,
	  "s3: objects of 8 MiB and more not yet in the cache are read past the page cache "
	  "(default on)" },
	{ "posix_meta", OPT_ONOFF, F(s3_posix_meta), 0, 0,
	  "s3: modes, owners, times, symlinks and special files from the objects' s3fs-style "
	  "metadata, one HEAD per object first looked up (default on, off with "
	  "profile=dataset); off: fixed defaults from listings alone" },
	{ "scrub_rate", OPT_SIZE, F(scrub_rate_bytes), 0, 0,
	  "s3: bytes per second the background scrub re-verifies cached blocks at, 0 = off "
	  "(default 8M)" },
	{ "prefetch", OPT_ONOFF, F(s3_prefetch), 0, 0,
	  "s3: a directory listed queues its files, up to 64 MiB each, for a background fetch "
	  "into the cache, holding at most half of cache_size not yet opened (default off, on "
	  "with profile=dataset)" },
	{ "prefetch_threads", OPT_UINT, F(s3_prefetch_threads), 1, CONFIG_MAX_PREFETCH_THREADS,
	  "s3: parallel GETs of the prefetch, 1-64 (default 8)" },
	{ "list_ttl", OPT_SECONDS, F(list_ttl_s), 0, CONFIG_MAX_TIMEOUT_S,
	  "s3: seconds a listing or HEAD answers lookups without a request (default 60)" },
	{ "s3_timeout", OPT_SECONDS, F(s3_timeout_s), 0, CONFIG_MAX_S3_TIMEOUT_S,
	  "s3: seconds after which a request to a server that stopped answering fails, "
	  "8-3600 (default 17)" },
	{ "nosuid", OPT_KERNEL, 0, 0, 0, "kernel mount flags, applied as given:" },
	{ "suid", OPT_KERNEL, 0, 0, 0, NULL },
	{ "nodev", OPT_KERNEL, 0, 0, 0, NULL },
	{ "dev", OPT_KERNEL, 0, 0, 0, NULL },
	{ "noexec", OPT_KERNEL, 0, 0, 0, NULL },
	{ "exec", OPT_KERNEL, 0, 0, 0, NULL },
	{ "noatime", OPT_KERNEL, 0, 0, 0, NULL },
	{ "nodiratime", OPT_KERNEL, 0, 0, 0, NULL },
	{ "relatime", OPT_KERNEL, 0, 0, 0, NULL },
	{ "strictatime", OPT_KERNEL, 0, 0, 0, NULL },
	{ "atime", OPT_KERNEL, 0, 0, 0, NULL },
	{ "sync", OPT_KERNEL, 0, 0, 0, NULL },
	{ "async", OPT_KERNEL, 0, 0, 0, NULL },
	{ "dirsync", OPT_KERNEL, 0, 0, 0, NULL },
	{ "defaults", OPT_IGNORE, 0, 0, 0, "fstab words accepted and ignored:" },
	{ "auto", OPT_IGNORE, 0, 0, 0, NULL },
	{ "noauto", OPT_IGNORE, 0, 0, 0, NULL },
	{ "user", OPT_IGNORE, 0, 0, 0, NULL },
	{ "nouser", OPT_IGNORE, 0, 0, 0, NULL },
	{ "users", OPT_IGNORE, 0, 0, 0, NULL },
	{ "_netdev", OPT_IGNORE, 0, 0, 0, NULL },
	{ "nofail", OPT_IGNORE, 0, 0, 0, NULL },
};

#undef F

_Static_assert(sizeof(opt_table) / sizeof(opt_table[0]) <= 64,
	       "config.explicit_opts has one bit per option row");

const struct opt_desc *const config_opts = opt_table;
const size_t config_nopts = sizeof(opt_table) / sizeof(opt_table[0]);

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = BACKEND_LOCAL;
	cfg->entry_timeout_s = CONFIG_DEFAULT_ENTRY_TIMEOUT_S;
	cfg->attr_timeout_s = CONFIG_DEFAULT_ATTR_TIMEOUT_S;
	cfg->negative_timeout_s = CONFIG_DEFAULT_NEGATIVE_TIMEOUT_S;
	cfg->threads = CONFIG_DEFAULT_THREADS;
	cfg->passthrough = 1;
	cfg->io_uring = CONFIG_AUTO;
	cfg->trace = 1;
	cfg->fastpath = 1;
	cfg->fastpath_entries = CONFIG_DEFAULT_FASTPATH_ENTRIES;
	cfg->fastpath_blocks = 0; /* derived in config_finish */
	cfg->keep_cache = -1; /* derived in config_finish */
	cfg->invalidate = 1;
	cfg->kernel_open = -1; /* derived in config_finish */
	snprintf(cfg->cache_dir, sizeof(cfg->cache_dir), "%s", CONFIG_DEFAULT_CACHE_DIR);
	cfg->cache_size_bytes = CONFIG_DEFAULT_CACHE_SIZE;
	cfg->s3_path_style = 1;
	cfg->s3_cold_direct = 1;
	cfg->s3_posix_meta = 1;
	cfg->s3_prefetch_threads = CONFIG_DEFAULT_PREFETCH_THREADS;
	cfg->scrub_rate_bytes = CONFIG_DEFAULT_SCRUB_RATE;
	cfg->list_ttl_s = CONFIG_DEFAULT_LIST_TTL_S;
	cfg->s3_timeout_s = CONFIG_DEFAULT_S3_TIMEOUT_S;
}

int config_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	case 't': case 'T': mul = 1ULL << 40; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end || (v && mul > ~0ULL / v))
		return -EINVAL;
	*out = v * mul;
	return 0;
}

static const struct opt_desc *opt_find(const char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++)
		if (strlen(opt_table[i].name) == keylen && !strncmp(opt_table[i].name, key, keylen))
			return &opt_table[i];
	return NULL;
}

static int parse_seconds(const char *s, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int parse_onoff(const char *s, int *out)
{
	if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "1"))
		*out = 1;
	else if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "0"))
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

static int parse_profile(const char *s, enum profile *out)
{
	if (!strcmp(s, "default"))
		*out = PROFILE_DEFAULT;
	else if (!strcmp(s, "dataset"))
		*out = PROFILE_DATASET;
	else if (!strcmp(s, "shared"))
		*out = PROFILE_SHARED;
	else
		return -EINVAL;
	return 0;
}

static int append_kernel_opt(struct config *cfg, const char *opt, size_t len)
{
	size_t cur = strlen(cfg->kernel_opts);

	if (cur + len + 2 > sizeof(cfg->kernel_opts))
		return -E2BIG;
	if (cur)
		cfg->kernel_opts[cur++] = ',';
	memcpy(cfg->kernel_opts + cur, opt, len);
	cfg->kernel_opts[cur + len] = '\0';
	return 0;
}

/* Apply one "key" or "key=value" token of length @len. */
static int apply_opt(struct config *cfg, const char *tok, size_t len)
{
	char value[PATH_MAX];
	const char *eq = memchr(tok, '=', len);
	size_t keylen = eq ? (size_t)(eq - tok) : len;
	const struct opt_desc *d;
	void *field;
	int err = 0;

	/* fstab extensions and comments are for mount(8) and friends, not us */
	if ((keylen > 2 && !strncmp(tok, "x-", 2)) || (keylen == 7 && !strncmp(tok, "comment", 7)))
		return 0;
	d = opt_find(tok, keylen);
	if (!d) {
		pr_err("unknown option '%.*s' (see bpfuse --help)", (int)len, tok);
		return -EINVAL;
	}
	field = (char *)cfg + d->off;
	cfg->explicit_opts |= 1ULL << (d - opt_table);
	if (eq) {
		size_t vlen = len - keylen - 1;

		if (vlen >= sizeof(value)) {
			pr_err("value of option '%s' is too long", d->name);
			return -EINVAL;
		}
		memcpy(value, eq + 1, vlen);
		value[vlen] = '\0';
	}
	switch (d->kind) {
	case OPT_FLAG:
	case OPT_KERNEL:
	case OPT_IGNORE:
		if (eq) {
			pr_err("option '%s' takes no value", d->name);
			return -EINVAL;
		}
		if (d->kind == OPT_FLAG)
			*(int *)field = d->val;
		else if (d->kind == OPT_KERNEL && append_kernel_opt(cfg, tok, len)) {
			pr_err("too many kernel mount flags");
			return -EINVAL;
		}
		return 0;
	case OPT_SECONDS:
		if (!eq || parse_seconds(value, d->max, field)) {
			pr_err("option '%s' needs a number of seconds between 0 and %.0f, got '%.*s'",
			       d->name, d->max, (int)len, tok);
			return -EINVAL;
		}
		return 0;
	case OPT_UINT:
		if (!eq || parse_uint(value, (unsigned long)d->val, (unsigned long)d->max, field)) {
			pr_err("option '%s' needs a whole number from %d to %.0f, got '%.*s'",
			       d->name, d->val, d->max, (int)len, tok);
			return -EINVAL;
		}
		return 0;
	case OPT_PROFILE:
		if (!eq || parse_profile(value, field)) {
			pr_err("option 'profile' must be default, dataset or shared, got '%.*s'",
			       (int)len, tok);
			return -EINVAL;
		}
		return 0;
	case OPT_PATH:
		if (!eq || value[0] != '/') {
			pr_err("option '%s' needs an absolute path, got '%.*s'", d->name, (int)len,
			       tok);
			return -EINVAL;
		}
		snprintf(field, PATH_MAX, "%s", value);
		return 0;
	case OPT_STRING:
		if (!eq || !value[0] || strlen(value) >= (size_t)d->val) {
			pr_err("option '%s' needs a value of at most %d characters", d->name,
			       d->val - 1);
			return -EINVAL;
		}
		snprintf(field, (size_t)d->val, "%s", value);
		return 0;
	case OPT_SIZE:
		if (!eq || config_parse_size(value, field)) {
			pr_err("option '%s' needs a size such as 512M or 10G, got '%.*s'", d->name,
			       (int)len, tok);
			return -EINVAL;
		}
		return 0;
	case OPT_ONOFF:
		if (!eq)
			*(int *)field = 1;
		else if (parse_onoff(value, field)) {
			pr_err("option '%s' must be on or off, got '%s'", d->name, value);
			return -EINVAL;
		}
		return 0;
	case OPT_AUTO:
		if (!eq)
			*(int *)field = CONFIG_ON;
		else if (!strcmp(value, "auto"))
			*(int *)field = CONFIG_AUTO;
		else if (parse_onoff(value, field)) {
			pr_err("option '%s' must be on, off or auto, got '%s'", d->name, value);
			return -EINVAL;
		}
		return 0;
	}
	return err;
}

int config_parse_opts(struct config *cfg, const char *opts)
{
	const char *p = opts, *comma;
	int err;

	while (p && *p) {
		comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len) {
			err = apply_opt(cfg, p, len);
			if (err)
				return err;
		}
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}


static int given(const struct config *cfg, const char *name)
{
	const struct opt_desc *d = opt_find(name, strlen(name));

	return d && (cfg->explicit_opts & (1ULL << (d - opt_table)));
}

int config_given(const struct config *cfg, const char *name)
{
	return given(cfg, name);
}

#define PRESET(cfg, field, name, value)      \
	do {                                 \
		if (!given(cfg, name))       \
			(cfg)->field = (value); \
	} while (0)

/*
 * The filesystem of @path when it is one whose changes inotify cannot all see
 * (other clients of a network or cluster filesystem, another FUSE daemon's
 * backing store), else NULL.
 */
static const char *remote_fs_name(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return NULL;
	switch ((uint32_t)st.f_type) {
	case 0x6969: return "NFS";
	case 0x00c36400: return "CephFS";
	case 0xff534d42: /* CIFS */
	case 0xfe534d42: /* SMB2 */
	case 0x517b: return "SMB";
	case 0x65735546: return "FUSE";
	case 0x01021997: return "9P";
	case 0x5346414f: /* AFS */
	case 0x6b414653: return "AFS";
	case 0x73757245: return "Coda";
	case 0x01161970: return "GFS2";
	case 0x7461636f: return "OCFS2";
	case 0x0bd00bd0: return "Lustre";
	case 0x47504653: return "GPFS";
	case 0x20030528: return "OrangeFS";
	case 0x19830326: return "FhGFS/BeeGFS";
	}
	return NULL;
}

int config_finish(struct config *cfg)
{
	switch (cfg->profile) {
	case PROFILE_DATASET:
		/* read-mostly data: cache until told otherwise; invalidation keeps it true */
		PRESET(cfg, entry_timeout_s, "entry_timeout", CONFIG_DATASET_TIMEOUT_S);
		PRESET(cfg, attr_timeout_s, "attr_timeout", CONFIG_DATASET_TIMEOUT_S);
		PRESET(cfg, negative_timeout_s, "negative_timeout", CONFIG_DATASET_TIMEOUT_S);
		PRESET(cfg, keep_cache, "keep_cache", 1);
		PRESET(cfg, cache_readdir, "cache_readdir", 1);
		/* an explicit passthrough=on wins over the preset that excludes it */
		PRESET(cfg, kernel_open, "kernel_open",
		       cfg->backend == BACKEND_LOCAL && !(given(cfg, "passthrough") && cfg->passthrough));
		/* S3: names answered from listings, no HEAD per file for modes and owners */
		PRESET(cfg, s3_posix_meta, "posix_meta", 0);
		/* S3: the files of a directory listed are fetched before the loader opens them */
		PRESET(cfg, s3_prefetch, "prefetch", 1);
		break;
	case PROFILE_SHARED:
		/* other clients change the data: trust the kernel caches briefly */
		PRESET(cfg, entry_timeout_s, "entry_timeout", CONFIG_SHARED_TIMEOUT_S);
		PRESET(cfg, attr_timeout_s, "attr_timeout", CONFIG_SHARED_TIMEOUT_S);
		PRESET(cfg, negative_timeout_s, "negative_timeout", 0);
		PRESET(cfg, keep_cache, "keep_cache", 0);
		PRESET(cfg, cache_readdir, "cache_readdir", 0);
		break;
	case PROFILE_DEFAULT:
		break;
	}
	/*
	 * Nothing pushes changes made to a bucket into the kernel: the daemon
	 * revalidates a name (HEAD/LIST) once list_ttl has passed, so the kernel
	 * must ask again by then.  list_ttl bounds the staleness of an S3 mount.
	 */
	if (cfg->backend == BACKEND_S3) {
		if (cfg->entry_timeout_s > cfg->list_ttl_s)
			cfg->entry_timeout_s = cfg->list_ttl_s;
		if (cfg->attr_timeout_s > cfg->list_ttl_s)
			cfg->attr_timeout_s = cfg->list_ttl_s;
		if (cfg->negative_timeout_s > cfg->list_ttl_s)
			cfg->negative_timeout_s = cfg->list_ttl_s;
	}
	/*
	 * inotify sees only the changes made on this machine: on a network
	 * filesystem the kernel may trust its caches only briefly, unless the
	 * user says nobody else changes the source (trust_watch=on).
	 */
	if (cfg->backend == BACKEND_LOCAL)
		cfg->remote_fs = remote_fs_name(cfg->source);
	if (cfg->remote_fs && !cfg->trust_watch) {
		if (cfg->entry_timeout_s > CONFIG_SHARED_TIMEOUT_S)
			cfg->entry_timeout_s = CONFIG_SHARED_TIMEOUT_S;
		if (cfg->attr_timeout_s > CONFIG_SHARED_TIMEOUT_S)
			cfg->attr_timeout_s = CONFIG_SHARED_TIMEOUT_S;
		cfg->negative_timeout_s = 0;
		cfg->cache_readdir = 0;
	}
	/* small files are one block each: room for two per name by default */
	if (!given(cfg, "fastpath_blocks"))
		cfg->fastpath_blocks = 2 * cfg->fastpath_entries;
	if (cfg->keep_cache < 0)
		cfg->keep_cache = cfg->attr_timeout_s > 0;
	if (cfg->kernel_open < 0)
		cfg->kernel_open = 0;
	if (cfg->kernel_open && cfg->backend != BACKEND_LOCAL) {
		/* S3 opens fetch, stage and upload: the daemon must see them */
		pr_err("option 'kernel_open' needs a local source");
		return -EINVAL;
	}
	if (cfg->kernel_open && given(cfg, "passthrough") && cfg->passthrough) {
		pr_err("options 'kernel_open' and 'passthrough' exclude each other "
		       "(opens the daemon does not see cannot pass through)");
		return -EINVAL;
	}
	/* A root daemon serving other users must let the kernel check permissions. */
	if (cfg->allow_other)
		cfg->default_permissions = 1;
	if (cfg->debug)
		cfg->foreground = 1;
	return 0;
}

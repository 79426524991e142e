/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - one option table, one immutable struct config per mount.
 *
 * Every option is accepted as `-o key[=value]` on the command line and in
 * /etc/fstab (through the mount.fuse.bpfuse helper).  config_parse() fills
 * and validates the struct; nothing else parses options.
 */
#ifndef BPFUSE_CONFIG_H
#define BPFUSE_CONFIG_H

#include <limits.h>
#include <stdio.h>

enum backend_kind { BACKEND_LOCAL, BACKEND_S3 };

/* Cache profiles: presets for the caching options (docs/profiles.md). */
enum profile { PROFILE_DEFAULT, PROFILE_DATASET, PROFILE_SHARED };

struct config {
	enum backend_kind backend;
	char source[PATH_MAX];     /* canonical absolute source directory */
	char source_spec[PATH_MAX + 8]; /* as shown in /proc/mounts, "local:/path" */
	char mountpoint[PATH_MAX]; /* canonical absolute mountpoint */

	double entry_timeout_s;    /* kernel dentry cache validity */
	double attr_timeout_s;     /* kernel attribute cache validity */
	double negative_timeout_s; /* validity of cached "no such entry" */
	unsigned int threads;      /* max worker threads of the request loop */
	int allow_other;           /* other users may use the mount */
	int default_permissions;   /* kernel checks mode bits (forced by allow_other) */
	int read_only;
	int passthrough;           /* use FUSE passthrough when the kernel offers it */
	int io_uring;              /* FUSE-over-io_uring: CONFIG_ON, CONFIG_OFF, CONFIG_AUTO */
	int debug;                 /* log every request (implies foreground) */
	int trace;                 /* count requests with BPF tracepoints when possible */
	int fastpath;              /* use the patched kernel's BPF hook when present */
	int fastpath_remote;       /* ... even on a network-filesystem source (remote_fs) */
	double fastpath_max_age_s; /* map entries' deadline after publication (0: none) */
	char fastpath_obj[PATH_MAX]; /* the fast-path BPF object ("" = next to the binary) */
	unsigned int fastpath_entries; /* max_entries of the dentry, inode and lookup maps */
	unsigned int fastpath_blocks;  /* max_entries of the block map (0: derive, 2x entries) */
	enum profile profile;
	int keep_cache;            /* keep a file's page cache across opens */
	int cache_readdir;             /* let the kernel cache directory listings */
	int invalidate;            /* push changes made behind the mount into the kernel */
	int kernel_open;           /* the kernel opens/closes files without the daemon (-1: derive) */
	int trust_watch;           /* network-fs source: keep the timeouts anyway */
	const char *remote_fs;     /* the source's network filesystem (timeouts capped unless
				      trust_watch), or NULL */
	unsigned long long explicit_opts; /* bit i: option table row i was given */
	unsigned int metrics_port; /* Prometheus text on 127.0.0.1:port; 0 = off */
	int foreground;

	/* generic mount flags handed to the kernel as they are */
	char kernel_opts[256];     /* e.g. "nosuid,nodev,noatime" */
	int fake;                  /* mount(8) helper -f: do everything but mount */
	int quiet;                 /* on success: 0 two lines, 1 the status line (helper -v), 2 none */

	/* s3://BUCKET[/PREFIX] (docs/s3.md) */
	char s3_bucket[256];
	char s3_prefix[1024];      /* "" or "some/prefix/" */
	char s3_endpoint[512];     /* -o endpoint=URL; "" = AWS_ENDPOINT_URL or AWS */
	char s3_region[64];        /* -o region=R; "" = AWS_REGION or the profile's */
	char s3_aws_profile[128];  /* -o aws_profile=NAME; "" = AWS_PROFILE, else "default" */
	char cache_dir[PATH_MAX];  /* -o cache_dir=PATH */
	unsigned long long cache_size_bytes; /* -o cache_size=SIZE */
	int s3_path_style;         /* -o path_style=on|off */
	int s3_cold_direct;        /* -o cold_direct=on|off */
	int s3_posix_meta;         /* -o posix_meta=on|off: attributes from object metadata */
	int s3_prefetch;           /* -o prefetch=on|off: listed files fetched in the background */
	unsigned int s3_prefetch_threads; /* -o prefetch_threads=N */
	unsigned long long scrub_rate_bytes; /* -o scrub_rate=SIZE per second; 0 = off */
	double list_ttl_s;         /* -o list_ttl=SEC */
	double s3_timeout_s;       /* -o s3_timeout=SEC: bound of one S3 request on a dead server */
};

/* Values of an on|off|auto option (OPT_AUTO) */
#define CONFIG_OFF 0
#define CONFIG_ON 1
#define CONFIG_AUTO (-1)

/* Defaults, in one place (documented in docs/options.md). */
#define CONFIG_DEFAULT_ENTRY_TIMEOUT_S 1.0
#define CONFIG_DEFAULT_ATTR_TIMEOUT_S 1.0
#define CONFIG_DEFAULT_NEGATIVE_TIMEOUT_S 0.0
#define CONFIG_DEFAULT_THREADS 16
#define CONFIG_MAX_THREADS 1024
#define CONFIG_MAX_TIMEOUT_S (10.0 * 365 * 24 * 3600)
/* profile=dataset: timeouts this long mean "until invalidated" */
#define CONFIG_DATASET_TIMEOUT_S (365.0 * 24 * 3600)
#define CONFIG_SHARED_TIMEOUT_S 1.0

/* fast-path map sizes (max_entries; docs/kernel-hook.md, "Map sizes") */
#define CONFIG_DEFAULT_FASTPATH_ENTRIES 65536
#define CONFIG_MIN_FASTPATH_ENTRIES 16
#define CONFIG_MAX_FASTPATH_ENTRIES (1U << 22)
#define CONFIG_MAX_FASTPATH_BLOCKS (1U << 24)

#define CONFIG_DEFAULT_CACHE_DIR "/var/cache/bpfuse"
#define CONFIG_DEFAULT_SCRUB_RATE (8ULL << 20)
#ifndef BPFUSE_BPF_DIR
#define BPFUSE_BPF_DIR "/usr/lib/bpfuse" /* set by CMake: <prefix>/lib/bpfuse */
#endif
#define CONFIG_DEFAULT_CACHE_SIZE (10ULL << 30)
#define CONFIG_DEFAULT_LIST_TTL_S 60.0
#define CONFIG_DEFAULT_S3_TIMEOUT_S 17.0
#define CONFIG_DEFAULT_PREFETCH_THREADS 8
#define CONFIG_MAX_PREFETCH_THREADS 64
#define CONFIG_MIN_S3_TIMEOUT_S 8.0
#define CONFIG_MAX_S3_TIMEOUT_S 3600.0
#define CONFIG_MIN_CACHE_SIZE (16ULL << 20) /* room for two 8 MiB parts */

void config_init(struct config *cfg);

/* "10G", "512M", "4096K", "123" -> bytes; 0 or -EINVAL. */
int config_parse_size(const char *s, unsigned long long *out);

/*
 * Parse one comma-separated option string ("a=1,b,c=x") into @cfg.
 * Returns 0 or -EINVAL after printing one line that names the bad option.
 */
int config_parse_opts(struct config *cfg, const char *opts);

/*
 * Resolve and check SOURCE ("local:/dir" or "/dir") and MOUNTPOINT.
 * Returns 0 or a negative errno after printing one clear line.
 */
int config_set_source(struct config *cfg, const char *source);
int config_set_mountpoint(struct config *cfg, const char *mountpoint);

/* Was option @name ("ro", "entry_timeout") given to config_parse_opts()? */
int config_given(const struct config *cfg, const char *name);

/*
 * After source and mountpoint, the rules between options: refuse a mount that would serve
 * or hide its own cache (a cache dir on, under or above the mountpoint, symlinks and bind
 * mounts seen through), a local source holding its own mountpoint, and S3 values that
 * cannot work (cache_size below CONFIG_MIN_CACHE_SIZE, s3_timeout below
 * CONFIG_MIN_S3_TIMEOUT_S); canonicalises cfg->cache_dir.  Returns 0 or a negative errno
 * after printing one clear line.
 */
int config_check(struct config *cfg);

/*
 * Final rules: apply the profile to every option not given explicitly,
 * allow_other => default_permissions, debug => foreground.  Returns 0, or
 * -EINVAL (said on stderr) for a combination no mount can serve.
 */
int config_finish(struct config *cfg);

/*
 * The daemon options of @cfg (everything but ro/rw, kernel flags and fstab
 * words) as one "-o" string that config_parse_opts() reads back: what a
 * running mount records for `mount -o remount`.  0 or -E2BIG.
 */
int config_format_opts(const struct config *cfg, char *buf, size_t size);

/*
 * `mount -o remount`: may @want (parsed and finished like a mount) be
 * applied to a mount running with the options @running (from
 * config_format_opts())?  Every daemon option given in @want must have the
 * running value; mount(8) passes fstab's options again, which do.
 * Returns 0, or -EINVAL after one line naming the option.
 */
int config_remount_check(const struct config *want, const char *running);

/* The option list for --help. */
void config_print_help(FILE *out);

/*
 * The same list as man(7) paragraphs, and the profiles with the values they
 * set (computed by config_finish(), so the page says what the code does).
 */
void config_print_man(FILE *out);
/* @s as roff text: backslashes and dashes escaped, no line starting a request. */
void config_man_text(FILE *out, const char *s);
void config_print_profiles_man(FILE *out);

#endif

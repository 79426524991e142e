// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - subcommands: mount, umount, stats, warmup, staging, --help, --version; and
 * the mount(8) helper personality when called as mount.fuse.bpfuse or mount.bpfuse.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "manpage.h"
#include "staging.h"
#include "stats.h"
#include "warmup.h"
#include <unistd.h>
#include <time.h>

/* how long `bpfuse umount` waits for the server to finish its uploads and exit */
#define UMOUNT_WAIT_S 30

#ifndef BPFUSE_VERSION
#define BPFUSE_VERSION "0.0.0"
#endif

/* The subcommands: --help prints the synopses, bpfuse(8) both. */
static const struct man_item cmds[] = {
	{ "mount SOURCE MOUNTPOINT [-o opt[,opt...]] [-f] [-d]",
	  "Mount SOURCE on MOUNTPOINT (an existing directory, not already a bpfuse mount). "
	  "Everything that can be checked is checked before mounting; the command returns 0 "
	  "once the kernel's first request (INIT) has been answered, so the mount is usable, "
	  "and prints what was mounted and whether passthrough and the fast path are on. On an "
	  "error it prints one line and leaves nothing mounted. -f (--foreground) keeps the "
	  "daemon in the foreground, logging to stderr; in the background it logs to syslog. "
	  "-d (--debug) is -o debug. For s3:// sources --endpoint URL, --region R, --cache-dir "
	  "DIR and --cache-size SIZE are synonyms of the -o options of the same names. "
	  "-o remount,... changes a running mount as mount -o remount does "
	  "(mount.fuse.bpfuse(8))." },
	{ "umount [--wait SECONDS] MOUNTPOINT",
	  "Unmount a bpfuse mount and wait (up to --wait seconds, default 30) for its daemon to "
	  "finish its uploads and exit, saying every 5 s on a terminal what it is still "
	  "uploading, and in one line what it left when the bound passed (exit 1). Anything "
	  "that is not a bpfuse mount is refused; a busy mount stays mounted. -w is --wait; "
	  "bpfuse unmount is the same command." },
	{ "stats MOUNTPOINT [--json | --prometheus] [--watch SECONDS]",
	  "Per-opcode counts of the requests that reached the daemon (from BPF tracepoints when "
	  "the kernel has them), their latency, and the daemon's and the fast path's counters, "
	  "as a table, one JSON object or Prometheus text; --watch repeats. With -o "
	  "metrics_port=N the daemon also serves the Prometheus text on "
	  "http://127.0.0.1:N/metrics." },
	{ "warmup MOUNTPOINT [-j THREADS] PATH... | -f LISTFILE",
	  "Read the files (directories are walked) through the mount with -j readers "
	  "(default 4), so that an S3 mount's cache holds them; LISTFILE has one path a line, "
	  "- is stdin. Exit status 1 if any file failed." },
	{ "staging list|retry|discard CACHE_DIR ...",
	  "What failed S3 uploads kept in CACHE_DIR/staging (docs/s3.md), without mounting. "
	  "list: each kept file's object, size, age, the version it replaces and its file, and "
	  "the unfinished multipart uploads. "
	  "retry [OBJECT|FILE...] [--force] [--endpoint URL] [--region R] [-o endpoint=,"
	  "region=,aws_profile=,path_style=,s3_timeout=]: upload them (all, or the named ones) "
	  "with the mount's credentials, each only if its object is still the version it "
	  "replaces (--force: anyway), remove each one uploaded, and abort the unfinished "
	  "multipart uploads a dead daemon left; one line per failure, exit 1 if any failed. "
	  "discard OBJECT|FILE... | --all: delete kept files. retry and discard refuse while a "
	  "mount uses CACHE_DIR." },
	{ "--help | --version",
	  "Print the usage and the options (also -h, bpfuse help), or the version (also -V). "
	  "--help-man bpfuse|mount.fuse.bpfuse writes that man page in man(7) macros, from "
	  "the tables that feed the parser and --help (the build makes the installed pages "
	  "with it)." },
};

/* mount(8) passes these to its helper (the parser takes exactly these letters). */
static const struct man_item helper_flags[] = {
	{ "-f", "Fake: check everything (options, source, mountpoint, metrics port), mount "
		"nothing (with remount: change nothing)." },
	{ "-n", "Do not write /etc/mtab: accepted, bpfuse keeps none." },
	{ "-s", "Sloppy: accepted." },
	{ "-v", "Verbose: print the one status line bpfuse mount prints (what was mounted, "
		"passthrough, fast path)." },
	{ "-o options", "The mount options, see MOUNT OPTIONS." },
	{ "-t type", "The type mount(8) names (fuse.bpfuse): ignored." },
};

static const struct man_item exits[] = {
	{ "0", "Success." },
	{ "1", "Failure: the mount, unmount or remount did not happen (one line on stderr "
	       "says why), or stats could not be read, or warmup could not read a file, or "
	       "staging could not upload or remove a kept file." },
	{ "2", "Usage error: an unknown subcommand or option, a bad option value." },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Is @s made of the helper's one-letter flags of helper_flags[] (-o and -t take values)? */
static int helper_letters(const char *s)
{
	size_t i;

	for (; *s; s++) {
		for (i = 0; i < N(helper_flags); i++)
			if (helper_flags[i].term[1] == *s && !helper_flags[i].term[2])
				break;
		if (i == N(helper_flags))
			return 0;
	}
	return 1;
}

static void usage(FILE *out)
{
	size_t i;

	for (i = 0; i < N(cmds); i++)
		fprintf(out, "%s bpfuse %s\n", i ? "      " : "usage:", cmds[i].term);
	fprintf(out,
		"\n"
		"SOURCE is local:/path or a directory (local disk, NFS, CephFS, ...), or\n"
		"s3://BUCKET[/PREFIX] (an S3-compatible store; see docs/s3.md) with\n"
		"  --endpoint URL, --region R, --cache-dir DIR, --cache-size SIZE\n"
		"  (synonyms of -o endpoint=, region=, cache_dir=, cache_size=).\n"
		"bpfuse mount runs in the background once the mount serves; -f keeps it in\n"
		"the foreground.  As a mount(8) helper (mount -t fuse.bpfuse, /etc/fstab) it is\n"
		"installed as /sbin/mount.fuse.bpfuse.\n"
		"\n");
	config_print_help(out);
	fprintf(out, "\nExit status:");
	for (i = 0; i < N(exits); i++)
		fprintf(out, "%s %s %.*s", i ? "," : "", exits[i].term,
			(int)strcspn(exits[i].text, ":."), exits[i].text);
	fprintf(out, ".\nDocumentation: man bpfuse, man mount.fuse.bpfuse, docs/options.md\n");
}

/* bpfuse --help-man PAGE: the man page, for the build. */
static int cmd_help_man(int argc, char **argv)
{
	const struct man_tables t = {
		.version = BPFUSE_VERSION,
		.cmds = cmds, .ncmds = N(cmds),
		.hflags = helper_flags, .nhflags = N(helper_flags),
		.exits = exits, .nexits = N(exits),
	};

	if (argc != 1 || manpage_write(stdout, argv[0], &t)) {
		pr_err("usage: bpfuse --help-man bpfuse|mount.fuse.bpfuse");
		return 2;
	}
	return fflush(stdout) ? 1 : 0;
}

/* The -o option a long flag stands for ("--cache-dir" -> "cache_dir"), or NULL. */
static const char *s3_flag_opt(const char *a)
{
	static const char *const flags[][2] = {
		{ "--endpoint", "endpoint" },
		{ "--region", "region" },
		{ "--cache-dir", "cache_dir" },
		{ "--cache-size", "cache_size" },
	};
	size_t i, n;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		n = strlen(flags[i][0]);
		if (!strncmp(a, flags[i][0], n) && (a[n] == '\0' || a[n] == '='))
			return flags[i][1];
	}
	return NULL;
}

/* Does the comma-separated @opts hold the word @word? */
static int has_word(const char *opts, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = opts; (p = strstr(p, word)); p += n)
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * Parse one -o argument.  For a remount, mount(8) hands back the mount's
 * current options from the mount table too: "remount" itself and the FUSE
 * kernel's user_id=/group_id= are dropped here, the rest is checked.
 */
static int parse_mount_opts(struct config *cfg, const char *opts, int remount)
{
	char buf[8192], *tok, *save = NULL;
	int err;

	if (!remount)
		return config_parse_opts(cfg, opts);
	if (strlen(opts) >= sizeof(buf)) {
		pr_err("option string too long");
		return -EINVAL;
	}
	strcpy(buf, opts);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "remount") || !strncmp(tok, "user_id=", 8) ||
		    !strncmp(tok, "group_id=", 9))
			continue;
		err = config_parse_opts(cfg, tok);
		if (err)
			return err;
	}
	return 0;
}

static int cmd_mount(int argc, char **argv, int helper)
{
	struct config cfg;
	const char *pos[2];
	int npos = 0, i, remount = 0, verbose = 0;

	config_init(&cfg);
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			remount |= has_word(argv[++i], "remount");
		else if (!strncmp(argv[i], "-o", 2))
			remount |= has_word(argv[i] + 2, "remount");
	}
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-o")) {
			if (++i >= argc) {
				pr_err("option -o needs an argument");
				return 2;
			}
			if (parse_mount_opts(&cfg, argv[i], remount))
				return 2;
		} else if (!strncmp(a, "-o", 2)) {
			if (parse_mount_opts(&cfg, a + 2, remount))
				return 2;
		} else if (helper && !strcmp(a, "-t")) {
			i++; /* mount(8) may name the type; we know it */
		} else if (helper && a[0] == '-' && a[1] && helper_letters(a + 1)) {
			/* mount(8)'s -s sloppy, -f fake, -n no mtab (we keep none), -v verbose */
			if (strchr(a, 'f'))
				cfg.fake = 1;
			if (strchr(a, 'v'))
				verbose = 1;
		} else if (!helper && s3_flag_opt(a)) {
			/* --endpoint URL etc.: synonyms of -o endpoint=URL */
			char opt[PATH_MAX + 64];
			const char *eq = strchr(a, '=');
			const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);

			if (!val) {
				pr_err("option '%s' needs an argument", a);
				return 2;
			}
			snprintf(opt, sizeof(opt), "%s=%s", s3_flag_opt(a), val);
			if (strchr(val, ',')) {
				pr_err("option '%s' cannot contain ','", a);
				return 2;
			}
			if (config_parse_opts(&cfg, opt))
				return 2;
		} else if (!helper && (!strcmp(a, "-f") || !strcmp(a, "--foreground"))) {
			cfg.foreground = 1;
		} else if (!helper && (!strcmp(a, "-d") || !strcmp(a, "--debug"))) {
			cfg.debug = 1;
		} else if (a[0] == '-' && a[1]) {
			pr_err("unknown option '%s' (see bpfuse --help)", a);
			return 2;
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			pr_err("unexpected argument '%s'", a);
			return 2;
		}
	}
	if (npos < 2) {
		pr_err("usage: bpfuse mount SOURCE MOUNTPOINT [-o opt,...] [-f]");
		return 2;
	}
	if (helper)
		cfg.quiet = verbose ? 1 : 2;
	if (remount) {
		/* the source only tells the backend (S3 caps the timeouts); it is not opened */
		if (!strncmp(pos[0], "s3://", 5) && config_set_source(&cfg, pos[0]))
			return 1;
		if (config_finish(&cfg))
			return 1;
		return daemon_remount(&cfg, pos[1], cfg.fake);
	}
	if (config_set_source(&cfg, pos[0]) || config_set_mountpoint(&cfg, pos[1]) ||
	    config_check(&cfg))
		return 1;
	if (config_finish(&cfg))
		return 1;
	log_set_debug(cfg.debug);
	return daemon_mount(&cfg);
}

static int cmd_stats(int argc, char **argv)
{
	enum stats_format fmt = STATS_TABLE;
	const char *mnt = NULL;
	double watch = 0;
	char path[128], *end;
	int i, err;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			fmt = STATS_JSON;
		else if (!strcmp(argv[i], "--prometheus"))
			fmt = STATS_PROMETHEUS;
		else if (!strcmp(argv[i], "--watch") && i + 1 < argc) {
			watch = strtod(argv[++i], &end);
			if (*end || !(watch > 0 && watch <= 86400)) {
				pr_err("--watch needs a number of seconds, got '%s'", argv[i]);
				return 2;
			}
		} else if (argv[i][0] != '-' && !mnt)
			mnt = argv[i];
		else {
			pr_err("usage: bpfuse stats MOUNTPOINT [--json | --prometheus] [--watch SECONDS]");
			return 2;
		}
	}
	if (!mnt) {
		pr_err("usage: bpfuse stats MOUNTPOINT [--json | --prometheus] [--watch SECONDS]");
		return 2;
	}
	if (daemon_stats_path(mnt, path, sizeof(path)))
		return 1;
	for (;;) {
		if (watch > 0 && fmt == STATS_TABLE && isatty(1))
			fputs("\033[H\033[2J", stdout);
		err = stats_fetch(path, fmt, stdout);
		if (err) {
			pr_err("cannot read stats from '%s': %s", path, strerror(-err));
			return 1;
		}
		fflush(stdout);
		if (watch <= 0)
			return 0;
		struct timespec ts = { (time_t)watch, (long)((watch - (time_t)watch) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

static int cmd_warmup(int argc, char **argv)
{
	const char *usage_line = "usage: bpfuse warmup MOUNTPOINT [-j THREADS] PATH... | -f LISTFILE";
	const char *mnt = NULL, *listfile = NULL;
	char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	int npaths = 0, threads = 4, i, ret;
	char *end;

	if (!paths)
		return 1;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-f") && i + 1 < argc) {
			listfile = argv[++i];
		} else if (!strcmp(argv[i], "-j") && i + 1 < argc) {
			threads = (int)strtol(argv[++i], &end, 10);
			if (*end || threads < 1 || threads > 64) {
				pr_err("-j needs a number of threads from 1 to 64");
				free(paths);
				return 2;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			pr_err("%s", usage_line);
			free(paths);
			return 2;
		} else if (!mnt) {
			mnt = argv[i];
		} else {
			paths[npaths++] = argv[i];
		}
	}
	if (!mnt || (!npaths && !listfile)) {
		pr_err("%s", usage_line);
		free(paths);
		return 2;
	}
	ret = warmup_run(mnt, paths, npaths, listfile, threads);
	free(paths);
	return ret;
}

int main(int argc, char **argv)
{
	const char *prog = basename(argv[0]);

	if (!strcmp(prog, "mount.fuse.bpfuse") || !strcmp(prog, "mount.bpfuse"))
		return cmd_mount(argc - 1, argv + 1, 1);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--help-man"))
		return cmd_help_man(argc - 2, argv + 2);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("bpfuse %s\n", BPFUSE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "mount"))
		return cmd_mount(argc - 2, argv + 2, 0);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc - 2, argv + 2);
	if (!strcmp(argv[1], "warmup"))
		return cmd_warmup(argc - 2, argv + 2);
	if (!strcmp(argv[1], "staging"))
		return staging_main(argc - 2, argv + 2);
	if (!strcmp(argv[1], "umount") || !strcmp(argv[1], "unmount")) {
		long wait_s = UMOUNT_WAIT_S;
		char *end;

		if (argc == 5 && (!strcmp(argv[2], "--wait") || !strcmp(argv[2], "-w"))) {
			errno = 0;
			wait_s = strtol(argv[3], &end, 10);
			if (errno || end == argv[3] || *end || wait_s < 1 || wait_s > 86400) {
				pr_err("invalid --wait '%s' (seconds, 1 to 86400)", argv[3]);
				return 2;
			}
			argv += 2;
			argc -= 2;
		}
		if (argc != 3 || (argv[2][0] == '-' && argv[2][1])) {
			pr_err("usage: bpfuse umount [--wait SECONDS] MOUNTPOINT");
			return 2;
		}
		return daemon_umount(argv[2], (int)wait_s);
	}
	pr_err("unknown command '%s' (see bpfuse --help)", argv[1]);
	return 2;
}

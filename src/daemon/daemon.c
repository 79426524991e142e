// SPDX-License-Identifier: GPL-2.0
/*
 * daemon.c - mount lifecycle.
 *
 * The order matters for "nothing half-mounted": every check that can fail is
 * done before mount(2); after it, the foreground process forks the server
 * and waits on a pipe until the server has answered INIT (the first request
 * the kernel sends), so `bpfuse mount` only returns success for a mount that
 * serves.  If the server dies before that, the parent detaches the mount.
 */
#define FUSE_USE_VERSION 317
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends.h"
#include "config.h"
#include "fastpath.h"
#include "fs.h"
#include "log.h"
#include "mountinfo.h"
#include "stats.h"
#include "trace.h"
#include "watch.h"
#include "daemon_priv.h"

static int status_fd = -1; /* write end of the pipe to the waiting parent */
static void report_init(struct fs *fs, const char *status)
{
	(void)fs;
	if (status_fd >= 0) {
		dprintf(status_fd, "%s\n", status);
		close(status_fd);
		status_fd = -1;
	} else {
		pr_info("%s", status);
	}
}

static int check_dev_fuse(void)
{
	struct stat st;
	int fd;

	if (!stat("/dev/fuse", &st) &&
	    (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 10 || minor(st.st_rdev) != 229)) {
		pr_err("/dev/fuse is not the FUSE device (character device 10:229)");
		return -ENODEV;
	}
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		pr_err("cannot open /dev/fuse: %s (is the fuse module loaded?)", strerror(-err));
		return err;
	}
	close(fd);
	return 0;
}

static int check_libfuse(void)
{
	if (fuse_version() < 318) {
		pr_err("libfuse %s is too old: bpfuse needs libfuse >= 3.18", fuse_pkgversion());
		return -ENOTSUP;
	}
	return 0;
}

/* One inode holds one O_PATH descriptor: allow as many as the system does. */
static void raise_fd_limit(void)
{
	struct rlimit lim;

	if (!getrlimit(RLIMIT_NOFILE, &lim) && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
}

static int build_args(const struct config *cfg, struct fuse_args *args)
{
	char opts[PATH_MAX + 512];
	int n;

	n = snprintf(opts, sizeof(opts), "fsname=%s,subtype=bpfuse%s%s%s%s%s",
		     cfg->source_spec, cfg->allow_other ? ",allow_other" : "",
		     cfg->default_permissions ? ",default_permissions" : "",
		     cfg->read_only ? ",ro" : "", cfg->kernel_opts[0] ? "," : "", cfg->kernel_opts);
	if (n < 0 || (size_t)n >= sizeof(opts) || strchr(cfg->source_spec, ',')) {
		pr_err("source path '%s' cannot be used as a mount name (too long or has ',')",
		       cfg->source);
		return -EINVAL;
	}
	if (fuse_opt_add_arg(args, "bpfuse") || fuse_opt_add_arg(args, "-o") ||
	    fuse_opt_add_arg(args, opts) || (cfg->debug && fuse_opt_add_arg(args, "-d")))
		return -ENOMEM;
	return 0;
}

/* The kernel's enable_uring: 1 (Y), 0 (N), or -errno (-ENOENT: no FUSE-over-io_uring). */
static int uring_switch_read(void)
{
	char c = 0;
	int fd, err;

	fd = open(URING_SWITCH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = read(fd, &c, 1) == 1 ? 0 : -EIO;
	close(fd);
	if (err)
		return err;
	return c == 'Y' || c == 'y' || c == '1';
}

static int uring_switch_on(void)
{
	int fd, err = 0;

	fd = open(URING_SWITCH, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "Y", 1) != 1)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

/*
 * Whether this process may create a ring of the kind libfuse's transport
 * uses (128-byte entries): io_uring can be disabled by sysctl
 * kernel.io_uring_disabled or a seccomp filter.  0 or -errno.
 */
static int uring_probe(void)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 };
	long fd = syscall(__NR_io_uring_setup, 2, &p);

	if (fd < 0)
		return -errno;
	close((int)fd);
	return 0;
}

/*
 * FUSE-over-io_uring is decided before mount(2): the kernel offers it in INIT
 * only when its switch is on at that moment.  The switch is system-wide, so
 * only io_uring=on turns it on; auto uses it when someone else did.  Returns
 * 1 to ask libfuse for the transport, else 0 with the reason in fs->uring_why.
 */
static int uring_setup(struct fs *fs, const struct config *cfg)
{
	int on, err;

	if (cfg->io_uring == CONFIG_OFF) {
		snprintf(fs->uring_why, sizeof(fs->uring_why), "off by option");
		return 0;
	}
	on = uring_switch_read();
	if (on == -ENOENT) {
		snprintf(fs->uring_why, sizeof(fs->uring_why),
			 "the kernel has no FUSE-over-io_uring (needs Linux >= 6.14 with "
			 "CONFIG_FUSE_IO_URING; no %s)", URING_SWITCH);
		return 0;
	}
	if (on < 0) {
		snprintf(fs->uring_why, sizeof(fs->uring_why), "cannot read %s: %s", URING_SWITCH,
			 strerror(-on));
		return 0;
	}
	/*
	 * libfuse runs each ring's requests in its one thread, one at a time:
	 * a mount serves as many requests at once as there are CPUs, where the
	 * /dev/fuse loop has up to `threads` workers.  An S3 request waits on
	 * the network, so auto keeps S3 mounts on /dev/fuse.
	 */
	if (cfg->io_uring == CONFIG_AUTO && cfg->backend == BACKEND_S3) {
		snprintf(fs->uring_why, sizeof(fs->uring_why),
			 "auto does not use it for S3 mounts (its queues serve one request per "
			 "CPU at a time, and S3 requests wait on the network; io_uring=on does)");
		return 0;
	}
	err = uring_probe();
	if (err) {
		snprintf(fs->uring_why, sizeof(fs->uring_why),
			 "cannot create an io_uring: %s (sysctl kernel.io_uring_disabled?)",
			 strerror(-err));
		return 0;
	}
	if (!on && cfg->io_uring == CONFIG_AUTO) {
		snprintf(fs->uring_why, sizeof(fs->uring_why),
			 "the kernel's switch %s is N; -o io_uring=on turns it on system-wide",
			 URING_SWITCH);
		return 0;
	}
	if (!on && !cfg->fake) {
		err = uring_switch_on();
		if (err) {
			snprintf(fs->uring_why, sizeof(fs->uring_why), "cannot turn on %s: %s",
				 URING_SWITCH, strerror(-err));
			return 0;
		}
		fs->uring_switched_on = 1;
	}
	return 1;
}

void daemon_runtime_path(char *buf, size_t size, uint32_t conn, const char *ext)
{
	snprintf(buf, size, "%s/%u.%s", BPFUSE_RUNTIME_DIR, conn, ext);
}

struct runtime {
	char pidfile[128];
	char sockfile[128];
	char optsfile[128];
	/*
	 * Who they are: a daemon ends after its connection, whose id (and so
	 * these names) a new mount may have taken already; it removes only
	 * files that are still its own.  The inode number alone does not tell
	 * (ext4 gives a new file the number just freed): with the change time.
	 */
	struct runtime_id {
		ino_t ino;
		struct timespec ctime;
	} pid_id, sock_id, opts_id;
	int metrics_fd;            /* the metrics listener until the stats server owns it */
	struct stats_server *stats;
};

/*
 * BPFUSE_RUNTIME_DIR holds the stats sockets, which answer anyone who can
 * reach them: it must be a directory of ours, closed to everyone else.  A
 * directory left wider (by hand, by an older version) is closed again; one
 * that is not ours, or a symlink, is not used.  0 or -errno after a warning.
 */
static int runtime_dir_check(void)
{
	struct stat st;
	int err;

	if (mkdir(BPFUSE_RUNTIME_DIR, 0700) && errno != EEXIST)
		goto fail;
	if (lstat(BPFUSE_RUNTIME_DIR, &st))
		goto fail;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		pr_warn("'%s' is not a directory owned by uid %d; no stats", BPFUSE_RUNTIME_DIR,
			(int)geteuid());
		return -EPERM;
	}
	if ((st.st_mode & 077) && chmod(BPFUSE_RUNTIME_DIR, 0700))
		goto fail;
	return 0;
fail:
	err = -errno;
	pr_warn("cannot use '%s': %s; no stats", BPFUSE_RUNTIME_DIR, strerror(-err));
	return err;
}

/* A new file at @path (never the one a previous daemon still has).  fd or -1. */
static int runtime_file_create(const char *path, mode_t mode)
{
	unlink(path);
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
}

/* Note who the file at @path is, once written; "" in @path when it cannot be told. */
static void runtime_file_note(char *path, struct runtime_id *id)
{
	struct stat st;

	if (lstat(path, &st)) {
		path[0] = '\0';
		return;
	}
	id->ino = st.st_ino;
	id->ctime = st.st_ctim;
}

static void runtime_file_remove(const char *path, const struct runtime_id *id)
{
	struct stat st;

	if (path[0] && !lstat(path, &st) && st.st_ino == id->ino &&
	    st.st_ctim.tv_sec == id->ctime.tv_sec && st.st_ctim.tv_nsec == id->ctime.tv_nsec)
		unlink(path);
}

/* Record the daemon options for `mount -o remount` (daemon_runtime_opts_read()). */
void daemon_runtime_opts_write(const struct config *cfg, struct runtime *rt, uint32_t conn)
{
	char opts[PATH_MAX * 2];
	int fd;

	if (config_format_opts(cfg, opts, sizeof(opts)))
		return;
	daemon_runtime_path(rt->optsfile, sizeof(rt->optsfile), conn, "opts");
	fd = runtime_file_create(rt->optsfile, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", opts) < 0) {
		pr_warn("cannot record the options in '%s': %s", rt->optsfile, strerror(errno));
		if (fd >= 0)
			unlink(rt->optsfile);
		rt->optsfile[0] = '\0';
	}
	if (fd >= 0) {
		close(fd);
		runtime_file_note(rt->optsfile, &rt->opts_id);
	}
}

/*
 * In the server, once mounted: learn the connection id, record our pid,
 * attach BPF tracing to the connection and serve stats.  None of it is
 * fatal: the mount serves without it, and the stats say what is missing.
 */
static void runtime_start(struct fs *fs, const struct config *cfg, struct runtime *rt)
{
	char closing[32];
	dev_t dev;
	int fd, err;

	if (mountinfo_find_bpfuse(cfg->mountpoint, &dev) <= 0) {
		pr_warn("cannot find the new mount in the mount table; no stats");
		snprintf(fs->trace_why, sizeof(fs->trace_why),
			 "the mount's connection id is unknown (not in the mount table)");
		return;
	}
	fs->conn = minor(dev);
	if (runtime_dir_check())
		return;
	daemon_runtime_path(rt->pidfile, sizeof(rt->pidfile), fs->conn, "pid");
	fd = runtime_file_create(rt->pidfile, 0600);
	if (fd >= 0) {
		dprintf(fd, "%d\n", (int)getpid());
		close(fd);
		runtime_file_note(rt->pidfile, &rt->pid_id);
	} else {
		rt->pidfile[0] = '\0';
	}
	daemon_runtime_opts_write(cfg, rt, fs->conn);
	if (cfg->trace) {
		err = trace_open(&fs->trace, fs->conn, fs->trace_why, sizeof(fs->trace_why));
		if (err)
			pr_warn("BPF request tracing off: %s", fs->trace_why);
	} else {
		snprintf(fs->trace_why, sizeof(fs->trace_why), "off by option");
	}
	/*
	 * The unmount's progress is written after the connection is gone, when a new mount
	 * may have its id (and unlink "<conn>.closing" at its start): named by pid as well.
	 */
	snprintf(closing, sizeof(closing), "%d.closing", (int)getpid());
	daemon_runtime_path(fs->be.progress_path, sizeof(fs->be.progress_path), fs->conn, closing);
	unlink(fs->be.progress_path);
	daemon_runtime_path(rt->sockfile, sizeof(rt->sockfile), fs->conn, "sock");
	err = stats_server_start(fs, rt->sockfile, rt->metrics_fd, &rt->stats);
	rt->metrics_fd = -1;
	if (err) {
		pr_warn("cannot serve stats: %s", strerror(-err));
		rt->sockfile[0] = '\0';
	} else {
		runtime_file_note(rt->sockfile, &rt->sock_id);
	}
}

/*
 * The fast-path object: -o fastpath_obj, else bpf/fastpath.bpf.o beside the
 * binary (a build tree), else the installed BPFUSE_BPF_DIR/fastpath.bpf.o.
 */
static void fastpath_obj_path(const struct config *cfg, char *buf, size_t size)
{
	char exe[PATH_MAX - 32];
	ssize_t n;

	if (cfg->fastpath_obj[0]) {
		snprintf(buf, size, "%s", cfg->fastpath_obj);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		snprintf(buf, size, "%s/bpf/fastpath.bpf.o", exe);
		if (!access(buf, R_OK))
			return;
	}
	snprintf(buf, size, "%s/fastpath.bpf.o", BPFUSE_BPF_DIR);
}

/*
 * On a kernel with the FUSE BPF hook, answer LOOKUP/GETATTR/READ in the
 * kernel.  Elsewhere the mount runs as on any stock kernel; the INIT status
 * line says which, once.
 */
static void fastpath_start(struct fs *fs, const struct config *cfg, struct fuse_session *se)
{
	char obj[PATH_MAX];

	if (!cfg->fastpath) {
		snprintf(fs->fastpath_why, sizeof(fs->fastpath_why), "off by option");
		return;
	}
	/*
	 * The maps never expire, and inotify sees no other client of a network
	 * filesystem: their changes would stay invisible for good.
	 */
	if (cfg->remote_fs && !cfg->fastpath_remote) {
		snprintf(fs->fastpath_why, sizeof(fs->fastpath_why),
			 "the source is on %s, whose other clients' changes the watcher cannot see "
			 "(fastpath_remote=on accepts that)", cfg->remote_fs);
		return;
	}
	if (!fastpath_probe(fs->fastpath_why, sizeof(fs->fastpath_why)))
		return;
	/*
	 * BPF answers from the maps until the daemon deletes an entry, so a
	 * change made behind the mount would stay invisible for good, not just
	 * for a timeout: without the watcher there is no fast path.
	 */
	if (cfg->backend != BACKEND_LOCAL && !fs->be.ops->fastpath_check) {
		snprintf(fs->fastpath_why, sizeof(fs->fastpath_why),
			 "the %s backend does not report changes to the maps yet", fs->be.ops->name);
		return;
	}
	/*
	 * A backend with deadlines (S3: list_ttl) gives every value published
	 * the moment it would revalidate the node; at list_ttl=0 it revalidates
	 * every request, and the kernel could answer none.
	 */
	if (fs->be.ops->fastpath_check && cfg->list_ttl_s <= 0) {
		snprintf(fs->fastpath_why, sizeof(fs->fastpath_why),
			 "list_ttl=0 revalidates every request with the store");
		return;
	}
	if (!fs->watch && !fs->be.ops->fastpath_check) {
		snprintf(fs->fastpath_why, sizeof(fs->fastpath_why),
			 "it needs the source watcher (invalidate=on and inotify) to stay "
			 "coherent with changes made behind the mount");
		return;
	}
	fastpath_obj_path(cfg, obj, sizeof(obj));
	if (fastpath_open(&fs->ks, obj, fuse_session_fd(se), fs->conn, cfg->entry_timeout_s,
			cfg->attr_timeout_s, cfg->fastpath_max_age_s, cfg->fastpath_entries,
			cfg->fastpath_blocks,
			fs->fastpath_why, sizeof(fs->fastpath_why)))
		pr_warn("in-kernel fast path off: %s", fs->fastpath_why);
}

static void runtime_stop(struct fs *fs, struct runtime *rt)
{
	stats_server_stop(rt->stats);
	rt->stats = NULL;
	if (rt->metrics_fd >= 0)
		close(rt->metrics_fd);
	rt->metrics_fd = -1;
	runtime_file_remove(rt->pidfile, &rt->pid_id);
	runtime_file_remove(rt->sockfile, &rt->sock_id);
	runtime_file_remove(rt->optsfile, &rt->opts_id);
	trace_close(fs->trace);
	fs->trace = NULL;
}

/* Parent side: wait for the server's INIT status line, or its death. */
static int wait_for_server(const struct config *cfg, pid_t child, int fd)
{
	char line[512];
	size_t len = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	time_t deadline = time(NULL) + INIT_WAIT_S;

	while (len < sizeof(line) - 1) {
		int left = (int)(deadline - time(NULL));
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left * 1000) <= 0)
			break;
		n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(line, '\n', len))
			break;
	}
	close(fd);
	line[len] = '\0';
	if (len && line[len - 1] == '\n') {
		line[len - 1] = '\0';
		/* a mount(8) helper says nothing on success; -v: the status line */
		if (cfg->quiet < 2)
			fprintf(stderr, "bpfuse: %s\n", line);
		if (!cfg->quiet)
			fprintf(stderr, "bpfuse: unmount with: bpfuse umount %s\n",
				cfg->mountpoint);
		return 0;
	}
	pr_err("the filesystem server did not start; nothing was mounted");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (mountinfo_is_bpfuse(cfg->mountpoint) > 0)
		umount2(cfg->mountpoint, MNT_DETACH);
	return 1;
}

int daemon_mount(const struct config *cfg)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop = NULL;
	struct fuse_session *se = NULL;
	struct runtime rt;
	struct fs fs;
	char closing[128];
	int pipefd[2] = { -1, -1 };
	int err, ret = 1;
	pid_t pid;

	log_hook_libfuse();
	if (check_libfuse() || check_dev_fuse())
		return 1;
	raise_fd_limit();
	/*
	 * A stats or metrics client that hangs up must never kill the daemon;
	 * before any socket exists (libfuse ignores SIGPIPE only once it serves).
	 */
	signal(SIGPIPE, SIG_IGN);
	umask(0); /* the kernel applied the caller's umask already */
	memset(&rt, 0, sizeof(rt));
	rt.metrics_fd = -1;
	err = fs_init(&fs, cfg, backends_driver(cfg));
	if (err)
		return 1;
	fs.on_init = report_init;
	err = build_args(cfg, &args);
	if (err)
		goto out_fs;
	fs.uring_want = uring_setup(&fs, cfg);
	if (fs.uring_want && fuse_opt_add_arg(&args, "-oio_uring")) {
		pr_err("out of memory");
		goto out_args;
	}
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &fs);
	if (!se) {
		pr_err("cannot create the FUSE session");
		goto out_args;
	}
	fs.se = se;
	/* a metrics port in use is a mount error, found before mount(2) */
	if (cfg->metrics_port) {
		rt.metrics_fd = stats_listen_metrics(cfg->metrics_port);
		if (rt.metrics_fd < 0) {
			pr_err("cannot listen on 127.0.0.1:%u (metrics_port): %s", cfg->metrics_port,
			       strerror(-rt.metrics_fd));
			rt.metrics_fd = -1;
			goto out_session;
		}
	}
	if (cfg->fake) {
		ret = 0;
		goto out_metrics;
	}
	if (cfg->remote_fs && !cfg->trust_watch)
		pr_warn("source '%s' is on %s: changes made by other clients are not seen, so "
			"the kernel caches for at most %g s (trust_watch=on keeps the timeouts)",
			cfg->source, cfg->remote_fs, CONFIG_SHARED_TIMEOUT_S);
	if (!cfg->foreground && pipe2(pipefd, O_CLOEXEC)) {
		pr_err("cannot create a pipe: %s", strerror(errno));
		goto out_metrics;
	}
	if (fuse_session_mount(se, cfg->mountpoint)) {
		pr_err("cannot mount on '%s'", cfg->mountpoint);
		goto out_pipe;
	}
	if (!cfg->foreground) {
		pid = fork();
		if (pid < 0) {
			pr_err("cannot fork: %s", strerror(errno));
			fuse_session_unmount(se);
			goto out_pipe;
		}
		if (pid > 0) {
			close(pipefd[1]);
			if (rt.metrics_fd >= 0)
				close(rt.metrics_fd);
			/*
			 * The child owns the session, the backend and the inodes now: the
			 * parent neither unmounts nor frees them (closing the backend would
			 * drop locks and files whose open file descriptions the child
			 * shares), it exits as libfuse's fuse_daemonize() does, without the
			 * exit handlers (LeakSanitizer's among them: nothing of this is a
			 * leak).
			 */
			ret = wait_for_server(cfg, pid, pipefd[0]);
			fflush(NULL);
			_exit(ret);
		}
		close(pipefd[0]);
		status_fd = pipefd[1];
		pipefd[0] = pipefd[1] = -1;
		setsid();
		if (chdir("/"))
			(void)0;
		int nullfd = open("/dev/null", O_RDWR);

		if (nullfd >= 0) {
			dup2(nullfd, 0);
			dup2(nullfd, 1);
			dup2(nullfd, 2);
			if (nullfd > 2)
				close(nullfd);
		}
		log_use_syslog();
	}
	runtime_start(&fs, cfg, &rt);
	watch_start(&fs);
	fastpath_start(&fs, cfg, se);
	if (fuse_set_signal_handlers(se)) {
		pr_err("cannot install signal handlers");
		goto out_unmount;
	}
	loop = fuse_loop_cfg_create();
	if (!loop)
		goto out_signals;
	fuse_loop_cfg_set_max_threads(loop, cfg->threads);
	fuse_loop_cfg_set_clone_fd(loop, 0);
	ret = fuse_session_loop_mt(se, loop) ? 1 : 0;
	fuse_loop_cfg_destroy(loop);
	watch_stop(&fs);
	if (fs.be.ops && fs.be.ops->stop)
		fs.be.ops->stop(&fs.be);
	fastpath_close(fs.ks);
	fs.ks = NULL;
out_signals:
	fuse_remove_signal_handlers(se);
out_unmount:
	fuse_session_unmount(se);
	runtime_stop(&fs, &rt);
out_pipe:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (status_fd >= 0)
		close(status_fd);
out_metrics:
	if (rt.metrics_fd >= 0)
		close(rt.metrics_fd);
out_session:
	fuse_session_destroy(se);
	fs.se = NULL; /* freeing the inodes below sends the kernel nothing */
out_args:
	fuse_opt_free_args(&args);
out_fs:
	snprintf(closing, sizeof(closing), "%s", fs.be.progress_path);
	fs_release(&fs);
	if (closing[0])
		unlink(closing);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * daemon_control.c - commands on a running mount: its pid file, `bpfuse umount` (with
 * --wait and the progress the daemon reports), `mount -o remount`, the stats socket path.
 */
#include "daemon_priv.h"

static pid_t pidfile_read(dev_t dev)
{
	char path[128];
	int pid = 0;
	FILE *f;

	daemon_runtime_path(path, sizeof(path), minor(dev), "pid");
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid;
}

int daemon_stats_path(const char *mountpoint, char *path, size_t size)
{
	char *real = realpath(mountpoint, NULL);
	dev_t dev;
	int r;

	if (!real) {
		pr_err("cannot resolve mountpoint '%s': %s", mountpoint, strerror(errno));
		return -errno;
	}
	r = mountinfo_find_bpfuse(real, &dev);
	if (r <= 0) {
		pr_err("'%s' is not a bpfuse mount", real);
		free(real);
		return -EINVAL;
	}
	free(real);
	daemon_runtime_path(path, size, minor(dev), "sock");
	return 0;
}

/*
 * Wait until process @pid has exited: 1 when it has, 0 after @timeout_s.  An exited
 * daemon is a zombie until its parent (init, once `bpfuse mount` returned) reaps it, which
 * can take seconds, and kill(pid, 0) still finds a zombie: a pidfd becomes readable at
 * exit, and without pidfds (Linux < 5.3) /proc/PID/stat says 'Z'.
 */
static int wait_exit(pid_t pid, int timeout_s)
{
	char path[64], buf[256], *p;
	struct pollfd pfd;
	int fd, i, n;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, timeout_s * 1000);
		close(fd);
		return n == 1;
	}
	if (errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (i = 0; i < timeout_s * 10; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 1;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		p = strrchr(buf, ')');
		if (n <= 0 || (p && (p[2] == 'Z' || p[2] == 'X')))
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

/* What the server @pid still has to do (its progress file), or "" */
static void read_progress(dev_t dev, pid_t pid, char *buf, size_t size)
{
	char path[128], closing[32];
	ssize_t n = 0;
	int fd;

	snprintf(closing, sizeof(closing), "%d.closing", (int)pid);
	daemon_runtime_path(path, sizeof(path), minor(dev), closing);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

int daemon_umount(const char *mountpoint, int wait_s)
{
	char *real = realpath(mountpoint, NULL);
	char progress[1024];
	int waited = 0;
	dev_t dev;
	pid_t pid;

	if (!real) {
		pr_err("cannot resolve mountpoint '%s': %s", mountpoint, strerror(errno));
		return 1;
	}
	if (mountinfo_find_bpfuse(real, &dev) <= 0) {
		pr_err("'%s' is not a bpfuse mount", real);
		free(real);
		return 1;
	}
	pid = pidfile_read(dev);
	if (umount2(real, 0)) {
		pr_err("cannot unmount '%s': %s", real, strerror(errno));
		free(real);
		return 1;
	}
	free(real);
	/*
	 * The server sees the connection end, finishes (S3: uploads what is still staged)
	 * and exits; wait so callers can rely on it, saying what it is doing meanwhile.
	 */
	while (pid > 0 && !wait_exit(pid, wait_s - waited < 5 ? wait_s - waited : 5)) {
		waited += wait_s - waited < 5 ? wait_s - waited : 5;
		read_progress(dev, pid, progress, sizeof(progress));
		if (waited >= wait_s) {
			pr_err("unmounted, but the server (pid %d) has not exited after %d s%s%s; "
			       "it goes on in the background", (int)pid, waited,
			       progress[0] ? ": " : "", progress);
			return 1;
		}
		/* progress for a person; a script's log gets the one line of the outcome */
		if (progress[0] && isatty(STDERR_FILENO))
			fprintf(stderr, "bpfuse: waiting for the server (%d s of %d): %s\n", waited,
				wait_s, progress);
	}
	return 0;
}

/* The options the daemon of connection @conn recorded (daemon_runtime_opts_write()), or "". */
void daemon_runtime_opts_read(uint32_t conn, char *buf, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	daemon_runtime_path(path, sizeof(path), conn, "opts");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* One generic flag word of -o onto MS_* @flags; 0, or -EINVAL when it is none. */
static int remount_flag(const char *w, size_t len, unsigned long *flags)
{
	static const struct {
		const char *name;
		unsigned long set, clear;
	} words[] = {
		{ "nosuid", MS_NOSUID, 0 },      { "suid", 0, MS_NOSUID },
		{ "nodev", MS_NODEV, 0 },        { "dev", 0, MS_NODEV },
		{ "noexec", MS_NOEXEC, 0 },      { "exec", 0, MS_NOEXEC },
		{ "sync", MS_SYNCHRONOUS, 0 },   { "async", 0, MS_SYNCHRONOUS },
		{ "dirsync", MS_DIRSYNC, 0 },
		{ "nodiratime", MS_NODIRATIME, 0 },
		{ "noatime", MS_NOATIME, MS_RELATIME | MS_STRICTATIME },
		{ "relatime", MS_RELATIME, MS_NOATIME | MS_STRICTATIME },
		{ "strictatime", MS_STRICTATIME, MS_NOATIME | MS_RELATIME | MS_NODIRATIME },
		{ "atime", 0, MS_NOATIME },
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].name) == len && !strncmp(w, words[i].name, len)) {
			*flags = (*flags & ~words[i].clear) | words[i].set;
			return 0;
		}
	}
	return -EINVAL;
}

int daemon_remount(const struct config *want, const char *mountpoint, int fake)
{
	char *real = realpath(mountpoint, NULL), running[PATH_MAX * 2];
	unsigned long flags = 0;
	const char *p, *comma;
	struct statvfs sv;
	dev_t dev;
	int ret = 1;

	if (!real) {
		pr_err("cannot resolve mountpoint '%s': %s", mountpoint, strerror(errno));
		return 1;
	}
	if (mountinfo_find_bpfuse(real, &dev) <= 0) {
		pr_err("cannot remount '%s': not a bpfuse mount", real);
		goto out;
	}
	daemon_runtime_opts_read(minor(dev), running, sizeof(running));
	if (config_remount_check(want, running))
		goto out;
	/* start from the mount's flags: a word not given keeps its state */
	if (statvfs(real, &sv)) {
		pr_err("cannot remount '%s': statvfs: %s", real, strerror(errno));
		goto out;
	}
	flags |= (sv.f_flag & ST_RDONLY) ? MS_RDONLY : 0;
	flags |= (sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
	flags |= (sv.f_flag & ST_NODEV) ? MS_NODEV : 0;
	flags |= (sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
	flags |= (sv.f_flag & ST_SYNCHRONOUS) ? MS_SYNCHRONOUS : 0;
	flags |= (sv.f_flag & ST_NOATIME) ? MS_NOATIME : 0;
	flags |= (sv.f_flag & ST_NODIRATIME) ? MS_NODIRATIME : 0;
	flags |= (sv.f_flag & ST_RELATIME) ? MS_RELATIME : 0;
	if (config_given(want, "ro") || config_given(want, "rw"))
		flags = want->read_only ? flags | MS_RDONLY : flags & ~MS_RDONLY;
	for (p = want->kernel_opts; *p; p = comma ? comma + 1 : p + strlen(p)) {
		comma = strchr(p, ',');
		if (remount_flag(p, comma ? (size_t)(comma - p) : strlen(p), &flags)) {
			pr_err("cannot remount '%s': flag '%.*s' cannot be changed", real,
			       (int)(comma ? (size_t)(comma - p) : strlen(p)), p);
			goto out;
		}
		if (!comma)
			break;
	}
	if (fake) {
		ret = 0;
		goto out;
	}
	if (mount(NULL, real, NULL, MS_REMOUNT | flags, NULL)) {
		if (errno == EBUSY && (flags & MS_RDONLY))
			pr_err("cannot remount '%s' read-only: files on it are open for writing",
			       real);
		else
			pr_err("cannot remount '%s': %s", real, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(real);
	return ret;
}

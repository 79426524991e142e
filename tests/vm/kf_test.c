// SPDX-License-Identifier: GPL-2.0
/*
 * kf_test: every refusal of the FUSE BPF kfuncs and of the hook
 * (kernel-patches/6.12), in the guest.
 *
 * A raw /dev/fuse server thread (no libfuse) serves a tiny tree and counts
 * the requests that reach it.  tests/vm/bpf/kf_test.bpf.c is attached to the
 * connection; for each case userspace puts a kfunc and its arguments in the
 * program's globals, makes the kernel send one request, and asserts the
 * kfunc's return value, that the request then reached the server (or, for the
 * positive controls, that it did not) and that the caller got the server's
 * answer, not one built from the bad input.  Programs the verifier must
 * refuse (tests/vm/bpf/kf_bad_*.bpf.c) are loaded expecting failure.
 * docs/kernel-hook.md ("Refusal tests") maps each check to the patch.
 *
 * Prints "ok N - ..." / "not ok N - ..."; exits 0 only if all passed.
 * Usage: kf_test DATA_DIR MOUNTPOINT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include <linux/fuse.h>	/* the patched kernel's uapi header */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kf_test.skel.h"
#include "kf_bad_store.skel.h"
#include "kf_bad_size.skel.h"
#include "kf_bad_req.skel.h"
#include "kf_bad_req_map.skel.h"
#include "kf_bad_req_cast.skel.h"
#include "kf_bad_req_off.skel.h"
#include "kf_bad_sleep.skel.h"
#include "kf_bad_prog.skel.h"
#include "kf_bad_syscall.skel.h"
#include "kf_bad_ops.skel.h"
#include "kf_other_link.skel.h"
#include "bpfuse/fuse_bpf_link.h"

#define TAP_PROG "kf_test"
#include "tap.h"

/* kf_test.bpf.c's kfunc selectors */
enum { KF_NONE, KF_READ_IN_4, KF_READ_IN_64, KF_NAME_8, KF_NAME_9, KF_ENTRY,
       KF_ENTRY_SHORT, KF_ENTRY_LONG, KF_ATTR, KF_ATTR_SHORT, KF_ATTR_LONG, KF_READ,
       KF_OPEN, KF_OPEN_SHORT, KF_OPEN_LONG, KF_ERROR };

/* The cookies the connections are bound with */
#define COOKIE_A	0xc0ffee0000000001ull
#define COOKIE_B	0xc0ffee00000000b2ull

#define FSIZE		8192
#define BUF_SIZE	(1u << 20)
#define NSEC		1000000000u

/* nodeids: 1 root, 2 /eightchr (file), 3 /sub (dir), 4 /sub/inner, 5 /wfile */
struct node {
	uint64_t nodeid, parent;
	const char *name;
	mode_t mode;
	int fd;
};

struct srv {
	int fd;
	const char *mnt;
	unsigned int minor;
	pthread_mutex_t lock;
	uint64_t ops[64];
	uint64_t read_fh, flush_fh;	/* fh of the last READ, FLUSH */
	pthread_t thr;
};

static struct node nodes[] = {
	{ 2, 1, "eightchr", S_IFREG | 0644, -1 },
	{ 3, 1, "sub", S_IFDIR | 0755, -1 },
	{ 4, 3, "inner", S_IFREG | 0644, -1 },
	{ 5, 1, "wfile", S_IFREG | 0666, -1 },
};
#define NR_NODES (sizeof(nodes) / sizeof(nodes[0]))

static const char *data_dir;
static char content[FSIZE];

/* ---- server ---- */

static struct node *node_get(uint64_t nodeid)
{
	unsigned int i;

	for (i = 0; i < NR_NODES; i++)
		if (nodes[i].nodeid == nodeid)
			return &nodes[i];
	return NULL;
}

static void fill_attr(struct fuse_attr *a, uint64_t nodeid)
{
	struct node *nd = node_get(nodeid);

	memset(a, 0, sizeof(*a));
	a->ino = nodeid;
	a->mode = nd ? nd->mode : S_IFDIR | 0755;
	a->nlink = S_ISDIR(a->mode) ? 2 : 1;
	a->size = nd && S_ISREG(nd->mode) ? FSIZE : 0;
	a->blocks = a->size / 512;
	a->blksize = 4096;
	a->mtime = a->ctime = a->atime = 1700000000;
}

static void reply(struct srv *s, uint64_t unique, int err, const void *data, size_t len)
{
	struct fuse_out_header oh = {
		.len = sizeof(oh) + (err ? 0 : len), .error = err, .unique = unique,
	};
	struct iovec iov[2] = { { &oh, sizeof(oh) }, { (void *)data, err ? 0 : len } };

	if (writev(s->fd, iov, 2) < 0 && errno != ENOENT)
		fprintf(stderr, "kf_test: reply: %s\n", strerror(errno));
}

static void serve_one(struct srv *s, const char *buf, size_t len)
{
	const struct fuse_in_header *ih = (const void *)buf;
	const void *arg = buf + sizeof(*ih);
	struct node *nd;
	unsigned int i;

	if (len < sizeof(*ih))
		return;
	pthread_mutex_lock(&s->lock);
	if (ih->opcode < 64)
		s->ops[ih->opcode]++;
	pthread_mutex_unlock(&s->lock);

	switch (ih->opcode) {
	case FUSE_INIT: {
		const struct fuse_init_in *in = arg;

		if (!s->minor) { /* refuse INIT: the kernel sets fc->conn_error */
			reply(s, ih->unique, -EPROTO, NULL, 0);
			break;
		}
		{
		struct fuse_init_out out = {
			.major = FUSE_KERNEL_VERSION, .minor = s->minor,
			.max_readahead = in->max_readahead,
			.max_background = 16, .congestion_threshold = 12,
			.max_write = 1 << 16, .time_gran = 1, .max_pages = 32,
			.max_stack_depth = 1,
		};

		if (s->minor >= 9) {
			/* ATOMIC_O_TRUNC: O_TRUNC reaches FUSE_OPEN's flags */
			out.flags = FUSE_BIG_WRITES | FUSE_MAX_PAGES | FUSE_INIT_EXT |
				    FUSE_ATOMIC_O_TRUNC;
			out.flags2 = (uint32_t)(FUSE_PASSTHROUGH >> 32);
		}
		/* protocol 7.8 has the 8-byte-shorter fuse_init_out of old */
		reply(s, ih->unique, 0, &out, s->minor >= 23 ? sizeof(out) : FUSE_COMPAT_INIT_OUT_SIZE);
		}
		break;
	}
	case FUSE_LOOKUP: {
		struct fuse_entry_out out = { 0 };

		nd = NULL;
		for (i = 0; i < NR_NODES; i++)
			if (nodes[i].parent == ih->nodeid && !strcmp(nodes[i].name, arg))
				nd = &nodes[i];
		if (!nd) {
			reply(s, ih->unique, -ENOENT, NULL, 0);
			break;
		}
		out.nodeid = nd->nodeid;
		out.generation = 1;
		fill_attr(&out.attr, nd->nodeid);
		reply(s, ih->unique, 0, &out, s->minor >= 9 ? sizeof(out) : FUSE_COMPAT_ENTRY_OUT_SIZE);
		break;
	}
	case FUSE_GETATTR: {
		struct fuse_attr_out out = { 0 };

		fill_attr(&out.attr, ih->nodeid);
		reply(s, ih->unique, 0, &out, s->minor >= 9 ? sizeof(out) : FUSE_COMPAT_ATTR_OUT_SIZE);
		break;
	}
	case FUSE_OPEN:
	case FUSE_OPENDIR: {
		struct fuse_open_out out = { .fh = ih->nodeid };

		reply(s, ih->unique, 0, &out, sizeof(out));
		break;
	}
	case FUSE_READ: {
		const struct fuse_read_in *in = arg;
		static char data[BUF_SIZE];
		size_t n = 0;

		pthread_mutex_lock(&s->lock);
		s->read_fh = in->fh;
		pthread_mutex_unlock(&s->lock);
		if (in->size > sizeof(data)) {
			reply(s, ih->unique, -EIO, NULL, 0);
			break;
		}
		if (in->offset < FSIZE)
			n = in->size < FSIZE - in->offset ? in->size : FSIZE - in->offset;
		memcpy(data, content + (n ? in->offset : 0), n);
		reply(s, ih->unique, 0, data, n);
		break;
	}
	case FUSE_WRITE: {
		const struct fuse_write_in *in = arg;
		struct fuse_write_out out = { .size = in->size };

		reply(s, ih->unique, 0, &out, sizeof(out));
		break;
	}
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		break;
	case FUSE_FLUSH: {
		const struct fuse_flush_in *in = arg;

		pthread_mutex_lock(&s->lock);
		s->flush_fh = in->fh;
		pthread_mutex_unlock(&s->lock);
		reply(s, ih->unique, 0, NULL, 0);
		break;
	}
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_DESTROY:
		reply(s, ih->unique, 0, NULL, 0);
		break;
	case FUSE_IOCTL:	/* no terminals here */
		reply(s, ih->unique, -ENOTTY, NULL, 0);
		break;
	default:
		reply(s, ih->unique, -ENOSYS, NULL, 0);
		break;
	}
}

static void *server_thread(void *p)
{
	static __thread char buf[BUF_SIZE + 8192];
	struct srv *s = p;
	ssize_t n;

	for (;;) {
		n = read(s->fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR || errno == ENOENT || errno == EAGAIN)
				continue;
			break;
		}
		serve_one(s, buf, n);
	}
	return NULL;
}

static uint64_t nops(struct srv *s, unsigned int op)
{
	uint64_t v;

	pthread_mutex_lock(&s->lock);
	v = s->ops[op];
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void srv_mount(struct srv *s, const char *mnt, unsigned int minor)
{
	char opts[256];

	s->mnt = mnt;
	s->minor = minor;
	memset(s->ops, 0, sizeof(s->ops));
	pthread_mutex_init(&s->lock, NULL);
	mkdir(mnt, 0755);
	s->fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		die("open /dev/fuse: %s", strerror(errno));
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other",
		 s->fd);
	if (mount("kf_test", mnt, "fuse", MS_NOSUID | MS_NODEV, opts))
		die("mount '%s': %s", mnt, strerror(errno));
}

static void srv_start(struct srv *s)
{
	if (pthread_create(&s->thr, NULL, server_thread, s))
		die("pthread_create failed");
}

static void srv_stop(struct srv *s)
{
	if (umount2(s->mnt, 0))
		umount2(s->mnt, MNT_DETACH);
	pthread_join(s->thr, NULL);
	close(s->fd);
}

/* ---- test side ---- */

static struct kf_test_bpf *skel;
static struct srv A, B;
static int fd_r, fd_d;	/* /eightchr: O_RDONLY, O_RDONLY|O_DIRECT */

static void arm(uint32_t op, uint64_t nodeid, const char *name, uint32_t kfunc, uint32_t verdict)
{
	struct kf_test_bpf__bss *b = skel->bss;

	b->op = 0;
	__sync_synchronize();
	memset(b->name, 0, sizeof(b->name));
	if (name)
		snprintf(b->name, sizeof(b->name), "%s", name);
	b->nodeid = nodeid;
	b->kfunc = kfunc;
	b->verdict = verdict;
	b->twice = 0;
	b->idx = 0;
	b->acted = 0;
	b->ret1 = b->ret2 = 12345;
	__sync_synchronize();
	b->op = op;
}

static void disarm(void)
{
	skel->bss->op = 0;
	__sync_synchronize();
}

/* A valid LOOKUP reply for /eightchr, but with size 777 so it shows */
static void valid_entry(struct fuse_entry_out *e)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = 2;
	e->generation = 1;
	fill_attr(&e->attr, 2);
	e->attr.size = 777;
}

static void valid_attr(struct fuse_attr_out *a)
{
	memset(a, 0, sizeof(*a));
	fill_attr(&a->attr, 2);
	a->attr.size = 777;
}

static int stat_path(const char *rel, struct stat *st)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", A.mnt, rel);
	return stat(path, st) ? -errno : 0;
}

/* LOOKUP of @rel through the hook, answered by the server: check all that */
static void lookup_case(const char *what, const char *rel, long want)
{
	uint64_t l0 = nops(&A, FUSE_LOOKUP);
	struct stat st;
	int err = stat_path(rel, &st);
	long got = skel->bss->ret1;

	disarm();
	check(skel->bss->acted >= 1 && got == want && nops(&A, FUSE_LOOKUP) > l0 && err == 0 &&
	      st.st_size == FSIZE,
	      "%s: kfunc returned %ld (want %ld), LOOKUP answered by the server (%llu), "
	      "size %lld (want %d)", what, got, want,
	      (unsigned long long)(nops(&A, FUSE_LOOKUP) - l0), (long long)st.st_size, FSIZE);
}

/* GETATTR of /eightchr through fstat */
static void getattr_case(const char *what, long want)
{
	uint64_t g0 = nops(&A, FUSE_GETATTR);
	struct stat st;
	int err = fstat(fd_r, &st) ? -errno : 0;
	long got = skel->bss->ret1;

	disarm();
	check(skel->bss->acted >= 1 && got == want && nops(&A, FUSE_GETATTR) > g0 && err == 0 &&
	      st.st_size == FSIZE,
	      "%s: kfunc returned %ld (want %ld), GETATTR answered by the server (%llu), "
	      "size %lld (want %d)", what, got, want,
	      (unsigned long long)(nops(&A, FUSE_GETATTR) - g0), (long long)st.st_size, FSIZE);
}

/* O_DIRECT READ of /eightchr [4096, 8192): @upcalls READs must reach the server */
static void read_case(const char *what, long want, long want2, int upcalls)
{
	static char buf[4096] __attribute__((aligned(4096)));
	uint64_t r0 = nops(&A, FUSE_READ);
	ssize_t n;
	long got = skel->bss->ret1, got2;

	memset(buf, 0, sizeof(buf));
	n = pread(fd_d, buf, sizeof(buf), 4096);
	got = skel->bss->ret1;
	got2 = skel->bss->ret2;
	disarm();
	check(skel->bss->acted >= 1 && got == want && got2 == want2 &&
	      nops(&A, FUSE_READ) - r0 == (uint64_t)upcalls && n == sizeof(buf) &&
	      !memcmp(buf, content + 4096, sizeof(buf)),
	      "%s: kfunc returned %ld, %ld (want %ld, %ld), %llu READ reached the server "
	      "(want %d), read %zd bytes, data %s", what, got, got2, want, want2,
	      (unsigned long long)(nops(&A, FUSE_READ) - r0), upcalls, n,
	      memcmp(buf, content + 4096, sizeof(buf)) ? "WRONG" : "right");
}

static char load_log[16384];
static size_t load_log_len;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	va_copy(aq, ap);
	n = vsnprintf(load_log + load_log_len, sizeof(load_log) - load_log_len, fmt, aq);
	va_end(aq);
	if (n > 0)
		load_log_len += (size_t)n < sizeof(load_log) - load_log_len ?
				(size_t)n : sizeof(load_log) - load_log_len - 1;
	return vfprintf(stderr, fmt, ap);
}

/* A program the verifier must refuse: load fails, and for the reason given */
#define BAD_LOAD(name, reason, what)						\
	do {									\
		struct name##_bpf *bad = name##_bpf__open();			\
		int e;								\
									\
		load_log_len = 0;						\
		load_log[0] = 0;						\
		e = bad ? name##_bpf__load(bad) : -ENOENT;			\
		check(bad && e < 0 && strstr(load_log, reason),			\
		      "verifier refuses %s (%d, log has '%s')", what, e, reason); \
		name##_bpf__destroy(bad);					\
	} while (0)

/* What the verifier says about a struct fuse_bpf_req * that points to memory */
#define REQ_NOT_MEM \
	"arg#0 pointer type STRUCT fuse_bpf_req must point to scalar, or struct with scalar"

static void *stat_thread(void *p)
{
	struct stat *st = p;

	if (stat_path("eightchr", st))
		st->st_size = -1;
	return NULL;
}

static int write_file(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct kf_test_bpf__bss *b;
	struct fuse_entry_out e;
	struct fuse_attr_out a;
	int link_fd, link2_fd, other_fd;
	struct kf_other_link_bpf *other;
	char path[1100], mntb[520];
	struct stat st;
	pthread_t thr;
	int bid, bid_wo, bid_short, err, i;
	uint64_t n0, l0;

	if (argc != 3) {
		fprintf(stderr, "usage: kf_test DATA_DIR MOUNTPOINT\n");
		return 2;
	}
	data_dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);
	for (i = 0; i < FSIZE; i++)
		content[i] = (char)(i * 7 + 3);
	mkdir(data_dir, 0755);
	snprintf(path, sizeof(path), "%s/eightchr", data_dir);
	if (write_file(path, content, FSIZE))
		die("cannot write '%s': %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/short", data_dir);
	if (write_file(path, content, 100))
		die("cannot write '%s': %s", path, strerror(errno));

	/* The verifier's refusals: what no kfunc ever has to check */
	BAD_LOAD(kf_bad_store, "only read is supported", "a store into struct fuse_bpf_req");
	BAD_LOAD(kf_bad_size, "invalid indirect access to stack",
		 "a kfunc buffer size larger than the buffer");
	BAD_LOAD(kf_bad_req, REQ_NOT_MEM,
		 "a request on the program's stack instead of the trusted argument");
	BAD_LOAD(kf_bad_req_map, REQ_NOT_MEM,
		 "a request in a map value instead of the trusted argument");
	BAD_LOAD(kf_bad_req_cast, "R1 must be referenced or trusted",
		 "a request made by bpf_rdonly_cast() instead of the trusted argument");
	BAD_LOAD(kf_bad_req_off,
		 "args#0 expected pointer to STRUCT fuse_bpf_req but R1 has a pointer to STRUCT fuse_bpf_req",
		 "the trusted request pointer moved by 8 bytes");
	/* A sleepable program is refused; the same one, not sleepable, loads (control) */
	{
		const char *reason = "attach to unsupported member request of struct fuse_bpf_ops";
		struct kf_bad_sleep_bpf *bad;
		int e;

		bad = kf_bad_sleep_bpf__open_and_load();
		check(bad != NULL, "kf_bad_sleep loads when not sleepable (control)");
		kf_bad_sleep_bpf__destroy(bad);

		load_log_len = 0;
		load_log[0] = 0;
		bad = kf_bad_sleep_bpf__open();
		e = bad ? bpf_program__set_flags(bad->progs.kf_bad_request, BPF_F_SLEEPABLE) : -ENOENT;
		if (!e)
			e = kf_bad_sleep_bpf__load(bad);
		check(bad && e < 0 && strstr(load_log, reason),
		      "verifier refuses a sleepable fuse_bpf_ops program (%d, log has '%s')", e, reason);
		kf_bad_sleep_bpf__destroy(bad);
	}
	BAD_LOAD(kf_bad_prog, "calling kernel function bpf_fuse_req_read_in is not allowed",
		 "the FUSE kfuncs in another struct_ops type (the kfunc filter)");
	BAD_LOAD(kf_bad_syscall, "calling kernel function bpf_fuse_req_read_in is not allowed",
		 "the FUSE kfuncs in a non-struct_ops program");

	skel = kf_test_bpf__open();
	err = skel ? fuse_bpf_link_prepare(skel->maps.kf_ops) : -ENOENT;
	err = err ?: kf_test_bpf__load(skel);
	check(err == 0, "kf_test program loads (%d)", err);
	if (err)
		return 1;
	b = skel->bss;
	link_fd = fuse_bpf_link_create(skel->maps.kf_ops);
	link2_fd = fuse_bpf_link_new(skel->maps.kf_ops);
	check(link_fd >= 0 && link2_fd >= 0,
	      "two bpf_links of one struct fuse_bpf_ops map (%d, %d)", link_fd, link2_fd);
	if (link_fd < 0 || link2_fd < 0)
		return 1;

	/* Registration: only through a link, and only ops with request() */
	{
		struct kf_bad_ops_bpf *ops = kf_bad_ops_bpf__open();
		struct kf_test_bpf *nolink = kf_test_bpf__open_and_load();
		struct bpf_link *l;
		int e1, e2;

		l = nolink ? bpf_map__attach_struct_ops(nolink->maps.kf_ops) : NULL;
		e1 = l ? 0 : -errno;
		bpf_link__destroy(l);
		check(nolink && e1 == -EOPNOTSUPP,
		      "registering ops from a map without BPF_F_LINK fails with EOPNOTSUPP (%d)", e1);
		e2 = ops ? fuse_bpf_link_prepare(ops->maps.kf_noreq) : -ENOENT;
		e2 = e2 ?: kf_bad_ops_bpf__load(ops);
		e2 = e2 ?: fuse_bpf_link_create(ops->maps.kf_noreq);
		if (e2 >= 0)
			close(e2);
		check(ops && e2 == -EINVAL, "ops without request() do not become ready: EINVAL (%d)",
		      e2);
		kf_bad_ops_bpf__destroy(ops);
		kf_test_bpf__destroy(nolink);
	}

	/* A link of another struct_ops type that supports links (tcp_congestion_ops) */
	{
		struct kf_other_link_bpf *cc = kf_other_link_bpf__open();

		err = cc ? fuse_bpf_link_prepare(cc->maps.kf_cc) : -ENOENT;
		err = err ?: kf_other_link_bpf__load(cc);
		other_fd = err ?: fuse_bpf_link_create(cc->maps.kf_cc);
		check(other_fd >= 0, "a tcp_congestion_ops bpf_link for the refusal test (%d)",
		      other_fd);
		other = cc;
	}

	/* Attach ioctl: a device with no connection */
	{
		int lone = open("/dev/fuse", O_RDWR | O_CLOEXEC);

		err = fuse_bpf_link_attach(lone, link_fd, COOKIE_A);
		check(err == -EPERM, "attach on a /dev/fuse fd that is not mounted fails with EPERM (%d)",
		      err);
		close(lone);
	}

	/* Hook: before INIT completes, the program never sees a request */
	srv_mount(&A, argv[2], 40);
	{
		struct fuse_bpf_attach bad = { .link_fd = link_fd };
		pid_t pid;
		int st_;

		bad.flags = 1;
		err = ioctl(A.fd, FUSE_DEV_IOC_BPF_ATTACH, &bad) ? -errno : 0;
		check(err == -EINVAL, "attach with flags != 0 fails with EINVAL (%d)", err);
		err = ioctl(A.fd, FUSE_DEV_IOC_BPF_ATTACH, (void *)8) ? -errno : 0;
		check(err == -EFAULT, "attach with an unmapped argument fails with EFAULT (%d)", err);
		err = fuse_bpf_link_attach(A.fd, -1, COOKIE_A);
		check(err == -EBADF, "attach with link fd -1 fails with EBADF (%d)", err);
		err = fuse_bpf_link_attach(A.fd, 1000, COOKIE_A);
		check(err == -EBADF, "attach with a link fd that is not open fails with EBADF (%d)",
		      err);
		err = fuse_bpf_link_attach(A.fd, bpf_map__fd(skel->maps.kf_ops), COOKIE_A);
		check(err == -EINVAL,
		      "attach with the struct_ops map's fd (not a link) fails with EINVAL (%d)", err);
		err = other_fd >= 0 ? fuse_bpf_link_attach(A.fd, other_fd, COOKIE_A) : other_fd;
		check(err == -EINVAL,
		      "attach with a tcp_congestion_ops link fails with EINVAL (%d)", err);

		pid = fork();
		if (pid == 0) {
			struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
			struct __user_cap_data_struct d[2];
			int r1, r2;

			if (syscall(SYS_capget, &h, d))
				_exit(10);
			d[0].effective &= ~(1u << CAP_SYS_ADMIN);
			if (syscall(SYS_capset, &h, d))
				_exit(11);
			r1 = fuse_bpf_link_attach(A.fd, link_fd, COOKIE_A);
			r2 = ioctl(A.fd, FUSE_DEV_IOC_BPF_DETACH) ? errno : 0;
			_exit(r1 == -EPERM && r2 == EPERM ? 0 : 12);
		}
		st_ = -1;
		waitpid(pid, &st_, 0);
		check(WIFEXITED(st_) && WEXITSTATUS(st_) == 0,
		      "without CAP_SYS_ADMIN attach and detach fail with EPERM (child status %d)",
		      WIFEXITED(st_) ? WEXITSTATUS(st_) : -1);

		err = fuse_bpf_link_attach(A.fd, link_fd, COOKIE_A);
		check(err == 0, "attach before INIT (%d)", err);
		err = fuse_bpf_link_attach(A.fd, link2_fd, COOKIE_B);
		check(err == -EBUSY, "a second link on the same connection fails with EBUSY (%d)",
		      err);
	}
	valid_entry(&b->entry);
	arm(FUSE_LOOKUP, 1, "eightchr", KF_ENTRY, FUSE_BPF_HANDLED);
	memset(&st, 0, sizeof(st));
	pthread_create(&thr, NULL, stat_thread, &st);
	usleep(300000);
	srv_start(&A);
	pthread_join(thr, NULL);
	check(b->acted == 0 && b->seen[FUSE_LOOKUP] == 0 && nops(&A, FUSE_LOOKUP) >= 1 &&
	      st.st_size == FSIZE,
	      "a LOOKUP sent before INIT is not offered to the program (seen %llu, server %llu, "
	      "size %lld)", (unsigned long long)b->seen[FUSE_LOOKUP],
	      (unsigned long long)nops(&A, FUSE_LOOKUP), (long long)st.st_size);
	/* Positive control: after INIT the same armed case is answered in BPF */
	l0 = nops(&A, FUSE_LOOKUP);
	err = stat_path("eightchr", &st);
	disarm();
	check(err == 0 && b->acted >= 1 && b->ret1 == 0 && nops(&A, FUSE_LOOKUP) == l0,
	      "control: after INIT the valid entry is staged (%lld) and answers the LOOKUP "
	      "(%llu reached the server, want 0)", (long long)b->ret1,
	      (unsigned long long)(nops(&A, FUSE_LOOKUP) - l0));
	check(b->cookie == COOKIE_A, "the program sees the attach's cookie (%#llx, want %#llx)",
	      (unsigned long long)b->cookie, COOKIE_A);

	snprintf(path, sizeof(path), "%s/eightchr", A.mnt);
	fd_r = open(path, O_RDONLY);
	fd_d = open(path, O_RDONLY | O_DIRECT);
	if (fd_r < 0 || fd_d < 0)
		die("open '%s': %s", path, strerror(errno));

	/* bpf_fuse_req_read_in */
	arm(FUSE_LOOKUP, 1, "eightchr", KF_READ_IN_64, FUSE_BPF_HANDLED);
	lookup_case("read_in(0, 64 bytes); HANDLED without a staged reply upcalls", "eightchr", 9);
	check(!memcmp(b->buf, "eightchr", 9) && b->buf[9] == 0 && b->buf[63] == 0,
	      "read_in copied the name and zero-filled the rest of the buffer");
	arm(FUSE_LOOKUP, 1, "eightchr", KF_READ_IN_4, FUSE_BPF_HANDLED);
	lookup_case("read_in(0, 4 bytes) returns the full size", "eightchr", 9);
	check(!memcmp(b->buf, "eigh", 4) && b->buf[4] == 0xa5,
	      "read_in into 4 bytes copied 4 and nothing past the buffer");
	arm(FUSE_LOOKUP, 1, "eightchr", KF_READ_IN_64, FUSE_BPF_HANDLED);
	b->idx = 1;
	lookup_case("read_in(idx == in_numargs)", "eightchr", -EINVAL);
	arm(FUSE_LOOKUP, 1, "eightchr", KF_READ_IN_64, FUSE_BPF_HANDLED);
	b->idx = 3;
	lookup_case("read_in(idx == ARRAY_SIZE(in_args))", "eightchr", -EINVAL);
	arm(FUSE_LOOKUP, 1, "eightchr", KF_READ_IN_64, FUSE_BPF_HANDLED);
	b->idx = 0xffffffffu;
	lookup_case("read_in(idx 0xffffffff)", "eightchr", -EINVAL);
	check(b->buf[0] == 0xa5, "a refused read_in wrote nothing");
	{
		int wfd;
		ssize_t w;
		uint64_t w0 = nops(&A, FUSE_WRITE);

		snprintf(path, sizeof(path), "%s/wfile", A.mnt);
		wfd = open(path, O_WRONLY);
		for (i = 0; i < 2; i++) {
			arm(FUSE_WRITE, 5, NULL, KF_READ_IN_64, FUSE_BPF_HANDLED);
			b->idx = i;
			w = wfd < 0 ? -1 : pwrite(wfd, "hello", 5, 0);
			disarm();
			check(b->acted >= 1 && b->ret1 == (i ? -EOPNOTSUPP : (long)sizeof(struct fuse_write_in)) &&
			      w == 5 && nops(&A, FUSE_WRITE) == w0 + i + 1,
			      "read_in(WRITE, idx %d) = %lld (want %ld); the write reached the server",
			      i, (long long)b->ret1,
			      i ? -EOPNOTSUPP : (long)sizeof(struct fuse_write_in));
		}
		if (wfd >= 0)
			close(wfd);
	}

	/* bpf_fuse_req_lookup_name */
	arm(FUSE_LOOKUP, 1, "eightchr", KF_NAME_8, FUSE_BPF_HANDLED);
	lookup_case("lookup_name(8 bytes) of an 8-byte name", "eightchr", -ENAMETOOLONG);
	check(b->buf[0] == 0xa5, "a refused lookup_name wrote nothing");
	arm(FUSE_LOOKUP, 1, "eightchr", KF_NAME_9, FUSE_BPF_HANDLED);
	lookup_case("lookup_name(9 bytes) of an 8-byte name", "eightchr", 8);
	check(!memcmp(b->buf, "eightchr", 9), "lookup_name copied the name and its NUL");
	arm(FUSE_GETATTR, 2, NULL, KF_NAME_9, FUSE_BPF_HANDLED);
	getattr_case("lookup_name on a GETATTR", -EINVAL);

	/* bpf_fuse_reply_entry: each bad field alone, on a valid entry */
	{
		static const struct { const char *what; int field; } bad[] = {
			{ "reply_entry: nodeid 0", 0 }, { "reply_entry: FUSE_ROOT_ID", 1 },
			{ "reply_entry: entry_valid_nsec 1e9", 2 },
			{ "reply_entry: attr_valid_nsec 1e9", 3 },
			{ "reply_entry: no file type", 4 }, { "reply_entry: size LLONG_MAX+1", 5 },
			{ "reply_entry: attr.flags FUSE_ATTR_SUBMOUNT", 6 },
			{ "reply_entry: atimensec 1e9", 7 }, { "reply_entry: mtimensec 1e9", 8 },
			{ "reply_entry: ctimensec 1e9", 9 }, { "reply_entry: mode S_IFMT", 10 },
		};
		unsigned int k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			/* if it were taken, stat would show its size without a GETATTR */
			valid_entry(&e);
			e.attr_valid = 10;
			switch (bad[k].field) {
			case 0: e.nodeid = 0; break;
			case 1: e.nodeid = FUSE_ROOT_ID; break;
			case 2: e.entry_valid_nsec = NSEC; break;
			case 3: e.attr_valid_nsec = NSEC; break;
			case 4: e.attr.mode &= 07777; break;
			case 5: e.attr.size = (uint64_t)LLONG_MAX + 1; break;
			case 6: e.attr.flags = FUSE_ATTR_SUBMOUNT; break;
			case 7: e.attr.atimensec = NSEC; break;
			case 8: e.attr.mtimensec = NSEC; break;
			case 9: e.attr.ctimensec = NSEC; break;
			case 10: e.attr.mode |= S_IFMT; break;
			}
			arm(FUSE_LOOKUP, 1, "eightchr", KF_ENTRY, FUSE_BPF_HANDLED);
			b->entry = e;
			lookup_case(bad[k].what, "eightchr", -EINVAL);
		}
	}
	valid_entry(&b->entry);
	b->entry.nodeid = 3;
	arm(FUSE_LOOKUP, 3, "inner", KF_ENTRY, FUSE_BPF_HANDLED);
	{
		uint64_t l1 = nops(&A, FUSE_LOOKUP);

		err = stat_path("sub/inner", &st);
		disarm();
		check(b->acted >= 1 && b->ret1 == -EINVAL && err == 0 && st.st_ino == 4 &&
		      nops(&A, FUSE_LOOKUP) >= l1 + 2,
		      "reply_entry: nodeid == parent: %lld (want %d), server answered (ino %llu)",
		      (long long)b->ret1, -EINVAL, (unsigned long long)st.st_ino);
	}
	valid_entry(&b->entry);
	arm(FUSE_LOOKUP, 1, "eightchr", KF_ENTRY_SHORT, FUSE_BPF_HANDLED);
	lookup_case("reply_entry: size sizeof - 1", "eightchr", -EINVAL);
	arm(FUSE_LOOKUP, 1, "eightchr", KF_ENTRY_LONG, FUSE_BPF_HANDLED);
	lookup_case("reply_entry: size sizeof + 8", "eightchr", -EINVAL);
	arm(FUSE_GETATTR, 2, NULL, KF_ENTRY, FUSE_BPF_HANDLED);
	getattr_case("reply_entry on a GETATTR", -EINVAL);
	arm(FUSE_LOOKUP, 1, "eightchr", KF_ENTRY, FUSE_BPF_UPCALL);
	lookup_case("reply_entry staged, program returns UPCALL: the staged reply is dropped",
		    "eightchr", 0);
	arm(FUSE_LOOKUP, 1, "eightchr", KF_ENTRY, FUSE_BPF_HANDLED);
	b->twice = 1;
	l0 = nops(&A, FUSE_LOOKUP);
	err = stat_path("eightchr", &st);
	disarm();
	check(b->acted >= 1 && b->ret1 == 0 && b->ret2 == -EALREADY &&
	      nops(&A, FUSE_LOOKUP) == l0,
	      "reply_entry twice: %lld then %lld (want 0, %d); the first answers the LOOKUP",
	      (long long)b->ret1, (long long)b->ret2, -EALREADY);

	/* bpf_fuse_reply_attr */
	{
		static const char *what[] = {
			"reply_attr: attr_valid_nsec 1e9", "reply_attr: dummy != 0",
			"reply_attr: no file type", "reply_attr: size LLONG_MAX+1",
			"reply_attr: attr.flags FUSE_ATTR_DAX", "reply_attr: atimensec 1e9",
			"reply_attr: mtimensec 1e9", "reply_attr: ctimensec 1e9",
		};
		unsigned int k;

		for (k = 0; k < sizeof(what) / sizeof(what[0]); k++) {
			valid_attr(&a);
			switch (k) {
			case 0: a.attr_valid_nsec = NSEC; break;
			case 1: a.dummy = 1; break;
			case 2: a.attr.mode &= 07777; break;
			case 3: a.attr.size = (uint64_t)LLONG_MAX + 1; break;
			case 4: a.attr.flags = FUSE_ATTR_DAX; break;
			case 5: a.attr.atimensec = NSEC; break;
			case 6: a.attr.mtimensec = NSEC; break;
			case 7: a.attr.ctimensec = NSEC; break;
			}
			arm(FUSE_GETATTR, 2, NULL, KF_ATTR, FUSE_BPF_HANDLED);
			b->attr = a;
			getattr_case(what[k], -EINVAL);
		}
	}
	valid_attr(&b->attr);
	arm(FUSE_GETATTR, 2, NULL, KF_ATTR_SHORT, FUSE_BPF_HANDLED);
	getattr_case("reply_attr: size sizeof - 1", -EINVAL);
	arm(FUSE_GETATTR, 2, NULL, KF_ATTR_LONG, FUSE_BPF_HANDLED);
	getattr_case("reply_attr: size sizeof + 8", -EINVAL);
	arm(FUSE_LOOKUP, 1, "eightchr", KF_ATTR, FUSE_BPF_HANDLED);
	lookup_case("reply_attr on a LOOKUP", "eightchr", -EINVAL);
	arm(FUSE_GETATTR, 2, NULL, KF_ATTR, FUSE_BPF_UPCALL);
	getattr_case("reply_attr staged, program returns UPCALL: the staged reply is dropped", 0);
	arm(FUSE_GETATTR, 2, NULL, KF_ATTR, FUSE_BPF_HANDLED);
	b->twice = 1;
	n0 = nops(&A, FUSE_GETATTR);
	err = fstat(fd_r, &st) ? -errno : 0;
	disarm();
	check(b->acted >= 1 && b->ret1 == 0 && b->ret2 == -EALREADY && err == 0 &&
	      nops(&A, FUSE_GETATTR) == n0 && st.st_size == 777,
	      "reply_attr twice: %lld then %lld (want 0, %d); the first answers (size %lld)",
	      (long long)b->ret1, (long long)b->ret2, -EALREADY, (long long)st.st_size);
	fstat(fd_r, &st); /* the server's size again */

	/* bpf_fuse_reply_read_backing */
	{
		struct fuse_backing_map map = { 0 };
		int f;

		snprintf(path, sizeof(path), "%s/eightchr", data_dir);
		map.fd = f = open(path, O_RDONLY);
		bid = ioctl(A.fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
		close(f);
		map.fd = f = open(path, O_WRONLY);
		bid_wo = ioctl(A.fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
		close(f);
		snprintf(path, sizeof(path), "%s/short", data_dir);
		map.fd = f = open(path, O_RDONLY);
		bid_short = ioctl(A.fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
		close(f);
		check(bid > 0 && bid_wo > 0 && bid_short > 0,
		      "backing files registered (%d, %d write-only, %d short)", bid, bid_wo,
		      bid_short);
	}
	arm(FUSE_READ, 2, NULL, KF_READ, FUSE_BPF_HANDLED);
	b->backing_id = bid;
	b->twice = 1;
	read_case("read_backing twice: the first answers the READ", 0, -EALREADY, 0);
	arm(FUSE_READ, 2, NULL, KF_READ, FUSE_BPF_UPCALL);
	b->backing_id = bid;
	read_case("read_backing staged, program returns UPCALL", 0, 0, 1);
	{
		static const struct { const char *what; uint32_t id; int err; } bad[] = {
			{ "read_backing: backing id 0", 0, -EINVAL },
			{ "read_backing: backing id > INT_MAX", 0x80000000u, -EINVAL },
			{ "read_backing: unknown backing id", 9999, -ENOENT },
			{ "read_backing: backing file not open for reading", 0, -EBADF },
		};
		unsigned int k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			arm(FUSE_READ, 2, NULL, KF_READ, FUSE_BPF_HANDLED);
			b->backing_id = k == 3 ? bid_wo : bad[k].id;
			read_case(bad[k].what, bad[k].err, 0, 1);
		}
	}
	/* EOF comes from the backing file: 100 bytes of the 100-byte one, no upcall */
	{
		static char buf[4096] __attribute__((aligned(4096)));
		uint64_t r0 = nops(&A, FUSE_READ);
		ssize_t n, n2;

		arm(FUSE_READ, 2, NULL, KF_READ, FUSE_BPF_HANDLED);
		b->backing_id = bid_short;
		memset(buf, 0, sizeof(buf));
		n = pread(fd_d, buf, sizeof(buf), 0);
		n2 = pread(fd_d, buf, sizeof(buf), 4096);
		disarm();
		check(b->acted >= 2 && b->ret1 == 0 && n == 100 && n2 == 0 &&
		      !memcmp(buf, content, 100) && nops(&A, FUSE_READ) == r0,
		      "read_backing stops at the backing file's end: read %zd bytes at 0 (want 100), "
		      "%zd at 4096 (want 0), data %s, %llu READ reached the server (want 0)",
		      n, n2, memcmp(buf, content, 100) ? "WRONG" : "right",
		      (unsigned long long)(nops(&A, FUSE_READ) - r0));
		fstat(fd_r, &st); /* the server's size again */
	}
	arm(FUSE_GETATTR, 2, NULL, KF_READ, FUSE_BPF_HANDLED);
	b->backing_id = bid;
	getattr_case("read_backing on a GETATTR", -EINVAL);

	/* bpf_fuse_reply_open: refusals; each open then reaches the server and works */
	{
		static const struct {
			const char *what; uint64_t nodeid; const char *rel; int flags;
			uint32_t kfunc; uint64_t fh; uint32_t oflags; int which_id; int err;
		} bad[] = {
			{ "reply_open: size sizeof - 1", 2, "eightchr", O_RDONLY, KF_OPEN_SHORT,
			  0, FOPEN_NOFLUSH, 0, -EINVAL },
			{ "reply_open: size sizeof + 8", 2, "eightchr", O_RDONLY, KF_OPEN_LONG,
			  0, FOPEN_NOFLUSH, 0, -EINVAL },
			{ "reply_open: O_WRONLY", 5, "wfile", O_WRONLY, KF_OPEN,
			  0, FOPEN_NOFLUSH, 0, -EPERM },
			{ "reply_open: O_RDWR", 5, "wfile", O_RDWR, KF_OPEN,
			  0, FOPEN_NOFLUSH, 0, -EPERM },
			{ "reply_open: O_RDONLY|O_TRUNC", 5, "wfile", O_RDONLY | O_TRUNC, KF_OPEN,
			  0, FOPEN_NOFLUSH, 0, -EPERM },
			{ "reply_open: fh != 0", 2, "eightchr", O_RDONLY, KF_OPEN,
			  7, FOPEN_NOFLUSH, 0, -EINVAL },
			{ "reply_open: FOPEN_DIRECT_IO", 2, "eightchr", O_RDONLY, KF_OPEN,
			  0, FOPEN_DIRECT_IO, 0, -EINVAL },
			{ "reply_open: FOPEN_KEEP_CACHE with FOPEN_PASSTHROUGH", 2, "eightchr", O_RDONLY,
			  KF_OPEN, 0, FOPEN_KEEP_CACHE | FOPEN_PASSTHROUGH, 1, -EINVAL },
			{ "reply_open: a backing id without FOPEN_PASSTHROUGH", 2, "eightchr", O_RDONLY,
			  KF_OPEN, 0, FOPEN_NOFLUSH, 1, -EINVAL },
			{ "reply_open: FOPEN_PASSTHROUGH with backing id 0", 2, "eightchr", O_RDONLY,
			  KF_OPEN, 0, FOPEN_PASSTHROUGH, 0, -ENOENT },
			{ "reply_open: FOPEN_PASSTHROUGH with an unknown backing id", 2, "eightchr",
			  O_RDONLY, KF_OPEN, 0, FOPEN_PASSTHROUGH, 3, -ENOENT },
			{ "reply_open: FOPEN_PASSTHROUGH with a backing file not open for reading", 2,
			  "eightchr", O_RDONLY, KF_OPEN, 0, FOPEN_PASSTHROUGH, 2, -EBADF },
		};
		unsigned int k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			uint64_t o0 = nops(&A, FUSE_OPEN);
			int fd;

			arm(FUSE_OPEN, bad[k].nodeid, NULL, bad[k].kfunc, FUSE_BPF_HANDLED);
			b->open_out.fh = bad[k].fh;
			b->open_out.open_flags = bad[k].oflags;
			b->open_out.backing_id = bad[k].which_id == 1 ? bid :
						 bad[k].which_id == 2 ? bid_wo :
						 bad[k].which_id == 3 ? 9999 : 0;
			snprintf(path, sizeof(path), "%s/%s", A.mnt, bad[k].rel);
			fd = open(path, bad[k].flags);
			disarm();
			check(b->acted >= 1 && b->ret1 == bad[k].err && nops(&A, FUSE_OPEN) == o0 + 1 &&
			      fd >= 0,
			      "%s: kfunc returned %lld (want %d), OPEN answered by the server (%llu), "
			      "open %s", bad[k].what, (long long)b->ret1, bad[k].err,
			      (unsigned long long)(nops(&A, FUSE_OPEN) - o0),
			      fd >= 0 ? "works" : strerror(errno));
			if (fd >= 0)
				close(fd);
		}
	}
	arm(FUSE_GETATTR, 2, NULL, KF_OPEN, FUSE_BPF_HANDLED);
	memset(&b->open_out, 0, sizeof(b->open_out));
	b->open_out.open_flags = FOPEN_NOFLUSH;
	getattr_case("reply_open on a GETATTR", -EINVAL);
	{
		uint64_t o0 = nops(&A, FUSE_OPENDIR);
		int fd;

		arm(FUSE_OPENDIR, 3, NULL, KF_OPEN, FUSE_BPF_HANDLED);
		memset(&b->open_out, 0, sizeof(b->open_out));
		b->open_out.open_flags = FOPEN_NOFLUSH;
		snprintf(path, sizeof(path), "%s/sub", A.mnt);
		fd = open(path, O_RDONLY | O_DIRECTORY);
		disarm();
		check(b->acted >= 1 && b->ret1 == -EINVAL && nops(&A, FUSE_OPENDIR) == o0 + 1 &&
		      fd >= 0, "reply_open on an OPENDIR: %lld (want %d), answered by the server",
		      (long long)b->ret1, -EINVAL);
		if (fd >= 0)
			close(fd);
	}
	{
		uint64_t o0 = nops(&A, FUSE_OPEN);
		int fd;

		arm(FUSE_OPEN, 2, NULL, KF_OPEN, FUSE_BPF_UPCALL);
		memset(&b->open_out, 0, sizeof(b->open_out));
		b->open_out.open_flags = FOPEN_NOFLUSH;
		snprintf(path, sizeof(path), "%s/eightchr", A.mnt);
		fd = open(path, O_RDONLY);
		disarm();
		check(b->acted >= 1 && b->ret1 == 0 && nops(&A, FUSE_OPEN) == o0 + 1 && fd >= 0,
		      "reply_open staged (%lld), program returns UPCALL: the OPEN reaches the "
		      "server (%llu)", (long long)b->ret1,
		      (unsigned long long)(nops(&A, FUSE_OPEN) - o0));
		if (fd >= 0)
			close(fd);
	}

	/*
	 * bpf_fuse_reply_open answering: /sub/inner (no other open file, so it can
	 * enter passthrough) over the backing file of /eightchr (same content)
	 */
	{
		static char buf[FSIZE];
		uint64_t o0, r0, f0, rel0;
		ssize_t n = -1;
		int fd;

		/* control: opened by the server, its close sends FLUSH and RELEASE */
		snprintf(path, sizeof(path), "%s/sub/inner", A.mnt);
		usleep(200000); /* RELEASEs of the opens above go in the background */
		o0 = nops(&A, FUSE_OPEN);
		f0 = nops(&A, FUSE_FLUSH);
		rel0 = nops(&A, FUSE_RELEASE);
		fd = open(path, O_RDONLY);
		if (fd >= 0)
			close(fd);
		usleep(200000);
		check(fd >= 0 && nops(&A, FUSE_OPEN) == o0 + 1 && nops(&A, FUSE_FLUSH) == f0 + 1 &&
		      nops(&A, FUSE_RELEASE) == rel0 + 1,
		      "control: an open by the server sends OPEN, FLUSH, RELEASE (%llu, %llu, %llu)",
		      (unsigned long long)(nops(&A, FUSE_OPEN) - o0),
		      (unsigned long long)(nops(&A, FUSE_FLUSH) - f0),
		      (unsigned long long)(nops(&A, FUSE_RELEASE) - rel0));

		arm(FUSE_OPEN, 4, NULL, KF_OPEN, FUSE_BPF_HANDLED);
		b->open_out.open_flags = FOPEN_PASSTHROUGH | FOPEN_NOFLUSH;
		b->open_out.backing_id = bid;
		b->twice = 1;
		o0 = nops(&A, FUSE_OPEN);
		r0 = nops(&A, FUSE_READ);
		f0 = nops(&A, FUSE_FLUSH);
		rel0 = nops(&A, FUSE_RELEASE);
		fd = open(path, O_RDONLY);
		disarm();
		memset(buf, 0, sizeof(buf));
		if (fd >= 0) {
			n = pread(fd, buf, sizeof(buf), 0);
			close(fd);
		}
		usleep(200000);
		check(fd >= 0 && b->ret1 == 0 && b->ret2 == -EALREADY &&
		      nops(&A, FUSE_OPEN) == o0 && nops(&A, FUSE_READ) == r0 &&
		      nops(&A, FUSE_FLUSH) == f0 && nops(&A, FUSE_RELEASE) == rel0 &&
		      n == FSIZE && !memcmp(buf, content, FSIZE),
		      "reply_open(PASSTHROUGH|NOFLUSH) twice: %lld then %lld (want 0, %d); open %s, "
		      "read %zd bytes (data %s); OPEN %llu, READ %llu, FLUSH %llu, RELEASE %llu "
		      "reached the server (want 0 each)", (long long)b->ret1, (long long)b->ret2,
		      -EALREADY, fd >= 0 ? "works" : strerror(errno), n,
		      memcmp(buf, content, FSIZE) ? "WRONG" : "right",
		      (unsigned long long)(nops(&A, FUSE_OPEN) - o0),
		      (unsigned long long)(nops(&A, FUSE_READ) - r0),
		      (unsigned long long)(nops(&A, FUSE_FLUSH) - f0),
		      (unsigned long long)(nops(&A, FUSE_RELEASE) - rel0));

		/* Without passthrough and NOFLUSH: READ and FLUSH come up with fh 0 */
		arm(FUSE_OPEN, 4, NULL, KF_OPEN, FUSE_BPF_HANDLED);
		b->open_out.open_flags = 0;
		b->open_out.backing_id = 0;
		o0 = nops(&A, FUSE_OPEN);
		r0 = nops(&A, FUSE_READ);
		f0 = nops(&A, FUSE_FLUSH);
		rel0 = nops(&A, FUSE_RELEASE);
		A.read_fh = A.flush_fh = 12345;
		fd = open(path, O_RDONLY | O_DIRECT);
		disarm();
		n = -1;
		if (fd >= 0) {
			static char dbuf[4096] __attribute__((aligned(4096)));

			n = pread(fd, dbuf, sizeof(dbuf), 0);
			close(fd);
		}
		usleep(200000);
		check(fd >= 0 && b->ret1 == 0 && n == 4096 && nops(&A, FUSE_OPEN) == o0 &&
		      nops(&A, FUSE_READ) == r0 + 1 && A.read_fh == 0 &&
		      nops(&A, FUSE_FLUSH) == f0 + 1 && A.flush_fh == 0 &&
		      nops(&A, FUSE_RELEASE) == rel0,
		      "reply_open(0): READ and FLUSH reach the server with fh 0 (%llu, fh %llu; "
		      "%llu, fh %llu), no OPEN (%llu), no RELEASE (%llu)",
		      (unsigned long long)(nops(&A, FUSE_READ) - r0), (unsigned long long)A.read_fh,
		      (unsigned long long)(nops(&A, FUSE_FLUSH) - f0), (unsigned long long)A.flush_fh,
		      (unsigned long long)(nops(&A, FUSE_OPEN) - o0),
		      (unsigned long long)(nops(&A, FUSE_RELEASE) - rel0));
	}

	/* bpf_fuse_reply_entry: negative entries */
	{
		static const char *what[] = {
			"reply_entry: negative with attr.size 1", "reply_entry: negative with generation 1",
			"reply_entry: negative with attr_valid 1",
			"reply_entry: negative with attr_valid_nsec 1",
			"reply_entry: negative with entry_valid_nsec 1e9",
		};
		unsigned int k;

		for (k = 0; k < sizeof(what) / sizeof(what[0]); k++) {
			memset(&e, 0, sizeof(e));
			switch (k) {
			case 0: e.attr.size = 1; break;
			case 1: e.generation = 1; break;
			case 2: e.attr_valid = 1; break;
			case 3: e.attr_valid_nsec = 1; break;
			case 4: e.entry_valid_nsec = NSEC; break;
			}
			arm(FUSE_LOOKUP, 1, "nosuch", KF_ENTRY, FUSE_BPF_HANDLED);
			b->entry = e;
			l0 = nops(&A, FUSE_LOOKUP);
			err = stat_path("nosuch", &st);
			disarm();
			check(b->acted >= 1 && b->ret1 == -EINVAL && err == -ENOENT &&
			      nops(&A, FUSE_LOOKUP) == l0 + 1,
			      "%s: %lld (want %d), the server said ENOENT (%d)", what[k],
			      (long long)b->ret1, -EINVAL, err);
		}
	}
	memset(&b->entry, 0, sizeof(b->entry));
	arm(FUSE_LOOKUP, 1, "nosuch", KF_ENTRY, FUSE_BPF_HANDLED);
	l0 = nops(&A, FUSE_LOOKUP);
	err = stat_path("nosuch", &st);
	i = stat_path("nosuch", &st);
	disarm();
	check(b->acted == 2 && b->ret1 == 0 && err == -ENOENT && i == -ENOENT &&
	      nops(&A, FUSE_LOOKUP) == l0,
	      "a negative entry (timeout 0) answers each LOOKUP in BPF: called %llu times (want 2), "
	      "ENOENT (%d, %d), %llu LOOKUP reached the server (want 0)",
	      (unsigned long long)b->acted, err, i, (unsigned long long)(nops(&A, FUSE_LOOKUP) - l0));
	memset(&b->entry, 0, sizeof(b->entry));
	b->entry.entry_valid = 30;
	arm(FUSE_LOOKUP, 1, "negcache", KF_ENTRY, FUSE_BPF_HANDLED);
	l0 = nops(&A, FUSE_LOOKUP);
	err = stat_path("negcache", &st);
	i = stat_path("negcache", &st);
	disarm();
	check(b->acted == 1 && b->ret1 == 0 && err == -ENOENT && i == -ENOENT &&
	      nops(&A, FUSE_LOOKUP) == l0,
	      "a negative entry with a 30 s timeout is cached by the kernel: called %llu time "
	      "(want 1), ENOENT (%d, %d), %llu LOOKUP reached the server (want 0)",
	      (unsigned long long)b->acted, err, i, (unsigned long long)(nops(&A, FUSE_LOOKUP) - l0));

	/* bpf_fuse_reply_error */
	{
		static const struct { const char *what; int errv; int twice; int ret1, ret2; int up; } c[] = {
			{ "reply_error(IOCTL, -ENOTTY) twice: the first answers", -ENOTTY, 1, 0, -EALREADY, 0 },
			{ "reply_error(IOCTL, -EPERM)", -EPERM, 0, -EINVAL, 0, 1 },
			{ "reply_error(IOCTL, 0)", 0, 0, -EINVAL, 0, 1 },
			{ "reply_error(IOCTL, -ENOSYS)", -ENOSYS, 0, -EINVAL, 0, 1 },
		};
		unsigned int k;

		for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
			char t[64];
			uint64_t i0 = nops(&A, FUSE_IOCTL);
			int r;

			arm(FUSE_IOCTL, 2, NULL, KF_ERROR, FUSE_BPF_HANDLED);
			b->errv = c[k].errv;
			b->twice = c[k].twice;
			r = ioctl(fd_r, TCGETS, t) ? -errno : 0;
			disarm();
			check(b->acted >= 1 && b->ret1 == c[k].ret1 && b->ret2 == c[k].ret2 &&
			      r == -ENOTTY && nops(&A, FUSE_IOCTL) == i0 + c[k].up,
			      "%s: %lld, %lld (want %d, %d); isatty's ioctl fails with ENOTTY (%d), "
			      "%llu IOCTL reached the server (want %d)", c[k].what, (long long)b->ret1,
			      (long long)b->ret2, c[k].ret1, c[k].ret2, r,
			      (unsigned long long)(nops(&A, FUSE_IOCTL) - i0), c[k].up);
		}
	}
	arm(FUSE_GETATTR, 2, NULL, KF_ERROR, FUSE_BPF_HANDLED);
	b->errv = -ENOTTY;
	getattr_case("reply_error on a GETATTR", -EINVAL);

	/* Hook: forced and no-reply requests never reach the program */
	close(fd_r);
	close(fd_d);
	{
		char cmd[16] = "3";
		int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);

		if (dc >= 0) {
			if (write(dc, cmd, 1) < 0)
				perror("drop_caches");
			close(dc);
		}
		usleep(200000);
	}
	check(nops(&A, FUSE_FLUSH) > 0 && nops(&A, FUSE_RELEASE) > 0 &&
	      nops(&A, FUSE_FORGET) + nops(&A, FUSE_BATCH_FORGET) > 0 &&
	      b->seen[FUSE_FLUSH] == 0 && b->seen[FUSE_RELEASE] == 0 &&
	      b->seen[FUSE_FORGET] == 0 && b->seen[FUSE_BATCH_FORGET] == 0,
	      "FLUSH, RELEASE, FORGET reach the server (%llu, %llu, %llu) and never the program "
	      "(%llu, %llu, %llu)", (unsigned long long)nops(&A, FUSE_FLUSH),
	      (unsigned long long)nops(&A, FUSE_RELEASE),
	      (unsigned long long)(nops(&A, FUSE_FORGET) + nops(&A, FUSE_BATCH_FORGET)),
	      (unsigned long long)b->seen[FUSE_FLUSH], (unsigned long long)b->seen[FUSE_RELEASE],
	      (unsigned long long)(b->seen[FUSE_FORGET] + b->seen[FUSE_BATCH_FORGET]));

	/*
	 * Two connections, one program: each request carries the cookie of its
	 * connection's link; a link and a connection are bound at most once.
	 */
	snprintf(mntb, sizeof(mntb), "%s-b", argv[2]);
	srv_mount(&B, mntb, 40);
	srv_start(&B);
	{
		uint64_t c1, c2;
		int e1, e2;

		err = fuse_bpf_link_attach(B.fd, link2_fd, COOKIE_B);
		snprintf(path, sizeof(path), "%s/eightchr", mntb);
		i = stat(path, &st) ? -errno : 0;
		c1 = b->cookie;
		stat_path("eightchr", &st);
		c2 = b->cookie;
		check(err == 0 && i == 0 && c1 == COOKIE_B && c2 == COOKIE_A,
		      "two connections with one program: cookies %#llx on B, %#llx on A", 
		      (unsigned long long)c1, (unsigned long long)c2);
		e1 = fuse_bpf_link_attach(B.fd, link_fd, COOKIE_B);
		check(e1 == -EBUSY, "attaching a second link to B fails with EBUSY (%d)", e1);
		e2 = ioctl(B.fd, FUSE_DEV_IOC_BPF_DETACH) ? -errno : 0;
		e1 = fuse_bpf_link_attach(B.fd, link_fd, COOKIE_B);
		check(e2 == 0 && e1 == -EBUSY,
		      "after detach from B (%d), the link bound to A cannot be bound to B (%d)",
		      e2, e1);
		e2 = ioctl(B.fd, FUSE_DEV_IOC_BPF_DETACH) ? -errno : 0;
		check(e2 == -ENOENT, "detach without a bound link fails with ENOENT (%d)", e2);
		err = fuse_bpf_link_attach(B.fd, link2_fd, COOKIE_B);
		check(err == 0, "a detached link can be bound again (%d)", err);
	}
	/* B goes away with link2 bound: the link survives, unbound */
	srv_stop(&B);
	rmdir(mntb);

	/* Hook: protocol minor < 9 (compat reply sizes) is never offered */
	srv_mount(&B, mntb, 8);
	srv_start(&B);
	usleep(100000);
	{
		uint64_t seen0 = b->seen[FUSE_LOOKUP] + b->seen[FUSE_GETATTR];

		err = fuse_bpf_link_attach(B.fd, link2_fd, COOKIE_B);
		valid_entry(&b->entry);
		arm(FUSE_LOOKUP, 1, "eightchr", KF_ENTRY, FUSE_BPF_HANDLED);
		snprintf(path, sizeof(path), "%s/eightchr", mntb);
		i = stat(path, &st) ? -errno : 0;
		disarm();
		check(err == 0 && i == 0 && st.st_size == FSIZE && b->acted == 0 &&
		      b->seen[FUSE_LOOKUP] + b->seen[FUSE_GETATTR] == seen0 &&
		      nops(&B, FUSE_LOOKUP) >= 1,
		      "protocol 7.8: the link of a torn-down connection attaches again (%d), but "
		      "requests are not offered to the program "
		      "(stat %d, size %lld, server LOOKUP %llu)", err, i, (long long)st.st_size,
		      (unsigned long long)nops(&B, FUSE_LOOKUP));
	}
	srv_stop(&B);
	rmdir(mntb);

	/* Hook: a connection whose INIT failed (fc->conn_error) is never offered */
	srv_mount(&B, mntb, 0);
	srv_start(&B);
	usleep(100000);
	{
		err = fuse_bpf_link_attach(B.fd, link2_fd, COOKIE_B);
		valid_entry(&b->entry);
		arm(FUSE_LOOKUP, 1, "eightchr", KF_ENTRY, FUSE_BPF_HANDLED);
		snprintf(path, sizeof(path), "%s/eightchr", mntb);
		i = stat(path, &st) ? -errno : 0;
		disarm();
		check(err == 0 && i == -ECONNREFUSED && b->acted == 0 && nops(&B, FUSE_LOOKUP) == 0,
		      "INIT refused: attached (%d), stat fails with ECONNREFUSED (%d), the program "
		      "is not called (%llu)", err, i, (unsigned long long)b->acted);
	}
	srv_stop(&B);
	rmdir(mntb);

	/* Link lifetime: BPF_LINK_DETACH unbinds; the link is then no longer ours */
	{
		int l3 = fuse_bpf_link_new(skel->maps.kf_ops), e1, e2, e3;
		uint64_t l1;

		e1 = ioctl(A.fd, FUSE_DEV_IOC_BPF_DETACH) ? -errno : 0;
		e2 = l3 >= 0 ? fuse_bpf_link_attach(A.fd, l3, COOKIE_A) : l3;
		valid_entry(&b->entry);
		arm(FUSE_LOOKUP, 1, "eightchr", KF_ENTRY, FUSE_BPF_HANDLED);
		l0 = nops(&A, FUSE_LOOKUP);
		stat_path("eightchr", &st);
		l1 = nops(&A, FUSE_LOOKUP);
		e3 = l3 >= 0 ? bpf_link_detach(l3) : l3;
		b->acted = 0;
		err = stat_path("eightchr", &st);
		disarm();
		check(e1 == 0 && e2 == 0 && l1 == l0 && e3 == 0 && err == 0 && b->acted == 0 &&
		      nops(&A, FUSE_LOOKUP) == l1 + 1 && st.st_size == FSIZE,
		      "BPF_LINK_DETACH (%d) of the bound link (%d): the program answered before "
		      "(%llu LOOKUP reached the server), not after (called %llu times, %llu LOOKUP "
		      "reached the server, size %lld)", e3, e2, (unsigned long long)(l1 - l0),
		      (unsigned long long)b->acted, (unsigned long long)(nops(&A, FUSE_LOOKUP) - l1),
		      (long long)st.st_size);
		e1 = ioctl(A.fd, FUSE_DEV_IOC_BPF_DETACH) ? -errno : 0;
		e2 = l3 >= 0 ? fuse_bpf_link_attach(A.fd, l3, COOKIE_A) : l3;
		check(e1 == -ENOENT && e2 == -EINVAL,
		      "after BPF_LINK_DETACH the connection is unbound (%d) and the link cannot "
		      "be bound again (%d)", e1, e2);
		if (l3 >= 0)
			close(l3);
	}
	/* Link lifetime: the link's last fd closed while bound: requests go to the server */
	{
		uint64_t l1;
		int e1;

		err = fuse_bpf_link_attach(A.fd, link_fd, COOKIE_A);
		valid_entry(&b->entry);
		arm(FUSE_LOOKUP, 1, "eightchr", KF_ENTRY, FUSE_BPF_HANDLED);
		l0 = nops(&A, FUSE_LOOKUP);
		stat_path("eightchr", &st);
		l1 = nops(&A, FUSE_LOOKUP);
		close(link_fd);
		link_fd = -1;
		b->acted = 0;
		i = stat_path("eightchr", &st);
		disarm();
		e1 = ioctl(A.fd, FUSE_DEV_IOC_BPF_DETACH) ? -errno : 0;
		check(err == 0 && l1 == l0 && i == 0 && b->acted == 0 &&
		      nops(&A, FUSE_LOOKUP) == l1 + 1 && st.st_size == FSIZE && e1 == -ENOENT,
		      "closing the bound link's fd: the program answered before (%llu LOOKUP "
		      "reached the server), not after (called %llu times, %llu LOOKUP reached the "
		      "server, size %lld); the connection is unbound (%d)",
		      (unsigned long long)(l1 - l0), (unsigned long long)b->acted,
		      (unsigned long long)(nops(&A, FUSE_LOOKUP) - l1), (long long)st.st_size, e1);
		err = fuse_bpf_link_attach(A.fd, link2_fd, COOKIE_A);
		check(err == 0, "another link of the same map binds to A (%d)", err);
	}

	/* Hook: an aborted connection is never offered to the program */
	{
		char ctl[128];
		int fd;

		mkdir("/sys/fs/fuse/connections", 0755);
		mount("fusectl", "/sys/fs/fuse/connections", "fusectl", 0, NULL);
		stat(A.mnt, &st);
		snprintf(ctl, sizeof(ctl), "/sys/fs/fuse/connections/%u/abort",
			 (unsigned int)st.st_dev);
		valid_attr(&b->attr);
		arm(FUSE_GETATTR, 1, NULL, KF_ATTR, FUSE_BPF_HANDLED);
		b->attr.attr.mode = S_IFDIR | 0755;
		b->attr.attr.ino = 1;
		fd = open(ctl, O_WRONLY);
		err = fd >= 0 && write(fd, "1", 1) == 1 ? 0 : -errno;
		if (fd >= 0)
			close(fd);
		i = stat(A.mnt, &st) ? -errno : 0;
		disarm();
		check(err == 0 && i == -ENOTCONN && b->acted == 0,
		      "after abort (%d) stat fails with ENOTCONN (%d) and the program is not "
		      "called (%llu)", err, i, (unsigned long long)b->acted);
	}
	srv_stop(&A);

	close(link2_fd);
	if (other_fd >= 0)
		close(other_fd);
	kf_other_link_bpf__destroy(other);
	kf_test_bpf__destroy(skel);
	printf("kf_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}

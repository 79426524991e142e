// SPDX-License-Identifier: GPL-2.0
/*
 * fp_test: guest-side test of the FUSE BPF request hook (kernel-patches/6.12)
 * and the bpf/fastpath programs.
 *
 * One process, two threads.  The server thread is a minimal FUSE server on
 * raw /dev/fuse (no libfuse) that exposes the regular files of one directory
 * (flat, read-only) and counts every request that reaches it, by opcode.
 * The main thread mounts it, loads the fast-path programs with their libbpf
 * skeleton, binds them to this connection only through a bpf_link
 * (FUSE_DEV_IOC_BPF_ATTACH),
 * fills the maps the way the daemon would after warm-up, and asserts:
 *   (a) stat and read results are identical with the hook attached and not;
 *   (b) with entry/attr timeouts 0, a stat storm and re-reads of cached files
 *       bring ZERO LOOKUP/GETATTR/READ to userspace, and for a partly cached
 *       file only READs touching uncached blocks do;
 *   (c) misses still upcall, and removing a map entry takes effect at once;
 *   (d) lookup counts stay exact: FORGET equals the server's own lookups plus
 *       the in-kernel counter;
 *   (e) the attach ioctl refuses bad link fds, double attach and so on;
 *   (f) the kernel refuses bad replies (root node id, invalid file type,
 *       unknown backing id) and the request is upcalled instead;
 *   (h) with tests/vm/bpf/fp_open answering read-only OPEN with
 *       FOPEN_PASSTHROUGH|FOPEN_NOFLUSH (and isatty's IOCTL with ENOTTY),
 *       a data loader's open/fstat/isatty/read/close loop over the files
 *       brings ZERO OPEN, FLUSH, RELEASE, IOCTL and READ to userspace, while
 *       a control run without the hook brings every one; a write open still
 *       reaches the server.
 * Prints "ok N - ..." / "not ok N - ..." lines and a summary; exits 0 only if
 * every check passed, 77 if the kernel has no hook.
 *
 * Usage: fp_test DATA_DIR MOUNTPOINT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/fuse.h>	/* the patched kernel's uapi header */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfuse/fastpath_abi.h"
#include "fastpath.skel.h"
#include "fp_open.skel.h"
#include "bpfuse/fuse_bpf_link.h"

#define TAP_PROG "fp_test"
#include "tap.h"

#define FP_SHIFT	16
#define FP_BLOCK	(1u << FP_SHIFT)
#define MAX_NODES	16
#define MAX_READS	4096
#define BUF_SIZE	(1u << 21)

struct node {
	uint64_t nodeid;
	char name[64];
	int fd;				/* O_RDONLY, served by the server */
	int backing_id;			/* 0 until registered */
	uint64_t data_version;		/* what its inode and block values carry */
	struct stat st;
	/* lookup accounting; under srv.lock */
	uint64_t own_lookups;
	uint64_t forgotten;
};

struct read_rec {
	uint64_t nodeid;
	uint64_t offset;
	uint32_t size;
};

static struct {
	int fd;
	const char *data_dir;
	const char *mnt;
	struct node nodes[MAX_NODES];
	int nr_nodes;
	pthread_mutex_t lock;
	uint64_t ops[64];		/* requests that reached us, by opcode */
	struct read_rec reads[MAX_READS];
	unsigned int nr_reads;
	int stop;
} srv = { .fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };


/* ---- server side ---- */

static struct node *node_get(uint64_t nodeid)
{
	if (nodeid < 2 || nodeid >= 2 + (uint64_t)srv.nr_nodes)
		return NULL;
	return &srv.nodes[nodeid - 2];
}

static void fill_attr(struct fuse_attr *a, uint64_t nodeid, const struct stat *st)
{
	memset(a, 0, sizeof(*a));
	a->ino = nodeid;
	a->size = st->st_size;
	a->blocks = st->st_blocks;
	a->atime = st->st_atim.tv_sec;
	a->atimensec = st->st_atim.tv_nsec;
	a->mtime = st->st_mtim.tv_sec;
	a->mtimensec = st->st_mtim.tv_nsec;
	a->ctime = st->st_ctim.tv_sec;
	a->ctimensec = st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = st->st_nlink;
	a->blksize = 4096;
}

static void root_attr(struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = FUSE_ROOT_ID;
	a->mode = S_IFDIR | 0755;
	a->nlink = 2;
	a->blksize = 4096;
}

static void reply(uint64_t unique, int err, const void *data, size_t len)
{
	struct fuse_out_header oh = {
		.len = sizeof(oh) + (err ? 0 : len),
		.error = err,
		.unique = unique,
	};
	struct iovec iov[2] = {
		{ &oh, sizeof(oh) },
		{ (void *)data, err ? 0 : len },
	};

	if (writev(srv.fd, iov, 2) < 0 && errno != ENOENT)
		fprintf(stderr, "fp_test: reply to %llu: %s\n",
			(unsigned long long)unique, strerror(errno));
}

static void forget_one(uint64_t nodeid, uint64_t n)
{
	struct node *nd = node_get(nodeid);

	if (nd)
		nd->forgotten += n;
}

static void serve_one(const char *buf, size_t len)
{
	const struct fuse_in_header *ih = (const void *)buf;
	const void *arg = buf + sizeof(*ih);
	struct node *nd;

	if (len < sizeof(*ih))
		return;

	pthread_mutex_lock(&srv.lock);
	if (ih->opcode < 64)
		srv.ops[ih->opcode]++;

	switch (ih->opcode) {
	case FUSE_INIT: {
		const struct fuse_init_in *in = arg;
		struct fuse_init_out out = {
			.major = FUSE_KERNEL_VERSION,
			.minor = 40,
			.max_readahead = in->max_readahead,
			.flags = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_MAX_PAGES |
				 FUSE_INIT_EXT,
			.flags2 = (uint32_t)(FUSE_PASSTHROUGH >> 32),
			.max_background = 16,
			.congestion_threshold = 12,
			.max_write = 1 << 20,
			.time_gran = 1,
			.max_pages = 256,
			.max_stack_depth = 1,
		};
		reply(ih->unique, 0, &out, sizeof(out));
		break;
	}
	case FUSE_LOOKUP: {
		const char *name = arg;
		struct fuse_entry_out out = { 0 };
		int i;

		nd = NULL;
		for (i = 0; ih->nodeid == FUSE_ROOT_ID && i < srv.nr_nodes; i++)
			if (!strcmp(srv.nodes[i].name, name))
				nd = &srv.nodes[i];
		if (!nd) {
			reply(ih->unique, -ENOENT, NULL, 0);
			break;
		}
		nd->own_lookups++;
		out.nodeid = nd->nodeid;
		out.generation = 1;
		fill_attr(&out.attr, nd->nodeid, &nd->st);
		reply(ih->unique, 0, &out, sizeof(out));
		break;
	}
	case FUSE_GETATTR: {
		struct fuse_attr_out out = { 0 };

		nd = node_get(ih->nodeid);
		if (ih->nodeid == FUSE_ROOT_ID)
			root_attr(&out.attr);
		else if (nd)
			fill_attr(&out.attr, nd->nodeid, &nd->st);
		else {
			reply(ih->unique, -ENOENT, NULL, 0);
			break;
		}
		reply(ih->unique, 0, &out, sizeof(out));
		break;
	}
	case FUSE_OPEN:
	case FUSE_OPENDIR: {
		struct fuse_open_out out = { .fh = ih->nodeid };

		reply(ih->unique, 0, &out, sizeof(out));
		break;
	}
	case FUSE_READ: {
		const struct fuse_read_in *in = arg;
		static char data[BUF_SIZE];
		ssize_t n;

		nd = node_get(ih->nodeid);
		if (!nd || in->size > sizeof(data)) {
			reply(ih->unique, -EIO, NULL, 0);
			break;
		}
		if (srv.nr_reads < MAX_READS)
			srv.reads[srv.nr_reads++] = (struct read_rec){
				ih->nodeid, in->offset, in->size };
		n = pread(nd->fd, data, in->size, in->offset);
		if (n < 0)
			reply(ih->unique, -errno, NULL, 0);
		else
			reply(ih->unique, 0, data, n);
		break;
	}
	case FUSE_FORGET: {
		const struct fuse_forget_in *in = arg;

		forget_one(ih->nodeid, in->nlookup);
		break;
	}
	case FUSE_BATCH_FORGET: {
		const struct fuse_batch_forget_in *in = arg;
		const struct fuse_forget_one *one = (const void *)(in + 1);
		uint32_t i;

		for (i = 0; i < in->count; i++)
			forget_one(one[i].nodeid, one[i].nlookup);
		break;
	}
	case FUSE_INTERRUPT:
		break;
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FLUSH:
	case FUSE_DESTROY:
		reply(ih->unique, 0, NULL, 0);
		break;
	default:
		reply(ih->unique, -ENOSYS, NULL, 0);
		break;
	}
	pthread_mutex_unlock(&srv.lock);
}

static void *server_thread(void *unused)
{
	static char buf[BUF_SIZE + 8192];
	ssize_t n;

	for (;;) {
		n = read(srv.fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR || errno == ENOENT || errno == EAGAIN)
				continue;
			if (errno != ENODEV)
				fprintf(stderr, "fp_test: read /dev/fuse: %s\n", strerror(errno));
			break;
		}
		serve_one(buf, n);
	}
	return NULL;
}

/* ---- test side ---- */

struct snap {
	uint64_t lookup, getattr, read, open, flush, release, ioctl;
};

static struct snap counts(void)
{
	struct snap s;

	pthread_mutex_lock(&srv.lock);
	s.lookup = srv.ops[FUSE_LOOKUP];
	s.getattr = srv.ops[FUSE_GETATTR];
	s.read = srv.ops[FUSE_READ];
	s.open = srv.ops[FUSE_OPEN];
	s.flush = srv.ops[FUSE_FLUSH];
	s.release = srv.ops[FUSE_RELEASE];
	s.ioctl = srv.ops[FUSE_IOCTL];
	pthread_mutex_unlock(&srv.lock);
	return s;
}

static void reads_reset(void)
{
	pthread_mutex_lock(&srv.lock);
	srv.nr_reads = 0;
	pthread_mutex_unlock(&srv.lock);
}

/* FNV-1a over the file read through the mount, in chunks of @chunk bytes */
static int file_sum(const char *name, int flags, size_t chunk, uint64_t *sum, uint64_t *len)
{
	static char buf[BUF_SIZE] __attribute__((aligned(4096)));
	char path[512];
	uint64_t h = 1469598103934665603ULL, total = 0;
	ssize_t n, i;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", srv.mnt, name);
	fd = open(path, O_RDONLY | flags);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, chunk)) > 0) {
		for (i = 0; i < n; i++)
			h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
		total += n;
	}
	if (n < 0)
		n = -errno;
	close(fd);
	*sum = h;
	*len = total;
	return n < 0 ? (int)n : 0;
}

struct result {
	int stat_err;
	struct stat st;
	int read_err;
	uint64_t sum, len;
	int dread_err;
	uint64_t dsum, dlen;
};

static void observe(const char *name, struct result *r)
{
	char path[512];

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/%s", srv.mnt, name);
	r->stat_err = stat(path, &r->st) ? -errno : 0;
	r->read_err = file_sum(name, 0, 100000, &r->sum, &r->len);
	r->dread_err = file_sum(name, O_DIRECT, 1 << 16, &r->dsum, &r->dlen);
}

static int same(const struct result *a, const struct result *b)
{
	return a->stat_err == b->stat_err && a->st.st_ino == b->st.st_ino &&
	       a->st.st_mode == b->st.st_mode && a->st.st_size == b->st.st_size &&
	       a->st.st_mtime == b->st.st_mtime && a->st.st_nlink == b->st.st_nlink &&
	       a->read_err == b->read_err && a->sum == b->sum && a->len == b->len &&
	       a->dread_err == b->dread_err && a->dsum == b->dsum && a->dlen == b->dlen;
}

static void make_file(const char *name, size_t size, unsigned int seed)
{
	char path[512];
	char *buf = malloc(size + 1);
	size_t i;
	int fd;

	if (!buf)
		die("out of memory");
	for (i = 0; i < size; i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = seed >> 16;
	}
	snprintf(path, sizeof(path), "%s/%s", srv.data_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, size) != (ssize_t)size || close(fd))
		die("cannot write '%s': %s", path, strerror(errno));
	free(buf);
}

static struct node *add_node(const char *name)
{
	char path[512];
	struct node *nd = &srv.nodes[srv.nr_nodes];

	snprintf(path, sizeof(path), "%s/%s", srv.data_dir, name);
	snprintf(nd->name, sizeof(nd->name), "%s", name);
	nd->nodeid = 2 + srv.nr_nodes;
	nd->data_version = 1;
	nd->fd = open(path, O_RDONLY);
	if (nd->fd < 0 || fstat(nd->fd, &nd->st))
		die("cannot open '%s': %s", path, strerror(errno));
	srv.nr_nodes++;
	return nd;
}

static struct node *by_name(const char *name)
{
	int i;

	for (i = 0; i < srv.nr_nodes; i++)
		if (!strcmp(srv.nodes[i].name, name))
			return &srv.nodes[i];
	die("no node '%s'", name);
	return NULL;
}

/* The maps as the daemon fills them: what it knows after warm-up */
static uint64_t map_version; /* unique per map write, as the daemon's */

static void fill_dentry(struct bpfuse_fp_dentry *de, const struct bpfuse_fp_dentry_key *key,
			uint64_t nodeid)
{
	memset(de, 0, sizeof(*de));
	de->v.parent = key->parent;
	de->v.name_hash = bpfuse_fp_name_hash(key);
	de->v.version = ++map_version;
	de->v.nodeid = nodeid;
	de->v.generation = 1;
}

static void fill_inode(struct bpfuse_fp_inode *ino, struct node *nd)
{
	struct fuse_attr fa;

	memset(ino, 0, sizeof(*ino));
	ino->v.nodeid = nd->nodeid;
	ino->v.version = ++map_version;
	ino->v.generation = 1;
	ino->v.data_version = nd->data_version;
	fill_attr(&fa, nd->nodeid, &nd->st);
	_Static_assert(sizeof(fa) == sizeof(ino->v.attr), "fuse_attr size");
	memcpy(&ino->v.attr, &fa, sizeof(fa));
}

static void fill_block(struct bpfuse_fp_block *blk, const struct bpfuse_fp_block_key *key,
		       uint32_t backing_id, uint64_t data_version)
{
	memset(blk, 0, sizeof(*blk));
	blk->v.nodeid = key->nodeid;
	blk->v.block = key->block;
	blk->v.version = ++map_version;
	blk->v.data_version = data_version;
	blk->v.backing_id = backing_id;
}

/* Writes as the daemon's: whole values, in place under the value's lock */
static int map_put(struct bpf_map *map, const void *key, size_t ksz, const void *val, size_t vsz)
{
	return bpf_map__update_elem(map, key, ksz, val, vsz, BPF_ANY | BPF_F_LOCK);
}

static int map_put_node(struct fastpath_bpf *skel, struct node *nd)
{
	struct bpfuse_fp_dentry_key key = { .parent = FUSE_ROOT_ID };
	struct bpfuse_fp_dentry de;
	struct bpfuse_fp_inode ino;
	uint64_t zero = 0;
	int err;

	snprintf(key.name, sizeof(key.name), "%s", nd->name);
	fill_inode(&ino, nd);
	fill_dentry(&de, &key, nd->nodeid);

	err = map_put(skel->maps.fp_inodes, &nd->nodeid, sizeof(nd->nodeid), &ino, sizeof(ino));
	/* Create the counter only once: it must never be reset while live */
	err = err ?: bpf_map__update_elem(skel->maps.fp_nlookup, &nd->nodeid,
					  sizeof(nd->nodeid), &zero, sizeof(zero), BPF_NOEXIST);
	if (err == -EEXIST)
		err = 0;
	err = err ?: map_put(skel->maps.fp_dentries, &key, sizeof(key), &de, sizeof(de));
	return err;
}

static int map_put_blocks(struct fastpath_bpf *skel, struct node *nd, uint64_t first,
			  uint64_t last)
{
	struct bpfuse_fp_block_key key = { .nodeid = nd->nodeid };
	struct bpfuse_fp_block val;
	uint64_t b;
	int err;

	for (b = first; b <= last; b++) {
		key.block = b;
		fill_block(&val, &key, (uint32_t)nd->backing_id, nd->data_version);
		err = map_put(skel->maps.fp_blocks, &key, sizeof(key), &val, sizeof(val));
		if (err)
			return err;
	}
	return 0;
}

static uint64_t map_nlookup(struct fastpath_bpf *skel, uint64_t nodeid)
{
	uint64_t v = 0;

	bpf_map__lookup_elem(skel->maps.fp_nlookup, &nodeid, sizeof(nodeid), &v,
			     sizeof(v), 0);
	return v;
}

static uint64_t map_stat(struct fastpath_bpf *skel, uint32_t idx)
{
	uint64_t vals[256] = { 0 }, sum = 0;
	int i, ncpus = libbpf_num_possible_cpus();

	if (ncpus <= 0 || ncpus > 256 ||
	    bpf_map__lookup_elem(skel->maps.fp_stats, &idx, sizeof(idx), vals,
				 sizeof(vals[0]) * ncpus, 0))
		return 0;
	for (i = 0; i < ncpus; i++)
		sum += vals[i];
	return sum;
}

static int stat_name(const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", srv.mnt, name);
	return stat(path, &st) ? -errno : 0;
}

#define FP_COOKIE	0xf0f0000000000010ull

static int attach_link(int link_fd)
{
	return fuse_bpf_link_attach(srv.fd, link_fd, FP_COOKIE);
}

/*
 * One turn of a data loader's loop over @name: open, fstat, isatty (as
 * Python's open() does), read it all, close.  Returns 0 if every step
 * worked and the data's sum and length are @want's.
 */
static int loader_turn(const char *name, const struct result *want)
{
	static char buf[BUF_SIZE];
	uint64_t h = 1469598103934665603ULL, total = 0;
	char path[512];
	struct stat st;
	ssize_t n, i;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", srv.mnt, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size != want->st.st_size)
		err = -EIO;
	if (isatty(fd) || errno != ENOTTY)
		err = -EIO;
	while ((n = read(fd, buf, 100000)) > 0) {
		for (i = 0; i < n; i++)
			h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
		total += n;
	}
	if (n < 0 || h != want->sum || total != want->len)
		err = -EIO;
	if (close(fd))
		err = -errno;
	return err;
}

/* RELEASE is sent in the background: wait until the counts settle */
static struct snap counts_settled(void)
{
	struct snap a = counts(), b;
	int tries;

	for (tries = 0; tries < 50; tries++) {
		usleep(20000);
		b = counts();
		if (!memcmp(&a, &b, sizeof(a)))
			break;
		a = b;
	}
	return a;
}

static int notify_inval_entry(uint64_t parent, const char *name)
{
	struct fuse_notify_inval_entry_out out = {
		.parent = parent,
		.namelen = strlen(name),
	};
	struct fuse_out_header oh = {
		.len = sizeof(oh) + sizeof(out) + strlen(name) + 1,
		.error = FUSE_NOTIFY_INVAL_ENTRY,
	};
	struct iovec iov[3] = {
		{ &oh, sizeof(oh) },
		{ &out, sizeof(out) },
		{ (void *)name, strlen(name) + 1 },
	};

	return writev(srv.fd, iov, 3) < 0 ? -errno : 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const char *files[] = { "small.txt", "big.bin", "partial.bin", "extra.txt" };
#define NR_FILES (sizeof(files) / sizeof(files[0]))

#define LOADER_TURNS	20
#define LOADER_FILES	3	/* small.txt, big.bin, partial.bin */

/* One run of the loader over the first LOADER_FILES files, LOADER_TURNS times: the
 * server's counts before and after (settled) in @s0/@s1; returns the turns that failed. */
static int loader_epoch(const struct result *want, struct snap *s0, struct snap *s1)
{
	unsigned int r, i;
	int bad = 0;

	*s0 = counts_settled();
	for (r = 0; r < LOADER_TURNS; r++)
		for (i = 0; i < LOADER_FILES; i++)
			bad += loader_turn(files[i], &want[i]) != 0;
	*s1 = counts_settled();
	return bad;
}

static void open_test(const struct result *want)
{
	const unsigned int n = LOADER_TURNS * LOADER_FILES;
	struct fp_open_bpf *op = NULL;
	struct snap s0, s1;
	unsigned int i;
	int err, bad, lfd = -1;

	/* Control: no hook, every turn sends OPEN, FLUSH, RELEASE, IOCTL up */
	bad = loader_epoch(want, &s0, &s1);
	check(bad == 0 && s1.open - s0.open >= n && s1.flush - s0.flush >= n &&
	      s1.release - s0.release >= n && s1.ioctl - s0.ioctl >= n,
	      "control: %u loader turns without the hook (%d failed) bring %llu OPEN, %llu FLUSH, "
	      "%llu RELEASE, %llu IOCTL to userspace (want >= %u each)", n, bad,
	      (unsigned long long)(s1.open - s0.open), (unsigned long long)(s1.flush - s0.flush),
	      (unsigned long long)(s1.release - s0.release),
	      (unsigned long long)(s1.ioctl - s0.ioctl), n);

	op = fp_open_bpf__open();
	err = op ? fuse_bpf_link_prepare(op->maps.fp_open_ops) : -ENOENT;
	err = err ?: fp_open_bpf__load(op);
	for (i = 0; !err && i < LOADER_FILES; i++) {
		struct node *nd = by_name(files[i]);
		struct { uint32_t open_flags; int32_t backing_id; } v = {
			FOPEN_PASSTHROUGH | FOPEN_NOFLUSH, nd->backing_id };

		err = bpf_map__update_elem(op->maps.opens, &nd->nodeid, sizeof(nd->nodeid), &v,
					   sizeof(v), BPF_ANY);
	}
	if (!err)
		op->bss->enotty = 1;
	lfd = err ? err : fuse_bpf_link_create(op->maps.fp_open_ops);
	err = lfd < 0 ? lfd : attach_link(lfd);
	check(err == 0, "fp_open loads, links and attaches (%d)", err);
	if (err)
		goto out;

	bad = loader_epoch(want, &s0, &s1);
	check(bad == 0 && op->bss->opens_answered == n && op->bss->ioctls_answered == n,
	      "%u loader turns with the hook: %d failed or read wrong data; BPF answered %llu "
	      "OPEN, %llu IOCTL (want %u each; %llu refused by the kernel)", n, bad,
	      (unsigned long long)op->bss->opens_answered,
	      (unsigned long long)op->bss->ioctls_answered, n,
	      (unsigned long long)op->bss->opens_refused);
	check(s1.open == s0.open && s1.flush == s0.flush && s1.release == s0.release &&
	      s1.ioctl == s0.ioctl && s1.read == s0.read,
	      "the loop at timeouts 0 brings %llu OPEN, %llu FLUSH, %llu RELEASE, %llu IOCTL, "
	      "%llu READ to userspace (want 0 each; passthrough reads)",
	      (unsigned long long)(s1.open - s0.open), (unsigned long long)(s1.flush - s0.flush),
	      (unsigned long long)(s1.release - s0.release),
	      (unsigned long long)(s1.ioctl - s0.ioctl), (unsigned long long)(s1.read - s0.read));
	check(op->bss->cookie == FP_COOKIE, "fp_open saw this connection's cookie (%#llx)",
	      (unsigned long long)op->bss->cookie);

	/* A write open is the server's */
	{
		char path[512];
		uint64_t passed = op->bss->opens_passed;
		int fd;

		snprintf(path, sizeof(path), "%s/small.txt", srv.mnt);
		s0 = counts_settled();
		fd = open(path, O_WRONLY);
		if (fd >= 0)
			close(fd);
		s1 = counts_settled();
		check(fd >= 0 && s1.open == s0.open + 1 && s1.release == s0.release + 1 &&
		      op->bss->opens_passed == passed + 1,
		      "a write open with the hook reaches the server: %llu OPEN, %llu RELEASE "
		      "(want 1 each)", (unsigned long long)(s1.open - s0.open),
		      (unsigned long long)(s1.release - s0.release));
	}
	check(ioctl(srv.fd, FUSE_DEV_IOC_BPF_DETACH) == 0, "detach fp_open");
out:
	if (lfd >= 0)
		close(lfd);
	fp_open_bpf__destroy(op);
}

int main(int argc, char **argv)
{
	struct result before[NR_FILES], after[NR_FILES], detached[NR_FILES];
	struct fastpath_bpf *skel = NULL;
	int link_fd = -1;
	struct snap s0, s1;
	pthread_t thr;
	char opts[256];
	unsigned int i, r;
	int err, hits;

	if (argc != 3) {
		fprintf(stderr, "usage: fp_test DATA_DIR MOUNTPOINT\n");
		return 2;
	}
	srv.data_dir = argv[1];
	srv.mnt = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);

	mkdir(srv.data_dir, 0755);
	mkdir(srv.mnt, 0755);
	make_file("small.txt", 5000, 1);
	make_file("big.bin", 16 * FP_BLOCK, 2);
	make_file("partial.bin", 8 * FP_BLOCK + 1234, 3);
	make_file("extra.txt", 3000, 4);
	for (i = 0; i < NR_FILES; i++)
		add_node(files[i]);

	srv.fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (srv.fd < 0)
		die("open /dev/fuse: %s", strerror(errno));
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other",
		 srv.fd);
	if (mount("fp_test", srv.mnt, "fuse", MS_NOSUID | MS_NODEV, opts))
		die("mount: %s", strerror(errno));
	if (pthread_create(&thr, NULL, server_thread, NULL))
		die("pthread_create failed");

	/* (a) baseline, no hook; also the warm-up that teaches the daemon */
	for (i = 0; i < NR_FILES; i++)
		observe(files[i], &before[i]);
	check(before[0].stat_err == 0 && before[0].len == 5000 && before[1].len == 16 * FP_BLOCK,
	      "plain FUSE serves the files (no hook attached)");
	/* Control: without the hook, timeouts 0 send every stat to us */
	s0 = counts();
	for (r = 0; r < 20; r++)
		for (i = 0; i < 3; i++)
			stat_name(files[i]);
	s1 = counts();
	/* both, or the storm's "0 GETATTR" below would prove nothing */
	check(s1.lookup - s0.lookup >= 60 && s1.getattr - s0.getattr >= 60,
	      "control: 60 stats without the hook bring %llu LOOKUP, %llu GETATTR to userspace "
	      "(want >= 60 each)",
	      (unsigned long long)(s1.lookup - s0.lookup),
	      (unsigned long long)(s1.getattr - s0.getattr));

	/* (e) the ioctl before any link exists */
	err = attach_link(-1);
	if (err == -ENOTTY || err == -EOPNOTSUPP) {
		printf("fp_test: kernel has no FUSE BPF hook (%s)\n", strerror(-err));
		umount2(srv.mnt, MNT_DETACH);
		return 77;
	}
	check(err == -EBADF, "attach of link fd -1 fails with EBADF (%d)", err);
	check(attach_link(srv.fd) == -EINVAL, "attach of an fd that is not a link fails with EINVAL");
	check(ioctl(srv.fd, FUSE_DEV_IOC_BPF_DETACH) && errno == ENOENT,
	      "detach without an attached ops fails with ENOENT");

	skel = fastpath_bpf__open();
	if (!skel)
		die("cannot open the BPF skeleton");
	skel->rodata->block_shift = FP_SHIFT;
	err = fuse_bpf_link_prepare(skel->maps.bpfuse_ops);
	err = err ?: fastpath_bpf__load(skel);
	check(err == 0, "fast-path programs load and pass the verifier (%d)", err);
	if (err)
		goto out;
	link_fd = fuse_bpf_link_create(skel->maps.bpfuse_ops);
	check(link_fd >= 0, "a bpf_link of the fast-path struct fuse_bpf_ops (%d)", link_fd);
	if (link_fd < 0)
		goto out;

	/* Backing files, as the daemon registers its cache files */
	for (i = 0; i < (unsigned int)srv.nr_nodes; i++) {
		struct fuse_backing_map map = { .fd = srv.nodes[i].fd };

		srv.nodes[i].backing_id = ioctl(srv.fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
		if (srv.nodes[i].backing_id <= 0)
			die("FUSE_DEV_IOC_BACKING_OPEN: %s", strerror(errno));
	}

	/* Maps: every file but extra.txt; partial.bin has blocks 0-3 of 0-8 */
	err = 0;
	for (i = 0; i < 3; i++)
		err = err ?: map_put_node(skel, by_name(files[i]));
	err = err ?: map_put_blocks(skel, by_name("small.txt"), 0, 0);
	err = err ?: map_put_blocks(skel, by_name("big.bin"), 0, 15);
	err = err ?: map_put_blocks(skel, by_name("partial.bin"), 0, 3);
	check(err == 0, "maps filled (%d)", err);

	check(attach_link(link_fd) == 0, "attach the link to this connection");
	check(attach_link(link_fd) == -EBUSY, "second attach fails with EBUSY");

	/* (b) stat storm and re-reads of cached files: nothing reaches us */
	s0 = counts();
	for (r = 0; r < 200; r++)
		for (i = 0; i < 3; i++)
			if (stat_name(files[i]))
				failures++;
	s1 = counts();
	check(s1.lookup == s0.lookup && s1.getattr == s0.getattr,
	      "stat storm of 600 stats: %llu LOOKUP, %llu GETATTR reached userspace (want 0)",
	      (unsigned long long)(s1.lookup - s0.lookup),
	      (unsigned long long)(s1.getattr - s0.getattr));

	s0 = counts();
	for (r = 0; r < 3; r++) {
		for (i = 0; i < 2; i++)
			observe(files[i], &after[i]);
	}
	s1 = counts();
	check(s1.lookup == s0.lookup && s1.getattr == s0.getattr && s1.read == s0.read,
	      "re-reading cached files (buffered and O_DIRECT): %llu LOOKUP, %llu GETATTR, "
	      "%llu READ reached userspace (want 0; OPEN %llu)",
	      (unsigned long long)(s1.lookup - s0.lookup),
	      (unsigned long long)(s1.getattr - s0.getattr),
	      (unsigned long long)(s1.read - s0.read), (unsigned long long)(s1.open - s0.open));

	/* Partly cached: only READs that touch blocks 4.. may reach us */
	reads_reset();
	s0 = counts();
	observe("partial.bin", &after[2]);
	s1 = counts();
	pthread_mutex_lock(&srv.lock);
	hits = 0;
	for (r = 0; r < srv.nr_reads; r++) {
		uint64_t end = srv.reads[r].offset + srv.reads[r].size;

		if (srv.reads[r].nodeid == by_name("partial.bin")->nodeid &&
		    end <= 4 * FP_BLOCK)
			hits++;
	}
	pthread_mutex_unlock(&srv.lock);
	check(s1.read > s0.read && hits == 0,
	      "partly cached file: %llu READ upcalls, %d of them for cached blocks (want >0, 0)",
	      (unsigned long long)(s1.read - s0.read), hits);
	observe("extra.txt", &after[3]);

	for (i = 0; i < NR_FILES; i++)
		check(same(&before[i], &after[i]), "'%s' identical with the hook attached",
		      files[i]);

	/* (c) misses upcall; removing an entry takes effect at once */
	s0 = counts();
	check(stat_name("extra.txt") == 0 && counts().lookup > s0.lookup,
	      "a name missing from the map is looked up by the server");
	check(stat_name("nosuch") == -ENOENT, "a missing name is still ENOENT");
	{
		struct bpfuse_fp_dentry_key key = { .parent = FUSE_ROOT_ID };
		uint64_t nodeid = by_name("big.bin")->nodeid;
		struct bpfuse_fp_block_key bkey = { .nodeid = nodeid, .block = 7 };
		uint64_t sum, len;

		snprintf(key.name, sizeof(key.name), "small.txt");
		s0 = counts();
		check(stat_name("small.txt") == 0 && counts().lookup == s0.lookup,
		      "small.txt served from the map");
		bpf_map__delete_elem(skel->maps.fp_dentries, &key, sizeof(key), 0);
		s0 = counts();
		check(stat_name("small.txt") == 0 && counts().lookup == s0.lookup + 1,
		      "after deleting its dentry entry, the next stat upcalls LOOKUP");

		s0 = counts();
		bpf_map__delete_elem(skel->maps.fp_inodes, &nodeid, sizeof(nodeid), 0);
		check(stat_name("big.bin") == 0 && counts().getattr > s0.getattr,
		      "after deleting its inode entry, stat upcalls GETATTR");
		map_put_node(skel, by_name("big.bin"));

		bpf_map__delete_elem(skel->maps.fp_blocks, &bkey, sizeof(bkey), 0);
		reads_reset();
		s0 = counts();
		err = file_sum("big.bin", O_DIRECT, 1 << 16, &sum, &len);
		s1 = counts();
		check(err == 0 && sum == before[1].dsum && s1.read == s0.read + 1,
		      "after deleting block 7, exactly one O_DIRECT READ upcalls (%llu)",
		      (unsigned long long)(s1.read - s0.read));
	}

	/*
	 * (g) consistent reads: a value that does not name its key (what an
	 * element deleted and reused for another key looks like) or has no
	 * write version is never served; the request upcalls and is counted.
	 */
	{
		struct node *big = by_name("big.bin"), *small = by_name("small.txt");
		struct bpfuse_fp_dentry_key key = { .parent = FUSE_ROOT_ID };
		struct bpfuse_fp_dentry_key other = { .parent = FUSE_ROOT_ID };
		struct bpfuse_fp_block_key bkey = { .nodeid = big->nodeid, .block = 3 };
		struct bpfuse_fp_inode ino;
		struct bpfuse_fp_dentry de;
		struct bpfuse_fp_block blk;
		uint64_t u0, sum, len;

		map_put_blocks(skel, big, 7, 7); /* deleted in (c) */
		fill_inode(&ino, big);
		ino.v.nodeid = small->nodeid;
		map_put(skel->maps.fp_inodes, &big->nodeid, sizeof(big->nodeid), &ino, sizeof(ino));
		u0 = map_stat(skel, BPFUSE_FP_STAT_UNSTABLE);
		s0 = counts();
		check(stat_name("big.bin") == 0 && counts().getattr > s0.getattr &&
		      map_stat(skel, BPFUSE_FP_STAT_UNSTABLE) > u0,
		      "an inode value naming another nodeid is not served (GETATTR upcalls)");

		fill_inode(&ino, big);
		ino.v.version = 0;
		map_put(skel->maps.fp_inodes, &big->nodeid, sizeof(big->nodeid), &ino, sizeof(ino));
		s0 = counts();
		check(stat_name("big.bin") == 0 && counts().getattr > s0.getattr,
		      "an inode value without a write version is not served");
		map_put_node(skel, big);
		s0 = counts();
		check(stat_name("big.bin") == 0 && counts().getattr == s0.getattr &&
		      counts().lookup == s0.lookup, "rewritten whole, big.bin is served again");

		snprintf(key.name, sizeof(key.name), "big.bin");
		snprintf(other.name, sizeof(other.name), "small.txt");
		fill_dentry(&de, &other, big->nodeid); /* the name hash of another name */
		map_put(skel->maps.fp_dentries, &key, sizeof(key), &de, sizeof(de));
		u0 = map_stat(skel, BPFUSE_FP_STAT_UNSTABLE);
		s0 = counts();
		check(stat_name("big.bin") == 0 && counts().lookup > s0.lookup &&
		      map_stat(skel, BPFUSE_FP_STAT_UNSTABLE) > u0,
		      "a dentry value naming another name is not served (LOOKUP upcalls)");
		map_put_node(skel, big);

		bkey.block = 2; /* block 3's entry claims to be block 2 */
		fill_block(&blk, &bkey, (uint32_t)big->backing_id, big->data_version);
		bkey.block = 3;
		map_put(skel->maps.fp_blocks, &bkey, sizeof(bkey), &blk, sizeof(blk));
		reads_reset();
		s0 = counts();
		err = file_sum("big.bin", O_DIRECT, 1 << 16, &sum, &len);
		s1 = counts();
		check(err == 0 && sum == before[1].dsum && s1.read == s0.read + 1,
		      "a block value naming another block is not served (%llu READ upcalls, want 1)",
		      (unsigned long long)(s1.read - s0.read));
		map_put_blocks(skel, big, 3, 3);
	}

	/*
	 * (i) data versions: a block published for other bytes than the inode
	 * value's data_version describes is never served; one inode write
	 * (a new data_version) makes all of a file's blocks stale; publishing
	 * them again with it serves them again.
	 */
	{
		struct node *big = by_name("big.bin");
		struct bpfuse_fp_block_key bkey = { .nodeid = big->nodeid, .block = 5 };
		struct bpfuse_fp_block blk;
		uint64_t m0, sum, len;

		s0 = counts();
		err = file_sum("big.bin", O_DIRECT, 1 << 16, &sum, &len);
		s1 = counts();
		check(err == 0 && sum == before[1].dsum && s1.read == s0.read,
		      "data version: big.bin's 16 blocks of its inode's data_version are served "
		      "(%llu READ upcalls, want 0)", (unsigned long long)(s1.read - s0.read));

		fill_block(&blk, &bkey, (uint32_t)big->backing_id, big->data_version + 1);
		map_put(skel->maps.fp_blocks, &bkey, sizeof(bkey), &blk, sizeof(blk));
		reads_reset();
		m0 = map_stat(skel, BPFUSE_FP_STAT_READ_MISS);
		s0 = counts();
		err = file_sum("big.bin", O_DIRECT, 1 << 16, &sum, &len);
		s1 = counts();
		check(err == 0 && sum == before[1].dsum && s1.read == s0.read + 1 &&
		      srv.nr_reads == 1 && srv.reads[0].offset == 5ULL * FP_BLOCK &&
		      map_stat(skel, BPFUSE_FP_STAT_READ_MISS) == m0 + 1,
		      "data version: block 5 of another data_version is not served (%llu READ "
		      "upcalls, want 1, for block 5; %llu misses counted)",
		      (unsigned long long)(s1.read - s0.read),
		      (unsigned long long)(map_stat(skel, BPFUSE_FP_STAT_READ_MISS) - m0));

		/* the daemon's bump: one inode write, the blocks untouched */
		big->data_version += 2;
		check(map_put_node(skel, big) == 0, "data version: big.bin's inode value bumped");
		m0 = map_stat(skel, BPFUSE_FP_STAT_READ_MISS);
		s0 = counts();
		err = file_sum("big.bin", O_DIRECT, 1 << 16, &sum, &len);
		s1 = counts();
		check(err == 0 && sum == before[1].dsum && s1.read >= s0.read + 16 &&
		      map_stat(skel, BPFUSE_FP_STAT_READ_MISS) >= m0 + 16,
		      "data version: after the inode's bump none of its 16 old blocks is served "
		      "(%llu READ upcalls, want 16)", (unsigned long long)(s1.read - s0.read));
		s0 = counts();
		check(stat_name("big.bin") == 0 && counts().getattr == s0.getattr &&
		      counts().lookup == s0.lookup,
		      "data version: the bumped inode value still serves LOOKUP and GETATTR");

		check(map_put_blocks(skel, big, 0, 15) == 0,
		      "data version: big.bin's blocks published again with the new version");
		s0 = counts();
		err = file_sum("big.bin", O_DIRECT, 1 << 16, &sum, &len);
		s1 = counts();
		check(err == 0 && sum == before[1].dsum && s1.read == s0.read,
		      "data version: re-published, all 16 blocks are served again (%llu READ "
		      "upcalls, want 0)", (unsigned long long)(s1.read - s0.read));
	}

	/* (f) replies the kernel must refuse; the request then upcalls */
	{
		struct bpfuse_fp_dentry_key key = { .parent = FUSE_ROOT_ID };
		struct bpfuse_fp_dentry de;
		struct bpfuse_fp_inode ino;
		struct node *nd = by_name("extra.txt");
		struct bpfuse_fp_block_key bkey = { .nodeid = nd->nodeid, .block = 0 };
		struct bpfuse_fp_block blk;
		uint64_t root = FUSE_ROOT_ID, zero = 0, e0, sum, len;
		struct result res;

		/* "rootalias" -> FUSE_ROOT_ID: refused, the server says ENOENT */
		fill_inode(&ino, nd);
		ino.v.nodeid = root;
		root_attr((struct fuse_attr *)&ino.v.attr);
		snprintf(key.name, sizeof(key.name), "rootalias");
		fill_dentry(&de, &key, FUSE_ROOT_ID);
		map_put(skel->maps.fp_inodes, &root, sizeof(root), &ino, sizeof(ino));
		bpf_map__update_elem(skel->maps.fp_nlookup, &root, sizeof(root), &zero,
				     sizeof(zero), BPF_NOEXIST);
		map_put(skel->maps.fp_dentries, &key, sizeof(key), &de, sizeof(de));
		e0 = map_stat(skel, BPFUSE_FP_STAT_KFUNC_ERR);
		s0 = counts();
		err = stat_name("rootalias");
		check(err == -ENOENT && counts().lookup == s0.lookup + 1 &&
		      map_stat(skel, BPFUSE_FP_STAT_KFUNC_ERR) == e0 + 1,
		      "an entry naming FUSE_ROOT_ID is refused by the kernel and upcalled (%d)",
		      err);
		bpf_map__delete_elem(skel->maps.fp_inodes, &root, sizeof(root), 0);

		/* extra.txt with no file type in its mode */
		map_put_node(skel, nd);
		bpf_map__lookup_elem(skel->maps.fp_inodes, &nd->nodeid, sizeof(nd->nodeid),
				     &ino, sizeof(ino), BPF_F_LOCK);
		ino.v.attr.mode &= 07777;
		ino.v.version = ++map_version;
		map_put(skel->maps.fp_inodes, &nd->nodeid, sizeof(nd->nodeid), &ino, sizeof(ino));
		e0 = map_stat(skel, BPFUSE_FP_STAT_KFUNC_ERR);
		s0 = counts();
		err = stat_name("extra.txt");
		s1 = counts();
		check(err == 0 && s1.lookup > s0.lookup &&
		      map_stat(skel, BPFUSE_FP_STAT_KFUNC_ERR) > e0,
		      "attributes without a file type are refused and upcalled");

		/* a block in a backing id this connection never registered */
		map_put_node(skel, nd);
		fill_block(&blk, &bkey, 9999, nd->data_version);
		map_put(skel->maps.fp_blocks, &bkey, sizeof(bkey), &blk, sizeof(blk));
		e0 = map_stat(skel, BPFUSE_FP_STAT_KFUNC_ERR);
		s0 = counts();
		err = file_sum("extra.txt", O_DIRECT, 1 << 16, &sum, &len);
		s1 = counts();
		check(err == 0 && sum == before[3].dsum && s1.read > s0.read &&
		      map_stat(skel, BPFUSE_FP_STAT_KFUNC_ERR) > e0,
		      "a READ from an unknown backing id is refused and upcalled");
		observe("extra.txt", &res);
		check(same(&before[3], &res), "'extra.txt' still identical");
		check(map_stat(skel, BPFUSE_FP_STAT_LOOKUP_HIT) > 0 &&
		      map_stat(skel, BPFUSE_FP_STAT_GETATTR_HIT) > 0 &&
		      map_stat(skel, BPFUSE_FP_STAT_READ_HIT) > 0,
		      "BPF counted hits: %llu LOOKUP, %llu GETATTR, %llu READ",
		      (unsigned long long)map_stat(skel, BPFUSE_FP_STAT_LOOKUP_HIT),
		      (unsigned long long)map_stat(skel, BPFUSE_FP_STAT_GETATTR_HIT),
		      (unsigned long long)map_stat(skel, BPFUSE_FP_STAT_READ_HIT));
	}

	/* (d) exact lookup counts: invalidate big.bin, FORGET must add up */
	{
		struct node *nd = by_name("big.bin");
		uint64_t want, got = 0, own = 0;
		int tries;

		err = notify_inval_entry(FUSE_ROOT_ID, "big.bin");
		for (tries = 0; tries < 200; tries++) {
			pthread_mutex_lock(&srv.lock);
			got = nd->forgotten;
			own = nd->own_lookups;
			pthread_mutex_unlock(&srv.lock);
			if (got)
				break;
			usleep(10000);
		}
		want = own + map_nlookup(skel, nd->nodeid);
		check(err == 0 && got == want,
		      "FORGET of big.bin: kernel forgot %llu = %llu server lookups + %llu in BPF",
		      (unsigned long long)got, (unsigned long long)own,
		      (unsigned long long)map_nlookup(skel, nd->nodeid));
	}

	/* Detach: everything upcalls again, results unchanged */
	check(ioctl(srv.fd, FUSE_DEV_IOC_BPF_DETACH) == 0, "detach by ioctl");
	s0 = counts();
	for (i = 0; i < NR_FILES; i++)
		observe(files[i], &detached[i]);
	s1 = counts();
	check(s1.lookup > s0.lookup && s1.getattr > s0.getattr && s1.read > s0.read,
	      "after detach, LOOKUP/GETATTR/READ reach userspace again");
	for (i = 0; i < NR_FILES; i++)
		check(same(&before[i], &detached[i]), "'%s' identical after detach", files[i]);

	/* (h) the data loader's loop: OPEN, FLUSH, RELEASE, IOCTL answered in BPF */
	open_test(before);

	/* Attach again, then leave it attached: unmount must drop the binding */
	check(attach_link(link_fd) == 0, "re-attach after detach");
out:
	if (umount2(srv.mnt, 0))
		check(0, "umount: %s", strerror(errno));
	pthread_join(thr, NULL);
	if (link_fd >= 0)
		close(link_fd);
	fastpath_bpf__destroy(skel);
	close(srv.fd);

	printf("fp_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
#include "fastpath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/fuse.h>

#include "bpfuse/fastpath_abi.h"
#include "bpfuse/fuse_bpf_link.h"
#include "log.h"
#include "pubseq.h"

#define NSEC_PER_SEC 1000000000ULL

/* pubseq keys: a node's attributes, and the names in a directory */
#define ATTR_KEY(nodeid) ((nodeid) << 1)
#define DIR_KEY(parent) (((parent) << 1) | 1)
/*
 * A directory's negative entries: marked after a create put the name in
 * the source, so that a LOOKUP which read "no such name" before cannot
 * publish it; positive entries do not check it (the create's own reply
 * publishes one).  Node ids stay far below 2^62, so this never equals the
 * other two keys (a shared stripe only skips publications).
 */
#define NEG_KEY(parent) (DIR_KEY(parent) | (1ULL << 63))

/*
 * The maps the daemon fills: sized before load, their inserts refused for
 * want of room counted (docs/kernel-hook.md, "Map sizes").
 */
enum { FP_DENTRIES, FP_INODES, FP_NLOOKUP, FP_BLOCKS, FP_NMAPS };

struct fp_map {
	const char *name;     /* BPFUSE_FP_*_MAP */
	const char *option;   /* the mount option that sizes it */
	int fd;
	uint32_t max_entries;
	uint64_t base_bytes;  /* the kernel's memlock of the empty map (right after load) */
	uint64_t elem_bytes;  /* what one element adds to it (see fp_map_elem_bytes()) */
	uint64_t full;        /* inserts refused: map full (E2BIG) or no memory (ENOMEM) (atomic) */
	int warned;           /* the one-time warning was logged (atomic) */
};

_Static_assert(FP_NMAPS == FASTPATH_NMAPS, "fastpath_stats.maps");

struct fastpath {
	struct bpf_object *obj;
	/*
	 * The struct_ops link bound to the connection: its fd (-1 if none);
	 * closing it unbinds the programs from the connection.
	 */
	int link_fd;
	int fuse_fd;
	int attached;
	int dentries, inodes, nlookup, blocks, stats; /* map fds */
	struct fp_map maps[FP_NMAPS];
	uint64_t entry_ttl_ns, attr_ttl_ns;
	uint64_t max_age_ns; /* fastpath_max_age: values carry expires_ns = now + this (0: none) */
	uint64_t version; /* last write version given to a map value (atomic) */
	struct pubseq seq; /* attributes by ATTR_KEY(nodeid), names by DIR_KEY(parent) */
	int stopped;       /* fastpath_flush(stop): nothing is published any more (atomic) */
	uint64_t flushes;  /* fastpath_flush() calls (atomic) */
	/* negative dentries in the map (atomic, approximate after a flush), at most negative_max */
	int64_t negatives;
	int64_t negative_max;
	uint64_t negatives_refused; /* not published: negative_max reached (atomic) */
	/* inodes whose backing id is published for OPEN (fastpath_count_open(), atomic) */
	int64_t opens;
	uint64_t opens_refused;
	int64_t block_files, file_blocks;
	uint64_t block_files_refused;
	/*
	 * fastpath_sync(): a one-slot BPF_MAP_TYPE_ARRAY_OF_MAPS whose update
	 * makes the kernel wait for an RCU grace period (syscall.c
	 * maybe_wait_bpf_programs()), and the inner array put in its slot.
	 */
	int sync_outer, sync_inner;
	uint64_t syncs, sync_failures, sync_ns; /* (atomic) */
};

/*
 * struct fuse_bpf_ops is in vmlinux's BTF with FUSE built in, in the fuse
 * module's split BTF (/sys/kernel/btf/fuse) with FUSE built as a module.
 */
int fastpath_probe(char *why, size_t whylen)
{
	struct btf *btf = btf__load_vmlinux_btf(), *mod;
	int found;

	if (!btf) {
		snprintf(why, whylen, "the kernel exposes no BTF");
		return 0;
	}
	found = btf__find_by_name_kind(btf, "fuse_bpf_ops", BTF_KIND_STRUCT) >= 0;
	if (!found) {
		mod = btf__load_module_btf("fuse", btf);
		found = mod && btf__find_by_name_kind(mod, "fuse_bpf_ops", BTF_KIND_STRUCT) >= 0;
		btf__free(mod);
	}
	btf__free(btf);
	if (!found)
		snprintf(why, whylen, "the kernel has no FUSE BPF hook (kernel-patches/6.12)");
	return found;
}

static uint64_t ttl_ns(double s)
{
	return s <= 0 ? 0 : (uint64_t)(s * 1e9);
}

/*
 * The kernel's own count of the memory a map pins: "memlock" in the map fd's
 * fdinfo (bpf_map_memory_usage(), kernel/bpf/syscall.c).  0 if unreadable.
 */
static uint64_t map_memlock(int fd)
{
	unsigned long long v = 0;
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * What one element of a BPF_F_NO_PREALLOC hash map adds to its memlock:
 * htab_map_mem_usage() in 6.12 counts (elem_size + sizeof(struct llist_node))
 * per element, elem_size = sizeof(struct htab_elem) + key and value each
 * rounded up to 8.  struct htab_elem's size comes from the kernel's BTF (48
 * on 64-bit 6.12 if that is unreadable).
 */
static uint64_t fp_map_elem_bytes(const struct btf *vmlinux, uint32_t key_size,
				  uint32_t value_size)
{
	int64_t helem = 48;
	int id;

	if (vmlinux) {
		id = btf__find_by_name_kind(vmlinux, "htab_elem", BTF_KIND_STRUCT);
		if (id > 0 && btf__resolve_size(vmlinux, id) > 0)
			helem = btf__resolve_size(vmlinux, id);
	}
	return (uint64_t)helem + ((key_size + 7) & ~7U) + ((value_size + 7) & ~7U) + 8;
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

/*
 * The maps fastpath_sync() updates.  Not in the BPF object: no program uses
 * them, they exist only for the wait the kernel makes on their update.
 */
static int sync_maps_open(struct fastpath *ks)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int err;

	ks->sync_outer = -1;
	ks->sync_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfuse_gp_in", sizeof(uint32_t),
					sizeof(uint32_t), 1, NULL);
	if (ks->sync_inner < 0)
		return ks->sync_inner;
	opts.inner_map_fd = ks->sync_inner;
	ks->sync_outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "bpfuse_gp", sizeof(uint32_t),
					sizeof(uint32_t), 1, &opts);
	if (ks->sync_outer < 0) {
		err = ks->sync_outer;
		close(ks->sync_inner);
		ks->sync_inner = -1;
		return err;
	}
	return 0;
}

static void sync_maps_close(struct fastpath *ks)
{
	if (ks->sync_outer >= 0)
		close(ks->sync_outer);
	if (ks->sync_inner >= 0)
		close(ks->sync_inner);
	ks->sync_outer = ks->sync_inner = -1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int fastpath_sync(struct fastpath *ks)
{
	uint32_t key = 0, val;
	uint64_t t0;
	int err;

	if (!ks)
		return 0;
	if (ks->sync_outer < 0) {
		err = -EBADF;
		goto out_fail;
	}
	val = (uint32_t)ks->sync_inner;
	t0 = mono_ns();
	/* the kernel calls synchronize_rcu() before it returns from this update */
	err = bpf_map_update_elem(ks->sync_outer, &key, &val, BPF_ANY);
	if (err)
		goto out_fail;
	__atomic_add_fetch(&ks->sync_ns, mono_ns() - t0, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ks->syncs, 1, __ATOMIC_RELAXED);
	return 0;

out_fail:
	if (__atomic_add_fetch(&ks->sync_failures, 1, __ATOMIC_RELAXED) == 1)
		pr_warn("fast path: cannot wait for an RCU grace period: %s (FORGET folds "
			"without it)", strerror(-err));
	return err;
}

/*
 * Set the read-only global @var (a __u64 in the object's .rodata) to @val
 * before load: its offset is in the object's BTF (the DATASEC of .rodata).
 */
static int set_rodata_u64(struct bpf_object *obj, const char *var, uint64_t val)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, ".rodata");
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	const void *init;
	size_t size = 0;
	int id, i, err = -ENOENT;
	char *data;

	if (!m || !btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	init = bpf_map__initial_value(m, &size);
	if (id < 0 || !init)
		return -ENOENT;
	sec = btf__type_by_id(btf, (uint32_t)id);
	data = malloc(size);
	if (!data)
		return -ENOMEM;
	memcpy(data, init, size);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);
		const char *name = v ? btf__name_by_offset(btf, v->name_off) : NULL;

		if (!name || strcmp(name, var))
			continue;
		if (vs->size != sizeof(val) || vs->offset > size - sizeof(val)) {
			err = -EINVAL;
			break;
		}
		memcpy(data + vs->offset, &val, sizeof(val));
		err = bpf_map__set_initial_value(m, data, size);
		break;
	}
	free(data);
	return err;
}

static void unlink_ops(struct fastpath *ks)
{
	if (ks->link_fd >= 0)
		close(ks->link_fd);
	ks->link_fd = -1;
}

int fastpath_open(struct fastpath **out, const char *obj_path, int fuse_fd, unsigned int conn,
		double entry_ttl_s, double attr_ttl_s, double max_age_s, unsigned int entries,
		unsigned int blocks, char *why, size_t whylen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct btf *vmlinux;
	struct bpf_map *ops;
	struct fastpath *ks;
	int err, i;

	*out = NULL;
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		return -ENOMEM;
	ks->fuse_fd = fuse_fd;
	ks->link_fd = -1;
	ks->sync_outer = ks->sync_inner = -1;
	pubseq_init(&ks->seq);
	ks->entry_ttl_ns = ttl_ns(entry_ttl_s);
	ks->attr_ttl_ns = ttl_ns(attr_ttl_s);
	ks->max_age_ns = ttl_ns(max_age_s);
	ks->maps[FP_DENTRIES] = (struct fp_map){ .name = BPFUSE_FP_DENTRY_MAP,
						 .option = "fastpath_entries", .max_entries = entries };
	ks->maps[FP_INODES] = (struct fp_map){ .name = BPFUSE_FP_INODE_MAP,
					       .option = "fastpath_entries", .max_entries = entries };
	ks->maps[FP_NLOOKUP] = (struct fp_map){ .name = BPFUSE_FP_NLOOKUP_MAP,
						.option = "fastpath_entries", .max_entries = entries };
	ks->maps[FP_BLOCKS] = (struct fp_map){ .name = BPFUSE_FP_BLOCK_MAP,
					       .option = "fastpath_blocks", .max_entries = blocks };
	ks->negative_max = entries / 4;
	/* the object as built: no per-mount name, the link names the connection */
	opts.object_name = "bpfuse_fastpath";
	ks->obj = bpf_object__open_file(obj_path, &opts);
	if (!ks->obj) {
		err = -errno;
		snprintf(why, whylen, "cannot open the fast-path object '%s': %s", obj_path,
			 strerror(-err));
		goto out_free;
	}
	/* the object's max_entries are only defaults: every mount sizes its own */
	for (i = 0; i < FP_NMAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(ks->obj, ks->maps[i].name);

		err = m ? bpf_map__set_max_entries(m, ks->maps[i].max_entries) : -ENOENT;
		if (err) {
			snprintf(why, whylen, "cannot size the fast-path map '%s': %s",
				 ks->maps[i].name, strerror(-err));
			goto out_obj;
		}
	}
	ops = bpf_object__find_map_by_name(ks->obj, BPFUSE_FP_OPS_MAP);
	err = ops ? fuse_bpf_link_prepare(ops) : -ENOENT;
	if (err) {
		snprintf(why, whylen, "'%s' has no struct fuse_bpf_ops '%s'", obj_path,
			 BPFUSE_FP_OPS_MAP);
		goto out_obj;
	}
	/* the programs answer only requests of the connection they were attached to */
	err = set_rodata_u64(ks->obj, BPFUSE_FP_COOKIE_VAR, conn);
	if (err) {
		snprintf(why, whylen, "'%s' has no read-only '%s': %s", obj_path,
			 BPFUSE_FP_COOKIE_VAR, strerror(-err));
		goto out_obj;
	}
	err = bpf_object__load(ks->obj);
	if (err) {
		snprintf(why, whylen, "cannot load the fast-path programs: %s", strerror(-err));
		goto out_obj;
	}
	ks->dentries = map_fd(ks->obj, BPFUSE_FP_DENTRY_MAP);
	ks->inodes = map_fd(ks->obj, BPFUSE_FP_INODE_MAP);
	ks->nlookup = map_fd(ks->obj, BPFUSE_FP_NLOOKUP_MAP);
	ks->blocks = map_fd(ks->obj, BPFUSE_FP_BLOCK_MAP);
	ks->stats = map_fd(ks->obj, BPFUSE_FP_STATS_MAP);
	if (ks->dentries < 0 || ks->inodes < 0 || ks->nlookup < 0 || ks->blocks < 0 ||
	    ks->stats < 0) {
		err = -ENOENT;
		snprintf(why, whylen, "the fast-path object lacks the maps of fastpath_abi.h");
		goto out_obj;
	}
	vmlinux = btf__load_vmlinux_btf();
	for (i = 0; i < FP_NMAPS; i++) {
		struct fp_map *fm = &ks->maps[i];
		struct bpf_map *m = bpf_object__find_map_by_name(ks->obj, fm->name);
		struct bpf_map_info info;
		uint32_t ilen = sizeof(info);

		fm->fd = bpf_map__fd(m);
		/* report the size the kernel made, not the one asked for */
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fm->fd, &info, &ilen))
			fm->max_entries = info.max_entries;
		fm->base_bytes = map_memlock(fm->fd); /* no element yet */
		fm->elem_bytes = fp_map_elem_bytes(vmlinux, bpf_map__key_size(m),
						   bpf_map__value_size(m));
	}
	btf__free(vmlinux);
	err = sync_maps_open(ks);
	if (err) /* FORGET then folds without the wait; fastpath_sync() counts each */
		pr_warn("fast path: cannot create the grace-period map: %s", strerror(-err));
	ks->link_fd = fuse_bpf_link_create(ops);
	if (ks->link_fd < 0) {
		err = ks->link_fd;
		snprintf(why, whylen, "cannot create the fast-path link: %s", strerror(-err));
		goto out_obj;
	}
	/* bind the link to this connection; its programs see the cookie in every request */
	err = fuse_bpf_link_attach(fuse_fd, ks->link_fd, conn);
	if (err) {
		snprintf(why, whylen, "cannot attach the fast path to the connection: %s",
			 strerror(-err));
		goto out_link;
	}
	ks->attached = 1;
	*out = ks;
	return 0;

out_link:
	unlink_ops(ks);
out_obj:
	sync_maps_close(ks);
	bpf_object__close(ks->obj);
out_free:
	pubseq_destroy(&ks->seq);
	free(ks);
	return err;
}

void fastpath_close(struct fastpath *ks)
{
	int err;

	if (!ks)
		return;
	/* unbind first; destroying the link (its last fd) would unbind it too */
	err = ks->attached ? fuse_bpf_link_detach(ks->fuse_fd) : 0;
	if (err && err != -ENODEV && err != -ENOENT)
		pr_warn("cannot detach the fast path: %s", strerror(-err));
	unlink_ops(ks);
	sync_maps_close(ks);
	bpf_object__close(ks->obj);
	pubseq_destroy(&ks->seq);
	free(ks);
}

static void fill_attr(struct bpfuse_fp_attr *a, const struct stat *st)
{
	memset(a, 0, sizeof(*a));
	a->ino = st->st_ino;
	a->size = (uint64_t)st->st_size;
	a->blocks = (uint64_t)st->st_blocks;
	a->atime = (uint64_t)st->st_atim.tv_sec;
	a->mtime = (uint64_t)st->st_mtim.tv_sec;
	a->ctime = (uint64_t)st->st_ctim.tv_sec;
	a->atimensec = (uint32_t)st->st_atim.tv_nsec;
	a->mtimensec = (uint32_t)st->st_mtim.tv_nsec;
	a->ctimensec = (uint32_t)st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = (uint32_t)st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->rdev = (uint32_t)st->st_rdev;
	a->blksize = (uint32_t)st->st_blksize;
}

static int dentry_key(struct bpfuse_fp_dentry_key *k, uint64_t parent, const char *name)
{
	size_t len = strnlen(name, BPFUSE_FP_NAME_MAX + 1);

	if (len > BPFUSE_FP_NAME_MAX)
		return -ENAMETOOLONG; /* such names always upcall */
	memset(k, 0, sizeof(*k));
	k->parent = parent;
	memcpy(k->name, name, len);
	return 0;
}

/*
 * The deadline of a value written now: CLOCK_MONOTONIC, the clock of the
 * programs' bpf_ktime_get_ns(); 0 without fastpath_max_age.
 */
static uint64_t expires_ns(struct fastpath *ks)
{
	return ks->max_age_ns ? mono_ns() + ks->max_age_ns : 0;
}

/* The same, no later than @until_ns (a backend's revalidation deadline; 0: none) */
static uint64_t expires_by(struct fastpath *ks, uint64_t until_ns)
{
	uint64_t e = expires_ns(ks);

	if (until_ns && (!e || until_ns < e))
		e = until_ns;
	return e;
}

/* A write version for a map value: unique, never 0 (fastpath_abi.h) */
static uint64_t next_version(struct fastpath *ks)
{
	return __atomic_add_fetch(&ks->version, 1, __ATOMIC_RELAXED);
}

/*
 * An insert into map @idx failed with @err.  E2BIG (max_entries reached) and
 * ENOMEM (no memory for a new element) mean the map is full: count it, and
 * say once per map that the fast path is degraded and what to raise.  The
 * caller publishes nothing that needs the missing entry; those requests go
 * to the daemon as without the fast path.
 */
static int insert_failed(struct fastpath *ks, int idx, int err)
{
	struct fp_map *m = &ks->maps[idx];

	if (err != -E2BIG && err != -ENOMEM) {
		pr_debug("fast path: insert into '%s' failed: %s", m->name, strerror(-err));
		return err;
	}
	__atomic_add_fetch(&m->full, 1, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&m->warned, 1, __ATOMIC_RELAXED))
		pr_warn("in-kernel fast path degraded: map '%s' is full (%u entries%s); what does "
			"not fit is answered by the daemon (raise -o %s=N)", m->name,
			m->max_entries, err == -ENOMEM ? ", or no kernel memory" : "", m->option);
	return err;
}

/*
 * Values are written whole and, when the key exists, in place under the
 * value's lock (BPF_F_LOCK): a program never sees half of an update, and
 * an update never frees the element a program may be reading.  An existing
 * key is never refused for want of room; a new one may be (counted).
 */
static int put_locked(struct fastpath *ks, int idx, int fd, const void *key, const void *val)
{
	int err = bpf_map_update_elem(fd, key, val, BPF_ANY | BPF_F_LOCK);

	return err ? insert_failed(ks, idx, err) : 0;
}

uint64_t fastpath_begin(struct fastpath *ks)
{
	return ks ? pubseq_begin(&ks->seq) : 0;
}

/*
 * The OPEN answer of an inode value (fastpath_set_open()): passthrough to @open_id, or
 * through the page cache; no FLUSH at close either way.
 */
static void set_open(struct bpfuse_fp_inode *v, const struct stat *st, int open_id)
{
	v->v.open_backing_id = 0;
	v->v.open_flags = 0;
	if (!S_ISREG(st->st_mode))
		return;
	if (open_id > 0) {
		v->v.open_backing_id = (uint32_t)open_id;
		v->v.open_flags = BPFUSE_FP_FOPEN_PASSTHROUGH | BPFUSE_FP_FOPEN_NOFLUSH;
	} else if (open_id == FASTPATH_OPEN_CACHED) {
		v->v.open_flags = BPFUSE_FP_FOPEN_NOFLUSH;
	} else if (open_id == FASTPATH_OPEN_CACHED_KEEP) {
		v->v.open_flags = BPFUSE_FP_FOPEN_NOFLUSH | BPFUSE_FP_FOPEN_KEEP_CACHE;
	}
}

static int put_attr(struct fastpath *ks, uint64_t nodeid, const struct stat *st, int open_id,
		    uint64_t data_version, uint64_t until_ns)
{
	struct bpfuse_fp_inode v;

	memset(&v, 0, sizeof(v));
	v.v.nodeid = nodeid;
	v.v.version = next_version(ks);
	v.v.data_version = data_version;
	v.v.attr_ttl_ns = ks->attr_ttl_ns;
	fill_attr(&v.v.attr, st);
	set_open(&v, st, open_id);
	v.v.expires_ns = expires_by(ks, until_ns);
	return put_locked(ks, FP_INODES, ks->inodes, &nodeid, &v);
}

int fastpath_set_open(struct fastpath *ks, uint64_t nodeid, int open_id)
{
	struct bpfuse_fp_inode v;
	struct pubseq_stripe *s;
	struct stat st;
	int done = 0;

	if (!ks)
		return 0;
	/*
	 * Only an existing value is rewritten, in place (BPF_EXIST: a flush or
	 * drop that deleted it meanwhile wins), under the stripe lock that
	 * every publication and drop of the node's attributes takes: its
	 * attributes stay what the last publication made them.
	 */
	s = pubseq_lock(&ks->seq, ATTR_KEY(nodeid));
	if (!__atomic_load_n(&ks->stopped, __ATOMIC_SEQ_CST) &&
	    !bpf_map_lookup_elem_flags(ks->inodes, &nodeid, &v, BPF_F_LOCK) &&
	    v.v.nodeid == nodeid) {
		memset(&st, 0, sizeof(st));
		st.st_mode = v.v.attr.mode;
		set_open(&v, &st, open_id);
		v.v.version = next_version(ks);
		done = !bpf_map_update_elem(ks->inodes, &nodeid, &v, BPF_EXIST | BPF_F_LOCK);
	}
	pubseq_unlock(s);
	return done;
}

uint64_t fastpath_new_data_version(struct fastpath *ks)
{
	return ks ? next_version(ks) : 0;
}

int fastpath_set_data_version(struct fastpath *ks, uint64_t nodeid, uint64_t data_version)
{
	struct bpfuse_fp_inode v;
	struct pubseq_stripe *s;
	int done = 0;

	if (!ks)
		return 0;
	/*
	 * Outdate every ticket of the node's attributes first: a publication
	 * that read the node before the change (and took the old data version)
	 * is refused.  Then one in-place write makes every block published
	 * for the old bytes stale; a flush or drop that deleted the value
	 * meanwhile wins (BPF_EXIST), and the next put carries the new one.
	 */
	s = pubseq_lock(&ks->seq, ATTR_KEY(nodeid));
	pubseq_changed_locked(&ks->seq, s);
	if (!bpf_map_lookup_elem_flags(ks->inodes, &nodeid, &v, BPF_F_LOCK) &&
	    v.v.nodeid == nodeid) {
		v.v.data_version = data_version;
		v.v.version = next_version(ks);
		done = !bpf_map_update_elem(ks->inodes, &nodeid, &v, BPF_EXIST | BPF_F_LOCK);
	}
	pubseq_unlock(s);
	return done;
}

int fastpath_put_attr(struct fastpath *ks, uint64_t nodeid, const struct stat *st, uint64_t ticket,
		      int open_id, uint64_t data_version, uint64_t until_ns)
{
	struct pubseq_stripe *s;
	int fresh;

	if (!ks)
		return 0;
	s = pubseq_lock(&ks->seq, ATTR_KEY(nodeid));
	fresh = pubseq_fresh_locked(s, ticket) && !__atomic_load_n(&ks->stopped, __ATOMIC_SEQ_CST);
	if (fresh && put_attr(ks, nodeid, st, open_id, data_version, until_ns))
		fresh = 0;
	pubseq_unlock(s);
	return fresh;
}

int fastpath_put_entry(struct fastpath *ks, uint64_t parent, const char *name, uint64_t nodeid,
		       const struct stat *st, uint64_t ticket, int open_id, uint64_t data_version,
		       uint64_t until_ns)
{
	struct pubseq_stripe *sd, *sa;
	struct bpfuse_fp_dentry_key k;
	struct bpfuse_fp_dentry v;
	uint64_t zero = 0;
	int fresh, err;

	if (!ks || nodeid <= 1 || dentry_key(&k, parent, name))
		return 0;
	memset(&v, 0, sizeof(v));
	v.v.parent = parent;
	v.v.name_hash = bpfuse_fp_name_hash(&k);
	v.v.nodeid = nodeid;
	v.v.entry_ttl_ns = ks->entry_ttl_ns;
	pubseq_lock2(&ks->seq, DIR_KEY(parent), ATTR_KEY(nodeid), &sd, &sa);
	fresh = pubseq_fresh_locked(sd, ticket) && pubseq_fresh_locked(sa, ticket) &&
		!__atomic_load_n(&ks->stopped, __ATOMIC_SEQ_CST);
	/*
	 * Inode, then counter, then name: BPF answers a LOOKUP only with all
	 * three, so a name is put only when the other two are there.  When a
	 * map is full the first missing piece stops the rest (nothing is put
	 * that could not be served); the inode entry alone still serves
	 * GETATTR, and the LOOKUPs go to the daemon.
	 */
	if (fresh && put_attr(ks, nodeid, st, open_id, data_version, until_ns))
		fresh = 0;
	if (fresh) {
		/* the counter must exist for BPF to answer; never reset a live one */
		err = bpf_map_update_elem(ks->nlookup, &nodeid, &zero, BPF_NOEXIST);
		if (err && err != -EEXIST && insert_failed(ks, FP_NLOOKUP, err))
			fresh = 0;
	}
	if (fresh) {
		v.v.version = next_version(ks);
		v.v.expires_ns = expires_by(ks, until_ns);
		if (put_locked(ks, FP_DENTRIES, ks->dentries, &k, &v))
			fresh = 0;
	}
	pubseq_unlock2(sd, sa);
	return fresh;
}

void fastpath_drop_attr(struct fastpath *ks, uint64_t nodeid)
{
	struct pubseq_stripe *s;

	if (!ks)
		return;
	s = pubseq_lock(&ks->seq, ATTR_KEY(nodeid));
	pubseq_changed_locked(&ks->seq, s);
	bpf_map_delete_elem(ks->inodes, &nodeid);
	pubseq_unlock(s);
}

void fastpath_drop_name(struct fastpath *ks, uint64_t parent, const char *name)
{
	struct bpfuse_fp_dentry_key k;
	struct bpfuse_fp_dentry v;
	struct pubseq_stripe *s;
	int found;

	if (!ks || dentry_key(&k, parent, name))
		return;
	s = pubseq_lock(&ks->seq, DIR_KEY(parent));
	pubseq_changed_locked(&ks->seq, s);
	found = !bpf_map_lookup_elem_flags(ks->dentries, &k, &v, BPF_F_LOCK) &&
		!bpf_map_delete_elem(ks->dentries, &k);
	if (found && !v.v.nodeid)
		__atomic_sub_fetch(&ks->negatives, 1, __ATOMIC_RELAXED);
	pubseq_unlock(s);
	if (found && v.v.nodeid)
		fastpath_drop_attr(ks, v.v.nodeid); /* its nlink and ctime change */
}

int fastpath_put_negative(struct fastpath *ks, uint64_t parent, const char *name, double ttl_s,
			  uint64_t ticket)
{
	struct pubseq_stripe *sd, *sn;
	struct bpfuse_fp_dentry_key k;
	struct bpfuse_fp_dentry v;
	int fresh, err;

	if (!ks || dentry_key(&k, parent, name))
		return 0;
	memset(&v, 0, sizeof(v));
	v.v.parent = parent;
	v.v.name_hash = bpfuse_fp_name_hash(&k);
	v.v.entry_ttl_ns = ttl_ns(ttl_s); /* nodeid and generation 0: no such name */
	pubseq_lock2(&ks->seq, DIR_KEY(parent), NEG_KEY(parent), &sd, &sn);
	fresh = pubseq_fresh_locked(sd, ticket) && pubseq_fresh_locked(sn, ticket) &&
		!__atomic_load_n(&ks->stopped, __ATOMIC_SEQ_CST);
	if (fresh && __atomic_load_n(&ks->negatives, __ATOMIC_RELAXED) >= ks->negative_max) {
		/* names that do not exist are unbounded: they may not crowd out those that do */
		__atomic_add_fetch(&ks->negatives_refused, 1, __ATOMIC_RELAXED);
		fresh = 0;
	}
	if (fresh) {
		/* never over an entry: a positive one is the newer news (a create replied) */
		v.v.version = next_version(ks);
		v.v.expires_ns = expires_ns(ks);
		err = bpf_map_update_elem(ks->dentries, &k, &v, BPF_NOEXIST | BPF_F_LOCK);
		if (!err)
			__atomic_add_fetch(&ks->negatives, 1, __ATOMIC_RELAXED);
		else if (err == -EEXIST || insert_failed(ks, FP_DENTRIES, err))
			fresh = 0;
	}
	pubseq_unlock2(sd, sn);
	return fresh;
}

void fastpath_drop_negative(struct fastpath *ks, uint64_t parent, const char *name)
{
	struct pubseq_stripe *sd, *sn;
	struct bpfuse_fp_dentry_key k;
	struct bpfuse_fp_dentry v;

	if (!ks || dentry_key(&k, parent, name))
		return;
	pubseq_lock2(&ks->seq, DIR_KEY(parent), NEG_KEY(parent), &sd, &sn);
	pubseq_changed_locked(&ks->seq, sn);
	if (!bpf_map_lookup_elem_flags(ks->dentries, &k, &v, BPF_F_LOCK) && !v.v.nodeid &&
	    !bpf_map_delete_elem(ks->dentries, &k))
		__atomic_sub_fetch(&ks->negatives, 1, __ATOMIC_RELAXED);
	pubseq_unlock2(sd, sn);
}

void fastpath_count_open(struct fastpath *ks, int delta)
{
	if (ks)
		__atomic_add_fetch(&ks->opens, delta, __ATOMIC_RELAXED);
}

void fastpath_count_open_refused(struct fastpath *ks)
{
	if (ks)
		__atomic_add_fetch(&ks->opens_refused, 1, __ATOMIC_RELAXED);
}

void fastpath_count_block_file(struct fastpath *ks, int delta)
{
	if (ks)
		__atomic_add_fetch(&ks->block_files, delta, __ATOMIC_RELAXED);
}

void fastpath_count_block_file_refused(struct fastpath *ks)
{
	if (ks)
		__atomic_add_fetch(&ks->block_files_refused, 1, __ATOMIC_RELAXED);
}

void fastpath_count_file_blocks(struct fastpath *ks, int64_t delta)
{
	if (ks)
		__atomic_add_fetch(&ks->file_blocks, delta, __ATOMIC_RELAXED);
}

void fastpath_drop_node(struct fastpath *ks, uint64_t nodeid)
{
	if (!ks)
		return;
	fastpath_drop_attr(ks, nodeid);
	bpf_map_delete_elem(ks->nlookup, &nodeid);
}

/* A file with more blocks than this leaves its READs to the daemon (or passthrough). */
#define KSTATE_MAX_FILE_BLOCKS FASTPATH_MAX_FILE_BLOCKS
_Static_assert(FASTPATH_BLOCK_SHIFT == BPFUSE_FP_BLOCK_SHIFT_DEFAULT, "fastpath.h block size");

uint64_t fastpath_put_blocks(struct fastpath *ks, uint64_t nodeid, int backing_id, uint64_t size,
			     uint64_t data_version)
{
	uint64_t n = (size + (1ULL << BPFUSE_FP_BLOCK_SHIFT_DEFAULT) - 1) >>
		     BPFUSE_FP_BLOCK_SHIFT_DEFAULT;
	struct bpfuse_fp_block v;
	uint64_t b;

	if (!ks || backing_id <= 0 || !data_version || n > KSTATE_MAX_FILE_BLOCKS ||
	    __atomic_load_n(&ks->stopped, __ATOMIC_SEQ_CST))
		return 0;
	memset(&v, 0, sizeof(v));
	v.v.nodeid = nodeid;
	v.v.data_version = data_version;
	v.v.backing_id = (uint32_t)backing_id;
	for (b = 0; b < n; b++) {
		struct bpfuse_fp_block_key k = { .nodeid = nodeid, .block = b };

		v.v.block = b;
		v.v.version = next_version(ks);
		if (put_locked(ks, FP_BLOCKS, ks->blocks, &k, &v)) {
			/* all or nothing: the caller records 0 blocks to drop later */
			fastpath_drop_blocks(ks, nodeid, b);
			return 0;
		}
	}
	return n;
}

int fastpath_put_block(struct fastpath *ks, uint64_t nodeid, uint64_t block, int backing_id,
		       uint64_t data_version)
{
	struct bpfuse_fp_block_key k = { .nodeid = nodeid, .block = block };
	struct bpfuse_fp_block v;

	if (!ks || backing_id <= 0 || !data_version ||
	    __atomic_load_n(&ks->stopped, __ATOMIC_SEQ_CST))
		return 0;
	memset(&v, 0, sizeof(v));
	v.v.nodeid = nodeid;
	v.v.block = block;
	v.v.version = next_version(ks);
	v.v.data_version = data_version;
	v.v.backing_id = (uint32_t)backing_id;
	return !put_locked(ks, FP_BLOCKS, ks->blocks, &k, &v);
}

void fastpath_drop_block(struct fastpath *ks, uint64_t nodeid, uint64_t block)
{
	struct bpfuse_fp_block_key k = { .nodeid = nodeid, .block = block };

	if (ks)
		bpf_map_delete_elem(ks->blocks, &k);
}

void fastpath_drop_blocks(struct fastpath *ks, uint64_t nodeid, uint64_t nblocks)
{
	fastpath_drop_blocks_from(ks, nodeid, 0, nblocks);
}

void fastpath_drop_blocks_from(struct fastpath *ks, uint64_t nodeid, uint64_t first,
			       uint64_t end)
{
	uint64_t b;

	if (!ks)
		return;
	for (b = first; b < end; b++) {
		struct bpfuse_fp_block_key k = { .nodeid = nodeid, .block = b };

		bpf_map_delete_elem(ks->blocks, &k);
	}
}

/* Delete every element of map @fd; returns how many. */
static uint64_t clear_map(int fd, size_t key_size)
{
	char cur[sizeof(struct bpfuse_fp_dentry_key)], next[sizeof(struct bpfuse_fp_dentry_key)];
	uint64_t n = 0;
	int have;

	if (key_size > sizeof(cur))
		return 0;
	/* step to the next key before deleting the current one: a restart from
	 * the first key after each delete would scan the table each time */
	have = !bpf_map_get_next_key(fd, NULL, cur);
	while (have) {
		have = !bpf_map_get_next_key(fd, cur, next);
		if (!bpf_map_delete_elem(fd, cur))
			n++;
		memcpy(cur, next, key_size);
	}
	return n;
}

void fastpath_flush(struct fastpath *ks, int stop)
{
	uint64_t n;

	if (!ks)
		return;
	if (stop)
		__atomic_store_n(&ks->stopped, 1, __ATOMIC_SEQ_CST);
	/* first outdate every ticket: nothing read before can be put back */
	pubseq_changed_all(&ks->seq);
	n = clear_map(ks->dentries, sizeof(struct bpfuse_fp_dentry_key));
	/* what a publication begun after the mark put meanwhile is gone too (or uncounted) */
	__atomic_store_n(&ks->negatives, 0, __ATOMIC_RELAXED);
	n += clear_map(ks->inodes, sizeof(uint64_t));
	n += clear_map(ks->blocks, sizeof(struct bpfuse_fp_block_key));
	__atomic_add_fetch(&ks->flushes, 1, __ATOMIC_RELAXED);
	pr_debug("fast path: flushed %llu map entries%s", (unsigned long long)n,
		 stop ? ", publishing stopped" : "");
}

uint64_t fastpath_bpf_lookups(struct fastpath *ks, uint64_t nodeid)
{
	uint64_t v = 0;

	if (ks && bpf_map_lookup_elem(ks->nlookup, &nodeid, &v))
		v = 0;
	return v;
}

int fastpath_read_stats(struct fastpath *ks, struct fastpath_stats *out)
{
	uint64_t sum[BPFUSE_FP_STAT_NR] = { 0 };
	int ncpus = libbpf_num_possible_cpus(), i, c;
	uint64_t *vals;

	memset(out, 0, sizeof(*out));
	if (!ks || ncpus <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < BPFUSE_FP_STAT_NR; i++) {
		uint32_t key = (uint32_t)i;

		if (bpf_map_lookup_elem(ks->stats, &key, vals))
			continue;
		for (c = 0; c < ncpus; c++)
			sum[i] += vals[c];
	}
	free(vals);
	out->lookup_hit = sum[BPFUSE_FP_STAT_LOOKUP_HIT];
	out->lookup_miss = sum[BPFUSE_FP_STAT_LOOKUP_MISS];
	out->getattr_hit = sum[BPFUSE_FP_STAT_GETATTR_HIT];
	out->getattr_miss = sum[BPFUSE_FP_STAT_GETATTR_MISS];
	out->read_hit = sum[BPFUSE_FP_STAT_READ_HIT];
	out->read_miss = sum[BPFUSE_FP_STAT_READ_MISS];
	out->kfunc_err = sum[BPFUSE_FP_STAT_KFUNC_ERR];
	out->other = sum[BPFUSE_FP_STAT_OTHER];
	out->unstable = sum[BPFUSE_FP_STAT_UNSTABLE];
	out->open_hit = sum[BPFUSE_FP_STAT_OPEN_HIT];
	out->open_miss = sum[BPFUSE_FP_STAT_OPEN_MISS];
	out->negative_hit = sum[BPFUSE_FP_STAT_NEGATIVE_HIT];
	out->foreign = sum[BPFUSE_FP_STAT_FOREIGN];
	out->ioctl_hit = sum[BPFUSE_FP_STAT_IOCTL_HIT];
	out->expired = sum[BPFUSE_FP_STAT_EXPIRED];
	out->negatives = (uint64_t)__atomic_load_n(&ks->negatives, __ATOMIC_RELAXED);
	out->negatives_refused = __atomic_load_n(&ks->negatives_refused, __ATOMIC_RELAXED);
	out->opens = (uint64_t)__atomic_load_n(&ks->opens, __ATOMIC_RELAXED);
	out->opens_refused = __atomic_load_n(&ks->opens_refused, __ATOMIC_RELAXED);
	out->block_files = (uint64_t)__atomic_load_n(&ks->block_files, __ATOMIC_RELAXED);
	out->block_files_refused = __atomic_load_n(&ks->block_files_refused, __ATOMIC_RELAXED);
	out->file_blocks = (uint64_t)__atomic_load_n(&ks->file_blocks, __ATOMIC_RELAXED);
	out->flushes = __atomic_load_n(&ks->flushes, __ATOMIC_RELAXED);
	out->grace_periods = __atomic_load_n(&ks->syncs, __ATOMIC_RELAXED);
	out->grace_period_failures = __atomic_load_n(&ks->sync_failures, __ATOMIC_RELAXED);
	out->grace_period_ns = __atomic_load_n(&ks->sync_ns, __ATOMIC_RELAXED);
	out->publishing = !__atomic_load_n(&ks->stopped, __ATOMIC_RELAXED);
	for (i = 0; i < FP_NMAPS && i < FASTPATH_NMAPS; i++) {
		const struct fp_map *m = &ks->maps[i];
		struct fastpath_map_stats *o = &out->maps[i];

		o->name = m->name;
		o->max_entries = m->max_entries;
		o->memlock_bytes = map_memlock(m->fd);
		o->memlock_max_bytes = m->base_bytes + (uint64_t)m->max_entries * m->elem_bytes;
		o->full = __atomic_load_n(&m->full, __ATOMIC_RELAXED);
		out->map_full += o->full;
		out->memlock_bytes += o->memlock_bytes;
		out->memlock_max_bytes += o->memlock_max_bytes;
	}
	return 0;
}

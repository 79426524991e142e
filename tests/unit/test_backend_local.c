// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for backend_local.c on a temporary directory (no FUSE, no root):
 * name checks, creation and lookup identity, rename flags, and the readdir
 * resume protocol that fs_ops.c relies on when a reply buffer fills up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend.h"
#include "backend_local.h"
#include "config.h"
#include "fs.h"

struct fixture {
	char dir[64];
	struct config cfg;
	/* the backend inside a mount, as fs_init() opens it: it reaches its fs (the watcher) */
	struct fs fs;
	struct inode root;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct backend_entry e;

	strcpy(f->dir, "/tmp/bpfuse-be-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	config_init(&f->cfg);
	assert_int_equal(config_set_source(&f->cfg, f->dir), 0);
	f->fs.be.fs = &f->fs;
	f->fs.be.cfg = &f->cfg;
	assert_int_equal(backend_local_driver.open(&f->fs.be, &f->cfg), 0);
	assert_int_equal(f->fs.be.ops->open_root(&f->fs.be, &e), 0);
	f->root.fd = e.fd;
	f->root.type = S_IFDIR;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	backend_local_driver.close(&f->fs.be);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct backend_cred me(void)
{
	struct backend_cred c = { geteuid(), getegid(), 0 };

	return c;
}

static void test_names_checked(void **state)
{
	struct fixture *f = *state;
	struct backend_entry e;
	char longname[300];

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(f->fs.be.ops->lookup(&f->fs.be, &f->root, "a/b", &e), -EINVAL);
	assert_int_equal(f->fs.be.ops->lookup(&f->fs.be, &f->root, "", &e), -EINVAL);
	assert_int_equal(f->fs.be.ops->lookup(&f->fs.be, &f->root, longname, &e), -ENAMETOOLONG);
	assert_int_equal(f->fs.be.ops->lookup(&f->fs.be, &f->root, "missing", &e), -ENOENT);
}

/*
 * Every name the backend acts on is one component: "." and ".." would leave the
 * directory (".." of the source's root is outside the mount), and a name with
 * a '/' would be resolved through a symlink a user planted in the source.  The
 * kernel sends neither; the backend refuses them itself, for the old names of
 * unlink, rmdir and rename too, so no name is ever walked as a path.
 */
static void test_every_name_one_component(void **state)
{
	struct fixture *f = *state;
	struct backend_cred c = me();
	struct backend_entry e;
	char out[96], path[160];
	struct stat st;

	snprintf(out, sizeof(out), "%s-out", f->dir);
	assert_int_equal(mkdir(out, 0700), 0);
	snprintf(path, sizeof(path), "%s/victim", out);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof(path), "%s/vdir", out);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/l", f->dir);
	assert_int_equal(symlink(out, path), 0); /* "planted": l -> a directory outside */

	assert_int_equal(f->fs.be.ops->lookup(&f->fs.be, &f->root, "..", &e), -EINVAL);
	assert_int_equal(f->fs.be.ops->lookup(&f->fs.be, &f->root, ".", &e), -EINVAL);
	assert_int_equal(f->fs.be.ops->lookup(&f->fs.be, &f->root, "l/victim", &e), -EINVAL);
	assert_int_equal(f->fs.be.ops->mknod(&f->fs.be, &f->root, "..", S_IFDIR | 0700, 0, &c, &e),
			 -EINVAL);
	assert_int_equal(f->fs.be.ops->unlink(&f->fs.be, &f->root, "l/victim"), -EINVAL);
	assert_int_equal(f->fs.be.ops->rmdir(&f->fs.be, &f->root, "l/vdir"), -EINVAL);
	assert_int_equal(f->fs.be.ops->unlink(&f->fs.be, &f->root, ""), -EINVAL);
	assert_int_equal(f->fs.be.ops->rename(&f->fs.be, &f->root, "l/victim", &f->root, "x", 0),
			 -EINVAL);
	assert_int_equal(f->fs.be.ops->rename(&f->fs.be, &f->root, "..", &f->root, "x", 0), -EINVAL);
	snprintf(path, sizeof(path), "%s/victim", out);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/vdir", out);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/x", f->dir);
	assert_int_equal(lstat(path, &st), -1);
	snprintf(path, sizeof(path), "rm -rf '%s'", out);
	assert_int_equal(system(path), 0);
}

static void test_create_lookup_link_identity(void **state)
{
	struct fixture *f = *state;
	struct backend_cred c = me();
	struct backend_entry e1, e2, e3;
	struct inode ino = { 0 };
	int fd;

	fd = f->fs.be.ops->create(&f->fs.be, &f->root, "f", 0640, O_RDWR, &c, &e1);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(e1.st.st_mode & 07777, 0640);
	assert_int_equal(f->fs.be.ops->create(&f->fs.be, &f->root, "f", 0600, O_RDWR | O_EXCL, &c, &e2),
			 -EEXIST);
	assert_int_equal(f->fs.be.ops->lookup(&f->fs.be, &f->root, "f", &e2), 0);
	assert_int_equal(e2.key.ino, e1.key.ino);
	assert_int_equal(e2.st.st_size, 3);
	ino.fd = e2.fd;
	ino.type = S_IFREG;
	assert_int_equal(f->fs.be.ops->link(&f->fs.be, &ino, &f->root, "g", &e3), 0);
	assert_int_equal(e3.key.ino, e1.key.ino);
	assert_int_equal(e3.st.st_nlink, 2);
	close(e1.fd);
	close(e2.fd);
	close(e3.fd);
}

static void test_rename_flags(void **state)
{
	struct fixture *f = *state;
	struct backend_cred c = me();
	struct backend_entry e;

	assert_int_equal(f->fs.be.ops->mknod(&f->fs.be, &f->root, "a", S_IFREG | 0600, 0, &c, &e), 0);
	close(e.fd);
	assert_int_equal(f->fs.be.ops->mknod(&f->fs.be, &f->root, "d", S_IFDIR | 0700, 0, &c, &e), 0);
	assert_true(S_ISDIR(e.st.st_mode));
	close(e.fd);
	assert_int_equal(f->fs.be.ops->rename(&f->fs.be, &f->root, "a", &f->root, "d", RENAME_NOREPLACE),
			 -EEXIST);
	assert_int_equal(f->fs.be.ops->rename(&f->fs.be, &f->root, "a", &f->root, "d", RENAME_EXCHANGE), 0);
	assert_int_equal(f->fs.be.ops->lookup(&f->fs.be, &f->root, "a", &e), 0);
	assert_true(S_ISDIR(e.st.st_mode));
	close(e.fd);
	assert_int_equal(f->fs.be.ops->rename(&f->fs.be, &f->root, "a", &f->root, "x", 1U << 7), -EINVAL);
}

static void test_symlink_xattrs_as_ext4(void **state)
{
	struct fixture *f = *state;
	struct backend_cred c = me();
	struct backend_entry e;
	struct inode ino = { 0 };
	char buf[64];
	int n;

	assert_int_equal(f->fs.be.ops->symlink(&f->fs.be, &f->root, "l", "target/x", &c, &e), 0);
	assert_true(S_ISLNK(e.st.st_mode));
	ino.fd = e.fd;
	ino.type = S_IFLNK;
	n = f->fs.be.ops->readlink(&f->fs.be, &ino, buf, sizeof(buf));
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "target/x", 8);
	assert_int_equal(f->fs.be.ops->setxattr(&f->fs.be, &ino, "user.a", "1", 1, 0), -EPERM);
	assert_int_equal(f->fs.be.ops->listxattr(&f->fs.be, &ino, buf, sizeof(buf)), 0);
	close(e.fd);
}

/* fs_ops.c stops when a reply is full and resumes at the last accepted d_off. */
static void test_readdir_resume(void **state)
{
	struct fixture *f = *state;
	struct backend_cred c = me();
	struct backend_dir d;
	struct backend_entry e;
	struct dirent *ent;
	char name[16];
	int i, seen = 0, again = 0;
	off_t off = 0, stop_at = -1;

	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "n%02d", i);
		assert_int_equal(f->fs.be.ops->mknod(&f->fs.be, &f->root, name, S_IFREG | 0600, 0, &c, &e),
				 0);
		close(e.fd);
	}
	assert_int_equal(f->fs.be.ops->opendir(&f->fs.be, &f->root, &d), 0);
	for (;;) {
		int r = f->fs.be.ops->readdir(&f->fs.be, &d, off, &ent);

		assert_true(r >= 0);
		if (!r)
			break;
		if (seen == 20 && stop_at < 0) {
			/* "buffer full": do not take it; the next call repeats it */
			stop_at = off;
			r = f->fs.be.ops->readdir(&f->fs.be, &d, stop_at, &ent);
			assert_int_equal(r, 1);
			again++;
		}
		seen++;
		off = ent->d_off;
	}
	assert_int_equal(again, 1);
	assert_int_equal(seen, 52); /* 50 files, ".", ".." */
	/* rewinding to 0 lists everything again */
	assert_int_equal(f->fs.be.ops->readdir(&f->fs.be, &d, 0, &ent), 1);
	f->fs.be.ops->closedir(&f->fs.be, &d);
}

/* Past the descriptor budget, objects are kept as file handles and still work. */
static void test_handles_past_budget(void **state)
{
	struct fixture *f = *state;
	struct backend_cred c = me();
	struct backend_entry e, e2;
	struct inode ino = { 0 }, dir = { 0 };
	struct stat st;
	char buf[16];
	int fd;

	backend_local_set_fd_budget(&f->fs.be, 0);
	assert_int_equal(f->fs.be.ops->mknod(&f->fs.be, &f->root, "sub", S_IFDIR | 0755, 0, &c, &e), 0);
	assert_int_equal(e.fd, -1);
	assert_non_null(e.handle);
	dir.fd = -1;
	dir.handle = e.handle;
	dir.type = S_IFDIR;
	fd = f->fs.be.ops->create(&f->fs.be, &dir, "x", 0600, O_RDWR, &c, &e2);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "12345", 5), 5);
	close(fd);
	assert_int_equal(e2.fd, -1);
	ino.fd = -1;
	ino.handle = e2.handle;
	ino.type = S_IFREG;
	assert_int_equal(f->fs.be.ops->getattr(&f->fs.be, &ino, -1, &st), 0);
	assert_int_equal(st.st_size, 5);
	fd = f->fs.be.ops->open(&f->fs.be, &ino, O_RDONLY, NULL);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);
	close(fd);
	fd = f->fs.be.ops->path_fd(&f->fs.be, &dir);
	assert_true(fd >= 0);
	close(fd);
	/* an unlinked, closed object cannot be reopened by handle (documented) */
	assert_int_equal(f->fs.be.ops->unlink(&f->fs.be, &dir, "x"), 0);
	assert_int_equal(f->fs.be.ops->getattr(&f->fs.be, &ino, -1, &st), -ESTALE);
	f->fs.be.ops->release_inode(&f->fs.be, &ino);
	f->fs.be.ops->release_inode(&f->fs.be, &dir);
	assert_null(dir.handle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_name_one_component, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_lookup_link_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_xattrs_as_ext4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdir_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handles_past_budget, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# POSIX ACLs set and read from inside a user namespace (an unprivileged user's
# `unshare -U -r`, as rootless containers do) behave on an allow_other mount as on
# the plain directory: setfacl succeeds, getfacl shows the same entries, a default
# ACL is inherited by a file created under it.  Before FUSE_POSIX_ACL the ACL
# xattrs passed through unmapped and setfacl failed inside the namespace.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse
command -v setfacl >/dev/null && command -v unshare >/dev/null || skip "setfacl/unshare not installed (acl, util-linux)"
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
unshare -U -r true 2>/dev/null || skip "the kernel refuses unprivileged user namespaces: $(unshare -U -r true 2>&1 | tail -1)"

mkdir -p "$T/src/plain/d" "$T/src/fs/d" "$T/mnt"
chmod 755 "$T" "$T/src"
chmod 777 "$T/src/plain/d" "$T/src/fs/d"
bpfuse_mount "$T/src/fs" "$T/mnt" allow_other
script='set -e
cd "$1"
mkdir x
cd x
touch f
setfacl -m u:0:rw,g:0:r f
setfacl -d -m u:0:rwx,g::r-x,o::--- .
touch g
mkdir sub
getfacl -n f g sub . 2>/dev/null'
as_nobody_ns() { su nobody -s /bin/bash -c "unshare -U -r bash -c '$script' _ '$1'"; }
want=$(as_nobody_ns "$T/src/plain/d") || fail "setfacl in a user namespace failed on the plain directory"
got=$(as_nobody_ns "$T/mnt/d") || fail "setfacl in a user namespace failed on the mount"
assert_eq "$want" "$got" "getfacl inside the user namespace: mount vs plain directory"
check "an entry was set" grep -q '^user:0:rw-' <<<"$got"
check "the default ACL was inherited" grep -q '^default:user:0:rwx' <<<"$got"
bpfuse_umount "$T/mnt"
finish

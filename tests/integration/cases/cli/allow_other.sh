#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# allow_other: without it only the mounting user gets in; with it other users
# do, and (default_permissions being implied) mode bits are enforced for them.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse
need_other_user

S=$T/src
mkdir "$S" "$T/mnt1" "$T/mnt2" "$S/rootdir" "$S/opendir"
chmod 755 "$S/rootdir"
chmod 777 "$S/opendir"
echo public >"$S/pub"
echo secret >"$S/priv"
chmod 644 "$S/pub"
chmod 600 "$S/priv"
track_mount "$T/mnt1"
track_mount "$T/mnt2"

without() {
	local M=$T/mnt1
	bpfuse_mount "$S" "$M"
	assert_eq public "$(cat "$M/pub")" "root reads pub"
	assert_eq EACCES "$(errno_of_as $U read "$M/pub")" "uid $U reads pub without allow_other"
	assert_eq EACCES "$(errno_of_as $U stat "$M/pub")" "uid $U stats pub without allow_other"
	bpfuse_umount "$M"
}
check "without allow_other other users are refused" without

with() {
	local M=$T/mnt2
	bpfuse_mount "$S" "$M" allow_other
	assert_eq ok "$(errno_of_as $U read "$M/pub")" "uid $U reads pub"
	assert_eq ok "$(errno_of_as $U listdir "$M")" "uid $U lists the root"
	assert_eq EACCES "$(errno_of_as $U read "$M/priv")" "uid $U reads a 0600 root file"
	assert_eq EACCES "$(errno_of_as $U open "$M/pub" O_WRONLY)" "uid $U writes a 0644 root file"
	assert_eq EACCES "$(errno_of_as $U open "$M/rootdir/new" "O_WRONLY|O_CREAT")" \
		"uid $U creates in a 0755 root dir"
	assert_eq ok "$(errno_of_as $U open "$M/opendir/new" "O_WRONLY|O_CREAT" x)" \
		"uid $U creates in a 0777 dir"
	assert_eq "$U:$U" "$(stat -c %u:%g "$S/opendir/new")" "owner of the file uid $U created"
	assert_eq EPERM "$(errno_of_as $U chmod "$M/pub" 666)" "uid $U chmods a root file"
	bpfuse_umount "$M"
}
check "with allow_other other users get in, mode bits enforced" with

finish

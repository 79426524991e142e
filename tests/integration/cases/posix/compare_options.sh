#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# posix_ops transcript on a plain dir vs bpfuse under option sets that change
# caching, threading and permission checking: none may change semantics.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/posix_compare.sh"
setup_case "$@"
need_bpfuse
need_posix_ops

n=0
while read -r opts; do
	[ -n "$opts" ] || continue
	n=$((n + 1))
	posix_compare_prepare "$n"
	check "-o $opts" posix_compare "$opts" "$n"
done <<'LIST'
entry_timeout=0,attr_timeout=0,negative_timeout=0
entry_timeout=0,attr_timeout=0,negative_timeout=0,passthrough=off
entry_timeout=30,attr_timeout=30,negative_timeout=30,passthrough=off
threads=1
threads=1,passthrough=off
default_permissions
default_permissions,passthrough=off
kernel_open=on
kernel_open=on,entry_timeout=0,attr_timeout=0,negative_timeout=0
kernel_open=on,default_permissions,threads=1
profile=dataset
LIST
finish

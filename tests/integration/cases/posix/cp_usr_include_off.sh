#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# cp -a /usr/include into a bpfuse mount with passthrough=off: diff -r empty and
# metadata equal through the mount and on the backing dir (lib/cp_tree.sh).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/cp_tree.sh"
setup_case "$@"
cp_tree_case off

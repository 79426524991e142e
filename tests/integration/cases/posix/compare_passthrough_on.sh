#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# posix_ops transcript on a plain dir vs on bpfuse -o passthrough=on
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/posix_compare.sh"
setup_case "$@"
posix_compare passthrough=on

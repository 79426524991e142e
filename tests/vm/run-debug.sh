#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM tier, debug kernel (KASAN, lockdep, atomic-sleep checks): the
# tests/vm/cases/*-debug.sh cases, run by tests/vm/run-kernel.sh debug (see
# there for the environment).  Last line: `vm-debug: N passed, M failed`.
#
# Usage: tests/vm/run-debug.sh [CASE...]   (names without .sh; default: every
#        cases/*-debug.sh)
exec "$(dirname "${BASH_SOURCE[0]}")/run-kernel.sh" debug "$@"

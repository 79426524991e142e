#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The series' selftests (as cases/13-selftest.sh, which run-debug.sh copies
# in as /lib/bpfuse-selftest.sh) on the debug kernel (KASAN, lockdep,
# atomic-sleep checks), then the kernel log: no report of any kind since
# boot.  Runs before 31-stress-debug, so a report here is the selftests'
# (or one provoked on purpose: BPFUSE_VM_PROVOKE, as for 31-stress-debug).
work=$1
# kernel_reports, kernel_report_show
. /lib/bpfuse-case.sh

if ! dmesg | grep -q 'KernelAddressSanitizer initialized' || [ ! -e /proc/lockdep ]; then
	echo "not ok - selftest-debug: not the debug kernel (no KASAN or no lockdep)"
	exit 1
fi
if [ ! -f /lib/bpfuse-selftest.sh ]; then
	echo "not ok - selftest-debug: /lib/bpfuse-selftest.sh missing (tests/vm/run-debug.sh copies it)"
	exit 1
fi
sh /lib/bpfuse-selftest.sh "$work"
rc=$?
# bpfuse_provoke=LKDTM_TYPE,... (run-debug.sh, BPFUSE_VM_PROVOKE): a report on
# purpose, which must fail this case (the detector works)
provoke=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^bpfuse_provoke=//p')
if [ -n "$provoke" ]; then
	grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug
	for t in $(echo "$provoke" | tr ',' ' '); do
		echo "13-selftest-debug: provoking $t with lkdtm, on purpose"
		echo "$t" > /sys/kernel/debug/provoke-crash/DIRECT
	done
fi
r=$(kernel_reports)
if [ -z "$r" ]; then
	echo "ok - selftest-debug: the kernel log has no KASAN report, lockdep splat, RCU or atomic-sleep warning, WARNING or BUG"
else
	echo "not ok - selftest-debug: the kernel log has a report:"
	kernel_report_show "$r"
	rc=1
fi
exit $rc

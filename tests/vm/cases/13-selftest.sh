#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The selftests the kernel series carries (patch 0007,
# tools/testing/selftests/filesystems/fuse_bpf), built for this kernel by
# scripts/kernel/build-selftests.sh.  The harness's TAP lines become this
# tier's: "ok N name" -> "ok N - selftest name", "not ok N name" -> "not ok";
# a skipped test is a failure here (this kernel has CONFIG_FUSE_REQUEST_BPF, so a
# skip means the test could not run); the harness's other lines are
# passed on behind "# ".  A missing binary, a missing plan, fewer results
# than planned, or a mount or directory of the test left behind fail the case.
work=$1
t=/bin/fuse_bpf_test
if [ ! -x "$t" ]; then
	echo "not ok - selftest: $t missing (tests/vm/run.sh copies it from build-selftests.sh)"
	exit 1
fi
cd "$work" || exit 1
timeout 300 "$t" > "$work/tap" 2>&1
rc=$?
n=0
bad=0
plan=
while IFS= read -r line; do
	case $line in
	1..*)
		plan=${line#1..}
		echo "# $line"
		;;
	"ok "*" # SKIP"*)
		rest=${line#ok }
		rest=${rest#* }
		n=$((n + 1))
		bad=$((bad + 1))
		echo "not ok $n - selftest ${rest%% # SKIP*}: skipped:${rest#* # SKIP}"
		;;
	"ok "*)
		rest=${line#ok }
		n=$((n + 1))
		echo "ok $n - selftest ${rest#* }"
		;;
	"not ok "*)
		rest=${line#not ok }
		n=$((n + 1))
		bad=$((bad + 1))
		echo "not ok $n - selftest ${rest#* }"
		;;
	*)
		echo "# $line"
		;;
	esac
done < "$work/tap"
# The fixtures clean up: no mount of theirs, no /tmp/fuse_bpf.* left
left=$(grep '^fuse_bpf_test ' /proc/mounts; ls -d /tmp/fuse_bpf.* 2> /dev/null)
if [ -z "$left" ]; then
	echo "ok - selftest: no mount or directory left behind"
else
	echo "not ok - selftest: left behind: $left"
	bad=$((bad + 1))
fi
if [ -z "$plan" ] || [ "$n" != "$plan" ]; then
	echo "not ok - selftest: $n results for a plan of '${plan:-none}' (exit $rc)"
	exit 1
fi
if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
	echo "not ok - selftest: fuse_bpf_test exited $rc with no failing test"
	exit 1
fi
[ "$bad" = 0 ]

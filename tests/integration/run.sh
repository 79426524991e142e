#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the integration cases: tests/integration/cases/<group>/<name>.sh.
#
#	run.sh [-v] [FILTER...]
#
# A case runs when its "group/name" contains one of the FILTERs (all cases
# without a filter). Each case runs under `timeout 300` with TMPDIR pointing
# into a private run directory; exit 0 is PASS, 77 SKIP, anything else FAIL.
# -v prints every case's log, otherwise only the logs of failed cases.
# The last line is "integration: N passed, M failed, K skipped"; the exit
# status is non-zero when any case failed or a mount was left behind.
#
# Environment: BPFUSE, BPFUSE_FSTYPE, POSIX_OPS, MOUNT_HELPER (see
# lib/common.sh), CASE_TIMEOUT (default 300).

set -u
IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CASE_TIMEOUT=${CASE_TIMEOUT:-300}
verbose=0
filters=()
for a in "$@"; do
	case $a in
	-v) verbose=1 ;;
	-h | --help)
		sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) filters+=("$a") ;;
	esac
done

cases=()
while IFS= read -r f; do
	name=${f#"$IT_DIR/cases/"}
	name=${name%.sh}
	if [ "${#filters[@]}" -gt 0 ]; then
		keep=0
		for flt in "${filters[@]}"; do
			case $name in *"$flt"*) keep=1 ;; esac
		done
		[ "$keep" -eq 1 ] || continue
	fi
	cases+=("$name")
done < <(find "$IT_DIR/cases" -mindepth 2 -maxdepth 2 -name '*.sh' | LC_ALL=C sort)

if [ "$(id -u)" -ne 0 ]; then
	for c in "${cases[@]}"; do
		echo "SKIP $c (integration cases need root)"
	done
	echo "integration: 0 passed, 0 failed, ${#cases[@]} skipped"
	exit 77
fi

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bpfuse-integration.XXXXXX")
# cases that test other users (allow_other) need to traverse it
chmod 755 "$RUN_DIR"
mkdir "$RUN_DIR/logs"
passed=0 failed=0 skipped=0

for c in "${cases[@]}"; do
	log=$RUN_DIR/logs/${c//\//_}.log
	start=$(date +%s)
	rc=0
	(
		cd "$RUN_DIR" || exit 1
		TMPDIR=$RUN_DIR _IT_UNDER_TIMEOUT=1 CASE_NAME=$c CASE_TIMEOUT=$CASE_TIMEOUT \
			exec timeout -k 60 "$CASE_TIMEOUT" bash "$IT_DIR/cases/$c.sh"
	) </dev/null >"$log" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0)
		echo "PASS $c (${secs}s)"
		passed=$((passed + 1))
		;;
	77)
		reason=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1)
		echo "SKIP $c (${reason:-no reason given})"
		skipped=$((skipped + 1))
		;;
	*)
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			reason="timed out after ${CASE_TIMEOUT}s"
		else
			# name the failed checks if the case used check(), else
			# give its last FAIL line
			reason=$(sed -n 's/^FAIL: \[\(.*\)\]$/\1/p' "$log" | paste -sd';' | sed 's/;/; /g')
			[ -n "$reason" ] || reason=$(sed -n 's/^FAIL: //p' "$log" | tail -n 1)
			reason="exit $rc${reason:+: $reason}"
		fi
		echo "FAIL $c ($reason)"
		failed=$((failed + 1))
		;;
	esac
	if [ "$verbose" -eq 1 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; }; then
		sed 's/^/    /' "$log" | tail -n 300
	fi
done

# leftover mounts under the run dir are a failure of the case that made them;
# report, then clean up as well as possible
left=$(awk -v d="$RUN_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts)
if [ -n "$left" ]; then
	echo "FAIL leftover-mounts ($(echo "$left" | tr '\n' ' '| sed 's/ $//'))"
	failed=$((failed + 1))
	for m in $(echo "$left" | sort -r); do
		timeout 10 umount "$m" 2>/dev/null || timeout 10 umount -l "$m" 2>/dev/null
	done
fi

# so are daemons still running for a mountpoint in the run dir (found by
# their arguments; they can only be ours)
pids=""
for p in /proc/[0-9]*; do
	{ tr '\0' '\n' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$RUN_DIR/" && pids="$pids ${p#/proc/}"
done
if [ -n "$pids" ]; then
	echo "FAIL leftover-daemons (pids$pids)"
	failed=$((failed + 1))
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
	done
fi

if [ "$failed" -eq 0 ] && [ -z "$(awk -v d="$RUN_DIR/" 'index($2, d) == 1' /proc/mounts)" ]; then
	rm -rf --one-file-system "$RUN_DIR"
else
	echo "logs kept in $RUN_DIR/logs"
fi
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

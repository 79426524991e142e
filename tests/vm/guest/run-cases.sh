#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM as /test.sh: every /cases/*.sh in order, each with a
# private directory.  Cases print "ok N - ..." / "not ok N - ..." lines; a case
# that fails without saying why gets a "not ok" line here.  Exit status: the
# number of failed cases.
failed=0
for c in /cases/*.sh; do
	name=$(basename "$c" .sh)
	work=/tmp/case-$name
	mkdir -p "$work"
	echo "vm-case: $name start"
	out=$work/output
	( cd "$work" && sh "$c" "$work" ) > "$out" 2>&1
	rc=$?
	cat "$out"
	if [ "$rc" = 77 ]; then
		echo "vm-case: $name SKIP"
	elif [ "$rc" != 0 ]; then
		grep -q '^not ok' "$out" || echo "not ok - case $name exited $rc"
		echo "vm-case: $name FAIL (exit $rc)"
		failed=$((failed + 1))
	else
		echo "vm-case: $name PASS"
	fi
done
exit "$failed"

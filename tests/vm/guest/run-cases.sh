#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM as /test.sh: every /cases/*.sh in order, each with a
# private directory.  Cases print "ok N - ..." / "not ok N - ..." lines; a case
# that fails without saying why gets a "not ok" line here.  Exit status: the
# number of failed cases.
# The module kernel's run (tests/vm/run-kernel.sh module) brings its modules in
# /lib/modules/bpfuse/: each is insmod'ed before every case that finds it
# unloaded (a case may rmmod it).
failed=0
for c in /cases/*.sh; do
	name=$(basename "$c" .sh)
	for ko in /lib/modules/bpfuse/*.ko; do
		[ -f "$ko" ] || continue
		grep -q "^$(basename "$ko" .ko) " /proc/modules && continue
		insmod "$ko" || echo "vm-case: insmod $ko failed"
	done
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

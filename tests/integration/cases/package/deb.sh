#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian package: build it (scripts/package.sh, CPack's DEB generator),
# install it with dpkg, read `man bpfuse`, mount through an fstab line with
# `mount -T FILE -a` (silent), read, read the stats, unmount; mount what
# systemd-fstab-generator makes of the x-systemd.automount example; `dpkg
# --purge`, and check that no file is left.
#
# The machine is not changed: the case runs in a private mount namespace in
# which /usr, /etc and /var are overlays whose upper layers live in the case's
# temp dir, so dpkg writes only there, and "nothing left" is checked on
# exactly what dpkg wrote. DEB=path uses a package built before.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
if [ -z "${_DEB_PRIVATE_NS:-}" ] && [ "$(id -u)" -eq 0 ]; then
	command -v unshare >/dev/null || skip "no unshare(1) for a private mount namespace"
	_DEB_PRIVATE_NS=1 exec unshare -m --propagation private -- bash "$0" "$@"
fi
setup_case "$@"

command -v dpkg >/dev/null || skip "not a Debian system (no dpkg)"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
grep -qw overlay /proc/filesystems || skip "the kernel has no overlayfs for a throwaway /usr"
case $T in /usr/* | /etc/* | /var/*) fail "TMPDIR '$T' must not be under /usr, /etc or /var" ;; esac

# ------------------------------------------------------------- the package
if [ -n "${DEB:-}" ]; then
	deb=$DEB
else
	log "building the package"
	"$REPO_ROOT/scripts/package.sh" "$T/build-deb" >"$T/package.out" 2>"$T/package.log" ||
		{ tail -n 30 "$T/package.log" >&2; fail "scripts/package.sh failed"; }
	deb=$(tail -n 1 "$T/package.out")
fi
[ -f "$deb" ] || fail "no package at '$deb'"
dpkg-deb -f "$deb" Package Version Depends
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | grep -v '^$' >"$T/contents"
for f in /usr/bin/bpfuse /usr/sbin/mount.fuse.bpfuse /usr/share/man/man8/bpfuse.8.gz \
	/usr/share/man/man8/mount.fuse.bpfuse.8.gz /usr/share/doc/bpfuse/copyright \
	/usr/share/doc/bpfuse/README.md /usr/share/doc/bpfuse/docs/options.md; do
	grep -qx "$f" "$T/contents" || fail "the package lacks $f"
done
# libbpf (>= 1.4, built by setup.sh) is linked statically: no libbpf package is needed,
# the libraries it needs (libelf, zlib) are
deps=$(dpkg-deb -f "$deb" Depends)
case $deps in *libbpf*) fail "Depends names libbpf, which is linked statically: $deps" ;; esac
for d in libelf1 zlib1g; do
	case $deps in *"$d "*|*"$d,"*|*"$d") ;; *) fail "Depends lacks $d (static libbpf needs it): $deps" ;; esac
done
# the fast-path object, when the package was built with one (FASTPATH_OBJ=PATH)
fp=/usr/lib/bpfuse/fastpath.bpf.o
if [ -n "${FASTPATH_OBJ:-}" ]; then
	grep -qx "$fp" "$T/contents" || fail "the package lacks $fp (FASTPATH_OBJ=$FASTPATH_OBJ)"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ".$fp" | cmp -s - "$FASTPATH_OBJ" ||
		fail "the package's $fp is not FASTPATH_OBJ '$FASTPATH_OBJ'"
else
	grep -qx "$fp" "$T/contents" && fail "the package has $fp although no FASTPATH_OBJ was given"
	log "no FASTPATH_OBJ: the package carries no fast-path object (the tracing programs are in the binary)"
fi

# ------------------------------------------------- a throwaway /usr, /etc, /var
for d in usr etc var; do
	mkdir -p "$T/ov/$d/up" "$T/ov/$d/work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/ov/$d/up,workdir=$T/ov/$d/work" "/$d" ||
		fail "cannot overlay /$d"
	at_cleanup "umount -l /$d"
done
# what the machine had at those paths before (another build's helper link, say)
had=()
while IFS= read -r f; do
	[ -e "$f" ] || [ -L "$f" ] && [ ! -d "$f" ] && had+=("$f")
done <"$T/contents"

# ------------------------------------------------------------- install
out=$(dpkg -i "$deb" 2>&1) || fail "dpkg -i failed: $out"
dpkg -s bpfuse | grep -q '^Status: install ok installed' || fail "dpkg -s: $(dpkg -s bpfuse 2>&1)"
assert_eq /usr/bin/bpfuse "$(readlink -f /sbin/mount.fuse.bpfuse)" "/sbin/mount.fuse.bpfuse resolves to"
/usr/bin/bpfuse --version | grep -q '^bpfuse ' || fail "installed bpfuse --version"
# the installed daemon looks for the fast-path object where the package puts it
grep -qaF "$fp" /usr/bin/bpfuse || fail "/usr/bin/bpfuse does not look for $fp"
if command -v man >/dev/null; then
	assert_eq /usr/share/man/man8/bpfuse.8.gz "$(man -w bpfuse)" "man -w bpfuse"
	page=$(MANWIDTH=200 man bpfuse 2>/dev/null)
	for o in $(/usr/bin/bpfuse --help | sed -n 's/^    \([a-z_][a-z_0-9]*\).*/\1/p'); do
		echo "$page" | grep -qw -- "$o" || fail "man bpfuse lacks option '$o'"
	done
	MANWIDTH=200 man mount.fuse.bpfuse 2>/dev/null | grep -q 'REMOUNT' || fail "man mount.fuse.bpfuse"
	echo "$page" | grep -qF "$fp" || fail "man bpfuse does not name $fp"
else
	log "no man(1) here: pages checked by name only"
fi

# ------------------------------------------------------------- mount by fstab
mkdir "$T/src" "$T/mnt"
echo "from the package" >"$T/src/hello"
track_mount "$T/mnt"
printf '# bpfuse package test\nlocal:%s %s fuse.bpfuse entry_timeout=1,_netdev,nofail,x-systemd.automount 0 0\n' \
	"$T/src" "$T/mnt" >"$T/fstab"
rc=0
out=$(timeout 60 mount -T "$T/fstab" -a 2>&1) || rc=$?
[ "$rc" -eq 0 ] || fail "mount -T fstab -a exited $rc: $out"
[ -z "$out" ] || fail "mount -T fstab -a printed: $out"
assert_mounted "$T/mnt"
pid=$(daemon_pids "$T/mnt")
[ "$(readlink "/proc/$pid/exe")" = /usr/bin/bpfuse ] ||
	fail "the mount is not served by the installed /usr/bin/bpfuse (pid '$pid')"
assert_eq "from the package" "$(cat "$T/mnt/hello")" "read through the fstab mount"
/usr/bin/bpfuse stats "$T/mnt" --json | grep -q '"mountpoint"' || fail "bpfuse stats of the mount"
out=$(timeout 60 umount "$T/mnt" 2>&1) || fail "umount failed: $out"
[ -z "$out" ] || fail "umount printed: $out"
assert_not_mounted "$T/mnt"
assert_no_daemon "$T/mnt"

# ----------------------------------------------- systemd: the fstab example
# docs/options.md's x-systemd.automount line, as systemd-fstab-generator turns it into
# units (systemd is not running the case: the generator is run by hand), and the mount
# its .mount unit makes (mount What Where -t Type -o Options), through the installed helper
t_systemd() {
	local gen unit opts rc=0
	for gen in /lib/systemd/system-generators/systemd-fstab-generator \
		/usr/lib/systemd/system-generators/systemd-fstab-generator ""; do
		[ -x "$gen" ] && break
	done
	[ -n "$gen" ] || { log "no systemd-fstab-generator on this machine: systemd check skipped"; return 77; }
	mkdir -p "$T/gen/n" "$T/gen/e" "$T/gen/l"
	printf 'local:%s %s fuse.bpfuse x-systemd.automount,x-systemd.idle-timeout=600,_netdev,nofail,profile=dataset 0 0\n' \
		"$T/src" "$T/mnt" >"$T/fstab.systemd"
	SYSTEMD_FSTAB=$T/fstab.systemd SYSTEMD_PROC_CMDLINE="" "$gen" "$T/gen/n" "$T/gen/e" "$T/gen/l" ||
		fail "systemd-fstab-generator failed"
	unit=$(find "$T/gen/n" -maxdepth 1 -name '*.mount' | head -n 1)
	[ -n "$unit" ] || fail "no mount unit generated: $(find "$T/gen")"
	[ -n "$(find "$T/gen/n" -maxdepth 1 -name '*.automount')" ] || fail "no automount unit generated"
	grep -qx "Type=fuse.bpfuse" "$unit" || fail "unit: $(cat "$unit")"
	grep -qx "What=local:$T/src" "$unit" || fail "unit: $(cat "$unit")"
	grep -qx "Where=$T/mnt" "$unit" || fail "unit: $(cat "$unit")"
	opts=$(sed -n 's/^Options=//p' "$unit")
	out=$(timeout 60 mount "local:$T/src" "$T/mnt" -t fuse.bpfuse -o "$opts" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "the unit's mount (-o $opts) exited $rc: $out"
	[ -z "$out" ] || fail "the unit's mount printed: $out"
	pid=$(daemon_pids "$T/mnt")
	[ "$(readlink "/proc/$pid/exe")" = /usr/bin/bpfuse ] ||
		fail "the unit's mount is not served by the installed /usr/bin/bpfuse (pid '$pid')"
	assert_eq "from the package" "$(cat "$T/mnt/hello")" "read through the unit's mount"
	out=$(timeout 60 umount "$T/mnt" 2>&1) || fail "umount failed: $out"
	[ -z "$out" ] || fail "umount printed: $out"
	assert_not_mounted "$T/mnt"
	assert_no_daemon "$T/mnt"
}
check "the fstab x-systemd.automount example: generator units, and their mount" t_systemd

# ------------------------------------------------------------- purge
out=$(dpkg --purge bpfuse 2>&1) || fail "dpkg --purge failed: $out"
dpkg -s bpfuse >/dev/null 2>&1 && fail "dpkg still knows bpfuse after --purge"
while IFS= read -r f; do
	[ -d "$f" ] && continue
	keep=0
	for h in "${had[@]}"; do [ "$h" = "$f" ] && keep=1; done
	[ "$keep" -eq 1 ] && continue
	{ [ -e "$f" ] || [ -L "$f" ]; } && fail "left after purge: $f"
done <"$T/contents"
# everything dpkg wrote, minus its own records and the man index it updates
left=$(cd "$T/ov" && find usr/up etc/up var/up -mindepth 1 ! -type d ! -type c |
	sed 's|^\([a-z]*\)/up/|/\1/|' |
	grep -vE '^/var/lib/dpkg/|^/var/log/(dpkg|apt|alternatives)\.log|^/var/cache/(man|debconf|ldconfig)/|^/etc/ld\.so\.cache$' || true)
[ -z "$left" ] || fail "files left after purge: $(echo "$left" | tr '\n' ' ')"
# and no file of the machine hidden, except what the package replaced
wh=$(cd "$T/ov" && find usr/up etc/up var/up -mindepth 1 -type c | sed 's|^\([a-z]*\)/up/|/\1/|' |
	grep -vE '^/var/lib/dpkg/|^/var/cache/(man|debconf)/' || true)
for f in $wh; do
	keep=0
	for h in "${had[@]}"; do [ "$h" = "$f" ] && keep=1; done
	[ "$keep" -eq 1 ] || fail "the package removed the machine's $f"
done
finish
log "installed, mounted by fstab and by systemd's unit, read, unmounted, purged: nothing left"

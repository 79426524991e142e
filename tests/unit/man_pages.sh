#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bpfuse(8) and mount.fuse.bpfuse(8) against --help: every option, every
# subcommand, every profile, the exit statuses and the files; roff without
# warnings; the pages the build wrote are those the binary writes now.
#
#	man_pages.sh BPFUSE MAN_DIR
set -eu
BPFUSE=$1
MAN_DIR=$2
bad=0
fail() { echo "FAIL: $*" >&2; bad=1; }

command -v groff >/dev/null || { echo "SKIP: groff is not installed" >&2; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for page in bpfuse mount.fuse.bpfuse; do
	"$BPFUSE" --help-man "$page" >"$T/$page.8" || fail "bpfuse --help-man $page failed"
	cmp -s "$T/$page.8" "$MAN_DIR/$page.8" || fail "$MAN_DIR/$page.8 is not what the binary writes"
	zcat "$MAN_DIR/$page.8.gz" | cmp -s - "$T/$page.8" || fail "$MAN_DIR/$page.8.gz is stale"
	warn=$(groff -man -ww -z "$T/$page.8" 2>&1)
	[ -z "$warn" ] || fail "$page.8: groff warnings: $warn"
	# plain text, no hyphenation or adjustment, one paragraph per line as far as can be
	groff -man -Tascii -rLL=300n -P-cbou -dhyphen=0 "$T/$page.8" 2>/dev/null |
		sed 's/[[:space:]]\+/ /g' >"$T/$page.txt"
done
"$BPFUSE" --help >"$T/help"

# every option --help lists: "    name[=ARG]   help"
opts=$(sed -n 's/^    \([a-z_][a-z_0-9]*\)\(=[A-Za-z|]*\)\{0,1\}\( .*\)\{0,1\}$/\1/p' "$T/help")
[ "$(echo "$opts" | wc -l)" -ge 40 ] || fail "found only $(echo "$opts" | wc -l) options in --help"
for page in bpfuse mount.fuse.bpfuse; do
	for o in $opts; do
		grep -qE "(^| |,)$o(=|,| |$)" "$T/$page.txt" || fail "$page(8) lacks option '$o'"
	done
	grep -q 'x-\*, comment=\*' "$T/$page.txt" || fail "$page(8) lacks x-*, comment=*"
	for p in default dataset shared; do
		grep -q "profile=$p" "$T/$page.txt" || fail "$page(8) lacks profile '$p'"
	done
	for s in NAME SYNOPSIS DESCRIPTION "MOUNT OPTIONS" PROFILES "EXIT STATUS" FILES "SEE ALSO"; do
		grep -q "^$s\$" "$T/$page.txt" || fail "$page(8) has no section $s"
	done
	for st in 0 1 2; do
		sed -n '/^EXIT STATUS$/,/^FILES$/p' "$T/$page.txt" | grep -qE "^ $st " ||
			fail "$page(8) lacks exit status $st"
	done
	for f in /run/bpfuse/CONNECTION.sock /run/bpfuse/CONNECTION.pid /run/bpfuse/CONNECTION.opts \
		/var/cache/bpfuse /sbin/mount.fuse.bpfuse fastpath.bpf.o; do
		grep -qF "$f" "$T/$page.txt" || fail "$page(8) lacks file '$f'"
	done
done

# every subcommand of --help's usage, in the synopsis and with a paragraph
sed -n 's/^\(usage:\| \{6\}\) bpfuse \(.*\)$/\2/p' "$T/help" >"$T/cmds"
[ "$(wc -l <"$T/cmds")" -ge 5 ] || fail "found only $(wc -l <"$T/cmds") subcommands in --help"
while IFS= read -r c; do
	[ "$(grep -cF "bpfuse $c" "$T/bpfuse.txt")" -ge 2 ] ||
		fail "bpfuse(8) lacks subcommand '$c' in SYNOPSIS and COMMANDS"
done <"$T/cmds"

# the helper's flags and sections
for fl in -f -n -s -v; do
	grep -qE "^ $fl " "$T/mount.fuse.bpfuse.txt" || fail "mount.fuse.bpfuse(8) lacks flag $fl"
done
for s in REMOUNT "FSTAB AND SYSTEMD"; do
	grep -q "^$s\$" "$T/mount.fuse.bpfuse.txt" || fail "mount.fuse.bpfuse(8) has no section $s"
done

# every flag, subcommand and program name the parsers of src/cli/ compare an argument with
# (not only those --help lists) in the pages (a flag in either, a subcommand as "bpfuse
# WORD" in bpfuse(8)), and the words mount(8) hands the helper on a remount in
# mount.fuse.bpfuse(8): a flag added to a parser without a word in the tables that feed
# the pages fails here
CLI=$(cd "$(dirname "$0")/../../src/cli" && pwd)
grep -ohE '"--?[A-Za-z][A-Za-z-]*' "$CLI"/*.c | tr -d '"' | sort -u >"$T/flags"
[ "$(wc -l <"$T/flags")" -ge 20 ] || fail "found only $(wc -l <"$T/flags") flags in $CLI"
words() { grep -ohE "strcmp\\($1, \"[a-z.]+\"\\)" "$CLI"/*.c | sed 's/.*"\(.*\)")/\1/' | sort -u; }
words 'argv\[1\]' >"$T/cmdwords"
words '(argv\[0\]|prog)' >"$T/words"
[ "$(wc -l <"$T/cmdwords")" -ge 7 ] || fail "found only $(wc -l <"$T/cmdwords") subcommands in $CLI"
[ "$(wc -l <"$T/words")" -ge 5 ] || fail "found only $(wc -l <"$T/words") words in $CLI"
has_word() { grep -qE "(^|[^A-Za-z0-9.-])$1([^A-Za-z0-9-]|$)" "$2"; }
while IFS= read -r w; do
	has_word "$w" "$T/bpfuse.txt" || has_word "$w" "$T/mount.fuse.bpfuse.txt" ||
		fail "the man pages lack '$w', which the parser accepts"
done < <(cat "$T/flags" "$T/words")
while IFS= read -r w; do
	has_word "bpfuse $w" "$T/bpfuse.txt" ||
		fail "bpfuse(8) lacks 'bpfuse $w', which the parser accepts"
done <"$T/cmdwords"
for w in remount user_id= group_id=; do
	grep -qF -- "$w" "$T/mount.fuse.bpfuse.txt" ||
		fail "mount.fuse.bpfuse(8) lacks '$w', which the parser accepts on a remount"
done

[ "$bad" -eq 0 ] || exit 1
echo "man pages: $(echo "$opts" | wc -w) options, $(wc -l <"$T/cmds") subcommands," \
	"$(wc -l <"$T/flags") parser flags, $(($(wc -l <"$T/cmdwords") + $(wc -l <"$T/words")))" \
	"parser words, both pages"

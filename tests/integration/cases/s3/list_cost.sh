#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ls -l of a 2,000-entry directory with posix_meta=off costs LIST requests (two pages of
# 1,000), not a HEAD per file: readdirplus and the LOOKUPs/GETATTRs that follow are answered
# from the listing. With posix_meta=on (the default) a listing costs no HEAD either (ls), but
# the attributes of a file are in its metadata: its first stat (ls -l) costs one HEAD, once.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb many >/dev/null
mkdir -p "$T/mnt"
echo x >"$T/one"
seq -f "dir/f%04g" 1 2000 | xargs -P 16 -I{} "$S3TOOL" -e "$S3_ENDPOINT" put many {} "$T/one" >/dev/null
s3tool put many dir/sub/deep "$T/one" >/dev/null

s3_mount s3://many "$T/mnt" posix_meta=off
n=$(ls -l "$T/mnt/dir" | grep -c '^-')
check "ls -l shows 2,000 files" test "$n" -eq 2000
check "and the subdirectory" test -d "$T/mnt/dir/sub"
h=$(s3_stat "$T/mnt" head)
l=$(s3_stat "$T/mnt" list)
log "ls -l of 2,000 entries: $h HEAD, $l LIST"
# the lookup of "dir" itself may cost one HEAD (404) and one LIST; the listing two pages
check "no HEAD per file" test "$h" -le 2
check "a few LISTs" test "$l" -le 6
stat "$T/mnt/dir/f1234" >/dev/null
cat "$T/mnt/dir/f0007" >/dev/null
check "stat and open of listed names cost no HEAD" test "$(s3_stat "$T/mnt" head)" -eq "$h"
bpfuse_umount "$T/mnt"

s3_mount s3://many "$T/mnt"
n=$(ls "$T/mnt/dir" | wc -l)
h=$(s3_stat "$T/mnt" head)
log "posix_meta=on: ls of 2,001 entries: $h HEAD, $(s3_stat "$T/mnt" list) LIST"
check "ls lists all" test "$n" -eq 2001
check "a listing costs no HEAD per file" test "$h" -le 2
n=$(ls -l "$T/mnt/dir" | grep -c '^-')
h1=$(s3_stat "$T/mnt" head)
log "posix_meta=on: ls -l of 2,000 files: $((h1 - h)) HEAD"
check "ls -l shows 2,000 files" test "$n" -eq 2000
check "ls -l costs one HEAD per file" test "$((h1 - h))" -le 2001
ls -l "$T/mnt/dir" >/dev/null
stat "$T/mnt/dir/f1234" >/dev/null
cat "$T/mnt/dir/f0007" >/dev/null
check "once: ls -l, stat and open again cost no HEAD" test "$(s3_stat "$T/mnt" head)" -eq "$h1"
finish

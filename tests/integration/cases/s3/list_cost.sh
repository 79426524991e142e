#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ls -l of a 2,000-entry directory costs LIST requests (two pages of 1,000), not a HEAD per
# file: readdirplus and the LOOKUPs/GETATTRs that follow are answered from the listing.
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

s3_mount s3://many "$T/mnt"
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
finish

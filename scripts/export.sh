#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make export: regenerate patches/ from base..HEAD of build/linux.  The
# cover letter (0000) is kept from patches/cover.txt: its first line is the
# subject, the rest the body.  Output is stable: exporting twice without a
# change leaves git status clean.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ -d "$TREE/.git" ] || die "no build/linux; run make tree first"
if [ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
	die "build/linux has uncommitted changes; commit them first"
fi
n=$(git -C "$TREE" rev-list --count base..HEAD)
[ "$n" -gt 0 ] || die "build/linux has no commits on top of base"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$TREE" -c core.abbrev=12 -c diff.renames=true format-patch -q \
	--numbered --cover-letter --no-signature --zero-commit --base=base \
	--subject-prefix=PATCH -o "$tmp" base..HEAD

# Fill in the cover letter from cover.txt.
cover=$(ls "$tmp"/0000-*.patch)
if [ -f "$TOP/cover.txt" ]; then
	subject=$(head -n 1 "$TOP/cover.txt")
	python3 - "$cover" "$TOP/cover.txt" "$subject" "$(git -C "$TREE" log -1 --format=%aD)" <<'EOF'
import re
import sys
path, body_path, subject, date = sys.argv[1:]
text = open(path).read()
# Stable output: the cover letter carries the date of the last commit.
text = re.sub(r"^Date: .*$", "Date: " + date, text, count=1, flags=re.M)
body = open(body_path).read().split("\n", 1)[1].strip("\n")
text = text.replace("*** SUBJECT HERE ***", subject)
text = text.replace("*** BLURB HERE ***", body)
open(path, "w").write(text)
EOF
fi

rm -f "$TOP"/patches/[0-9]*.patch
mkdir -p "$TOP/patches"
cp "$tmp"/*.patch "$TOP/patches/"
info "exported $n patch(es) + cover letter to patches/"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make export: regenerate patches/ from base..HEAD of build/linux.  The
# cover letter (0000) is filled from cover.txt (first line the subject, the
# rest the body), with To/Cc from scripts/get_maintainer.pl.  SERIES_VERSION
# (default in base.conf) sets "[PATCH vN ...]".  A commit's git note (its
# changelog, "Changes in vN: ...") goes below its "---".  Output is stable:
# exporting twice without a change leaves git status clean.

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
	--numbered --cover-letter --no-signature --zero-commit --base=base --notes \
	--subject-prefix="PATCH${SERIES_VERSION:+ v$SERIES_VERSION}" -o "$tmp" base..HEAD

# Fill in the cover letter from cover.txt, and address it with
# get_maintainer.pl: maintainers as To, lists and reviewers as Cc.
cover=$(ls "$tmp"/0000-*.patch)
series=("$tmp"/[0-9]*.patch)
series=("${series[@]:1}")	# every patch but the cover letter
gm=(scripts/get_maintainer.pl --no-git --no-git-fallback --no-fixes --no-rolestats
    --no-multiline --separator=', ')
maint=$(cd "$TREE" && "${gm[@]}" --no-l --no-r "${series[@]}") ||
	die "scripts/get_maintainer.pl failed in $TREE"
lists=$(cd "$TREE" && "${gm[@]}" --no-m "${series[@]}") ||
	die "scripts/get_maintainer.pl failed in $TREE"
if [ -f "$TOP/cover.txt" ]; then
	subject=$(head -n 1 "$TOP/cover.txt")
	python3 - "$cover" "$TOP/cover.txt" "$subject" "$(git -C "$TREE" log -1 --format=%aD)" \
		"$maint" "$lists" <<'EOF'
import re
import sys
path, body_path, subject, date, to, cc = sys.argv[1:]
text = open(path).read()
# Whoever is in To (maintainers) is not repeated in Cc.
cc = ", ".join(a for a in cc.split(", ") if a not in to.split(", "))
# Stable output: the cover letter carries the date of the last commit.
text = re.sub(r"^Date: .*$", "Date: " + date + "\nTo: " + to + "\nCc: " + cc,
              text, count=1, flags=re.M)
body = open(body_path).read().split("\n", 1)[1].strip("\n")
text = text.replace("*** SUBJECT HERE ***", subject)
text = text.replace("*** BLURB HERE ***", body)
open(path, "w").write(text)
EOF
fi

# EXPORT_AS_ME=1: the sender's copy, in build/outgoing/, authored and
# signed off by the person's own git identity; patches/ stays as it is.
if [ -n "${EXPORT_AS_ME:-}" ]; then
	me="$(git config user.name) <$(git config user.email)>"
	[ "$me" != " <>" ] || die "EXPORT_AS_ME needs git config user.name and user.email"
	rm -rf "$BUILD/outgoing"
	mkdir -p "$BUILD/outgoing"
	python3 - "$me" "$KMD_NAME <$KMD_EMAIL>" "$BUILD/outgoing" "$tmp"/*.patch <<'EOF'
import os
import sys
me, project, out, paths = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
for path in paths:
    text = open(path).read().replace("From: " + project, "From: " + me, 1)
    if "/0000-" not in path:
        head, sep, rest = text.partition("\n---\n")
        text = head + "\n\nSigned-off-by: " + me + sep + rest
    open(os.path.join(out, os.path.basename(path)), "w").write(text)
EOF
	info "exported $n patch(es) + cover letter to build/outgoing/ as $me"
	exit 0
fi

rm -f "$TOP"/patches/[0-9]*.patch
mkdir -p "$TOP/patches"
cp "$tmp"/*.patch "$TOP/patches/"
# build/linux now holds exactly patches/ (see tree.sh).
echo "$(cat "$TOP"/patches/[0-9]*.patch | grep -v '^Date: ' | sha256sum | cut -c1-16) $(git -C "$TREE" rev-parse HEAD)" >"$TREE/.git/kmd-series"
info "exported $n patch(es) + cover letter to patches/"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test-gate.sh: the harness's own test.  A make check that cannot install a
# package it needs must fail, with the failure counted in its summary line:
# a CI run without its packages must never be green.  It runs check.sh with
# a fake dpkg-query (nothing installed) and a fake apt-get (no mirror) first
# in PATH, in a scratch build directory, so the real logs stay untouched.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
printf '#!/bin/sh\nexit 1\n' >"$fake/dpkg-query"
printf '#!/bin/sh\necho "E: Unable to locate package (fake apt-get)" >&2\nexit 100\n' >"$fake/apt-get"
chmod +x "$fake/dpkg-query" "$fake/apt-get"

rc=0
out=$(PATH="$fake:$PATH" BUILD="$fake/build" KMD_CACHE="$fake/cache" ONLY=none \
	"$TOP/scripts/check.sh" 2>&1) || rc=$?
say "$out"
[ "$rc" -ne 0 ] || die "make check exited 0 although no package could be installed"
grep -qx 'check: 0 passed, 1 failed' <<<"$out" ||
	die "the summary line does not count the failed dependency step"
grep -q 'rerun alone: make check ONLY=deps' <<<"$out" ||
	die "the failing deps stage does not say how to rerun it"
say "ok: a missing package fails make check (exit $rc) and is counted"

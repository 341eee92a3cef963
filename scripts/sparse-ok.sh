#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# sparse-ok.sh SPARSE: is this sparse new enough for the base kernel?
# Uses the kernel's own scripts/checker-valid.sh.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
[ -x "$TREE/scripts/checker-valid.sh" ] || exit 1
[ "$("$TREE/scripts/checker-valid.sh" "$1" 2>/dev/null)" = 1 ]

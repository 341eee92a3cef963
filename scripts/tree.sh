#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make tree: build/linux is a git repository whose first commit is the
# pristine base (tag "base"); the series in patches/ is applied on top with
# git am, one commit per patch.  build/linux-stock is a second worktree at
# base, used to build the stock kernel.
#
# Re-running is cheap: a tree that already holds exactly the series is left
# alone, and re-applying only rewrites the files the series touches, so
# incremental kernel builds stay incremental.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

patch_ids() {
	git patch-id --stable | awk '{ print $1 }'
}

series_ids() {
	local p
	for p in "$TOP"/patches/[0-9]*.patch; do
		[ -e "$p" ] || continue
		case $p in */0000-*) continue ;; esac
		patch_ids <"$p"
	done
}

tree_ids() {
	git -C "$TREE" format-patch -q --stdout base..HEAD | patch_ids
}

apply_series() {
	local p n=0
	for p in "$TOP"/patches/[0-9]*.patch; do
		[ -e "$p" ] || continue
		case $p in */0000-*) continue ;; esac
		n=$((n + 1))
		if ! kgit -C "$TREE" am -q --3way --committer-date-is-author-date "$p" >"$LOGS/am.log" 2>&1; then
			say "The series does not apply: $(basename "$p")" >&2
			grep -E '^(error|Applying|Patch failed|CONFLICT)|patch does not apply|does not match index|while searching for' "$LOGS/am.log" >&2 || tail -n 20 "$LOGS/am.log" >&2
			git -C "$TREE" diff --name-only --diff-filter=U 2>/dev/null | sed 's/^/  conflict in: /' >&2
			kgit -C "$TREE" am --abort >/dev/null 2>&1 || true
			die "fix the patch (or the base in base.conf) and run make tree again; full log: $LOGS/am.log"
		fi
	done
	info "applied $n patch(es) on $(git -C "$TREE" rev-parse --short base)"
}

main() {
	local repo
	mkdir -p "$BUILD" "$LOGS"
	repo=$("$TOP/scripts/fetch-base.sh")
	need_space "$BUILD" 3000

	if [ ! -d "$TREE/.git" ]; then
		info "checking out the base into build/linux (about 30 s)"
		git clone -q --no-checkout "$repo" "$TREE"
		git -C "$TREE" tag -f base "$(git --git-dir="$repo" rev-parse base)" >/dev/null
		git -C "$TREE" checkout -q -B main base
	elif [ "$(git -C "$TREE" rev-parse base)" != "$(git --git-dir="$repo" rev-parse base)" ]; then
		die "build/linux is based on another base than $repo; move it away (or make distclean) and run make tree again"
	fi
	# Commits made in the tree carry the project's identity.
	git -C "$TREE" config user.name "$KMD_NAME"
	git -C "$TREE" config user.email "$KMD_EMAIL"

	if [ -z "${FORCE:-}" ]; then
		if [ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
			die "build/linux has uncommitted changes; commit them and make export, or run FORCE=1 make tree to discard them"
		fi
		if [ "$(tree_ids | sort)" = "$(series_ids | sort)" ]; then
			info "build/linux already holds the series ($(git -C "$TREE" rev-list --count base..HEAD) patches)"
		else
			if [ -n "$(tree_ids | sort | comm -23 - <(series_ids | sort))" ]; then
				die "build/linux has commits that are not in patches/; run make export first, or FORCE=1 make tree to drop them"
			fi
			git -C "$TREE" checkout -q -B main base
			apply_series
		fi
	else
		git -C "$TREE" reset -q --hard
		git -C "$TREE" checkout -q -B main base
		apply_series
	fi

	if [ ! -e "$STOCK_TREE/.git" ]; then
		git -C "$TREE" worktree prune
		git -C "$TREE" worktree add -q --detach "$STOCK_TREE" base
	fi
	git -C "$STOCK_TREE" checkout -q --detach base
}

main "$@"

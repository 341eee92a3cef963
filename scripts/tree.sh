#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make tree: build/linux is a git repository whose first commit is the
# pristine base (tag "base"); the series in patches/ is applied on top with
# git am, one commit per patch.  build/linux-stock is a second worktree at
# base, used to build the stock kernel.
#
# build/linux is rebuilt only when it is missing or when patches/ changed
# since the last apply or export (a hash in build/linux/.git/kmd-series
# says which); otherwise it is used as it is, uncommitted edits and
# unexported commits included, with a note that it differs from patches/.
# Re-applying only rewrites the files the series touches, so incremental
# kernel builds stay incremental.

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

series_hash() {
	cat "$TOP"/patches/[0-9]*.patch 2>/dev/null | grep -v '^Date: ' | sha256sum | cut -c1-16
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

	# The stamp: the hash of patches/ and the HEAD that holds them.
	local stamp=$TREE/.git/kmd-series dirty="" head
	head=$(git -C "$TREE" rev-parse HEAD)
	[ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] && dirty=1
	if [ "$(cut -d' ' -f1 "$stamp" 2>/dev/null)" = "$(series_hash)" ]; then
		if [ -n "$dirty" ] || [ "$(cut -d' ' -f2 "$stamp")" != "$head" ]; then
			info "build/linux differs from patches/ (uncommitted edits or new commits): testing it as it is; make export updates patches/"
		else
			info "build/linux holds the series ($(git -C "$TREE" rev-list --count base..HEAD) patches)"
		fi
	elif [ -z "$dirty" ] && [ "$(tree_ids | sort)" = "$(series_ids | sort)" ]; then
		echo "$(series_hash) $head" >"$stamp"
		info "build/linux holds the series ($(git -C "$TREE" rev-list --count base..HEAD) patches)"
	elif [ -z "$dirty" ] && { [ "$head" = "$(git -C "$TREE" rev-parse base)" ] ||
				  [ "$(cut -d' ' -f2 "$stamp" 2>/dev/null)" = "$head" ]; }; then
		git -C "$TREE" checkout -q -B main base
		apply_series
		echo "$(series_hash) $(git -C "$TREE" rev-parse HEAD)" >"$stamp"
	else
		die "patches/ changed since build/linux was last applied or exported, and build/linux has work that is not in patches/: make export keeps that work (it replaces patches/), or move build/linux away to start again from patches/"
	fi

	if [ ! -e "$STOCK_TREE/.git" ]; then
		git -C "$TREE" worktree prune
		git -C "$TREE" worktree add -q --detach "$STOCK_TREE" base
	fi
	git -C "$STOCK_TREE" checkout -q --detach base
}

main "$@"

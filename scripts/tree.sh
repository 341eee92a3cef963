#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make tree: build/linux is a git repository whose first commit is the
# pristine base (tag "base"); the series in patches/ is applied on top with
# git am, one commit per patch.  The trees that the kernels are built in
# are shared by the clones on this machine (lib.sh): worktrees of the base
# repository in the cache, one at base for stock, one for the kernel with
# another KHO ABI, and one that mirrors build/linux for ours.
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

# restore_notes PATCH: the changelog that make export put below "---"
# (git format-patch --notes) becomes the git note of the commit again, so
# that it survives the round trip through patches/.
restore_notes() {
	local notes
	notes=$(awk '
		/^---$/ && !cut { cut = 1; next }
		cut == 1 && /^Notes:$/ { cut = 2; next }
		cut == 1 && NF { exit }
		cut == 2 && /^ [^ ].*\|/ { exit }
		cut == 2 { sub(/^    /, ""); print }' "$1")
	[ -z "$notes" ] || kgit -C "$TREE" notes add -f -m "$notes" HEAD
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
		restore_notes "$p"
	done
	info "applied $n patch(es) on $(git -C "$TREE" rev-parse --short base)"
}

main() {
	mkdir -p "$BUILD" "$LOGS"
	# Global: shared_tree() and xabi_commit() use it too.
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
	# Per-patch changelogs are git notes (exported below "---"); keep them
	# through rebase and commit --amend.
	git -C "$TREE" config notes.rewriteRef refs/notes/commits

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

	local xabi
	trees_lock
	need_space "$TREES" 3000
	# No automatic gc in the shared repository: a detached "git gc --auto"
	# would repack the whole base, and hold the trees' lock while it does.
	git --git-dir="$repo" config gc.auto 0
	shared_tree "$STOCK_TREE" base
	xabi=$(xabi_commit) || exit 1
	shared_tree "$XABI_TREE" "$xabi"
	shared_tree "$KMD_SRC" ""
	sync_kmd_src
}

# shared_tree DIR COMMIT: DIR is a worktree of the base repository, checked
# out at COMMIT (left as it is if COMMIT is empty: sync_kmd_src moves it).
# One of another base repository is made again.
shared_tree() {
	local dir=$1 common
	common=$(git -C "$dir" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
	if [ -n "$common" ] && [ "$(cd "$common" && pwd -P)" != "$(cd "$repo" && pwd -P)" ]; then
		info "$dir belongs to another base; making it again"
		rm -rf "$dir"
	fi
	if [ ! -e "$dir/.git" ]; then
		info "checking out $(basename "$dir") into $dir, shared by all clones (once, about 30 s)"
		rm -rf "$dir"
		git --git-dir="$repo" worktree prune
		git --git-dir="$repo" worktree add -q --detach "$dir" "${2:-base}"
	fi
	# -f: a shared tree never keeps local edits.
	[ -z "$2" ] || git -C "$dir" checkout -q -f --detach "$2"
}

# The other-ABI kernel's source: the base with another KHO root compatible
# string, as a commit of its own in the base repository (made without
# touching any worktree), so
# that no build, killed or not, can turn the stock tree into something else.
xabi_commit() {
	local hdr=include/linux/kho/abi/kexec_handover.h index blob tree
	git --git-dir="$repo" cat-file -e "base:$hdr" 2>/dev/null ||
		die "$hdr is missing from the base: the other-ABI kernel cannot be made"
	index=$(mktemp)
	blob=$(git --git-dir="$repo" show "base:$hdr" |
		sed 's/^#define KHO_FDT_COMPATIBLE ".*"$/#define KHO_FDT_COMPATIBLE "kho-v4-xabi"/' |
		git --git-dir="$repo" hash-object -w --stdin)
	[ "$blob" != "$(git --git-dir="$repo" rev-parse "base:$hdr")" ] ||
		die "KHO_FDT_COMPATIBLE not found in $hdr of the base: the other-ABI kernel cannot be made"
	if ! GIT_INDEX_FILE=$index git --git-dir="$repo" read-tree base ||
	   ! GIT_INDEX_FILE=$index git --git-dir="$repo" update-index --cacheinfo "100644,$blob,$hdr" ||
	   ! tree=$(GIT_INDEX_FILE=$index git --git-dir="$repo" write-tree); then
		die "cannot make the other-ABI commit in $repo"
	fi
	rm -f "$index"
	GIT_AUTHOR_DATE=$KMD_DATE GIT_COMMITTER_DATE=$KMD_DATE \
		kgit --git-dir="$repo" commit-tree -p base -m "kho: another root compatible (other-ABI test kernel)" "$tree"
}

main "$@"

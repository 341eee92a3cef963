#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the base kernel available as a git repository in the cache and print
# its path.  The base is Debian's linux-source-7.3 package (pinned in
# base.conf), fetched with a private apt configuration that reuses the mirror
# named in /etc/apt, or LINUX_SRC=/path/to/tree-or-tarball.
#
# Everything lands in $CACHE, so further clones on this machine reuse it.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APT=$CACHE/apt

# shellcheck source=mirror.sh
. "$TOP/scripts/mirror.sh"
MIRROR_HINT=" or use LINUX_SRC=/path/to/linux-7.3"

apt_private() {
	local cmd=$1
	shift
	local opts=(
		-o "Dir::Etc::SourceList=$APT/sources.list"
		-o "Dir::Etc::SourceParts=$APT/sources.list.d"
		-o "Dir::Etc::PreferencesParts=$APT/preferences.d"
		-o "Dir::Etc::Preferences=$APT/preferences"
		-o "Dir::State::Lists=$APT/lists"
		-o "Dir::Cache=$APT/cache"
		-o "Debug::NoLocking=1"
		-o "Acquire::Retries=2"
		-o "Acquire::http::Timeout=30"
	)
	[ "$(id -u)" -eq 0 ] && opts+=(-o "APT::Sandbox::User=root")
	"$cmd" "${opts[@]}" "$@"
}

apt_setup() {
	local uri
	uri=$(mirror_uri)
	mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" \
		"$APT/sources.list.d" "$APT/preferences.d"
	: >"$APT/preferences"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$uri" "$BASE_SUITE" >"$APT/sources.list"
	if [ "${1:-}" = src ]; then
		printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' \
			"$uri" >>"$APT/sources.list"
	fi
	local start=$SECONDS
	info "reading the package index of $BASE_SUITE from the configured mirror"
	if ! apt_private apt-get -q update >"$APT/update.log" 2>&1 ||
	   grep -q -E '^(Err|W: Failed)' "$APT/update.log"; then
		tail -n 5 "$APT/update.log" >&2
		die "no Debian mirror reachable (full log: $APT/update.log); check the network or /etc/apt, or use LINUX_SRC=/path/to/linux-7.3"
	fi
	info "package index read in $(elapsed "$start")"
}

# Download the package, falling back to the newest 7.3.y the mirror has.
fetch_deb() {
	local ver=$BASE_VERSION avail deb
	mkdir -p "$CACHE/debs"
	deb=$(first_match "$CACHE/debs/${BASE_PACKAGE}_${ver//:/%3a}"_*.deb || true)
	if [ -n "$deb" ] && [ "$(sha256sum "$deb" | cut -d' ' -f1)" = "$BASE_SHA256" ]; then
		echo "$deb"
		return
	fi
	apt_setup
	avail=$(apt_private apt-cache madison "$BASE_PACKAGE" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }')
	if [ -z "$avail" ]; then
		die "the mirror has no $BASE_PACKAGE in $BASE_SUITE; use LINUX_SRC=/path/to/linux-7.3"
	fi
	if ! grep -qxF "$ver" <<<"$avail"; then
		ver=$(sort -V <<<"$avail" | tail -n 1)
		warn "pinned $BASE_PACKAGE $BASE_VERSION is no longer on the mirror; using the newest one it has, $ver (not the pinned checksum). make tree checks that the series still applies; update base.conf once it does."
	fi
	info "downloading $BASE_PACKAGE $ver (about 150 MB, usually under a minute)"
	local start=$SECONDS
	(cd "$CACHE/debs" && apt_private apt-get -q download "$BASE_PACKAGE=$ver") >"$CACHE/debs/download.log" 2>&1 ||
		{ tail -n 5 "$CACHE/debs/download.log" >&2; die "download of $BASE_PACKAGE $ver failed (log: $CACHE/debs/download.log)"; }
	deb=$(first_match "$CACHE/debs/${BASE_PACKAGE}_${ver//:/%3a}"_*.deb) ||
		die "apt-get download left no .deb in $CACHE/debs"
	if [ "$ver" = "$BASE_VERSION" ]; then
		local sum
		sum=$(sha256sum "$deb" | cut -d' ' -f1)
		if [ "$sum" != "$BASE_SHA256" ]; then
			mv "$deb" "$deb.bad"
			die "checksum mismatch for $deb: got $sum, base.conf pins $BASE_SHA256; the file was moved to $deb.bad. Retry; if it persists the mirror serves a different file."
		fi
	fi
	info "downloaded in $(elapsed "$start")"
	echo "$deb"
}

# Unpack a .deb or tarball into a source directory; print the directory.
unpack() {
	local what=$1 dest=$2 tarball start=$SECONDS
	if [ -f "$dest/.kmd-unpacked" ]; then
		echo "$dest"
		return
	fi
	need_space "$CACHE" 4000
	rm -rf "$dest" "$dest.tmp"
	mkdir -p "$dest.tmp"
	info "extracting $(basename "$what") (about 1 minute)" >&2
	case $what in
	*.deb)
		dpkg-deb -x "$what" "$dest.tmp/deb"
		tarball=$(first_match "$dest.tmp"/deb/usr/src/linux-source-*.tar.*) ||
			die "$what holds no linux-source tarball"
		;;
	*) tarball=$what ;;
	esac
	tar -xf "$tarball" -C "$dest.tmp" || die "cannot extract $tarball (disk full? see df -h $CACHE)"
	rm -rf "$dest.tmp/deb"
	# The tarball holds a single top directory.
	local top
	top=$(find "$dest.tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	mv "$top" "$dest"
	rmdir "$dest.tmp" 2>/dev/null || rm -rf "$dest.tmp"
	touch "$dest/.kmd-unpacked"
	info "extracted in $(elapsed "$start")" >&2
	echo "$dest"
}

# The version a kernel tree declares; --no-print-directory keeps make's
# directory messages out of it when this runs under another make.
kernel_version() {
	make -s --no-print-directory -C "$1" kernelversion
}

check_version() {
	local src=$1 v
	[ -f "$src/Makefile" ] || die "$src does not look like a kernel tree (no Makefile)"
	v=$(kernel_version "$src" 2>/dev/null || true)
	case $v in
	"$BASE_SERIES" | "$BASE_SERIES".*) ;;
	*) die "$src is Linux '${v:-unknown}', but the series is against $BASE_SERIES; point LINUX_SRC at a $BASE_SERIES tree" ;;
	esac
}

# Record a source directory as a bare git repository with one commit,
# tagged "base", with a fixed author and date.
make_repo() {
	local src=$1 repo=$2 start=$SECONDS
	if [ -f "$repo/kmd-ok" ]; then
		echo "$repo"
		return
	fi
	need_space "$CACHE" 3000
	info "recording the base as a git commit (about 1-2 minutes)" >&2
	rm -rf "$repo"
	git init -q --bare "$repo"
	GIT_DIR=$repo GIT_WORK_TREE=$src git add -A -f -- . ':!.kmd-unpacked'
	local tree commit
	tree=$(GIT_DIR=$repo git write-tree)
	commit=$(GIT_DIR=$repo GIT_AUTHOR_DATE=$KMD_DATE GIT_COMMITTER_DATE=$KMD_DATE \
		kgit commit-tree -m "Linux $(kernel_version "$src") base ($(basename "$src"))" "$tree")
	GIT_DIR=$repo git update-ref refs/heads/master "$commit"
	GIT_DIR=$repo git tag base "$commit"
	touch "$repo/kmd-ok"
	info "base commit $(GIT_DIR=$repo git rev-parse --short base) in $(elapsed "$start")" >&2
	echo "$repo"
}

# A sparse new enough for this kernel (scripts/checker-valid.sh), built from
# Debian's source package when the installed one is too old; prints its path.
fetch_sparse() {
	local dir=$CACHE/sparse bin tarball start=$SECONDS
	bin=$(command -v sparse || true)
	if [ -n "$bin" ] && "$TOP/scripts/sparse-ok.sh" "$bin"; then
		echo "$bin"
		return
	fi
	if [ -x "$dir/bin/sparse" ]; then
		echo "$dir/bin/sparse"
		return
	fi
	info "building sparse from Debian's source package (installed one is missing or too old; about 30 s)"
	apt_setup src
	rm -rf "$dir" && mkdir -p "$dir/src"
	(cd "$dir/src" && apt_private apt-get -q source --download-only sparse) >"$dir/fetch.log" 2>&1 ||
		{ tail -n 5 "$dir/fetch.log" >&2; die "cannot fetch sparse's source package (log: $dir/fetch.log)"; }
	tarball=$(first_match "$dir"/src/sparse_*.orig.tar.*) ||
		die "no sparse source tarball in $dir/src"
	tar -xf "$tarball" -C "$dir/src"
	make -C "$dir"/src/sparse-*/ -j"$(nproc_jobs)" sparse >"$dir/build.log" 2>&1 ||
		{ tail -n 5 "$dir/build.log" >&2; die "building sparse failed (log: $dir/build.log)"; }
	mkdir -p "$dir/bin"
	cp "$dir"/src/sparse-*/sparse "$dir/bin/"
	info "sparse built in $(elapsed "$start")"
	echo "$dir/bin/sparse"
}

main() {
	local src key
	if [ "${1:-}" = sparse ]; then
		fetch_sparse
		return
	fi
	mkdir -p "$CACHE"
	if [ -n "${LINUX_SRC:-}" ]; then
		if [ -d "$LINUX_SRC" ]; then
			src=$(cd "$LINUX_SRC" && pwd)
			key=custom-$(printf '%s' "$src" | sha256sum | cut -c1-12)
		elif [ -f "$LINUX_SRC" ]; then
			key=custom-$(sha256sum "$LINUX_SRC" | cut -c1-12)
			src=$(unpack "$(cd "$(dirname "$LINUX_SRC")" && pwd)/$(basename "$LINUX_SRC")" "$CACHE/src/$key")
		else
			die "LINUX_SRC=$LINUX_SRC is neither a directory nor a tarball"
		fi
	else
		local deb
		deb=$(fetch_deb)
		key=$(basename "$deb" .deb)
		src=$(unpack "$deb" "$CACHE/src/$key")
	fi
	check_version "$src"
	make_repo "$src" "$CACHE/git/$key.git"
}

main "$@"

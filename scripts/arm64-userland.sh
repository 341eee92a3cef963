#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# arm64-userland.sh: Debian's arm64 busybox-static and kexec-tools, with the
# libraries kexec needs, for the arm64 busybox guest (busybox_guest in
# lib.sh).  Fetched once into $CACHE/arm64-userland/root with apt-get
# download and a private apt state: the host's dpkg architectures and
# package lists are not touched, and no root is needed.  The sources are the
# host's own (/etc/apt).  Prints the root directory.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# kexec-tools and what its binary links against (checked below).
PACKAGES=(
	busybox-static kexec-tools libc6 zlib1g libxenmisc4.17 libxencall1
	libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 libxengnttab1
	libxentoolcore1 libxentoollog1
)

dir=$CACHE/arm64-userland
root=$dir/root
if [ ! -x "$root/sbin/kexec" ]; then
	need_cmd apt-get apt
	need_cmd dpkg-deb dpkg
	info "fetching Debian's arm64 ${PACKAGES[*]} into $dir"
	rm -rf "$dir" && mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs"
	apt=(-q -o APT::Architecture=arm64 -o APT::Architectures=arm64
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
		-o Dir::State::status=/dev/null -o APT::Sandbox::User="$(id -un)")
	(cd "$dir/debs" && apt-get "${apt[@]}" update && apt-get "${apt[@]}" download "${PACKAGES[@]}") \
		>"$dir/apt.log" 2>&1 ||
		{ tail -n 5 "$dir/apt.log" >&2; die "could not fetch arm64 packages (log: $dir/apt.log); is the mirror in /etc/apt reachable?"; }
	mkdir -p "$root.new"
	for deb in "$dir"/debs/*.deb; do
		dpkg-deb -x "$deb" "$root.new"
	done
	mv "$root.new" "$root"
	rm -rf "$dir/lists" "$dir/cache"
fi
echo "$root"

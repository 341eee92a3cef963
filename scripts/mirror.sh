# SPDX-License-Identifier: GPL-2.0
# mirror_uri: the Debian mirror the harness downloads from, read from
# /etc/apt (KMD_MIRROR overrides it).  Sourced by fetch-base.sh (the base
# and sparse, through a private apt configuration) and distro-rootfs.sh
# (the Debian guest, through mmdebstrap); never run.
# shellcheck shell=bash

# The first Debian (non-security) mirror URI configured in /etc/apt.
mirror_uri() {
	local f uri
	if [ -n "${KMD_MIRROR:-}" ]; then
		echo "$KMD_MIRROR"
		return
	fi
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(sed -n -E 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]].*/\2/p' "$f" |
			grep -v -e security -e '^cdrom:' | head -n 1 || true)
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk 'tolower($1) == "uris:" { print $2 }' "$f" |
			grep -v security | grep -E '/debian/?$' | head -n 1 || true)
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	die "no Debian mirror found in /etc/apt (sources.list or sources.list.d); set KMD_MIRROR to your mirror URI${MIRROR_HINT:-}"
}

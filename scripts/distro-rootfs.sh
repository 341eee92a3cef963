#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# distro-rootfs.sh: the Debian trixie guest of the distro stage
# (scripts/distro.sh) and of make demo's systemd hop, as an ext4 image;
# prints its path.  systemd 257 as PID 1, udev, journald with a persistent
# journal and a fixed machine ID, Debian's kexec-tools, and one unit,
# kmd-hop.service, that runs the hop script of the second disk on every
# boot (scripts/distro-hop.sh; the image holds no kernel and no test, so
# it does not change when they do).
#
# mmdebstrap builds the tree from the Debian mirror named in /etc/apt
# (scripts/mirror.sh), in a directory of its own: the host's dpkg is not
# touched.  "mke2fs -d" makes the image from that directory, without loop
# devices or mounts.  The image is cached in $CACHE/distro, keyed by this
# script (which holds the package list and the configuration), so other
# clones reuse it.  The guest writes to its disk: callers boot a copy.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=mirror.sh
. "$TOP/scripts/mirror.sh"

SUITE=trixie
PACKAGES=(systemd systemd-sysv udev kexec-tools)
# A fixed machine ID: journalctl --list-boots needs the same one in every
# boot, and every run of the stage starts from the same image.
MACHINE_ID=6b6d642d64697374726f2d7838365f36
IMAGE_MB=1024
# Units that cost boot time (each is a process or a mount under TCG) and do
# nothing for the test: timers of apt and e2fsprogs, the gettys (nobody
# logs in; the console is the test's), modules (the test kernels have none,
# the guest no kmod), credentials, and pseudo file systems nobody uses.
MASK=(apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service
	fstrim.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer
	getty@.service serial-getty@.service console-getty.service getty-static.service
	kexec-load.service kexec.service systemd-networkd-wait-online.service
	modprobe@.service systemd-modules-load.service systemd-udev-load-credentials.service
	sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount
	dev-hugepages.mount dev-mqueue.mount)

key=$(sha256sum <"$0" | cut -c1-16)
dir=$CACHE/distro
img=$dir/trixie-$key.ext4
log=$dir/trixie-$key.log
if [ -f "$img" ]; then
	echo "$img"
	exit 0
fi

need_cmd mmdebstrap mmdebstrap
need_cmd mke2fs e2fsprogs
[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] ||
	die "no Debian archive keyring; install it with: apt-get install debian-archive-keyring"
[ "$(id -u)" -eq 0 ] ||
	die "building the Debian guest needs root (mmdebstrap's root mode, and mke2fs -d keeps the files' owners); run make check as root once, then the image is cached in $dir"
need_space "$dir" 2500
mkdir -p "$dir"
# One build at a time (two clones, or make check beside make demo); the
# one that waited finds the image made.
exec 9>"$dir/lock"
flock 9
if [ -f "$img" ]; then
	echo "$img"
	exit 0
fi
uri=$(mirror_uri)
start=$SECONDS
info "building the Debian $SUITE guest with mmdebstrap (first time only, about 1-3 minutes, most of it the mirror; log: $log)"

# mmdebstrap's own steps (package installation, then its cleanup) run with
# the host's /dev, /proc and /sys mounted in the tree, so the image is made
# from the directory it leaves, after the configuration below.
configure() {
	local root=$1 u
	echo "$MACHINE_ID" >"$root/etc/machine-id"
	echo kmd-distro >"$root/etc/hostname"
	mkdir -p "$root/etc/systemd/journald.conf.d" "$root/etc/systemd/system.conf.d" \
		"$root/var/log/journal" "$root/etc/systemd/system/multi-user.target.wants"
	printf '[Journal]\nStorage=persistent\n' >"$root/etc/systemd/journald.conf.d/kmd.conf"
	# A unit that hangs at shutdown fails the hop in 15 s, not 90.
	printf '[Manager]\nDefaultTimeoutStopSec=15s\n' >"$root/etc/systemd/system.conf.d/kmd.conf"
	# Debian's kexec-tools would load /vmlinuz at reboot if told to.
	echo LOAD_KEXEC=false >"$root/etc/default/kexec"
	for u in "${MASK[@]}"; do
		ln -sf /dev/null "$root/etc/systemd/system/$u"
	done
	cat >"$root/etc/systemd/system/kmd-hop.service" <<'UNIT'
[Unit]
Description=kexec-metadata hop: check this boot, then kexec the next kernel
Wants=dev-vdb.device
After=multi-user.target dev-vdb.device systemd-journal-flush.service
FailureAction=reboot

[Service]
Type=oneshot
# A hop that fails or hangs ends the chain: QEMU runs with -no-reboot.
TimeoutStartSec=180
ExecStart=/bin/sh -c 'mkdir -p /run/kmd && mount -o ro /dev/vdb /run/kmd && exec /bin/bash /run/kmd/hop'
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
UNIT
	ln -sf ../kmd-hop.service "$root/etc/systemd/system/multi-user.target.wants/kmd-hop.service"
	# Nothing is left for the first boot to update (ConditionNeedsUpdate=):
	# no hwdb, catalog or ldconfig run in every boot of every copy.
	touch "$root/etc/.updated" "$root/var/.updated"
}

tree=$dir/trixie-$key.tree
rm -rf "$tree" "$img.tmp"
if ! mmdebstrap --variant=minbase --mode=root --include="$(IFS=,; echo "${PACKAGES[*]}")" \
	--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--aptopt='Acquire::Retries "2"' --aptopt='Acquire::http::Timeout "30"' \
	"$SUITE" "$tree" "deb $uri $SUITE main" >"$log" 2>&1; then
	tail -n 15 "$log" >&2
	rm -rf "$tree"
	if grep -q -i -E 'Failed to fetch|Could not resolve|Unable to connect|Temporary failure|Err:' "$log"; then
		die "the Debian mirror $uri is not reachable or lacks $SUITE (full log: $log); check the network or /etc/apt, or set KMD_MIRROR"
	fi
	die "mmdebstrap could not build the Debian $SUITE guest (full log: $log)"
fi
configure "$tree"
mke2fs -q -F -t ext4 -L kmd-root -d "$tree" "$img.tmp" "${IMAGE_MB}M" >>"$log" 2>&1 ||
	{ tail -n 5 "$log" >&2; die "mke2fs -d could not make the image (log: $log)"; }
rm -rf "$tree"
mv "$img.tmp" "$img"
# Images of earlier recipes are not used again (160 MB each).
find "$dir" -maxdepth 1 -name 'trixie-*' ! -name "trixie-$key.*" -exec rm -rf {} +
info "Debian $SUITE guest built in $(elapsed "$start") ($(du -sh "$img" | cut -f1) used): $img"
echo "$img"

# SPDX-License-Identifier: GPL-2.0-only
# Which kernel gecko.ko is built against, and where its image is cached.
# Sourced by the Makefile helpers and tests/vm/run.

# The newest linux-headers-*-amd64: "sort -V" over every linux-headers-*
# would pick the -common folder, which cannot build modules.
gecko_kver() {
	local d
	d=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n1)
	[[ -n $d ]] || { echo "no linux-headers-*-amd64 installed (make deps)" >&2; return 1; }
	echo "${d#/usr/src/linux-headers-}"
}

GECKO_CACHE=${GECKO_CACHE:-$HOME/.cache/gecko}

# Extract Debian's linux-image-$KVER (never installed) into the cache, with
# its modules indexed, and print the folder.
gecko_kernel_dir() {
	local kver=$1 dir=$GECKO_CACHE/kernel/$1 tmp
	if [[ ! -f $dir/.complete ]]; then
		mkdir -p "$GECKO_CACHE"
		tmp=$(mktemp -d "$GECKO_CACHE/kernel.XXXXXX") || return 1
		(cd "$tmp" && apt-get download "linux-image-$kver" >/dev/null 2>&1) ||
			{ echo "cannot download linux-image-$kver" >&2; rm -rf "$tmp"; return 1; }
		dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/root" &&
			depmod -b "$tmp/root" "$kver" || { rm -rf "$tmp"; return 1; }
		rm -rf "$dir" && mkdir -p "${dir%/*}" && mv "$tmp/root" "$dir" && rm -rf "$tmp"
		touch "$dir/.complete"
	fi
	echo "$dir"
}

# The kernel to boot from the folder KDIR of gecko_kernel_dir: its image
# unpacked once into an ELF file qemu starts at its PVH entry point (under
# TCG, the image unpacking itself took 3 s of every boot), else the image.
gecko_boot_kernel() {
	local image=$1/boot/vmlinuz-$2 elf=$1/boot/vmlinux-$2 at tmp
	if [[ ! -f $elf ]] && tmp=$(mktemp "$elf.XXXXXX"); then
		# Debian's images are xz-compressed: the stream starts at xz's magic.
		at=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$image" | head -n1 | cut -d: -f1)
		if [[ -n $at ]]; then
			# The image goes on past the stream: xz's complaint about that is no error here.
			tail -c +$((at + 1)) "$image" | xz -dc > "$tmp" 2> /dev/null
			# 0x12: the ELF note of the PVH entry point.
			if readelf -n "$tmp" 2> /dev/null | grep -q 'Xen .*0x00000012'; then
				chmod 644 "$tmp" && mv "$tmp" "$elf"
			fi
		fi
		rm -f "$tmp"
	fi
	if [[ -f $elf ]]; then echo "$elf"; else echo "$image"; fi
}

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

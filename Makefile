# SPDX-License-Identifier: GPL-2.0-only
#
# The one entry point. See README.md and Documentation/building.md.
#
#   make              build gecko.ko and the user space (installs missing packages first)
#   make check        every suite: unit, KUnit, VM scenarios, packaging; one summary line
#   make demo         boot the test VM and show gecko at work
#   make bench        benchmarks, as ratios against a baseline in the same VM boot
#   make unit | kunit | vm-check | vm-test T=name | pkg-check
#   make install [DESTDIR=...]   make uninstall   make dkms-install   make deb   make deps   make clean

# Expanded when a recipe runs, not when this file is read: on a fresh
# machine the headers appear only once deps-ok has installed them.
KVER ?= $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' | sort -V | tail -n1)
KDIR ?= /usr/src/linux-headers-$(KVER)
VERSION := $(shell cat VERSION)
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
# Compiled objects are kept for the next build, of this checkout or another
# (ccache; the checkout's path is mapped out of them), in the cache folder
# the tests use too.
GECKO_CACHE ?= $(HOME)/.cache/gecko
export CCACHE_DIR ?= $(GECKO_CACHE)/ccache
export CCACHE_BASEDIR := $(CURDIR)

# Debian 12 packages the build, the tests and the demo need.
DEPS := build-essential cmake pkg-config git kmod bc flex bison libelf-dev \
	linux-headers-amd64 linux-source-6.1 dkms \
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libnl-xfrm-3-dev libssl-dev \
	libboost-program-options-dev googletest libgtest-dev \
	qemu-system-x86 busybox-static cpio ccache \
	iproute2 iputils-ping ethtool procps util-linux jq gojq tcpdump tshark \
	socat ncat curl iperf3 python3 python3-scapy iptables systemd bash-builtins

all: deps-ok kmod user

deps:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEPS)

# Install packages only when one is missing, so "make" stays quick.
deps-ok:
	@if dpkg-query -W -f='$${Package} $${db:Status-Status}\n' $(DEPS) 2>&1 | \
		grep -qv ' installed$$' || [ -z "$(KVER)" ]; then $(MAKE) deps; fi

# quiet WHAT,LOG,COMMANDS: one line saying what is built, the compilers'
# output kept in $(BUILD)/LOG.log and shown (its end) only on a failure;
# V=1 shows it all as it comes.
ifeq ($(V),1)
quiet = $(3)
else
quiet = @mkdir -p $(BUILD) && echo "make: $(1) (log: $(BUILD)/$(2).log)" && \
	{ $(3); } > $(BUILD)/$(2).log 2>&1 || { tail -n 40 $(BUILD)/$(2).log; echo "make: $(1) failed; V=1 shows everything"; exit 1; }
endif

kmod: deps-ok
	$(call quiet,gecko.ko for $(KVER) (under a minute),kmod,\
		$(MAKE) -C kmod KDIR=$(KDIR) && $(MAKE) -C tests/vm/selftest KDIR=$(KDIR))

user: deps-ok
	$(call quiet,libgeckoctl and the programs (3-5 minutes on two cores from scratch),user,\
		cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
			-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_FLAGS=-ffile-prefix-map=$(CURDIR)=. && \
		cmake --build $(BUILD) -j$(JOBS))

check: all
	tests/check

unit: user
	ctest --test-dir $(BUILD) --output-on-failure

kunit: deps-ok
	tests/kunit/run

vm-check: all
	tests/vm/run -j 0 $(notdir $(basename $(wildcard tests/vm/scenarios/*.sh)))

vm-test: all
	tests/vm/run -v $(T)

pkg-check: all
	tests/pkg/check

demo: all
	tests/vm/run -v -t 300 tests/vm/demo.sh

# What make bench needs: HAProxy to compare geckoproxy with, matplotlib for its plots.
BENCH_DEPS := haproxy python3-matplotlib

bench: all
	@if dpkg-query -W -f='$${db:Status-Status}\n' $(BENCH_DEPS) 2>&1 | grep -qv '^installed$$'; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(BENCH_DEPS); fi
	tests/bench/run

install: user
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)
	[ -n "$(DESTDIR)" ] || ldconfig

# What the last "make install" into this DESTDIR and PREFIX put there.
uninstall:
	@[ -f $(BUILD)/install_manifest.txt ] || { echo "nothing installed from $(BUILD)"; exit 1; }
	sed 's|^|$(DESTDIR)|' $(BUILD)/install_manifest.txt | xargs -r -d '\n' rm -f
	[ -n "$(DESTDIR)" ] || ldconfig

# What make deb needs beyond the build's packages.
DEB_DEPS := debhelper dh-dkms lintian

# Debian packages gecko-dkms, libgeckoctl0, libgeckoctl-dev and gecko-tools,
# built by dpkg-buildpackage from the checkout's files (committed or not,
# ignored ones left out) in $(BUILD)/deb, then checked by lintian.
deb: deps-ok
	@if dpkg-query -W -f='$${db:Status-Status}\n' $(DEB_DEPS) 2>&1 | grep -qv '^installed$$'; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEB_DEPS); fi
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/gecko-$(VERSION)
	git ls-files -z -c -o --exclude-standard | xargs -0 cp --parents -t $(BUILD)/deb/gecko-$(VERSION)
	$(call quiet,Debian packages (3-5 minutes on two cores),deb,\
		(cd $(BUILD)/deb/gecko-$(VERSION) && dpkg-buildpackage -b -us -uc -j$(JOBS)))
	lintian --allow-root --fail-on error,warning $(BUILD)/deb/gecko_$(VERSION)_*.changes
	@ls $(BUILD)/deb/*.deb

# The module's DKMS source tree, as /usr/src/gecko-$(VERSION).
dkms-install:
	rm -rf $(DESTDIR)/usr/src/gecko-$(VERSION)
	mkdir -p $(DESTDIR)/usr/src/gecko-$(VERSION)/kmod/tests $(DESTDIR)/usr/src/gecko-$(VERSION)/include/uapi/linux
	cp dkms.conf VERSION $(DESTDIR)/usr/src/gecko-$(VERSION)/
	cp kmod/Kbuild kmod/Makefile kmod/*.c kmod/*.h $(DESTDIR)/usr/src/gecko-$(VERSION)/kmod/
	cp include/uapi/linux/gecko.h $(DESTDIR)/usr/src/gecko-$(VERSION)/include/uapi/linux/
	sed -i 's/#MODULE_VERSION#/$(VERSION)/' $(DESTDIR)/usr/src/gecko-$(VERSION)/dkms.conf

clean:
	$(MAKE) -C kmod KDIR=$(KDIR) clean
	$(MAKE) -C tests/vm/selftest KDIR=$(KDIR) clean
	rm -rf $(BUILD) tests/vm/out

.PHONY: all deps deps-ok kmod user check unit kunit vm-check vm-test pkg-check demo bench install uninstall dkms-install deb clean

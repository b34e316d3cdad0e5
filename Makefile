# tend: one non-recursive Makefile.
#   make            build/tendd and build/tendctl (installs missing Debian packages first)
#   make run        build, then run tendd in the foreground on conf/tend.conf
#   make check      build and run every test; ends with a count: unit tests of the
#                   normal build and of the sanitizer build (build-asan: ASan + UBSan,
#                   every report fatal), the fuzz corpus replayed there, and the
#                   integration suite against the sanitizer build
#   make fuzz       libFuzzer targets (clang) for FUZZ_SECONDS each (build-fuzz/)
#   make valgrind   a representative scenario under valgrind (tests/valgrind/run)
#   make bench-output  measure output capture speed (bench/output.py)
#   make bench-tendctl tendctl's start-up, dynamic against static (bench/tendctl_start.py)
#   make soak       1,000 processes restarted 10,000 times an hour for 10 min;
#                   tendd must stay flat (bench/soak.py, writes bench/SOAK.md)
#   make install    honours PREFIX and DESTDIR
#   make bench      tend vs supervisord, runit, s6 (~20 min; BENCH_ARGS=--quick
#                   for a smoke run); writes bench/RESULTS.md. Not part of check.
#   make deb        build/tend_VERSION_ARCH.deb: dpkg-buildpackage (debian/) in build/deb,
#                   then lintian (fails on any error or warning)
#   make test-systemd  the package under a real systemd: a Debian 12 tree booted with
#                   systemd-nspawn (root, ~5 min; not part of check)

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	 = $(PREFIX)/bin
SBINDIR	 = $(PREFIX)/sbin
MANDIR	 = $(PREFIX)/share/man
# tendd's default config is /etc/tend/tend.conf whatever the PREFIX.
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
LIBEXECDIR ?= $(PREFIX)/libexec
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR	 = $(PREFIX)/share/doc/tend
# Written by the issue that adds shell completion; installed when present.
COMPLETION = $(wildcard packaging/completion/tendctl.bash)

CC	?= cc
PYTHON	?= /usr/bin/python3
VERSION	 = 0.1.0

# Debian packages the build and the tests need; checked once, installed when missing.
# dpkg-dev (dpkg-shlibdeps, for make deb), systemd (systemd-analyze) and
# man-db (which it runs to check Documentation=) serve the packaging tests;
# valgrind's header lets spawn.c tell when it runs under valgrind (which
# cannot follow its clone), so it must be there when tendd is built.
# prometheus (promtool) and chromium (headless) are for test_metrics.py
# and test_page.py only.
DEBS	 = pkg-config libevent-dev libinih-dev libsystemd-dev libjansson-dev \
	   libcmocka-dev python3-pytest python3-pytest-xdist dpkg-dev systemd \
	   man-db valgrind \
	   libexpat1-dev supervisor prometheus chromium
# test_sockets.py's FastCGI program ([fcgi-program:], issue 17)
DEBS	+= php-cgi
PKGS	 = libevent inih libsystemd jansson expat

# Recursive (=) so pkg-config runs after the dependency stamp is made.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# tendd loads libsystemd when it needs it (daemon/systemd.c), so it is
# not linked: a tendd that talks to no systemd does not pay its memory.
DAEMON_LIBS = $(shell pkg-config --libs $(filter-out libsystemd,$(PKGS)) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN	 = -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS	?= -O2 -g
# CPPFLAGS: the package build's (dpkg-buildflags: _FORTIFY_SOURCE).
ALL_CFLAGS = -std=gnu11 $(WARN) $(CPPFLAGS) $(CFLAGS) -D_GNU_SOURCE -DTEND_VERSION='"$(VERSION)"' \
	     -Icommon -Idaemon $(PKG_CFLAGS)

B	 = build
COMMON_SRC = $(wildcard common/*.c)
DAEMON_SRC = $(wildcard daemon/*.c)
CLIENT_SRC = $(wildcard client/*.c)
HELPER_SRC = $(wildcard tests/helpers/*.c)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)

COMMON_OBJ = $(COMMON_SRC:%.c=$(B)/%.o)
DAEMON_OBJ = $(DAEMON_SRC:%.c=$(B)/%.o)
CLIENT_OBJ = $(CLIENT_SRC:%.c=$(B)/%.o)
# Unit tests link everything of tendd but its main(): tendd.c is built
# once more with main renamed, since it also holds the daemon's globals.
DAEMON_LIB_OBJ = $(filter-out $(B)/daemon/tendd.o,$(DAEMON_OBJ)) $(B)/unit/tendd-nomain.o
HELPERS	 = $(HELPER_SRC:tests/helpers/%.c=$(B)/helpers/%)
# LD_PRELOAD libraries for chaos tests (tests/helpers/preload/NAME.c).
PRELOAD_SRC = $(wildcard tests/helpers/preload/*.c)
HELPERS	+= $(PRELOAD_SRC:tests/helpers/preload/%.c=$(B)/helpers/%.so)
UNITS	 = $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)

DEPSTAMP = $(B)/.deps-ok

.PHONY: all run check unit integration install clean deps helpers bench bench-output soak deb \
	san fuzz valgrind test-systemd bench-tendctl
all: $(B)/tendd $(B)/tendctl

# $(call install_debs,PACKAGES): installs those of PACKAGES that are missing.
install_debs = missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing missing Debian packages:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "not root: run 'sudo apt-get install$$missing' first" >&2; exit 1; fi; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing || exit 1; \
	fi

deps: $(DEPSTAMP)
$(DEPSTAMP):
	@mkdir -p $(B)
	@$(call install_debs,$(DEBS))
	@touch $@

$(B)/%.o: %.c common/*.h daemon/*.h client/*.h | $(DEPSTAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The status page (daemon/page.html) as the bytes page.c includes.
$(B)/daemon/page.o: $(B)/gen/page_html.inc
$(B)/daemon/page.o: ALL_CFLAGS += -I$(B)/gen
$(B)/gen/page_html.inc: daemon/page.html
	@mkdir -p $(dir $@)
	od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g' > $@.tmp
	mv $@.tmp $@

# EXTRA_OBJ: linked into every program of a build (the sanitizer build's
# options); empty for the normal build.
EXTRA_OBJ ?=

$(B)/tendd: $(DAEMON_OBJ) $(COMMON_OBJ) $(EXTRA_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(DAEMON_LIBS)

# tendctl links its libraries (glibc, jansson, inih) dynamically, so
# their security updates reach it. TENDCTL_STATIC=1 links it statically
# instead (Debian's libc.a, libjansson.a, libinih.a; it calls nothing of
# glibc's that needs a shared library: no NSS, iconv or dlopen), which
# saves the dynamic loader's work at each run: bench/RESULTS-tendctl.md
# (make bench-tendctl) has what that is worth. Not for packages.
TENDCTL_STATIC ?=
# Relinked when the choice changes (a stamp file per choice).
TENDCTL_LINKMODE = $(B)/.tendctl-$(if $(TENDCTL_STATIC),static,dynamic)
$(TENDCTL_LINKMODE): | $(DEPSTAMP)
	@rm -f $(B)/.tendctl-static $(B)/.tendctl-dynamic
	@touch $@
$(B)/tendctl: $(CLIENT_OBJ) $(COMMON_OBJ) $(EXTRA_OBJ) $(TENDCTL_LINKMODE)
	$(CC) $(CFLAGS) $(LDFLAGS) $(if $(TENDCTL_STATIC),-static) -o $@ $(filter %.o,$^) \
		$(shell pkg-config $(if $(TENDCTL_STATIC),--static) --libs jansson inih 2>/dev/null)

$(B)/helpers/%: tests/helpers/%.c | $(DEPSTAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(PKG_LIBS)

$(B)/helpers/%.so: tests/helpers/preload/%.c | $(DEPSTAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -ldl

$(B)/unit/tendd-nomain.o: daemon/tendd.c common/*.h daemon/*.h | $(DEPSTAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Dmain=tendd_unused_main -c -o $@ $<

$(B)/unit/%: tests/unit/%.c $(DAEMON_LIB_OBJ) $(COMMON_OBJ) $(EXTRA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(UNIT_WRAP_$*) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# test_state runs the state machine's actions with spawning, signals and
# errors counted instead of done (see the test).
UNIT_WRAP_test_state = -Wl,--wrap=spawn_proc -Wl,--wrap=spawn_signal \
	-Wl,--wrap=log_error -Wl,--wrap=hooks_pre_start -Wl,--wrap=hooks_cancel

# Fuzz targets (tests/fuzz/): linked with libFuzzer in the fuzz build,
# or with replay.c's main() to replay saved inputs (make check).
$(B)/fuzz/replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(DAEMON_LIB_OBJ) $(COMMON_OBJ) $(EXTRA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/fuzz/fuzz-%: tests/fuzz/fuzz_%.c $(DAEMON_LIB_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

# The targets that run tendd itself in process (tests/fuzz/world.h):
# they include tendd.c, program.c and state.c (so their state can be reset
# between inputs, and the events target can call the state setter) instead
# of linking them, and fake only what touches the OS:
# spawn_proc and spawn_signal; fatal() aborts so the fuzzer reports it,
# and log_error() may (world_strict).
FUZZ_WORLD = daemon events
FUZZ_WRAP = -Wl,--wrap=spawn_proc -Wl,--wrap=spawn_signal -Wl,--wrap=fatal \
	    -Wl,--wrap=log_error
WORLD_OBJ = $(filter-out $(B)/daemon/program.o $(B)/daemon/state.o \
	    $(B)/unit/tendd-nomain.o,$(DAEMON_LIB_OBJ)) $(COMMON_OBJ)
WORLD_SRC = tests/fuzz/world.h daemon/tendd.c daemon/program.c daemon/state.c

$(FUZZ_WORLD:%=$(B)/fuzz/replay-%): $(B)/fuzz/replay-%: tests/fuzz/fuzz_%.c \
    tests/fuzz/replay.c $(WORLD_SRC) $(WORLD_OBJ) $(EXTRA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(FUZZ_WRAP) -o $@ \
		$(filter-out $(WORLD_SRC),$^) $(PKG_LIBS)

$(FUZZ_WORLD:%=$(B)/fuzz/fuzz-%): $(B)/fuzz/fuzz-%: tests/fuzz/fuzz_%.c \
    $(WORLD_SRC) $(WORLD_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(FUZZ_WRAP) -fsanitize=fuzzer -o $@ \
		$(filter-out $(WORLD_SRC),$^) $(PKG_LIBS)

helpers: $(HELPERS)

run: all
	@mkdir -p $(B)/run $(B)/log
	$(B)/tendd -c conf/tend.conf

unit: $(UNITS)
integration: all $(HELPERS)

# The sanitizer build (issue 8): the same sources with ASan + UBSan, any
# UB fatal, and tests/sanitizers/options.c baking in a log_path under
# $(SAN_LOG) so every report is a file that tests/run turns into a
# failure. libubsan is linked statically: GCC's shared one ignores
# log_path next to libasan and would print to a stderr nobody reads.
SAN_B	 = build-asan
SAN_LOG	 = $(abspath $(SAN_B))/sanitizer-reports
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	   -fno-omit-frame-pointer
SAN_MAKE = $(MAKE) --no-print-directory B=$(SAN_B) CFLAGS="-O1 -g $(SAN_FLAGS)" \
	   LDFLAGS="-fsanitize=address,undefined -static-libubsan" \
	   EXTRA_OBJ=$(SAN_B)/sanitizers/options.o TENDCTL_STATIC=
FUZZ_TARGETS = ini config argv expand protocol jsonw daemon events http
SAN_UNITS = $(UNIT_SRC:tests/unit/%.c=$(SAN_B)/unit/%)
SAN_REPLAYS = $(FUZZ_TARGETS:%=$(SAN_B)/fuzz/replay-%)

$(B)/sanitizers/options.o: tests/sanitizers/options.c | $(DEPSTAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DTEND_SAN_LOG='"$(SAN_LOG)"' -c -o $@ $<

# The helpers are the supervised programs, not what is under test: the
# sanitizer build runs the normal build's.
san: all $(HELPERS)
	@$(SAN_MAKE) $(SAN_B)/tendd $(SAN_B)/tendctl $(SAN_UNITS) $(SAN_REPLAYS)
	@mkdir -p $(SAN_B)/helpers
	@cp -p $(HELPERS) $(SAN_B)/helpers/
	@mkdir -p $(SAN_LOG)

# Unit tests run in both builds; the integration suite (~3 min) runs once,
# against the sanitizer build: the same code, with every check on.
check: all $(HELPERS) $(UNITS) san
	@PYTHON=$(PYTHON) TEND_BUILD=$(SAN_B) SAN_LOG=$(SAN_LOG) \
		sh tests/run $(UNITS) $(SAN_UNITS) -- $(SAN_REPLAYS)

# libFuzzer (clang's, from Debian): build-fuzz/fuzz/fuzz-TARGET, each run
# FUZZ_SECONDS; new inputs go to build-fuzz/corpus/, crashes to
# build-fuzz/crashes/ (see tests/fuzz/README.md). Not part of check.
FUZZ_B	 = build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_DEBS = clang libclang-rt-14-dev
FUZZ_FLAGS = -fsanitize=address,undefined,fuzzer-no-link \
	    -fno-sanitize-recover=undefined -fno-omit-frame-pointer
fuzz:
	@$(call install_debs,$(FUZZ_DEBS))
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=clang CFLAGS="-O1 -g $(FUZZ_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" \
		$(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz/fuzz-%)
	sh tests/fuzz/run $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# A representative scenario under valgrind's memcheck (~15 s); not in check.
valgrind: all $(HELPERS)
	@$(call install_debs,valgrind)
	PYTHON=$(PYTHON) sh tests/valgrind/run $(B)

# Benchmarks report figures; they are never part of `make check`.
BENCH_ARGS ?=
bench: all
	BENCH_COMMAND="make bench$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" bench/run $(BENCH_ARGS)

# Output capture speed (issue 4): BENCH_OUTPUT_ARGS="--size 256M --reps 1".
BENCH_OUTPUT_ARGS ?=
bench-output: all $(HELPERS)
	$(PYTHON) bench/output.py $(BENCH_OUTPUT_ARGS)

# tendctl's start-up, dynamic (the default) against TENDCTL_STATIC=1
# (bench/RESULTS-tendctl.md); BENCH_TENDCTL_ARGS="--reps 500".
BENCH_TENDCTL_ARGS ?=
bench-tendctl: all
	@$(MAKE) --no-print-directory B=$(B)/static TENDCTL_STATIC=1 $(B)/static/tendctl
	$(PYTHON) bench/tendctl_start.py --dynamic $(B)/tendctl \
		--static $(B)/static/tendctl $(BENCH_TENDCTL_ARGS)

# Soak (issue 8): 1,000 processes, 10,000 restarts an hour, 10 minutes;
# tendd's RSS, CPU and descriptors must stay flat. SOAK_ARGS="--minutes 60".
SOAK_ARGS ?=
soak: all $(HELPERS)
	SOAK_COMMAND="make soak$(if $(SOAK_ARGS), SOAK_ARGS='$(SOAK_ARGS)')" \
		$(PYTHON) bench/soak.py $(SOAK_ARGS)

# Binaries, man pages, systemd units (ExecStart pointing at this SBINDIR),
# the default config (never over an existing one), conf.d, completion.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(B)/tendd $(DESTDIR)$(SBINDIR)/tendd
	install -m 0755 $(B)/tendctl $(DESTDIR)$(BINDIR)/tendctl
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 packaging/man/tendctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 packaging/man/tend.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 packaging/man/tendd.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(LIBEXECDIR)/tend $(DESTDIR)$(SYSUSERSDIR)
	sed -e 's|/usr/sbin/tendd|$(SBINDIR)/tendd|' -e 's|/usr/bin/tendctl|$(BINDIR)/tendctl|' \
		-e 's|/usr/libexec/tend/|$(LIBEXECDIR)/tend/|' -e 's|/etc/tend/|$(SYSCONFDIR)/tend/|' \
		packaging/systemd/tend.service > $(DESTDIR)$(UNITDIR)/tend.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tend.service
	install -m 0644 packaging/systemd/tend.socket $(DESTDIR)$(UNITDIR)/
	install -m 0755 packaging/systemd/after-stop $(DESTDIR)$(LIBEXECDIR)/tend/after-stop
	install -m 0644 packaging/systemd/tend.sysusers $(DESTDIR)$(SYSUSERSDIR)/tend.conf
	@# The group of the packaged config's socket_owner (a package's postinst does this).
	@if [ -z "$(DESTDIR)" ] && ! getent group tend >/dev/null; then \
		if command -v systemd-sysusers >/dev/null; then \
			echo "systemd-sysusers $(SYSUSERSDIR)/tend.conf"; systemd-sysusers $(SYSUSERSDIR)/tend.conf; \
		else echo "note: create the tend group (groupadd --system tend): tend.conf's socket_owner names it"; fi; \
	fi
	install -d $(DESTDIR)$(SYSCONFDIR)/tend/conf.d
	[ -e $(DESTDIR)$(SYSCONFDIR)/tend/tend.conf ] || \
		install -m 0644 packaging/tend.conf $(DESTDIR)$(SYSCONFDIR)/tend/tend.conf
	$(if $(COMPLETION),install -d $(DESTDIR)$(COMPLETIONDIR))
	$(if $(COMPLETION),install -m 0644 $(COMPLETION) $(DESTDIR)$(COMPLETIONDIR)/tendctl)
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 README.md docs/behaviour.md docs/protocol.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 conf/*.conf $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 packaging/docker/Dockerfile $(DESTDIR)$(DOCDIR)/examples/Dockerfile
	install -m 0644 packaging/docker/tend.conf $(DESTDIR)$(DOCDIR)/examples/docker-tend.conf

# The Debian package (debian/, DEVELOPERS.md "Packaging"): the source and
# binary packages, built by dpkg-buildpackage with debhelper in a copy of
# the tree in $(DEB_B) (dh_auto_clean and the ../ outputs stay out of the
# checkout), then checked by lintian: any error or warning fails the
# build (overrides with their reasons: debian/*lintian-overrides).
# build/tend_VERSION_ARCH.deb is the result (DEBDIR= puts it elsewhere).
DEB_DEBS = debhelper dpkg-dev lintian $(filter-out python3-pytest python3-pytest-xdist man-db valgrind supervisor php-cgi prometheus chromium,$(DEBS))
DEB_ARCH = $(shell dpkg --print-architecture)
DEBDIR	?= $(B)
DEB_B	 = $(B)/deb
DEB	 = $(DEBDIR)/tend_$(VERSION)_$(DEB_ARCH).deb
DEB_CHANGES = $(DEB_B)/tend_$(VERSION)_$(DEB_ARCH).changes

deb:
	@$(call install_debs,$(DEB_DEBS))
	@v=$$(dpkg-parsechangelog -S Version); [ "$$v" = "$(VERSION)" ] || \
		{ echo "debian/changelog says $$v, the Makefile's VERSION $(VERSION)" >&2; exit 1; }
	rm -rf $(DEB_B)
	mkdir -p $(DEB_B)/tend-$(VERSION)
	@# What git tracks, and new files it does not ignore; without git,
	@# the tree but for builds.
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
		xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
		tar --null -T - -cf -; \
	else \
		tar --exclude-vcs --exclude='./build' --exclude='./build-*' -cf - .; \
	fi | tar -xf - -C $(DEB_B)/tend-$(VERSION)
	cd $(DEB_B)/tend-$(VERSION) && dpkg-buildpackage --no-sign -j2
	lintian --fail-on error,warning --display-info $(DEB_CHANGES)
	mkdir -p $(DEBDIR)
	cp $(DEB_B)/tend_$(VERSION)_$(DEB_ARCH).deb $(DEB)
	@echo "$(DEB)"

# The package under a real systemd (tests/systemd/run.py): a Debian 12
# tree made by debootstrap (cached in /var/cache/tend-test-systemd),
# booted with systemd-nspawn; one line per check. Root; ~3-5 min. Not
# part of check.
SYSTEMD_TEST_DEBS = debootstrap systemd-container
test-systemd: deb
	@$(call install_debs,$(SYSTEMD_TEST_DEBS))
	$(PYTHON) tests/systemd/run.py $(DEB)

clean:
	rm -rf $(B) $(SAN_B) $(FUZZ_B)

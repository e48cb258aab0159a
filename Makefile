# ngx_gw: see README.md.
#
#   make                build the five modules into build/modules/
#   make test           install dependencies, build, check style, run t/
#   make demo           build and start the example gateway on 127.0.0.1
#   make demo-stop      stop it
#   make install        install the modules into the system nginx
#   make uninstall      remove exactly what install added
#   make bench          the benchmarks (scripts/bench)
#
# NGINX_SRC=<dir> builds against an nginx source tree instead of Debian's
# nginx-dev.

NGINX_SRC ?=
export NGINX_SRC

.PHONY: all build deps test check-style demo demo-stop install uninstall \
        bench clean

all: build

deps:
	@scripts/deps

build: deps
	@scripts/build

check-style:
	@scripts/check-style

test: build
	@scripts/check-style
	@scripts/test

demo: build
	@scripts/demo start

demo-stop:
	@scripts/demo stop

install: build
	@scripts/install

uninstall:
	@scripts/install --uninstall

bench: build
	@scripts/bench

clean:
	rm -rf build t/servroot

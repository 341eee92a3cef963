# kexec-metadata: the patch series in patches/ plus the harness around it.
# See README.md.  Every target is a thin wrapper around scripts/.

SHELL := /bin/bash
S := scripts

.PHONY: all demo check deps tree export kernels shell check-bisect bench clean distclean help

all: help

help:
	@echo "make demo          boot our kernel in QEMU and kexec through a chain (main job)"
	@echo "make check         run every test; ends with 'check: N passed, M failed'"
	@echo "                   (ONLY=stage[,stage] runs just those stages)"
	@echo "make tree          materialize build/linux (base + series)"
	@echo "make export        regenerate patches/ from build/linux"
	@echo "                   (EXPORT_AS_ME=1: a copy to send, in build/outgoing/)"
	@echo "make kernels       build the test kernels"
	@echo "make shell         interactive guest with busybox and kexec-tools"
	@echo "make check-bisect  build after every patch of the series"
	@echo "make bench         measure ours against stock (HOPS=30, BENCH_COLD=0 skips the cold check)"
	@echo "make deps          install missing Debian packages (as root)"

deps:
	@$(S)/deps.sh install

tree:
	@$(S)/tree.sh

export:
	@$(S)/export.sh

kernels: tree
	@$(S)/build-kernel.sh kmd x86_64
	@$(S)/build-kernel.sh stock x86_64
	@$(S)/build-kernel.sh xabi x86_64

# The tree, then the kernels: the one place that says so.
demo: kernels
	@$(S)/demo.sh

shell: kernels
	@$(S)/shell.sh

check:
	@$(S)/check.sh

check-bisect: tree
	@$(S)/check-bisect.sh

bench: kernels
	@$(S)/bench.sh

clean:
	rm -rf build/linux*/.kbuild-* build/linux/.kho-kmd build/linux/.peers-* build/kbuild build/images build/logs build/kunit-* build/chain-headers
	@echo "the kernel trees shared by clones stay in $${KMD_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/kexec-metadata}/trees (rm -rf it to start them again)"

distclean:
	rm -rf build

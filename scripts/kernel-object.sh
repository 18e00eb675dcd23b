#!/usr/bin/env bash
# Test setup for the real kernel object (issue 7): builds Linux 6.1's arch/x86/coco/tdx/tdcall.o
# with debug info from Debian's linux-source-6.1, in .cache/kernel/, for test/realobj/kernel.test.ts.
# Installs the source package and the build tools when missing (root + apt-get), unpacks the tree,
# configures x86_64 defconfig + TDX guest + DWARF, and builds that one object through the kernel's
# own make. Idempotent: a second run with the object in place only prints its path. Fails loudly.
#
# Usage: scripts/kernel-object.sh [--print-path]     env: TDX_KERNEL_CACHE (default .cache/kernel)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION=6.1
CACHE="${TDX_KERNEL_CACHE:-$ROOT/.cache/kernel}"
SRC="$CACHE/linux-source-$VERSION"
BUILD="$CACHE/build-$VERSION"
TARGET=arch/x86/coco/tdx/tdcall.o
# tdx.o (C) is built too: the assembly object's DWARF has no types, the C object's carries
# struct tdx_hypercall_args, so the test takes the overlay from the kernel's own debug info.
TARGETS=("$TARGET" arch/x86/coco/tdx/tdx.o)
OBJ="$BUILD/$TARGET"


die() { echo "kernel-object: error: $*" >&2; exit 1; }
log() { echo "kernel-object: $*"; }

if [ "${1:-}" = "--print-path" ]; then echo "$OBJ"; exit 0; fi

start=$(date +%s)

# 1-3. The source package, the tree, its configuration and `make prepare` (shared with the
#      other kernel tests; a tree already prepared is only checked).
TDX_KERNEL_CACHE="$CACHE" bash "$ROOT/scripts/kernel-tree.sh" "$VERSION" || die "the $VERSION tree could not be prepared"
MAKE=(make -C "$SRC" O="$BUILD" -j"$(nproc)")

# 4. The object, through the kernel's own single-target build (it runs `prepare` as needed).
log "building ${TARGETS[*]}"
"${MAKE[@]}" "${TARGETS[@]}" || die "make ${TARGETS[*]} failed"
[ -f "$OBJ" ] || die "make succeeded but $OBJ is missing"
readelf -S "$OBJ" 2>/dev/null | grep -q '\.debug_line' || die "$OBJ has no .debug_line (debug info is off in $BUILD/.config)"
log "built $OBJ in $(( $(date +%s) - start )) s; cache uses $(du -sh "$CACHE" | cut -f1)"

#!/usr/bin/env bash
# Test setup for the real Linux 6.12 TDX C objects (issue 15): the guest's
# arch/x86/coco/tdx/{tdcall,tdx,tdx-shared}.o and the host's arch/x86/virt/vmx/tdx/{seamcall,tdx}.o,
# built with debug info through the kernel's own make on the tree scripts/kernel-tree.sh prepares
# from Debian's linux-source-6.12 (x86_64 defconfig + TDX guest and host, IBT, DWARF). For
# test/realobj/kernel612.test.ts. Idempotent; fails loudly.
#
# Usage: scripts/kernel-objects-6.12.sh [--print-build]     env: TDX_KERNEL_CACHE (default .cache/kernel)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION=6.12
CACHE="${TDX_KERNEL_CACHE:-$ROOT/.cache/kernel}"
SRC="$CACHE/linux-source-$VERSION"
BUILD="$CACHE/build-$VERSION"
TARGETS=(arch/x86/coco/tdx/tdcall.o arch/x86/coco/tdx/tdx.o arch/x86/coco/tdx/tdx-shared.o
  arch/x86/virt/vmx/tdx/seamcall.o arch/x86/virt/vmx/tdx/tdx.o)

die() { echo "kernel-objects-6.12: error: $*" >&2; exit 1; }
log() { echo "kernel-objects-6.12: $*"; }

if [ "${1:-}" = "--print-build" ]; then echo "$BUILD"; exit 0; fi
start=$(date +%s)
TDX_KERNEL_CACHE="$CACHE" bash "$ROOT/scripts/kernel-tree.sh" "$VERSION" || die "the $VERSION tree could not be prepared"
log "building ${TARGETS[*]}"
make -C "$SRC" O="$BUILD" -j"$(nproc)" "${TARGETS[@]}" || die "make ${TARGETS[*]} failed"
for t in "${TARGETS[@]}"; do
  [ -f "$BUILD/$t" ] || die "make succeeded but $BUILD/$t is missing"
  readelf -S "$BUILD/$t" 2>/dev/null | grep -q '\.debug_line' || die "$BUILD/$t has no .debug_line (debug info is off in $BUILD/.config)"
done
log "built ${#TARGETS[@]} objects in $(( $(date +%s) - start )) s"

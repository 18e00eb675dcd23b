#!/usr/bin/env bash
# Test setup for the real kernel TDX objects: builds them with debug info through the kernel's
# own make, on the tree scripts/kernel-tree.sh prepares from Debian's linux-source-VERSION
# (x86_64 defconfig + TDX, IBT, DWARF; 6.12 adds the TDX host). Idempotent: objects that are up
# to date are only checked. Fails loudly.
#
#   6.1   arch/x86/coco/tdx/{tdcall,tdx}.o                       test/realobj/kernel.test.ts
#   6.12  arch/x86/coco/tdx/{tdcall,tdx,tdx-shared}.o and
#         arch/x86/virt/vmx/tdx/{seamcall,tdx}.o                   test/realobj/kernel612.test.ts
#
# Usage: scripts/kernel-objects.sh VERSION [--print-build | --print-path]
# env:   TDX_KERNEL_CACHE (default .cache/kernel)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${1:-}"
case "$VERSION" in
  6.1)  TARGETS=(arch/x86/coco/tdx/tdcall.o arch/x86/coco/tdx/tdx.o) ;;
  6.12) TARGETS=(arch/x86/coco/tdx/tdcall.o arch/x86/coco/tdx/tdx.o arch/x86/coco/tdx/tdx-shared.o
          arch/x86/virt/vmx/tdx/seamcall.o arch/x86/virt/vmx/tdx/tdx.o) ;;
  *) echo "usage: scripts/kernel-objects.sh 6.1|6.12 [--print-build | --print-path]" >&2; exit 2 ;;
esac
CACHE="${TDX_KERNEL_CACHE:-$ROOT/.cache/kernel}"
SRC="$CACHE/linux-source-$VERSION"
BUILD="$CACHE/build-$VERSION"

die() { echo "kernel-objects $VERSION: error: $*" >&2; exit 1; }
log() { echo "kernel-objects $VERSION: $*"; }

case "${2:-}" in
  --print-build) echo "$BUILD"; exit 0 ;;
  --print-path) echo "$BUILD/${TARGETS[0]}"; exit 0 ;;  # the first object (what kernel-object.sh printed)
  "") ;;
  *) echo "kernel-objects: unknown option ${2}" >&2; exit 2 ;;
esac

start=$(date +%s)
# The source package, the tree, its configuration and `make prepare` (shared with the other
# kernel tests; a tree already prepared is only checked).
TDX_KERNEL_CACHE="$CACHE" bash "$ROOT/scripts/kernel-tree.sh" "$VERSION" || die "the $VERSION tree could not be prepared"
log "building ${TARGETS[*]}"
make -C "$SRC" O="$BUILD" -j"$(nproc)" "${TARGETS[@]}" || die "make ${TARGETS[*]} failed"
for t in "${TARGETS[@]}"; do
  [ -f "$BUILD/$t" ] || die "make succeeded but $BUILD/$t is missing"
  # The section list is read whole first: `readelf | grep -q` under pipefail fails whenever grep
  # exits at its match before readelf has written the rest (SIGPIPE).
  sections="$(readelf -S "$BUILD/$t" 2>/dev/null || true)"
  [[ "$sections" == *".debug_line"* ]] || die "$BUILD/$t has no .debug_line (debug info is off in $BUILD/.config)"
done
log "built ${#TARGETS[@]} objects in $(( $(date +%s) - start )) s; cache uses $(du -sh "$CACHE" | cut -f1)"

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
# Bump when the configuration below changes: a configured tree with another stamp is redone.
CONFIG_STAMP="tdx-guest ibt dwarf v2"
TARBALL="/usr/src/linux-source-$VERSION.tar.xz"
# Host tools a single-object build needs: kconfig (flex, bison), objtool (libelf-dev), bc for the
# timeconst header, libssl-dev for the certificate helpers that `make prepare` may build.
PACKAGES=(linux-source-$VERSION make gcc bc flex bison libelf-dev libssl-dev xz-utils)

die() { echo "kernel-object: error: $*" >&2; exit 1; }
log() { echo "kernel-object: $*"; }

if [ "${1:-}" = "--print-path" ]; then echo "$OBJ"; exit 0; fi

# Fast path: the object exists and is newer than its source and the configuration.
if [ -f "$OBJ" ] && [ -f "$BUILD/${TARGETS[1]}" ] && [ "$(cat "$BUILD/.tdx-configured" 2>/dev/null)" = "$CONFIG_STAMP" ] && [ "$OBJ" -nt "$SRC/arch/x86/coco/tdx/tdcall.S" ] && [ "$OBJ" -nt "$BUILD/.config" ]; then
  log "up to date: $OBJ"
  exit 0
fi

start=$(date +%s)

# 1. The source package and the build tools.
missing=()
[ -f "$TARBALL" ] || missing+=(linux-source-$VERSION)
for tool in make gcc bc flex bison; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -f /usr/include/libelf.h ] || [ -f /usr/include/elfutils/libelf.h ] || missing+=(libelf-dev)
[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
command -v xz >/dev/null || missing+=(xz-utils)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  command -v apt-get >/dev/null || die "missing ${missing[*]} and there is no apt-get (Debian/Ubuntu needed, or install: ${PACKAGES[*]})"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing ${missing[*]}: run as root, or install them: apt-get install ${PACKAGES[*]}"
    SUDO=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq || die "apt-get update failed"
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]} failed"
fi
[ -f "$TARBALL" ] || die "$TARBALL is missing after installing linux-source-$VERSION"

# 2. The tree, unpacked once (a marker file says the unpack finished).
mkdir -p "$CACHE"
if [ ! -f "$SRC/.tdx-unpacked" ]; then
  log "unpacking $TARBALL into $CACHE"
  rm -rf "$SRC"
  tar -xf "$TARBALL" -C "$CACHE" || die "could not unpack $TARBALL"
  [ -f "$SRC/Makefile" ] || die "$TARBALL did not unpack to $SRC"
  touch "$SRC/.tdx-unpacked"
fi

# 3. A minimal x86_64 configuration with the TDX guest and DWARF debug info. The kernel's default
#    mitigations stay on (retpolines, return thunks, IBT's endbr64), as in a distribution build.
# No ARCH=: on an x86_64 host the kernel picks x86_64_defconfig, and a later plain
#    `make O=…` (the debugger's own single-object build) then sees the same configuration.
MAKE=(make -C "$SRC" O="$BUILD" -j"$(nproc)")
if [ "$(cat "$BUILD/.tdx-configured" 2>/dev/null)" != "$CONFIG_STAMP" ] || [ ! -f "$BUILD/.config" ]; then
  log "configuring (x86_64 defconfig + INTEL_TDX_GUEST + debug info)"
  mkdir -p "$BUILD"
  "${MAKE[@]}" -s defconfig || die "make defconfig failed"
  "$SRC/scripts/config" --file "$BUILD/.config" \
    -e HYPERVISOR_GUEST -e PARAVIRT -e X86_X2APIC -e INTEL_TDX_GUEST -e X86_KERNEL_IBT \
    -d DEBUG_INFO_NONE -e DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -e DEBUG_INFO \
    -d DEBUG_INFO_REDUCED -d DEBUG_INFO_SPLIT -d DEBUG_INFO_COMPRESSED -d DEBUG_INFO_BTF \
    -d GCC_PLUGINS -d WERROR \
    || die "scripts/config failed"
  "${MAKE[@]}" -s olddefconfig || die "make olddefconfig failed"
  for opt in CONFIG_INTEL_TDX_GUEST=y CONFIG_DEBUG_INFO=y CONFIG_X86_KERNEL_IBT=y CONFIG_RETHUNK=y; do
    grep -qx "$opt" "$BUILD/.config" || die "the configuration lost $opt (a dependency is missing; see $BUILD/.config)"
  done
  echo "$CONFIG_STAMP" > "$BUILD/.tdx-configured"
fi

# 4. The object, through the kernel's own single-target build (it runs `prepare` as needed).
log "building ${TARGETS[*]} (make prepare runs first on a fresh tree; about a minute)"
"${MAKE[@]}" "${TARGETS[@]}" || die "make ${TARGETS[*]} failed"
[ -f "$OBJ" ] || die "make succeeded but $OBJ is missing"
readelf -S "$OBJ" 2>/dev/null | grep -q '\.debug_line' || die "$OBJ has no .debug_line (debug info is off in $BUILD/.config)"
log "built $OBJ in $(( $(date +%s) - start )) s; cache uses $(du -sh "$CACHE" | cut -f1)"

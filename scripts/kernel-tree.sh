#!/usr/bin/env bash
# A configured, prepared Debian kernel tree for the tests that read real kernel files and objects.
# Installs Debian's linux-source-VERSION and the build tools when missing (root + apt-get), unpacks
# the tree once, configures it in its own build folder (O=) and runs the kernel's `make prepare`,
# after which any single object or preprocessed `.s` builds with `make O=BUILD path/file.o|.s`.
#
#   6.1   x86_64 defconfig + INTEL_TDX_GUEST + IBT + DWARF (the default mitigations stay on)
#   6.12  the same + INTEL_TDX_HOST (KVM_INTEL, CMA, no KEXEC_CORE) for arch/x86/virt/vmx/tdx
#
# Usage: scripts/kernel-tree.sh VERSION [--print-src | --print-build]
# env:   TDX_KERNEL_CACHE (default .cache/kernel)
# Idempotent: a tree whose configuration stamp matches is only checked. Fails loudly.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${1:-}"
case "$VERSION" in
  6.1|6.12) ;;
  *) echo "usage: scripts/kernel-tree.sh 6.1|6.12 [--print-src | --print-build]" >&2; exit 2 ;;
esac
CACHE="${TDX_KERNEL_CACHE:-$ROOT/.cache/kernel}"
SRC="$CACHE/linux-source-$VERSION"
BUILD="$CACHE/build-$VERSION"
case "${2:-}" in
  --print-src) echo "$SRC"; exit 0 ;;
  --print-build) echo "$BUILD"; exit 0 ;;
  "") ;;
  *) echo "kernel-tree: unknown option ${2}" >&2; exit 2 ;;
esac

# The options each tree gets on top of x86_64_defconfig, and the ones that must survive
# olddefconfig (a lost one means a dependency is missing).
COMMON_OPTS=(-e HYPERVISOR_GUEST -e PARAVIRT -e X86_X2APIC -e INTEL_TDX_GUEST -e X86_KERNEL_IBT
  -d DEBUG_INFO_NONE -e DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -e DEBUG_INFO
  -d DEBUG_INFO_REDUCED -d DEBUG_INFO_SPLIT -d DEBUG_INFO_COMPRESSED -d DEBUG_INFO_BTF
  -d GCC_PLUGINS -d WERROR)
REQUIRED=(CONFIG_INTEL_TDX_GUEST=y CONFIG_DEBUG_INFO=y CONFIG_X86_KERNEL_IBT=y)
EXTRA_OPTS=()
if [ "$VERSION" = 6.1 ]; then
  REQUIRED+=(CONFIG_RETHUNK=y)
else
  # 6.12 renamed the mitigation options (CONFIG_MITIGATION_*).
  REQUIRED+=(CONFIG_MITIGATION_RETHUNK=y)
  EXTRA_OPTS=(-e VIRTUALIZATION -e KVM -e KVM_INTEL -e X86_MCE -e MEMORY_HOTPLUG -e CONTIG_ALLOC -e CMA
    -d KEXEC -d KEXEC_FILE -d KEXEC_JUMP -d CRASH_DUMP -d KEXEC_CORE -e INTEL_TDX_HOST)
  REQUIRED+=(CONFIG_INTEL_TDX_HOST=y CONFIG_KVM_INTEL=y)
fi
# Bump when the configuration above changes: a configured tree with another stamp is redone.
CONFIG_STAMP="tdx $VERSION ibt dwarf v3"
TARBALL="/usr/src/linux-source-$VERSION.tar.xz"
PACKAGES=(linux-source-$VERSION make gcc bc flex bison libelf-dev libssl-dev xz-utils)

die() { echo "kernel-tree: error: $*" >&2; exit 1; }
log() { echo "kernel-tree: $*"; }

if [ -f "$BUILD/.tdx-prepared" ] && [ "$(cat "$BUILD/.tdx-configured" 2>/dev/null)" = "$CONFIG_STAMP" ] \
   && [ "$BUILD/.tdx-prepared" -nt "$BUILD/.config" ]; then
  log "up to date: $SRC (build $BUILD)"
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

# 3. Configuration. No ARCH=: on an x86_64 host the kernel picks x86_64_defconfig, and a later
#    plain `make O=…` (the debugger's own single-object build) sees the same configuration.
MAKE=(make -C "$SRC" O="$BUILD" -j"$(nproc)")
if [ "$(cat "$BUILD/.tdx-configured" 2>/dev/null)" != "$CONFIG_STAMP" ] || [ ! -f "$BUILD/.config" ]; then
  log "configuring $VERSION (x86_64 defconfig + TDX + debug info)"
  mkdir -p "$BUILD"
  rm -f "$BUILD/.tdx-prepared"
  "${MAKE[@]}" -s defconfig || die "make defconfig failed"
  "$SRC/scripts/config" --file "$BUILD/.config" "${COMMON_OPTS[@]}" "${EXTRA_OPTS[@]}" || die "scripts/config failed"
  "${MAKE[@]}" -s olddefconfig || die "make olddefconfig failed"
  # A second pass: options whose dependencies the first olddefconfig only just enabled.
  "$SRC/scripts/config" --file "$BUILD/.config" "${COMMON_OPTS[@]}" "${EXTRA_OPTS[@]}" || die "scripts/config failed"
  "${MAKE[@]}" -s olddefconfig || die "make olddefconfig failed"
  for opt in "${REQUIRED[@]}"; do
    grep -qx "$opt" "$BUILD/.config" || die "the configuration lost $opt (a dependency is missing; see $BUILD/.config)"
  done
  echo "$CONFIG_STAMP" > "$BUILD/.tdx-configured"
fi

# 4. prepare: generated headers (asm-offsets.h, autoconf.h), objtool and the build scripts.
log "make prepare for $VERSION (a few minutes on a fresh tree)"
"${MAKE[@]}" -s prepare || die "make prepare failed"
[ -f "$BUILD/include/generated/asm-offsets.h" ] || die "make prepare did not write include/generated/asm-offsets.h"
touch "$BUILD/.tdx-prepared"
log "prepared $SRC (build $BUILD) in $(( $(date +%s) - start )) s"

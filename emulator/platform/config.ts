// The platform a run happens on: execution context, VMX state, BIOS/TDX enablement, module
// presence, privilege level. Defaults describe a machine on which the context's TDX calls work.

/** Where the code runs: a TD guest (TDCALL), the VMX-root host (SEAMCALL), or neither. */
export type ExecContext = 'guest' | 'host' | 'none';

export const EXEC_CONTEXTS: readonly ExecContext[] = ['guest', 'host', 'none'];

/** Knobs of `--platform key=value` and the launch configuration's `platform`. */
export interface PlatformKnobs {
  /** CR4.VMXE (bit 13). Default: 1 in the host context, else 0. */
  vmxe?: boolean;
  /** VMXON done (VMX root operation). Default: 1 in the host context. Requires vmxe. */
  vmxon?: boolean;
  /** TDX enabled by the BIOS: TDX KeyIDs in MSR 0x87, SEAMCALL not #GP. Default 1. */
  tdxBios?: boolean;
  /** TDX module loaded (else SEAMCALL returns VMfailInvalid). Default 1. */
  module?: boolean;
  /** Current privilege level 0..3. Default 0 (kernel code). */
  cpl?: number;
  /** IA32_FEATURE_CONTROL (MSR 0x3A). Default 0x5: locked, VMX outside SMX. */
  featureControl?: bigint;
  /** The TD forbids RBP changes (the module then rejects exposing RBP). Default 0. */
  noRbpMod?: boolean;
  /**
   * The P-SEAMLDR, which SEAMCALL reaches with RAX bit 63 whether or not a module is loaded:
   * `loaded` (default), `busy` (another logical processor is in the loader: VMfailInvalid) or
   * `absent` (VMfailInvalid).
   */
  seamldr?: SeamldrKnob;
}

export type SeamldrKnob = 'loaded' | 'busy' | 'absent';
export const SEAMLDR_KNOBS: readonly SeamldrKnob[] = ['loaded', 'busy', 'absent'];

/** Resolved knobs, no undefined fields. */
export interface PlatformState {
  context: ExecContext;
  vmxon: boolean;
  tdxBios: boolean;
  module: boolean;
  cpl: number;
  featureControl: bigint;
  noRbpMod: boolean;
  /** The P-SEAMLDR's state (item `platform.seamldr`). */
  seamldr: { loaded: boolean; busy: boolean };
}

export const PLATFORM_KEYS = ['vmxe', 'vmxon', 'tdx-bios', 'module', 'cpl', 'feature-control', 'no-rbp-mod', 'seamldr'] as const;

/** Parses one `key=value` of `--platform`; throws a one-line message naming the problem. */
export function parsePlatformKnob(text: string, into: PlatformKnobs): void {
  const m = /^([a-z-]+)=(.+)$/i.exec(text.trim());
  if (!m) throw new Error(`--platform '${text}': expected key=value with a key among ${PLATFORM_KEYS.join(', ')}`);
  const key = m[1].toLowerCase(), raw = m[2].trim();
  const bool = (): boolean => {
    if (/^(1|true|on|yes)$/i.test(raw)) return true;
    if (/^(0|false|off|no)$/i.test(raw)) return false;
    throw new Error(`--platform ${key}=${raw}: expected 0 or 1`);
  };
  switch (key) {
    case 'vmxe': into.vmxe = bool(); return;
    case 'vmxon': into.vmxon = bool(); return;
    case 'tdx-bios': case 'tdxbios': into.tdxBios = bool(); return;
    case 'module': into.module = bool(); return;
    case 'no-rbp-mod': into.noRbpMod = bool(); return;
    case 'seamldr': {
      const v = raw.toLowerCase();
      if (!(SEAMLDR_KNOBS as readonly string[]).includes(v)) throw new Error(`--platform seamldr=${raw}: expected ${SEAMLDR_KNOBS.join(', ')}`);
      into.seamldr = v as SeamldrKnob; return;
    }
    case 'cpl': {
      if (!/^[0-3]$/.test(raw)) throw new Error(`--platform cpl=${raw}: expected 0, 1, 2 or 3`);
      into.cpl = Number(raw); return;
    }
    case 'feature-control': {
      if (!/^(0x[0-9a-f]+|\d+)$/i.test(raw)) throw new Error(`--platform feature-control=${raw}: expected a number`);
      into.featureControl = BigInt(raw); return;
    }
  }
  throw new Error(`--platform: unknown key '${key}' (known: ${PLATFORM_KEYS.join(', ')})`);
}

/** Fills in the defaults for a context. */
export function resolvePlatform(context: ExecContext, k: PlatformKnobs = {}): PlatformState & { vmxe: boolean } {
  const host = context === 'host';
  // A launch configuration is JSON: booleans may come as 0/1 and featureControl as a number or
  // a numeric string (validateConfig accepts those), so normalise here.
  const bool = (v: unknown, dflt: boolean) => (v === undefined ? dflt : Boolean(v));
  const vmxe = bool(k.vmxe, host);
  return {
    context,
    vmxe,
    vmxon: bool(k.vmxon, host) && vmxe,
    tdxBios: bool(k.tdxBios, true),
    module: bool(k.module, true),
    cpl: k.cpl ?? 0,
    featureControl: k.featureControl === undefined ? 0x5n : BigInt.asUintN(64, BigInt(k.featureControl as bigint | number | string)),
    noRbpMod: bool(k.noRbpMod, false),
    seamldr: { loaded: (k.seamldr ?? 'loaded') !== 'absent', busy: k.seamldr === 'busy' },
  };
}

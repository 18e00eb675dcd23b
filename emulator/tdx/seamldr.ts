// The persistent SEAM loader (P-SEAMLDR) as a SEAMCALL with RAX bit 63 reaches it. The CPU sends
// such a call to the loader whatever the TDX module's state: the platform has already checked
// #UD/#GP and answered VMfailInvalid when no loader is present or another logical processor is
// inside it (the "loader busy" case). Leaf numbers, the SEAMLDR_INFO layout, the SEAMLDR_PARAMS
// layout and the error codes are those of the kernel's P-SEAMLDR support (arch/x86/virt/vmx/tdx/
// p-seamldr.h in the intel/tdx tree: SEAMCALL_SEAMLDR_INFO = BIT(63), INSTALL = BIT(63)|1,
// SHUTDOWN = BIT(63)|2; P_SEAMLDR_EBADPARAM, P_SEAMLDR_EBADCALL, …) and of the loader's
// interface as Intel's SEAM loader specification gives it (SEAMLDR.SEAMINFO = BIT(63)|3).

import { catalogValues, findStatus } from './catalog';
import type { TdxLeaf } from './leaves';
import { GPR, hex64, type TdxCpuAccess } from './types';

/** The loader's part of the platform state (`platform.seamldr`). */
export interface SeamldrState {
  /** A P-SEAMLDR is present (loaded by the NP-SEAMLDR ACM at boot). */
  loaded: boolean;
  /** Another logical processor is executing in the loader: every loader call gets VMfailInvalid. */
  busy: boolean;
}

/** What one loader call did. */
export interface SeamldrOutcome {
  status: bigint;
  detail?: string;
  /** The TDX module is loaded after the call (INSTALL loads it, SHUTDOWN unloads it). */
  moduleLoaded: boolean;
  /** INSTALL loaded a fresh module: its state starts over (SYSINIT_PENDING). */
  freshModule?: boolean;
}

const P_SEAMLDR_SUCCESS = 0n;
const { P_SEAMLDR_EBADPARAM: EBADPARAM, P_SEAMLDR_EBADCALL: EBADCALL } =
  catalogValues('seamldr', ['P_SEAMLDR_EBADPARAM', 'P_SEAMLDR_EBADCALL'] as const, findStatus);

/** SEAMLDR_INFO: 256 bytes, 256-byte aligned (`P_SEAMLDR_INFO_ALIGNMENT`). */
const INFO_SIZE = 256, INFO_ALIGN = 256n;
/** SEAMLDR_INFO offsets: vendor_id at 8, seaminfo.valid at 32, seam_ready at 160, p_seamldr_ready at 162. */
const INFO_VENDOR_ID = 8, INFO_SEAMINFO_VALID = 32, INFO_SEAM_READY = 160, INFO_P_SEAMLDR_READY = 162;
const INTEL_VENDOR_ID = 0x8086;
/** SEAMLDR_PARAMS: 4 KiB aligned; version at 0, scenario at 4, sigstruct_pa at 8, num_module_pages at 120. */
const PARAMS_ALIGN = 4096n, PARAMS_SCENARIO = 4, PARAMS_SIGSTRUCT = 8, PARAMS_NUM_PAGES = 120;
const SCENARIO_LOAD = 0, SCENARIO_UPDATE = 1, MAX_MODULE_PAGES = 496n;
/** SEAMLDR_SEAMINFO output: 2 KiB aligned. */
const SEAMINFO_ALIGN = 2048n;

export interface SeamldrCall {
  cpu: TdxCpuAccess;
  leaf: TdxLeaf | undefined;
  /** RAX as the call found it. */
  rax: bigint;
  moduleLoaded: boolean;
  /** Highest physical-address bit + 1 and the KeyID bits at its top (the module's own settings). */
  physAddrBits: number;
  keyIdBits: number;
}

/** Runs one P-SEAMLDR leaf. RAX takes the returned status (the platform writes it). */
export function seamldrCall(c: SeamldrCall): SeamldrOutcome {
  const keep = { moduleLoaded: c.moduleLoaded };
  // Bits 62:0 other than the leaf number select no loader function.
  if (!c.leaf || (c.rax & ~(1n << 63n)) !== BigInt(c.leaf.leaf)) {
    return { ...keep, status: EBADCALL, detail: `no P-SEAMLDR function ${hex64(c.rax)}` };
  }
  const rcx = c.cpu.getReg(GPR.RCX);
  const badPa = (pa: bigint, align: bigint, len: number): string | undefined => {
    if (pa % align) return `${hex64(pa)} is not ${align}-byte aligned`;
    if (pa >> BigInt(c.physAddrBits)) return `${hex64(pa)} is beyond the physical-address width`;
    const low = BigInt(c.physAddrBits - c.keyIdBits);
    if ((pa >> low) & ((1n << BigInt(c.keyIdBits)) - 1n)) return `${hex64(pa)} carries KeyID bits`;
    if (c.cpu.isMapped && !c.cpu.isMapped(pa, len)) return `${hex64(pa)} is not backed by memory`;
    return undefined;
  };
  switch (c.leaf.name) {
    case 'SEAMLDR.INFO': {
      const why = badPa(rcx, INFO_ALIGN, INFO_SIZE);
      if (why) return { ...keep, status: EBADPARAM, detail: `SEAMLDR_INFO: ${why}` };
      const out = new Uint8Array(INFO_SIZE);
      const dv = new DataView(out.buffer);
      dv.setUint32(INFO_VENDOR_ID, INTEL_VENDOR_ID, true);
      dv.setBigUint64(INFO_SEAMINFO_VALID, c.moduleLoaded ? 1n : 0n, true);
      out[INFO_SEAM_READY] = c.moduleLoaded ? 1 : 0;
      out[INFO_P_SEAMLDR_READY] = 1;
      c.cpu.writeMemory(rcx, out);
      return { ...keep, status: P_SEAMLDR_SUCCESS, detail: `SEAMLDR_INFO written: seam_ready=${c.moduleLoaded ? 1 : 0}, p_seamldr_ready=1 (version, build and TCB fields 0: not modelled)` };
    }
    case 'SEAMLDR.INSTALL': {
      const why = badPa(rcx, PARAMS_ALIGN, 128);
      if (why) return { ...keep, status: EBADPARAM, detail: `SEAMLDR_PARAMS: ${why}` };
      const p = new DataView(c.cpu.readMemory(rcx, 128).slice().buffer);
      const version = p.getUint32(0, true), scenario = p.getUint32(PARAMS_SCENARIO, true);
      const sig = p.getBigUint64(PARAMS_SIGSTRUCT, true), pages = p.getBigUint64(PARAMS_NUM_PAGES, true);
      if (version !== 0) return { ...keep, status: EBADPARAM, detail: `SEAMLDR_PARAMS.version ${version} (must be 0)` };
      if (scenario !== SCENARIO_LOAD && scenario !== SCENARIO_UPDATE) return { ...keep, status: EBADPARAM, detail: `SEAMLDR_PARAMS.scenario ${scenario} (0 = load, 1 = update)` };
      if (sig % 4096n) return { ...keep, status: EBADPARAM, detail: `SEAMLDR_PARAMS.sigstruct_pa ${hex64(sig)} not 4K aligned` };
      if (pages === 0n || pages > MAX_MODULE_PAGES) return { ...keep, status: EBADPARAM, detail: `SEAMLDR_PARAMS.num_module_pages ${pages} (1..496)` };
      return { moduleLoaded: true, freshModule: true, status: P_SEAMLDR_SUCCESS,
        detail: `module ${scenario === SCENARIO_LOAD ? 'loaded' : 'updated'} from ${pages} page(s) (SEAMSIGSTRUCT signature not verified: not modelled)` };
    }
    case 'SEAMLDR.SHUTDOWN':
      return { moduleLoaded: false, status: P_SEAMLDR_SUCCESS, detail: c.moduleLoaded ? 'TDX module unloaded: later module SEAMCALLs get VMfailInvalid' : 'no module was loaded' };
    case 'SEAMLDR.SEAMINFO': {
      const why = badPa(rcx, SEAMINFO_ALIGN, 128);
      if (why) return { ...keep, status: EBADPARAM, detail: `SEAMLDR_SEAMINFO: ${why}` };
      return { ...keep, status: P_SEAMLDR_SUCCESS, detail: 'SEAMLDR_SEAMINFO buffer not written (its layout is not modelled)' };
    }
  }
  return { ...keep, status: EBADCALL, detail: `P-SEAMLDR function ${c.leaf.name} not modelled` };
}

// `--vmm OPTION`: the VMM model's answers from the command line.
//   profile=kvm|permissive          default answers: mainline KVM's (default) or the permissive model's
//   hostile | hostile=SEED          every exposed register the ABI does not define gets garbage
//   SUBFN=STATUS[,STATUS...]        a script: the n-th call of SUBFN answers the n-th status
//                                   (e.g. MapGPA=RETRY,SUCCESS; names with or without TDVMCALL_STATUS_)
//   msr:INDEX=VALUE                 RDMSR answer (WRMSR stores there)
//   io:PORT=VALUE, mmio:GPA=VALUE   IN and MMIO read answers

import { findSubfunction, findTdvmcallStatus, closestName, catalogNames } from '../emulator/tdx/catalog';
import { VMM_PROFILES, type VmmConfig, type VmmProfile } from '../emulator/tdx/vmm';

function num(text: string, what: string): string {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text.trim())) throw new Error(`--vmm ${what}: '${text}' is not a number`);
  return text.trim();
}

export function parseVmmOption(text: string, into: VmmConfig): void {
  const t = text.trim();
  const profile = /^profile=(.*)$/i.exec(t);
  if (profile) {
    const p = profile[1].trim().toLowerCase();
    if (!(VMM_PROFILES as readonly string[]).includes(p)) throw new Error(`--vmm profile=${profile[1]}: expected ${VMM_PROFILES.join(' or ')}`);
    into.profile = p as VmmProfile;
    return;
  }
  const hostile = /^hostile(?:=(.+))?$/i.exec(t);
  if (hostile) { into.hostile = { seed: hostile[1] ? num(hostile[1], 'hostile') : 0 }; return; }
  const kv = /^(msr|io|mmio):([^=]+)=(.+)$/i.exec(t);
  if (kv) {
    const kind = kv[1].toLowerCase(), key = num(kv[2], kind), value = num(kv[3], kind);
    if (kind === 'msr') (into.msrs ??= []).push({ msr: key, value });
    else if (kind === 'io') (into.ioPorts ??= []).push({ port: key, value });
    else (into.mmio ??= []).push({ gpa: key, value });
    return;
  }
  const script = /^([A-Za-z_.0-9]+)=(.+)$/.exec(t);
  if (!script) throw new Error(`--vmm '${t}': expected profile=kvm|permissive, hostile[=SEED], SUBFUNCTION=STATUS[,STATUS...], msr:N=V, io:PORT=V or mmio:GPA=V`);
  const sf = findSubfunction(script[1]);
  if (!sf) {
    const near = closestName(script[1], catalogNames('tdvmcall'));
    throw new Error(`--vmm '${t}': unknown TDG.VP.VMCALL sub-function '${script[1]}'${near ? ` (did you mean ${near}?)` : ''}`);
  }
  const answers = script[2].split(',').map((s) => s.trim()).map((s) => {
    const st = findTdvmcallStatus(s) ?? findTdvmcallStatus(`TDVMCALL_STATUS_${s}`);
    if (!st) throw new Error(`--vmm '${t}': unknown TDVMCALL status '${s}' (e.g. SUCCESS, RETRY, INVALID_OPERAND, ALIGN_ERROR, SUBFUNC_UNSUPPORTED)`);
    return { status: st.name };
  });
  (into.scripts ??= {})[sf.name] = answers;
}

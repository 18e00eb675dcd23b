// The x86-64 register vocabulary, one home for the emulator, the adapter and the extension:
// general-purpose registers and their parts, RFLAGS / CR0 / CR4 / EFER bits, the MSRs the CPU
// models, the conditional jumps and the exception vectors. Sources: Intel SDM vol. 1 §3.4
// (registers, RFLAGS), vol. 2 (Jcc), vol. 3 §2.2.1 (EFER), §2.5 (CR0, CR4), §6.3 (vectors),
// vol. 4 (MSR numbers). No emulator state here: plain data and pure functions.

/** The 64-bit general-purpose registers in encoding order (RAX = 0 … R15 = 15). */
export const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;

/** The parts of each 64-bit register, widest first: 32-bit, 16-bit, then the high and low bytes. */
export const SUB_REGISTERS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  rax: ['eax', 'ax', 'ah', 'al'], rcx: ['ecx', 'cx', 'ch', 'cl'], rdx: ['edx', 'dx', 'dh', 'dl'], rbx: ['ebx', 'bx', 'bh', 'bl'],
  rsp: ['esp', 'sp', 'spl'], rbp: ['ebp', 'bp', 'bpl'], rsi: ['esi', 'si', 'sil'], rdi: ['edi', 'di', 'dil'],
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`r${i + 8}`, [`r${i + 8}d`, `r${i + 8}w`, `r${i + 8}b`]])),
});

/** Every sub-register name, with the `r8l`…`r15l` spelling of the low bytes (Intel's, beside GNU's `r8b`). */
export const SUB_REGISTER_NAMES: ReadonlySet<string> = new Set([
  ...Object.values(SUB_REGISTERS).flat(),
  ...Array.from({ length: 8 }, (_, i) => `r${i + 8}l`),
]);

/** Width in bytes of a sub-register (`eax` 4, `r9w` 2, `ah` 1). */
export function subRegisterBytes(name: string): number {
  if (/^e..$|^r\d+d$/.test(name)) return 4;
  if (/^(ax|cx|dx|bx|sp|bp|si|di)$|^r\d+w$/.test(name)) return 2;
  return 1;
}

/** A named bit of a register: name, bit number, and a note for the reader (may be empty). */
export type BitTable = readonly (readonly [name: string, bit: number, note: string])[];

/** RFLAGS (SDM vol. 1 §3.4.3). */
export const RFLAGS_BITS: BitTable = [
  ['CF', 0, 'carry'], ['PF', 2, 'parity'], ['AF', 4, 'adjust'], ['ZF', 6, 'zero'], ['SF', 7, 'sign'], ['TF', 8, 'trap'],
  ['IF', 9, 'interrupts enabled'], ['DF', 10, 'direction'], ['OF', 11, 'overflow'], ['NT', 14, 'nested task'],
  ['RF', 16, 'resume'], ['VM', 17, 'virtual-8086'], ['AC', 18, 'alignment check'], ['ID', 21, 'CPUID available'],
];

/** The status and control flags expressions name (`zf`, `$cf`): CF … OF, lower case. */
export const FLAG_BITS: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(
  RFLAGS_BITS.filter(([, bit]) => bit <= 11).map(([name, bit]) => [name.toLowerCase(), bit]),
));

/** CR0 (SDM vol. 3 §2.5). */
export const CR0_BITS: BitTable = [
  ['PE', 0, ''], ['MP', 1, ''], ['EM', 2, ''], ['TS', 3, ''], ['ET', 4, ''], ['NE', 5, ''], ['WP', 16, ''], ['AM', 18, ''],
  ['NW', 29, ''], ['CD', 30, ''], ['PG', 31, ''],
];

/** CR4 (SDM vol. 3 §2.5). */
export const CR4_BITS: BitTable = [
  ['VME', 0, ''], ['PVI', 1, ''], ['TSD', 2, ''], ['DE', 3, ''], ['PSE', 4, ''], ['PAE', 5, 'required in long mode'], ['MCE', 6, ''],
  ['PGE', 7, ''], ['PCE', 8, ''], ['OSFXSR', 9, ''], ['OSXMMEXCPT', 10, ''], ['UMIP', 11, ''], ['LA57', 12, '5-level paging'],
  ['VMXE', 13, 'VMX enabled: clear → VMXON and SEAMCALL raise #UD'], ['SMXE', 14, ''], ['FSGSBASE', 16, ''], ['PCIDE', 17, ''],
  ['OSXSAVE', 18, ''], ['SMEP', 20, ''], ['SMAP', 21, ''], ['PKE', 22, ''], ['CET', 23, ''], ['PKS', 24, ''],
];

/** IA32_EFER (SDM vol. 3 §2.2.1). */
export const EFER_BITS: BitTable = [['SCE', 0, ''], ['LME', 8, ''], ['LMA', 10, ''], ['NXE', 11, '']];

/** The SSE registers, 128 bits each (SDM vol. 1 §10.2.2). */
export const XMM_REGISTERS: readonly string[] = Array.from({ length: 16 }, (_, i) => `xmm${i}`);

/** MXCSR fields (SDM vol. 1 §10.2.3); RC is bits 14:13. */
export const MXCSR_BITS: BitTable = [
  ['IE', 0, 'invalid operation'], ['DE', 1, 'denormal'], ['ZE', 2, 'divide by zero'], ['OE', 3, 'overflow'], ['UE', 4, 'underflow'], ['PE', 5, 'precision'],
  ['DAZ', 6, 'denormals are zeros'], ['IM', 7, ''], ['DM', 8, ''], ['ZM', 9, ''], ['OM', 10, ''], ['UM', 11, ''], ['PM', 12, ''],
  ['RC0', 13, 'rounding control, low bit'], ['RC1', 14, 'rounding control, high bit'], ['FTZ', 15, 'flush to zero'],
];

/** The bit of a named flag in a table (`bitOf(CR4_BITS, 'VMXE') === 13`); throws on a typo. */
export function bitOf(table: BitTable, name: string): number {
  const e = table.find(([n]) => n === name);
  if (!e) throw new Error(`x86 registers: no bit ${name}`);
  return e[1];
}

/** MSR numbers the emulator models (SDM vol. 4). */
export const MSR = {
  IA32_FEATURE_CONTROL: 0x3a,
  IA32_MKTME_KEYID_PARTITIONING: 0x87,
  IA32_TSC: 0x10,
  IA32_VMX_BASIC: 0x480,
  IA32_EFER: 0xc0000080,
  IA32_STAR: 0xc0000081,
  IA32_LSTAR: 0xc0000082,
  IA32_FMASK: 0xc0000084,
  IA32_FS_BASE: 0xc0000100,
  IA32_GS_BASE: 0xc0000101,
  IA32_KERNEL_GS_BASE: 0xc0000102,
} as const;

/** MSRs the machine models whose power-up value is undefined (SDM Vol. 3A Table 10-1): RDMSR stops until the program writes them. */
export const UNDEFINED_AT_RESET: readonly number[] = [MSR.IA32_STAR, MSR.IA32_LSTAR, MSR.IA32_FMASK];

/** MSRs held in CPU fields rather than the MSR table: always present. */
export const ARCHITECTURAL_MSRS: readonly number[] = [MSR.IA32_EFER, MSR.IA32_FS_BASE, MSR.IA32_GS_BASE];

const MSR_NAME_BY_NUMBER = new Map<number, string>(Object.entries(MSR).map(([n, v]) => [v, n]));

/** An MSR's name, or `MSR 0x…` for one without. */
export function msrName(id: number): string {
  return MSR_NAME_BY_NUMBER.get(id) ?? `MSR 0x${id.toString(16)}`;
}

/** The conditional jumps (SDM vol. 2 Jcc) with every mnemonic, and when each is taken. */
export const JCC_CONDITIONS: readonly (readonly [mnemonics: readonly string[], taken: (f: Readonly<Record<string, boolean>>) => boolean])[] = [
  [['jo'], (f) => f.of], [['jno'], (f) => !f.of], [['jb', 'jc', 'jnae'], (f) => f.cf], [['jae', 'jnb', 'jnc'], (f) => !f.cf],
  [['je', 'jz'], (f) => f.zf], [['jne', 'jnz'], (f) => !f.zf], [['jbe', 'jna'], (f) => f.cf || f.zf], [['ja', 'jnbe'], (f) => !f.cf && !f.zf],
  [['js'], (f) => f.sf], [['jns'], (f) => !f.sf], [['jp', 'jpe'], (f) => f.pf], [['jnp', 'jpo'], (f) => !f.pf],
  [['jl', 'jnge'], (f) => f.sf !== f.of], [['jge', 'jnl'], (f) => f.sf === f.of], [['jle', 'jng'], (f) => f.zf || f.sf !== f.of], [['jg', 'jnle'], (f) => !f.zf && f.sf === f.of],
];

/** Condition-code suffixes by cc (0..15, the low nibble of Jcc/SETcc/CMOVcc opcodes): 'o', 'no', 'b', … 'g'. */
export const COND_NAMES: readonly string[] = JCC_CONDITIONS.map(([m]) => m[0].slice(1));

/** Exception vectors by number (SDM vol. 3 §6.3.1), the ones the emulator raises or the kernel names. */
export const VECTOR_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: '#DE', 1: '#DB', 3: '#BP', 6: '#UD', 7: '#NM', 8: '#DF', 11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC',
});

/** `#GP`, or `vector N` for one without a name. */
export function vectorName(v: number): string {
  return VECTOR_NAMES[v] ?? `vector ${v}`;
}

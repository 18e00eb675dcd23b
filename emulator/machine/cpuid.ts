// CPUID answers of a Machine: the default part it models and the keys callers override it with.

/** One CPUID answer: [eax, ebx, ecx, edx]. */
export type Cpuid = [number, number, number, number];

/** Default CPUID: a Sapphire Rapids-like Intel part with VMX, POPCNT, BMI1, LZCNT, long mode. */
export function defaultCpuid(): Map<string, Cpuid> {
  const m = new Map<string, Cpuid>();
  m.set('0', [0x21, 0x756e6547, 0x6c65746e, 0x49656e69]); // "GenuineIntel"
  m.set('1', [0x000806f8, 0x00000800, 0x77fafbff & ~(1 << 31), 0xbfebfbff]);
  m.set('7:0', [0, (1 << 3) | (1 << 8), 0, 0]);
  m.set('80000000', [0x80000008, 0, 0, 0]);
  m.set('80000001', [0, 0, (1 << 5) | 1, (1 << 29) | (1 << 20) | (1 << 11)]);
  m.set('80000008', [0x3034, 0, 0, 0]);
  return m;
}

/** Table key of a `leaf` or `leaf:subleaf` option key (leaf hex, `0x` optional; subleaf decimal). */
export function parseKey(k: string): string {
  const [leaf, sub] = k.split(':');
  const norm = (s: string) => parseInt(s.replace(/^0x/i, ''), 16).toString(16);
  return sub === undefined ? norm(leaf) : `${norm(leaf)}:${Number(sub)}`;
}

/** Table key of a leaf and optional subleaf as the CPUID instruction gives them. */
export function cpuidKey(leaf: number, subleaf?: number): string {
  return subleaf === undefined ? leaf.toString(16) : `${leaf.toString(16)}:${subleaf}`;
}

/** The answer for a leaf and subleaf: the subleaf's own, else the leaf's, else zeros. */
export function lookupCpuid(table: ReadonlyMap<string, Cpuid>, leaf: number, subleaf: number): Cpuid {
  return table.get(cpuidKey(leaf, subleaf)) ?? table.get(cpuidKey(leaf)) ?? [0, 0, 0, 0];
}

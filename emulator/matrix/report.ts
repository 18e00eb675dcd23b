// The fault matrix as people and CI read it: a text table, the JSON shape of `--json`, and the
// comparison with a saved expectation file (`--expect`), which names every difference by site
// and fault rather than by array index, so a diff reads like a changelog of behaviour.

import type { MatrixResult, MatrixScenario, MatrixSite } from './matrix';

/** `__seamcall_ret+0x26 SEAMCALL TDH.SYS.INIT` / `… TDCALL TDG.VP.VMCALL<TDVMCALL_MAP_GPA>`. */
export function siteLabel(s: MatrixSite): string {
  return `${s.symbol} ${s.insn.toUpperCase()} ${s.leaf}${s.subfunction ? `<${s.subfunction}>` : ''}`;
}

/** The result column of a scenario: `0xfffffff3 (-EACCES)`, the panic message, `#GP at 0x…`. */
export function scenarioResult(x: MatrixScenario): string {
  switch (x.outcome) {
    case 'returned': return `${x.rax}${x.meaning ? ` (${x.meaning})` : ''}`;
    case 'exception': return `vector ${x.vector} at ${x.rip}`;
    default: return x.message;
  }
}

/** The text table of `tdxdbg matrix`. */
export function matrixTable(r: MatrixResult): string {
  const lines: string[] = [];
  r.sites.forEach((s, i) => lines.push(`site #${i}: ${siteLabel(s)} at ${s.address}`));
  const rows = r.scenarios.map((x) => [`#${x.site}`, x.fault, x.outcome, scenarioResult(x)]);
  const head = ['site', 'fault', 'outcome', 'result'];
  const w = head.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)));
  const fmt = (row: string[]) => row.map((c, k) => (k === row.length - 1 ? c : c.padEnd(w[k]))).join('  ');
  lines.push('', fmt(head), fmt(w.map((n) => '-'.repeat(n))));
  for (const row of rows) lines.push(fmt(row));
  const counts = new Map<string, number>();
  for (const x of r.scenarios) counts.set(x.outcome, (counts.get(x.outcome) ?? 0) + 1);
  lines.push('', `${r.scenarios.length} scenarios at ${r.sites.length} site${r.sites.length === 1 ? '' : 's'}: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}`);
  if (r.abi.length) {
    lines.push('', 'ABI checks:');
    for (const a of r.abi) lines.push(`  [${a.check}] ${a.message} (${describeRuns(a.runs)})`);
  } else lines.push('ABI checks: no findings');
  return lines.join('\n');
}

function describeRuns(runs: (number | string)[]): string {
  const nums = runs.filter((x): x is number => typeof x === 'number');
  const words = runs.filter((x) => typeof x === 'string');
  const parts = [...words.map((w) => (w === 'static' ? 'in the source' : `${w} run`))];
  if (nums.length) parts.push(`${nums.length === 1 ? 'scenario' : 'scenarios'} ${nums.slice(0, 8).join(', ')}${nums.length > 8 ? ', …' : ''}`);
  return parts.join('; ');
}

/** The `--json` text: stable key order, two-space indent, trailing newline. */
export function matrixJson(r: MatrixResult): string {
  return JSON.stringify(r, null, 2) + '\n';
}

/**
 * Differences between an expected matrix (a saved `--json`) and the actual one, one line each;
 * empty when they are the same.
 */
export function diffMatrix(expected: MatrixResult, actual: MatrixResult): string[] {
  const out: string[] = [];
  const key = (s: MatrixSite) => siteLabel(s);
  const eSites = new Map(expected.sites.map((s, i) => [key(s), { s, i }]));
  const aSites = new Map(actual.sites.map((s, i) => [key(s), { s, i }]));
  for (const [k, e] of eSites) {
    const a = aSites.get(k);
    if (!a) { out.push(`- site ${k} (${e.s.address}) is no longer reached`); continue; }
    if (a.s.address !== e.s.address) out.push(`~ site ${k}: address ${e.s.address} → ${a.s.address}`);
  }
  for (const [k, a] of aSites) if (!eSites.has(k)) out.push(`+ site ${k} (${a.s.address}) is new`);

  const scen = (r: MatrixResult) => new Map(r.scenarios.map((x) => [`${key(r.sites[x.site])} × ${x.fault}`, x]));
  const eSc = scen(expected), aSc = scen(actual);
  const fields: (keyof MatrixScenario)[] = ['outcome', 'rax', 'meaning', 'vector', 'rip', 'message'];
  for (const [k, e] of eSc) {
    const a = aSc.get(k);
    if (!a) { if (aSites.has(key(expected.sites[e.site]))) out.push(`- ${k}: scenario no longer run (was ${e.outcome}: ${scenarioResult(e)})`); continue; }
    const changed = fields.filter((f) => e[f] !== a[f]);
    if (!changed.length) continue;
    if (changed.includes('outcome')) out.push(`~ ${k}: ${e.outcome} (${scenarioResult(e)}) → ${a.outcome} (${scenarioResult(a)})`);
    else out.push(`~ ${k}: ${changed.map((f) => `${f} ${JSON.stringify(e[f])} → ${JSON.stringify(a[f])}`).join('; ')}`);
  }
  for (const [k, a] of aSc) if (!eSc.has(k)) out.push(`+ ${k}: new scenario, ${a.outcome} (${scenarioResult(a)})`);

  const abiKey = (x: MatrixResult['abi'][number]) => `[${x.check}] ${x.message}`;
  const eAbi = new Map(expected.abi.map((x) => [abiKey(x), x])), aAbi = new Map(actual.abi.map((x) => [abiKey(x), x]));
  for (const [k, e] of eAbi) {
    const a = aAbi.get(k);
    if (!a) out.push(`- ABI ${k}: no longer found`);
    else if (JSON.stringify(a.runs) !== JSON.stringify(e.runs)) out.push(`~ ABI ${k}: runs ${JSON.stringify(e.runs)} → ${JSON.stringify(a.runs)}`);
  }
  for (const k of aAbi.keys()) if (!eAbi.has(k)) out.push(`+ ABI ${k}: new finding`);
  return out;
}

// The assembler's kernel corpus: every 64-bit `arch/x86/**/*.S` of a prepared Debian kernel tree
// (scripts/kernel-tree.sh), preprocessed by kbuild itself (`make O=BUILD path/file.s`), assembled
// by GNU as and by the built-in assembler, and compared section by section (GNU as's object is
// linked with ld at our section addresses, undefined symbols at our stub addresses).
//
//   node out/scripts/kernel-corpus.js 6.12 [6.1] [--filter SUBSTR] [--verbose]
//
// env TDX_KERNEL_CACHE (default .cache/kernel). Prints, per tree, `N identical, M different,
// K rejected` and the most frequent rejection messages. The run fails when a tree's identical
// count falls below its floor, or its different count rises above the known one, in
// test/realobj/kernel-corpus-floor.json (raised as the assembler accepts more; the goal is
// every file identical, none different, none rejected).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assembleText } from '../emulator/loader/assembler';
import { compareWithGas } from '../test/unit/assemblerOracle';

const root = join(__dirname, '..', '..');
const cache = process.env.TDX_KERNEL_CACHE ?? join(root, '.cache/kernel');
const args = process.argv.slice(2);
const versions = args.filter((a) => /^6\.\d+$/.test(a));
const filterIdx = args.indexOf('--filter');
const filter = filterIdx >= 0 ? args[filterIdx + 1] : undefined;
const verbose = args.includes('--verbose');

/** The 64-bit `.S` files of arch/x86: kbuild's 32-bit, real-mode and boot code are assembled with -m32/-m16. */
function listSources(src: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.S')) out.push(relative(src, p));
    }
  };
  walk(join(src, 'arch/x86'));
  return out
    .filter((f) => !/^arch\/x86\/(boot|realmode)\//.test(f))
    .filter((f) => !/_32\.S$|\/vdso32\/|\/entry\/vdso\/vdso-note|efi_stub_32|wakeup_32|head_32|relocate_kernel_32|\/um\//.test(f))
    .filter((f) => !filter || f.includes(filter))
    .sort();
}

async function corpus(version: string): Promise<{ identical: number; different: number; rejected: number }> {
  const src = join(cache, `linux-source-${version}`);
  const build = join(cache, `build-${version}`);
  if (!existsSync(join(build, '.tdx-prepared'))) throw new Error(`${build} is not prepared: run scripts/kernel-tree.sh ${version}`);
  const files = listSources(src);
  const targets = files.map((f) => f.replace(/\.S$/, '.s'));
  const missing = targets.filter((t) => !existsSync(join(build, t)));
  if (missing.length) {
    process.stderr.write(`${version}: kbuild preprocesses ${missing.length} files ...\n`);
    // -k: a file kbuild cannot preprocess in this configuration is simply not part of the corpus.
    spawnSync('make', ['-s', '-k', `O=${build}`, '-C', src, ...missing], { stdio: ['ignore', 'ignore', verbose ? 'inherit' : 'ignore'] });
  }
  // The corpus: the files GNU as accepts.
  const accepted: string[] = [];
  for (const t of targets) {
    const p = join(build, t);
    if (!existsSync(p)) continue;
    const r = spawnSync('as', ['--64', '-o', '/dev/null', p], { stdio: 'ignore' });
    if (r.status === 0) accepted.push(t);
  }
  let identical = 0, different = 0, rejected = 0;
  const reasons = new Map<string, { n: number; files: string[] }>();
  const t0 = Date.now();
  for (const t of accepted) {
    const text = readFileSync(join(build, t), 'latin1');
    let res;
    try {
      // As GNU as makes an object: undefined values are relocations, not errors.
      res = assembleText(text, t, { objectMode: true });
    } catch (e) {
      res = { diagnostics: [{ severity: 'error', message: `threw: ${(e as Error).message}` }], listing: [] } as unknown as ReturnType<typeof assembleText>;
    }
    if (!res.image) {
      rejected++;
      const first = res.diagnostics.find((d) => d.severity === 'error');
      const msg = (first?.message ?? '?').replace(/'[^']*'/g, "'…'").replace(/\b0x[0-9a-f]+\b|\b\d+\b/g, 'N').slice(0, 110);
      const r = reasons.get(msg) ?? { n: 0, files: [] };
      r.n++;
      r.files.push(`${t}:${first?.location?.line} ${(first?.message ?? '').slice(0, 60)}`);
      reasons.set(msg, r);
      if (verbose) console.log(`REJECTED ${t}: ${first?.location?.line}:${first?.location?.column} ${first?.message}`);
      continue;
    }
    let [cmp] = await compareWithGas([{ name: t, ext: '.s', source: text, image: res.image, listing: res.listing }]);
    if (cmp.problems.some((p) => /relocation truncated/.test(p))) {
      // Code that subtracts the kernel's virtual base (`$(sym - 0xffffffff80000000)`) only links
      // where the kernel lives: place the sections there and compare again.
      const high = assembleText(text, t, { objectMode: true, base: 0xffffffff81000000n });
      if (high.image) [cmp] = await compareWithGas([{ name: t, ext: '.s', source: text, image: high.image, listing: high.listing }]);
    }
    if (cmp.problems.length) {
      different++;
      console.log(`DIFFERENT ${t}\n  ${cmp.problems.slice(0, 3).join('\n  ')}`);
    } else {
      identical++;
      if (verbose) console.log(`identical ${t}`);
    }
  }
  console.log(`linux ${version}: ${accepted.length} files GNU as accepts: ${identical} identical, ${different} different, ${rejected} rejected (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  for (const [m, r] of [...reasons].sort((a, b) => b[1].n - a[1].n).slice(0, 25)) console.log(`  ${String(r.n).padStart(3)}  ${m}   e.g. ${r.files.slice(0, 2).join(' ')}`);
  return { identical, different, rejected };
}

async function main(): Promise<void> {
  if (!versions.length) {
    console.error('usage: kernel-corpus 6.12 [6.1] [--filter SUBSTR] [--verbose]');
    process.exit(2);
  }
  const floorFile = join(root, 'test/realobj/kernel-corpus-floor.json');
  const floor = existsSync(floorFile) ? (JSON.parse(readFileSync(floorFile, 'utf8')) as Record<string, { identical: number; different: number }>) : {};
  let failed = false;
  for (const v of versions) {
    const r = await corpus(v);
    const want = floor[v] ?? { identical: Infinity, different: 0 };
    if (!filter && r.identical < want.identical) {
      console.log(`linux ${v}: FAIL: ${r.identical} identical, below the floor of ${want.identical} (${relative(root, floorFile)})`);
      failed = true;
    }
    if (!filter && r.different > want.different) {
      console.log(`linux ${v}: FAIL: ${r.different} files assembled to different bytes (known: ${want.different})`);
      failed = true;
    }
  }
  void execFileSync;
  process.exit(failed ? 1 : 0);
}

void main();

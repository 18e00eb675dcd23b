// `tdxdbg asm`: assembles a kernel-style `.S` file with the built-in toolchain and prints the
// Image — a summary, a GNU-style listing (`--listing`) or JSON (`--json`). Diagnostics go to
// stderr as `file:line:col: error: …`; any error means exit code 1 and no Image output.

import { buildImage } from '../emulator/loader/buildImage';
import { formatDiagnostic } from '../emulator/loader/diagnostics';
import { formatListing } from '../emulator/loader/assembler';
import { Image } from '../emulator/loader/image';
import { USAGE, parseArgs } from './asmArgs';

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** The `--json` shape of issue 3. */
export function imageJson(image: Image | undefined, errors: string[]): unknown {
  const sections: Record<string, { address: string; bytes: string }> = {};
  const symbols: Record<string, string> = {};
  for (const s of image?.sections ?? []) sections[s.name] = { address: hex(s.address), bytes: Buffer.from(s.bytes).toString('hex') };
  for (const s of image?.symbols ?? []) symbols[s.name] = hex(s.address);
  const exTable = (image?.exTable ?? []).map((e) => ({ insn: hex(e.insn), fixup: hex(e.fixup), type: e.type }));
  return { sections, symbols, exTable, errors };
}

function summary(image: Image): string {
  const out: string[] = [];
  for (const s of image.sections) out.push(`section ${s.name.padEnd(20)} ${hex(s.address).padStart(18)}  ${s.bytes.length} bytes  ${s.exec ? 'x' : '-'}${s.write ? 'w' : '-'}`);
  for (const s of image.symbols) out.push(`symbol  ${s.name.padEnd(28)} ${hex(s.address).padStart(18)}  ${s.binding} ${s.type}${image.undefinedSymbols.includes(s.name) ? ' (undefined: stub)' : ''}`);
  for (const e of image.exTable) out.push(`extable ${hex(e.insn)} -> ${hex(e.fixup)} type ${e.type}`);
  return out.join('\n') + '\n';
}

/** Runs `tdxdbg asm` with the arguments after `asm`; resolves to the exit code. */
export async function asmCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(USAGE + '\n'); return 0; }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`tdxdbg asm: ${args}\n${USAGE}\n`);
    return 2;
  }
  let result;
  try {
    result = await buildImage(args.file, args.build);
  } catch (e) {
    // A bug of ours, not the user's input: say so plainly, without a stack trace.
    process.stderr.write(`${args.file}: internal error: ${(e as Error).message}\n`);
    return 1;
  }
  if (result.kernelTree) {
    const k = result.kernelTree;
    process.stderr.write(`${args.file}: note: kernel tree ${k.source} (build ${k.build}): the tree's headers and the flags of ${k.sibling ? `${k.sibling} (a sibling: this file's object has no .cmd yet)` : k.cmdFile}\n`);
  }
  for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  const errors = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  if (args.json) process.stdout.write(JSON.stringify(imageJson(errors.length ? undefined : result.image, errors), null, 2) + '\n');
  if (errors.length || !result.image) return 1;
  if (args.listing) process.stdout.write(formatListing(result.listing));
  else if (!args.json) process.stdout.write(summary(result.image));
  return 0;
}

#!/usr/bin/env node
// tdxdbg: the headless command line of the TDX Call Debugger.
//   tdxdbg run FILE --entry SYMBOL [...]   run a function on the emulated TDX platform
//   tdxdbg matrix FILE --entry SYMBOL     every call site under every applicable fault
//   tdxdbg asm FILE [...]                  assemble with the built-in assembler
//   tdxdbg demo                            a guided run of the bundled examples

// Each command is loaded when it runs: `tdxdbg asm` starts without evaluating the emulator. In
// dist/ the two imports below are bundles of their own (scripts/build.mjs): `tdxdbg asm` reads
// and compiles the assembler's ~0.3 MB, not the emulator's and iced-x86's ~1.3 MB.

import { oneShotTiering } from './asmArgs';

const USAGE = `usage: tdxdbg <command> [options]

commands:
  run FILE --entry SYMBOL [...]   call SYMBOL on the emulated TDX platform and report what happened
  matrix FILE --entry SYMBOL [...] run every TDX call site under every applicable fault
  asm FILE [...]                  assemble a kernel-style .S file with the built-in assembler
  demo [--tour]                   a debugging session on the bundled example over DAP (--tour: the
                                  examples under several platforms and faults)

'tdxdbg <command> --help' describes a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': return (await import('./commands')).runCommand(rest);
    case 'asm':
      oneShotTiering(rest);
      return (await import('./asm')).asmCommand(rest);
    case 'demo': return (await import('./commands')).demoCommand(rest);
    case 'matrix': return (await import('./commands')).matrixCommand(rest);
    case undefined: case '-h': case '--help': case 'help':
      process.stdout.write(USAGE + '\n');
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`tdxdbg: unknown command '${cmd}'\n${USAGE}\n`);
      return 2;
  }
}

// `tdxdbg run … | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    // An internal error: say so plainly, with the stack for a bug report, and exit non-zero.
    process.stderr.write(`tdxdbg: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 3;
  },
);

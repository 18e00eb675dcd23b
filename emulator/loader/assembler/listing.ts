// GNU-style listing for `tdxdbg asm --listing`: address, up to 8 bytes per row, the source
// line number and the statement, continuation rows for longer byte runs.

import { ListingRow } from './layout';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Renders rows like `as -al`: `  12 0004 4889C3       mov %rax,%rbx`. */
export function formatListing(rows: ListingRow[]): string {
  const out: string[] = [];
  let section = '';
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      out.push(`                 ${section}`);
    }
    for (let i = 0; i < r.bytes.length; i += 8) {
      const chunk = hex(r.bytes.subarray(i, i + 8)).toUpperCase().padEnd(16);
      const addr = (r.address + BigInt(i)).toString(16).padStart(8, '0');
      out.push(i === 0 ? `${String(r.line).padStart(5)} ${addr} ${chunk} ${r.text}` : `${' '.repeat(5)} ${addr} ${chunk}`);
    }
  }
  return out.join('\n') + '\n';
}

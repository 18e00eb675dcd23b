// The custom-request protocol (debug-adapter/protocol.ts) is served in full by the adapter's
// tables and is the only way the extension sends a `tdx/*` request.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TDX_REQUESTS } from '../../debug-adapter/tdxRequests';
import { TRAVEL_REQUESTS } from '../../debug-adapter/travelRequests';
import type { TdxCommand } from '../../debug-adapter/protocol';

// Compile-time: every protocol command has a handler, and every handler a protocol entry.
type Served = keyof typeof TDX_REQUESTS | keyof typeof TRAVEL_REQUESTS;
const everyCommandServed: [Exclude<TdxCommand, Served>] extends [never] ? true : never = true;
const everyHandlerDeclared: [Exclude<Served, TdxCommand>] extends [never] ? true : never = true;

const ROOT = join(__dirname, '..', '..', '..');

test('every protocol command has exactly one handler', () => {
  assert.ok(everyCommandServed && everyHandlerDeclared);
  const tdx = Object.keys(TDX_REQUESTS), travel = Object.keys(TRAVEL_REQUESTS);
  assert.deepEqual(tdx.filter((c) => travel.includes(c)), []);
});

test('the extension sends tdx/* requests only through the typed client', () => {
  const dir = join(ROOT, 'extension');
  const hits = readdirSync(dir).filter((f) => f.endsWith('.ts')).flatMap((f) =>
    [...readFileSync(join(dir, f), 'utf8').matchAll(/customRequest\(\s*['"`](tdx\/\w+)/g)].map((m) => `extension/${f}: ${m[1]}`));
  assert.deepEqual(hits, []);
});

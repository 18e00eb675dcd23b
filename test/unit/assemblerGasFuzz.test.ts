// The directive and expression fuzzer against GNU as (test/support/asmGasFuzz.ts), a fixed
// seed and a few hundred sources: every source GNU as accepts gives its bytes or a refusal by
// name, every source it refuses is refused. CI runs thousands more.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzAgainstGas } from '../support/asmGasFuzz';

test('assembler: random directives and expressions give GNU as\'s bytes, warnings aside, and fail where it fails', () => {
  const r = fuzzAgainstGas(20261207, 300);
  assert.equal(r.failures.length, 0, r.failures.slice(0, 3).join('\n'));
  // The sources exercise both outcomes, and refusals by name stay the exception.
  assert.ok(r.gasOk > 100 && r.gasOk < r.cases, `${r.gasOk} of ${r.cases} accepted by GNU as`);
  assert.ok(r.gaps * 10 < r.gasOk, `${r.gaps} refusals by name of ${r.gasOk}`);
});

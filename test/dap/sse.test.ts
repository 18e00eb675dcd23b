// XMM registers and MXCSR in the debugger: the Registers scope's SSE group (each register as a
// 128-bit value with its lanes as integers and floats, MXCSR field by field), changes marked,
// evaluate and setVariable on $xmmN/$mxcsr. The program is GNU-as-built SSE code; the
// expected values are the fixture's constants summed by hand (exact in binary floating point).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Dap, ROOT, byName, lineOf } from './harness';

const SSE = join(ROOT, 'test/dap/fixtures/sse.S');
const LAUNCH = { type: 'tdx', request: 'launch', program: SSE, entry: 'sse_main', toolchain: { compiler: 'gcc' }, __workspaceTrusted: true };

test('SSE group: XMM lanes after paddd/addps, MXCSR fields after ldmxcsr, evaluate and set $xmm', async () => {
  const d = await Dap.start();
  await d.launch(LAUNCH, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: SSE }, breakpoints: [{ line: lineOf(SSE, /^sse_done:/) + 1 }] }); });
  await d.stopped();
  const regs = await d.scope('Registers');
  const sse = await d.children(byName(regs, 'SSE'));
  // {1,2,3,0x7fffffff} + {10,20,30,1}: 11, 22, 33, 0x80000000 (wraps).
  assert.match(byName(sse, 'xmm0').value, /^0x8000000000000021000000160000000b/);
  const lanes = await d.children(byName(sse, 'xmm0'));
  assert.equal(byName(lanes, 'u32').value, '{0x0000000b, 0x00000016, 0x00000021, 0x80000000}');
  // 1.5+2.25, -2+0.5, 0.25+0.25, 1e30+1e30 (float32).
  const f = await d.children(byName(sse, 'xmm2'));
  assert.equal(byName(f, 'f32').value, `{3.75, -1.5, 0.5, ${Math.fround(Math.fround(1e30) * 2)}}`);
  assert.match(byName(sse, 'xmm3').value, /^0x0{32}/);
  const mx = byName(sse, 'mxcsr');
  assert.match(mx.value, /^0x0000000000003f80 \[IM DM ZM OM UM PM RC0\]/);
  assert.equal(await d.eval('$xmm0'), '0x8000000000000021000000160000000b');
  assert.equal(await d.eval('mxcsr'), '0x3f80');
  await d.eval('$xmm5 = 0x1234');
  const after = await d.children(byName(await d.scope('Registers'), 'SSE'));
  assert.match(byName(after, 'xmm5').value, /^0x0{28}1234/);
  await d.close();
});

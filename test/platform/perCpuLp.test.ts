// The TDX module's per-logical-processor state follows the emulated CPU that issues SEAMCALL
// (its GS base): TDH.SYS.LP.INIT succeeds once per LP and answers TDX_SYS_LP_INIT_DONE on an LP
// that already ran it (TDX module tdh_sys_lp_init.c; status values from tdx_error_codes_defs.h).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../emulator/session/session';
import { ConfigError } from '../../emulator/session/config';
import { fixture } from './harness';

const TDX_SUCCESS = 0n;
const TDX_SYS_LP_INIT_DONE = 0xc000_0503_0000_0000n;

async function lpInit(extra: Record<string, unknown>): Promise<Session> {
  const probe = await Session.create({ program: fixture('lpinit.S'), entry: 'lp_init_per_cpu', context: 'host', cpus: 2, ...extra });
  const cpu1 = probe.perCpu.base + probe.perCpu.stride;
  return Session.create({ program: fixture('lpinit.S'), entry: 'lp_init_per_cpu', context: 'host', cpus: 2, args: ['0x' + cpu1.toString(16)], ...extra });
}

test('TDH.SYS.LP.INIT: done once per CPU; the second on CPU 0 is LP_INIT_DONE, the first on CPU 1 succeeds', async () => {
  const s = await lpInit({});
  const stop = s.run();
  assert.equal(stop.reason, 'returned', stop.message);
  assert.deepEqual(s.calls.map((c) => c.leaf), ['TDH.SYS.INIT', 'TDH.SYS.LP.INIT', 'TDH.SYS.LP.INIT', 'TDH.SYS.LP.INIT']);
  assert.deepEqual(s.calls.map((c) => c.status), [TDX_SUCCESS, TDX_SUCCESS, TDX_SYS_LP_INIT_DONE, TDX_SUCCESS]);
  assert.equal(s.currentCpu(), 1);
});

test('"cpus" beyond the module\'s numLps is a configuration error naming both attributes', async () => {
  await assert.rejects(lpInit({ tdxModule: { numLps: 1 } }), (e: unknown) => e instanceof ConfigError && /tdxModule\.numLps.*fewer than the 2 CPUs of "cpus"/.test(e.message));
});

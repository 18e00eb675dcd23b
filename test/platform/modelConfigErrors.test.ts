// A bad entry in the VMM's or the module's configuration is reported against its own launch
// attribute path (`vmm.msrs[1].msr`), as the model raised it — not as "vmm"/"tdxModule" found
// by reading the message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../emulator/session/session';
import { ConfigError } from '../../emulator/session/config';
import { fixture } from './harness';

async function attributeOf(extra: Record<string, unknown>): Promise<string> {
  try {
    await Session.create({ program: fixture('lpinit.S'), entry: 'lp_init_per_cpu', context: 'host', ...extra });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.attribute;
  }
  assert.fail('the configuration was accepted');
}

test('configuration errors carry the attribute path where the model raised them', async () => {
  assert.equal(await attributeOf({ vmm: { msrs: [{ msr: 0x1b, value: 0 }, { msr: 'APIC', value: 0 }] } }), 'vmm.msrs[1].msr');
  assert.equal(await attributeOf({ vmm: { mmio: [{ gpa: 0, value: 'x' }] } }), 'vmm.mmio[0].value');
  assert.equal(await attributeOf({ vmm: { profile: 'xen' } }), 'vmm.profile');
  assert.equal(await attributeOf({ vmm: { answers: { MapGAP: {} } } }), 'vmm.answers.MapGAP');
  assert.equal(await attributeOf({ vmm: { scripts: { MapGPA: [{ regs: { XMM0: 1 } }] } } }), 'vmm.scripts.MapGPA[0].regs.XMM0');
  assert.equal(await attributeOf({ tdxModule: { noEntropy: { 'TDH.SYS.INTI': 1 } } }), 'tdxModule.noEntropy.TDH.SYS.INTI');
  assert.equal(await attributeOf({ tdxModule: { attributes: 'lots' } }), 'tdxModule.attributes');
});

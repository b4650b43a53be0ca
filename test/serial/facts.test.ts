import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {createSourceContext} from '../../src/serial/sources/context.js'
import {collectSystemFacts, readDeviceFacts} from '../../src/serial/facts.js'
import {projectRoot} from '../helpers/paths.js'
import {memoryFs} from './helpers/memory-fs.js'
import {dtString, dtStrings, makeRoot, removeRoot} from './helpers/root.js'

describe('readDeviceFacts', () => {
  it('reads model, compatible, SoC, DMI and cpuinfo facts directly', async () => {
    const context = createSourceContext({
      fs: memoryFs({
        '/.dockerenv': '',
        '/proc/cpuinfo': 'processor\t: 0\nHardware\t: BCM2835\nRevision\t: d04170\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n',
        '/sys/devices/soc0/soc_id': 'i.MX8MP\n',
        '/sys/firmware/devicetree/base/compatible': dtStrings('raspberrypi,5-model-b', 'brcm,bcm2712'),
        '/sys/firmware/devicetree/base/model': dtString('Raspberry Pi 5 Model B Rev 1.0'),
      }),
    })
    const facts = await readDeviceFacts(context)
    assert.deepEqual(facts, {
      compatible: ['raspberrypi,5-model-b', 'brcm,bcm2712'],
      container: '/.dockerenv',
      cpu: {hardware: 'BCM2835', model: 'Raspberry Pi 5 Model B Rev 1.0', revision: 'd04170'},
      hypervisorFlag: false,
      model: 'Raspberry Pi 5 Model B Rev 1.0',
      soc: {socId: 'i.MX8MP'},
    })
  })
})

describe('collectSystemFacts (systeminformation)', () => {
  it('is always behind a timeout', async () => {
    const facts = await collectSystemFacts({timeoutMs: 1})
    assert.deepEqual([facts.ok, facts.ok ? '' : facts.reason], [false, 'systeminformation did not answer within 1 ms'])
  })

  it('returns descriptive facts only: no serial, no UUID', async () => {
    const facts = await collectSystemFacts({timeoutMs: 10_000})
    assert.equal(typeof facts.ms, 'number')
    if (facts.ok) {
      const text = JSON.stringify(facts)
      assert.doesNotMatch(text, /serial|uuid/i)
      assert.ok('system' in facts && 'cpu' in facts && 'baseboard' in facts)
    }
  })

  it('is never loaded on the serial path', async () => {
    const root = await makeRoot({'/proc/cpuinfo': 'Serial\t\t: 48343bbbe3ae743b\n'})
    after(() => removeRoot(root))
    const script = join(root, 'derive.mts')
    writeFileSync(
      script,
      `import {createRequire} from 'node:module'
       const {deriveSerial} = await import(${JSON.stringify(join(projectRoot, 'src', 'serial', 'index.ts'))})
       const result = await deriveSerial({board: 'raspberry-pi', root: ${JSON.stringify(root)}})
       const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('systeminformation'))
       console.log(JSON.stringify({serial: result.serial, loaded}))`,
    )
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], {cwd: projectRoot, encoding: 'utf8'})
    assert.equal(run.status, 0, run.stderr)
    assert.deepEqual(JSON.parse(run.stdout), {loaded: [], serial: '48343bbbe3ae743b'})
  })
})

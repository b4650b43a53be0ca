/** A mistyped command, flag or config key gets the one it most likely meant, said once, with exit 2. */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {runCli} from '../helpers/cli.js'
import {scratchDir} from '../helpers/scratch.js'

const dir = scratchDir('did-you-mean-')

describe('did you mean', () => {
  for (const [args, message, hint] of [
    [['valdate', 'gadget.yaml'], 'unknown command "valdate"', 'did you mean "snap-gadget validate"?'],
    [['serve', 'lgo'], 'unknown command "serve lgo"', 'did you mean "snap-gadget serve log"?'],
    [['init', '--bord', 'pc-amd64'], 'unknown flag --bord for snap-gadget init', 'did you mean --board?'],
    [['serial', '--chian', 'dmi'], 'unknown flag --chian for snap-gadget serial', 'did you mean --chain?'],
    [['bogus-command'], 'unknown command "bogus-command"', '(snap-gadget --help lists the commands)'],
  ] as const) {
    test(`snap-gadget ${args.join(' ')}`, async () => {
      const r = await runCli([...args])
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stdout, '')
      assert.ok(r.stderr.startsWith(`error: ${message}\n  hint: `), r.stderr)
      assert.ok(r.stderr.includes(hint), r.stderr)
      assert.equal(r.stderr.split('did you mean').length - 1, hint.startsWith('did you mean') ? 1 : 0, 'said once')
    })
  }

  test('a mistyped key of the serve config: the typo, at its line, not the key it leaves missing', async () => {
    const config = join(dir, 'serve.yaml')
    writeFileSync(config, 'models:\n  - brand: acme\n    modle: acme-pc\n    api-key: {env: X}\n    signing-key: k.pem\n')
    const r = await runCli(['serve', '--config', config])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /serve\.yaml:3:5: models\[0\]\.modle: unknown key "modle"\n {2}hint: did you mean "model"\? \(allowed here: /)
  })

  test('a gadget.yaml key: the guess in the hint only', async () => {
    const gadget = join(dir, 'gadget.yaml')
    writeFileSync(gadget, 'volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - name: mbr\n        type: mbr\n        size: 440\n        filesytem: vfat\n')
    const r = await runCli(['validate', gadget])
    assert.equal(r.stdout.split('did you mean "filesystem"').length - 1, 1, r.stdout)
  })
})

/** Checks on a gadget project's other files: part outputs (for N13) and literal api-keys (N14). */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {generate} from '../scaffold/helpers.js'
import {apiKeysInText, apiKeysInYaml, assumedSnapd, partOutputs, producedByParts, registrationConfigFindings, runtimeModeFindings, serialRequestHookFindings} from '../../src/gadget/checks/project.js'
import {validateGadget, validatePaths} from '../../src/gadget/validate.js'
import {directoryTree} from '../../src/gadget/checks/content-tree.js'

const snapcraft = `name: acme-pi
parts:
  boot-assets:
    plugin: nil
    prime:
      - boot-assets/MLO
      - boot-assets/seed
      - -usr/share/man
  fw:
    plugin: dump
    organize:
      blob.bin: firmware/blob.bin
    stage:
      - dtbs/*.dtb
`

describe('part outputs', () => {
  it('collects prime and stage entries and organize targets, without exclusions', () => {
    assert.deepEqual(partOutputs(snapcraft).sort(), ['boot-assets/MLO', 'boot-assets/seed', 'dtbs/*.dtb', 'firmware/blob.bin'])
    assert.deepEqual(partOutputs('not: [valid'), [])
  })

  it('matches content by name, by directory and by glob', () => {
    const outputs = partOutputs(snapcraft)
    for (const p of ['boot-assets/MLO', 'boot-assets/seed/boot.scr', 'boot-assets/seed/', 'dtbs/rk3399.dtb', '/firmware/blob.bin']) assert.ok(producedByParts(p, outputs), p)
    for (const p of ['boot-assets/u-boot.img', 'dtbs/sub/x.dtb', 'firmware']) assert.ok(!producedByParts(p, outputs), p)
  })

  it('keeps N13 for content no part makes, drops it for content a part makes', () => {
    const gadget = `volumes:
  pi:
    schema: mbr
    bootloader: u-boot
    structure:
      - name: boot
        type: bare
        size: 1M
        offset: 1M
        content:
          - image: boot-assets/MLO
          - image: boot-assets/u-boot.img
`
    const result = validateGadget(gadget, {partOutputs: partOutputs(snapcraft), tree: directoryTree('/nonexistent-project', 'project')})
    assert.deepEqual(
      result.findings.filter((f) => f.rule === 'N13').map((f) => f.message),
      ['content "boot-assets/u-boot.img" is not in the gadget project'],
    )
  })
})

describe('literal api-keys', () => {
  it('finds keys in snapcraft.yaml values and hooks, not variables or placeholders', () => {
    const yaml = 'hooks:\n  prepare-device:\n    environment:\n      MODEL_APIKEY: AbCdEfGhIjKlMnOpQrStUvWxYz012345\n      OTHER_APIKEY: $MODEL_APIKEY\n'
    assert.deepEqual(
      apiKeysInYaml('snapcraft.yaml', yaml).map((f) => [f.rule, f.start?.line, f.secret]),
      [['N14', 4, true]],
    )
    const hook = `snapctl set device-service.headers='{"api-key": "U2VyaWFsIFZhdWx0Cg-really-long"}'\nsnapctl set device-service.headers="{\\"api-key\\": \\"$MODEL_APIKEY\\"}"\n`
    assert.deepEqual(
      apiKeysInText('prepare-device', hook).map((f) => f.start?.line),
      [1],
    )
    assert.deepEqual(apiKeysInText('prepare-device', `api-key: "ABC1234"\n`), [])
  })
})

describe('runtime/registration.json', () => {
  const config = (headers: Record<string, unknown>, url = 'https://serial-vault-partners.canonical.com/api/v1/') =>
    JSON.stringify({body: {facts: ['board-model']}, deviceService: {preset: 'custom', url}, headers, serial: {board: 'x86'}}, null, 2)

  it('flags a literal api-key or other secret header value (N14), not one read from the environment', () => {
    const text = config({'api-key': 'c2VyaWFsLXZhdWx0LWtleQxx7x7x7x7', authorization: 'Bearer abc', 'x-factory-line': 'line 3', 'x-token': {env: 'TOKEN'}})
    const found = registrationConfigFindings('runtime/registration.json', text)
    assert.deepEqual(
      found.map((f) => [f.rule, f.severity, f.secret, f.start?.line, f.message]),
      [
        ['N14', 'warning', true, 12, 'header "api-key" holds a literal secret (the value is sent to the device service, and now sits in the repository)'],
        ['N14', 'warning', true, 13, 'header "authorization" holds a literal secret (the value is sent to the device service, and now sits in the repository)'],
      ],
    )
    assert.deepEqual(registrationConfigFindings('r.json', config({'api-key': {env: 'MODEL_APIKEY'}, 'x-api-key': '<your key>'})), [])
  })

  it('the fix names what the generated gadget supports: snap set <gadget> api-key=…', () => {
    const [f] = registrationConfigFindings('r.json', config({'api-key': 'c2VyaWFsLXZhdWx0LWtleQxx7x7x7x7'}))
    assert.match(f.hint ?? '', /"snap set <gadget> api-key=…"/)
    assert.doesNotMatch(f.hint ?? '', /device-service\.headers/)
    const [hook] = apiKeysInText('snap/hooks/prepare-device', 'API_KEY=c2VyaWFsLXZhdWx0LWtleQxx7x7x7x7\n')
    assert.equal(hook.hint, f.hint)
  })

  it('warns about a plain http device service (N17), unless it is on the loopback interface', () => {
    const rules = (url: string) => registrationConfigFindings('r.json', config({}, url)).map((f) => f.rule)
    assert.deepEqual(rules('http://vault.example.com/v1/'), ['N17'])
    assert.deepEqual(rules('HTTP://10.0.0.5:8080/'), ['N17'])
    for (const url of ['https://vault.example.com/v1/', 'http://localhost:8080/', 'http://127.0.0.1/', 'http://[::1]:8080/']) assert.deepEqual(rules(url), [], url)
  })
})

describe('validate on a project with runtime/registration.json', () => {
  it('reports the literal key in the project, and the text report never repeats it', async () => {
    const {mkdirSync, writeFileSync, copyFileSync} = await import('node:fs')
    const {join} = await import('node:path')
    const {validatePaths} = await import('../../src/gadget/validate.js')
    const {renderReport} = await import('../../src/report/index.js')
    const {fixtures} = await import('../helpers/paths.js')
    const dir = freshDir('snap-gadget-registration-')
    copyFileSync(fixtures('validate', 'clean.yaml'), join(dir, 'gadget.yaml'))
    mkdirSync(join(dir, 'runtime'))
    const key = 'c2VyaWFsLXZhdWx0LWtleQxx7x7x7x7'
    writeFileSync(join(dir, 'runtime', 'registration.json'), JSON.stringify({deviceService: {preset: 'custom', url: 'http://vault.example.com/'}, headers: {'api-key': key}, serial: {board: 'x86'}}, null, 2))
    const {report, sources} = validatePaths([dir], {cwd: dir})
    assert.deepEqual(
      report.gadgets[0].findings.map((f) => [f.rule, f.file]),
      [
        ['N17', 'runtime/registration.json'],
        ['N14', 'runtime/registration.json'],
      ],
    )
    const text = renderReport(report, 'text', {cwd: dir, sources}).output
    assert.match(text, /runtime\/registration\.json:\d+:\d+: warning N14 header "api-key" holds a literal secret/)
    assert.ok(!text.includes(key), 'the key is not echoed')
  })
})

describe('the snapd a project or a built snap assumes is the one it is judged for', () => {
  const minSizeGadget = `volumes:
  pc:
    bootloader: grub
    structure:
      - name: ubuntu-data
        role: system-data
        filesystem: ext4
        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4
        min-size: 1G
        size: 2G
`
  const project = (snapYaml: string, where: 'project' | 'snap' = 'project'): string => {
    const dir = freshDir('assumes-')
    const meta = where === 'project' ? join(dir, 'snap') : join(dir, 'meta')
    mkdirSync(meta)
    writeFileSync(join(where === 'project' ? dir : meta, 'gadget.yaml'), minSizeGadget)
    writeFileSync(join(meta, where === 'project' ? 'snapcraft.yaml' : 'snap.yaml'), `name: acme-pc\ntype: gadget\n${snapYaml}`)
    return dir
  }

  it('the newest snapdX.Y of assumes, without --snapd: a gadget using min-size (2.60) is valid', () => {
    for (const where of ['project', 'snap'] as const) {
      const dir = project('assumes: [kernel-assets, snapd2.59, snapd2.60.1]\n', where)
      const {report} = validatePaths([dir], {cwd: dir})
      assert.equal(report.snapd, '2.60', where)
      assert.equal(report.errors, 0, JSON.stringify(report.gadgets[0].findings))
      assert.equal(report.gadgets[0].notes, undefined)
    }
  })

  it('a --snapd older than assumes is a note, and the gadget is judged as its assumes says; a newer one is taken as asked', () => {
    const dir = project('assumes: [snapd2.60.1]\n')
    const older = validatePaths([dir], {cwd: dir, snapd: '2.57', strict: true}).report
    assert.equal(older.errors, 0)
    assert.equal(older.snapd, '2.60')
    assert.deepEqual(older.gadgets[0].notes, ['--snapd 2.57 is older than the snapd2.60.1 that snap/snapcraft.yaml assumes: a device with an older snapd refuses to install this gadget, so it is judged as snapd 2.60'])
    const newer = validatePaths([dir], {cwd: dir, snapd: '2.68'}).report
    assert.equal(newer.snapd, '2.68')
    assert.equal(newer.gadgets[0].notes, undefined)
  })

  it('without assumes (or a gadget.yaml alone), the latest as before; --snapd 2.57 still finds min-size', () => {
    const dir = project('')
    assert.equal(validatePaths([dir], {cwd: dir}).report.snapd, 'latest')
    const old = validatePaths([dir], {cwd: dir, snapd: '2.57'}).report
    assert.equal(old.snapd, '2.57')
    assert.ok(old.gadgets[0].findings.some((f) => f.rule === 'N15' || /min-size/.test(f.message)))
  })

  it('assumedSnapd reads only the top-level list', () => {
    assert.equal(assumedSnapd('assumes: [snapd2.61, snapd2.58.3, command-chain]\n'), '2.61')
    assert.equal(assumedSnapd('parts:\n  a:\n    assumes: [snapd2.70]\n'), undefined)
    assert.equal(assumedSnapd('assumes: snapd2.61\n'), undefined)
  })
})

describe('the prepare-serial-request hook (N18, N19)', () => {
  const hooks = (...names: string[]) => new Map(names.map((name) => [name, {file: `snap/hooks/${name}`, text: name === 'prepare-device' ? '#!/bin/sh\nexec qjs --std prepare-device.cjs\n' : '#!/bin/sh\n'}]))
  const snapYaml = (assumes?: string) => ({file: 'snap/snapcraft.yaml', text: `name: acme-pc\n${assumes === undefined ? '' : `assumes: [${assumes}]\n`}hooks:\n  prepare-device:\n    plugs: [hardware-observe]\n`})
  const rules = (inputs: Parameters<typeof serialRequestHookFindings>[0]) => serialRequestHookFindings(inputs).map((f) => [f.rule, f.file, f.start?.line])

  it('says nothing about a gadget without the hook', () => {
    assert.deepEqual(rules({hooks: hooks('prepare-device'), registration: {file: 'r.json', text: '{"headers": {"api-key": {"env": "K"}}}'}, snapYaml: snapYaml()}), [])
  })

  it('N18: the hook without assumes snapd2.74 or newer, as a file or declared in snapcraft.yaml', () => {
    assert.deepEqual(rules({hooks: hooks('prepare-serial-request'), snapYaml: snapYaml()}), [['N18', 'snap/snapcraft.yaml', 1]])
    assert.deepEqual(rules({hooks: hooks('prepare-serial-request'), snapYaml: snapYaml('snapd2.63, core24-desktop')}), [['N18', 'snap/snapcraft.yaml', 2]])
    const declared = {file: 'snap/snapcraft.yaml', text: 'name: acme-pc\nassumes: [snapd2.73.1]\nhooks:\n  prepare-device: {}\n  prepare-serial-request: {}\n'}
    assert.deepEqual(rules({hooks: hooks(), snapYaml: declared}), [['N18', 'snap/snapcraft.yaml', 2]])
    assert.match(serialRequestHookFindings({hooks: hooks(), snapYaml: declared})[0].message, /assumes only snapd2\.73\.1: snapd before 2\.74 skips the hook/)
    for (const assumes of ['snapd2.74', 'snapd2.77.1', 'snapd2.63, snapd2.75']) assert.deepEqual(rules({hooks: hooks('prepare-serial-request'), snapYaml: snapYaml(assumes)}), [], assumes)
  })

  it('N19: the hook while prepare-device sends an api-key header, from registration.json or set by hand', () => {
    const base = {snapYaml: snapYaml('snapd2.74')}
    const registration = {file: 'runtime/registration.json', text: '{\n  "deviceService": {"preset": "serial-vault"},\n  "headers": {"Api-Key": {"env": "K"}}\n}\n'}
    assert.deepEqual(rules({...base, hooks: hooks('prepare-device', 'prepare-serial-request'), registration}), [['N19', 'runtime/registration.json', 3]])
    const byHand = new Map([
      ['prepare-serial-request', {file: 'snap/hooks/prepare-serial-request', text: '#!/bin/sh\n'}],
      [
        'prepare-device',
        {
          file: 'snap/hooks/prepare-device',
          text: '#!/bin/sh\n# device-service.headers carries no api-key here\nsnapctl set device-service.url=https://x/\nsnapctl set device-service.headers=\'{"api-key": "\'"$KEY"\'"}\'\n',
        },
      ],
    ])
    assert.deepEqual(rules({...base, hooks: byHand}), [['N19', 'snap/hooks/prepare-device', 4]])
    assert.deepEqual(rules({...base, hooks: hooks('prepare-device', 'prepare-serial-request'), registration: {file: 'r.json', text: '{"headers": {"x-line": "3"}}'}}), [])
  })

  it('validate reports both on a project, as errors with --strict', () => {
    const dir = freshDir('snap-gadget-serial-hook-')
    writeFileSync(
      join(dir, 'gadget.yaml'),
      'volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - name: ubuntu-seed\n        role: system-seed\n        filesystem: vfat\n        type: EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n        size: 1200M\n',
    )
    mkdirSync(join(dir, 'snap', 'hooks'), {recursive: true})
    mkdirSync(join(dir, 'runtime'))
    writeFileSync(join(dir, 'snap', 'snapcraft.yaml'), 'name: acme-pc\nassumes: [snapd2.63]\n')
    writeFileSync(join(dir, 'snap', 'hooks', 'prepare-serial-request'), '#!/bin/sh\n')
    writeFileSync(join(dir, 'runtime', 'registration.json'), '{"deviceService": {"preset": "serial-vault"}, "headers": {"api-key": {"env": "K"}}, "serial": {"board": "x86"}}\n')
    const found = (strict: boolean) =>
      validatePaths([dir], {cwd: dir, strict})
        .report.gadgets[0].findings.filter((f) => f.rule === 'N18' || f.rule === 'N19')
        .map((f) => [f.rule, f.severity, f.file])
    assert.deepEqual(found(false), [
      ['N19', 'warning', 'runtime/registration.json'],
      ['N18', 'warning', 'snap/snapcraft.yaml'],
    ])
    assert.deepEqual(
      found(true).map((f) => f[1]),
      ['error', 'error'],
    )
  })
})

describe('a runtime built for another onboarding mode (N20)', () => {
  const registration = (text: string) => ({file: 'runtime/registration.json', text})
  const runtime = (mode?: string) => ({file: 'runtime/prepare-device.cjs', text: mode === undefined ? '"use strict";var e=1;' : `/* snap-gadget runtime: ${mode} onboarding */`})
  const rules = (config: string, mode?: string) => runtimeModeFindings(registration(config), runtime(mode)).map((f) => [f.rule, f.file, f.start?.line])
  const hardwareIdentity = '{"serial": {"board": "x86"}, "onboarding": "hardware-identity"}'
  const apiKey = '{"serial": {"board": "x86"}}'

  it('the api-key runtime under a hardware-identity config, and the hardware-identity runtime under an api-key config that signs with the device identity', () => {
    assert.deepEqual(rules(hardwareIdentity, 'api-key'), [['N20', 'runtime/prepare-device.cjs', 1]])
    assert.deepEqual(rules('{"onboarding": {"mode": "hardware-identity", "keyType": "ecdsa-p384"}}', 'api-key'), [['N20', 'runtime/prepare-device.cjs', 1]])
    assert.deepEqual(rules(apiKey, 'hardware-identity'), [['N20', 'runtime/prepare-device.cjs', 1]])
    assert.deepEqual(rules('{"identity": {"enabled": true}}', 'hardware-identity'), [['N20', 'runtime/prepare-device.cjs', 1]])
    const [finding] = runtimeModeFindings(registration(hardwareIdentity), runtime('api-key'))
    assert.match(finding.message, /^runtime\/prepare-device\.cjs is the runtime for api-key onboarding, and runtime\/registration\.json asks for hardware-identity onboarding: on QuickJS the hooks fail/)
    assert.match(finding.hint!, /dist\/runtime\/prepare-device-hardware-identity\.cjs/)
  })

  it('says nothing when they agree, when api-key onboarding turns the identity off, or for a runtime that carries both', () => {
    assert.deepEqual(rules(hardwareIdentity, 'hardware-identity'), [])
    assert.deepEqual(rules(apiKey, 'api-key'), [])
    assert.deepEqual(rules('{"identity": false}', 'hardware-identity'), [])
    assert.deepEqual(rules('{"identity": {"enabled": false}}', 'hardware-identity'), [])
    assert.deepEqual(rules(hardwareIdentity), [], 'a runtime made before there was one per mode')
    assert.deepEqual(runtimeModeFindings(undefined, runtime('api-key')), [])
  })

  it('validate finds it in a gadget init made, once the config is switched to the other mode', async () => {
    const {dir} = await generate('pc-amd64', 'core24')
    assert.deepEqual(
      validatePaths([dir], {cwd: dir}).report.gadgets[0].findings.filter((f) => f.rule === 'N20'),
      [],
      'as init made it',
    )
    writeFileSync(join(dir, 'runtime', 'registration.json'), `${hardwareIdentity}\n`)
    const found = validatePaths([dir], {cwd: dir, strict: true}).report.gadgets[0].findings.filter((f) => f.rule === 'N20')
    assert.deepEqual(
      found.map((f) => [f.rule, f.severity, f.file, f.start?.line]),
      [['N20', 'error', 'runtime/prepare-device.cjs', 1]],
    )

    // Only its first line is read, and a runtime that is no regular file is passed over: a FIFO
    // without a writer neither hangs validate nor makes it report anything.
    rmSync(join(dir, 'runtime', 'prepare-device.cjs'))
    execFileSync('mkfifo', [join(dir, 'runtime', 'prepare-device.cjs')])
    const {report} = validatePaths([dir], {cwd: dir, strict: true})
    assert.deepEqual(report.unreadable, [])
    assert.deepEqual(
      report.gadgets[0].findings.filter((f) => f.rule === 'N20'),
      [],
    )
  })
})

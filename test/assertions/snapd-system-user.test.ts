/**
 * System-user assertions judged by snapd's own code, 2.57.6 (Debian 12's source) and 2.77.1 (sid's),
 * with test/fixtures/assertions/system-user-check.go built against each: what issueSystemUser signs
 * decodes and is added to a database holding the brand's chain (the test root, the account, the
 * account-key from the same auto-import.assert bundle), and snapd's checks before it creates the
 * user (authority, series, model, serial, validity) say what ours say. Headers signed raw, past our
 * checks, show that what we refuse snapd refuses too, release by release.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {before, describe, test} from 'node:test'
import {promisify} from 'node:util'

import {type HeaderMap, type HeaderValue, parseAssertions, signAssertion} from '../../src/assertions/index.js'
import {systemUserHeaders, type SystemUserInput} from '../../src/assertions/system-user.js'
import {UserError} from '../../src/errors.js'
import {issueSystemUser, type SystemUserOptions} from '../../src/identity/system-user.js'
import {type BrandChain, type HeaderOverrides, makeBrandChain, SNAPD_PACKAGES, testKeys} from '../helpers/assertions.js'
import {fixtures} from '../helpers/paths.js'
import {buildSnapdNewestTool, snapdNewest} from '../helpers/snapd-newest.js'
import {buildGoTool, goUnavailable} from '../runtime/helpers.js'

interface Verdict {
  type?: string
  check: string
  use?: string
  format: number
  username?: string
  password?: string
  serials?: string[]
  models?: string[]
  'ssh-keys'?: string[]
  'force-password-change'?: boolean
}

const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0q8yW6Qm0b4y9U3iF9bqkKq7n8s0lJQ8Kc3b2Yz1xP support@acme'
const NOW = new Date('2026-12-07T08:00:00Z')
const HOUR = 3600 * 1000
const {brand: brandKey, device: partnerKey, root} = testKeys()
const chain: BrandChain = makeBrandChain(root, brandKey, {brandId: 'acme'})
const partner: BrandChain = makeBrandChain(root, partnerKey, {brandId: 'acme-support'})
const model = (headers: HeaderMap = {}) => chain.signModel({model: 'acme-pc', ...headers}).text
const serial = (value: string) => chain.signSerial({deviceKey: partnerKey.encodedPublicKey, model: 'acme-pc', serial: value}).text

const base: SystemUserOptions = {chain: parseAssertions(chain.stream), email: 'factory@acme.example', key: brandKey, models: ['acme-pc'], now: NOW, password: 'line 4 — shift B', username: 'factory'}

/** The same case judged by one snapd's asserts. */
type Judge = (assertions: string[], device?: {model?: string; serial?: string; now?: Date}) => Promise<Verdict[]>

function judgeWith(checker: string): Judge {
  return async (assertions, device = {}) => {
    const child = promisify(execFile)(checker, [], {maxBuffer: 16 * 1024 * 1024, timeout: 60_000})
    child.child.stdin!.end(
      JSON.stringify({
        assertions,
        model: device.model ?? model(),
        now: (device.now ?? new Date(NOW.getTime() + HOUR)).toISOString().replace(/\.\d+Z$/, 'Z'),
        serial: device.serial ?? '',
        trusted: chain.trusted.map((a) => a.text),
      }),
    )
    return (JSON.parse((await child).stdout) as {assertions: Verdict[]}).assertions
  }
}

/** The bundle's assertions as separate texts: account, account-key, system-user. */
const bundleOf = (options: Partial<SystemUserOptions> = {}): string[] => {
  const issued = issueSystemUser({...base, ...options})
  return parseAssertions(issued.bundle).map((a) => `${Buffer.from(a.content).toString('utf8')}\n\n${a.signature}\n`)
}

/** A system-user signed by the brand with `headers` as given: no check of ours in the way. */
const raw = (overrides: HeaderOverrides): string => {
  const headers: HeaderOverrides = {
    'authority-id': 'acme',
    'brand-id': 'acme',
    email: 'raw@acme.example',
    models: ['acme-pc'],
    password: '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
    since: '2026-12-07T08:00:00Z',
    until: '2026-12-10T08:00:00Z',
    username: 'raw',
    ...overrides,
  }
  const present = Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, HeaderValue] => entry[1] !== undefined))
  return signAssertion({headers: present, type: 'system-user'}, brandKey).text
}

/** What our own header check says of the same fields: "ok" or the refusal. */
const ours = (input: Partial<SystemUserInput>): string => {
  try {
    systemUserHeaders({
      brandId: 'acme',
      email: 'raw@acme.example',
      models: ['acme-pc'],
      passwordHash: '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
      since: new Date('2026-12-07T08:00:00Z'),
      until: new Date('2026-12-10T08:00:00Z'),
      username: 'raw',
      ...input,
    })
    return 'ok'
  } catch (error) {
    assert.ok(error instanceof UserError && error.code === 'E_SYSTEM_USER', String(error))
    return error.message
  }
}

const newest = snapdNewest()
if (newest.env === undefined && process.env.CI === 'true') throw new Error(`snapd's newest Go source is required in CI: ${newest.reason}`)
const debianMissing = goUnavailable([...SNAPD_PACKAGES, 'github.com/snapcore/snapd/strutil'])
if (debianMissing !== undefined && process.env.CI === 'true') throw new Error(`Debian's snapd Go source is required in CI: ${debianMissing}`)

const VERSIONS: {name: string; skip?: string; build: () => Promise<string>}[] = [
  {build: () => buildGoTool(fixtures('assertions', 'system-user-check.go'), 'system-user-check'), name: '2.57.6', skip: debianMissing},
  {build: () => buildSnapdNewestTool(newest.env!, fixtures('assertions', 'system-user-check.go'), 'system-user-check'), name: '2.77.1', skip: newest.reason},
]

for (const version of VERSIONS) {
  describe(`snapd ${version.name}'s asserts judge the system-users we sign`, {skip: version.skip}, () => {
    let judge: Judge
    before(async () => {
      judge = judgeWith(await version.build())
    })

    test('the auto-import bundle: account, account-key and the user are added; the user is created on the model, with our hash and keys', async () => {
      const verdicts = await judge(bundleOf({sshKeys: [SSH_KEY], forcePasswordChange: true, name: 'Factory line 4'}))
      assert.deepEqual(
        verdicts.map((v) => [v.type, v.check]),
        [
          ['account', 'ok'],
          ['account-key', 'ok'],
          ['system-user', 'ok'],
        ],
      )
      const user = verdicts[2]
      assert.equal(user.use, 'ok')
      assert.equal(user.format, 0)
      assert.equal(user.username, 'factory')
      assert.match(user.password ?? '', /^\$6\$[a-zA-Z0-9./]{16}\$[a-zA-Z0-9./]{86}$/)
      assert.deepEqual(user['ssh-keys'], [SSH_KEY])
      assert.equal(user['force-password-change'], true)
    })

    test('the checks before the user is created say what ours say: another model, a device not yet registered, another serial, the window passed', async () => {
      const [, , onOther] = await judge(bundleOf(), {model: model({model: 'acme-other'})})
      assert.equal(onOther.use, `"acme-other" not in models ["acme-pc"]`)

      const bound = bundleOf({serials: ['ACME-0001']})
      const [, , unregistered] = await judge(bound)
      assert.equal(unregistered.format, 1)
      assert.equal(unregistered.use, 'bound to serial assertion but device not yet registered')
      const [, , mine] = await judge(bound, {serial: serial('ACME-0001')})
      assert.equal(mine.use, 'ok')
      const [, , another] = await judge(bound, {serial: serial('ACME-0002')})
      assert.equal(another.use, `"ACME-0002" not in serials ["ACME-0001"]`)

      // 72 hours by default: valid an hour after it was made, not four days after.
      const [, , late] = await judge(bundleOf(), {now: new Date(NOW.getTime() + 96 * HOUR)})
      assert.equal(late.use, 'assertion not valid anymore')
    })

    test("a partner's key: refused unless the model names the partner in system-user-authority, as our check refuses it", async () => {
      const options: Partial<SystemUserOptions> = {brandId: 'acme', chain: parseAssertions(partner.stream), key: partnerKey}
      const partnerBundle = bundleOf(options)
      const [, , strange] = await judge(partnerBundle)
      assert.equal(strange.use, `"acme-support" not in accepted authorities ["acme"]`)
      const [, , allowed] = await judge(partnerBundle, {model: model({'system-user-authority': ['acme-support']})})
      assert.equal(allowed.use, 'ok')

      assert.throws(() => issueSystemUser({...base, ...options, modelAssertions: parseAssertions(model())}), /the model acme-pc lets acme make system users, not acme-support/)
      assert.doesNotThrow(() => issueSystemUser({...base, ...options, modelAssertions: parseAssertions(model({'system-user-authority': ['acme-support']}))}))
    })

    test('headers past our checks: what we refuse, snapd refuses too', async () => {
      const cases: {name: string; headers: HeaderOverrides; input: Partial<SystemUserInput>; snapd: RegExp}[] = [
        {
          headers: {format: '1', models: ['acme-pc', 'acme-other'], serials: ['A']},
          input: {models: ['acme-pc', 'acme-other'], serials: ['A']},
          name: 'serials with two models',
          snapd: /"models" must specify exactly one model/,
        },
        {
          headers: {password: '$1$salt$abcdefghijklmnopqrstuv'},
          input: {passwordHash: '$1$salt$abcdefghijklmnopqrstuv'},
          name: 'an MD5 password hash',
          snapd: /"password" header only supports \$id\$ values of 6 \(sha512crypt\) or higher/,
        },
        {headers: {models: undefined, until: '2028-12-10T08:00:00Z'}, input: {models: [], until: new Date('2028-12-10T08:00:00Z')}, name: 'two years without models', snapd: /more than 365 days/},
        {headers: {until: '2026-12-06T08:00:00Z'}, input: {until: new Date('2026-12-06T08:00:00Z')}, name: 'until before since', snapd: /'until' time cannot be before 'since' time/},
        {headers: {email: 'not an address'}, input: {email: 'not an address'}, name: 'an email that is not one', snapd: /RFC 5322/},
        {
          headers: {'force-password-change': 'true', password: undefined, 'ssh-keys': [SSH_KEY]},
          input: {forcePasswordChange: true, passwordHash: undefined, sshKeys: [SSH_KEY]},
          name: 'a forced change without a password',
          snapd: /force-password-change.*empty "password"/,
        },
      ]
      const verdicts = await judge(cases.map((c) => raw(c.headers)))
      for (const [n, c] of cases.entries()) {
        assert.match(verdicts[n].check, c.snapd, `${c.name}: snapd says ${verdicts[n].check}`)
        assert.notEqual(ours(c.input), 'ok', `${c.name}: we sign it`)
      }
    })

    test('the features that need a newer snapd: "+" in a username (refused from 2.62), serials without format 1, user-presence (format 2, 2.58+)', async () => {
      const [, , plus, noFormat, presence] = await judge([
        chain.account.text,
        chain.accountKey.text,
        raw({username: 'field+eng'}),
        raw({serials: ['ACME-0001']}),
        signAssertion(
          {
            headers: systemUserHeaders({brandId: 'acme', email: 'e@acme.example', expireUser: true, models: ['acme-pc'], passwordHash: '$6$s$x', since: NOW, until: new Date(NOW.getTime() + HOUR), username: 'e'}),
            type: 'system-user',
          },
          brandKey,
        ).text,
      ])
      assert.match(noFormat.check, /"serials" header is only supported for format 1 or greater/)
      assert.notEqual(ours({username: 'field+eng'}), 'ok')
      if (version.name === '2.57.6') {
        assert.equal(plus.check, 'ok', '2.57 took "+"')
        assert.equal(presence.check, 'proposed "system-user" assertion has format 2 but 1 is latest supported')
      } else {
        assert.match(plus.check, /"username" header contains invalid characters/)
        assert.equal(presence.check, 'ok')
        assert.equal(presence.format, 2)
      }
    })
  })
}

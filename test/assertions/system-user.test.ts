/**
 * The system-user's headers as snapd's assembler checks them, each refusal with its fix, and the
 * chain, brand and authority checks issueSystemUser makes before signing.
 */
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {parseAssertions} from '../../src/assertions/index.js'
import {systemUserFeatures, systemUserFormat, systemUserHeaders, type SystemUserInput} from '../../src/assertions/system-user.js'
import {UserError} from '../../src/errors.js'
import {issueSystemUser} from '../../src/identity/system-user.js'
import {makeBrandChain, testKeys} from '../helpers/assertions.js'

const HASH = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'
const SINCE = new Date('2026-12-07T08:00:00Z')
const input = (overrides: Partial<SystemUserInput> = {}): SystemUserInput => ({
  brandId: 'acme',
  email: 'ops@acme.example',
  passwordHash: HASH,
  since: SINCE,
  until: new Date('2026-12-10T08:00:00Z'),
  username: 'ops',
  ...overrides,
})

function refused(overrides: Partial<SystemUserInput>, message: RegExp, hint: RegExp): void {
  assert.throws(
    () => systemUserHeaders(input(overrides)),
    (error: unknown) => {
      assert.ok(error instanceof UserError, String(error))
      assert.equal(error.code, 'E_SYSTEM_USER')
      assert.match(error.message, message)
      assert.match(error.hint ?? '', hint)
      return true
    },
  )
}

describe('systemUserHeaders', () => {
  test('the headers snapd reads, format 0 without serials or user-presence', () => {
    assert.deepEqual(systemUserHeaders(input({models: ['acme-pc'], name: 'Ops', sshKeys: ['ssh-ed25519 AAAA ops']})), {
      'authority-id': 'acme',
      'brand-id': 'acme',
      email: 'ops@acme.example',
      models: ['acme-pc'],
      name: 'Ops',
      password: HASH,
      since: '2026-12-07T08:00:00Z',
      'ssh-keys': ['ssh-ed25519 AAAA ops'],
      until: '2026-12-10T08:00:00Z',
      username: 'ops',
    })
  })

  test('format 1 with serials, 2 with user-presence, and the snapd each needs', () => {
    assert.equal(systemUserFormat({serials: ['S1']}), 1)
    assert.equal(systemUserFormat({expireUser: true, serials: ['S1']}), 2)
    assert.equal(systemUserHeaders(input({models: ['m'], serials: ['S1']})).format, '1')
    assert.equal(systemUserHeaders(input({expireUser: true}))['user-presence'], 'until-expiration')
    assert.deepEqual(
      systemUserFeatures({expireUser: true, serials: ['S1']}).map((f) => f.since),
      ['2.46', '2.64', '2.58'],
    )
  })

  test('each refusal names the field and the fix', () => {
    refused({username: 'Ops'}, /the username "Ops" is not one snapd takes/, /lower-case/)
    refused({username: 'field+eng'}, /not one snapd takes/, /2\.62\+ refuses "\+"/)
    refused({username: 'a'.repeat(33)}, /not one snapd takes/, /at most 32/)
    refused({email: 'ops'}, /the email "ops" is not an address snapd takes/, /ops@example\.com/)
    refused({passwordHash: 'plain'}, /not a crypt\(3\) hash/, /SHA-512/)
    refused({passwordHash: '$5$salt$hash'}, /kind \$5\$; snapd takes only \$6\$/, /SHA-512/)
    refused({passwordHash: '$6$rounds=10$salt$hash'}, /rounds=10; snapd takes 5000 to 999999999/, /SHA-512/)
    refused({forcePasswordChange: true, passwordHash: undefined, sshKeys: ['ssh-ed25519 AAAA k']}, /forced password change needs a password/, /password/)
    refused({passwordHash: undefined}, /neither a password nor an ssh key/, /--ssh-key/)
    refused({sshKeys: ['-----BEGIN OPENSSH PRIVATE KEY-----']}, /is not an OpenSSH public key line/, /\.pub/)
    refused({models: ['a', 'b'], serials: ['S1']}, /exactly one model, and 2 are given/, /exactly one --model/)
    refused({serials: ['S1']}, /exactly one model, and 0 are given/, /exactly one --model/)
    refused({until: SINCE}, /is not after since/, /until after since/)
    refused({until: new Date('2027-12-08T08:00:00Z')}, /at most 365 days/, /--model/)
    refused({name: 'Ops\u001b[2J'}, /control or formatting characters/, /one line of printable text/)
    refused({models: ['acme\u202epc']}, /control or formatting characters/, /printable/)
  })
})

describe('issueSystemUser', () => {
  const {brand, device: other, root} = testKeys()
  const chain = makeBrandChain(root, brand, {brandId: 'acme'})
  const now = new Date('2026-12-07T08:00:00Z')
  const base = {email: 'ops@acme.example', key: brand, now, password: 'secret words', username: 'ops'}

  test('bundles the account and account-key of the signing key ahead of the user, valid 72 hours from now', () => {
    const issued = issueSystemUser({...base, chain: parseAssertions(chain.stream)})
    assert.deepEqual(issued.bundled, ['account', 'account-key', 'system-user'])
    assert.equal(issued.view.authorityId, 'acme')
    assert.equal(issued.view.until, '2026-12-10T08:00:00Z')
    assert.ok(issued.notes.some((note) => note.includes('clock is between 2026-12-07T08:00:00Z and 2026-12-10T08:00:00Z')))
  })

  test('refuses a chain of another key, a key that is not valid now, and a model that does not let the signer make users', () => {
    const otherChain = makeBrandChain(root, other, {brandId: 'acme'})
    assert.throws(() => issueSystemUser({...base, chain: parseAssertions(otherChain.stream)}), /no account-key in the chain is for the signing key/)
    const expired = makeBrandChain(root, brand, {brandId: 'acme', until: '2026-01-01T00:00:00Z'})
    assert.throws(() => issueSystemUser({...base, chain: parseAssertions(expired.stream)}), /is not valid now/)
    assert.throws(() => issueSystemUser({...base, authorityId: 'acme-support', chain: parseAssertions(chain.stream)}), /the signing key belongs to acme, not to acme-support/)
    const partner = makeBrandChain(root, other, {brandId: 'acme-support'})
    const model = parseAssertions(chain.signModel({model: 'acme-pc'}).text)
    assert.throws(() => issueSystemUser({...base, chain: parseAssertions(partner.stream), key: other, modelAssertions: model}), /lets acme make system users, not acme-support/)
    const anyone = parseAssertions(chain.signModel({model: 'acme-pc', 'system-user-authority': '*'}).text)
    assert.equal(issueSystemUser({...base, chain: parseAssertions(partner.stream), key: other, modelAssertions: anyone}).view.brandId, 'acme')
  })

  test('without a chain: the brand must be given and the device must already hold the key; a password with a line break is refused', () => {
    assert.throws(() => issueSystemUser(base), /the brand is not known/)
    const issued = issueSystemUser({...base, brandId: 'acme'})
    assert.deepEqual(issued.bundled, ['system-user'])
    assert.ok(issued.notes.some((note) => note.includes('no account-key given')))
    assert.throws(() => issueSystemUser({...base, brandId: 'acme', password: 'two\nlines'}), /holds a line break or NUL/)
  })
})

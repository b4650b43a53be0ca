import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {describe, test} from 'node:test'

import {sha512Crypt} from '../../src/support/sha512-crypt.js'

/** The SHA-512 test vectors of Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512". */
const SPEC_VECTORS = [
  {expected: '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1', key: 'Hello world!', rounds: undefined, salt: 'saltstring'},
  {
    expected: '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    key: 'Hello world!',
    rounds: 10_000,
    salt: 'saltstringsaltstring',
  },
  {
    expected: '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
    key: 'This is just a test',
    rounds: 5000,
    salt: 'toolongsaltstring',
  },
  {
    expected: '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
    key: 'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    rounds: 1400,
    salt: 'anotherlongsaltstring',
  },
  {
    expected: '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
    key: 'we have a short salt string but not a short password',
    rounds: 77_777,
    salt: 'short',
  },
  {
    expected: '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
    key: 'a short string',
    rounds: 123_456,
    salt: 'asaltof16chars..',
  },
  // Rounds under the minimum are raised to 1000, and written so.
  {
    expected: '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
    key: 'the minimum number is still observed',
    rounds: 10,
    salt: 'roundstoolow',
  },
]

describe('sha512Crypt', () => {
  for (const vector of SPEC_VECTORS) {
    test(`the specification's vector for ${JSON.stringify(vector.key.slice(0, 24))} with salt ${vector.salt}`, () => {
      assert.equal(sha512Crypt(vector.key, {rounds: vector.rounds, salt: vector.salt}), vector.expected)
    })
  }

  test('agrees with openssl passwd -6 on random passwords and salts (UTF-8 and long ones included; openssl reads no empty line)', () => {
    const alphabet = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
    const passwords = ['x', 'pässwörd ✓', 'a'.repeat(200), ...Array.from({length: 8}, () => randomBytes(1 + (randomBytes(1)[0] % 60)).toString('base64'))]
    for (const password of passwords) {
      const salt = Array.from(randomBytes(1 + (randomBytes(1)[0] % 16)), (byte) => alphabet[byte % 64]).join('')
      // The password on stdin: openssl reads it to the end of the line.
      const openssl = spawnSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], {encoding: 'utf8', input: `${password}\n`})
      assert.equal(openssl.status, 0, openssl.stderr)
      assert.equal(sha512Crypt(password, {salt}), openssl.stdout.trim(), `password ${JSON.stringify(password)}, salt ${salt}`)
    }
  })

  test('a fresh salt of 16 characters each time, so one password hashes differently twice', () => {
    const first = sha512Crypt('secret')
    const second = sha512Crypt('secret')
    assert.match(first, /^\$6\$[a-zA-Z0-9./]{16}\$[a-zA-Z0-9./]{86}$/)
    assert.notEqual(first, second)
  })

  test('refuses a salt outside crypt’s alphabet', () => {
    assert.throws(() => sha512Crypt('secret', {salt: 'bad$salt'}), RangeError)
  })
})

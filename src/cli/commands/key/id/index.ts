import {Args} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import type {KeyForm} from '../../../../keys/read-key.js'

interface KeyIdResult {
  file: string
  keyId: string
  bits: number
  form: KeyForm
  accountId?: string
  name?: string
}

export default class KeyId extends BaseCommand {
  static override args = {
    file: Args.string({description: 'the key: PEM (private or public), `snap export-key` output, an account-key assertion, or a GnuPG export; - reads stdin', required: true}),
  }

  static override description = `Prints the key's id as snapd computes it: the SHA3-384 that \`snap keys\` lists, that assertions signed with the key carry in sign-key-sha3-384, and that its account-key carries in public-key-sha3-384. It depends on the RSA numbers only, so a key has the same id in GnuPG, as PEM, and in snapd's encoding.

Reads a PEM private key (PKCS#8 "BEGIN PRIVATE KEY", PKCS#1 "BEGIN RSA PRIVATE KEY") or public key (SPKI "BEGIN PUBLIC KEY", PKCS#1 "BEGIN RSA PUBLIC KEY", or SPKI as DER), \`snap export-key <name>\` output, an account-key or account-key-request assertion (its id is checked against its body, as snapd checks it), or what \`gpg --export\` or \`gpg --export-secret-keys\` prints. The private key is only read, never printed.

Prints the id alone, for scripts; --json adds the size and what the file held. A key under 4096 bits is reported with a warning: snapd does not sign with such a key unless it made it itself.`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> serials.pem',
    'snap known --remote account-key public-key-sha3-384=$(<%= config.bin %> <%= command.id %> serials.pem) > serials.account-key',
    '<%= config.bin %> <%= command.id %> serials.account-key --json',
  ]

  static override summary = "Print a key's snapd id (SHA3-384), from PEM, an account-key or a GnuPG export."

  async run(): Promise<KeyIdResult> {
    const {args} = await this.parse(KeyId)
    const [{MAX_KEY_FILE_BYTES, readPublicKey}, {MIN_SIGNING_KEY_BITS}, {readBoundedFile, readBoundedStdin}, {terminalSafe}] = await Promise.all([
      import('../../../../keys/read-key.js'),
      import('../../../../assertions/keys.js'),
      import('../../../../support/bounded-read.js'),
      import('../../../../support/echo.js'),
    ])
    const file = args.file === '-' ? '<stdin>' : args.file
    const input = args.file === '-' ? readBoundedStdin(MAX_KEY_FILE_BYTES, 'key') : readBoundedFile(args.file, MAX_KEY_FILE_BYTES, {what: 'key'})
    const key = readPublicKey(input, file)
    if (key.bits < MIN_SIGNING_KEY_BITS) {
      const warning = `${file} is a ${key.bits}-bit RSA key: snapd signs with a key it did not make itself only from ${MIN_SIGNING_KEY_BITS} bits`
      process.stderr.write(this.jsonEnabled() ? `${JSON.stringify({warning})}\n` : `warning: ${terminalSafe(warning)}\n`)
    }

    this.log(key.keyId)
    return {accountId: key.accountId, bits: key.bits, file, form: key.form, keyId: key.keyId, name: key.name}
  }
}

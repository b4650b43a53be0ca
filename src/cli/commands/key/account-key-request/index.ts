import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {UserError} from '../../../../errors.js'

interface AccountKeyRequestResult {
  accountId: string
  name: string
  keyId: string
  since: string
  /** The request, when it was not written to a file. */
  assertion?: string
  file?: string
}

/** A PEM RSA 4096 key is about 3.3 KB. */
const MAX_KEY_BYTES = 64 * 1024

export default class KeyAccountKeyRequest extends BaseCommand {
  static override args = {
    key: Args.string({description: 'the PEM private key to register (PKCS#8 or PKCS#1, RSA 4096); - reads stdin', required: true}),
  }

  static override description = `Makes the account-key-request that registers a PEM key with an account, as \`snap export-key --account=<account-id> <name>\` makes it for a key snap holds: account-id, name, public-key-sha3-384, since (now), the public key as its body, signed by the key itself. Sent to the store by someone allowed to manage the account's keys, it registers the key: the store then serves the key's account-key assertion (\`snap known --remote account-key public-key-sha3-384=<key id>\`), which devices check signatures against.

The same request comes from \`snap export-key --account\` through \`key keymgr\` (and so from \`snapcraft register-key\`, which uploads what that command prints); this command needs neither snap nor a key directory, for brands that send the request to the store themselves.

The key's name defaults to the file's name without .pem (serials.pem: "serials"). Prints the request; with --out, writes it (never over a file without --force).`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> serials.pem --account acme-brand > serials.account-key-request',
    '<%= config.bin %> <%= command.id %> keys/brand.pem --account acme-brand --name serials --out serials.account-key-request',
  ]

  static override flags = {
    account: Flags.string({description: 'the id of the account the key is for (`snapcraft whoami` shows it)', helpValue: '<account-id>', required: true}),
    force: Flags.boolean({description: 'replace the --out file if it exists'}),
    name: Flags.string({description: "the key's name in the account (default: the file's name without .pem)", helpValue: '<name>'}),
    out: Flags.string({char: 'o', description: 'write the request to this file instead of printing it', helpValue: '<file>'}),
  }

  static override summary = 'Make the account-key-request that registers a PEM key with an account.'

  async run(): Promise<AccountKeyRequestResult> {
    const {args, flags} = await this.parse(KeyAccountKeyRequest)
    const [{makeAccountKeyRequest}, {KEY_NAME_RULE, keyNameOfFile}, {loadSigningKey}, {readBoundedFile, readBoundedStdin}, {quoteInput, terminalSafe}] = await Promise.all([
      import('../../../../keys/account-key-request.js'),
      import('../../../../keys/names.js'),
      import('../../../../assertions/keys.js'),
      import('../../../../support/bounded-read.js'),
      import('../../../../support/echo.js'),
    ])
    const source = args.key === '-' ? '<stdin>' : args.key
    const key = loadSigningKey(args.key === '-' ? readBoundedStdin(MAX_KEY_BYTES, 'key') : readBoundedFile(args.key, MAX_KEY_BYTES, {what: 'key'}), source)
    const name = flags.name ?? keyNameOfFile(args.key === '-' ? '' : args.key)
    if (name === undefined) {
      throw new UserError('E_ACCOUNT_KEY_REQUEST', `the key's name cannot come from ${args.key === '-' ? 'stdin' : `the file name ${quoteInput(args.key)}`}: ${KEY_NAME_RULE}`, {
        hint: 'give it with --name, e.g. --name serials',
      })
    }

    const request = makeAccountKeyRequest({accountId: flags.account, key, name})
    const result: AccountKeyRequestResult = {accountId: flags.account, keyId: key.keyId, name, since: request.assertion.headers.since as string}
    if (flags.out) {
      const {writePublicKeyFile} = await import('../../../../keys/private-key-file.js')
      writePublicKeyFile(flags.out, request.text, {force: flags.force})
      this.log(`wrote ${terminalSafe(flags.out)}: the request to register key ${key.keyId} as "${name}" of account ${flags.account}`)
      return {...result, file: flags.out}
    }

    if (!this.jsonEnabled()) process.stdout.write(request.text)
    return {...result, assertion: request.text}
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {UserError} from '../../../../errors.js'

/** One signature request: snapd sends 83 bytes. */
const MAX_SIGN_INPUT_BYTES = 4096

export default class KeyKeymgr extends BaseCommand {
  static override args = {
    operation: Args.string({description: 'what snapd asks', options: ['features', 'key-names', 'get-public-key', 'sign'], required: true}),
  }

  static override description = `Speaks the protocol of snapd's external key managers (SNAPD_EXT_KEYMGR, snapd's asserts/extkeypairmgr.go) over a directory of PEM private keys, so that \`snap keys\`, \`snap export-key\`, \`snap export-key --account=<account-id>\` (the account-key-request to register a key), \`snap sign -k <name>\` and what is built on them (snapcraft's key commands run snap's) use the PEM keys \`serve\` signs with, without GnuPG.

The key named NAME is the file NAME.pem in the key directory (SNAP_GADGET_KEYS, or --keys): an unencrypted RSA private key of at least 4096 bits, PKCS#8 or PKCS#1, as \`openssl genpkey\` or \`key import-gnupg\` writes it. NAME is an account-key name as snapd takes it: lower-case letters and digits, single dashes between them.

snapd runs SNAPD_EXT_KEYMGR as one program, with the operation as its arguments. This package installs that program beside snap-gadget: snap-gadget-keymgr (bin/keymgr.js), which is \`snap-gadget key keymgr\` under a name snapd can run. So:

  export SNAPD_EXT_KEYMGR=$(command -v snap-gadget-keymgr)
  export SNAP_GADGET_KEYS=$HOME/brand-keys
  snap keys
  snap export-key --account=<account-id> serials > serials.account-key-request
  snap sign -k serials model.json > model.assert

The operations: features, key-names, get-public-key -f DER -k NAME (the public key, DER), sign -m RSA-PKCS -k NAME (reads the SHA-512 DigestInfo snapd sends, writes the signature). Outputs are snapd's: JSON or raw bytes. A private key is never printed.`

  static override examples = [
    {command: 'SNAPD_EXT_KEYMGR=$(command -v snap-gadget-keymgr) SNAP_GADGET_KEYS=keys snap keys', description: 'snap lists the PEM keys of ./keys (keys/serials.pem is the key "serials")'},
    {command: 'SNAP_GADGET_KEYS=keys <%= config.bin %> <%= command.id %> key-names', description: 'What snap asks first: the names of the keys'},
  ]

  static override flags = {
    format: Flags.option({char: 'f', description: 'get-public-key: the format of the public key', options: ['DER'] as const})(),
    key: Flags.string({char: 'k', description: 'get-public-key, sign: the name of the key (the file NAME.pem)', helpValue: 'NAME'}),
    keys: Flags.string({description: 'the directory of PEM keys', env: 'SNAP_GADGET_KEYS', helpValue: 'DIR'}),
    mechanism: Flags.option({char: 'm', description: 'sign: the signing mechanism', options: ['RSA-PKCS'] as const})(),
  }

  static override summary = "Act as snapd's external key manager (SNAPD_EXT_KEYMGR) over a directory of PEM keys."

  async run(): Promise<void> {
    const {args, flags} = await this.parse(KeyKeymgr)
    const keyManager = await import('../../../../keys/key-manager.js')
    if (args.operation === 'features') {
      process.stdout.write(JSON.stringify(keyManager.KEY_MANAGER_FEATURES))
      return
    }

    if (!flags.keys) {
      throw new UserError('E_KEY_DIRECTORY', 'no key directory: SNAP_GADGET_KEYS is not set', {hint: 'export SNAP_GADGET_KEYS=<the directory of PEM keys, each NAME.pem> (or pass --keys)'})
    }

    switch (args.operation) {
      case 'key-names': {
        const {names, skipped} = keyManager.listKeyNames(flags.keys)
        const {terminalSafe} = await import('../../../../support/echo.js')
        for (const {file, reason} of skipped) process.stderr.write(`warning: ${terminalSafe(file)} left out: ${terminalSafe(reason)}\n`)
        process.stdout.write(JSON.stringify({'key-names': names}))
        return
      }

      case 'get-public-key': {
        required(flags.format, '-f DER', args.operation)
        process.stdout.write(keyManager.publicKeyDer(flags.keys, required(flags.key, '-k NAME', args.operation)))
        return
      }

      case 'sign': {
        required(flags.mechanism, '-m RSA-PKCS', args.operation)
        const name = required(flags.key, '-k NAME', args.operation)
        const {readBoundedStdin} = await import('../../../../support/bounded-read.js')
        process.stdout.write(keyManager.signDigestInfo(flags.keys, name, readBoundedStdin(MAX_SIGN_INPUT_BYTES, 'DigestInfo')))
        return
      }
    }
  }
}

function required<T>(value: T | undefined, flag: string, operation: string): T {
  if (value === undefined) throw new UserError('E_KEYMGR_USAGE', `${operation} needs ${flag}`, {hint: `snapd runs: ${operation === 'sign' ? 'sign -m RSA-PKCS -k NAME' : 'get-public-key -f DER -k NAME'}`})
  return value
}

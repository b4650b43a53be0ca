import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'

interface ImportGnupgResult {
  file: string
  name: string
  fingerprint: string
  keyId: string
  bits: number
}

export default class KeyImportGnupg extends BaseCommand {
  static override args = {
    export: Args.string({description: 'what `gpg --export-secret-keys` printed (binary or --armor); - reads stdin', required: true}),
  }

  static override description = `Reads what \`gpg --homedir ~/.snap/gnupg --export-secret-keys <name>\` prints, the key \`snap create-key <name>\` made, and writes it as the PEM private key (PKCS#8) that \`serve\` signs with and \`key keymgr\` serves to snap. The key id stays the same: snapd's id depends on the RSA numbers only.

The key must be unprotected (\`snap create-key\` with an empty passphrase): a passphrase-protected key is refused with the commands that make an unprotected copy and import it, leaving the key in GnuPG as it is. snap-gadget never asks for passphrases. Also refused, each saying why: a public key only (\`gpg --export\`), a stub without the secret (a smartcard, \`--export-secret-subkeys\`), a key that is not RSA or is under 4096 bits, an export of several keys.

The PEM file is written with mode 0600 and never over an existing file without --force. The key itself is never printed.`

  static override enableJsonFlag = true

  static override examples = [
    'gpg --homedir ~/.snap/gnupg --export-secret-keys serials | <%= config.bin %> <%= command.id %> - --out serials.pem',
    '<%= config.bin %> <%= command.id %> serials.asc --out keys/serials.pem',
  ]

  static override flags = {
    force: Flags.boolean({description: 'replace the --out file if it exists'}),
    out: Flags.string({char: 'o', description: 'the PEM file to write (mode 0600)', helpValue: '<file>', required: true}),
  }

  static override summary = 'Turn a GnuPG key (snap create-key) into a PEM private key, key id unchanged.'

  async run(): Promise<ImportGnupgResult> {
    const {args, flags} = await this.parse(KeyImportGnupg)
    const [{importGnupgKey, MAX_GNUPG_EXPORT_BYTES}, {writePrivateKeyFile}, {readBoundedFile, readBoundedStdin}, {quoteInput, terminalSafe}] = await Promise.all([
      import('../../../../keys/gnupg.js'),
      import('../../../../keys/private-key-file.js'),
      import('../../../../support/bounded-read.js'),
      import('../../../../support/echo.js'),
    ])
    const source = args.export === '-' ? '<stdin>' : args.export
    const input = args.export === '-' ? readBoundedStdin(MAX_GNUPG_EXPORT_BYTES, 'GnuPG export') : readBoundedFile(args.export, MAX_GNUPG_EXPORT_BYTES, {what: 'GnuPG export'})
    const imported = importGnupgKey(input, {gnupgHome: process.env.SNAP_GNUPG_HOME, pemFile: flags.out, source})
    writePrivateKeyFile(flags.out, imported.pem, {force: flags.force})
    const result = {bits: imported.signingKey.bits, file: flags.out, fingerprint: imported.fingerprint, keyId: imported.signingKey.keyId, name: imported.name}
    this.log(`wrote ${terminalSafe(flags.out)} (mode 0600): the GnuPG key ${quoteInput(imported.name)}, RSA ${result.bits}, key id ${result.keyId}`)
    return result
  }
}

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {SystemUserResult} from './present.js'

export default class SystemUser extends BaseCommand {
  static override description = `Makes a system-user assertion signed with a brand's PEM key (the key serve signs with, or a key of an account the model lists in system-user-authority), for factory and support access: a device creates the user from it when it finds it as auto-import.assert at the root of a USB stick, or with \`snap create-user --known\`.

The file written holds the signer's account and account-key assertions (--chain; a device adds an assertion only when it knows the key that signed it), then the system-user. The password is hashed here (SHA-512 crypt, as snapd takes it) and never read from the command line: --ask-password asks on the terminal, twice; --password-file reads the first line of a file (- for standard input).

Checked before signing, as snapd checks on the device: the username (snapd 2.62+ rules), the email, a password hash or an ssh key, serials with exactly one model, the validity (without --model at most 365 days), the chain belongs to the signing key and is valid now, and a model given as an assertion is the brand's and lets the signer make users. Printed after: the features some snapd releases do not honour (serials need 2.46, serial-bound users imported before registration need 2.64, --expire-user 2.58), and what only the device can check (its clock, whether a user is already managed).

Valid from now for ${'72'} hours unless --since, --until or --valid-for say otherwise. Exit 0 when written, 2 for a refusal.`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> --key keys/brand.pem --chain assertions/brand.account --chain assertions/brand.account-key --model-assertion model.assert --email factory@acme.example --username factory --ask-password --output auto-import.assert',
    '<%= config.bin %> <%= command.id %> --key brand.pem --brand acme --model acme-pc --serial A1B2C3 --email support@acme.example --username support --ssh-key ~/.ssh/id_ed25519.pub --valid-for 8h --output auto-import.assert',
  ]

  static override flags = {
    'ask-password': Flags.boolean({description: 'ask for the password on the terminal (twice, not echoed)', exclusive: ['password-file']}),
    authority: Flags.string({description: "the account that signs, when not the brand (it must be in the model's system-user-authority); default: the account of --chain's account-key"}),
    brand: Flags.string({description: "the brand the user is for; default: the model assertion's brand, else the signer's account"}),
    chain: Flags.string({description: 'an account or account-key assertion file of the signer, bundled ahead of the system-user (repeat, or one file holding both)', multiple: true}),
    email: Flags.string({description: "the user's email: with the brand, what identifies the system-user", required: true}),
    'expire-user': Flags.boolean({description: 'remove the user when the assertion expires (user-presence: until-expiration, format 2; snapd 2.58+)'}),
    force: Flags.boolean({description: 'with --output: replace the file when it exists'}),
    'force-password-change': Flags.boolean({description: 'make the user change the password at first login'}),
    key: Flags.string({description: 'the PEM private key that signs (RSA 4096, as serve takes it)', required: true}),
    model: Flags.string({description: 'a model name the user is for (repeat); required with --serial', multiple: true}),
    'model-assertion': Flags.string({description: 'a model assertion file: its name is added to the models, its brand and system-user-authority checked (repeat)', multiple: true}),
    name: Flags.string({description: "the user's full name"}),
    output: Flags.string({char: 'o', description: 'write the assertions here (auto-import.assert on a USB stick) instead of standard output; never over a file without --force', helpValue: 'FILE'}),
    'password-file': Flags.string({description: 'read the password from the first line of this file; - reads standard input', helpValue: 'FILE'}),
    revision: Flags.integer({description: "the assertion's revision: a device holding this (brand, email) at a revision as high keeps what it has", min: 0}),
    serial: Flags.string({description: 'bind the user to this device serial (repeat; needs exactly one model; format 1, snapd 2.46+)', multiple: true}),
    series: Flags.string({description: 'the series the user is for (repeat); default: any', multiple: true}),
    since: Flags.string({description: 'valid from (RFC 3339); default: now'}),
    'ssh-key': Flags.string({description: 'an OpenSSH public key file (.pub, or authorized_keys lines) for the user (repeat)', multiple: true}),
    until: Flags.string({description: 'valid until (RFC 3339)', exclusive: ['valid-for']}),
    username: Flags.string({description: 'the login name', required: true}),
    'valid-for': Flags.string({description: 'how long it is valid from since: 30m, 8h, 3d (default 72h)'}),
  }

  static override summary = 'Make a brand-signed system-user assertion (auto-import.assert) for factory or support access.'

  async run(): Promise<SystemUserResult> {
    const {flags} = await this.parse(SystemUser)
    const [{issueSystemUserFromFiles}, {readPassword, readSshKeys, parseTime, parseDuration}, {writeNewFile}, {presentSystemUser}] = await Promise.all([
      import('../../../identity/system-user.js'),
      import('./inputs.js'),
      import('../../../support/output-file.js'),
      import('./present.js'),
    ])
    const password = await readPassword(flags)
    const sshKeys = readSshKeys(flags['ssh-key'] ?? [])
    const since = flags.since === undefined ? undefined : parseTime(flags.since, '--since')
    const until = flags.until === undefined ? (flags['valid-for'] === undefined ? undefined : new Date((since ?? new Date()).getTime() + parseDuration(flags['valid-for']))) : parseTime(flags.until, '--until')
    const issued = issueSystemUserFromFiles(
      {chainFiles: flags.chain, keyFile: flags.key, modelFiles: flags['model-assertion']},
      {
        authorityId: flags.authority,
        brandId: flags.brand,
        email: flags.email,
        expireUser: flags['expire-user'],
        forcePasswordChange: flags['force-password-change'],
        models: flags.model,
        name: flags.name,
        password,
        revision: flags.revision,
        serials: flags.serial,
        series: flags.series,
        since,
        sshKeys,
        until,
        username: flags.username,
      },
    )
    if (flags.output) writeNewFile(flags.output, issued.bundle, {force: flags.force})
    else if (!this.jsonEnabled()) process.stdout.write(issued.bundle)
    const result: SystemUserResult = {
      assertions: issued.bundled,
      authorityId: issued.view.authorityId,
      brandId: issued.view.brandId,
      email: issued.view.email,
      features: issued.features,
      format: issued.view.format,
      keyId: issued.view.signKeyId,
      models: issued.view.models,
      notes: issued.notes,
      ...(flags.output ? {output: flags.output} : {}),
      serials: issued.view.serials,
      since: issued.view.since,
      until: issued.view.until,
      username: issued.view.username,
    }
    if (!this.jsonEnabled()) (flags.output ? process.stdout : process.stderr).write(presentSystemUser(result))
    return result
  }
}

import {existsSync} from 'node:fs'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {UserError} from '../../../../errors.js'

interface HardwareIdentitySignResult {
  issuer: string
  keyId: string
  /** The output file, when one was written. */
  file?: string
  signed: number
  kept: number
  repeated: number
  identities: {hardwareId: string; digest: string; keyType: string; status: 'kept' | 'signed'; source: string}[]
  /** The assertions, when they were not written to a file. */
  assertions?: string
}

/** A PEM RSA 4096 key is about 3.3 KB. */
const MAX_KEY_BYTES = 64 * 1024

export default class HardwareIdentitySign extends BaseCommand {
  static override args = {
    exports: Args.string({description: "the stations' exports: .json (one device), .jsonl (one a line) or .csv files, or directories of them", required: true}),
  }

  static override description = `Makes the hardware-identity assertions that certify the devices' hardware identity keys, from what the factory stations export of each device (hardware-id, hardware-id-key, hardware-id-key-sha3-384, key-type, public-key-pem; schemas/hardware-identity-export.schema.json), signed by the issuer's registered account-key (a PEM RSA 4096 key, as serve takes it). Each assertion is what snapd's assembler checks: authority-id = issuer-id, manufacturer, hardware-name (snapd's model-name rule), hardware-id, the key on one line and its SHA3-384 over that line. serve import takes them.

Every row is checked before anything is signed: the digest is the key's, the key type is the key's and one snapd verifies a request-id signature with (ECDSA P-256 or P-384, RSA 2048, 3072 or 4096), the PEM is the same key. A key exported under two hardware ids, or a hardware id exported with two keys, is refused.

Idempotent: a device exported twice is certified once, and with --out an existing file of earlier runs for the same issuer is extended: the identities it holds are kept as they are and only new devices are signed (--force writes it afresh). Without --out the assertions are printed.`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> exports/ --issuer acme --key keys/identities.pem --manufacturer "Acme Devices Ltd." --hardware-name acme-gw-r2 --out identities.assert',
    '<%= config.bin %> <%= command.id %> station-1.jsonl station-2.csv --issuer acme --key keys/identities.pem --manufacturer Acme --hardware-name acme-gw --json > report.json',
  ]

  static override flags = {
    force: Flags.boolean({description: 'write --out afresh instead of extending it'}),
    'hardware-name': Flags.string({description: "the hardware's model designation, for rows without a hardware-name (letters, digits, single dashes)", helpValue: '<name>'}),
    issuer: Flags.string({description: 'the account that certifies the keys and whose key signs (authority-id = issuer-id): the brand, or a manufacturer it trusts', helpValue: '<account-id>', required: true}),
    key: Flags.string({description: "the issuer's registered account-key: a PEM RSA 4096 private key", helpValue: '<key.pem>', required: true}),
    manufacturer: Flags.string({description: "the device manufacturer's name, for rows without a manufacturer", helpValue: '<text>'}),
    out: Flags.string({char: 'o', description: 'write the assertions to this file (extended if it holds earlier runs) instead of printing them', helpValue: '<file>'}),
  }

  static override strict = false

  static override summary = "Sign hardware-identity assertions for the devices' hardware keys, from the stations' exports."

  async run(): Promise<HardwareIdentitySignResult> {
    const {argv, flags} = await this.parse(HardwareIdentitySign)
    const [{readStationExports, MAX_EXPORT_FILE_BYTES}, {certifyHardwareIdentities}, {loadSigningKey}, {readBoundedFile}, {terminalSafe}] = await Promise.all([
      import('../../../../identity/station-export.js'),
      import('../../../../identity/certify.js'),
      import('../../../../assertions/keys.js'),
      import('../../../../support/bounded-read.js'),
      import('../../../../support/echo.js'),
    ])
    const paths = argv as string[]
    const key = loadSigningKey(readBoundedFile(flags.key, MAX_KEY_BYTES, {what: 'key'}), flags.key)
    const read = readStationExports(paths)
    const extend = flags.out !== undefined && !flags.force && existsSync(flags.out)
    const earlier = extend ? {file: flags.out!, text: readBoundedFile(flags.out!, MAX_EXPORT_FILE_BYTES, {what: 'hardware-identity'}).toString('utf8')} : undefined
    const certification = certifyHardwareIdentities(read.rows, {earlier, hardwareName: flags['hardware-name'], issuerId: flags.issuer, key, manufacturer: flags.manufacturer})
    const signed = certification.identities.filter((i) => i.status === 'signed').length
    const kept = certification.identities.length - signed
    const result: HardwareIdentitySignResult = {
      identities: certification.identities.map(({digest, hardwareId, keyType, source, status}) => ({digest, hardwareId, keyType, source, status})),
      issuer: certification.issuerId,
      keyId: certification.keyId,
      kept,
      repeated: certification.repeated,
      signed,
    }
    const said = [`${signed} ${signed === 1 ? 'identity' : 'identities'} signed by ${flags.issuer} (key ${key.keyId})`]
    if (kept > 0) said.push(`${kept} kept from ${terminalSafe(flags.out!)}`)
    if (certification.repeated > 0) said.push(`${certification.repeated} repeated ${certification.repeated === 1 ? 'row' : 'rows'} left out`)
    if (read.skipped.length > 0) said.push(`${read.skipped.length} other ${read.skipped.length === 1 ? 'file' : 'files'} skipped`)

    if (flags.out !== undefined) {
      if (signed === 0 && extend) {
        this.log(`${terminalSafe(flags.out)} already certifies every device: nothing to sign (${said.slice(1).join(', ')})`)
        return {...result, file: flags.out}
      }

      if (certification.identities.length === 0) throw new UserError('E_HARDWARE_EXPORT', 'the exports hold no device', {hint: 'give the files the stations wrote'})
      const {writePublicKeyFile} = await import('../../../../keys/private-key-file.js')
      writePublicKeyFile(flags.out, certification.text, {force: extend || flags.force})
      this.log(`wrote ${terminalSafe(flags.out)}: ${said.join(', ')}`)
      return {...result, file: flags.out}
    }

    if (!this.jsonEnabled()) {
      process.stdout.write(certification.text)
      process.stderr.write(`${said.join(', ')}\n`)
    }

    return {...result, assertions: certification.text}
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {UserError} from '../../../../errors.js'
import type {IdentityCheck, IdentityDocumentReport} from '../../../../identity/document.js'

export default class IdentityVerify extends BaseCommand {
  static override args = {
    file: Args.string({description: 'serial assertion, serial-request, or registration body (YAML); - reads stdin', required: true}),
  }

  static override description = `Reads a serial assertion (or a serial-request, or the registration body YAML the prepare-device hook set), finds the identity fields in its body (identity-scheme, identity-key, identity-signature) and checks the device's proof-of-possession signature over the body fields. For an assertion it also checks that the body serial is the assertion serial, and the assertion's own signature: a serial-request against its device-key, a serial against --brand-key when given (the brand's key as a PEM file, snap export-key output, its account-key, or a chain file that holds it).

Exits 1 when any check fails.`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> serial.assert',
    '<%= config.bin %> <%= command.id %> serial.assert --brand-key serials.pem',
    '<%= config.bin %> <%= command.id %> serial.assert --brand-key chain.assert',
    'snap model --serial --assertion | <%= config.bin %> <%= command.id %> -',
    '<%= config.bin %> <%= command.id %> body.yaml --json',
  ]

  static override flags = {
    as: Flags.option({
      default: 'auto',
      description: 'how to read the input: an assertion stream, a registration body, or recognise it',
      options: ['auto', 'assertion', 'body'] as const,
    })(),
    'brand-key': Flags.string({
      description:
        "the brand's key that signed the serial assertion, to check its signature too: a PEM key (public, or the private key serve signs with), `snap export-key` output, an account-key assertion, or a chain file (the account-key whose id the serial names is used)",
      helpValue: '<file>',
    }),
  }

  static override summary = 'Check the device identity signature in a serial assertion or registration body.'

  async run(): Promise<IdentityDocumentReport> {
    const {args, flags} = await this.parse(IdentityVerify)
    const {verifyIdentityDocument} = await import('../../../../identity/document.js')
    const file = args.file === '-' ? '<stdin>' : args.file
    const input = await readInput(args.file, 'assertion')
    const brandKey = flags['brand-key'] === undefined ? undefined : await readInput(flags['brand-key'], 'key')
    const brandKeyFile = flags['brand-key'] === '-' ? '<stdin>' : flags['brand-key']
    const report = verifyIdentityDocument(input, {as: flags.as, brandKey, brandKeyFile, file})

    const {terminalSafe} = await import('../../../../support/echo.js')
    // The report quotes the assertion's headers: nothing in them may drive the terminal.
    this.log(terminalSafe(renderReport(report)))
    if (!report.valid) {
      const failed = report.checks.filter((c) => c.status === 'failed')
      throw new UserError('E_IDENTITY_INVALID', `identity verification failed: ${failed.map((c) => c.message).join('; ')}`, {
        details: report,
        file,
        hint: failureHint(report),
        kind: 'failed',
      })
    }

    return report
  }
}

/** Assertions and registration bodies are a few KB; an account-key assertion stays far below this. */
const MAX_IDENTITY_INPUT_BYTES = 1024 * 1024

async function readInput(path: string, what: string): Promise<Buffer> {
  const {readBoundedFile, readBoundedStdin} = await import('../../../../support/bounded-read.js')
  return path === '-' ? readBoundedStdin(MAX_IDENTITY_INPUT_BYTES, what) : readBoundedFile(path, MAX_IDENTITY_INPUT_BYTES, {what})
}

/** The fix for what failed: a document without identity fields was never signed; one with them was altered or signed by another key. */
function failureHint(report: IdentityDocumentReport): string {
  const failure = report.identity.failure
  const partial = failure?.code === 'E_IDENTITY_MISSING' && !/no identity fields/.test(failure.message)
  if (partial) return 'some identity fields are missing: a body the device signed carries all three (identity-scheme, identity-key, identity-signature), so this one was cut after signing'
  if (failure?.code === 'E_IDENTITY_MISSING' && /no identity fields/.test(failure.message)) {
    return 'the identity fields are missing: the device did not sign this body (its prepare-device hook ran without an identity, or the body was written by hand); nothing here was tampered with, there is simply nothing to verify'
  }

  return 'a body changed after the device signed it, or signed by another key, does not prove the device identity'
}

const marks: Record<IdentityCheck['status'], string> = {failed: '✗', ok: '✓', skipped: '-'}

function renderReport(report: IdentityDocumentReport): string {
  const what = report.kind === 'registration-body' ? 'registration body' : `${report.kind} assertion`
  const lines = [`${report.valid ? 'identity verified' : 'identity NOT verified'}: ${what}${report.file ? ` ${report.file}` : ''}`]
  if (report.assertion) {
    const {brandId, model, serial} = report.assertion
    lines.push(`  brand ${brandId ?? '?'}, model ${model ?? '?'}${serial === undefined ? '' : `, serial ${serial}`}`)
  }

  if (report.identity.publicKey) lines.push(`  identity key: ${report.identity.publicKey} (ed25519, ${report.identity.scheme ?? 'unknown scheme'})`)
  if (report.identity.signedFields.length > 0) lines.push(`  signed fields: ${report.identity.signedFields.join(', ')}`)
  for (const check of report.checks) lines.push(`  ${marks[check.status]} ${check.name}: ${check.message}`)
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`)
  return lines.join('\n')
}

/**
 * The signing log exported: JSON lines, or CSV (RFC 4180: every field quoted, quotes doubled, the
 * assertion's newlines kept inside its field). A cell a spreadsheet would run as a formula (=, +,
 * -, @, a tab or a carriage return first) gets a leading quote, as OWASP advises for CSV exports.
 */
import type {SigningLogEntry} from '../../../../service/index.js'
import {inertJson} from '../../../../support/echo.js'

const COLUMNS = ['signed', 'brand', 'model', 'serial', 'revision', 'device_key_sha3_384', 'hardware_id', 'hardware_issuer', 'original_brand', 'original_model', 'original_serial', 'assertion'] as const

export function jsonlRow(entry: SigningLogEntry): string {
  return `${inertJson({signed: entry.signed, brand: entry.brand, model: entry.model, serial: entry.serial, revision: entry.revision, deviceKeyId: entry.deviceKeyId, hardwareId: entry.hardwareId ?? null, hardwareIssuer: entry.hardwareIssuer ?? null, remodelledFrom: entry.remodelledFrom ?? null, assertion: entry.assertion ?? null})}\n`
}

export function csvHeader(): string {
  return `${COLUMNS.join(',')}\r\n`
}

export function csvRow(entry: SigningLogEntry): string {
  const cells = [
    entry.signed,
    entry.brand,
    entry.model,
    entry.serial,
    String(entry.revision),
    entry.deviceKeyId,
    entry.hardwareId ?? '',
    entry.hardwareIssuer ?? '',
    entry.remodelledFrom?.brand ?? '',
    entry.remodelledFrom?.model ?? '',
    entry.remodelledFrom?.serial ?? '',
    entry.assertion ?? '',
  ]
  return `${cells.map((cell) => csvField(cell)).join(',')}\r\n`
}

function csvField(value: string): string {
  const inert = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return `"${inert.replaceAll('"', '""')}"`
}

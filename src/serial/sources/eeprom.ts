/**
 * `eeprom`: identity bytes in a board EEPROM (at24 `eeprom` file or an nvmem provider), at an
 * offset, as ASCII or hex. Its presets for known layouts are `beaglebone-eeprom` and `onie-tlv`.
 * at24 files are root-only unless flagged otherwise, and I2C is slow: only the bytes needed are read.
 */
import {errnoOf, readingFromError} from './context.js'
import {defineSource} from './definition.js'
import {expandAll} from '../glob.js'
import type {SerialFs, SourceReading} from './source.js'
import {found, unavailable} from './source.js'

const PLUGS = 'hardware-observe, and run as root (EEPROM files are usually root-only)'

/**
 * Tries each path matching `patterns` in order. `readOne` returns a reading, or `undefined` to
 * say "not the chip we want" (another device on the bus) and move on.
 */
export async function readCandidates(fs: SerialFs, patterns: readonly string[], readOne: (path: string) => Promise<SourceReading | undefined>): Promise<SourceReading> {
  const paths = await expandAll(fs, patterns)
  const skipped: string[] = []
  for (const path of paths) {
    try {
      const reading = await readOne(path)
      if (reading) return reading
      skipped.push(path)
    } catch (error) {
      if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') continue
      return readingFromError(error, path, PLUGS)
    }
  }

  if (skipped.length > 0) return unavailable('absent', `no matching EEPROM content in ${skipped.join(', ')}`, skipped[0])
  return unavailable('absent', `no EEPROM at ${patterns.join(', ')}`, patterns[0])
}

interface EepromOptions {
  path: readonly string[]
  offset: number
  length: number
  encoding: 'ascii' | 'hex'
}

export const eeprom = defineSource<EepromOptions>({
  create({encoding, length, offset, path}) {
    return {
      description: `${length} bytes at offset ${offset} of ${path.join(' or ')} (${encoding})`,
      id: 'eeprom',
      plugs: ['hardware-observe'],
      read: (context) =>
        readCandidates(context.fs, path, async (file) => {
          const bytes = await context.fs.readBytes(file, offset, length)
          if (bytes.length < length) return unavailable('invalid', `truncated: read ${bytes.length} of ${length} bytes at offset ${offset}`, file, bytes.toString('hex'))
          if (bytes.every((b) => b === 0xff) || bytes.every((b) => b === 0)) {
            return unavailable('invalid', `unprogrammed: all 0x${bytes[0] === 0 ? '00' : 'FF'}`, file, bytes.toString('hex'))
          }

          if (encoding === 'hex') return found(bytes.toString('hex'), file, 'hex')
          const text = bytes.toString('latin1').replace(/^[\0\u00FF]+|[\0\u00FF]+$/g, '')
          if (!/^[\u0020-\u007E]*$/.test(text)) return unavailable('invalid', 'not ASCII text (use encoding: hex)', file, bytes.toString('hex'))
          return found(text, file, 'text')
        }),
    }
  },
  id: 'eeprom',
  options: {
    encoding: {default: 'ascii', doc: 'ascii (text padded with 0x00/0xFF) or hex (binary)', enum: ['ascii', 'hex'], type: 'string'},
    length: {doc: 'how many bytes to read', max: 4096, min: 1, required: true, type: 'integer'},
    offset: {default: 0, doc: 'byte offset of the field', max: 1 << 20, min: 0, type: 'integer'},
    path: {doc: 'the EEPROM file(s), globs allowed, e.g. /sys/bus/i2c/devices/0-0050/eeprom', required: true, type: 'strings'},
  },
  plugs: ['hardware-observe'],
  primary: 'path',
  summary: 'bytes of a sysfs EEPROM or nvmem file at an offset, as ASCII or hex',
})

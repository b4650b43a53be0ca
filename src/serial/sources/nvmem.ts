/**
 * `nvmem`: fuse or OTP words from an nvmem provider, as hex: i.MX OCOTP (`imx-ocotp0`, UID in
 * words 1–2, i.MX8MP 2–3), Rockchip efuse/OTP cpu-id, Allwinner SID. Words are little-endian u32
 * in the file and are printed as numbers, so the result does not depend on the file's byte order
 * (sunxi-sid switched from big- to little-endian words around Linux 5.3).
 */
import {errnoOf, readingFromError} from './context.js'
import {defineSource} from './definition.js'
import {expandAll, expandGlob} from '../glob.js'
import {configError} from '../config/options.js'
import type {SourceContext} from './source.js'
import {found, unavailable} from './source.js'

interface NvmemOptions {
  device: readonly string[]
  /** A named cell (Linux >= 6.8 exposes `cells/<name>@<offset>,<bit>`). */
  cell?: string
  offset: number
  length?: number
  /** Word indices (4 bytes each, from `offset`), printed in this order. */
  words?: readonly number[]
  wordOrder: 'be' | 'le'
  /** Kernel release before which the provider gave big-endian words (sunxi-sid: "5.3"). */
  bigEndianBefore?: string
}

const NVMEM = '/sys/bus/nvmem/devices'

export const nvmem = defineSource<NvmemOptions>({
  create(options, {place, path}) {
    const {bigEndianBefore, cell, device, length, offset, wordOrder, words} = options
    if ([cell, length, words].filter((x) => x !== undefined).length !== 1) {
      throw configError(place, path, 'nvmem needs exactly one of "cell", "length" or "words"', 'e.g. words: [2, 1] for the i.MX UID, or length: 16 for a whole SID')
    }

    const what = cell ? `cell ${cell}` : words ? `words ${words.join(', ')}` : `${length} bytes at ${offset}`
    return {
      description: `${what} of nvmem ${device.join(' or ')}, as hex`,
      id: 'nvmem',
      plugs: ['hardware-observe'],
      async read(context) {
        const devices = await expandAll(
          context.fs,
          device.map((d) => `${NVMEM}/${d}`),
        )
        let dir: string | undefined
        for (const candidate of devices) {
          if (
            await context.fs.stat(candidate).then(
              () => true,
              () => false,
            )
          ) {
            dir = candidate
            break
          }
        }

        if (!dir) return unavailable('absent', `no nvmem device ${device.join(' or ')} under ${NVMEM}`, `${NVMEM}/${device[0]}`)
        if (cell) {
          const files = [...(await expandGlob(context.fs, `${dir}/cells/${cell}@*`)), `${dir}/cells/${cell}`]
          for (const file of files) {
            try {
              return found((await context.fs.readFile(file)).toString('hex'), file, 'hex')
            } catch (error) {
              if (errnoOf(error) !== 'ENOENT') return readingFromError(error, file)
            }
          }

          return unavailable('absent', `${dir} has no cell ${cell} (cells appear in sysfs from Linux 6.8)`, `${dir}/cells`)
        }

        const file = `${dir}/nvmem`
        const size = words ? (Math.max(...words) + 1) * 4 : length!
        let bytes: Buffer
        try {
          bytes = await context.fs.readBytes(file, offset, size)
        } catch (error) {
          return readingFromError(error, file)
        }

        if (bytes.length < size) return unavailable('invalid', `truncated: read ${bytes.length} of ${size} bytes at offset ${offset}`, file, bytes.toString('hex'))
        if (!words) return found(bytes.toString('hex'), file, 'hex')
        const order = bigEndianBefore && (await kernelBefore(context, bigEndianBefore)) ? 'be' : wordOrder
        const hex = words.map((w) => (order === 'le' ? bytes.readUInt32LE(w * 4) : bytes.readUInt32BE(w * 4)).toString(16).padStart(8, '0')).join('')
        return found(hex, file, 'hex')
      },
    }
  },
  id: 'nvmem',
  options: {
    bigEndianBefore: {doc: 'kernel release before which the words were big-endian, e.g. "5.3" for sunxi-sid', pattern: /^\d+(\.\d+)*$/, type: 'string'},
    cell: {doc: 'a named nvmem cell, e.g. cpu-id', pattern: /^[\w,.-]+$/, type: 'string'},
    device: {doc: 'nvmem device name(s) or globs, e.g. imx-ocotp0 or rockchip-otp0', required: true, type: 'strings'},
    length: {doc: 'bytes to read from offset', max: 4096, min: 1, type: 'integer'},
    offset: {default: 0, doc: 'byte offset in the nvmem file', max: 1 << 20, min: 0, type: 'integer'},
    wordOrder: {default: 'le', doc: 'byte order of the words in the file: le or be', enum: ['le', 'be'], type: 'string'},
    words: {doc: 'u32 word indices to print, in order, e.g. [2, 1] (UID high, low)', max: 1023, min: 0, type: 'integers'},
  },
  plugs: ['hardware-observe'],
  primary: 'device',
  summary: 'fuse/OTP words or bytes of an nvmem provider (imx-ocotp0, rockchip-otp0, sunxi-sid0), as hex',
})

/** Whether the running kernel (of the root) is older than `version`. Unknown counts as new. */
async function kernelBefore(context: SourceContext, version: string): Promise<boolean> {
  let release: string
  try {
    release = (await context.fs.readFile('/proc/sys/kernel/osrelease')).toString('latin1')
  } catch {
    return false
  }

  const have = (release.match(/^\d+(\.\d+)*/)?.[0] ?? '').split('.').map(Number)
  const want = version.split('.').map(Number)
  for (let i = 0; i < want.length; i++) {
    const h = have[i] ?? 0
    if (h !== want[i]) return h < want[i]
  }

  return false
}

/**
 * What a serial may be as text, wherever one is proposed or accepted: on the device (a value read
 * from hardware) and in the device service (what a device proposes). snapd takes any non-empty
 * string without "/" (a primary-key header), and has no length limit of its own; the Serial Vault
 * stores serials in varchar(200). A serial ends up in logs, terminals, file names and factory
 * databases, so characters that a terminal acts on or that reorder or hide text are refused too.
 */

/** The Serial Vault's column width: a gadget made for it keeps working. */
export const MAX_SERIAL_LENGTH = 200

/**
 * Characters no serial may hold: controls (C0, DEL, C1), format characters (bidi overrides and
 * isolates, zero-width characters, the byte-order mark) and line and paragraph separators.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u

/** Where `text` holds a character no serial may hold, said without quoting it; undefined when it holds none. */
export function unprintableIn(text: string): string | undefined {
  const unprintable = UNPRINTABLE.exec(text)
  if (!unprintable) return undefined
  const code = unprintable[0].codePointAt(0)!
  return `the control or formatting character U+${code.toString(16).toUpperCase().padStart(4, '0')} at character ${[...text.slice(0, unprintable.index)].length + 1}`
}

/** Why `serial` cannot be a serial, in a sentence that quotes nothing raw; undefined when it can. */
export function serialTextProblem(serial: string, maxLength = MAX_SERIAL_LENGTH): string | undefined {
  if (serial === '') return 'it is empty'
  const length = [...serial].length
  if (length > maxLength) return `it is ${length} characters long, more than ${maxLength}`
  const unprintable = unprintableIn(serial)
  if (unprintable) return `it holds ${unprintable}`

  if (serial.includes('/')) return 'it contains "/", which snapd refuses in a serial'
  if (serial.trim() !== serial) return 'it starts or ends with a space'
  return undefined
}

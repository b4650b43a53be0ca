/** What a format reader returns: the parsed fields, or why the bytes are not that format. */
export type Parsed<T> = {ok: false; reason: string; truncated?: boolean} | ({ok: true} & T)

/** A fixed-width ASCII field, its padding (NUL, 0xFF, spaces) stripped from the end. */
export const asciiField = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString('latin1')
    .replace(/[\0\u00FF ]+$/, '')

/** Whether a field read from an EEPROM is printable ASCII only: anything else means corrupted bytes. */
export const isPrintableAscii = (text: string): boolean => /^[\u0020-\u007E]*$/.test(text)

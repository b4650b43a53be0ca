/** A JSON Pointer (RFC 6901, as ajv reports `instancePath`) as a path of keys and indexes. */
export function pointerToPath(pointer: string): Array<number | string> {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part))
}

/** /proc/cpuinfo as kernels print it. Pure functions over text, shared by the sources. */

/**
 * The value of the `Serial` line, `''` when the line is there but empty, `undefined` without one.
 * Kernels print `Serial\t\t: …` (tabs), old vendor kernels align with spaces, copies carry CRLF;
 * the value never continues onto the next line, even when it is empty.
 */
export function cpuinfoSerialLine(text: string): string | undefined {
  const match = /^Serial[ \t]*:[ \t]*([^\r\n]*)/m.exec(text)
  if (!match) return undefined
  return match[1]
    .replace(/\0/g, '')
    .trim()
    .split(/[ \t]+/)[0]
}

/**
 * A small, strict XML 1.0 reader for the JUnit tests: it accepts the subset the JUnit report
 * writes (a declaration, elements, attributes, text, character and the five predefined entity
 * references) and throws on anything not well-formed: bad nesting, unquoted or duplicate
 * attributes, a bare `<` or `&`, unknown entities, characters XML 1.0 forbids, several roots.
 */
export interface XmlElement {
  name: string
  attributes: Record<string, string>
  children: XmlElement[]
  /** The decoded text directly inside the element. */
  text: string
}

const NAME = /[A-Za-z_:][\w.:-]*/y
const ATTRIBUTE = /\s+([A-Za-z_:][\w.:-]*)\s*=\s*"([^"<]*)"/y
const predefined: Record<string, string> = {amp: '&', apos: "'", gt: '>', lt: '<', quot: '"'}
const forbidden = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

export function parseXml(source: string): XmlElement {
  const bad = forbidden.exec(source)
  if (bad) throw new Error(`character U+${bad[0].codePointAt(0)!.toString(16)} is not allowed in XML 1.0`)
  let at = 0
  const declaration = /^<\?xml version="1\.0" encoding="UTF-8"\?>/.exec(source)
  if (declaration) at = declaration[0].length

  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  while (at < source.length) {
    const lt = source.indexOf('<', at)
    const text = source.slice(at, lt === -1 ? source.length : lt)
    if (stack.length === 0) {
      if (text.trim() !== '') throw new Error(`text outside the root element at ${at}`)
    } else {
      stack.at(-1)!.text += decode(text, at)
    }

    if (lt === -1) break
    at = lt
    if (source.startsWith('</', at)) {
      NAME.lastIndex = at + 2
      const name = NAME.exec(source)?.[0]
      const open = stack.pop()
      if (!name || !open || open.name !== name) throw new Error(`</${name}> at ${at} does not close <${open?.name}>`)
      at = NAME.lastIndex
      const close = /\s*>/y
      close.lastIndex = at
      if (!close.exec(source)) throw new Error(`malformed end tag at ${at}`)
      at = close.lastIndex
      continue
    }

    NAME.lastIndex = at + 1
    const name = NAME.exec(source)?.[0]
    if (!name) throw new Error(`malformed tag at ${at}`)
    at = NAME.lastIndex
    const element: XmlElement = {attributes: {}, children: [], name, text: ''}
    for (;;) {
      ATTRIBUTE.lastIndex = at
      const attr = ATTRIBUTE.exec(source)
      if (!attr) break
      if (attr[1] in element.attributes) throw new Error(`duplicate attribute ${attr[1]} at ${at}`)
      element.attributes[attr[1]] = decode(attr[2], at)
      at = ATTRIBUTE.lastIndex
    }

    const end = /\s*(\/?)>/y
    end.lastIndex = at
    const closing = end.exec(source)
    if (!closing) throw new Error(`malformed start tag <${name}> at ${at}`)
    at = end.lastIndex
    if (stack.length > 0) stack.at(-1)!.children.push(element)
    else if (root) throw new Error(`second root element <${name}>`)
    else root = element
    if (closing[1] !== '/') stack.push(element)
  }

  if (stack.length > 0) throw new Error(`<${stack.at(-1)!.name}> is not closed`)
  if (!root) throw new Error('no root element')
  return root
}

function decode(text: string, at: number): string {
  if (text.includes('<')) throw new Error(`bare < at ${at}`)
  return text.replaceAll(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new Error(`bare & at ${at}`)
    if (ref in predefined) return predefined[ref]
    const m = /^#(?:x([0-9a-fA-F]+)|(\d+))$/.exec(ref)
    if (!m) throw new Error(`unknown entity &${ref}; at ${at}`)
    const char = String.fromCodePoint(m[1] ? Number.parseInt(m[1], 16) : Number(m[2]))
    if (forbidden.test(char)) throw new Error(`&${ref}; names a character XML 1.0 forbids`)
    return char
  })
}

/** Every element named `name` under (and including) `root`. */
export function elements(root: XmlElement, name: string): XmlElement[] {
  const found = root.name === name ? [root] : []
  for (const child of root.children) found.push(...elements(child, name))
  return found
}

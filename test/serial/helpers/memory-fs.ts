/**
 * An in-memory SerialFs for fast tests (property tests run hundreds of chains). Paths are absolute
 * inside the root; directories are implied by the files under them. `fail` makes a path throw a
 * node-style error (EACCES, EIO, …), the way a confined or broken read does.
 */
import type {FileInfo, SerialFs} from '../../../src/serial/sources/source.js'

export function errnoError(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${path}`), {code, path})
}

export function memoryFs(files: Record<string, string | Uint8Array>, fail: Record<string, string> = {}): SerialFs {
  const data = new Map(Object.entries(files).map(([p, v]) => [p, typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v)]))
  const isDir = (path: string) => [...data.keys()].some((p) => p.startsWith(`${path === '/' ? '' : path}/`))
  const get = (path: string): Buffer => {
    if (fail[path]) throw errnoError(fail[path], path)
    const value = data.get(path)
    if (value) return value
    throw errnoError(isDir(path) ? 'EISDIR' : 'ENOENT', path)
  }

  return {
    isSymlink: async () => false,
    readBytes: async (path, offset, length) => get(path).subarray(offset, offset + length),
    async readdir(path) {
      if (fail[path]) throw errnoError(fail[path], path)
      const prefix = path === '/' ? '/' : `${path}/`
      const names = new Set([...data.keys()].filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('/')[0]))
      if (names.size === 0) throw errnoError('ENOENT', path)
      return [...names].sort()
    },
    readFile: async (path) => get(path),
    async realpath(path) {
      if (data.has(path) || isDir(path)) return path
      throw errnoError('ENOENT', path)
    },
    async stat(path): Promise<FileInfo> {
      if (fail[path]) throw errnoError(fail[path], path)
      if (data.has(path)) return {isDirectory: false, mode: 0o444, size: data.get(path)!.length}
      if (isDir(path)) return {isDirectory: true, mode: 0o555, size: 0}
      throw errnoError('ENOENT', path)
    },
  }
}

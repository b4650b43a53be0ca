/** Paths the tests share: the project root and the shared reference material beside it. */
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const sharedRoot = join(projectRoot, '..', 'shared')
export const shared = (...parts: string[]): string => join(sharedRoot, ...parts)
export const fixtures = (...parts: string[]): string => join(projectRoot, 'test', 'fixtures', ...parts)
export const binRun = join(projectRoot, 'bin', 'run.js')
export const hasShared = existsSync(sharedRoot)

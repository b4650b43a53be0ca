/** Runs one source spec against a root or an in-memory tree. */
import {type ChainEntrySpec, resolveChain, runChain, type SourceAttempt} from '../../../src/serial/chain.js'
import {type ContextOptions, createSourceContext} from '../../../src/serial/sources/context.js'
import {memoryFs} from '../helpers/memory-fs.js'

/** The attempt (verdict, reason, read value) and the serial, for one entry. */
export async function attempt(spec: ChainEntrySpec | string, context: ContextOptions): Promise<SourceAttempt & {serial?: string}> {
  const chain = await resolveChain({chain: [typeof spec === 'string' ? {source: spec} : spec], onDenied: 'next'}, {name: 'test'})
  const outcome = await runChain(chain, createSourceContext(context), {sourceTimeoutMs: 3000})
  return {...outcome.attempts[0], serial: outcome.serial}
}

export const inMemory = (files: Record<string, string | Uint8Array>, fail: Record<string, string> = {}): ContextOptions => ({fs: memoryFs(files, fail)})

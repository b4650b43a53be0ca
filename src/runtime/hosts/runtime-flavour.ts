/**
 * What a gadget whose runtime was built for the other onboarding mode is told on QuickJS: the
 * registration config asks for a key the runtime does not carry (see quickjs-crypto.ts). Each
 * runtime holds only its own message.
 */
import {UserError} from '../../errors.js'

/** A host function that refuses, with the fix, what the runtime of `mode` leaves out (`lacks`). */
export function missingFromRuntime(mode: 'api-key' | 'hardware-identity', lacks: string, fix: string): () => never {
  return () => {
    throw new UserError('E_RUNTIME_FLAVOUR', `this gadget's runtime is built for ${mode} onboarding: on QuickJS it has no ${lacks}`, {hint: fix, kind: 'failed'})
  }
}

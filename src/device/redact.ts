/**
 * Secret header values never reach an output: the dry run, --json, error messages, and snapctl's
 * own error text (which can echo its arguments) all pass through a SecretRedactor that knows the
 * values this run resolved. A value from the environment shows as `<$NAME>`, a literal secret
 * written in the config as `<redacted>`.
 */

/** Header names whose values are credentials (api-key, tokens, passwords, …). */
const SECRET_HEADER = /api[-_]?key|secret|token|passw(or)?d|credential|auth|cookie|session|signature|private/i

/** Whether a header's value must be masked: a credential by its name, or read from the environment. */
export function isSecretHeader(name: string, fromEnv: boolean): boolean {
  return fromEnv || SECRET_HEADER.test(name)
}

/** The text shown in place of a secret value. */
export function maskFor(env: string | undefined): string {
  return env === undefined ? '<redacted>' : `<$${env}>`
}

export class SecretRedactor {
  private readonly secrets = new Map<string, string>()

  /** Masks `value` from now on, in every spelling an output could carry it (raw, JSON-escaped). */
  add(value: string, mask: string): void {
    // Very short values would mask ordinary words; the config refuses empty ones already.
    if (value.length < 4) return
    this.secrets.set(value, mask)
    const escaped = JSON.stringify(value).slice(1, -1)
    if (escaped !== value) this.secrets.set(escaped, mask)
    const doubly = JSON.stringify(escaped).slice(1, -1)
    if (doubly !== escaped) this.secrets.set(doubly, mask)
  }

  redact(text: string): string {
    let out = text
    // Longest first: a secret that contains another is masked whole.
    for (const [secret, mask] of [...this.secrets].sort((a, b) => b[0].length - a[0].length)) out = out.split(secret).join(mask)
    return out
  }
}

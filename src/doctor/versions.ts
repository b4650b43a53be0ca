/**
 * snapd versions as doctor needs them: where a behaviour on the registration path changed
 * (registration-failures.md, secure-onboarding.md §0).
 */

export const SNAPD_CHANGES = {
  /** A certificate that is expired or not yet valid is retried silently for 37.5 minutes. */
  clockSkewRetries: '2.58.1',
  /** /var/lib/snapd/ssl/store-certs/*.pem is trusted for the device service too. */
  storeCerts: '2.59',
  /** device-service.access=offline and store.access=offline stop the serial request. */
  offlineAccess: '2.61',
  /** The gadget's prepare-serial-request hook. */
  prepareSerialRequest: '2.74',
} as const

/** The numbers of a snapd version: "2.57.6-1+deb12u1" → [2, 57, 6]; "2.77+75" → [2, 77]. */
function versionNumbers(version: string): number[] | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim())
  if (!match) return undefined
  return match.slice(1).flatMap((part) => (part === undefined ? [] : [Number(part)]))
}

/**
 * Whether `version` is `since` or later; undefined when the version is not known or not readable.
 * A lower bound ("2.74+", inferred from what a state shows) answers only what it can: yes when the
 * bound is `since` or later, else undefined.
 */
export function atLeast(version: string | undefined, since: string): boolean | undefined {
  if (version === undefined) return undefined
  const have = versionNumbers(version)
  const want = versionNumbers(since)
  if (!have || !want) return undefined
  let answer = true
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const a = have[i] ?? 0
    const b = want[i] ?? 0
    if (a !== b) {
      answer = a > b
      break
    }
  }

  return version.trim().endsWith('+') && !answer ? undefined : answer
}

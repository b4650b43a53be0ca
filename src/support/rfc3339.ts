/** A time as snapd writes one in an assertion header (Go's time.RFC3339): UTC, whole seconds. */
export function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

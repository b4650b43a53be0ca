/**
 * The device's assertion database, as snapd 2.57.6 checks what it adds (asserts/database.go Check
 * and Add, asserts/batch.go CommitTo with Precheck, asserts/fetcher.go): the trusted roots, then
 * what the device holds from its seed (the model, the brand's account and account-key), then what
 * the device service sends. Every refusal is snapd's own message, so the simulator's verdict on a
 * stream reads as the device's task log would.
 *
 * Checks, in snapd's order for each assertion: the signing key is an account-key of the
 * assertion's authority (trusted keys first), valid now; the signature verifies; the assertion's
 * timestamp lies within the key's validity; then the type's consistency (an account or account-key
 * is signed by a directly trusted authority and an account-key has its account; a serial whose
 * authority is not its brand needs the model's serial-authority). A batch is first put in
 * prerequisite order (a key before what it signs), which fails when a key is nowhere to be found.
 */
import {type AssembledAccountKey, type Assembled, goQuote} from '../assertions/assemble.js'
import {verifyAssertionSignature} from '../assertions/verify.js'
import {rfc3339} from '../support/rfc3339.js'

const PRIMARY_KEYS: Record<string, readonly string[]> = {
  account: ['account-id'],
  'account-key': ['public-key-sha3-384'],
  model: ['series', 'brand-id', 'model'],
  serial: ['brand-id', 'model', 'serial'],
}

interface Ref {
  type: string
  key: string[]
}

/** snapd's Ref.String(): `account-key (ID)`, `serial (S; brand-id:B model:M)`. */
function refString(ref: Ref): string {
  const names = PRIMARY_KEYS[ref.type] ?? []
  if (names.length <= 1) return `${ref.type} (${ref.key[0] ?? '-'})`
  const head = `${ref.key.at(-1)};`
  const rest = names.slice(0, -1).map((name, i) => `${name}:${ref.key[i]}`)
  return `${ref.type} (${[head, ...rest].join(' ')})`
}

function refOf(view: Assembled): Ref {
  const names = PRIMARY_KEYS[view.assertion.type] ?? []
  return {key: names.map((name) => String(view.assertion.headers[name])), type: view.assertion.type}
}

function unique(ref: Ref): string {
  return `${ref.type}/${ref.key.join('/')}`
}

/** Go's time.Time String() for a UTC time, as snapd's messages print times with %q. */
function goTime(date: Date): string {
  return `${date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.000Z$/, '')
    .replace(/Z$/, '')} +0000 UTC`
}

export class DeviceAssertionDb {
  private readonly trusted = new Map<string, Assembled>()
  private readonly stored = new Map<string, Assembled>()

  constructor(
    trusted: readonly Assembled[],
    private readonly now: Date,
  ) {
    for (const view of trusted) this.trusted.set(unique(refOf(view)), view)
  }

  /** The account ids of the trusted set. */
  trustedAccounts(): string[] {
    return [...this.trusted.values()].filter((v) => v.type === 'account').map((v) => String(v.assertion.headers['account-id']))
  }

  /** An assertion by type and primary key, trusted ones first. */
  find(ref: Ref): Assembled | undefined {
    const key = unique(ref)
    return this.trusted.get(key) ?? this.stored.get(key)
  }

  /** The account-key with `keyId`, wherever it is. */
  accountKey(keyId: string): AssembledAccountKey | undefined {
    const found = this.find({key: [keyId], type: 'account-key'})
    return found?.type === 'account-key' ? found : undefined
  }

  /** Database.Check: undefined when `view` is properly signed and consistent, else snapd's message. */
  check(view: Assembled): string | undefined {
    const {signKeyId} = view
    const authority = view.authorityId
    const key = this.accountKey(signKeyId)
    if (!key) return `no matching public key ${goQuote(signKeyId)} for signature by ${goQuote(authority)}`
    if (key.accountId !== authority) return `found public key ${goQuote(signKeyId)} from ${goQuote(key.accountId)} but expected it from: ${authority}`

    // CheckSigningKeyIsNotExpired: the device's clock within the key's validity.
    if (!validAt(key, this.now)) {
      const range = key.until ? `during [${rfc3339(key.since)}, ${rfc3339(key.until)})` : `from ${rfc3339(key.since)}`
      return `assertion is signed with expired public key ${goQuote(signKeyId)} from ${goQuote(authority)}: current time is ${rfc3339(this.now)} but key is valid ${range}`
    }

    // CheckSignature.
    const signature = verifyAssertionSignature(view.assertion, key.publicKey)
    if (!signature.valid) return 'failed signature verification: openpgp: invalid signature: RSA verification failure'

    // CheckTimestampVsSigningKeyValidity.
    const timestamp = timestampOf(view)
    if (timestamp && !validAt(key, timestamp)) {
      const until = key.until ? ` until ${goQuote(goTime(key.until))}` : ''
      return `${view.assertion.type} assertion timestamp ${goQuote(goTime(timestamp))} outside of signing key validity (key valid since ${goQuote(goTime(key.since))}${until})`
    }

    return this.consistency(view)
  }

  /** Database.Add: Check, then refuse a clash with a trusted assertion; an older or equal revision is ignored. */
  add(view: Assembled): string | undefined {
    const problem = this.check(view)
    if (problem) return problem
    const ref = refOf(view)
    if (this.trusted.has(unique(ref))) return `cannot add ${goQuote(ref.type)} assertion with primary key clashing with a trusted assertion: [${ref.key.join(' ')}]`
    const existing = this.stored.get(unique(ref))
    if (existing && existing.revision >= view.revision) return undefined
    this.stored.set(unique(ref), view)
    return undefined
  }

  /**
   * Batch.CommitTo with Precheck, as assertstate.AddBatch runs it for the stream a device service
   * sends: in prerequisite order, all or nothing. Undefined when every assertion was added.
   */
  addBatch(views: readonly Assembled[]): string | undefined {
    const batch = new Map<string, Assembled>()
    for (const view of views) {
      const key = unique(refOf(view))
      const earlier = batch.get(key)
      if (!earlier || earlier.revision < view.revision) batch.set(key, view)
    }

    const ordered: Assembled[] = []
    const progress = new Map<string, 'retrieved' | 'saved'>()
    const chase = (ref: Ref, given?: Assembled): string | undefined => {
      if (this.trusted.has(unique(ref))) return undefined
      const state = progress.get(unique(ref))
      if (state === 'saved') return undefined
      if (state === 'retrieved') return `circular assertions are not expected: ${refString(ref)}`
      const view = given ?? batch.get(unique(ref)) ?? this.stored.get(unique(ref))
      if (!view) return `cannot resolve prerequisite assertion: ${refString(ref)}`
      progress.set(unique(ref), 'retrieved')
      if (view.type === 'account-key') {
        const problem = chase({key: [view.accountId], type: 'account'})
        if (problem) return problem
      }

      const problem = chase({key: [view.signKeyId], type: 'account-key'})
      if (problem) return problem
      ordered.push(view)
      progress.set(unique(ref), 'saved')
      return undefined
    }

    for (const view of batch.values()) {
      const problem = chase(refOf(view))
      if (problem) return problem
    }

    // The precheck adds to a copy: nothing is kept unless everything goes in.
    const copy = new DeviceAssertionDb([...this.trusted.values()], this.now)
    for (const [key, view] of this.stored) copy.stored.set(key, view)
    const problems = ordered.map((view) => copy.add(view)).filter((p): p is string => p !== undefined)
    if (problems.length > 0) return `cannot accept some assertions:${problems.map((p) => `\n - ${p}`).join('')}`
    for (const [key, view] of copy.stored) this.stored.set(key, view)
    return undefined
  }

  /** Keeps assertions without checking them: what the device holds from a seed the simulator was not given whole. */
  assume(views: readonly Assembled[]): void {
    for (const view of views) this.stored.set(unique(refOf(view)), view)
  }

  /** CheckCrossConsistency for the types a registration exchanges. */
  private consistency(view: Assembled): string | undefined {
    const trusted = (account: string): boolean => this.trusted.has(unique({key: [account], type: 'account'}))
    switch (view.type) {
      case 'account': {
        return trusted(view.authorityId) ? undefined : `account assertion for ${goQuote(view.accountId)} is not signed by a directly trusted authority: ${view.authorityId}`
      }

      case 'account-key': {
        if (!trusted(view.authorityId)) return `account-key assertion for ${goQuote(view.accountId)} is not signed by a directly trusted authority: ${view.authorityId}`
        if (!this.find({key: [view.accountId], type: 'account'})) return `account-key assertion for ${goQuote(view.accountId)} does not have a matching account assertion`
        return undefined
      }

      case 'serial': {
        if (view.authorityId === view.brandId) return undefined
        const model = this.find({key: ['16', view.brandId, view.model], type: 'model'})
        if (model?.type === 'model' && model.serialAuthority.includes(view.authorityId)) return undefined
        return `serial with authority ${goQuote(view.authorityId)} different from brand ${goQuote(view.brandId)} without model assertion with serial-authority set to to allow for them`
      }

      default: {
        return undefined
      }
    }
  }
}

function validAt(key: AssembledAccountKey, when: Date): boolean {
  return when.getTime() >= key.since.getTime() && (key.until === undefined || when.getTime() < key.until.getTime())
}

function timestampOf(view: Assembled): Date | undefined {
  if (view.type === 'serial') return view.timestamp
  if (view.type === 'account' || view.type === 'model') {
    const text = view.assertion.headers.timestamp
    return typeof text === 'string' ? new Date(text) : undefined
  }

  return undefined
}

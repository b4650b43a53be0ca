/**
 * The steps of a registration, in the order snapd takes them (registration-failures.md §1): the
 * checklist doctor prints. snapd's "Initialize device" change holds the first three as tasks; the
 * rest happen inside its last task, "Request device serial".
 */

export const STEPS = [
  {id: 'model', title: 'model', what: 'the device has a model assertion and is seeded'},
  {id: 'prepare-device', title: 'prepare-device hook', what: "the gadget's prepare-device hook sets the registration options (task Run prepare-device hook)"},
  {id: 'device-key', title: 'device key', what: 'snapd makes the device key, RSA 4096 (task Generate device key)'},
  {id: 'request-id', title: 'request-id', what: 'snapd reads the options and asks the device service for a request-id (POST …/request-id)'},
  {id: 'prepare-serial-request', title: 'prepare-serial-request hook', what: "snapd 2.74+: the gadget's prepare-serial-request hook sets the body with the request-id"},
  {id: 'serial-request', title: 'serial request', what: 'snapd posts the signed serial-request and the model (POST …/serial)'},
  {id: 'serial-checks', title: 'serial checks', what: "snapd checks the serial it got and its signing key's chain, and adds them"},
  {id: 'registered', title: 'registered', what: 'the device has its serial'},
] as const

export type StepId = (typeof STEPS)[number]['id']

/** Where a step stands: passed, failed, being retried, not run because an earlier one failed, or not part of this device's path. */
export type StepStatus = 'ok' | 'failed' | 'retrying' | 'in-progress' | 'not-reached' | 'skipped' | 'unknown'

const STEP_IDS: readonly StepId[] = STEPS.map((s) => s.id)

export function stepIndex(step: StepId): number {
  return STEP_IDS.indexOf(step)
}

export function stepTitle(step: StepId): string {
  return STEPS[stepIndex(step)].title
}

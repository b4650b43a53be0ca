/**
 * init's flags, defined once: oclif parses them, and their type is what the command body takes.
 */
import {Flags, type Interfaces} from '@oclif/core'

export const initFlags = {
  'api-key-env': Flags.string({description: 'environment variable of the hook that holds the api-key (default SERIAL_VAULT_API_KEY)', helpValue: 'NAME'}),
  arch: Flags.string({description: "snap architecture (default: the board's first)", helpValue: 'ARCH'}),
  base: Flags.option({description: "Ubuntu Core base (default: the board's newest)", options: ['core22', 'core24'] as const})(),
  board: Flags.string({char: 'b', description: 'board profile (snap-gadget boards lists them)', helpValue: 'ID'}),
  'board-dir': Flags.string({description: 'your own board profiles: a profile directory or a directory of them', helpValue: 'DIR', multiple: true}),
  'body-fact': Flags.string({description: 'hardware fact for the registration body (default serial-source, board-model)', helpValue: 'FACT', multiple: true}),
  'body-field': Flags.string({description: 'fixed registration body field', helpValue: 'NAME=VALUE', multiple: true}),
  brand: Flags.string({description: 'brand account id', helpValue: 'ACCOUNT-ID'}),
  'device-service': Flags.string({description: 'serial-vault (default), model-service, local (snap-gadget serve at http://127.0.0.1:8642/v1/, for lab use), or the URL of your device service', helpValue: 'PRESET|URL'}),
  'display-name': Flags.string({description: "the model's display name", helpValue: 'TEXT'}),
  'dry-run': Flags.boolean({description: 'print the files init would write, and write nothing'}),
  force: Flags.boolean({description: 'overwrite files that exist'}),
  'gadget-channel': Flags.string({description: "the gadget's default channel in the model (default latest/stable)", helpValue: 'TRACK/RISK'}),
  'gadget-id': Flags.string({description: "the gadget's snap id (after snapcraft register): adds the connections to gadget.yaml and the id to model.json", helpValue: 'SNAP-ID'}),
  grade: Flags.option({description: 'model grade (default signed when the snap ids are known, else dangerous)', options: ['dangerous', 'signed', 'secured'] as const})(),
  'hardware-key-type': Flags.option({
    description: 'the hardware identity key of --onboarding hardware-identity (default ecdsa-p256; the QuickJS runtime makes ECDSA keys, RSA needs the hooks run with Node)',
    options: ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const,
  })(),
  header: Flags.string({description: 'extra, non-secret header for the device service', helpValue: 'NAME=VALUE', multiple: true}),
  identity: Flags.boolean({allowNo: true, default: true, description: 'sign the registration body with a device identity key'}),
  kernel: Flags.string({description: "kernel snap (default: the board's published kernel)", helpValue: 'NAME'}),
  'kernel-channel': Flags.string({description: "the kernel's default channel in the model", helpValue: 'TRACK/RISK'}),
  'kernel-id': Flags.string({description: "the kernel's snap id", helpValue: 'SNAP-ID'}),
  'legacy-model': Flags.boolean({description: 'write model.json in the UC16/UC18 form (gadget, kernel and required-snaps headers)'}),
  model: Flags.string({description: 'model name (default <board>-<track>)', helpValue: 'NAME'}),
  name: Flags.string({description: 'gadget snap name (default <brand>-<board>)', helpValue: 'NAME'}),
  'no-api-key': Flags.boolean({description: 'send no api-key header'}),
  onboarding: Flags.option({
    description:
      "how the device service knows each device: api-key (default; the model's api-key, any snapd) or hardware-identity (the device's own key, certified in the factory; a prepare-serial-request hook and assumes: [snapd2.74], no api-key)",
    options: ['api-key', 'hardware-identity'] as const,
  })(),
  'serial-board': Flags.string({description: "serial board profile whose chain the hook runs (default: the board's)", helpValue: 'ID'}),
  snap: Flags.string({description: 'another snap for the model', helpValue: 'NAME[=SNAP-ID][@CHANNEL]', multiple: true}),
  'snap-version': Flags.string({description: "the gadget snap's version (default <track>-0.1)", helpValue: 'VERSION'}),
  'storage-safety': Flags.option({description: "the model's storage safety", options: ['prefer-unencrypted', 'prefer-encrypted', 'encrypted'] as const})(),
  store: Flags.string({description: 'brand store id for the model', helpValue: 'STORE-ID'}),
  summary: Flags.string({description: "the gadget snap's summary (78 characters at most)", helpValue: 'TEXT'}),
  timestamp: Flags.string({description: "the model's timestamp (RFC 3339; default now)", helpValue: 'TIME'}),
  yes: Flags.boolean({char: 'y', description: 'never prompt: take the defaults'}),
}

/** The flags runInit takes: each as oclif parses it, optional (tests and SDK callers pass what they set), and --json. */
export type InitFlags = Partial<Interfaces.InferredFlags<typeof initFlags>> & {json?: boolean}

/**
 * The rule catalog: every rule snap-gadget reports, with its stable id, name, summary and
 * whether snapd enforces it or only lint reports it.
 */
import {InternalError} from '../../errors.js'

export interface RuleInfo {
  id: RuleId
  /** A short kebab-case name, stable like the id. */
  name: string
  summary: string
  /** 'snapd': snapd rejects the gadget; 'lint': snapd accepts it but it is likely wrong. */
  source: 'lint' | 'snapd'
  /** The first snapd release that enforces the rule, when it is newer than 2.57. */
  since?: string
}

// Generic in the id so that each entry keeps its id's literal type, from which RuleId is derived.
const snapd = <Id extends string>(id: Id, name: string, summary: string, since?: string) => ({id, name, since, source: 'snapd' as const, summary})
const lint = <Id extends string>(id: Id, name: string, summary: string) => ({id, name, source: 'lint' as const, summary})

const catalog = [
  snapd('P1', 'yaml-syntax', 'gadget.yaml must be readable YAML (UTF-8 or UTF-16, no control characters) with a mapping at the top'),
  snapd('P2', 'value-kind', 'each key must hold the kind of value snapd decodes it into (mapping, list, string, boolean)'),
  lint('P3', 'unknown-key', 'snapd silently ignores keys it does not know: a misspelled key is as good as absent'),
  lint('P4', 'duplicate-key', 'snapd accepts duplicate keys and keeps the last one; the earlier ones are dead text'),
  lint('T1', 'no-volumes', 'a gadget.yaml without volumes is valid only for classic models'),
  snapd('T2', 'defaults-key', 'defaults must be keyed by "system" or a 32-character snap id'),
  snapd('T3', 'defaults-value', 'defaults values must be mappings with no null values and string keys'),
  snapd('T4', 'connection-plug', 'every connection needs a plug'),
  snapd('T5', 'connection-syntax', 'connection plugs and slots are written "<snap-id>:<name>" or "system:<name>"'),
  snapd('T6', 'kernel-cmdline', 'kernel-cmdline entries must each be exactly one kernel argument', '2.59'),
  snapd('T7', 'volume-assignments', 'volume-assignments must name defined volumes and /dev/disk/by-path or by-id devices', '2.68'),
  lint('T8', 'ignored-top-level-key', 'a top-level key snapd never reads (device-tree, a top-level bootloader, …)'),
  snapd('V1', 'volume-empty', 'a volume must not be empty'),
  snapd('V2', 'volume-name', 'volume names are at least two letters, digits or dashes, not starting with a dash'),
  snapd('V3', 'volume-schema', 'schema is gpt (default), mbr or emmc'),
  snapd('V4', 'bootloader-value', 'bootloader is one of grub, u-boot, android-boot, piboot or lk'),
  snapd('V5', 'bootloader-count', 'exactly one volume declares a bootloader'),
  snapd('V6', 'piboot-uc20', 'piboot needs a UC20 or later model'),
  snapd('V8', 'partial', 'partial lists size, filesystem, schema or structure, each once', '2.60'),
  snapd('S1', 'quantity-syntax', 'sizes and offsets are bytes, or a number followed by M or G'),
  snapd('S2', 'size-required', 'every structure needs a non-zero size'),
  snapd('S3', 'min-size', 'min-size may not be bigger than size', '2.60'),
  snapd('S5', 'structure-type', 'type is bare, mbr, two upper-case hex digits, a GUID, or both joined by a comma'),
  snapd('S6', 'type-vs-schema', 'GUID types need a gpt volume, two-digit MBR types an mbr volume'),
  snapd('S7', 'role-value', 'role is one snapd knows'),
  snapd('S8', 'role-vs-type', 'bare and mbr types allow no role but mbr'),
  snapd('S9', 'mbr-role', 'the mbr structure is at most 446 bytes, at offset 0, with no id and no filesystem'),
  snapd('S10', 'filesystem', 'filesystem is none, ext4 or vfat (vfat-16 and vfat-32 from snapd 2.61)'),
  snapd('S11', 'structure-name-unique', 'structure names are unique within a volume'),
  snapd('S13', 'offset-write-syntax', 'offset-write is [<structure>+]<offset>, at most 4G'),
  snapd('C1', 'bare-content', 'structures without a filesystem take image content'),
  snapd('C2', 'filesystem-content', 'structures with a filesystem take source and target content'),
  snapd('C3', 'kernel-ref', '$kernel: references are $kernel:<asset>/<path>'),
  snapd('C4', 'content-missing', 'content sources and images must exist in the gadget snap'),
  snapd('C5', 'content-layout', 'raw images must fit their declared size and structure and not overlap'),
  snapd('U1', 'edition', 'update edition is a whole number from 0 to 4294967295'),
  snapd('U2', 'preserve-filesystem', 'update preserve needs a structure with a filesystem'),
  snapd('U3', 'preserve-unique', 'update preserve entries are unique'),
  snapd('X1', 'overlap', 'structures must not overlap'),
  snapd('X2', 'implicit-offset', 'structures without offset follow the previous one, at 1 MiB at the earliest'),
  snapd('X3', 'mbr-offset', 'the mbr structure must be at offset 0'),
  snapd('X4', 'offset-write-target', 'offset-write must refer to a structure snapd accepts'),
  snapd('X5', 'content-offset-write-target', 'content offset-write must name a structure of the volume'),
  snapd('X6', 'label-unique', 'filesystem labels are unique within a volume (vfat ignores case from snapd 2.60)'),
  snapd('X7', 'reserved-label', 'ubuntu-seed, ubuntu-data (and with modes ubuntu-boot, ubuntu-save) are reserved for their roles'),
  lint('X8', 'gpt-header', 'a structure overlaps the GPT header or partition table'),
  snapd('R1', 'role-unique', 'system-seed, system-boot, system-data and system-save appear at most once'),
  snapd('R2', 'seed-needs-data', 'system-seed requires system-data'),
  snapd('R3', 'role-label', 'role structures carry their implicit labels'),
  snapd('R4', 'save-needs-seed', 'system-save requires a system-seed'),
  snapd('R5', 'roles-one-volume', 'system-boot, -data and -save share the system-seed volume'),
  snapd('R6', 'classic-with-modes', 'classic-with-modes gadgets need system-boot and system-data in one volume', '2.59'),
  snapd('R7', 'system-boot-state', 'system-boot-state is raw, at an explicit offset, at least 1 MiB, of its own type', '2.75'),
  snapd('E1', 'emmc-volume', 'emmc volumes set no bootloader, id or partial', '2.67'),
  snapd('E2', 'emmc-structure', 'emmc structures have only name, content and update', '2.67'),
  snapd('E3', 'emmc-name', 'emmc structures are named boot0 or boot1', '2.67'),
  snapd('E4', 'emmc-content', 'emmc content is images without offset or size', '2.67'),
  snapd('M1', 'model-gadget-yaml', 'a Core model needs meta/gadget.yaml'),
  snapd('M2', 'model-volumes', 'a Core model needs volumes'),
  snapd('M4', 'model-implied-label', 'a label implied by a role must not be used elsewhere'),
  snapd('M5', 'model-uc16-roles', 'UC16/18 models do not support system-seed or system-save'),
  snapd('M6', 'model-needs-seed', 'UC20+ models need a system-seed'),
  lint('N1', 'label-length', 'filesystem labels longer than the filesystem allows (vfat 11, ext4 16)'),
  lint('N2', 'vfat-label-case', 'vfat labels are stored upper-case'),
  lint('N3', 'partition-name-length', 'GPT partition names hold at most 36 characters'),
  lint('N4', 'filesystem-vs-type', 'the filesystem does not suit the partition type'),
  lint('N5', 'alignment', 'partitions not aligned to 512-byte sectors'),
  lint('N6', 'connection-snap-id', 'connection endpoints should name "system" or a 32-character snap id'),
  lint('N7', 'system-boot-label', 'system-boot is labelled ubuntu-boot on UC20 and later'),
  lint('N8', 'content-path', 'content paths that leave the gadget tree'),
  lint('N9', 'unpack', 'unpack is set on content that is not an archive'),
  lint('N10', 'recommended-size', 'UC20+ role partitions smaller than Ubuntu recommends'),
  lint('N11', 'mbr-partition-count', 'an mbr volume with more than four partitions'),
  lint('N12', 'id-format', 'volume and structure ids snapd does not check'),
  lint('N13', 'content-not-in-project', 'content not found in the gadget project (it must be built into the snap)'),
  lint('N14', 'api-key-literal', 'a serial-vault api-key (or another secret header value) written into the project'),
  lint('N15', 'newer-snapd-feature', 'a feature the target snapd release does not know'),
  lint('N16', 'quantity-style', 'a quantity written in a way snapd would refuse, in a key this snapd ignores'),
  lint('N17', 'device-service-http', 'a device service reached over plain http (not loopback): the api-key travels in clear'),
  lint('N18', 'serial-request-hook-assumes', 'a prepare-serial-request hook without assumes: [snapd2.74] or newer: an older snapd installs the gadget and silently skips the hook'),
  lint('N19', 'serial-request-hook-api-key', 'a prepare-serial-request hook beside a prepare-device that sends an api-key header: the shared secret hardware-identity onboarding does away with'),
  lint('N20', 'runtime-onboarding-mode', 'runtime/prepare-device.cjs built for another onboarding mode than runtime/registration.json asks for: the hooks fail on QuickJS at first boot'),
]

/** The id of a rule in the catalog ('P1' … 'N20'): a misspelt id is a type error. */
export type RuleId = (typeof catalog)[number]['id']

/** Every rule snap-gadget reports. Ids follow the gadget.yaml rules reference. */
export const rules: readonly RuleInfo[] = catalog

const byId = new Map(rules.map((r) => [r.id, r]))

/** A rule's catalog entry. Throws for an id outside the catalog, which only an untyped caller can pass. */
export function ruleInfo(id: RuleId): RuleInfo {
  const info = byId.get(id)
  if (!info) throw new InternalError(`unknown rule ${id}`)
  return info
}

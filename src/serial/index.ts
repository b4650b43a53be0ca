/**
 * Serial derivation: hardware identity sources, chains, transforms, board profiles and probing.
 * Nothing here prints; everything returns data or throws UserError/InternalError.
 */
export {type BoardDetection, type BoardMatch, type BoardProfile, boardIds, boardNames, detectBoard, listBoards, loadBoard} from './boards.js'
export {
  type AttemptVerdict,
  type ChainEntrySpec,
  type ChainOutcome,
  type ChainSpec,
  deriveFromChain,
  describeAttempts,
  resolveChain,
  runChain,
  type SerialChain,
  type SerialDerivation,
  type SourceAttempt,
  type WhenSpec,
} from './chain.js'
export {loadSerialConfig, parseChainList, parseSerialConfig, type SerialConfig} from './config/serial-config.js'
export {type ContextOptions, createSourceContext, rootedFs, runCommand} from './sources/context.js'
export {type SourceDefinition} from './sources/definition.js'
export {type DeriveSerialOptions, deriveSerial, resolveSerialChain, type SerialResult, trySerial} from './derive.js'
export {parseAm335xEeprom} from './formats/am335x-eeprom.js'
export {parseOnieTlv} from './formats/onie-tlv.js'
export {EUI_PARTS, type EuiPart, type EuiPartName, parseEui} from './formats/eui.js'
export {cpuinfoSerialLine} from './formats/cpuinfo.js'
export {smbiosField, type SmbiosField, type SmbiosStructure, smbiosStructures, smbiosVersion} from './formats/smbios.js'
export {type Am6BoardInfo, type Am6Eeprom, parseAm6Eeprom} from './formats/ti-am6-eeprom.js'
export {collectSystemFacts, type DeviceFacts, readDeviceFacts, type SystemFacts} from './facts.js'
export {FLEET_DUPLICATES, PLACEHOLDER_MACS, PLACEHOLDER_STRINGS, PLACEHOLDER_UUIDS, type Refusal, refusalOf, swapUuidFields} from './placeholders.js'
export {type ProbedSource, probeIdentity, type ProbeOptions, type ProbeReport, type ProbeWarning} from './probe.js'
export {BUILTIN_SOURCES} from './sources/registry.js'
export {
  type CommandResult,
  type CommandRunner,
  type FileInfo,
  found,
  type SerialFs,
  type SerialSource,
  type SnapInterface,
  type SourceContext,
  type SourceReading,
  unavailable,
  type UnavailableStatus,
  type ValueFormat,
} from './sources/source.js'
export {applyTransforms, DEFAULT_SERIAL_PATTERN, type HashOptions, hashValue, normalise, type NormaliseOptions, serialProblem, type TransformSpec} from './transforms.js'

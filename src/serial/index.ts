/**
 * snap-gadget/serial: for an SDK user, deriving a device's serial (deriveSerial, runChain over a
 * board profile or a serial config, probeIdentity) and reading hardware facts; for a plugin author,
 * what a serial source implements (SourceDefinition, SerialSource, found/unavailable), the context
 * it runs in (createSourceContext, rootedFs over a captured root), the byte-format readers it may
 * reuse, and the placeholder lists a serial must never match. Nothing here prints; everything
 * returns data or throws UserError/InternalError.
 */
export {type BoardDetection, type BoardMatch, type SerialBoardProfile, boardIds, boardNames, detectBoard, listBoards, loadBoard} from './boards.js'
export {type AttemptVerdict, type ChainEntrySpec, type ChainOutcome, type ChainSpec, deriveFromChain, runChain, type SerialChain, type SerialDerivation, type SourceAttempt, type WhenSpec} from './chain.js'
export {loadSerialConfig, parseSerialConfig, type SerialConfig} from './config/serial-config.js'
export {type ContextOptions, createSourceContext, rootedFs} from './sources/context.js'
export {type SourceDefinition} from './sources/definition.js'
export {type DeriveSerialOptions, deriveSerial, type SerialResult, trySerial} from './derive.js'
export {parseAm335xEeprom} from './formats/am335x-eeprom.js'
export {parseOnieTlv} from './formats/onie-tlv.js'
export {EUI_PARTS, type EuiPart, type EuiPartName, parseEui} from './formats/eui.js'
export {cpuinfoSerialLine} from './formats/cpuinfo.js'
export {smbiosField, type SmbiosField} from './formats/smbios.js'
export {type Am6BoardInfo, type Am6Eeprom, parseAm6Eeprom} from './formats/ti-am6-eeprom.js'
export {collectSystemFacts, type DeviceFacts, readDeviceFacts, type SystemFacts} from './facts.js'
export {FLEET_DUPLICATES, PLACEHOLDER_MACS, PLACEHOLDER_STRINGS, PLACEHOLDER_UUIDS, type Refusal, refusalOf} from './placeholders.js'
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
export {applyTransforms, DEFAULT_SERIAL_PATTERN, serialProblem, type TransformSpec} from './transforms.js'

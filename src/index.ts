/**
 * snap-gadget's SDK: validate gadget.yaml as snapd does, derive hardware serials, run the
 * prepare-device logic and scaffold gadget snaps. Nothing here prints; everything returns data
 * or throws {@link UserError} (a user's mistake) or {@link InternalError} (a bug).
 *
 * This entry lists what an SDK user needs. Narrower entries hold the rest of each toolkit:
 *   snap-gadget/report      the renderers of `validate --format` (text, json, github, sarif, junit)
 *   snap-gadget/serial      every serial source, format parser and placeholder list
 *   snap-gadget/scaffold    init's naming rules, model checks and template lint
 *   snap-gadget/assertions  snapd's assertion format: decode, encode, sign, verify
 *   snap-gadget/service     the device service behind `snap-gadget serve`
 *   snap-gadget/simulate    snapd's side of a registration, played without snapd (`device register`)
 *   snap-gadget/doctor      why a device did not register: its inputs, the diagnosis, the causes
 */

// -- errors ---------------------------------------------------------------------------------------

/** UserError: a user's or device's mistake (code, message naming the place, hint saying the fix); InternalError: a bug. */
export {InternalError, UserError, type UserErrorKind, type UserErrorOptions} from './errors.js'
/** The exit codes of the CLI (0 ok, 1 failed, 2 usage or I/O, 3 a bug), and the one an error maps to. */
export {ExitCode, exitCodeFor} from './errors.js'

// -- gadget.yaml validation -----------------------------------------------------------------------

/** Judge one gadget.yaml's text or bytes as snapd would, plus lint: snapd's verdict and every finding. */
export {type GadgetSource, type GadgetValidation, validateGadget, type ValidateOptions} from './gadget/validate.js'
/** Judge paths as `snap-gadget validate` does: gadget.yaml files, gadget projects, built snap trees. */
export {type PathsValidation, type UnreadableInput, type ValidatePathsOptions, type ValidationReport, validatePaths} from './gadget/validate.js'
/** A finding: rule id, severity, position, snapd's own message and a fix; their order. */
export {compareFindings, type Finding, type Position, type Severity} from './gadget/findings/finding.js'
/** The rule catalog and its entries by id; RuleId is the union of the catalog's ids ('P1' … 'N20'). */
export {type RuleId, ruleInfo, type RuleInfo, rules} from './gadget/findings/rules.js'
/** The snapd release judged for ("2.57" … "latest") and the model facts some rules need. */
export {LATEST_SNAPD, OLDEST_SNAPD, snapdTarget, type SnapdTarget} from './gadget/snapd-version.js'
export {type ModelFacts} from './gadget/checks/snapd/index.js'

// -- hardware serials -----------------------------------------------------------------------------

/** Derive a device's serial from its hardware, as the prepare-device hook does, and probe what a machine offers. */
export {type DeriveSerialOptions, deriveSerial, type SerialResult} from './serial/derive.js'
export {probeIdentity, type ProbeOptions, type ProbeReport} from './serial/probe.js'
/** The serial board profiles (which chain of sources a board reads) and serial config files. */
export {boardNames, detectBoard, listBoards, loadBoard, type SerialBoardProfile} from './serial/boards.js'
export {loadSerialConfig, parseSerialConfig, type SerialConfig} from './serial/config/serial-config.js'
/** What a vendor serial plugin implements (examples/serial-plugin/). */
export {found, type SerialSource, type SourceContext, type SourceReading, unavailable} from './serial/sources/source.js'
export {type SourceDefinition} from './serial/sources/definition.js'

// -- device registration --------------------------------------------------------------------------

/** The prepare-device logic: config → serial → registration body → snapctl calls (dry run available). */
export {describePreparation, prepareDevice, type PrepareDeviceOptions, type PrepareDeviceResult} from './device/prepare.js'
/** The registration config (registration.json): load, parse, check; the device service presets. */
export {checkRegistrationConfig, DEVICE_SERVICE_PRESETS, loadRegistrationConfig, parseRegistrationConfig, type RegistrationConfig} from './device/config.js'
/** The registration body snapd sends to the device service, and the hardware facts it may carry. */
export {BODY_FACTS, type BodyFact, emitRegistrationBody, readBodyFacts} from './device/body.js'
/** How snapctl is run: the default runner, and the interface a test or another host supplies. */
export {type SnapctlRunner, spawnSnapctl} from './device/snapctl.js'
/**
 * Hardware-identity onboarding (snapd 2.74 and later): the prepare-serial-request hook's work, the
 * device's hardware identity key behind a key store (a file today), its export for the factory
 * station and the proof it sets as the body.
 */
export {prepareSerialRequest, type PrepareSerialRequestOptions, type PrepareSerialRequestResult} from './device/serial-request.js'
export {FileHardwareKeyStore, HardwareKey, type HardwareIdentityExport, hardwareIdentityExport, type HardwareKeyStore, hardwareProofBody, type HardwareProofBody} from './identity/hardware-key.js'
/** The device's Ed25519 identity key, its signatures, and their verification in a body, serial-request or serial. */
export {DeviceIdentity, loadOrCreateIdentity, signWithIdentity} from './identity/key.js'
export {type IdentityVerification, verifyIdentity} from './identity/verify.js'
export {type IdentityDocumentReport, parseRegistrationBody, verifyIdentityDocument, type VerifyIdentityDocumentOptions} from './identity/document.js'
/** A device registering as snapd would, without snapd: key, hook, request-id, serial and snapd's checks; or N of them. */
export {type DeviceOptions, type FleetOptions, type FleetSummary, registerDevice, registerFleet, type RegistrationResult, type Verdict} from './simulate/index.js'

// -- gadget project scaffolding (init) ------------------------------------------------------------

/** Plan the files of a gadget project for a board, then write them all or nothing. */
export {type PlannedFile, planScaffold, type ScaffoldOptions, type ScaffoldPlan} from './scaffold/plan.js'
export {checkScaffoldTarget, type WriteOptions, type WriteResult, writeScaffold, type WrittenFile} from './scaffold/write.js'
/** init's board profiles (volumes, bootloader, kernel, the serial chain's board). */
export {type GadgetBoardProfile, listBoardProfiles, loadBoardProfile} from './scaffold/boards.js'
/** The model assertion's input for `snap sign`, built and checked as snapd checks it. */
export {buildModelJson, checkModelJson, type ModelJson} from './scaffold/model-assertion.js'

// -- why a device did not register (doctor) -------------------------------------------------------

/** Read a device (state.json, snapd's socket, ssh), probe its service, compare its gadget project: the steps in snapd's order and one cause with its fix. */
export {type DoctorOptions, type DoctorReport, runDoctor} from './doctor/index.js'
/** Every cause doctor names: the step, what snapd says by version, the cause and the fix. */
export {CAUSES, type CauseCode} from './doctor/index.js'

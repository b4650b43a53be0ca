/**
 * Scaffolding gadget snap projects (`snap-gadget init`): board profiles, the plan of files,
 * writing it, the model assertion input and snapd's naming rules. Nothing here prints.
 */
export {type Base, BASES, type BoardKernel, type GadgetBoardProfile, type BoardSearchOptions, boardProfileIds, listBoardProfiles, loadBoardProfile} from './boards.js'
export {buildModelJson, checkModelJson, type ModelGrade, type ModelInput, type ModelJson, modelProblems, type ModelSnapInput, type StorageSafety, WELL_KNOWN_SNAP_IDS} from './model-assertion.js'
export {accountIdProblem, channelProblem, modelNameProblem, snapIdProblem, snapNameProblem, storeIdProblem} from './naming.js'
export {DEVICE_ENGINE, type PlannedFile, planScaffold, type ScaffoldOptions, type ScaffoldPlan} from './plan.js'
export {lintTemplate, type TemplateKind} from './render.js'
export {checkScaffoldTarget, type WriteOptions, type WriteResult, writeScaffold, type WrittenFile} from './write.js'

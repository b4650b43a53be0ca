/**
 * The entry of dist/runtime/prepare-device.cjs: starts the runtime on the engine it finds. It
 * exports nothing, so the bundle has no module.exports, which QuickJS would not know.
 */
import {start} from './main.js'

start()

/**
 * Picks the host before any other module of the runtime runs: main.ts imports this first, so
 * Buffer and setTimeout exist on QuickJS by the time the serial code's modules are evaluated.
 */
import {useHost} from '../../support/host.js'
import {installQuickJsGlobals, onQuickJs, quickjsHost} from './quickjs.js'

if (onQuickJs()) {
  installQuickJsGlobals()
  useHost(quickjsHost)
}

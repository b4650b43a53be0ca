/**
 * The shipped board profiles compiled into the single-file runtime: the bundle has no boards/
 * directory beside it to read them from. The same checks apply as to the files
 * (checkBoardProfile); a test keeps this list equal to src/serial/boards/.
 */
import {UserError} from '../errors.js'
import {type SerialBoardProfile, checkBoardProfile} from '../serial/boards.js'
import allwinner from '../serial/boards/allwinner.json' with {type: 'json'}
import beaglebone from '../serial/boards/beaglebone.json' with {type: 'json'}
import beagleplay from '../serial/boards/beagleplay.json' with {type: 'json'}
import genericArm from '../serial/boards/generic-arm.json' with {type: 'json'}
import jetson from '../serial/boards/jetson.json' with {type: 'json'}
import nxpImx from '../serial/boards/nxp-imx.json' with {type: 'json'}
import onieSwitch from '../serial/boards/onie-switch.json' with {type: 'json'}
import qualcomm from '../serial/boards/qualcomm.json' with {type: 'json'}
import raspberryPi from '../serial/boards/raspberry-pi.json' with {type: 'json'}
import rockchip from '../serial/boards/rockchip.json' with {type: 'json'}
import x86 from '../serial/boards/x86.json' with {type: 'json'}
import type {BoardCatalog} from '../device/config.js'

const PROFILES: Readonly<Record<string, unknown>> = {
  allwinner,
  beaglebone,
  beagleplay,
  'generic-arm': genericArm,
  jetson,
  'nxp-imx': nxpImx,
  'onie-switch': onieSwitch,
  qualcomm,
  'raspberry-pi': raspberryPi,
  rockchip,
  x86,
}

const checked = new Map<string, SerialBoardProfile>()

export const builtinBoards: BoardCatalog = {
  ids: () => Object.keys(PROFILES),
  load(id) {
    const cached = checked.get(id)
    if (cached) return cached
    if (!Object.hasOwn(PROFILES, id)) {
      // An init board id (pc-amd64, …) names the profile that lists it as an alias, as on the CLI.
      const aliased = Object.keys(PROFILES).find((known) => this.load(known).aliases?.includes(id))
      if (aliased) return this.load(aliased)
      throw new UserError('E_SERIAL_BOARD', `unknown board "${id}"`, {hint: `boards: ${Object.keys(PROFILES).join(', ')}`, kind: 'usage'})
    }

    const file = `(built in) boards/${id}.json`
    const profile = checkBoardProfile(PROFILES[id], {file}, file)
    checked.set(id, profile)
    return profile
  },
}

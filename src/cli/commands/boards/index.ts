import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {painter, useColor} from '../../../support/paint.js'

export default class Boards extends BaseCommand {
  static override description = `Lists the board profiles init can make a gadget for: architectures, bases, bootloader, volumes, the serial chain the prepare-device hook runs and the interfaces it plugs, and the kernel snap.

A profile is a directory (templates/boards/<id>/ in this package): profile.json and the files the gadget gets. --board-dir adds your own, in the same shape.`

  static override enableJsonFlag = true

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json', '<%= config.bin %> <%= command.id %> --board-dir ./boards']

  static override flags = {
    'board-dir': Flags.string({description: 'your own board profiles: a profile directory or a directory of them', helpValue: 'DIR', multiple: true}),
  }

  static override summary = 'List the board profiles for init.'

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Boards)
    const {listBoardProfiles} = await import('../../../scaffold/boards.js')
    const {boardsJson, boardsText} = await import('./present.js')
    const boards = listBoardProfiles({boardDirs: flags['board-dir']})
    if (this.jsonEnabled()) return boardsJson(boards)
    process.stdout.write(boardsText(boards, painter(useColor(process.stdout))))
    return undefined
  }
}

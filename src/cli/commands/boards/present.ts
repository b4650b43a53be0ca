/** What `snap-gadget boards` prints: the board profiles init knows, as text or JSON. */
import type {GadgetBoardProfile} from '../../../scaffold/boards.js'
import type {Paint} from '../../../support/paint.js'

export function boardsJson(boards: readonly GadgetBoardProfile[]): Record<string, unknown>[] {
  return boards.map((b) => ({
    architectures: b.architectures,
    bases: b.bases,
    bootloader: b.bootloader,
    description: b.description,
    id: b.id,
    interfaces: b.interfaces,
    kernel: b.kernel ?? null,
    notes: b.notes,
    origin: b.origin,
    serialBoard: b.serialBoard,
    title: b.title,
    volumes: Object.keys(b.volumes),
  }))
}

export function boardsText(boards: readonly GadgetBoardProfile[], paint: Paint): string {
  let text = ''
  for (const b of boards) {
    text += `${paint('bold', b.id)}  ${b.title}${b.origin === 'built-in' ? '' : paint('dim', ` (from ${b.origin})`)}\n`
    text += `  ${b.architectures.join(', ')}; ${b.bases.join(', ')}; bootloader ${b.bootloader}; volumes ${Object.keys(b.volumes).join(', ')}\n`
    text += `  serial: the ${b.serialBoard} chain, the hook plugs ${b.interfaces.join(', ')}${b.kernel ? `; kernel ${b.kernel.name}` : '; your own kernel snap (--kernel)'}\n`
  }

  text += `\n${paint('dim', 'snap-gadget init --board <id> makes a gadget for one of them; --board-dir adds your own profiles.')}\n`
  return text
}

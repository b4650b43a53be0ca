import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'

export default class Layout extends BaseCommand {
  static override args = {
    path: Args.string({default: '.', description: 'gadget.yaml, a gadget project directory, or a built snap tree (meta/gadget.yaml)'}),
  }

  static override description = `Draws the disk as snapd lays the gadget out: for each volume, every structure in disk order with its start, end and size, name, role, partition type (with its well-known name), filesystem and label, the raw images placed inside it and the files copied in, the gaps between structures, and the sectors the partition table takes (MBR, or GPT's protective MBR, header and entries for --sector-size 512 or 4096). What validate finds on the layout (overlaps, a structure over the partition table, an image that does not fit, min-size against size) is drawn where it is, with its rule id.

The numbers are snapd's own: judged as validate judges (the snapd a project assumes, else the latest; --snapd to choose), 2.57's LayoutVolume before 2.60 and the newer parse-time placement after.

Formats: text (a picture for the terminal, with a table beneath; plain when not a terminal or with NO_COLOR), svg (one self-contained file, for a browser or a pull request), html (the SVG, the tables and the findings, self-contained), json (the numbers). Exit 0 when snapd would accept the gadget, 1 when it would not (the layout is still drawn), 2 for usage or input errors.`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> examples/pc-amd64-core24',
    '<%= config.bin %> <%= command.id %> gadget.yaml --sector-size 4096',
    '<%= config.bin %> <%= command.id %> . --format svg --output layout.svg',
    '<%= config.bin %> <%= command.id %> prime --format html --output layout.html',
  ]

  /** Runs without oclif from dist/fast/layout.cjs when the arguments are plain (see src/cli/fast/launch.ts). */
  static fastEntry = 'layout'

  static override flags = {
    force: Flags.boolean({default: false, description: 'with --output: replace the file when it exists'}),
    format: Flags.option({char: 'f', description: 'text (default), svg, html or json', options: ['text', 'svg', 'html', 'json'] as const})(),
    model: Flags.string({description: "model assertion (or its snap sign JSON input): the labels a UC20+ model's roles imply"}),
    output: Flags.string({char: 'o', description: 'write to this file instead of stdout (never over a file without --force)', helpValue: 'FILE'}),
    'sector-size': Flags.option({default: '512', description: "the disk's logical sector size: where the GPT header and partition entries end", options: ['512', '4096'] as const})(),
    snapd: Flags.string({description: 'lay out as this snapd release would: 2.57 … latest; default: the snapd a project assumes, else latest'}),
    width: Flags.integer({description: 'columns of the text picture (default: the terminal, else 80)', min: 40}),
  }

  static override summary = 'Draw the disk as snapd lays the gadget out: text, SVG, HTML or JSON.'

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Layout)
    const {runLayout} = await import('./run.js')
    process.exitCode = runLayout(args.path, {...flags, json: this.jsonEnabled()}, {columns: () => process.stdout.columns, cwd: process.cwd(), stdout: process.stdout})
    return undefined
  }
}

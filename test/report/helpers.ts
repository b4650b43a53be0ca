/** Reports for the output-format tests, made by the real validator from small gadget.yaml texts. */
import assert from 'node:assert/strict'

import type {Finding} from '../../src/gadget/findings/finding.js'
import {type GadgetValidation, validateGadget, type ValidateOptions} from '../../src/gadget/validate.js'
import type {ValidationReport} from '../../src/report/types.js'

/** A report over several gadget.yaml texts keyed by file name, and those texts for code frames. */
export function reportOf(files: Record<string, string>, options: ValidateOptions = {}): {report: ValidationReport; sources: Map<string, string>} {
  const gadgets = Object.entries(files).map(([file, content]) => validateGadget({content, file}, options))
  return {report: assemble(gadgets, options), sources: new Map(Object.entries(files))}
}

/** A report from already validated gadgets (possibly edited by a test), with totals recounted. */
export function assemble(gadgets: GadgetValidation[], options: {snapd?: unknown; strict?: boolean} = {}): ValidationReport {
  const recounted = gadgets.map((g) => ({
    ...g,
    errors: g.findings.filter((f) => f.severity === 'error').length,
    warnings: g.findings.filter((f) => f.severity === 'warning').length,
  }))
  return {
    errors: recounted.reduce((n, g) => n + g.errors, 0),
    gadgets: recounted,
    snapd: recounted[0]?.snapd ?? String(options.snapd ?? 'latest'),
    strict: Boolean(options.strict),
    warnings: recounted.reduce((n, g) => n + g.warnings, 0),
  }
}

/** The one finding of `rule` in the report; fails the test if there is none or several. */
export function findingOf(report: ValidationReport, rule: string): Finding {
  const found = report.gadgets.flatMap((g) => g.findings).filter((f) => f.rule === rule)
  assert.equal(found.length, 1, `expected one ${rule} finding, got ${found.length}`)
  return found[0]
}

/** The report with one finding replaced (to give a real finding a message no rule produces). */
export function withFinding(report: ValidationReport, rule: string, change: (f: Finding) => Finding): ValidationReport {
  const target = findingOf(report, rule)
  const gadgets = report.gadgets.map((g) => ({...g, findings: g.findings.map((f) => (f === target ? change(f) : f))}))
  return assemble(gadgets, report)
}

/** Structures are laid out with their own hand-written problems; each text has exactly the problems named. */
export const gadgets = {
  /** S1: `size: 32K` on line 8, column 15 to 18. */
  size32K: `volumes:
  pc:
    bootloader: grub
    structure:
      - name: boot
        type: C12A7328-F81F-11D2-BA4B-00A0C93EC93B
        filesystem: vfat
        size: 32K
        offset: 1M
`,
  /** X1: structure "b" starts at 2M inside "a" (1M to 3M); the offset on line 14, column 17. */
  overlap: `volumes:
  pc:
    bootloader: grub
    structure:
      - name: a
        type: C12A7328-F81F-11D2-BA4B-00A0C93EC93B
        filesystem: vfat
        size: 2M
        offset: 1M
      - name: b
        type: 0FC63DAF-8483-4772-8E79-3D69D8477DE4
        filesystem: ext4
        size: 2M
        offset: 2M
`,
  /** P1: a tab indents line 3. */
  tabIndent: 'volumes:\n  pc:\n\tbootloader: grub\n',
  /** S1 after a tab: `size:\t32K` on line 7, the value at column 15. */
  tabBeforeValue: 'volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - name: a\n        type: bare\n        size:\t32K\n',
  /** P4 (warning): bootloader twice, the second on line 4, column 5 to 15. */
  duplicateKey: `volumes:
  pc:
    bootloader: grub
    bootloader: grub
    structure:
      - name: a
        type: bare
        size: 1M
`,
  /** V2: a volume name with `<&>%,:|'` in it, line 2. */
  oddVolumeName: `volumes:
  "x<&>%,:|'y":
    bootloader: grub
    structure:
      - name: a
        type: bare
        size: 1M
`,
  /** S1 far along a long line: `size: 32K` at column 156 of line 5 (plus an N3 warning for the long name). */
  longLine: `volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - {name: ${'a'.repeat(120)}, type: bare, size: 32K}\n`,
  /** No findings. */
  clean: `volumes:
  pc:
    bootloader: grub
    structure:
      - name: a
        type: bare
        size: 1M
`,
}

/**
 * The layout as numbers: every byte figure an integer, structures in disk order.
 *
 *   {"file", "snapd", "sector-size", "valid",
 *    "volumes": [{"name", "schema", "bootloader", "sector-size", "end",
 *                 "partition-table": [{"start", "size", "what"}],
 *                 "structures": [{"name", "role", "type", "type-name", "start", "size", "end",
 *                                 "min-size"?, "offset-write"?, "filesystem", "label",
 *                                 "content": [{"image", "start", "size"?} | {"source", "target"}],
 *                                 "problems": [{"rule", "severity", "message"}]}],
 *                 "gaps": [{"start", "size"}], "problems": [...]}],
 *    "findings": [...]}
 *
 * A figure past 2^53 is written as its decimal text (see n()).
 */
import type {DiskLayout, LayoutMark} from './model.js'

export function formatLayoutJson(layout: DiskLayout): string {
  const document = {
    file: layout.file,
    snapd: layout.snapd,
    'sector-size': layout.sectorSize,
    valid: layout.verdict.valid,
    ...(layout.verdict.error ? {error: layout.verdict.error} : {}),
    volumes: layout.volumes.map((v) => ({
      name: v.name,
      schema: v.schema,
      bootloader: v.bootloader,
      'sector-size': v.sectorSize,
      end: n(v.end),
      'partition-table': v.partitionTable.map((r) => ({start: n(r.start), size: n(r.size), what: r.what})),
      structures: v.structures.map((s) => ({
        name: s.name,
        role: s.role,
        type: s.type,
        'type-name': s.typeName,
        start: n(s.start),
        size: n(s.size),
        end: n(s.end),
        ...(s.minSize === undefined ? {} : {'min-size': n(s.minSize)}),
        ...(s.offsetWrite === undefined ? {} : {'offset-write': n(s.offsetWrite)}),
        filesystem: s.filesystem,
        label: s.label,
        content: [...s.images.map((c) => ({image: c.image, start: n(c.start), ...(c.size === undefined ? {} : {size: n(c.size)}), ...problems(c.marks)})), ...s.files],
        ...problems(s.marks),
      })),
      gaps: v.gaps.map((g) => ({start: n(g.start), size: n(g.size)})),
      ...problems(v.marks),
    })),
    findings: layout.findings.map((f) => ({rule: f.rule, severity: f.severity, message: f.message, ...(f.start ? {line: f.start.line, column: f.start.column} : {})})),
  }
  return `${JSON.stringify(document, null, 2)}\n`
}

function problems(marks: readonly LayoutMark[]): {problems?: LayoutMark[]} {
  return marks.length > 0 ? {problems: marks.map((m) => ({message: m.message, rule: m.rule, severity: m.severity}))} : {}
}

/**
 * A byte figure as a JSON integer. A figure past 2^53 (only a gadget snapd refuses has one: a size
 * that wraps Go's uint64) is its decimal text, which a JSON number would round.
 */
function n(value: bigint): number | string {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? value.toString() : Number(value)
}

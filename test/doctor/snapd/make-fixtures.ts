/**
 * Makes the state.json fixtures of `snap-gadget doctor` with snapd's own DeviceManager: builds
 * snapd's devicestate tests with fixtures_test.go beside them (build.ts), runs each case of
 * cases.ts against `snap-gadget serve` (the built CLI: npm run build first), and writes what snapd
 * left as test/fixtures/doctor/<case>/<snapd version>/state.json.
 *
 *   node --import tsx test/doctor/snapd/make-fixtures.ts [--snapd 2.57,2.77] [--out DIR]
 *
 * 2.77 needs sid's source unpacked (../shared/tools/snapd-newest-go.sh --dest .cache/snapd-newest-go,
 * or SNAP_GADGET_SNAPD_NEWEST=DIR); its first build takes about ten minutes on two cores, later
 * ones reuse Go's cache (GOCACHE).
 *
 * What is changed in snapd's state before it is saved: nothing but its layout. snapd writes the
 * state on one line; so are the fixtures. The times in it (spawn, ready, log lines, the
 * certificate dates in snapd's TLS messages) are the real ones of the run, and the service URL
 * carries the port serve listened on: no case depends on them. The api-key is a test value. There
 * are no paths of this machine in the state (checked below).
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {binRun, fixtures, projectRoot} from '../../helpers/paths.js'
import {buildFixtureTests, run, SNAPD_LINES, type SnapdLine, type SnapdSource, snapdSource} from './build.js'
import {FIXTURE_CASES} from './cases.js'

/** The api-key serve expects in the fixtures: a test value, shown by nothing (doctor masks it). */
export const FIXTURE_API_KEY = 'factory-key-for-fixtures-0001'
/** What the fixtures hold that no report may show: the api-keys the hooks set, and the bodies (fixtures_test.go). */
export const FIXTURE_SECRETS = [FIXTURE_API_KEY, 'an-old-factory-key', 'board-model: UP Squared', 'request-id-signature":"MEUC']

export interface MadeFixtures {
  /** By snapd line: the version directory name (snapd-2.57.6) and the cases it made. */
  lines: Partial<Record<SnapdLine, {version: string; cases: string[]}>>
  /** Lines that could not be made here, with the reason. */
  skipped: Partial<Record<SnapdLine, string>>
}

/** The version directory of a source: `snapd-2.57.6` (the Debian revision dropped). */
export function versionDir(source: SnapdSource): string {
  return `snapd-${source.version.replace(/-[^-]*$/, '')}`
}

/** The line the prepare-device runtime prints when a board gives no serial: what the failing hook says. */
export function hookFailureLine(): string {
  const empty = mkdtempSync(join(tmpdir(), 'snap-gadget-empty-root-'))
  try {
    const runtime = join(projectRoot, 'dist', 'runtime', 'prepare-device.cjs')
    const config = join(projectRoot, 'examples', 'pc-amd64-core24', 'runtime', 'registration.json')
    const result = spawnSync(process.execPath, [runtime, '--config', config, '--root', empty, '--dry-run'], {encoding: 'utf8', timeout: 60_000})
    const line = result.stderr.trim()
    if (result.status !== 1 || !line.startsWith('prepare-device: ') || line.includes('\n')) throw new Error(`the runtime did not fail as expected (exit ${result.status}): ${result.stderr}`)
    return line
  } finally {
    rmSync(empty, {force: true, recursive: true})
  }
}

export async function makeFixtures(options: {lines: readonly SnapdLine[]; out: string; log?: (line: string) => void; required?: boolean}): Promise<MadeFixtures> {
  const log = options.log ?? (() => {})
  if (!existsSync(join(projectRoot, 'dist', 'cli', 'commands', 'serve', 'index.js'))) throw new Error('snap-gadget is not built: npm run build')
  const made: MadeFixtures = {lines: {}, skipped: {}}
  const work = mkdtempSync(join(tmpdir(), 'snap-gadget-doctor-fixtures-'))
  try {
    const input = join(work, 'input.json')
    writeFileSync(input, `${JSON.stringify({'api-key': FIXTURE_API_KEY, 'hook-failure': hookFailureLine(), out: join(work, 'raw')}, null, 2)}\n`)
    for (const line of options.lines) {
      const source = snapdSource(line)
      if (typeof source === 'string') {
        if (options.required) throw new Error(source)
        made.skipped[line] = source
        log(`snapd ${line}: skipped: ${source}`)
        continue
      }

      const binary = await buildFixtureTests(source, log)
      const raw = join(work, 'raw')
      rmSync(raw, {force: true, recursive: true})
      // One run of the suite for all the cases: its keys are made once.
      const tests = [...new Set(FIXTURE_CASES.filter((c) => c.cause[line] !== undefined).map((c) => c.test))]
      const scratch = mkdtempSync(join(work, 'run-'))
      log(`snapd ${source.version}: ${tests.join(', ')}`)
      const result = await run(binary, ['-test.run', '^TestDeviceManager$', '-check.f', `^doctorFixtureSuite\\.(${tests.join('|')})$`, '-check.v'], {
        cwd: scratch,
        env: {...process.env, SNAP_GADGET_COMMAND: JSON.stringify([process.execPath, binRun]), SNAP_GADGET_DOCTOR_INPUT: input, TMPDIR: scratch},
        timeout: 1_800_000,
      })
      if (result.code !== 0 || !new RegExp(`\\nOK: ${tests.length} passed\\n`).test(result.output)) throw new Error(`snapd ${source.version}'s cases failed:\n${result.output}`)
      rmSync(scratch, {force: true, recursive: true})

      const dir = versionDir(source)
      const cases: string[] = []
      for (const fixture of FIXTURE_CASES.filter((c) => c.cause[line] !== undefined)) {
        const file = join(raw, fixture.name, 'state.json')
        if (!existsSync(file)) throw new Error(`snapd ${source.version}: ${fixture.test} saved no ${fixture.name}`)
        const state = readFileSync(file, 'utf8')
        checkNothingLocal(state, `${fixture.name} (snapd ${source.version})`, work)
        const target = join(options.out, fixture.name, dir)
        mkdirSync(target, {recursive: true})
        writeFileSync(join(target, 'state.json'), state)
        cases.push(fixture.name)
      }

      made.lines[line] = {cases, version: dir}
    }
  } finally {
    rmSync(work, {force: true, recursive: true})
  }

  return made
}

/** A state must not carry a path of the machine that made it, nor anything but the test api-key. */
function checkNothingLocal(state: string, what: string, work: string): void {
  for (const local of [work, tmpdir(), projectRoot, process.env.HOME ?? '/root']) {
    if (local.length > 1 && state.includes(local)) throw new Error(`${what}: the state holds the local path ${local}`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const value = (name: string) => {
    const i = args.indexOf(name)
    return i === -1 ? undefined : args[i + 1]
  }

  const lines = (value('--snapd')?.split(',') ?? SNAPD_LINES) as SnapdLine[]
  for (const line of lines) if (!SNAPD_LINES.includes(line)) throw new Error(`--snapd takes ${SNAPD_LINES.join(', ')}, not ${line}`)
  const out = value('--out') ?? fixtures('doctor')
  const made = await makeFixtures({lines, log: (line) => console.error(line), out, required: value('--snapd') !== undefined})
  for (const [line, result] of Object.entries(made.lines)) console.error(`snapd ${line}: ${result.cases.length} fixtures in ${join(out, '*', result.version)}`)
  const present = readdirSync(out, {withFileTypes: true}).filter((e) => e.isDirectory())
  console.error(`${present.length} cases in ${out}`)
}

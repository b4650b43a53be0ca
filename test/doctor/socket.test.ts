/**
 * `--socket`: snapd's REST API read over a unix socket. A stand-in answers with what snapd 2.57.6
 * answered on a real daemon (its JSON, trimmed), for the paths doctor reads; the live test
 * (socket-live.test.ts) reads the daemon itself.
 */
import assert from 'node:assert/strict'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {diagnose} from '../../src/doctor/diagnose.js'
import {readSocket} from '../../src/doctor/socket.js'
import {UserError} from '../../src/errors.js'
import {freshDir, scratchDir} from '../helpers/scratch.js'

const work = scratchDir('snap-gadget-doctor-socket-')

const sync = (result: unknown) => ({result, status: 'OK', 'status-code': 200, type: 'sync'})
const error = (status: number, message: string, kind?: string) => ({result: {kind, message}, status: 'Error', 'status-code': status, type: 'error'})

/** What snapd 2.57.6 answered once an "Initialize device" change had failed on DNS. */
const DAEMON: Record<string, [number, unknown]> = {
  '/v2/changes?select=all': [
    200,
    sync([
      {id: '1', kind: 'seed', ready: true, status: 'Done', summary: 'Initialize system state', tasks: []},
      {
        err: 'cannot perform the following tasks:\n- Request device serial (…)',
        id: '3',
        kind: 'become-operational',
        ready: true,
        'spawn-time': '2026-12-07T07:38:06.068359918Z',
        status: 'Error',
        summary: 'Initialize device',
        tasks: [
          {id: '16', kind: 'generate-device-key', status: 'Done', summary: 'Generate device key'},
          {
            id: '17',
            kind: 'request-serial',
            log: [
              '2026-12-07T07:38:12Z ERROR cannot retrieve request-id for making a request for a serial: Post "https://api.snapcraft.io/api/v1/snaps/auth/request-id": dial tcp: lookup api.snapcraft.io on 10.255.255.53:53: no such host',
            ],
            status: 'Error',
            summary: 'Request device serial',
          },
        ],
      },
    ]),
  ],
  '/v2/model/serial?json=true': [404, error(404, 'no serial assertion yet', 'assertion-not-found')],
  '/v2/model?json=true': [200, sync({headers: {'authority-id': 'generic', 'brand-id': 'generic', classic: 'true', model: 'generic-classic', series: '16', type: 'model'}})],
  '/v2/snaps': [200, sync([])],
  '/v2/snaps/system/conf?keys=proxy': [400, error(400, 'snap "core" has no "proxy" configuration option', 'option-not-found')],
  '/v2/snaps/system/conf?keys=store.access': [400, error(400, 'snap "core" has no "store" configuration option', 'option-not-found')],
  '/v2/system-info': [200, sync({'on-classic': true, series: '16', 'system-mode': 'run', version: '2.57.6-1+deb12u1+b2'})],
}

async function fakeSnapd(answers: Record<string, [number, unknown]>, options: {silent?: boolean} = {}): Promise<{path: string; server: Server; asked: string[]}> {
  const path = join(freshDir('snap-gadget-doctor-sock-'), 'snapd.socket')
  const asked: string[] = []
  const server = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`)
    if (options.silent) return
    const [status, body] = answers[req.url ?? ''] ?? [404, error(404, 'not found')]
    res.writeHead(status, {'Content-Type': 'application/json', Date: 'Mon, 07 Dec 2026 07:39:03 GMT'})
    res.end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(path, resolve))
  after(() => server.close())
  return {asked, path, server}
}

describe("snapd's REST API", () => {
  it('reads the version, the clock, the model, the changes, the snaps; doctor names the cause', async () => {
    const {asked, path} = await fakeSnapd(DAEMON)
    const view = await readSocket({path})
    assert.equal(view.snapdVersion?.version, '2.57.6-1+deb12u1+b2')
    assert.equal(view.deviceTime?.time.toISOString(), '2026-12-07T07:39:03.000Z')
    assert.deepEqual([view.hasModel, view.brand, view.model, view.gadget, view.serial, view.seeded, view.snapCount], [true, 'generic', 'generic-classic', undefined, undefined, true, 0])
    assert.deepEqual(
      view.changes.map((c) => [c.id, c.status, c.tasks.map((t) => t.kind)]),
      [['3', 'Error', ['generate-device-key', 'request-serial']]],
    )
    assert.ok(
      asked.every((a) => a.startsWith('GET ')),
      'only GETs',
    )
    const diagnosis = diagnose({view})
    assert.equal(diagnosis.cause?.code, 'dns')
    assert.equal(diagnosis.steps.find((s) => s.id === 'prepare-device')?.status, 'skipped')
  })

  it('a gadget whose config snapd gives to root only: said, and the rest still read', async () => {
    const {path} = await fakeSnapd({
      ...DAEMON,
      '/v2/model?json=true': [200, sync({headers: {'brand-id': 'acme', gadget: 'gw-100-gadget', model: 'gw-100', type: 'model'}})],
      '/v2/snaps/gw-100-gadget/conf': [403, error(403, 'access denied', 'login-required')],
    })
    const view = await readSocket({path})
    assert.equal(view.gadget, 'gw-100-gadget')
    assert.equal(view.gadgetConfig, undefined)
    assert.match(view.gaps.join('\n'), /the gadget's config needs root/)
    assert.match(diagnose({view}).notes.join('\n'), /run doctor with sudo/)
  })

  it('registered: the serial and its key come from the serial assertion', async () => {
    const {path} = await fakeSnapd({...DAEMON, '/v2/model/serial?json=true': [200, sync({headers: {'brand-id': 'generic', 'device-key-sha3-384': 'KEY', model: 'generic-classic', serial: 'S-1', type: 'serial'}})]})
    const diagnosis = diagnose({view: await readSocket({path})})
    assert.equal(diagnosis.registered, true)
    assert.equal(diagnosis.device.serial, 'S-1')
  })

  it('no socket, a socket that does not answer, an answer that is not JSON: input errors (exit 2)', async () => {
    const missing = (e: unknown) => e instanceof UserError && e.code === 'E_DOCTOR_SOCKET' && e.exitCode === 2 && /no such socket/.test(e.message)
    await assert.rejects(readSocket({path: join(work, 'nothing.socket')}), missing)
    const {path} = await fakeSnapd({}, {silent: true})
    await assert.rejects(readSocket({path, timeoutMs: 200}), /no answer within 0.2 s/)
    const notJson = join(freshDir('snap-gadget-doctor-sock-'), 'other.socket')
    const other = createServer((_req, res) => res.end('<html>'))
    await new Promise<void>((resolve) => other.listen(notJson, resolve))
    after(() => other.close())
    await assert.rejects(readSocket({path: notJson}), /did not answer JSON/)
  })
})

/**
 * The simulator's lab: a gadget made by `init` (pc-amd64, core24, pointed at a local serve), the
 * captured UP board laid out as a root, the brand's model for that gadget followed by the brand's
 * chain (as a seed holds it), the test root a device trusts, and `serve` started in-process. And
 * crafted device services: loopback servers answering request-id and serial as a case says, each
 * serial made for the device that asked (its key, its request), so that the simulator and snapd's
 * DeviceManager meet exactly the same answers.
 */
import {createServer, type IncomingMessage, type Server} from 'node:http'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {parseAssertions, type SignedAssertion} from '../../src/assertions/index.js'
import {loadServiceConfig, type RunningService, startDeviceService} from '../../src/service/index.js'
import {readGadgetTree, readModel, readTrust} from '../../src/simulate/index.js'
import type {DeviceOptions} from '../../src/simulate/index.js'
import {makeBrandChain, testKeys} from '../helpers/assertions.js'
import {generate, hardwareFor, tempDir} from '../scaffold/helpers.js'
import {API_KEY, BRAND, brandKey, type Lab, makeLab, MODEL, rootKey} from '../service/helpers.js'
import {makeRoot, removeRoot} from '../serial/helpers/root.js'

export {API_KEY, BRAND, MODEL}

/** The brand's chain under the lab's test root: what serve returns after a serial. */
export const chain = makeBrandChain(rootKey, brandKey, {brandId: BRAND})

export interface SimulationLab {
  dir: string
  /** The gadget project init made. */
  gadget: string
  gadgetName: string
  /** The model assertion, then the brand's account and account-key. */
  modelFile: string
  /** The test root's account and account-key. */
  trustFile: string
  /** The captured UP board as a root tree, and the serial the hook derives from it. */
  root: string
  serial: string
  /** serve's lab (config with the brand key), for starting serve. */
  serveLab: Lab
  cleanup(): Promise<void>
}

/** Makes the whole lab: gadget, hardware, model, trust; nothing is started. */
export async function makeSimulationLab(options: {board?: 'pc-amd64'; extraModelHeaders?: Record<string, unknown>} = {}): Promise<SimulationLab> {
  const dir = tempDir('simulate')
  const {dir: gadget, plan} = await generate(options.board ?? 'pc-amd64', 'core24', {deviceService: 'local'})
  const hardware = hardwareFor('pc-amd64')
  const root = await makeRoot(hardware.tree)
  const model = signLabModel(plan.name, options.extraModelHeaders)
  const modelFile = join(dir, 'model.assert')
  writeFileSync(modelFile, `${model.text}\n${chain.account.text}\n${chain.accountKey.text}`)
  const trustFile = join(dir, 'root.assert')
  writeFileSync(trustFile, `${chain.trusted[0].text}\n${chain.trusted[1].text}`)
  const serveLab = makeLab()
  return {
    async cleanup() {
      await removeRoot(root)
      rmSync(dir, {force: true, recursive: true})
      rmSync(join(gadget, '..'), {force: true, recursive: true})
      rmSync(serveLab.dir, {force: true, recursive: true})
    },
    dir,
    gadget,
    gadgetName: plan.name,
    modelFile,
    root,
    serial: hardware.serial,
    serveLab,
    trustFile,
  }
}

/** The lab's model (brand acme, model acme-pc) for the gadget `gadgetName`, signed by the brand. */
export function signLabModel(gadgetName: string, extra: Record<string, unknown> = {}): SignedAssertion {
  return chain.signModel({
    base: 'core24',
    model: MODEL,
    snaps: [
      {'default-channel': 'latest/stable', name: gadgetName, type: 'gadget'},
      {'default-channel': '24/stable', name: 'pc-kernel', type: 'kernel'},
    ],
    ...(extra as Record<string, never>),
  })
}

/** The SDK options for the lab's device on Node (the hook's api-key from the factory, the URL given). */
export function labDeviceOptions(lab: SimulationLab, extra: Partial<DeviceOptions> = {}): DeviceOptions {
  return {
    apiKey: API_KEY,
    engine: {command: process.execPath, kind: 'node'},
    gadget: readGadgetTree(lab.gadget),
    keyBits: 2048,
    model: readModel(lab.modelFile),
    root: lab.root,
    trusted: readTrust([lab.trustFile]),
    ...extra,
  }
}

/** serve, in this process, with the lab's config. */
export function startLabServe(lab: SimulationLab): Promise<RunningService> {
  const config = loadServiceConfig(lab.serveLab.config, {env: {LAB_API_KEY: API_KEY}})
  return startDeviceService(config, {version: 'test'})
}

// --- crafted device services ---------------------------------------------------------------------

/** What a device sent in its serial POST, as a crafted service reads it. */
export interface DeviceRequest {
  brand: string
  model: string
  requestId: string
  deviceKey: string
  serial: string
  body: string
  headers: IncomingMessage['headers']
}

export interface CraftedAnswer {
  status: number
  contentType?: string
  body: string
}

export interface CraftedService {
  url: string
  /** The serial POSTs received. */
  requests: DeviceRequest[]
  close(): Promise<void>
}

/** A loopback device service answering request-id with a fresh id and serial as `serial` says. */
export async function craftedService(serial: (request: DeviceRequest) => CraftedAnswer, requestId: () => CraftedAnswer = freshRequestId): Promise<CraftedService> {
  const requests: DeviceRequest[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    let length = 0
    req.on('data', (chunk: Buffer) => {
      length += chunk.length
      // A device sends a few KB: anything else is not what these tests play.
      if (length > 4 * 1024 * 1024) req.destroy()
      else chunks.push(chunk)
    })
    req.on('end', () => {
      let answer: CraftedAnswer
      if (req.url?.endsWith('/request-id')) answer = requestId()
      else if (req.url?.endsWith('/serial')) {
        const [request] = parseAssertions(Buffer.concat(chunks))
        const read = (name: string): string => String(request.headers[name] ?? '')
        const device: DeviceRequest = {body: request.body, brand: read('brand-id'), deviceKey: read('device-key'), headers: req.headers, model: read('model'), requestId: read('request-id'), serial: read('serial')}
        requests.push(device)
        answer = serial(device)
      } else answer = {body: '{"message":"no such endpoint"}', contentType: 'application/json', status: 404}
      const headers: Record<string, string | number> = {'Content-Length': Buffer.byteLength(answer.body)}
      if (answer.contentType !== undefined) headers['Content-Type'] = answer.contentType
      res.writeHead(answer.status, headers)
      res.end(answer.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as {port: number}
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
    requests,
    url: `http://127.0.0.1:${address.port}/v1/`,
  }
}

let nextId = 0
export function freshRequestId(): CraftedAnswer {
  return {body: JSON.stringify({'request-id': `crafted-${++nextId}-${Date.now()}`}), contentType: 'application/json', status: 200}
}

const keys = testKeys()
/** A partner the model may name in serial-authority, registered under the test root. */
export const partner = makeBrandChain(rootKey, keys.device, {brandId: 'acme-partner'})
/** A root no device trusts, and the brand's chain as it would sign it. */
export const rogue = makeBrandChain(keys.device2048, brandKey, {brandId: BRAND, rootId: 'rogue-root'})

const stream = (...assertions: SignedAssertion[]): string => assertions.map((a) => a.text).join('\n')
const serialOf = (request: DeviceRequest, overrides: {brand?: string; model?: string; deviceKey?: string} = {}): SignedAssertion =>
  chain.signSerial({
    body: request.body,
    deviceKey: overrides.deviceKey ?? request.deviceKey,
    headers: overrides.brand ? {'authority-id': overrides.brand, 'brand-id': overrides.brand} : {},
    model: overrides.model ?? request.model,
    serial: request.serial || 'crafted-serial',
  })
const assertionAnswer = (body: string): CraftedAnswer => ({body, contentType: 'application/x.ubuntu.assertion', status: 200})

/** A case both snapd and the simulator meet: how the crafted service answers the serial POST. */
export interface AgreementCase {
  name: string
  serial: (request: DeviceRequest) => CraftedAnswer
  /** The model carries serial-authority: [acme-partner]. */
  partnerAllowed?: boolean
}

/** The answers the proof plays: each reaches a different one of snapd's decisions. */
export const AGREEMENT_CASES: AgreementCase[] = [
  {name: 'accepted serial', serial: (r) => assertionAnswer(stream(serialOf(r), chain.account, chain.accountKey))},
  {name: 'accepted serial alone (the signing key from the seed)', serial: (r) => assertionAnswer(serialOf(r).text)},
  {name: 'wrong device key', serial: (r) => assertionAnswer(stream(serialOf(r, {deviceKey: keys.device.encodedPublicKey}), chain.account, chain.accountKey))},
  {name: 'wrong brand', serial: (r) => assertionAnswer(stream(serialOf(r, {brand: 'acme-other'}), chain.account, chain.accountKey))},
  {name: 'wrong model', serial: (r) => assertionAnswer(stream(serialOf(r, {model: `${MODEL}-other`}), chain.account, chain.accountKey))},
  {
    name: 'signer not allowed',
    serial: (r) => assertionAnswer(stream(partner.signSerial({body: r.body, deviceKey: r.deviceKey, headers: {'brand-id': BRAND}, model: r.model, serial: r.serial}), partner.account, partner.accountKey)),
  },
  {
    name: 'signer allowed by serial-authority',
    partnerAllowed: true,
    serial: (r) => assertionAnswer(stream(partner.signSerial({body: r.body, deviceKey: r.deviceKey, headers: {'brand-id': BRAND}, model: r.model, serial: r.serial}), partner.account, partner.accountKey)),
  },
  {name: 'broken chain', serial: (r) => assertionAnswer(stream(serialOf(r), rogue.account, rogue.accountKey))},
  {name: 'two serials', serial: (r) => assertionAnswer(stream(serialOf(r), serialOf(r), chain.account, chain.accountKey))},
  {name: '4xx with a message', serial: () => ({body: JSON.stringify({code: 'model-not-enabled', message: 'Serial vault refused the request: model not enabled'}), contentType: 'application/json', status: 400})},
  {name: '4xx with a message snapd does not show', serial: () => ({body: JSON.stringify({message: 'not shown: the media type has a charset'}), contentType: 'application/json; charset=UTF-8', status: 403})},
  {name: '500', serial: () => ({body: 'internal error', contentType: 'text/plain', status: 500})},
  {name: '5xx', serial: () => ({body: JSON.stringify({message: 'busy'}), contentType: 'application/json', status: 503})},
  {name: '202 accepted, poll', serial: () => ({body: '', status: 202})},
]

/** A scratch directory under the lab (created). */
export function scratch(lab: SimulationLab, name: string): string {
  const dir = join(lab.dir, name)
  mkdirSync(dir, {recursive: true})
  return dir
}

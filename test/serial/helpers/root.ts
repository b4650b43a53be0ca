/**
 * Fake root trees for serial tests: a temp directory laid out like `/` of a device, with files,
 * modes and relative symlinks (as sysfs has them), so sources read it through --root.
 */
import {chmod, mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, relative} from 'node:path'

export interface TreeFile {
  data: string | Uint8Array
  mode?: number
}

/** Path inside the root → content, a file with a mode, a symlink target (absolute inside the root), or a directory. */
export type TreeEntry = string | TreeFile | Uint8Array | {dir: true; mode?: number} | {symlink: string}
export type Tree = Record<string, TreeEntry>

/** Creates a root in a temp dir; `t.after(() => removeRoot(root))` cleans it up. */
export async function makeRoot(tree: Tree = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'snap-gadget-root-'))
  await addToRoot(root, tree)
  return root
}

export async function addToRoot(root: string, tree: Tree): Promise<void> {
  const modes: [string, number][] = []
  for (const [path, entry] of Object.entries(tree)) {
    const host = join(root, path)
    await mkdir(dirname(host), {recursive: true})
    if (typeof entry === 'string' || entry instanceof Uint8Array) await writeFile(host, entry)
    else if ('symlink' in entry) await symlink(relative(dirname(join(root, path)), join(root, entry.symlink)) || '.', host)
    else if ('dir' in entry) {
      await mkdir(host, {recursive: true})
      if (entry.mode !== undefined) modes.push([host, entry.mode])
    } else {
      await writeFile(host, entry.data)
      if (entry.mode !== undefined) modes.push([host, entry.mode])
    }
  }

  // Directory modes last, so a chmod 000 directory does not stop its own files being written.
  for (const [host, mode] of modes.reverse()) await chmod(host, mode)
}

export async function removeRoot(root: string): Promise<void> {
  await rm(root, {force: true, recursive: true})
}

export interface NicOptions {
  address: string
  /** addr_assign_type (default 0: permanent). */
  assign?: number
  /** ARPHRD type (default 1: Ethernet). */
  type?: number
  /** Parent device path (default a PCI function). */
  bus?: string
  driver?: string
  wireless?: boolean
  /** Put it under /sys/devices/virtual/net. */
  virtual?: boolean
  master?: string
}

/** A network interface as sysfs lays it out: the class symlink, attributes, device and driver links. */
export function nic(name: string, options: NicOptions): Tree {
  const parent = options.virtual ? '/sys/devices/virtual' : (options.bus ?? '/sys/devices/pci0000:00/0000:00:1f.6')
  const dir = `${parent}/net/${name}`
  const tree: Tree = {
    [`/sys/class/net/${name}`]: {symlink: dir},
    [`${dir}/addr_assign_type`]: `${options.assign ?? 0}\n`,
    [`${dir}/address`]: `${options.address}\n`,
    [`${dir}/type`]: `${options.type ?? 1}\n`,
  }
  if (!options.virtual) {
    const driver = options.driver ?? 'e1000e'
    tree[`${dir}/device`] = {symlink: parent}
    tree[`/sys/bus/pci/drivers/${driver}/bind`] = ''
    tree[`${parent}/driver`] = {symlink: `/sys/bus/pci/drivers/${driver}`}
  }

  if (options.wireless) tree[`${dir}/wireless/.keep`] = ''
  if (options.master) {
    tree[`/sys/devices/virtual/net/${options.master}/bonding/.keep`] = ''
    tree[`${dir}/master`] = {symlink: `/sys/devices/virtual/net/${options.master}`}
  }
  return tree
}

/** A NUL-terminated device-tree string property. */
export const dtString = (value: string) => Buffer.from(`${value}\0`, 'latin1')
/** A NUL-separated device-tree string list. */
export const dtStrings = (...values: string[]) => Buffer.from(values.map((v) => `${v}\0`).join(''), 'latin1')

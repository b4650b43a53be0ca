/**
 * An example serial source plugin for snap-gadget: ACME gateways keep their serial in a
 * "factory data" nvmem area as `key=value` lines, written once at the end of the production line.
 *
 * The contract (see README.md): export a SerialSource, or a function that takes the options from
 * the configuration and returns one. `read(context)` reads through `context.fs`, whose paths are
 * absolute inside the root (so `snap-gadget serial --root <captured tree>` works), and returns a
 * value or the reason there is none. It should not throw for an absent or odd source.
 */

/** @param {{key?: string, device?: string}} options */
export default function acmeFactoryData(options = {}) {
  const key = options.key ?? 'serial'
  const path = `/sys/bus/nvmem/devices/${options.device ?? 'acme-factory0'}/nvmem`
  return {
    id: 'acme-factory-data',
    description: `the "${key}" entry of the ACME factory data (${path})`,
    // The hook reads /sys/bus/nvmem: it needs hardware-observe.
    plugs: ['hardware-observe'],

    /** @param {import('snap-gadget').SourceContext} context */
    async read(context) {
      let text
      try {
        text = (await context.fs.readFile(path)).toString('latin1')
      } catch (error) {
        if (error.code === 'ENOENT') return {ok: false, status: 'absent', reason: `${path} does not exist`, origin: path}
        if (error.code === 'EACCES') return {ok: false, status: 'denied', reason: `${path}: permission denied`, origin: path}
        return {ok: false, status: 'error', reason: `${path}: ${error.message}`, origin: path}
      }

      // Unwritten factory data is all 0xFF: say so rather than returning garbage.
      if (/^\xFF*$/.test(text)) return {ok: false, status: 'invalid', reason: 'the factory data area is blank', origin: path}
      const line = text.split('\n').find((l) => l.startsWith(`${key}=`))
      if (!line) return {ok: false, status: 'absent', reason: `no ${key}= entry in the factory data`, origin: path}
      // The chain normalises, refuses placeholders and checks the serial's characters.
      return {ok: true, value: line.slice(key.length + 1), format: 'text', origin: path}
    },
  }
}

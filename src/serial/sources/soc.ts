/**
 * `soc-serial`: /sys/devices/soc0/serial_number from the generic SoC bus, filled by i.MX (OCOTP
 * UID, `%016llX`), Qualcomm (SMEM, 32-bit decimal) and some vendor BSPs. Old NXP BSP kernels name
 * it soc_uid. Qualcomm's 32 bits collide in large fleets: combine with soc_id there.
 */
import {readFirst} from './context.js'
import {defineSource} from './definition.js'
import {found, unavailable} from './source.js'

interface SocOptions {
  includeSocId: boolean
  separator: string
}

const SOC = '/sys/devices/soc0'

export const socSerial = defineSource<SocOptions>({
  create({includeSocId, separator}) {
    return {
      description: `${SOC}/serial_number${includeSocId ? ' with soc_id' : ''}`,
      id: 'soc-serial',
      plugs: ['hardware-observe'],
      async read(context) {
        const file = await readFirst(context.fs, [`${SOC}/serial_number`, `${SOC}/soc_uid`])
        if ('ok' in file) return file
        const serial = file.data.toString('latin1').trim()
        const isHex = /^[\da-f]+$/i.test(serial)
        if (!includeSocId) return found(serial, file.path, isHex ? 'hex' : 'text')
        const idFile = await readFirst(context.fs, [`${SOC}/soc_id`])
        if ('ok' in idFile) return unavailable(idFile.status === 'absent' ? 'invalid' : idFile.status, `serial_number is there but soc_id is not: ${idFile.reason}`, idFile.origin)
        const socId = idFile.data.toString('latin1').trim()
        // A placeholder serial stays a placeholder when a chip id is put in front of it.
        return found(`${socId}${separator}${isHex ? serial.toLowerCase() : serial}`, `${idFile.path} + ${file.path}`, 'text', {parts: [serial]})
      },
    }
  },
  id: 'soc-serial',
  options: {
    includeSocId: {default: false, doc: 'put soc_id in front of the serial (Qualcomm: 32-bit serials collide)', type: 'boolean'},
    separator: {default: '-', doc: 'between soc_id and the serial', pattern: /^[\w.-]+$/, type: 'string'},
  },
  plugs: ['hardware-observe'],
  summary: '/sys/devices/soc0/serial_number (i.MX, Qualcomm), optionally with soc_id',
})

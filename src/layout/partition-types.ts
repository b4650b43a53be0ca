/**
 * The well-known names of partition types as gadget.yaml writes them: a two-digit MBR type byte,
 * a GPT type GUID, both ("EF,C12A7328-…" for a hybrid), `bare`, or `mbr`. The GUIDs are the UEFI
 * Specification's and the Discoverable Partitions Specification's (uapi-group.org); the MBR bytes
 * are the common registry's (as fdisk and the kernel name them).
 */

const GPT_TYPES: ReadonlyMap<string, string> = new Map([
  ['C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'EFI System'],
  ['21686148-6449-6E6F-744E-656564454649', 'BIOS boot'],
  ['0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'Linux filesystem'],
  ['0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', 'Linux swap'],
  ['E6D6D379-F507-44C2-A23C-238F2A3DF928', 'Linux LVM'],
  ['A19D880F-05FC-4D3B-A006-743F0F84911E', 'Linux RAID'],
  ['4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', 'Linux root (x86-64)'],
  ['B921B045-1DF0-41C3-AF44-4C6F280D3FAE', 'Linux root (arm64)'],
  ['69DAD710-2CE4-4E3C-B16C-21A1D49ABED3', 'Linux root (arm)'],
  ['933AC7E1-2EB4-4F13-B844-0E14E2AEF915', 'Linux home'],
  ['BC13C2FF-59E6-4262-A352-B275FD6F7172', 'Linux extended boot (XBOOTLDR)'],
  ['EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', 'Microsoft basic data'],
  ['E3C9E316-0B5C-4DB8-817D-F92DF00215AE', 'Microsoft reserved'],
  ['DE94BBA4-06D1-4D40-A16A-BFD50179D6AC', 'Windows recovery'],
  ['024DEE41-33E7-11D3-9D69-0008C781F39F', 'MBR partition scheme'],
  ['3DE21764-95BD-54BD-A5C3-4ABE786F38A8', 'U-Boot environment'],
  ['2E54B353-1271-4842-806F-E436D6AF6985', 'Linux reserved (Android)'],
])

const MBR_TYPES: ReadonlyMap<string, string> = new Map([
  ['01', 'FAT12'],
  ['04', 'FAT16 (<32M)'],
  ['06', 'FAT16'],
  ['07', 'NTFS/exFAT'],
  ['0B', 'FAT32'],
  ['0C', 'FAT32 (LBA)'],
  ['0E', 'FAT16 (LBA)'],
  ['0F', 'extended (LBA)'],
  ['82', 'Linux swap'],
  ['83', 'Linux'],
  ['8E', 'Linux LVM'],
  ['DA', 'non-filesystem data'],
  ['EE', 'GPT protective'],
  ['EF', 'EFI System'],
  ['FD', 'Linux RAID'],
])

/** The type's well-known name ("Linux filesystem", "FAT32 (LBA)"), or the type itself when unknown. */
export function partitionTypeName(type: string, role = ''): string {
  if (type === 'mbr' || role === 'mbr') return 'MBR boot code'
  if (type === 'bare') return 'bare (no partition)'
  const named = type.split(',').map((part) => {
    const key = part.trim().toUpperCase()
    return /^[0-9A-F]{2}$/.test(key) ? MBR_TYPES.get(key) : GPT_TYPES.get(key)
  })
  if (named.every((name) => name === undefined)) return type
  return [...new Set(named.map((name, i) => name ?? type.split(',')[i].trim()))].join(' / ')
}

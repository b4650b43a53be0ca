/**
 * What must hold in a device service's database after any load, crash or restart, whichever
 * database it is (the same SQL runs on SQLite and PostgreSQL):
 * - every signing-log entry belongs to a device row with the same device key, at or below its
 *   revision;
 * - every device has exactly revision + 1 log entries (with the unique (serial, revision) that
 *   is revisions 0 … revision, no gap, no duplicate);
 * - a device key has one serial and a serial one key (the unique constraints, checked again);
 * - a log entry made by hardware identity names an identity bound to its device key, and an
 *   identity bound to a device key has a log entry for it.
 */
const CHECKS: Record<string, string> = {
  'a device has a log entry count other than revision + 1': `SELECT count(*) AS n FROM device d
     WHERE (SELECT count(*) FROM signing_log l WHERE l.brand = d.brand AND l.model = d.model AND l.serial = d.serial) <> d.revision + 1`,
  'a device key has more than one serial': 'SELECT count(*) AS n FROM (SELECT 1 FROM device GROUP BY brand, model, device_key_sha3_384 HAVING count(*) > 1) AS k',
  "a log entry has no device, another key, or a revision above the device's": `SELECT count(*) AS n FROM signing_log l
     WHERE NOT EXISTS (SELECT 1 FROM device d WHERE d.brand = l.brand AND d.model = l.model AND d.serial = l.serial
                       AND d.device_key_sha3_384 = l.device_key_sha3_384 AND l.revision BETWEEN 0 AND d.revision)`,
  'a log entry names a hardware identity bound to another device key, or none': `SELECT count(*) AS n FROM signing_log l
     WHERE l.hardware_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM hardware_identity h WHERE h.issuer_id = l.hardware_issuer
                       AND h.hardware_id = l.hardware_id AND h.device_key_sha3_384 = l.device_key_sha3_384)`,
  'a hardware identity is bound to a device key no log entry shows': `SELECT count(*) AS n FROM hardware_identity h
     WHERE h.device_key_sha3_384 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM signing_log l WHERE l.hardware_issuer = h.issuer_id
                       AND l.hardware_id = h.hardware_id AND l.device_key_sha3_384 = h.device_key_sha3_384)`,
}

/** The rules broken, each with how many rows break it; empty when the database is sound. */
export async function invariantViolations(query: (sql: string) => Promise<Array<{n: number | string}>>): Promise<string[]> {
  const broken: string[] = []
  for (const [rule, sql] of Object.entries(CHECKS)) {
    const n = Number((await query(sql))[0].n)
    if (n > 0) broken.push(`${rule}: ${n}`)
  }

  return broken
}

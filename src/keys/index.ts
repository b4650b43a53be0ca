/**
 * Brand keys held as PEM files: GnuPG keys (`snap create-key`) brought to PEM with their key id,
 * and private key files written safely.
 */
export {type GnupgKey, type GnupgSecret, gnupgPublicKey, type ImportedGnupgKey, importGnupgKey, type ImportGnupgOptions, looksLikeGnupgExport, MAX_GNUPG_EXPORT_BYTES, readGnupgExport} from './gnupg.js'
export {writePrivateKeyFile, type WritePrivateKeyOptions} from './private-key-file.js'

/**
 * Brand keys held as PEM files: snapd's id of a key in any form a brand holds it, GnuPG keys
 * (`snap create-key`) brought to PEM with their key id, snapd's external key manager protocol
 * over a directory of them, the account-key-request that registers one, and key files written
 * safely.
 */
export {type AccountKeyRequestInput, makeAccountKeyRequest} from './account-key-request.js'
export {type GnupgKey, type GnupgSecret, gnupgPublicKey, type ImportedGnupgKey, importGnupgKey, type ImportGnupgOptions, looksLikeGnupgExport, MAX_GNUPG_EXPORT_BYTES, readGnupgExport} from './gnupg.js'
export {KEY_MANAGER_FEATURES, keyFile, type KeyNames, listKeyNames, loadManagedKey, publicKeyDer, signDigestInfo} from './key-manager.js'
export {isValidAccountId, isValidKeyName, KEY_NAME_RULE, keyNameOfFile} from './names.js'
export {writePrivateKeyFile, type WritePrivateKeyOptions, writePublicKeyFile} from './private-key-file.js'
export {type KeyForm, MAX_KEY_FILE_BYTES, type PublicKeyInfo, readPublicKey, readPublicKeys} from './read-key.js'

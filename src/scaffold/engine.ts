/**
 * The engine the gadget's hooks run the registration runtime on: QuickJS, staged from the base's
 * Ubuntu package or built from the release tarball, and what init's templates say of it.
 */
import {InternalError} from '../errors.js'
import type {Base} from './boards.js'

/**
 * QuickJS runs the prepare-device hook's runtime on the device: one binary of about 1 MB, against
 * 25 to 35 MB for Node.js. A core24 gadget stages Ubuntu 24.04's package; Ubuntu 22.04 has none,
 * so a core22 gadget builds the release tarball, whose checksum snapcraft checks before the build.
 */
export const DEVICE_ENGINE = {
  /** Where the gadget's parts put qjs in the snap; the hook runs `$SNAP/<command> --std …`. */
  command: 'usr/bin/qjs',
  /** Bases whose Ubuntu release packages QuickJS. */
  packaged: {
    core24: {package: 'quickjs', release: 'Ubuntu 24.04 (noble, universe)', version: '2021.03.27'},
  } as Partial<Record<Base, {package: string; release: string; version: string}>>,
  /**
   * The release tarball, for bases without a package. The sha256 is the one of the file at `url`
   * (579,376 bytes), as Homebrew's formula for this release pins it. Debian's source package of
   * the same release (trixie, 2025.04.26-1) carries a repack of it, not the file itself (top
   * directory quickjs-2025.04.26/, 580,408 bytes, sha256 ec81da5b…): the tests build that one
   * with this part's commands (scripts/quickjs.sh source).
   */
  source: {
    sha256: '2f20074c25166ef6f781f381c50d57b502cb85d470d639abccebbef7954c83bf',
    url: 'https://bellard.org/quickjs/quickjs-2025-04-26.tar.xz',
    version: '2025-04-26',
  },
} as const

/** GNU triplets of the cross compilers a core22 gadget builds QuickJS with on amd64. */
const GNU_TRIPLETS: Record<string, string> = {amd64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', armhf: 'arm-linux-gnueabihf', riscv64: 'riscv64-linux-gnu'}

/** What the README and the parts say about the hook's QuickJS on this base. */
export function engineFor(base: Base, architecture: string): Record<string, unknown> {
  const packaged = DEVICE_ENGINE.packaged[base]
  const triplet = GNU_TRIPLETS[architecture]
  if (!packaged && !triplet) throw new InternalError(`no GNU triplet for ${architecture}: QuickJS cannot be built for it`)
  return {
    command: DEVICE_ENGINE.command,
    cross: architecture === 'amd64' ? null : `${triplet}-`,
    package: packaged?.package ?? null,
    release: packaged?.release ?? null,
    sha256: DEVICE_ENGINE.source.sha256,
    url: DEVICE_ENGINE.source.url,
    version: packaged?.version ?? DEVICE_ENGINE.source.version,
  }
}

/** The snapcraft part that puts qjs into the gadget: the base's package, or a build of the release tarball. */
export function quickjsPart(base: Base, architecture: string): Record<string, unknown> {
  const packaged = DEVICE_ENGINE.packaged[base]
  return packaged
    ? {
        '#': `QuickJS for the prepare-device hook: the ${packaged.package} package of ${packaged.release}, ${packaged.version}; only qjs and its copyright go into the snap`,
        plugin: 'nil',
        'stage-packages': [packaged.package],
        prime: [DEVICE_ENGINE.command, 'usr/share/doc/quickjs'],
      }
    : {
        '#': `QuickJS ${DEVICE_ENGINE.source.version} for the prepare-device hook, built from the release tarball (Ubuntu 22.04 has no quickjs package); snapcraft checks its sha256 before building; only qjs and its licence go into the snap`,
        plugin: 'nil',
        source: DEVICE_ENGINE.source.url,
        'source-checksum': `sha256/${DEVICE_ENGINE.source.sha256}`,
        // The Makefile compiles its own qjsc for the build machine (it turns repl.js into C), so a
        // cross-build needs both compilers.
        'build-packages': ['gcc', 'libc6-dev', 'make', ...(architecture === 'amd64' ? [] : [{[`on amd64 to ${architecture}`]: [`gcc-${GNU_TRIPLETS[architecture]}`]}])],
        'override-build': {file: 'parts/quickjs.sh.hbs'},
        prime: [DEVICE_ENGINE.command, 'usr/share/doc/quickjs'],
      }
}

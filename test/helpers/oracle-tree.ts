/**
 * gadget.yaml judged alone as the conformance oracle (shared/tools/snapd-oracle.sh) judges it.
 * The oracle packs a snap tree whose content placeholders it creates from gadget.yaml read with
 * PyYAML: a path is created as `str(value)` (`image: 0x10` makes "16", `image: true` nothing),
 * and when PyYAML cannot load the file (more than one document, a duplicate anchor, …) no
 * placeholder is created at all. snap-gadget itself counts every content path as present; tests
 * that compare its verdicts with the oracle's give validateGadget this tree instead.
 */
import {type ContentTree, placeholderTree} from '../../src/gadget/checks/content-tree.js'
import {Locator, parseGadget} from '../../src/gadget/decode-gadget.js'
import {snapdTarget, type SnapdTarget} from '../../src/gadget/snapd-version.js'
import {type GadgetSource, type GadgetValidation, validateGadget, type ValidateOptions} from '../../src/gadget/validate.js'
import {pyyamlPathText, pyyamlProblem} from './pyyaml.js'

/** The content tree the oracle builds for `content`. */
export function oracleTree(content: string | Uint8Array, snapd: string | SnapdTarget = 'latest'): ContentTree {
  const parsed = parseGadget('gadget.yaml', content, typeof snapd === 'string' ? snapdTarget(snapd) : snapd)
  const loc = new Locator(parsed)
  return placeholderTree(
    () => {
      const unreadable = (reason: string) => ({
        unreadable: `judged alone, gadget.yaml's content counts as present only when PyYAML (the conformance oracle) can read the file, and ${reason}`,
      })
      if (!parsed.yaml.singleDocument) return unreadable('it holds more than one YAML document')
      const problem = pyyamlProblem(parsed.yaml.root)
      if (!problem) return {info: parsed.info}
      return unreadable(`at line ${loc.position(problem.node.start).line} ${problem.message}`)
    },
    (owner, key) => {
      const node = loc.field(owner, key)?.value
      return node ? pyyamlPathText(node) : (owner as Record<string, string>)[key]
    },
  )
}

/** validateGadget as the oracle judges gadget.yaml alone; a tree given in `options` wins. */
export function validateAsOracle(source: GadgetSource, options: ValidateOptions = {}): GadgetValidation {
  return validateGadget(source, {...options, tree: options.tree ?? oracleTree(source.content, options.snapd)})
}

/**
 * What the libraries of the runtime need of the engine as their modules load, put in place before
 * them: quickjs.ts imports this module first (a side-effect import, evaluated before the modules
 * after it). Each fix applies only where the engine needs it, so on Node it does nothing.
 *
 * - QuickJS 2021.03.27 (Ubuntu 24.04's) lacks ES2022's Array and String `at` and Object.hasOwn,
 *   which the runtime and @noble/curves use (test/runtime/quickjs-2021.test.ts runs without them).
 * - QuickJS 2025.04.26 on 64-bit x86 writes a BigInt whose top 64-bit limb has its high bit set
 *   with a leading zero in radix 2 and 16: (2n ** 63n).toString(16) is "08000000000000000".
 *   @noble/curves takes a number's bit length from toString(2) when it builds a curve, so P-256's
 *   group order would be 257 bits and every signature would fail. The stray zeros are dropped.
 */
function installEs2022(): void {
  const define = (target: object, name: string, value: unknown) => {
    if (!(name in target)) Object.defineProperty(target, name, {configurable: true, value, writable: true})
  }

  function at(this: ArrayLike<unknown>, index: number) {
    const i = Math.trunc(index) || 0
    return this[i < 0 ? this.length + i : i]
  }

  define(Array.prototype, 'at', at)
  define(String.prototype, 'at', function (this: string, index: number) {
    return at.call(String(this), index)
  })
  define(Object, 'hasOwn', (object: object, key: PropertyKey) => Object.prototype.hasOwnProperty.call(object, key))
}

function fixBigIntRadix(): void {
  if ((BigInt(2) ** BigInt(63)).toString(16) === '8000000000000000') return
  const toString = BigInt.prototype.toString
  Object.defineProperty(BigInt.prototype, 'toString', {
    configurable: true,
    value(this: bigint, radix?: number): string {
      return toString.call(this, radix).replace(/^(-?)0+(?=[\da-z])/, '$1')
    },
    writable: true,
  })
}

installEs2022()
fixBigIntRadix()

export {}

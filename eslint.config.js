// The linter `npm test` runs (scripts/lint.mjs): typescript-eslint's recommended rules and no
// import circles. Formatting is prettier's (.prettierrc.json), checked by the same script.
import js from '@eslint/js'
import {createTypeScriptImportResolver} from 'eslint-import-resolver-typescript'
import {importX} from 'eslint-plugin-import-x'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  // A directive for a rule that is off, or that no longer fires, is dead text: an error.
  {linterOptions: {reportUnusedDisableDirectives: 'error'}},
  {ignores: ['dist/', 'node_modules/', '.cache/', 'examples/', 'test/fixtures/', 'src/**/*.generated.ts']},
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {globals: {...globals.node}},
    plugins: {'import-x': importX},
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver({noWarnOnMultipleProjects: true, project: ['tsconfig.json', 'test/tsconfig.json']})],
    },
    rules: {
      // Data flows one way (cli → products → stages → support). This rule sees value imports;
      // scripts/lint.mjs also follows `import type`, which this rule skips.
      'import-x/no-cycle': ['error', {ignoreExternal: true}],
      // Finding control characters in user input is what many of our checks are for.
      'no-control-regex': 'off',
      // An empty catch is how "absent or unreadable is fine here" is written.
      'no-empty': ['error', {allowEmptyCatch: true}],
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true, varsIgnorePattern: '^_'}],
    },
  },
  {
    // CommonJS by design: bin/ and the device runtime's loader start without the ESM loader.
    files: ['**/*.cjs', 'bin/**/*.js'],
    languageOptions: {sourceType: 'commonjs'},
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
)

// The boundaries between the core and its plugins, checked by `npm run boundaries` (dependency-cruiser)
// in .ci/run before the tests: a plugin reaches the core only through src/sdk (`enrichbot/sdk`),
// the core names no plugin, and src/ has no import cycles.
//
// Plugin tests (plugins/**/test/**) may import src/ and test/support/: they set up the real
// registry, config and queue around the plugin, as the core's own tests do; they ship in no package.

const PLUGIN_TEST = '^plugins/.+/test/';

module.exports = {
  forbidden: [
    {
      name: 'plugin-imports-only-sdk',
      comment: 'A plugin may import from the core only src/sdk (published as enrichbot/sdk): add what it needs there, or keep it in the plugin.',
      severity: 'error',
      from: { path: '^plugins/', pathNot: PLUGIN_TEST },
      to: { path: '^src/', pathNot: '^src/sdk/' },
    },
    {
      name: 'core-names-no-plugin',
      comment: 'src/ must not import a plugin: the core reaches plugins only through the registry and the contract (a plugin mounts its own CLI commands through `cli`).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^plugins/' },
    },
    {
      name: 'no-circular-in-src',
      comment: 'An import cycle in src/: move the shared types or code down a layer (as plugin/service.ts holds what plugin/contract.ts shares).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a plugin depending on an internal type is still coupled to it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};

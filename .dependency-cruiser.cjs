// The boundaries between the core and its plugins, checked by `npm run boundaries` (dependency-cruiser)
// in .ci/run before the tests: a plugin reaches the core only through src/sdk (`enrichbot/sdk`),
// the core names no plugin, and src/ has no import cycles.
//
// Plugin tests (plugins/**/test/**) may import src/ and test/support/: they set up the real
// registry, config and queue around the plugin, as the core's own tests do; they ship in no package.

/**
 * Known violations, to be removed by issue 18 item 2 (plugins declare their CLI subcommands and the
 * core mounts them): these three CLI commands import the plugins whose commands they are. Only
 * these exact edges are allowed; any other src/ -> plugins/ import fails.
 */
const KNOWN_CLI_IMPORTS_OF_PLUGINS = {
  'src/cli/api-key-command.ts': ['plugins/triggers/http-api/api-keys.ts', 'plugins/triggers/http-api/index.ts'],
  'src/cli/hubspot-command.ts': ['plugins/triggers/hubspot/index.ts'],
  'src/cli/digest-command.ts': ['plugins/triggers/daily-digest/digest.ts', 'plugins/triggers/daily-digest/index.ts'],
};

const exact = (file) => `^${file.replace(/[.]/g, '\\.')}$`;
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
      comment: 'src/ must not import a plugin: the core reaches plugins only through the registry and the contract.',
      severity: 'error',
      from: { path: '^src/', pathNot: Object.keys(KNOWN_CLI_IMPORTS_OF_PLUGINS).map(exact) },
      to: { path: '^plugins/' },
    },
    ...Object.entries(KNOWN_CLI_IMPORTS_OF_PLUGINS).map(([from, targets]) => ({
      name: 'core-names-no-plugin-known-cli-exception',
      comment: `${from} is a known exception (issue 18 item 2) for exactly ${targets.join(', ')}; it may import no other plugin file.`,
      severity: 'error',
      from: { path: exact(from) },
      to: { path: '^plugins/', pathNot: targets.map(exact) },
    })),
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

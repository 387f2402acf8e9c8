// Import boundaries (docs/architecture.md, "Import rules"): which part of the code may import
// which. `npm run lint` checks them; each rule's comment says why it holds.
//
// Layers of server/, lowest first (an import goes sideways or down, never up):
//   contract   server/protocol.ts, server/contract/, server/errors.ts: the wire and REST shapes
//              and error codes, shared with the web client, the SDK and the node-to-node hop
//   ports      core/: the interfaces the core depends on (page, socket, recorder, audit, clock, ...),
//              which adapters implement; beside the adapters, never under session/
//   adapters   browser/, recording/, audit/, auth/, policy/, net/, files/, integrations/,
//              demo/, and config.ts, config-settings.ts, log.ts, metrics.ts, health.ts, resource-stack.ts
//   core       session/
//   edges      http/, cluster/, routing/ (the one seam between single node and cluster)
//   roots      server.ts or compose*.ts (composition), main.ts, cli*.ts or cli/, setup.ts, build.ts,
//              config-doc.ts, bin.mjs
const CONTRACT = '^server/(contract/|protocol\\.ts$|errors\\.ts$)';
const PORTS = '^server/core/';
const ADAPTERS = '^server/((browser|recording|audit|auth|policy|net|files|integrations|demo)/|(config|config-settings|log|metrics|health|resource-stack)\\.ts$)';
const CORE = '^server/session/';
const EDGES = '^server/(http|cluster|routing)/';
const ROOTS = '^server/(cli/|auth/token-cli\\.ts$|compose[^/]*|[^/]*cli[^/]*\\.ts$|server\\.ts$|main\\.ts$|setup\\.ts$|build\\.ts$|config-doc\\.ts$|bin\\.mjs$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A circle means no part of it can be understood, tested or replaced without the others.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'only-the-browser-adapter-imports-puppeteer',
      severity: 'error',
      comment: 'server/browser/ is the one place that knows Chromium and CDP; everything else works through it (tests and the bench may drive a browser themselves).',
      from: { path: '^(server|client|sdk|harness)/', pathNot: '^server/browser/' },
      to: { path: '^node_modules/puppeteer(-core)?/' },
    },
    {
      name: 'clients-see-only-the-contract',
      severity: 'error',
      comment: "The web client and the SDK run elsewhere (a browser, a customer's service): of the server they may know the shared contract only.",
      from: { path: '^(client|sdk)/' },
      to: { path: '^(server|harness|test|bench)/', pathNot: CONTRACT },
    },
    {
      name: 'the-contract-is-a-leaf',
      severity: 'error',
      comment: 'The contract is shared with the client, the SDK and other nodes: it must not pull server code in with it.',
      from: { path: CONTRACT },
      to: { path: '^server/', pathNot: CONTRACT },
    },
    {
      name: 'adapters-do-not-know-the-core',
      severity: 'error',
      comment: 'Adapters (browser, recording, audit, auth, ...) serve the session core; they know neither it nor the edges that expose it.',
      // The token command lives beside the tokens it mints, but it is a command: a root.
      from: { path: ADAPTERS, pathNot: ROOTS },
      to: { path: `${CORE}|${EDGES}|${ROOTS}` },
    },
    {
      name: 'ports-are-interfaces',
      severity: 'error',
      comment: 'The ports are what the core asks of the world: they name shapes of the contract and the adapters, never the core, the edges or the composition.',
      from: { path: PORTS },
      to: { path: `${CORE}|${EDGES}|${ROOTS}` },
    },
    {
      name: 'the-core-does-not-know-the-edges',
      severity: 'error',
      comment: 'Sessions work the same behind HTTP or a cluster hop, single-node or clustered: session/ imports neither http/, cluster/, routing/ nor the composition.',
      from: { path: CORE },
      to: { path: `${EDGES}|${ROOTS}` },
    },
    {
      name: 'edges-do-not-import-the-roots',
      severity: 'error',
      comment: 'http/ and cluster/ are composed by server.ts; they do not reach back up to it (or to main/CLI).',
      from: { path: EDGES },
      to: { path: ROOTS },
    },
    {
      name: 'production-code-does-not-import-tests',
      severity: 'error',
      comment: 'What ships (server, client, SDK) never depends on the test harness, the tests or the bench.',
      from: { path: '^(server|client|sdk)/' },
      to: { path: '^(test|bench|harness)/' },
    },
    {
      name: 'the-harness-is-neutral',
      severity: 'error',
      comment: 'harness/ (a running Vitrine for tests and the bench) is shared by both, so it imports neither.',
      from: { path: '^harness/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'bench-does-not-import-tests',
      severity: 'error',
      comment: "The bench shares harness/ with the tests, not the tests' own support.",
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'tests-do-not-import-the-bench',
      severity: 'error',
      comment: 'Tests share harness/ with the bench, not the bench itself.',
      from: { path: '^test/' },
      to: { path: '^bench/' },
    },
    {
      name: 'the-server-does-not-import-dev-dependencies',
      severity: 'error',
      comment: 'The container image carries production dependencies only; build and development scripts may use dev tools.',
      from: { path: '^server/', pathNot: '^server/(build\\.ts|setup\\.ts|bin\\.mjs|config-doc\\.ts|http/openapi-doc\\.ts)$' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable-imports',
      severity: 'error',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-undeclared-packages',
      severity: 'error',
      comment: 'Every package imported is declared in package.json (not only present because something else brought it).',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    // Type-only imports count: a type is as much a dependency of the design as a value.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], mainFields: ['module', 'main', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

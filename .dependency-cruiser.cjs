// Component boundaries (docs: STYLE.md "Boundaries"): a component imports only shared/, the storage
// ports and itself; vendor libraries stay at their edge. Type-only imports are not dependencies at run
// time and are ignored.
const comp = (name, allowed) => ({
  name: `${name}-boundary`,
  severity: 'error',
  comment: `${name}/ may import only ${allowed.join(', ')}`,
  from: { path: `^${name}/` },
  to: {
    path: '^(broker|ingest|alerts|dashboard|simulators|storage|cli|bench|test)/|^main\\.ts$',
    pathNot: [`^${name}/`, ...allowed.map((a) => `^${a}`)],
    dependencyTypesNot: ['type-only'],
  },
})

module.exports = {
  forbidden: [
    comp('broker', ['shared/', 'storage/ports\\.ts']),
    comp('ingest', ['shared/', 'storage/ports\\.ts']),
    comp('alerts', ['shared/', 'storage/ports\\.ts']),
    comp('dashboard', ['shared/', 'storage/ports\\.ts']),
    comp('simulators', ['shared/', 'storage/']),
    {
      name: 'shared-is-a-leaf',
      severity: 'error',
      from: { path: '^shared/' },
      to: {
        path: '^(broker|ingest|alerts|dashboard|simulators|cli|bench)/|^main\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'nothing-imports-dashboard-or-simulators',
      severity: 'error',
      from: { pathNot: '^(dashboard|simulators|cli|bench|test)/|^main\\.ts$' },
      to: { path: '^(dashboard|simulators)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'aedes-only-in-broker',
      severity: 'error',
      from: { pathNot: '^(broker|bench|test)/' },
      to: { path: 'node_modules/aedes/' },
    },
    {
      name: 'fastify-only-in-dashboard',
      severity: 'error',
      from: { pathNot: '^(dashboard|bench|test)/' },
      to: { path: 'node_modules/(fastify|@fastify)/' },
    },
    {
      name: 'influx-only-in-adapter',
      severity: 'error',
      from: { pathNot: '^(storage/influx|bench|test)/' },
      to: { path: 'node_modules/@influxdata/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
}

// The architecture check (./ci_local.sh, `npm run lint:architecture`): no import circles, and
// imports only point down the layers that docs/ARCHITECTURE.md's folder map describes.
// A layer may import any layer below it; folders in one layer do not import each other.
const LAYERS = [
  ['core'],
  ['db'],
  ['auth'],
  ['rollup'],
  ['declarations'],
  ['read', 'raw', 'maintenance', 'seed'],
  ['metrics'],
  ['refresh'],
  ['http'],
  ['process'],
  // Entry points and their wiring (src/*.ts, src/cli/, jobs/) sit above every folder.
];

const folder = (names) => `^src/(${names.join('|')})/`;
const above = (i) => LAYERS.slice(i + 1).flat();

const downOnly = LAYERS.flatMap((names, i) => [
  ...(i + 1 < LAYERS.length
    ? [{
        name: `down-only-${names.join('-')}`,
        comment: `${names.join(', ')} may not import a layer above it (${above(i).join(', ')}) or an entry point`,
        severity: 'error',
        from: { path: folder(names) },
        to: { path: [folder(above(i)), '^src/[^/]+\\.ts$', '^jobs/'] },
      }]
    : [{
        name: `down-only-${names.join('-')}`,
        comment: `${names.join(', ')} may not import an entry point`,
        severity: 'error',
        from: { path: folder(names) },
        to: { path: ['^src/[^/]+\\.ts$', '^jobs/'] },
      }]),
  ...names.map((name) => ({
    name: `no-sideways-${name}`,
    comment: `${name} may not import the folders beside it in its layer (${names.filter((n) => n !== name).join(', ') || 'none'})`,
    severity: 'error',
    from: { path: folder([name]) },
    to: { path: folder(names.filter((n) => n !== name).concat(['__none__'])) },
  })),
]);

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'an import circle', severity: 'error', from: { path: '^(src|jobs)/' }, to: { circular: true } },
    { name: 'jobs-are-entry-points', comment: 'nothing in src/ imports jobs/ (entry points only)', severity: 'error', from: { path: '^src/' }, to: { path: '^jobs/' } },
    ...downOnly,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|runtimes)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
  },
};

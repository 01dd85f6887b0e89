// Import rules of ka-top (README, How it works): data flows one way, and every layer imports only from itself
// and the layers below it:
//   domain <- parse <- sources <- model <- engine <- output <- ui, lab <- cli
// `make lint` and `make test` fail on any import that goes upward, and on any cycle.
const LAYERS = ['domain', 'parse', 'sources', 'model', 'engine', 'output', 'ui|lab', 'cli'];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `${layer.replace('|', '-')}-imports-downward-only`,
  comment: `src/${layer} may import only from itself and ${LAYERS.slice(0, i).join(', ') || 'nothing of the project'}`,
  severity: 'error',
  from: { path: `^src/(${layer})/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'ui-and-lab-apart',
      comment: 'the interactive view and the scenario lab are peers: neither imports the other',
      severity: 'error',
      from: { path: '^src/(ui|lab)/' },
      to: { path: '^src/(ui|lab)/', pathNot: '^src/$1/' },
    },
    {
      name: 'no-circular',
      comment: 'modules that import each other, directly or through others',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/native/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.js'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};

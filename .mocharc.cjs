// Mocha's configuration. The suite's spec applies only when no test file is named on the command
// line: mocha adds a configured spec to the files given, so `mocha test/unit/x.test.ts` would run
// the whole suite besides x.
const named = process.argv.slice(2).some((a) => /\.test\.ts$/.test(a) || a.startsWith('test/'));

module.exports = {
  'node-option': ['import=tsx'],
  extension: ['ts'],
  spec: named ? [] : ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
  require: ['test/helpers/global-database.ts'],
  timeout: 60000,
  exit: false,
};

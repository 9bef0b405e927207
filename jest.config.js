// Jest configuration: transpile-only TypeScript, tests beside the code and in test/, real local infra from global setup.

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/{test,platform,subgraphs,gateway,schema,scripts}/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.infra-cache/', '/dist/'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // isolatedModules: per-file transpilation; type errors are `npm run build`'s job, not every test run's.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }] },
  // Generous: integration tests start brokers, restart them and wait for consumer groups.
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/globalSetup.ts',
  globalTeardown: '<rootDir>/test/globalTeardown.ts',
};

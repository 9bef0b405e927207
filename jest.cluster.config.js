// Jest configuration of the cluster tests (`npm run test:cluster`): they start their own
// three-broker Kafka and six-node Redis Cluster, so `npm test` (jest.config.js) never runs them.

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/cluster/**/*.cluster.ts'],
  // The engines' data (PostgreSQL's logical snapshots are *.snap files) is no test's business.
  testPathIgnorePatterns: ['/node_modules/', '/.infra-cache/', '/.run/'],
  modulePathIgnorePatterns: ['<rootDir>/.infra-cache/', '<rootDir>/.run/'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }] },
  testTimeout: 360000,
  // One file at a time: each starts (and stops) its own cluster on the same ports.
  maxWorkers: 1,
};

// The event contract module: contracts as values, the shared topics, envelope, validators and partitioning.
export * from './contract';
export * from './topics';
export * from './envelope';
export * from './partition';
export { ContractViolation, loneSurrogateAt } from './validate';
export * from './cdc';
export * from './catalogProductsCdc';
export * from './clientEvents';
export * from './reservations';

// The event contract module: topics, envelope, payloads, validators and partitioning.
export * from './topics';
export * from './payloads';
export * from './envelope';
export * from './partition';
export { ContractViolation, loneSurrogateAt } from './validate';

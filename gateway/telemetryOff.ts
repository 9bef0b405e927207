// Imported before anything from Apollo: @apollo/gateway sends telemetry and probes cloud
// metadata endpoints unless this is set, and the product calls nothing outside its own
// services. Set in code so no operator has to remember it.
process.env.APOLLO_TELEMETRY_DISABLED = '1';
// Apollo Server and the gateway switch on usage reporting and managed federation when they
// find these; a self-hosted gateway must never send data to a vendor because of a stray key.
delete process.env.APOLLO_KEY;
delete process.env.APOLLO_GRAPH_REF;
delete process.env.APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT;

export const TELEMETRY_DISABLED = true;

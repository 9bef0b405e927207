// A topic contract as one machine-readable JSON Schema (draft 2020-12): each event type's
// envelope, with its type, its version and its payload's schema derived from the very checks
// that validate it (schema/events/jsonSchema.ts). What `dataProduct.contract` returns and what
// `npm run contracts:check` compares with the last published version.
import type { TopicContract } from '../events/contract';
import { jsonSchemaOf, type JsonSchema } from '../events/jsonSchema';

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** One event type's envelope: type and version fixed, payload as its check accepts it. */
function eventSchema(type: string, version: number, payload: unknown): JsonSchema {
  return {
    title: type,
    type: 'object',
    properties: {
      eventId: { type: 'string', minLength: 1, maxLength: 128 },
      type: { const: type },
      version: { const: version },
      occurredAt: { type: 'string', format: 'date-time' },
      key: { type: 'string', minLength: 1, maxLength: 256 },
      payload: jsonSchemaOf(payload),
    },
    required: ['eventId', 'type', 'version', 'occurredAt', 'key', 'payload'],
    additionalProperties: false,
  };
}

/** The topic's events as one schema; `x-` keys carry what JSON Schema has no word for. */
export function topicJsonSchema(contract: TopicContract): JsonSchema {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `urn:streamgraph:topic:${contract.name}`,
    title: contract.name,
    description: `Events of the ${contract.name} topic, keyed by ${contract.keyedBy}, written by ${contract.owner}${contract.fromRecord ? ' through change data capture' : ''}.`,
    'x-keyedBy': contract.keyedBy,
    'x-owner': contract.owner,
    'x-source': contract.fromRecord ? 'cdc' : 'events',
    oneOf: Object.entries(contract.events).map(([type, spec]) => eventSchema(type, spec.version, spec.payload)),
  };
}

/** The event types of a topic schema, by name (its `oneOf` entries). */
export function eventSchemas(schema: JsonSchema): Map<string, JsonSchema> {
  return new Map((schema.oneOf ?? []).map((s) => [s.title ?? '?', s]));
}

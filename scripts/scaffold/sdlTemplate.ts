// The scaffolded subgraph's SDL: its own entity, the nullable fields it adds to the entity it
// extends, its query, mutation and subscription.
import { namesOf, owner, plural, type TemplateInput } from './templateInput';

export function sdl(i: TemplateInput): string {
  const { n, x } = i;
  const { a, E, X } = namesOf(i);
  return `# The ${n.name} subgraph: ${plural(n)} of ${x.words}s, built from its own ${n.name} topic (contract.ts),
# which is keyed by ${x.idField}: one partition holds all of ${x.a}'s ${plural(n)}, so the
# per-${x.words} aggregate folds them in order.
# This SDL is the team's contract with the graph: the gateway composes it with every other
# subgraph's, so a name another subgraph already uses for something else fails composition.
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

"A ${n.entityWords}, owned by the ${n.name} subgraph. Every change increases \`version\` by one."
type ${E} @key(fields: "id") {
  id: ID!
  "The ${x.words} it is about; ${owner(i)} resolve${i.owners.length > 1 ? '' : 's'} its other fields."
  ${x.camel}: ${X}
  "1 to 5."
  score: Int!
  title: String!
  "When it was first recorded (ISO-8601)."
  createdAt: String!
  "When it last changed (ISO-8601)."
  updatedAt: String!
  version: Int!
}

"""
${owner(i).charAt(0).toUpperCase() + owner(i).slice(1)} own${i.owners.length > 1 ? '' : 's'} ${X}; this subgraph adds fields to it. They are nullable on purpose:
while this subgraph is unavailable a query still gets the ${x.words}, with these fields null
and an error naming the subgraph, instead of losing the whole ${x.words}.
"""
type ${X} @key(fields: "${x.keyField}") {
  ${x.keyField}: ${x.keyType}!
  "The mean score of its ${plural(n)}; null when it has none."
  ${a.average}: Float
  "How many ${plural(n)} it has."
  ${a.count}: Int
  "Its ${plural(n)}, newest first; first is 0 to 100."
  ${a.list}(first: Int = 20, after: String): ${E}Connection
}

type ${E}Edge {
  cursor: String!
  node: ${E}!
}

type ${E}Connection {
  edges: [${E}Edge!]!
  pageInfo: PageInfo!
}

"The same in every subgraph that pages (shareable: identical fields)."
type PageInfo @shareable {
  hasNextPage: Boolean!
  endCursor: String
}

input Record${E}Input {
  "The ${n.entityWords} to change (yours, unless you are an admin); absent for a new one."
  id: ID
  "The ${x.words} it is about: one that exists, or NOT_FOUND."
  ${x.idField}: ${x.keyType}!
  "1 to 5."
  score: Int!
  "1 to 200 characters."
  title: String!
}

type Query {
  ${n.entityCamel}(id: ID!): ${E}
}

type Mutation {
  "Records a new ${n.entityWords} (any signed-in caller, as its author) or changes one (its author or an admin)."
  ${a.record}(input: Record${E}Input!): ${E}!
}

type Subscription {
  "The ${x.words}'s ${a.count} and ${a.average} now, then after every change to its ${plural(n)}."
  ${a.changed}(${x.idField}: ${x.keyType}!): ${X}!
}
`;
}

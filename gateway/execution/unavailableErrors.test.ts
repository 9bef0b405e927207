import { MAX_ENTITY_ERRORS, unavailableErrors } from './unavailableErrors';

const ext = { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'ratings' };

describe('unavailableErrors', () => {
  it('gives each field of each entity of an _entities fetch its own error with its path', () => {
    const errors = unavailableErrors(
      { query: 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{__typename averageRating count: ratingCount}}}', variables: { representations: [{}, {}] } },
      'down',
      ext,
    );
    expect(errors.map((e) => e.path)).toEqual([['_entities', 0, 'averageRating'], ['_entities', 0, 'count'], ['_entities', 1, 'averageRating'], ['_entities', 1, 'count']]);
    expect(errors.every((e) => e.extensions?.serviceName === 'ratings' && e.extensions?.code === 'SUBGRAPH_UNAVAILABLE')).toBe(true);
  });

  it('gives each entity of a batched fetch (several aliased _entities lists) its errors under its alias', () => {
    const errors = unavailableErrors(
      {
        query:
          'query($r0:[_Any!]!,$r1:[_Any!]!){s:_entities(representations:$r0){...on Store{name}} p:_entities(representations:$r1){...on Product{name priceCents}}}',
        variables: { r0: [{}], r1: [{}, {}] },
      },
      'down',
      ext,
    );
    expect(errors.map((e) => e.path)).toEqual([['s', 0, 'name'], ['p', 0, 'name'], ['p', 0, 'priceCents'], ['p', 1, 'name'], ['p', 1, 'priceCents']]);
  });

  it('keeps the cap across the lists of a batched fetch, folding what is past it into one error per list', () => {
    const errors = unavailableErrors(
      { query: 'query($a:[_Any!]!,$b:[_Any!]!){a:_entities(representations:$a){...on P{x}} b:_entities(representations:$b){...on Q{y}}}', variables: { a: Array(MAX_ENTITY_ERRORS - 10).fill({}), b: Array(30).fill({}) } },
      'down',
      ext,
    );
    expect(errors.filter((e) => e.path)).toHaveLength(MAX_ENTITY_ERRORS);
    expect(errors.filter((e) => e.path?.[0] === 'b')).toHaveLength(10);
    expect(errors.filter((e) => !e.path).map((e) => e.message)).toEqual(['down (and 20 more entities)']);
  });

  it('folds a later list whole when the first list alone overran the cap', () => {
    const wide = Array.from({ length: MAX_ENTITY_ERRORS + 5 }, (_, i) => `f${i}`).join(' ');
    const errors = unavailableErrors(
      { query: `query($a:[_Any!]!,$b:[_Any!]!){a:_entities(representations:$a){...on P{${wide}}} b:_entities(representations:$b){...on Q{y}}}`, variables: { a: [{}], b: [{}, {}, {}] } },
      'down',
      ext,
    );
    expect(errors.filter((e) => e.path?.[0] === 'a')).toHaveLength(MAX_ENTITY_ERRORS + 5);
    expect(errors.filter((e) => !e.path).map((e) => e.message)).toEqual(['down (and 3 more entities)']);
  });

  it('folds entities past the cap into one error without a path, which belongs to all of them', () => {
    const errors = unavailableErrors({ variables: { representations: Array.from({ length: MAX_ENTITY_ERRORS + 50 }, () => ({})) } }, 'down', ext);
    expect(errors).toHaveLength(MAX_ENTITY_ERRORS + 1);
    expect(errors[MAX_ENTITY_ERRORS].path).toBeUndefined();
    expect(errors[MAX_ENTITY_ERRORS].message).toMatch(/50 more entities/);
  });

  it('gives a root fetch one error per top-level response name, aliases and inline fragments included', () => {
    const errors = unavailableErrors({ query: '{ a: product(id: "1") { id } __typename ... on Query { topRated { id } } }' }, 'down', ext);
    expect(errors.map((e) => e.path)).toEqual([['a'], ['topRated']]);
  });

  it('falls back to one error without a path when the fetch cannot be read', () => {
    expect(unavailableErrors({ query: '{ broken(' }, 'down', ext)).toEqual([{ message: 'down', extensions: ext }]);
  });
});

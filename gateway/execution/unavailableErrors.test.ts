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

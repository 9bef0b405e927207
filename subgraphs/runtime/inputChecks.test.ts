// Shared input checks: a contract violation on client input becomes the caller's
// BAD_USER_INPUT naming its own field and the limit, never the contract's path.
import { GraphQLError } from 'graphql';
import { CATALOG_INVENTORY_TOPIC, ContractViolation, ORDERS_TOPIC } from '../../schema/events';
import { checkId, eventFromInput, loneSurrogatePath } from './inputChecks';

function refusal(fn: () => unknown): GraphQLError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GraphQLError);
    return e as GraphQLError;
  }
  throw new Error('expected a GraphQLError');
}

describe('eventFromInput', () => {
  it('names the GraphQL input field and the limit, not the contract path or the value', () => {
    const e = refusal(() => eventFromInput(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId: 's-1', name: 'x'.repeat(201) }, { name: 'input.name' }));
    expect(e.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.name' });
    expect(e.message).toBe('input.name must be a string of 1 to 200 characters');
  });

  it('keeps the position inside a list field', () => {
    const items = [
      { productId: 'p-1', quantity: 1, unitPriceCents: 1 },
      { productId: 'p-\ud800', quantity: 1, unitPriceCents: 1 },
    ];
    const e = refusal(() =>
      eventFromInput(ORDERS_TOPIC, 'OrderPlaced', { orderId: 'o-1', customerId: 'c-1', storeId: 's-1', items, totalCents: 2 }, { items: 'input.items' }),
    );
    expect(e.extensions!.field).toBe('input.items[1].productId');
    expect(e.message).toBe('input.items[1].productId must be well-formed text');
  });

  it('leaves a violation on a field the server filled in as what it is: a bug', () => {
    expect(() => eventFromInput(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId: '', name: 'Corner' }, { name: 'input.name' })).toThrow(ContractViolation);
  });

  it('builds the event when the input is within the contract', () => {
    expect(eventFromInput(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId: 's-1', name: 'Corner' }, {}).payload).toEqual({ storeId: 's-1', name: 'Corner' });
  });
});

describe('input text', () => {
  it('finds the first lone surrogate by its path', () => {
    expect(loneSurrogatePath({ a: ['ok', { b: 'x\udfff' }] }, 'input')).toBe('input.a[1].b');
    expect(loneSurrogatePath({ a: 'pair \ud83c\udf4e', n: 3, z: null }, 'input')).toBeNull();
  });

  it('refuses ids the contract could not carry', () => {
    expect(refusal(() => checkId('s'.repeat(129), 'input.storeId')).message).toBe('input.storeId must be 1 to 128 characters');
    expect(refusal(() => checkId('\ud800', 'storeId')).extensions!.field).toBe('storeId');
    expect(checkId('s-1', 'storeId')).toBe('s-1');
  });
});

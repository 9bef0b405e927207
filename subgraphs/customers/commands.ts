// The customers mutations: check who may write, validate, emit one event, wait until the
// profiles view has applied it (read-your-writes) and return the record read from the view.
//
// Duplicate emails are allowed. A customer's identity is their id (the token's `sub`), not
// their email, and the topic is keyed by customer id: making emails unique would need a
// reservation keyed by email (a second topic or a Redis claim) that a check against the view
// cannot replace, because two sign-ups with one email can both pass any check before either
// is applied. If uniqueness is wanted later it belongs in such a reservation, not here.
import { randomUUID } from 'node:crypto';
import { CUSTOMERS_TOPIC, type CustomerTier } from '../../schema/events';
import { badInput, notFound } from '../runtime/errors';
import { eventFromInput } from '../runtime/inputChecks';
import { assertMayAccessCustomer, assertMayRegister } from './access';
import type { CustomersContext } from './context';
import type { CustomerProfile } from './projection';
import { readProfileFresh } from './reads';

export interface RegisterCustomerInput {
  readonly name: string;
  readonly email: string;
  readonly tier?: CustomerTier | null;
}

/** Fields left out or null keep their value. */
export interface UpdateCustomerInput {
  readonly name?: string | null;
  readonly email?: string | null;
  readonly tier?: CustomerTier | null;
}

const NAME_MAX = 200;
const EMAIL_MAX = 320;
// Deliberately simple: one @, no spaces, a dot in the domain. Only a sent mail proves more.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// Errors name the GraphQL path of the field (`input.name`), like every mutation's.
function checkName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0 || name.length > NAME_MAX) throw badInput(`input.name must be 1 to ${NAME_MAX} characters`, 'input.name');
  return name;
}

function checkEmail(raw: string): string {
  const email = raw.trim();
  if (email.length > EMAIL_MAX) throw badInput(`input.email must be at most ${EMAIL_MAX} characters`, 'input.email');
  if (!EMAIL.test(email)) throw badInput('input.email must look like name@example.com', 'input.email');
  return email;
}

/** Where each payload field came from in the request, for the contract's refusals (a register's id is generated). */
const INPUT_FIELDS = { name: 'input.name', email: 'input.email', tier: 'input.tier' } as const;

/** The record the view holds after our own write; missing means the event never applied. */
async function readBack(ctx: CustomersContext, id: string): Promise<CustomerProfile> {
  const profile = await readProfileFresh(ctx.views, ctx.loaders, id);
  // emit() returned, so the view passed our offset; only a dead-lettered event (a contract
  // bug) or a rebuild switching generations in between can leave the record absent.
  if (!profile) throw new Error(`customer ${id} was written but is not in the view`);
  return profile;
}

/** A sign-up (anonymous caller) or an admin registering someone. The id is generated here. */
export async function registerCustomer(ctx: CustomersContext, input: RegisterCustomerInput): Promise<CustomerProfile> {
  assertMayRegister(ctx.identity);
  const name = checkName(input.name);
  const email = checkEmail(input.email);
  const customerId = randomUUID();
  const event = eventFromInput(CUSTOMERS_TOPIC, 'CustomerRegistered', { customerId, name, email, tier: input.tier ?? 'STANDARD' }, INPUT_FIELDS);
  await ctx.runtime.emit(CUSTOMERS_TOPIC, event, ctx.views.profiles);
  return readBack(ctx, customerId);
}

/** The customer themself or an admin; only fields that change are written. */
export async function updateCustomer(ctx: CustomersContext, id: string, input: UpdateCustomerInput): Promise<CustomerProfile> {
  // Authorization first, so a denied caller cannot tell an unknown id from someone else's.
  assertMayAccessCustomer(ctx.identity, id);
  const name = input.name == null ? undefined : checkName(input.name);
  const email = input.email == null ? undefined : checkEmail(input.email);
  const tier = input.tier ?? undefined;
  const current = await readProfileFresh(ctx.views, ctx.loaders, id);
  if (!current) throw notFound('customer', id);
  const changes = {
    ...(name !== undefined && name !== current.name ? { name } : {}),
    ...(email !== undefined && email !== current.email ? { email } : {}),
    ...(tier !== undefined && tier !== current.tier ? { tier } : {}),
  };
  // Nothing to change writes nothing: no event, no version bump.
  if (Object.keys(changes).length === 0) return current;
  const event = eventFromInput(CUSTOMERS_TOPIC, 'CustomerUpdated', { customerId: id, ...changes }, { ...INPUT_FIELDS, customerId: 'id' });
  await ctx.runtime.emit(CUSTOMERS_TOPIC, event, ctx.views.profiles);
  return readBack(ctx, id);
}

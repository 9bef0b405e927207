// Who may read the catalog of data products: signed-in staff, i.e. the admin and the read-only
// analyst roles. Customers, shoppers, stores and anonymous callers get FORBIDDEN: the catalog
// names topics, teams and figures that are internal, whatever the record.
import { hasRole, type Identity } from '../../platform/identity';
import { forbidden } from '../runtime/errors';

export function assertMayReadCatalog(identity: Identity): void {
  if (!hasRole(identity, 'admin', 'analyst')) throw forbidden('the data product catalog is for staff (roles admin or analyst)');
}

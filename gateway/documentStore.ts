// Apollo Server's document store for the gateway: parsed documents, kept only once they have
// passed every limit. Apollo stores a document right after validation, before the plugin that
// checks depth, aliases and cost has run; so a store is only a candidate here (held weakly, by
// the document itself, while its request lives) until the limits plugin admits it.
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';
import type { BoundedCache } from './boundedCache';

export interface AdmittedDocumentStore {
  /** What Apollo Server is given as `documentStore`. */
  readonly store: KeyValueCache<DocumentNode>;
  /** Keeps a document Apollo offered earlier in this request; documents never offered are ignored. */
  admit(document: DocumentNode): void;
}

export function createAdmittedDocumentStore(cache: BoundedCache<DocumentNode>): AdmittedDocumentStore {
  const candidates = new WeakMap<DocumentNode, string>();
  return {
    store: {
      get: async (key) => cache.get(key),
      set: async (key, document) => void candidates.set(document, key),
      delete: async (key) => cache.delete(key),
    },
    admit(document) {
      const key = candidates.get(document);
      if (key === undefined) return;
      candidates.delete(document);
      cache.set(key, document);
    },
  };
}

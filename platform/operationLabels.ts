// Operation names as metric labels. The name comes from the client, so the set of label
// values is bounded: the first names seen (of operations that resolved in a valid document)
// keep their own series, later ones share `other`, and each is cut to a fixed length.

/** Distinct operation names with their own series. */
export const MAX_OPERATION_LABELS = 200;
const MAX_LABEL_LENGTH = 100;

export interface OperationLabels {
  /** The label for a resolved operation's name (null: anonymous). */
  labelOf(name: string | null | undefined): string;
  size(): number;
}

export function createOperationLabels(max = MAX_OPERATION_LABELS): OperationLabels {
  const known = new Set<string>();
  return {
    labelOf(name) {
      if (!name) return 'anonymous';
      const label = name.slice(0, MAX_LABEL_LENGTH);
      if (known.has(label)) return label;
      if (known.size >= max) return 'other';
      known.add(label);
      return label;
    },
    size: () => known.size,
  };
}

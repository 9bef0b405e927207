// The body of POST /events as a list of items: a JSON array, or newline-delimited JSON (one
// event per line). A line of NDJSON that is not JSON is one rejected event, not a refused batch,
// so one broken line from an app in the field does not cost the rest. Pure.

/** One item of a batch: the decoded value, or why its line could not be decoded. */
export type BatchItem = { readonly value: unknown; readonly bytes: string } | { readonly unreadable: string; readonly bytes: string };

export type BatchBody = { readonly items: BatchItem[] } | { readonly refused: string; readonly tooMany?: boolean };

/**
 * Splits `text` into at most `maxItems` items. A body starting with `[` is a JSON array (it must
 * parse as a whole); anything else is NDJSON (blank lines are skipped). More items than
 * `maxItems` refuses the whole batch.
 */
export function parseBatchBody(text: string, maxItems: number): BatchBody {
  const trimmed = text.trimStart();
  if (trimmed === '') return { items: [] };
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      return { refused: `the body starts like a JSON array but is not JSON (${(e as Error).message.slice(0, 120)})` };
    }
    if (!Array.isArray(parsed)) return { refused: 'the body is not a JSON array' };
    if (parsed.length > maxItems) return { refused: tooMany(parsed.length, maxItems), tooMany: true };
    // The original bytes of one item of an array are gone once parsed; its JSON stands for them.
    return { items: parsed.map((value) => ({ value, bytes: JSON.stringify(value) ?? 'null' })) };
  }
  const items: BatchItem[] = [];
  for (const raw of trimmed.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    if (items.length === maxItems) return { refused: tooMany(countLines(trimmed), maxItems), tooMany: true };
    try {
      items.push({ value: JSON.parse(line), bytes: line });
    } catch (e) {
      items.push({ unreadable: `not JSON (${(e as Error).message.slice(0, 120)})`, bytes: line });
    }
  }
  return { items };
}

function countLines(text: string): number {
  return text.split('\n').filter((l) => l.trim() !== '').length;
}

function tooMany(count: number, max: number): string {
  return `the batch holds ${count} events; at most ${max} (EVENTS_MAX_BATCH) are taken in one request`;
}

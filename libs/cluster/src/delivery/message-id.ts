/**
 * The string form of a message id, as `publish` returns it and deliveries carry it:
 * `<origin>/<epoch>/<seq>`. The origin comes first and may itself hold `/`, so parsing splits
 * at the last two separators.
 */
import type { MessageId } from '@plumtree/plumtree';

/** `origin/epoch/seq`. */
export function formatMessageId(id: MessageId): string {
  return `${id.origin}/${id.epoch}/${id.seq}`;
}

/** The id of a string made by {@link formatMessageId}, or null when it is not one. */
export function parseMessageId(s: string): MessageId | null {
  const b = s.lastIndexOf('/');
  const a = b > 0 ? s.lastIndexOf('/', b - 1) : -1;
  if (a < 0) return null;
  const epochText = s.slice(a + 1, b);
  const seqText = s.slice(b + 1);
  if (!/^\d+$/.test(epochText) || !/^\d+$/.test(seqText)) return null;
  const epoch = Number(epochText);
  const seq = Number(seqText);
  if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(seq) || seq < 1) return null;
  return { origin: s.slice(0, a), epoch, seq };
}

/** Link sync in isolation: what a new link is told, and when a peer is synced again. */
import { describe, expect, it } from '@jest/globals';
import type { IHaveEntry, MessageId } from '@plumtree/plumtree';
import { LINK_SYNC_CLOCK_SLACK_MS, LinkSync, RECENT_IDS_PER_TOPIC } from './link-sync.js';

const TTL = 120_000;

function harness(versions: Record<string, number> = {}) {
  const sent: Array<{ peer: string; topic: string; seqs: number[]; hops: number[] }> = [];
  const sync = new LinkSync({
    announce: (peer, topic, entries: readonly IHaveEntry[]) =>
      sent.push({
        peer,
        topic,
        seqs: entries.map((e) => e.id.seq),
        hops: entries.map((e) => e.hops),
      }),
    cacheTtlMs: TTL,
    subscribedAtMs: (peer) => versions[peer],
  });
  return { sync, sent };
}

const id = (seq: number): MessageId => ({ origin: 'p', epoch: 1, seq });

describe('LinkSync', () => {
  it('answers the first frame of a peer on a topic once, with the recent deliveries (hops + 1)', () => {
    const { sync, sent } = harness();
    sync.delivered('t', id(1), 0, 1_000);
    sync.delivered('t', id(2), 3, 2_000);
    sync.heard('t', 'b', 3_000);
    sync.heard('t', 'b', 3_100);
    expect(sent).toEqual([{ peer: 'b', topic: 't', seqs: [1, 2], hops: [1, 4] }]);
    expect(sync.isHeard('t', 'b')).toBe(true);
    expect(sync.isHeard('u', 'b')).toBe(false);
    expect(sync.counters()).toEqual({ syncs: 1, idsAnnounced: 2 });
  });

  it('answers with an empty IHAVE when nothing was delivered yet (the link acknowledgement)', () => {
    const { sync, sent } = harness();
    sync.heard('t', 'b', 10);
    expect(sent).toEqual([{ peer: 'b', topic: 't', seqs: [], hops: [] }]);
  });

  it('announces only what was delivered since the peer subscribed (less the clock slack) and is still cached', () => {
    const subscribed = 200_000;
    const { sync, sent } = harness({ late: subscribed });
    sync.delivered('t', id(1), 0, 50_000); // past the cache: nobody could GRAFT it
    sync.delivered('t', id(2), 0, subscribed - LINK_SYNC_CLOCK_SLACK_MS - 1); // before it subscribed
    sync.delivered('t', id(3), 0, subscribed - LINK_SYNC_CLOCK_SLACK_MS); // within the slack
    sync.delivered('t', id(4), 0, subscribed + 5);
    sync.heard('t', 'late', subscribed + 1_000);
    // No directory entry yet: everything still in the cache window.
    sync.heard('t', 'unknown', subscribed + 1_000);
    expect(sent.map((s) => [s.peer, s.seqs])).toEqual([
      ['late', [3, 4]],
      ['unknown', [2, 3, 4]],
    ]);
  });

  it('keeps the last RECENT_IDS_PER_TOPIC deliveries, oldest first', () => {
    const { sync, sent } = harness();
    const n = RECENT_IDS_PER_TOPIC + 10;
    for (let s = 1; s <= n; s++) sync.delivered('t', id(s), 0, s);
    sync.heard('t', 'b', n + 1);
    expect(sent[0]!.seqs).toHaveLength(RECENT_IDS_PER_TOPIC);
    expect(sent[0]!.seqs[0]).toBe(11);
    expect(sent[0]!.seqs.at(-1)).toBe(n);
  });

  it('syncs a peer again after its connection dropped, it left the view, or the topic was left', () => {
    const { sync, sent } = harness();
    sync.heard('t', 'b', 1);
    sync.heard('u', 'b', 1);
    sync.forgetPeer('b');
    sync.heard('t', 'b', 2);
    sync.keepOnly('t', ['b', 'c']);
    sync.heard('t', 'c', 2);
    // 'd' linked before the directory listed it: leaving a view it was never in changes nothing.
    sync.heard('t', 'd', 2);
    sync.keepOnly('t', ['b']);
    sync.heard('t', 'c', 3);
    sync.heard('t', 'd', 3);
    sync.heard('t', 'b', 3);
    sync.forgetTopic('t');
    sync.heard('t', 'b', 4);
    expect(sent.map((s) => `${s.topic}:${s.peer}`)).toEqual([
      't:b',
      'u:b',
      't:b',
      't:c',
      't:d',
      't:c',
      't:b',
    ]);
  });
});

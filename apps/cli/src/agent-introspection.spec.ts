import { afterAll, describe, expect, it } from '@jest/globals';
import { PlumtreeNode } from '@plumtree/cluster';
import { MemoryNetwork } from '@plumtree/swim';
import { introspect, printDurableEvent, printSuspicion } from './agent-introspection.js';

describe('agent introspection', () => {
  const nodes: PlumtreeNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('answers stats, memory and members with one line each, and nothing else', async () => {
    const net = new MemoryNetwork();
    const node = await PlumtreeNode.start({
      name: 'a',
      persistence: false,
      transport: net.bind('10.9.0.1:7946'),
      swim: { preset: 'local' },
      topics: ['t'],
    });
    nodes.push(node);
    const lines: Record<string, unknown>[] = [];
    const out = (o: Record<string, unknown>): void => void lines.push(o);
    expect(introspect(node, 'stats', out)).toBe(true);
    expect(introspect(node, 'memory', out)).toBe(true);
    expect(introspect(node, 'members', out)).toBe(true);
    expect(introspect(node, 'publish', out)).toBe(false);
    expect(lines.map((l) => l['event'])).toEqual(['stats', 'memory', 'members']);
    expect(lines[0]).toMatchObject({
      swim: { members: 1, alive: 1, suspect: 0 },
      topics: { t: { peers: 0 } },
      deliveryQueue: 0,
      parked: 0,
    });
    expect(typeof lines[1]!['heapUsed']).toBe('number');
    expect(lines[1]!['rss']).toBeGreaterThan(0);
    expect(lines[2]!['members']).toEqual([expect.objectContaining({ name: 'a', state: 'alive' })]);
  });

  it('prints a suspicion and a catch-up event as JSON fields and as text', () => {
    const got: [Record<string, unknown>, string][] = [];
    const out = (o: Record<string, unknown>, text: string): void => void got.push([o, text]);
    printSuspicion(
      {
        type: 'member-suspect',
        from: 'b',
        member: {
          name: 'c',
          address: '10.0.0.3:7946',
          incarnation: 4,
          meta: new Uint8Array(),
          state: 'suspect',
        },
      } as never,
      out,
    );
    printDurableEvent(
      { type: 'catchup-started', topic: 't', peer: 'b', reason: 'gap', attempt: 1 },
      out,
    );
    expect(got).toEqual([
      [
        { event: 'suspect', node: 'c', addr: '10.0.0.3:7946', incarnation: 4, from: 'b' },
        'suspect c 10.0.0.3:7946 from b',
      ],
      [
        {
          event: 'durable',
          type: 'catchup-started',
          topic: 't',
          peer: 'b',
          reason: 'gap',
          attempt: 1,
        },
        'durable catchup-started t b',
      ],
    ]);
  });
});

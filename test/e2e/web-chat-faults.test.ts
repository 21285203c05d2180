/**
 * The web chat's faults are real ones: driven through its HTTP API (the commands the page sends)
 * on `npm start`'s app (dist/apps/web-chat, 5 node processes), and checked on what the nodes
 * themselves report (GET /api/view, GET /api/messages):
 * - leave/join: a node that leaves a room drops out of the room's tree and stops receiving it;
 * - loss: the node's fault hooks drop SWIM packets and Plumtree frames (their own counters);
 * - partition: each side sees the other dead and a message stays on its side; after heal, every
 *   node is alive everywhere and the other side catches up the durable room;
 * - all eager: every node restarts its trees with all peers eager (a full mesh), and the next
 *   message PRUNEs the redundant links.
 *
 * Every wait is bounded polling of the API; nothing sleeps a fixed time.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { join } from 'node:path';
import type { ChatMessage, ClusterView, NodeView } from '@plumtree/local-cluster';
import { waitForValue } from '../support/wait-for.js';
import { AppProcess, ROOT } from './support/app-process.js';

jest.setTimeout(300_000);

const START_MS = 120_000;
const STATE_MS = 60_000;
const ROOM = 'chat.general';
const NODES = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];

describe('web chat faults through the API', () => {
  let app: AppProcess;
  let url = '';

  const get = async <T>(path: string): Promise<T> =>
    (await fetch(`${url}${path}`)).json() as Promise<T>;
  const post = async (path: string, body: unknown = {}): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as unknown;
    if (!res.ok) throw new Error(`${path}: ${res.status.toString()} ${JSON.stringify(json)}`);
    return json;
  };
  /** Polls the view until `problems` is empty; resolves with that view. */
  const waitForView = (
    what: string,
    problems: (v: ClusterView) => string[],
    timeoutMs = STATE_MS,
  ): Promise<ClusterView> => {
    let left: string[] = [];
    return waitForValue(
      what,
      async () => {
        const v = await get<ClusterView>('/api/view');
        left = problems(v);
        return left.length === 0 ? v : undefined;
      },
      { timeoutMs, lastSeen: () => left.join('; ') },
    );
  };
  const node = (v: ClusterView, name: string): NodeView => v.nodes.find((n) => n.name === name)!;
  const room = (v: ClusterView) => v.rooms.find((r) => r.name === ROOM)!;
  const arrivedAt = async (id: string): Promise<string[]> => {
    const all = await get<ChatMessage[]>(`/api/messages?room=${ROOM}`);
    return (all.find((m) => m.id === id)?.arrivals ?? []).map((a) => a.node).sort();
  };
  /** Polls until the message `id` arrived at exactly `nodes`. */
  const waitArrivals = async (id: string, nodes: string[]): Promise<void> => {
    const want = [...nodes].sort().join(',');
    let at = '';
    await waitForValue(
      `${id} at ${want}`,
      async () => {
        at = (await arrivedAt(id)).join(',');
        return at === want ? true : undefined;
      },
      { timeoutMs: STATE_MS, lastSeen: () => `arrived at ${at}` },
    );
  };
  const allAlive = (v: ClusterView): string[] =>
    v.nodes.flatMap((n) => [
      ...(n.process === 'running' ? [] : [`${n.name} ${n.process}`]),
      ...Object.entries(n.seenBy)
        .filter(([, s]) => s !== 'alive')
        .map(([o, s]) => `${o} sees ${n.name} ${s}`),
    ]);

  beforeAll(async () => {
    app = AppProcess.start(join(ROOT, 'dist/apps/web-chat/src/main.js'), ['--port', '0']);
    url = (await app.waitForLine(/web chat: (http:\/\/127\.0\.0\.1:\d+)/, START_MS))[1]!;
    await waitForView('5 nodes alive everywhere', allAlive, START_MS);
  });

  afterAll(async () => {
    if (app !== undefined) await app.stop('SIGTERM', 30_000);
  });

  it('a node that leaves a room drops out of its tree and stops receiving it; joining brings it back', async () => {
    await post('/api/nodes/node-5/leave', { room: ROOM });
    await waitForView('node-5 out of the tree', (v) => {
      const r = room(v);
      const touching = r.edges.filter((e) => e.a === 'node-5' || e.b === 'node-5');
      return [
        ...(r.members.includes('node-5') ? ['node-5 still a member'] : []),
        ...touching.map((e) => `link ${e.a}-${e.b} (${e.kind})`),
      ];
    });
    const { id } = (await post('/api/nodes/node-1/send', {
      room: ROOM,
      text: 'without node-5',
    })) as {
      id: string;
    };
    await waitArrivals(id, ['node-1', 'node-2', 'node-3', 'node-4']);
    await post('/api/nodes/node-5/join', { room: ROOM });
    await waitForView('node-5 back in the tree', (v) =>
      room(v).spanning && room(v).liveMembers.length === 5 ? [] : ['not spanning 5'],
    );
  });

  it('loss drops SWIM packets and Plumtree frames at the node, counted by its own hooks', async () => {
    await post('/api/nodes/node-2/loss', { packets: 0.5, frames: 0.5 });
    await waitForView('node-2 reports its loss', (v) =>
      node(v, 'node-2').faults.packetLoss === 0.5 ? [] : ['no loss yet'],
    );
    // SWIM probes go through node-2 all the time; its own messages give it frames to drop.
    let counters = node(await get<ClusterView>('/api/view'), 'node-2').counters;
    await waitForValue(
      'drops counted at node-2',
      async () => {
        await post('/api/nodes/node-2/send', { room: ROOM, text: 'through a lossy node' });
        counters = node(await get<ClusterView>('/api/view'), 'node-2').counters;
        return counters.framesDropped > 0 && counters.packetsLost > 0 ? true : undefined;
      },
      { timeoutMs: STATE_MS, lastSeen: () => JSON.stringify(counters) },
    );
    await post('/api/nodes/node-2/loss', { packets: 0, frames: 0 });
    await waitForView('loss lifted, everyone alive', (x) =>
      node(x, 'node-2').faults.packetLoss === 0 ? allAlive(x) : ['loss still on'],
    );
  });

  it('a partition splits the cluster; heal merges it and the durable room catches up', async () => {
    await post('/api/partition', {
      groups: [
        ['node-1', 'node-2'],
        ['node-3', 'node-4', 'node-5'],
      ],
    });
    await waitForView('each side sees the other dead', (v) => {
      const p: string[] = [];
      for (const a of ['node-1', 'node-2']) {
        for (const b of ['node-3', 'node-4', 'node-5']) {
          if (node(v, b).seenBy[a] !== 'dead')
            p.push(`${a} sees ${b} ${node(v, b).seenBy[a] ?? '?'}`);
          if (node(v, a).seenBy[b] !== 'dead')
            p.push(`${b} sees ${a} ${node(v, a).seenBy[b] ?? '?'}`);
        }
      }
      return v.partition === null ? ['no partition'] : p;
    });
    const { id } = (await post('/api/nodes/node-1/send', { room: ROOM, text: 'side A only' })) as {
      id: string;
    };
    await waitArrivals(id, ['node-1', 'node-2']);
    await post('/api/heal');
    await waitForView('healed: everyone alive everywhere', (v) =>
      v.partition === null ? allAlive(v) : ['partition'],
    );
    // chat.general is durable: the other side pulls what it missed.
    await waitArrivals(id, NODES);
  });

  it('all eager: every tree reopens as a full mesh, and the next message prunes it', async () => {
    await post('/api/eager-all', { on: true });
    const mesh = await waitForView('a full eager mesh', (v) => {
      const eager = room(v).edges.filter((e) => e.kind === 'eager').length;
      return v.eagerAll && !v.reconfiguring && v.nodes.every((n) => n.eagerAll) && eager === 10
        ? allAlive(v)
        : [
            `${eager.toString()} eager links, reconfiguring ${String(v.reconfiguring)}, ` +
              `lazy: ${room(v)
                .edges.filter((e) => e.kind === 'lazy')
                .map((e) => `${e.a}-${e.b}`)
                .join(' ')}, prunes sent ${v.totals.prunesSent.toString()}, ` +
              `delivered ${v.totals.delivered.toString()}, duplicates ${v.totals.duplicates.toString()}`,
          ];
    });
    expect(mesh.nodes.every((n) => n.process === 'running')).toBe(true);
    await post('/api/nodes/node-1/send', { room: ROOM, text: 'through the mesh' });
    await waitForView('duplicates pruned the mesh', (v) => {
      const eager = room(v).edges.filter((e) => e.kind === 'eager').length;
      return eager < 10 && v.totals.prunesSent > 0 ? [] : [`${eager.toString()} eager links`];
    });
    await post('/api/eager-all', { on: false });
    await waitForView('default fanout again', (v) =>
      !v.eagerAll && !v.reconfiguring && v.nodes.every((n) => !n.eagerAll)
        ? allAlive(v)
        : ['reconfiguring'],
    );
  });

  it('refuses bad commands with 400 and the reason', async () => {
    const res = await fetch(`${url}/api/nodes/node-9/kill`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/no node "node-9"/);
    const bad = await fetch(`${url}/api/nodes/node-1/loss`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ packets: 2, frames: 0 }),
    });
    expect(bad.status).toBe(400);
  });
});

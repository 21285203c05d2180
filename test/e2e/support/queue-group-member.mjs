// One node of the queue-groups processes test (test/e2e/queue-groups-processes.test.ts), run from
// the built packages: `node queue-group-member.mjs <name> <seed address|-> <role> [group]`, role
// `group` (a replica of `group`), `plain` (an ungrouped subscriber) or `none` (subscribes to
// nothing). Prints JSON lines: `{"up":address}`, `{"h":id,"r":0|1}` per handled message (r: the
// delivery was flagged redelivered), `{"groups":{...}}` when every group is whole in its view,
// `{"progress":n}` while publishing, `{"stats":...}` on request. Reads commands on stdin:
// `wait-groups <g1,g2,...> <replicas> <subscribers>`, `publish <count>`, `stats`.
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { PlumtreeNode } from '@plumtree/cluster';

const [name, seed, role, group] = process.argv.slice(2);
const TOPIC = 'orders.created';
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const node = await PlumtreeNode.start({
  name,
  persistence: false,
  bindAddr: '127.0.0.1',
  bindPort: 0,
  // Failure detection in about 3 s; suspicion long enough that a busy process on a loaded
  // machine is not declared dead (its messages would be taken over while it still handles them).
  swim: {
    preset: 'local',
    probeIntervalMs: 500,
    probeTimeoutMs: 500,
    gossipIntervalMs: 20,
    suspicionMult: 4,
  },
  seeds: seed === '-' ? [] : [seed],
});
if (role === 'group') {
  node.subscribe(TOPIC, { group }).subscribe((d) => out({ h: d.id, r: d.redelivered ? 1 : 0 }));
} else if (role === 'plain') {
  node.subscribe(TOPIC).subscribe((d) => out({ h: d.id, r: d.redelivered ? 1 : 0 }));
}
out({ up: node.address });

async function until(cond) {
  while (!cond()) await delay(20);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, a, b, c] = line.trim().split(' ');
  if (cmd === 'wait-groups') {
    const groups = a.split(',');
    void (async () => {
      await until(
        () =>
          node.members().length >= Number(c) &&
          groups.every((g) => node.groupMembersOf(TOPIC, g).length === Number(b)),
      );
      if (role !== 'none') await node.ready(TOPIC, { subscribers: Number(c), timeoutMs: 30_000 });
      out({ groups: Object.fromEntries(groups.map((g) => [g, node.groupMembersOf(TOPIC, g)])) });
    })();
  } else if (cmd === 'publish') {
    void (async () => {
      const total = Number(a);
      // Batches of 100, paced, so the stream lasts a few seconds and a kill lands mid-stream.
      for (let k = 0; k < total; k += 100) {
        const batch = [];
        for (let j = k; j < Math.min(total, k + 100); j++) batch.push(node.publish(TOPIC, { j }));
        await Promise.all(batch);
        out({ progress: Math.min(total, k + 100) });
        await delay(20);
      }
    })();
  } else if (cmd === 'members') {
    out({ members: node.members().map((m) => `${m.name}:${m.state}`) });
  } else if (cmd === 'stats') {
    const s = node.stats();
    out({
      stats: {
        groups: s.groups,
        gossip: s.node.framesReceived.gossip,
        deliveries: s.node.deliveries,
      },
    });
  }
});

/**
 * SwimNode over real UDP and TCP on 127.0.0.1 with ephemeral ports: five nodes join with a shared
 * key, an abrupt close is detected as a failure within the suspicion bound, a graceful leave shows
 * as left, user messages and broadcasts cross, a node with the wrong key is never admitted, and a
 * malformed datagram is dropped and counted. Waits are bounded polls, never fixed sleeps.
 */
import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import {
  JoinError,
  SwimNode,
  suspicionTimeoutMs,
  type SwimConfigInput,
  type SwimEvent,
} from '@plumtree/swim';
import { waitFor } from '../support/wait-for.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const WRONG_KEY = Buffer.alloc(32, 9).toString('base64');
/** The local preset with shorter timers so failure detection takes about a second. */
const FAST: SwimConfigInput = {
  preset: 'local',
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 50,
  suspicionMult: 3,
  pushPullIntervalMs: 2_000,
  gossipToTheDeadTimeMs: 5_000,
  // memberlist does not relay user broadcasts: the sender piggybacks each one
  // retransmitMult * ceil(log10(n + 1)) times to random peers, so a high multiplier makes missing a peer
  // vanishingly rare (about (1/4)^10 per peer with 3 of 4 peers hit per gossip round).
  retransmitMult: 32,
};

function start(name: string, keys = [KEY]): Promise<SwimNode> {
  return SwimNode.start({ name, bindAddr: '127.0.0.1', bindPort: 0, keys, config: FAST });
}

function stateOf(node: SwimNode, name: string): string | undefined {
  return node.member(name)?.state;
}

jest.setTimeout(30_000);

describe('SwimNode on real sockets', () => {
  const nodes: SwimNode[] = [];
  const events = new Map<string, SwimEvent[]>();

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('forms a 5-node encrypted cluster', async () => {
    for (let i = 0; i < 5; i++) {
      const n = await start(`n${i}`);
      const log: SwimEvent[] = [];
      events.set(n.name, log);
      n.events$.subscribe((e) => log.push(e));
      nodes.push(n);
    }
    for (const n of nodes.slice(1)) await n.join([nodes[0]!.boundAddress]);
    await waitFor('all see 5 alive', () => nodes.every((n) => n.numMembers() === 5));
    expect(nodes[0]!.members().map((m) => m.name)).toEqual(
      expect.arrayContaining(['n0', 'n1', 'n2', 'n3', 'n4']),
    );
    // The encrypted packets really decoded: no decryption drops anywhere.
    for (const n of nodes) expect(n.stats().drops['packet:decrypt-failed']).toBeUndefined();
  });

  it('carries user messages and broadcasts', async () => {
    const payload = new TextEncoder().encode('hello n3');
    expect(nodes[1]!.sendUserMessage('n3', payload)).toBe(true);
    expect(
      nodes[1]!.sendUserMessage('n4', new TextEncoder().encode('over tcp'), { reliable: true }),
    ).toBe(true);
    nodes[2]!.queueBroadcast(new TextEncoder().encode('to everyone'));
    const texts = (name: string): string[] =>
      events
        .get(name)!
        .filter((e) => e.type === 'user-message')
        .map((e) => new TextDecoder().decode((e as { payload: Uint8Array }).payload));
    await waitFor('n3 gets the direct message', () => texts('n3').includes('hello n3'));
    await waitFor('n4 gets the reliable message', () => texts('n4').includes('over tcp'));
    await waitFor('everyone else gets the broadcast', () =>
      ['n0', 'n1', 'n3', 'n4'].every((n) => texts(n).includes('to everyone')),
    );
  });

  it('refuses a node with the wrong key', async () => {
    const before = nodes[0]!.stats().drops['stream:decrypt-failed'] ?? 0;
    const intruder = await start('intruder', [WRONG_KEY]);
    nodes.push(intruder);
    await expect(intruder.join([nodes[0]!.boundAddress])).rejects.toBeInstanceOf(JoinError);
    await waitFor(
      'n0 counts the undecryptable push-pull',
      () => (nodes[0]!.stats().drops['stream:decrypt-failed'] ?? 0) > before,
    );
    for (const n of nodes.slice(0, 5)) expect(n.member('intruder')).toBeUndefined();
    expect(intruder.numMembers()).toBe(1);
  });

  it('drops and counts a malformed packet', async () => {
    const target = nodes[0]!;
    const before = target.stats().droppedTotal;
    const sock = createSocket('udp4');
    const [host, port] = target.boundAddress.split(':');
    await new Promise<void>((r) =>
      sock.send(
        Buffer.from([1, ...Array.from({ length: 40 }, (_, i) => i)]),
        Number(port),
        host,
        () => r(),
      ),
    );
    sock.close();
    await waitFor('the drop is counted', () => target.stats().droppedTotal > before);
    const drops = target.stats().drops;
    // With a keyring, garbage fails decryption first.
    expect(drops['packet:decrypt-failed']).toBeGreaterThan(0);
    expect(target.numMembers()).toBe(5);
  });

  it('marks an abruptly closed node dead within the suspicion bound', async () => {
    const victim = nodes[4]!;
    await victim.close();
    const n = 5;
    // Detection takes at most a few probe rounds, then the suspicion runs at most its maximum.
    const bound =
      FAST.probeIntervalMs! * n +
      suspicionTimeoutMs(FAST.suspicionMult!, n, FAST.probeIntervalMs!) *
        nodes[0]!.config.suspicionMaxTimeoutMult;
    // The wait's bound is the assertion: it fails unless every other node marks n4 dead in time.
    await waitFor(
      'the others to mark n4 dead within the suspicion bound',
      () => nodes.slice(0, 4).every((x) => stateOf(x, 'n4') === 'dead'),
      {
        timeoutMs: bound,
        lastSeen: () =>
          nodes
            .slice(0, 4)
            .map((x) => `${x.name}: ${stateOf(x, 'n4')}`)
            .join(', '),
      },
    );
    for (const x of nodes.slice(0, 4)) {
      expect(
        events.get(x.name)!.some((e) => e.type === 'member-failed' && e.member.name === 'n4'),
      ).toBe(true);
    }
  });

  it('shows a graceful leave as left', async () => {
    const leaver = nodes[3]!;
    expect(await leaver.leave(2_000)).toBe(true);
    expect(leaver.isClosed).toBe(true);
    await waitFor('the others mark n3 left', () =>
      nodes.slice(0, 3).every((x) => stateOf(x, 'n3') === 'left'),
    );
    for (const x of nodes.slice(0, 3)) {
      expect(
        events.get(x.name)!.some((e) => e.type === 'member-left' && e.member.name === 'n3'),
      ).toBe(true);
      expect(
        events.get(x.name)!.some((e) => e.type === 'member-failed' && e.member.name === 'n3'),
      ).toBe(false);
    }
  });
});

/**
 * The {@link LazarusHost} of a running {@link SwimNode}: its advertised address, the addresses of
 * its alive members (suspect ones are left out: a suspect seed may be the ghost) and its join.
 */
import type { SwimNode } from '@plumtree/swim';
import type { LazarusHost } from './lazarus.js';

/** Adapts a {@link SwimNode} to what {@link Lazarus} needs. */
export function swimLazarusHost(node: SwimNode): LazarusHost {
  return {
    get localAddress(): string {
      return node.localMember.address;
    },
    *aliveAddresses(): Iterable<string> {
      for (const m of node.members()) if (m.state === 'alive') yield m.address;
    },
    join: (seeds) => node.join(seeds),
  };
}

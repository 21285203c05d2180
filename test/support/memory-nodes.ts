/**
 * Nodes of one test on a `MemoryNetwork`, at 10.0.0.N:7946 in start order, each seeded with the
 * first and with its start index, on the `local` SWIM preset (the nodes share one event loop; the
 * tests' fast timers would declare busy nodes dead). `closeAll` closes every node started.
 */
import { PlumtreeNode, type PlumtreeNodeOptions } from '@plumtree/cluster';
import type { MemoryNetwork } from '@plumtree/swim';

/** Extra options of `net.bind` (the memory transport's). */
type BindOptions = Parameters<MemoryNetwork['bind']>[1];

export interface MemoryNodes {
  readonly nodes: PlumtreeNode[];
  start(
    net: MemoryNetwork,
    name: string,
    extra?: Partial<PlumtreeNodeOptions>,
  ): Promise<PlumtreeNode>;
  closeAll(): Promise<void>;
}

/** `defaults` apply to every node before its own `extra`; `bind` to every node's transport. */
export function memoryNodes(
  defaults: Partial<PlumtreeNodeOptions> = {},
  bind?: BindOptions,
): MemoryNodes {
  const nodes: PlumtreeNode[] = [];
  return {
    nodes,
    async start(net, name, extra = {}) {
      const node = await PlumtreeNode.start({
        name,
        persistence: false,
        transport: net.bind(`10.0.0.${(nodes.length + 1).toString()}:7946`, bind),
        swim: { preset: 'local' },
        seeds: nodes.length > 0 ? [nodes[0]!.address] : [],
        seed: nodes.length + 1,
        ...defaults,
        ...extra,
      });
      nodes.push(node);
      return node;
    },
    async closeAll() {
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}

import { randomInt, type Rng } from '@plumtree/common';
import type { TopicView } from '@plumtree/plumtree';

/**
 * Up to `k` distinct peers from `view` for which `accept(peer)` holds, chosen uniformly at random.
 *
 * Large views are probed at random slots (expected O(k) work, no copy of the view); when probing
 * does not find enough (a small or mostly unavailable view), a full pass collects every candidate
 * and a partial Fisher-Yates picks among them.
 */
export function sampleView(
  view: TopicView,
  k: number,
  rng: Rng,
  accept: (peer: string) => boolean,
): string[] {
  const picked: string[] = [];
  if (k <= 0) return picked;
  const size = view.size;
  const chosen = new Set<string>();
  if (size > 4 * k + 16) {
    const attempts = 8 * k + 32;
    for (let a = 0; a < attempts && picked.length < k; a++) {
      const p = view.at(randomInt(rng, size));
      if (p === undefined || chosen.has(p) || !accept(p)) continue;
      chosen.add(p);
      picked.push(p);
    }
    if (picked.length === k) return picked;
  }
  const candidates: string[] = [];
  for (let i = 0; i < size; i++) {
    const p = view.at(i);
    if (p !== undefined && !chosen.has(p) && accept(p)) candidates.push(p);
  }
  for (let i = 0; i < candidates.length && picked.length < k; i++) {
    const j = i + randomInt(rng, candidates.length - i);
    const v = candidates[j]!;
    candidates[j] = candidates[i]!;
    candidates[i] = v;
    picked.push(v);
  }
  return picked;
}

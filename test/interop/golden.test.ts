// Interop: rebuild the Go fixture generator from Debian's memberlist source (test/go/build.sh),
// run it, and check that (1) its fresh output matches the committed fixtures, except for the
// bytes that depend on the random AES-GCM nonces Go draws, and (2) our codec decodes and
// re-encodes every fresh fixture exactly. Needs: apt-get install golang-go
// golang-github-hashicorp-memberlist-dev.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import {
  defineGoldenSuite,
  loadCommittedGolden,
  parseGolden,
  type GoldenFile,
  type GoldenFixture,
} from '../fixtures/memberlist/golden-suite.js';

const goDir = fileURLToPath(new URL('../go/', import.meta.url));

function generate(): GoldenFile {
  // Go builds cache under $HOME/.cache/go-build; the first build takes ~20 s, later ones ~2 s.
  execFileSync('sh', [`${goDir}build.sh`], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
  });
  return parseGolden(
    execFileSync(`${goDir}bin/golden`, {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    }),
  );
}

/** A fixture with the nonce-dependent fields dropped when it is encrypted. */
function nonceFree(f: GoldenFixture): GoldenFixture {
  if (f.nonceHex === undefined) return f;
  const { hex: _hex, nonceHex: _nonce, ...rest } = f;
  return { ...rest, hex: `<${(f.hex.length / 2).toString()} encrypted bytes>` };
}

const fresh = generate();
const committed = loadCommittedGolden();

describe('Go memberlist output vs the committed fixtures', () => {
  it('has the same fixture groups and names', () => {
    const names = (g: GoldenFile): Record<string, string[]> =>
      Object.fromEntries(Object.entries(g.fixtures).map(([k, v]) => [k, v.map((f) => f.name)]));
    expect(names(fresh)).toEqual(names(committed));
  });
  for (const group of Object.keys(committed.fixtures) as (keyof GoldenFile['fixtures'])[]) {
    it(`${group}: fresh bytes equal the committed bytes (modulo random nonces)`, () => {
      expect(fresh.fixtures[group].map(nonceFree)).toEqual(
        committed.fixtures[group].map(nonceFree),
      );
    });
  }
});

describe('our codec on fresh Go output', () => {
  defineGoldenSuite(fresh);
});

import { describe, expect, it } from '@jest/globals';
import type { PushNodeState } from '../wire/messages.js';
import { verifyProtocol, type VersionVector } from './protocol-versions.js';

// memberlist's verifyProtocol (state.go): the common range of every alive member's versions must
// contain every member's current version.
const local = (name: string, v: number[], alive = true): VersionVector => ({
  name,
  pMin: v[0]!,
  pMax: v[1]!,
  pCur: v[2]!,
  dMin: v[3]!,
  dMax: v[4]!,
  dCur: v[5]!,
  alive,
});
const remote = (name: string, v: number[], state: 0 | 1 | 2 | 3 = 0): PushNodeState => ({
  Name: name,
  Addr: Uint8Array.of(10, 0, 0, 1),
  Port: 7946,
  Meta: new Uint8Array(0),
  Incarnation: 1,
  State: state,
  Vsn: Uint8Array.from(v),
});

describe('verifyProtocol', () => {
  it('accepts members whose ranges overlap around every current version', () => {
    expect(
      verifyProtocol([remote('b', [1, 5, 2, 0, 0, 0])], [local('a', [1, 5, 2, 0, 0, 0])]),
    ).toBeNull();
    expect(
      verifyProtocol([remote('b', [2, 4, 3, 1, 3, 2])], [local('a', [1, 5, 3, 0, 4, 2])]),
    ).toBeNull();
  });

  it('refuses when a member (here the local one) speaks below a remote minimum', () => {
    expect(
      verifyProtocol([remote('b', [3, 5, 3, 0, 0, 0])], [local('a', [1, 5, 2, 0, 0, 0])]),
    ).toBe("Node 'a' protocol version (2) is incompatible: [3, 5]");
  });

  it('refuses a delegate version outside the common delegate range', () => {
    expect(
      verifyProtocol([remote('b', [1, 5, 2, 2, 3, 2])], [local('a', [1, 5, 2, 0, 1, 1])]),
    ).toMatch(/delegate protocol version/);
  });

  it('non-alive members do not narrow the range but are still checked', () => {
    // A dead remote with a high minimum does not narrow the range...
    expect(
      verifyProtocol([remote('b', [4, 5, 4, 0, 0, 0], 2)], [local('a', [1, 3, 2, 0, 0, 0])]),
    ).toBe("Node 'b' protocol version (4) is incompatible: [1, 3]");
    // ...and a dead local member speaking an old version blocks the merge, as in memberlist.
    expect(
      verifyProtocol(
        [remote('b', [2, 5, 2, 0, 0, 0])],
        [local('a', [2, 5, 2, 0, 0, 0]), local('old', [1, 1, 1, 0, 0, 0], false)],
      ),
    ).toMatch(/'old' protocol version \(1\)/);
  });

  it('a remote without Vsn counts as version 0 and is refused', () => {
    expect(verifyProtocol([remote('b', [])], [local('a', [1, 5, 2, 0, 0, 0])])).toMatch(
      /'b' protocol version \(0\)/,
    );
  });
});

import { describe, expect, it } from '@jest/globals';
import { resolveSwimConfig, SwimConfig, SwimConfigError } from './swim-config.js';

// The expected values are memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig
// (config.go), field by field.
const LAN = {
  bindAddr: '0.0.0.0',
  bindPort: 7946,
  advertiseAddr: '',
  advertisePort: 7946,
  protocolVersion: 2,
  tcpTimeoutMs: 10_000,
  indirectChecks: 3,
  retransmitMult: 4,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  pushPullIntervalMs: 30_000,
  probeTimeoutMs: 500,
  probeIntervalMs: 1_000,
  disableTcpPings: false,
  awarenessMaxMultiplier: 8,
  gossipNodes: 3,
  gossipIntervalMs: 200,
  gossipToTheDeadTimeMs: 30_000,
  gossipVerifyIncoming: true,
  gossipVerifyOutgoing: true,
  enableCompression: true,
  handoffQueueDepth: 1_024,
  udpBufferSize: 1_400,
  deadNodeReclaimTimeMs: 0,
  requireNodeNames: false,
  delegateProtocolVersion: 0,
  delegateProtocolMin: 0,
  delegateProtocolMax: 0,
};

describe('SwimConfig presets', () => {
  it('lan() is DefaultLANConfig', () => {
    expect(SwimConfig.lan()).toMatchObject(LAN);
  });

  it('wan() is DefaultWANConfig', () => {
    expect(SwimConfig.wan()).toMatchObject({
      ...LAN,
      tcpTimeoutMs: 30_000,
      suspicionMult: 6,
      pushPullIntervalMs: 60_000,
      probeTimeoutMs: 3_000,
      probeIntervalMs: 5_000,
      gossipNodes: 4,
      gossipIntervalMs: 500,
      gossipToTheDeadTimeMs: 60_000,
    });
  });

  it('local() is DefaultLocalConfig', () => {
    expect(SwimConfig.local()).toMatchObject({
      ...LAN,
      tcpTimeoutMs: 1_000,
      indirectChecks: 1,
      retransmitMult: 2,
      suspicionMult: 3,
      pushPullIntervalMs: 15_000,
      probeTimeoutMs: 200,
      probeIntervalMs: 1_000,
      gossipIntervalMs: 100,
      gossipToTheDeadTimeMs: 15_000,
    });
  });
});

describe('resolveSwimConfig', () => {
  it('applies overrides on a preset', () => {
    const c = resolveSwimConfig({ preset: 'wan', name: 'n1', gossipNodes: 5 });
    expect(c).toBeInstanceOf(SwimConfig);
    expect(c.name).toBe('n1');
    expect(c.gossipNodes).toBe(5);
    expect(c.probeIntervalMs).toBe(5_000);
  });

  it('accepts a SwimConfig instance', () => {
    const c = Object.assign(SwimConfig.local(), { name: 'x' });
    expect(resolveSwimConfig(c)).toMatchObject({
      name: 'x',
      probeTimeoutMs: 200,
      retransmitMult: 2,
    });
  });

  it('lists every problem in one SwimConfigError', () => {
    let error: unknown;
    try {
      resolveSwimConfig({
        preset: 'moon' as never,
        name: '',
        protocolVersion: 6,
        probeIntervalMs: 100,
        probeTimeoutMs: 200,
        udpBufferSize: 10,
        gossipNodes: 1.5,
        disableTcpPings: 'yes' as never,
        delegateProtocolMin: 3,
        delegateProtocolMax: 2,
        bogus: 1,
      } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SwimConfigError);
    const fields = (error as SwimConfigError).problems.map((p) => p.field).sort();
    expect(fields).toEqual(
      [
        'bogus',
        'delegateProtocolMin',
        'delegateProtocolVersion',
        'disableTcpPings',
        'gossipNodes',
        'name',
        'preset',
        'probeTimeoutMs',
        'protocolVersion',
        'udpBufferSize',
      ].sort(),
    );
    expect((error as Error).message).toMatch(/^Invalid SWIM configuration \(10 problems\): /);
    expect((error as Error).message).toContain(
      'protocolVersion: protocolVersion must not be greater than 5',
    );
  });

  it('requires a name', () => {
    expect(() => resolveSwimConfig({})).toThrow(SwimConfigError);
  });
});

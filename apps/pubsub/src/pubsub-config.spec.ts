import { describe, expect, it } from '@jest/globals';
import { PubsubConfigError, pubsubConfigFromEnv } from './pubsub-config.js';

describe('pubsubConfigFromEnv', () => {
  it('has defaults for a first node on loopback', () => {
    expect(pubsubConfigFromEnv({})).toEqual({
      name: 'pubsub-7946',
      bindAddr: '127.0.0.1',
      bindPort: 7946,
      seeds: [],
      publishEveryMs: 2_000,
      httpPort: 8946,
    });
  });

  it('reads every variable; seeds are comma-separated', () => {
    expect(
      pubsubConfigFromEnv({
        PUBSUB_NAME: 'b',
        PUBSUB_BIND: '0.0.0.0',
        PUBSUB_PORT: '7947',
        PUBSUB_SEEDS: '127.0.0.1:7946, 127.0.0.1:7948,',
        PUBSUB_PUBLISH_MS: '0',
        PUBSUB_HTTP_PORT: '9000',
      }),
    ).toEqual({
      name: 'b',
      bindAddr: '0.0.0.0',
      bindPort: 7947,
      seeds: ['127.0.0.1:7946', '127.0.0.1:7948'],
      publishEveryMs: 0,
      httpPort: 9000,
    });
  });

  it('names every bad variable in one error', () => {
    expect(() => pubsubConfigFromEnv({ PUBSUB_PORT: '70000', PUBSUB_PUBLISH_MS: 'often' })).toThrow(
      PubsubConfigError,
    );
    expect(() => pubsubConfigFromEnv({ PUBSUB_PORT: '70000', PUBSUB_PUBLISH_MS: 'often' })).toThrow(
      /PUBSUB_PORT .*; PUBSUB_PUBLISH_MS/,
    );
  });
});

import { describe, expect, it } from '@jest/globals';
import {
  APPLICATION_JSON,
  defaultPayloadCodec,
  OCTET_STREAM,
  rawPayloadCodec,
} from './payload-codec.js';

describe('payload codecs', () => {
  it('the default codec passes bytes raw and carries other values as JSON', () => {
    const bytes = Uint8Array.of(9, 8);
    expect(defaultPayloadCodec.encode(bytes)).toBe(bytes);
    expect(defaultPayloadCodec.contentTypeOf!(bytes)).toBe(OCTET_STREAM);
    const json = defaultPayloadCodec.encode({ a: [1, 'ü'] });
    expect(defaultPayloadCodec.contentTypeOf!({})).toBe(APPLICATION_JSON);
    expect(defaultPayloadCodec.decode(json, APPLICATION_JSON)).toEqual({ a: [1, 'ü'] });
    expect(defaultPayloadCodec.decode(bytes, OCTET_STREAM)).toBe(bytes);
    expect(() => defaultPayloadCodec.encode(undefined)).toThrow(TypeError);
    expect(() => defaultPayloadCodec.decode(Uint8Array.of(0xff), APPLICATION_JSON)).toThrow();
  });

  it('the raw codec refuses anything but bytes', () => {
    expect(() => rawPayloadCodec.encode('text')).toThrow(TypeError);
  });
});

import { describe, expect, it } from '@jest/globals';
import {
  DirectoryLimitError,
  InvalidHeadersError,
  InvalidTopicError,
  NoRespondersError,
  NoSubscribersError,
  NodeClosedError,
  PayloadTooLargeError,
  PlumtreeNodeError,
  PlumtreeNodeOptionsError,
  RequestHandlerError,
  RequestTimeoutError,
  UnserializablePayloadError,
} from '../index.js';
// Internal errors (option problems of the engines a node wires; caught and rethrown as
// PlumtreeNodeOptionsError, or never reaching a caller): not exported by the package.
import { DirectoryOptionsError } from '../directory/directory-errors.js';
import { DurableOptionsError } from '../durable/durable-options.js';
import { DurableTopicExistsError } from '../durable/durable-replicator.js';
import { LazarusOptionsError } from '../lazarus/lazarus.js';

describe('error classes', () => {
  const cases: [Error, string, string][] = [
    [new InvalidTopicError('a..b', 'empty segment'), 'InvalidTopicError', 'empty segment'],
    [new DirectoryLimitError('maxTopics', 'too many'), 'DirectoryLimitError', 'too many'],
    [
      new DirectoryOptionsError([
        { field: 'x', message: 'm' },
        { field: 'y', message: 'n' },
      ]),
      'DirectoryOptionsError',
      'Invalid topic directory options (2 problems): x: m; y: n',
    ],
    [
      new DurableOptionsError([{ field: 'x', message: 'm' }]),
      'DurableOptionsError',
      'Invalid durable replicator options (1 problem): x: m',
    ],
    [
      new DurableTopicExistsError('t'),
      'DurableTopicExistsError',
      'durable topic t is already added',
    ],
    [
      new LazarusOptionsError([{ field: 'x', message: 'm' }]),
      'LazarusOptionsError',
      'Invalid Lazarus options (1 problem): x: m',
    ],
    [new NodeClosedError('n'), 'NodeClosedError', 'PlumtreeNode n is closed'],
    [new InvalidHeadersError('r'), 'InvalidHeadersError', 'invalid headers: r'],
    [
      new PayloadTooLargeError(10, 5),
      'PayloadTooLargeError',
      'payload of 10 bytes exceeds maxMessageSize (5 bytes)',
    ],
    [
      new NoSubscribersError('t'),
      'NoSubscribersError',
      'no live subscriber of topic "t" to hand the message to',
    ],
    [
      new PlumtreeNodeOptionsError([{ field: 'f', message: 'm' }]),
      'PlumtreeNodeOptionsError',
      'Invalid PlumtreeNode options (1 problem): f: m',
    ],
    [
      new NoRespondersError('t'),
      'NoRespondersError',
      'no live member answers requests on topic "t"',
    ],
    [new RequestTimeoutError('t', [], 5), 'RequestTimeoutError', ''],
    [new RequestHandlerError('t', 'p', 'E', 'boom'), 'RequestHandlerError', ''],
    [new UnserializablePayloadError('payload', 'Map'), 'UnserializablePayloadError', ''],
  ];

  it.each(cases)(
    '%s extends PlumtreeNodeError, with its own name and message',
    (e, name, message) => {
      expect(e).toBeInstanceOf(PlumtreeNodeError);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(name);
      if (message !== '') expect(e.message).toBe(message);
    },
  );
});

/**
 * The agent's HTTP API: `GET /members` (every known member as JSON), `GET /health`, `GET /stats`
 * (the node's `stats()`), `GET /metrics` (Prometheus text of every family in docs/metrics.md)
 * and `POST /publish` (JSON `{"topic", "data", "headers"?}` -> `{"id"}`).
 * Bad requests get a 4xx with `{"error", "type"}`; the node's typed errors map to status codes in
 * {@link publishErrorStatus}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createPlumtreeMetrics, type PlumtreeNode } from '@plumtree/cluster';
import type { FilteringTransport, SwimMember } from '@plumtree/swim';

/** A member as `/members` returns it. */
export interface MemberJson {
  readonly name: string;
  /** `host:port`. */
  readonly addr: string;
  readonly state: string;
  readonly incarnation: number;
  /** Base64 of the meta bytes. */
  readonly meta: string;
}

/** A member as JSON. */
export function memberJson(m: SwimMember): MemberJson {
  return {
    name: m.name,
    addr: m.address,
    state: m.state,
    incarnation: m.incarnation,
    meta: Buffer.from(m.meta).toString('base64'),
  };
}

/** Largest `POST /publish` body read; the payload limit itself is the node's `maxMessageSize`. */
export const MAX_PUBLISH_BODY_BYTES = 32 * 1024 * 1024;

/** A request the API refuses, with its status code. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'BadRequest',
  ) {
    super(message);
  }
}

/**
 * Status of a rejected publish, by the error's name (the node's typed errors; names rather than
 * classes because two modules export an `InvalidTopicError`): invalid input 400, too large 413,
 * nobody to take it or the node closing 503, anything else 500.
 */
export function publishErrorStatus(e: Error): number {
  switch (e.name) {
    case 'InvalidTopicError':
    case 'InvalidHeadersError':
      return 400;
    case 'PayloadTooLargeError':
      return 413;
    case 'NoSubscribersError':
    case 'NodeClosedError':
      return 503;
    default:
      return 500;
  }
}

/** What a `POST /publish` body asks for, checked. */
export interface PublishRequest {
  readonly topic: string;
  /** A string is published as its UTF-8 bytes; any other JSON value through the node's codec. */
  readonly data: unknown;
  readonly headers?: Record<string, string>;
}

/** Checks a parsed `POST /publish` body; throws an {@link HttpError} (400) naming the problem. */
export function parsePublishRequest(body: unknown): PublishRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'body must be a JSON object {"topic", "data", "headers"?}');
  }
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'topic' && k !== 'data' && k !== 'headers') {
      throw new HttpError(400, `unknown field ${JSON.stringify(k)}`);
    }
  }
  if (typeof o['topic'] !== 'string' || o['topic'] === '') {
    throw new HttpError(400, 'topic must be a non-empty string');
  }
  if (!('data' in o) || o['data'] === undefined) throw new HttpError(400, 'data is required');
  const h = o['headers'];
  if (h !== undefined) {
    if (typeof h !== 'object' || h === null || Array.isArray(h)) {
      throw new HttpError(400, 'headers must be an object of strings');
    }
    for (const [k, v] of Object.entries(h)) {
      if (typeof v !== 'string') throw new HttpError(400, `header ${k} must be a string`);
    }
  }
  return {
    topic: o['topic'],
    data: o['data'],
    ...(h !== undefined ? { headers: h as Record<string, string> } : {}),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_PUBLISH_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () =>
      tooLarge
        ? reject(
            new HttpError(
              413,
              `body above ${MAX_PUBLISH_BODY_BYTES.toString()} bytes`,
              'PayloadTooLarge',
            ),
          )
        : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

async function publish(node: PlumtreeNode, req: IncomingMessage): Promise<{ id: string }> {
  // The body is parsed as JSON whatever content-type says (curl -d sends a form type).
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
  const p = parsePublishRequest(body);
  // Strings go out as bytes, so every receiver prints the same text a stdin publish would give.
  const payload = typeof p.data === 'string' ? Buffer.from(p.data, 'utf8') : p.data;
  try {
    const id = await node.publish(
      p.topic,
      payload,
      p.headers !== undefined ? { headers: p.headers } : {},
    );
    return { id };
  } catch (e) {
    const err = e as Error;
    throw new HttpError(publishErrorStatus(err), err.message, err.name);
  }
}

/** A `POST /fault` body: addresses to block or unblock, or `clear` to unblock all. */
async function applyFault(
  fault: FilteringTransport,
  req: IncomingMessage,
): Promise<{ blocked: string[] }> {
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const list = (k: string): string[] => {
    const v = o[k];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new HttpError(400, `${k} must be an array of host:port strings`);
    }
    return v as string[];
  };
  const block = list('block');
  const unblock = list('unblock');
  if (o['clear'] === true) fault.unblockAll();
  fault.unblock(unblock);
  fault.block(block);
  return { blocked: fault.blocked() };
}

/**
 * Serves the API of `node` on `host:port`; resolves once listening. With `fault` (the agent's
 * hidden `--fault-control`), `POST /fault` `{"block"?, "unblock"?, "clear"?}` cuts this node off
 * from peer addresses and back (partition tests).
 */
export function serveHttp(
  node: PlumtreeNode,
  host: string,
  port: number,
  fault?: FilteringTransport,
): Promise<Server> {
  const swim = node.swimNode;
  const metrics = createPlumtreeMetrics(node);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify(body));
    };
    /** A POST endpoint: the handler's result as 200 JSON, its HttpError as that status. */
    const post = (handle: () => Promise<unknown>): void => {
      if (req.method !== 'POST') {
        return send(405, { error: 'use POST', type: 'MethodNotAllowed' }, { allow: 'POST' });
      }
      handle().then(
        (r) => send(200, r),
        (e: unknown) =>
          e instanceof HttpError
            ? send(e.status, { error: e.message, type: e.type })
            : send(500, { error: String(e), type: 'InternalError' }),
      );
    };
    if (path === '/fault' && fault !== undefined) return post(() => applyFault(fault, req));
    if (path === '/publish') return post(() => publish(node, req));
    if (req.method !== 'GET') {
      return send(405, { error: 'method not allowed', type: 'MethodNotAllowed' }, { allow: 'GET' });
    }
    if (path === '/members') return send(200, swim.allMembers().map(memberJson));
    if (path === '/health') {
      return node.isClosed
        ? send(503, { status: 'closed', members: 0 })
        : send(200, { status: 'ok', members: swim.numMembers() });
    }
    if (path === '/stats') return send(200, node.stats());
    if (path === '/metrics') {
      return void metrics.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        },
        (e: unknown) => send(500, { error: String(e), type: 'InternalError' }),
      );
    }
    send(404, { error: 'not found', type: 'NotFound' });
  });
  server.once('close', () => metrics.close());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}

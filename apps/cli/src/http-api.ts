/**
 * The agent's HTTP API: `GET /members` (every known member as JSON), `GET /health`, `GET /stats`
 * (the node's `stats()`), `GET /metrics` (Prometheus text of every family in docs/metrics.md)
 * and `POST /publish` (JSON `{"topic", "data", "headers"?}` -> `{"id"}`).
 * Bad requests get a 4xx with `{"error", "type"}`; the node's typed errors map to status codes in
 * {@link publishErrorStatus}.
 *
 * Access (docs/security.md, "The agent's HTTP API"): with a token, every route but `GET /health`
 * needs `Authorization: Bearer <token>` (401 with `WWW-Authenticate: Bearer` otherwise). Without
 * one (the agent allows that on a loopback address only), a request that a browser page could
 * have sent is refused with 403: one carrying `Origin`, or whose `Host` is not a loopback name
 * (DNS rebinding), so a web page the host's user opens cannot publish or read the cluster.
 * A response sent before the request's body was read closes the connection: the body is never
 * read (a 40 MiB upload costs the client, not the node).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
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

const tooLarge = (): HttpError =>
  new HttpError(413, `body above ${MAX_PUBLISH_BODY_BYTES.toString()} bytes`, 'PayloadTooLarge');

/**
 * The body, up to {@link MAX_PUBLISH_BODY_BYTES}. Over it (by `content-length` before a byte is
 * read, or while reading) it rejects with 413 at once and stops reading: the response closes the
 * connection ({@link serveHttp}), so the rest is never read.
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_PUBLISH_BODY_BYTES) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size <= MAX_PUBLISH_BODY_BYTES) return void chunks.push(c);
      req.off('data', onData);
      req.pause();
      chunks.length = 0;
      reject(tooLarge());
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** How long a connection refused with its body unread stays open for the client to read why. */
export const LINGER_MS = 1_000;

/**
 * Closes the connection of a response sent before the request's body was read, without reading
 * that body and without losing the response. Node ends such a connection and closes it as soon as
 * the response is written; closing a socket with unread bytes makes the kernel send a reset,
 * which can discard the response before the client reads it. So, as nginx's lingering close:
 * the end (FIN) follows the response, reading stops (TCP flow control stalls the sender once the
 * buffers are full: a 40 MiB upload costs the node a few socket buffers, never 40 MiB read), and
 * the socket is destroyed {@link LINGER_MS} later.
 */
function lingeringClose(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as IncomingMessage['socket'] & { destroySoon?: () => void };
  // Node's server calls destroySoon on a `connection: close` response's end: end only.
  socket.destroySoon = () => void socket.end();
  res.once('finish', () => {
    // After the server's own finish handler, which resumed the body to discard it.
    socket.pause();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}

/** Whether the request carries a body (a bodyless GET is not `complete` yet in the handler). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** SHA-256 of a token: compared in constant time whatever the lengths. */
const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/**
 * Checks `Authorization: Bearer <token>` against the expected token's hash in constant time
 * (hashes have one length, so neither the length nor a prefix of the token leaks by timing).
 */
export function bearerMatches(header: string | undefined, expectedHash: Buffer): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(tokenHash(m[1]!), expectedHash);
}

/** A `Host` header naming a loopback address (any port): `localhost`, `127.x.x.x`, `[::1]`. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0]!;
  return isLoopbackHost(name);
}

/** A loopback host: `localhost`, an address in 127.0.0.0/8, `::1` or `::ffff:127.x.x.x`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
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

/** Where and how {@link serveHttp} serves. */
export interface HttpApiOptions {
  readonly host: string;
  readonly port: number;
  /**
   * The bearer token every route but `GET /health` requires; null: none (the agent allows that
   * only on a loopback address; requests a browser could have made are then refused).
   */
  readonly token: string | null;
  /**
   * The agent's `--fault-control` (tests): `POST /fault` `{"block"?, "unblock"?, "clear"?}` cuts
   * this node off from peer addresses and back. The agent requires a token with it.
   */
  readonly fault?: FilteringTransport;
}

/** Serves the API of `node` (see the file header); resolves once listening. */
export function serveHttp(node: PlumtreeNode, options: HttpApiOptions): Promise<Server> {
  const { host, port, fault } = options;
  const swim = node.swimNode;
  const metrics = createPlumtreeMetrics(node);
  const expectedHash = options.token !== null ? tokenHash(options.token) : null;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      // A body not read to its end is never read: close the connection rather than drain it.
      const unread = hasBody(req) && !req.complete;
      res.writeHead(status, {
        'content-type': 'application/json',
        ...extra,
        ...(unread ? { connection: 'close' } : {}),
      });
      if (unread) lingeringClose(req, res);
      res.end(JSON.stringify(body));
    };
    if (!(req.method === 'GET' && path === '/health')) {
      if (expectedHash !== null && !bearerMatches(req.headers.authorization, expectedHash)) {
        const error = req.headers.authorization === undefined ? '' : ', error="invalid_token"';
        return send(
          401,
          { error: 'a bearer token is required (docs/security.md)', type: 'Unauthorized' },
          { 'www-authenticate': `Bearer realm="plumtree"${error}` },
        );
      }
      if (
        expectedHash === null &&
        (req.headers.origin !== undefined || !isLoopbackHostHeader(req.headers.host))
      ) {
        return send(403, {
          error: 'without a token only loopback clients that are not browsers are served',
          type: 'Forbidden',
        });
      }
    }
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
  // A stalled client cannot hold a connection (and its buffers) open for Node's 5-minute default.
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.once('close', () => metrics.close());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}

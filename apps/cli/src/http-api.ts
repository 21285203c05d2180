/**
 * The agent's HTTP API: `GET /members` (every known member as JSON) and `GET /health`.
 */
import { createServer, type Server } from 'node:http';
import type { SwimMember, SwimNode } from '@plumtree/swim';

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

/** Serves the API on `host:port`; resolves once listening. */
export function serveHttp(node: SwimNode, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (path === '/members') return send(200, node.allMembers().map(memberJson));
    if (path === '/health') {
      return node.isClosed
        ? send(503, { status: 'closed', members: 0 })
        : send(200, { status: 'ok', members: node.numMembers() });
    }
    send(404, { error: 'not found' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}

/** `plumtree members --http HOST:PORT [--http-token T]`: prints an agent's member table. */
import { joinHostPort } from '@plumtree/swim';
import { HTTP_TOKEN_ENV } from './cli-args.js';
import type { MemberJson } from './http-api.js';

/**
 * Fetches `/members` (with `token` as the bearer token when given) and prints one aligned row per
 * member; resolves with the exit code.
 */
export async function runMembers(
  http: { host: string; port: number },
  token: string | null,
): Promise<number> {
  const url = `http://${joinHostPort(http.host, http.port)}/members`;
  let members: MemberJson[];
  try {
    const res = await fetch(
      url,
      token !== null ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
    if (res.status === 401) {
      throw new Error(
        `HTTP 401: the agent wants its token (--http-token, --http-token-file or ${HTTP_TOKEN_ENV})`,
      );
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    members = (await res.json()) as MemberJson[];
  } catch (e) {
    process.stderr.write(`plumtree members: cannot read ${url}: ${(e as Error).message}\n`);
    return 1;
  }
  const rows = [
    ['NAME', 'ADDRESS', 'STATE', 'INCARNATION', 'META'],
    ...members.map((m) => [m.name, m.addr, m.state, String(m.incarnation), m.meta]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) {
    process.stdout.write(
      `${r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
  return 0;
}

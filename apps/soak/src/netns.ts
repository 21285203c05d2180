/**
 * A network of Linux network namespaces, one per node, made and unmade with iproute2 and
 * nftables, so that faults are made by the kernel rather than by the code under test.
 *
 * Layout (nothing is added to the host's own namespace):
 * - a hub namespace `<lab>-hub` holding a bridge `br0`;
 * - per node a namespace `<lab>-<node>` with loopback and `eth0`, one end of a veth pair whose
 *   other end (`v<k>`) is a port of the bridge; `eth0` has `10.231.0.<11+k>/24`. Those addresses
 *   exist only inside the namespaces: the node processes talk to each other and to their own
 *   loopback, nothing else.
 * - `<lab>` is `ptf<pid>` of the process that made it, so a later run finds the labs of dead
 *   processes ({@link cleanupStaleLabs}) and removes them with whatever still runs inside.
 *
 * Faults:
 * - link down/up: the hub's end of the node's veth goes down (no carrier at `eth0`, as a pulled
 *   cable) and up;
 * - partitions and one-way rules: an nftables table `inet faults` in each namespace dropping
 *   input from the addresses cut off (a two-sided partition drops both ways; a one-way rule only
 *   at the receiver);
 * - packet loss: `numgen random mod 100 < P drop` on a namespace's input. (netem would also
 *   delay, but needs the sch_netem module, which kernels of small VMs often lack; nftables'
 *   random drop is in every kernel with nf_tables, so our transport's own loss is never needed.)
 * Each namespace's rules are replaced as a whole (`nft -f`, atomic) whenever they change.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { NetworkFault } from './history.js';

const run = promisify(execFile);

/** Thrown when the machine cannot host a lab (not root, no `ip netns`, no nftables). */
export class NetLabUnavailableError extends Error {
  override readonly name = 'NetLabUnavailableError';
}

const PREFIX = 'ptf';
const SUBNET = '10.231.0';

/** Runs `cmd args` and returns stdout; throws with the command and its stderr. */
async function sh(cmd: string, args: readonly string[], input?: string): Promise<string> {
  try {
    if (input === undefined) return (await run(cmd, args, { timeout: 30_000 })).stdout;
    return await new Promise<string>((resolve, reject) => {
      const child = execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr }));
        else resolve(stdout);
      });
      child.stdin?.end(input);
    });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(err.stderr ?? '').trim() || err.message}`, {
      cause: e,
    });
  }
}

/** Whether a process with this pid is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lab namespace names on this machine. */
function listNamespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(PREFIX));
}

/** SIGKILLs every process in namespace `ns` and deletes it (synchronously: used on exit too). */
function destroyNamespace(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
    for (const p of pids.split('\n').filter((x) => x !== '')) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  } catch {
    // no such namespace
  }
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // gone already
  }
}

/**
 * Removes the labs of processes that no longer run (a crashed or killed earlier run), with the
 * processes left inside them. Returns the namespaces removed.
 */
export function cleanupStaleLabs(): string[] {
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const m = /^ptf(\d+)-/.exec(ns);
    if (m === null || alive(Number(m[1]))) continue;
    destroyNamespace(ns);
    removed.push(ns);
  }
  return removed;
}

/**
 * Fails with {@link NetLabUnavailableError} naming what is missing: root, `ip netns`, `nft`.
 * (CI runs as root on Linux; a suite that needs a lab must fail, not skip, without one.)
 */
export async function assertLabAvailable(): Promise<void> {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`needs Linux, not ${process.platform}`);
  if (process.getuid?.() !== 0) problems.push('needs root (network namespaces and nftables)');
  for (const [cmd, args] of [
    ['ip', ['netns', 'list']],
    ['nft', ['--version']],
  ] as const) {
    try {
      await sh(cmd, args);
    } catch (e) {
      problems.push(`${cmd} unavailable: ${(e as Error).message}`);
    }
  }
  if (problems.length > 0) {
    throw new NetLabUnavailableError(
      `network-namespace lab unavailable: ${problems.join('; ')} (install iproute2 and nftables, run as root)`,
    );
  }
}

/** One node's place in the lab. */
export interface LabHost {
  readonly name: string;
  /** Its namespace. */
  readonly ns: string;
  /** Its address (exists only inside its namespace). */
  readonly addr: string;
  /** Its veth port on the hub's bridge. */
  readonly port: string;
}

/** See the file header. */
export class NetLab {
  readonly id = `${PREFIX}${process.pid.toString()}`;
  readonly hub = `${this.id}-hub`;
  private readonly hostsByName = new Map<string, LabHost>();
  /** Active nftables rules per node: addresses whose packets are dropped, and a loss percent. */
  private readonly rules = new Map<string, { drop: Set<string>; lossPercent: number }>();
  private destroyed = false;
  private readonly onExit = (): void => this.destroySync();

  private constructor(names: readonly string[]) {
    names.forEach((name, k) => {
      this.hostsByName.set(name, {
        name,
        ns: `${this.id}-${name}`,
        addr: `${SUBNET}.${(11 + k).toString()}`,
        port: `v${k.toString()}`,
      });
      this.rules.set(name, { drop: new Set(), lossPercent: 0 });
    });
  }

  /**
   * Checks the machine, removes stale labs, then makes the hub and one namespace per name. On
   * any failure what was made is removed. (Reachability is shown by the cluster forming.)
   */
  static async create(names: readonly string[]): Promise<NetLab> {
    await assertLabAvailable();
    cleanupStaleLabs();
    const lab = new NetLab(names);
    process.once('exit', lab.onExit);
    try {
      await sh('ip', ['netns', 'add', lab.hub]);
      await lab.ip(lab.hub, ['link', 'add', 'br0', 'type', 'bridge']);
      await lab.ip(lab.hub, ['link', 'set', 'br0', 'up']);
      for (const h of lab.hosts) {
        await sh('ip', ['netns', 'add', h.ns]);
        await lab.ip(h.ns, ['link', 'set', 'lo', 'up']);
        await lab.ip(lab.hub, [
          'link',
          'add',
          h.port,
          'type',
          'veth',
          'peer',
          'name',
          'eth0',
          'netns',
          h.ns,
        ]);
        await lab.ip(lab.hub, ['link', 'set', h.port, 'master', 'br0', 'up']);
        await lab.ip(h.ns, ['addr', 'add', `${h.addr}/24`, 'dev', 'eth0']);
        await lab.ip(h.ns, ['link', 'set', 'eth0', 'up']);
        await lab.applyRules(h.name);
      }
      return lab;
    } catch (e) {
      lab.destroySync();
      throw e;
    }
  }

  /** Every host, in creation order. */
  get hosts(): LabHost[] {
    return [...this.hostsByName.values()];
  }

  /** The host of `name`. */
  host(name: string): LabHost {
    const h = this.hostsByName.get(name);
    if (h === undefined) throw new Error(`no host ${name} in lab ${this.id}`);
    return h;
  }

  /** The command line that runs `argv` inside `name`'s namespace. */
  execArgs(name: string, argv: readonly string[]): { cmd: string; args: string[] } {
    return { cmd: 'ip', args: ['netns', 'exec', this.host(name).ns, ...argv] };
  }

  /** Takes `name`'s link down (no carrier) or up again. */
  async setLink(name: string, up: boolean): Promise<void> {
    await this.ip(this.hub, ['link', 'set', this.host(name).port, up ? 'up' : 'down']);
  }

  /** Drops every packet between the two sides (rules at every node of both). */
  async partition(a: readonly string[], b: readonly string[]): Promise<void> {
    for (const [mine, theirs] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const n of mine) for (const t of theirs) this.rules.get(n)!.drop.add(this.host(t).addr);
    }
    await Promise.all([...a, ...b].map((n) => this.applyRules(n)));
  }

  /** Drops packets from `from` at `to`; `to` still reaches `from`. */
  async oneway(from: string, to: string): Promise<void> {
    this.rules.get(to)!.drop.add(this.host(from).addr);
    await this.applyRules(to);
  }

  /** Drops `percent` of the packets arriving at `name` at random (0: none). */
  async loss(name: string, percent: number): Promise<void> {
    if (!(Number.isInteger(percent) && percent >= 0 && percent <= 100)) {
      throw new RangeError(`loss percent must be an integer 0..100, got ${String(percent)}`);
    }
    this.rules.get(name)!.lossPercent = percent;
    await this.applyRules(name);
  }

  /** Makes a network fault (history.ts); {@link heal} undoes it. */
  async apply(f: NetworkFault): Promise<void> {
    switch (f.type) {
      case 'link-down':
        return this.setLink(f.node, false);
      case 'partition':
        return this.partition(f.sides[0], f.sides[1]);
      case 'oneway':
        return this.oneway(f.from, f.to);
      case 'loss':
        return this.loss(f.node, f.percent);
    }
  }

  /** Removes every drop and loss rule, and brings every link up. */
  async heal(): Promise<void> {
    for (const r of this.rules.values()) {
      r.drop.clear();
      r.lossPercent = 0;
    }
    await Promise.all(this.hosts.map((h) => this.applyRules(h.name)));
    await Promise.all(this.hosts.map((h) => this.setLink(h.name, true)));
  }

  /** The nftables ruleset of `name` now (for diagnostics). */
  async ruleset(name: string): Promise<string> {
    return sh('ip', ['netns', 'exec', this.host(name).ns, 'nft', 'list', 'ruleset']);
  }

  /** Kills what runs inside and deletes every namespace of the lab. Idempotent. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener('exit', this.onExit);
    for (const h of this.hosts) destroyNamespace(h.ns);
    destroyNamespace(this.hub);
  }

  /** Whether any namespace of this lab still exists. */
  exists(): boolean {
    return listNamespaces().some((n) => n.startsWith(`${this.id}-`));
  }

  private ip(ns: string, args: readonly string[]): Promise<string> {
    return sh('ip', ['-n', ns, ...args]);
  }

  private async applyRules(name: string): Promise<void> {
    const r = this.rules.get(name)!;
    const lines = [
      'table inet faults {',
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
    ];
    if (r.drop.size > 0) lines.push(`    ip saddr { ${[...r.drop].join(', ')} } drop`);
    if (r.lossPercent > 0)
      lines.push(`    numgen random mod 100 < ${r.lossPercent.toString()} drop`);
    lines.push('  }', '}');
    // Delete-then-add in one transaction: the new rules replace the old atomically.
    const script = `table inet faults\ndelete table inet faults\n${lines.join('\n')}\n`;
    await sh('ip', ['netns', 'exec', this.host(name).ns, 'nft', '-f', '-'], script);
  }
}

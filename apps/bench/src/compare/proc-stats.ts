/**
 * Per-process figures from Linux's /proc, read by `bench:compare`'s parent for every process of a
 * run (children and broker alike, one method for all):
 * - CPU: `utime + stime` of /proc/PID/stat (fields 14 and 15, in clock ticks; all threads of the
 *   process, exited ones included);
 * - bytes written: `wchar` of /proc/PID/io (bytes passed to write/writev/sendfile: every TCP write
 *   of Node, Go and Redis, IPC and log writes too; datagrams sent with sendmsg/sendto, i.e.
 *   SWIM's UDP, are not counted);
 * - peak resident set: `VmHWM` of /proc/PID/status (the kernel's high-water mark).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU and bytes written by one process so far. */
export interface ProcSample {
  /** utime + stime, clock ticks. */
  readonly cpuTicks: number;
  /** Bytes written (wchar). */
  readonly wchar: number;
}

/** utime + stime (ticks) from the text of /proc/PID/stat. */
export function parseStatCpuTicks(stat: string): number {
  // comm (field 2) is in parentheses and may hold spaces or ')': fields restart after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`unexpected /proc/PID/stat: ${stat.slice(0, 80)}`);
  }
  return utime + stime;
}

/** A `key: value` number of a /proc file (io, status). */
export function parseProcField(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(text);
  if (m === null) throw new Error(`no ${key} in /proc file`);
  return Number(m[1]);
}

/** CPU ticks and wchar of `pid` now. */
export function readProcSample(pid: number): ProcSample {
  return {
    cpuTicks: parseStatCpuTicks(readFileSync(`/proc/${pid.toString()}/stat`, 'utf8')),
    wchar: parseProcField(readFileSync(`/proc/${pid.toString()}/io`, 'utf8'), 'wchar'),
  };
}

/** Peak resident set of `pid`, bytes (VmHWM is in kB). */
export function readPeakRssBytes(pid: number): number {
  return parseProcField(readFileSync(`/proc/${pid.toString()}/status`, 'utf8'), 'VmHWM') * 1024;
}

/** Clock ticks per second of /proc/PID/stat (`getconf CLK_TCK`; Linux's USER_HZ is 100). */
export function clockTicksPerSecond(): number {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(v) && v > 0) return v;
  } catch {
    // getconf missing: fall back to USER_HZ.
  }
  return 100;
}

/** Sum over processes of `after - before`, by field. */
export function sumDeltas(before: readonly ProcSample[], after: readonly ProcSample[]): ProcSample {
  let cpuTicks = 0;
  let wchar = 0;
  for (let i = 0; i < before.length; i++) {
    cpuTicks += after[i]!.cpuTicks - before[i]!.cpuTicks;
    wchar += after[i]!.wchar - before[i]!.wchar;
  }
  return { cpuTicks, wchar };
}

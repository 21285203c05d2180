import { describe, expect, it } from '@jest/globals';
import {
  parseProcField,
  parseStatCpuTicks,
  readPeakRssBytes,
  readProcSample,
  sumDeltas,
} from './proc-stats.js';

// /proc/PID/stat of a process whose comm holds a space and a ')': utime 1234, stime 56.
const STAT =
  '4242 (node sub) x) S 1 4242 4242 0 -1 4194304 12345 0 0 0 1234 56 0 0 20 0 11 0 100 1000000 5000 18446744073709551615 1 1 0 0 0 0 0 16781312 17922 0 0 0 17 1 0 0 0 0 0';

describe('/proc parsing', () => {
  it('reads utime + stime after the last parenthesis of comm', () => {
    expect(parseStatCpuTicks(STAT)).toBe(1234 + 56);
  });

  it('refuses a stat line it cannot read', () => {
    expect(() => parseStatCpuTicks('4242 (node) S 1')).toThrow(/unexpected \/proc\/PID\/stat/);
  });

  it('reads wchar from /proc/PID/io and VmHWM from /proc/PID/status', () => {
    const io = 'rchar: 100\nwchar: 987654\nsyscr: 3\nsyscw: 4\nread_bytes: 0\nwrite_bytes: 0\n';
    expect(parseProcField(io, 'wchar')).toBe(987_654);
    const status = 'Name:\tnode\nVmPeak:\t 900000 kB\nVmHWM:\t  131072 kB\nVmRSS:\t 100000 kB\n';
    expect(parseProcField(status, 'VmHWM')).toBe(131_072);
    expect(() => parseProcField(io, 'VmHWM')).toThrow(/no VmHWM/);
  });

  it('reads this process', () => {
    const a = readProcSample(process.pid);
    expect(a.cpuTicks).toBeGreaterThanOrEqual(0);
    expect(a.wchar).toBeGreaterThanOrEqual(0);
    expect(readPeakRssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });

  it('sums per-process deltas', () => {
    expect(
      sumDeltas(
        [
          { cpuTicks: 10, wchar: 1_000 },
          { cpuTicks: 5, wchar: 0 },
        ],
        [
          { cpuTicks: 15, wchar: 4_000 },
          { cpuTicks: 7, wchar: 500 },
        ],
      ),
    ).toEqual({ cpuTicks: 7, wchar: 3_500 });
  });
});

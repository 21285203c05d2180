import { performance } from 'node:perf_hooks';
import { runScenario, type ScenarioConfig, type ScenarioResult } from '@plumtree/sim';
import type { ProtocolName, SimBenchOptions } from './cli-options.js';
import { protocolFor } from './protocols.js';

/** One protocol run of one scenario. */
export interface RunTask {
  readonly protocol: ProtocolName;
  readonly preset: SimBenchOptions['preset'];
  readonly config: Partial<ScenarioConfig> & Pick<ScenarioConfig, 'nodes' | 'broadcasts'>;
}

/** A finished task. `cpuMs` is NaN when the run shared its process with other runs (threads). */
export interface RunOutcome {
  readonly result: ScenarioResult;
  readonly cpuMs: number;
}

/** Run a task in this thread, timing it with the wall clock (and CPU time when `measureCpu`). */
export function runTask(task: RunTask, measureCpu: boolean): RunOutcome {
  const cpu0 = process.cpuUsage();
  const result = runScenario(protocolFor(task.protocol, task.preset), task.config, () =>
    performance.now(),
  );
  const cpu = process.cpuUsage(cpu0);
  return { result, cpuMs: measureCpu ? (cpu.user + cpu.system) / 1000 : NaN };
}

/**
 * Worker-thread entry of `bench:sim --jobs N`: runs one {@link RunTask} and posts its outcome.
 * Runs of different protocols are independent, so they can use both cores of the machine.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTask, type RunTask } from './run-task.js';

parentPort?.postMessage(runTask(workerData as RunTask, false));

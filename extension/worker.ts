// The worker thread of HeavyWork (heavyWork.ts): runs the editor's assembling, asm-offsets
// parsing and fault matrix off the extension host's thread, one job at a time, reporting the
// matrix's progress and checking its cancel flag after every scenario. No VS Code here.

import { parentPort } from 'node:worker_threads';
import { inProcess, type JobMessage, type JobResult, type WorkerMessage } from './heavyWork';
import { MatrixCancelled, runFunctionMatrix } from './matrixModel';

async function perform(m: JobMessage, post: (x: WorkerMessage) => void): Promise<JobResult> {
  const job = m.job, flag = new Int32Array(m.cancel);
  switch (job.kind) {
    case 'build': return { kind: 'build', summary: await inProcess.build(job.file, job.options) };
    case 'offsetStructs': return { kind: 'offsetStructs', structs: await inProcess.offsetStructs(job.file, job.options) };
    case 'matrix': {
      const r = await runFunctionMatrix(job.config, job.cwd, {
        isCancelled: () => Atomics.load(flag, 0) !== 0,
        onProgress: (done, total) => post({ id: m.id, progress: [done, total] }),
      }, job.text);
      return { kind: 'matrix', result: r.result, stats: r.stats };
    }
  }
}

const port = parentPort;
if (port) {
  // One job at a time, in order.
  let queue = Promise.resolve();
  port.on('message', (m: JobMessage) => {
    queue = queue.then(async () => {
      const post = (x: WorkerMessage) => port.postMessage(x);
      if (Atomics.load(new Int32Array(m.cancel), 0) !== 0) { post({ id: m.id, cancelled: true }); return; }
      try {
        post({ id: m.id, ok: await perform(m, post) });
      } catch (e) {
        if (e instanceof MatrixCancelled) post({ id: m.id, cancelled: true });
        else post({ id: m.id, error: e instanceof Error ? e.message : String(e) });
      }
    });
  });
}

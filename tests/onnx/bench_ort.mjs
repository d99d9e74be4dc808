// bench_ort.mjs MODEL.onnx MNIST_DIR THREADS [REPS]: ONNX Runtime (onnxruntime-node, CPU) on a ctnet export,
// timed as ctnet_bench times ctnet, printed as the same JSON lines (framework "onnxruntime").
//
// infer: batches of 1000 over the 10k MNIST test images (normalised as ctnet does), after one warm-up
// batch; the median images/s of REPS passes. latency_b1: one image at a time, 50 warm-up calls, then the
// median/p10/p90 of 1000 calls. THREADS is ORT's intra-op thread count (inter-op 1, sequential execution).
// The time of a call includes onnxruntime-node's JS binding (tensor creation, the promise), as a Node user
// pays it. scripts/bench_onnx.sh runs this beside ctnet_bench and prints the ratios.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.log(`skipped: onnxruntime-node is not installed (cd tests/onnx && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci)`);
  process.exit(77);
}
const [modelPath, mnistDir, threadsText, repsText] = process.argv.slice(2);
if (!modelPath || !mnistDir || !threadsText) {
  console.error('usage: node bench_ort.mjs MODEL.onnx MNIST_DIR THREADS [REPS]');
  process.exit(2);
}
const threads = Number(threadsText), reps = Number(repsText || 5);

function readIdx(file) {
  for (const name of [file, file + '.gz']) {
    const p = path.join(mnistDir, name);
    if (fs.existsSync(p)) return name.endsWith('.gz') ? zlib.gunzipSync(fs.readFileSync(p)) : fs.readFileSync(p);
  }
  throw new Error(`no ${file}[.gz] in ${mnistDir}`);
}
const raw = readIdx('t10k-images-idx3-ubyte');
const count = raw.readUInt32BE(4);
const images = new Float32Array(count * 784);
for (let i = 0; i < count * 784; ++i) images[i] = (raw[16 + i] / 255 - 0.1307) * (1 / 0.3081);

const session = await ort.InferenceSession.create(modelPath, {
  executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const input = session.inputNames[0];
const run = (first, n) =>
  session.run({ [input]: new ort.Tensor('float32', images.subarray(first * 784, (first + n) * 784), [n, 1, 28, 28]) });
const base = (bench) => ({ bench, framework: 'onnxruntime', runtime: `onnxruntime-node ${ort.env.versions.node}`,
                           model: path.basename(modelPath), threads });
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const now = () => Number(process.hrtime.bigint()) / 1e9;

await run(0, 1000);
const rates = [];
for (let r = 0; r < reps; ++r) {
  const t = now();
  for (let first = 0; first + 1000 <= count; first += 1000) await run(first, 1000);
  rates.push(count / (now() - t));
}
console.log(JSON.stringify({ ...base('infer'), batch: 1000, img_per_s: Math.round(median(rates)) }));

for (let k = 0; k < 50; ++k) await run(0, 1);
const lat = [];
for (let i = 0; i < 1000; ++i) {
  const t = now();
  await run(i, 1);
  lat.push((now() - t) * 1e6);
}
lat.sort((a, b) => a - b);
const r1 = (v) => Math.round(v * 10) / 10;
console.log(JSON.stringify({ ...base('latency_b1'), batch: 1, us_median: r1(lat[500]), us_p10: r1(lat[100]),
                             us_p90: r1(lat[900]) }));

// ort_check.mjs DIR: every model ctnet_onnx_reference exported to DIR, run in ONNX Runtime (CPU) and
// compared with ctnet's predict() outputs written beside it.
//
// Per model: the whole batch (1,000 images) and, for the dynamic batch dimension, batches of 1 and 7
// (the first images); every output within 1e-5 of ctnet's — absolute where ctnet's value is at most 1 in
// magnitude, relative beyond (|d| <= 1e-5 * max(1, |ctnet|)): float rounding scales with the value, and a
// log-probability of -30 (an unlikely class of a trained network) differs by ~1e-5 between two correct
// float32 implementations — and the same argmax in every row of every output with more than one column,
// unless the row is a near-tie: ctnet's own value at ONNX Runtime's argmax within twice the tolerance of
// ctnet's maximum (two correct float32 implementations may order such a pair either way; such rows are
// counted as argmax_ties, not failures). Prints one JSON line per model; exit 0 when all agree, 1 otherwise,
// 77 when onnxruntime-node is not installed (npm ci in tests/onnx). Offline: nothing is fetched.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.log(`skipped: onnxruntime-node is not installed (cd tests/onnx && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci): ${e.message.split('\n')[0]}`);
  process.exit(77);
}

const tolerance = 1e-5;
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node ort_check.mjs DIR');
  process.exit(2);
}

function readFloats(file) {
  const b = fs.readFileSync(path.join(dir, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

// Rows [0, rows) of a [count x ...] tensor given by its manifest entry.
function slice(data, dims, rows) {
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  return data.subarray(0, rows * per);
}

function argmax(row) {
  let best = 0;
  for (let i = 1; i < row.length; ++i) if (row[i] > row[best]) best = i;
  return best;
}

async function checkModel(entry) {
  const session = await ort.InferenceSession.create(path.join(dir, entry.onnx), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
  });
  const inputs = entry.inputs.map((v) => ({ ...v, data: readFloats(v.file) }));
  const outputs = entry.outputs.map((v) => ({ ...v, data: readFloats(v.file) }));
  let maxDiff = 0, maxDiffUnit = 0, maxScaled = 0;
  let argmaxMismatches = 0, argmaxTies = 0;
  const problems = [];
  for (const rows of [entry.inputs[0].dims[0], 1, 7]) {
    const feeds = {};
    for (const v of inputs)
      feeds[v.name] = new ort.Tensor('float32', slice(v.data, v.dims, rows), [rows, ...v.dims.slice(1)]);
    const result = await session.run(feeds);
    for (const o of outputs) {
      const got = result[o.name];
      if (!got) {
        problems.push(`no output '${o.name}'`);
        continue;
      }
      const want = slice(o.data, o.dims, rows);
      const wantDims = [rows, ...o.dims.slice(1)];
      if (JSON.stringify(got.dims) !== JSON.stringify(wantDims))
        problems.push(`output '${o.name}' has dims ${JSON.stringify(got.dims)}, ctnet ${JSON.stringify(wantDims)}`);
      if (got.data.length !== want.length) continue;
      for (let i = 0; i < want.length; ++i) {
        const d = Math.abs(got.data[i] - want[i]);
        const dd = Number.isNaN(d) ? Infinity : d;
        maxDiff = Math.max(maxDiff, dd);
        if (Math.abs(want[i]) <= 1) maxDiffUnit = Math.max(maxDiffUnit, dd);
        maxScaled = Math.max(maxScaled, dd / Math.max(1, Math.abs(want[i])));
      }
      const cols = want.length / rows;
      if (cols > 1)
        for (let r = 0; r < rows; ++r) {
          const wantRow = want.subarray(r * cols, (r + 1) * cols);
          const gotBest = argmax(got.data.subarray(r * cols, (r + 1) * cols)), wantBest = argmax(wantRow);
          if (gotBest === wantBest) continue;
          const gap = wantRow[wantBest] - wantRow[gotBest];
          if (gap <= 2 * tolerance * Math.max(1, Math.abs(wantRow[wantBest]))) ++argmaxTies;
          else ++argmaxMismatches;
        }
    }
  }
  if (maxScaled > tolerance)
    problems.push(`max difference ${maxScaled} > ${tolerance} (absolute up to magnitude 1, relative beyond)`);
  if (argmaxMismatches > 0) problems.push(`${argmaxMismatches} rows with another argmax`);
  console.log(JSON.stringify({
    model: entry.name, runtime: `onnxruntime-node ${ort.env.versions.node}`, images: entry.inputs[0].dims[0],
    batches: [entry.inputs[0].dims[0], 1, 7], max_abs_diff: maxDiff, max_abs_diff_where_at_most_1: maxDiffUnit,
    max_diff_over_max_1_abs: maxScaled, argmax_mismatches: argmaxMismatches,
    argmax_ties: argmaxTies,
    status: problems.length ? 'FAILED: ' + problems.join('; ') : 'ok',
  }));
  return problems.length === 0;
}

const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
let failed = 0;
for (const entry of manifest.models) {
  try {
    if (!(await checkModel(entry))) ++failed;
  } catch (e) {
    console.log(JSON.stringify({ model: entry.name, status: `FAILED: ${String(e.message || e).split('\n')[0]}` }));
    ++failed;
  }
}
if (failed) {
  console.error(`ort_check.mjs: ${failed} of ${manifest.models.length} models disagree with ctnet`);
  process.exit(1);
}
console.log(`ort_check.mjs: all ${manifest.models.length} models agree with ctnet (within ${tolerance} absolute up to ` +
            `magnitude 1, relative beyond; same argmax but for near-ties)` +
            (manifest.real_mnist ? ' on MNIST test images' : ' on generated digits (data/mnist is absent)'));

// ONNX Runtime peer (the CPU library in npm's onnxruntime-node) for bench/encoder_vs_peers.py.
//   NODE_PATH=<dir>/node_modules node bench/ort_peer.js MODEL.onnx BATCH INPUT.f32 THREADS REPS
// Prints one JSON line, like the other peers.
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, batchText, input, threadsText, repsText] = process.argv.slice(2);
  const batch = Number(batchText);
  const threads = Number(threadsText);
  const reps = Number(repsText);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const dims = session.inputNames.length ? [batch, 3, 224, 224] : [];
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = fs.readFileSync(input);
  const pixels = new Float32Array(bytes.buffer, bytes.byteOffset, count);
  const feeds = {pixels: new ort.Tensor('float32', Float32Array.from(pixels), dims)};
  let out = await session.run(feeds);  // warm-up
  const times = [];
  for (let i = 0; i < reps; ++i) {
    const start = process.hrtime.bigint();
    out = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  let checksum = 0;
  for (const v of out.embedding.data) checksum += v;
  console.log(JSON.stringify({
    impl: 'onnxruntime', mode: 'ort-1.30', precision: 'fp32', batch, threads,
    median_s: median, low_s: times[0], high_s: times[times.length - 1],
    img_per_s: batch / median, checksum,
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

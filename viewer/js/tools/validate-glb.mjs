// Validate a GLB with the Khronos glTF validator and print a JSON report.
// The validator does not decode EXT_meshopt_compression or EXT_mesh_gpu_instancing (it
// reports them as unsupported, infos only); tools/inspect-glb.mjs decodes those with three.js.
import { readFileSync } from 'node:fs';
import { validateBytes } from 'gltf-validator';

const data = new Uint8Array(readFileSync(process.argv[2]));
const report = await validateBytes(data, { maxIssues: 100 });
const serious = report.issues.messages.filter((m) => m.severity <= 1);
console.log(JSON.stringify({
  errors: report.issues.numErrors,
  warnings: report.issues.numWarnings,
  messages: serious.map((m) => `${m.code} ${m.pointer || ''} ${m.message}`),
}));

// Load a GLB the way the browser viewer will (three.js GLTFLoader + MeshoptDecoder) and
// report, per element-table row, the triangles drawn and their world bounding box.
import { readFileSync } from 'node:fs';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { MeshoptDecoder } from 'three/examples/jsm/libs/meshopt_decoder.module.js';
import { Matrix4, Vector3 } from 'three';

const bytes = readFileSync(process.argv[2]);
const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const loader = new GLTFLoader().setMeshoptDecoder(MeshoptDecoder);
const gltf = await loader.parseAsync(buffer, '');
const table = gltf.scene.userData.erji_twin;
const n = table.element_count;
const triangles = new Array(n).fill(0);
const lo = Array.from({ length: n }, () => [Infinity, Infinity, Infinity]);
const hi = Array.from({ length: n }, () => [-Infinity, -Infinity, -Infinity]);
let drawCalls = 0;
gltf.scene.updateMatrixWorld(true);
const v = new Vector3(), m = new Matrix4(), inst = new Matrix4();
gltf.scene.traverse((obj) => {
  if (!obj.isMesh) return;
  drawCalls += 1;
  const offset = obj.userData.element_offset;
  const geom = obj.geometry;
  const pos = geom.attributes.position, index = geom.index;
  const perVertex = geom.attributes._element;           // merged meshes
  const perInstance = geom.attributes._ELEMENT;          // instanced meshes (InstancedBufferAttribute)
  const copies = obj.isInstancedMesh ? obj.count : 1;
  for (let c = 0; c < copies; c++) {
    m.copy(obj.matrixWorld);
    if (obj.isInstancedMesh) { obj.getMatrixAt(c, inst); m.multiply(inst); }
    for (let t = 0; t < index.count; t += 3) {
      const first = index.getX(t);
      const row = offset + (perInstance ? perInstance.getX(c) : perVertex.getX(first));
      triangles[row] += 1;
    }
    for (let i = 0; i < pos.count; i++) {
      const row = offset + (perInstance ? perInstance.getX(c) : perVertex.getX(i));
      v.fromBufferAttribute(pos, i).applyMatrix4(m);
      const a = lo[row], b = hi[row];
      if (v.x < a[0]) a[0] = v.x; if (v.y < a[1]) a[1] = v.y; if (v.z < a[2]) a[2] = v.z;
      if (v.x > b[0]) b[0] = v.x; if (v.y > b[1]) b[1] = v.y; if (v.z > b[2]) b[2] = v.z;
    }
  }
});
console.log(JSON.stringify({ global_ids: table.global_ids, origin_m: table.origin_m, triangles, bbox_min: lo, bbox_max: hi, draw_calls: drawCalls }));

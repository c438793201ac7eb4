/**
 * npm run build:fused — compiles src/backend/fused/fused.wat into fused-binary.ts (the bytes as
 * base64, so the package needs no WebAssembly toolchain). A test checks that the committed binary
 * is the compiled source.
 */
import { writeFileSync } from 'node:fs';
import { BINARY_PATH, compileFusedWat, renderBinaryModule } from './fused-wat.js';

const bytes = await compileFusedWat();
writeFileSync(BINARY_PATH, renderBinaryModule(bytes));
console.log(`wrote ${BINARY_PATH} (${bytes.length} bytes of WebAssembly)`);

// Stands in for the `webgpu` package in the bundled tests of the device kit: the
// package finds `dawn.node` beside its own files, which do not travel (132 MB);
// run.sh names the carried copy in DAWN_NODE. An ES module with the package's
// named exports, as the tests import them.
import { createRequire } from 'node:module';

const path = process.env.DAWN_NODE;
if (!path) throw new Error('DAWN_NODE is unset: run the kit through .device/run.sh');
const dawn = createRequire(import.meta.url)(path);
export const create = dawn.create;
export const globals = dawn.globals;

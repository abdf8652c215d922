// Stands in for the `webgpu` package in the bundled tests of the device kit: the
// package finds `dawn.node` beside its own files, which do not travel (132 MB);
// run.sh names the carried copy in DAWN_NODE.
const path = process.env.DAWN_NODE;
if (!path) throw new Error('DAWN_NODE is unset: run the kit through .device/run.sh');
module.exports = require(path);

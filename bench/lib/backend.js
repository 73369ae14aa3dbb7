/** Access to a backend's kernels for the kernel-throughput cells (internal API of the built package). */
export { ready, setBackend } from '../../dist/index.js';
export { backendInstance as backendInstanceForBench } from '../../dist/backend/index.js';

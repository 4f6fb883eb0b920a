/** Simulated Piston nodes for the bench tests and scripts: the project's simulator (src/sim). */
export { startSimCluster, startSimNode, type SimNode as BenchSimNode } from '../../../src/sim/index.js';

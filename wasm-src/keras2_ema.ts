// keras2.ts's exports with Keras 3's EMA of the weights folded into the update
// (common.ts storeW4): the same arguments, then the EMA's `m`, `1 − m` and
// whether the weights take the average. A module of its own: with both sets of
// exports one module would pass the 4 KB of synchronous compilation.
import { momentumBody, plainBody } from './steps/keras2';

export function momentum(table: usize, count: i32, lr: f32, omr: f32, mu: f32, eps: f32, m: f32, omm: f32, ow: bool): void { momentumBody(table, count, lr, omr, mu, eps, false, false, true, m, omm, ow); }
export function momentumCentered(table: usize, count: i32, lr: f32, omr: f32, mu: f32, eps: f32, m: f32, omm: f32, ow: bool): void { momentumBody(table, count, lr, omr, mu, eps, true, false, true, m, omm, ow); }
export function nesterov(table: usize, count: i32, lr: f32, omr: f32, mu: f32, eps: f32, m: f32, omm: f32, ow: bool): void { momentumBody(table, count, lr, omr, mu, eps, false, true, true, m, omm, ow); }
export function nesterovCentered(table: usize, count: i32, lr: f32, omr: f32, mu: f32, eps: f32, m: f32, omm: f32, ow: bool): void { momentumBody(table, count, lr, omr, mu, eps, true, true, true, m, omm, ow); }
export function plain(table: usize, count: i32, lr: f32, rho: f32, omr: f32, eps: f32, m: f32, omm: f32, ow: bool): void { plainBody(table, count, lr, rho, omr, eps, false, true, m, omm, ow); }
export function plainCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, eps: f32, m: f32, omm: f32, ow: bool): void { plainBody(table, count, lr, rho, omr, eps, true, true, m, omm, ow); }

// pytorch.ts's exports with Keras 3's EMA of the weights folded into the update
// (common.ts storeW4): the same arguments, then the EMA's `m`, `1 − m` and
// whether the weights take the average (see keras2_ema.ts).
import { body } from './steps/pytorch';

export function plain(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, wd, false, false, false, true, m, omm, ow); }
export function plainCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, wd, false, true, false, true, m, omm, ow); }
export function momentum(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, wd, true, false, false, true, m, omm, ow); }
export function momentumCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, wd, true, true, false, true, m, omm, ow); }
export function nesterov(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, wd, true, false, true, true, m, omm, ow); }
export function nesterovCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, wd, true, true, true, true, m, omm, ow); }

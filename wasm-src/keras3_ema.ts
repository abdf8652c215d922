// keras3.ts's exports with Keras 3's EMA of the weights folded into the update
// (common.ts storeW4): the same arguments, then the EMA's `m`, `1 − m` and
// whether the weights take the average (see keras2_ema.ts). `wd` is there
// because the optimizer passes every flavor's full argument list
// (rules/define.ts FULL_ARGS): this flavor decays in a pass of its own.
import { body } from './steps/keras3';

export function plain(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, false, false, false, true, m, omm, ow); }
export function plainCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, false, true, false, true, m, omm, ow); }
export function momentum(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, true, false, false, true, m, omm, ow); }
export function momentumCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, true, true, false, true, m, omm, ow); }
export function nesterov(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, true, false, true, true, m, omm, ow); }
export function nesterovCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, m: f32, omm: f32, ow: bool): void { body(table, count, lr, rho, omr, mu, eps, true, true, true, true, m, omm, ow); }

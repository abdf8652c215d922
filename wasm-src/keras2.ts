// TF 2.4's RMSprop (flavor 'keras2'): the module of its loops (steps/keras2.ts,
// where the table and the module rules are described), one export per rule
// key and centered form. keras2_ema.ts exports the same with Keras 3's EMA folded in.
import { momentumBody, plainBody } from './steps/keras2';

export function momentum(table: usize, count: i32, lr: f32, omr: f32, mu: f32, eps: f32): void { momentumBody(table, count, lr, omr, mu, eps, false, false); }
export function momentumCentered(table: usize, count: i32, lr: f32, omr: f32, mu: f32, eps: f32): void { momentumBody(table, count, lr, omr, mu, eps, true, false); }
export function nesterov(table: usize, count: i32, lr: f32, omr: f32, mu: f32, eps: f32): void { momentumBody(table, count, lr, omr, mu, eps, false, true); }
export function nesterovCentered(table: usize, count: i32, lr: f32, omr: f32, mu: f32, eps: f32): void { momentumBody(table, count, lr, omr, mu, eps, true, true); }
export function plain(table: usize, count: i32, lr: f32, rho: f32, omr: f32, eps: f32): void { plainBody(table, count, lr, rho, omr, eps, false); }
export function plainCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, eps: f32): void { plainBody(table, count, lr, rho, omr, eps, true); }

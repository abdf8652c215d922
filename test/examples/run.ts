/** Runs a TypeScript entry point the way its documented command does (`node --import tsx FILE ...args`). */
import { spawn } from 'node:child_process';

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runTs(file: string, args: readonly string[] = [], nodeFlags: readonly string[] = []): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', file, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A Node stack frame line, which a user-facing error must not show. */
export const STACK_FRAME = /^\s+at .+\(.+:\d+:\d+\)$|^\s+at \S+:\d+:\d+$/m;

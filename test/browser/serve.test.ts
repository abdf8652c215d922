/**
 * `npm run web` builds the page, serves it, and stops cleanly: on Ctrl-C (a
 * SIGINT to the whole foreground process group, as a terminal sends it) and on
 * a SIGTERM sent to npm alone (as a tool stopping it does), no process of it is
 * left, neither the server nor tsx's esbuild helper. Linux only: it finds the
 * processes by session in /proc.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The ids of the processes whose session is `sid`. */
function sessionMembers(sid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // After the command name in parentheses: state, ppid, pgrp, session, ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[3]) === sid) members.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `npm run web` in a session of its own, once it serves: its URL. */
async function startWeb(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(NPM, ['run', 'web'], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: '0', FORCE_COLOR: '0' },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  await until('"Serving out/web at ..."', () => /Serving out\/web at (\S+)/.test(output) || child.exitCode !== null, 60_000);
  const url = /Serving out\/web at (\S+)/.exec(output)?.[1];
  assert.ok(url, `npm run web did not start:\n${output}`);
  return { child, url, output: () => output };
}

describe('npm run web', { skip: process.platform !== 'linux' && 'finds its processes in /proc (Linux)' }, () => {
  for (const [how, stop] of [
    ['Ctrl-C (SIGINT to the process group)', (pid: number) => process.kill(-pid, 'SIGINT')],
    ['SIGTERM to npm alone', (pid: number) => process.kill(pid, 'SIGTERM')],
  ] as const) {
    test(`serves the page, then stops on ${how} with nothing left`, async () => {
      const { child, url, output } = await startWeb();
      const sid = child.pid!;
      try {
        const page = await fetch(url);
        assert.equal(page.status, 200);
        const html = await page.text();
        // The page names its own icon inline, so a browser asks the server for no /favicon.ico.
        assert.match(html, /<link rel="icon" href="data:/);
        assert.ok(sessionMembers(sid).length >= 2, 'npm and the server run');
        stop(sid);
        await until(`every process of npm run web to end (left: ${sessionMembers(sid).join(', ')})`, () => sessionMembers(sid).length === 0, 10_000);
        await assert.rejects(fetch(url), 'the port is closed');
      } finally {
        for (const pid of sessionMembers(sid)) process.kill(pid, 'SIGKILL');
      }
      assert.doesNotMatch(output(), /error/i);
    });
  }
});

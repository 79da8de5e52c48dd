/**
 * Where `archlab start` installs its own JupyterLab, and what a failed first start leaves: nothing
 * that a later start would take for a finished lab, and a message saying what went wrong and what
 * to do. (The install that works is exercised by scripts/test.sh's `archlab install-lab` and by
 * test/start-lab.test.ts.) npm is replaced here by one that fails as npm does offline.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startText } from '../kernel/messages';
import { ensureLab, labDir } from '../kernel/notebook/lab';

describe("archlab's own JupyterLab in the cache", () => {
  const tmp = mkdtempSync(join(tmpdir(), 'archlab-lab-install-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('lives in $XDG_CACHE_HOME/archlab (else ~/.cache/archlab), in a folder named by a hash of its sources', () => {
    assert.match(labDir({ XDG_CACHE_HOME: '/somewhere' }), /^\/somewhere\/archlab\/lab-[0-9a-f]{16}$/);
    assert.equal(labDir({}), join(homedir(), '.cache', 'archlab', labDir({ XDG_CACHE_HOME: '/somewhere' }).split('/').pop()!));
  });

  it('a first start whose npm install fails keeps nothing and says why and what to do instead', async () => {
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'npm'), '#!/bin/sh\necho "npm error code EAI_AGAIN: getaddrinfo EAI_AGAIN registry.npmjs.org" >&2\nexit 1\n');
    chmodSync(join(bin, 'npm'), 0o755);
    const cache = join(tmp, 'offline');
    const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}`, XDG_CACHE_HOME: cache };
    const said: string[] = [];
    await assert.rejects(ensureLab({ env, log: (line) => said.push(line) }), (error: Error) => {
      assert.equal(error.message.split('\n')[0], startText.labFailed('npm ci', '1', '').split('\n')[0]);
      assert.match(error.message, /EAI_AGAIN registry\.npmjs\.org/);
      assert.match(error.message, /npm start -- --classic/);
      return true;
    });
    assert.match(said[0], /^First start without `jupyter lab`: installing archlab's own JupyterLab 4\.6\.3 \(\d+ npm packages/);
    assert.deepEqual(readdirSync(join(cache, 'archlab')), [], 'no lab folder, no partial one');
  });

  it('without npm on PATH it says npm is needed', async () => {
    const env = { ...process.env, PATH: join(tmp, 'empty'), XDG_CACHE_HOME: join(tmp, 'no-npm') };
    await assert.rejects(ensureLab({ env, log: () => undefined }), { message: startText.noNpm });
    assert.deepEqual(readdirSync(join(tmp, 'no-npm', 'archlab')), []);
  });
});

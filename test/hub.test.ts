/**
 * A classroom on JupyterHub: `archlab hub` (Debian's JupyterHub 3, configurable-http-proxy from
 * npm, kernel/hub/jupyterhub_config.py) on 127.0.0.1, with three real Unix users as students —
 * LocalProcessSpawner runs each server as its user, as in a real class — and the hub's test
 * authenticator (DummyAuthenticator with a password) in place of their Unix passwords.
 *
 * The students act through the hub's and their servers' own HTTP and websocket APIs with Jupyter's
 * Python libraries (test/hub/student.py): all three log in at once, each runs a notebook on the
 * archlab kernel in their own server, computing an LSTM checked here against PyTorch's equations.
 * Then one student tries to reach another's server and files, and one works in JupyterLab in Chromium.
 *
 * Needs root (to create the users and switch to them): CI runs as root. The users are removed and
 * every process the test started is ended afterwards.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { launchChromium } from './lab/lab';
import { chromiumPath } from './lab/prerequisites';
import { freePort } from './support/free-port';

const repo = join(__dirname, '..');
const cli = join(repo, 'dist', 'kernel', 'cli.js');
const python = process.env.ARCHLAB_PYTHON ?? '/usr/bin/python3';
const notebooks = join(repo, 'notebooks');
const students = ['archlab-hub-1', 'archlab-hub-2', 'archlab-hub-3'];
const password = `archlab-hub-${process.pid}`;
/** Starting a hub, three servers and three kernels at once on a busy 2-core machine takes a while. */
const slow = 300_000;

let base: string;
let hubUrl: string;
let hub: ChildProcess | undefined;
let hubLog = '';
/** Folders this test made traversable for the students (a checkout under /root), with their modes before. */
const opened: [string, number][] = [];
const home = (name: string) => join(base, 'home', name);

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Lets every user traverse the folders above what the students' servers run (the checkout, its
 * node_modules and native build wherever they really are, node): execute permission only, no listing.
 */
function openPathsTo(paths: string[]): void {
  for (const path of paths.filter(existsSync).map((p) => realpathSync(p))) {
    for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
      const { mode } = statSync(dir);
      if (!(mode & 0o001) && !opened.some(([d]) => d === dir)) {
        opened.push([dir, mode & 0o7777]);
        chmodSync(dir, (mode & 0o7777) | 0o001);
      }
    }
  }
}

/** Ends every process of a Unix user (its server and kernel: /proc/PID belongs to the process's user), then removes the user and its home. */
function removeUser(name: string): void {
  const id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  if (id.status !== 0) return; // no such user
  const uid = Number(id.stdout);
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (statSync(`/proc/${pid}`).uid === uid) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  execFileSync('userdel', ['--force', '--remove', name], { stdio: 'ignore' }); // --force: a killed process may not be reaped yet
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the JupyterHub test runs as root: it creates Unix users and the hub switches to them (CI runs as root)');
  assert.ok(existsSync(cli), 'dist/kernel/cli.js is missing: run `npm run build`');
  assert.equal(spawnSync('jupyterhub', ['--version']).status, 0, 'JupyterHub is missing: run scripts/setup-system.sh');
  openPathsTo([join(repo, 'package.json'), join(repo, 'node_modules', 'tslab'), join(repo, 'build', 'Release'), process.execPath]);
  base = mkdtempSync('/tmp/archlab-hub-');
  chmodSync(base, 0o755); // the students' servers read the kernel spec under base/state
  for (const name of students) {
    removeUser(name); // left over from an interrupted run
    execFileSync('useradd', ['--create-home', '--home-dir', home(name), '--shell', '/bin/sh', name]);
    chmodSync(home(name), 0o700); // private homes, as Debian 12's adduser makes them
    const run = spawnSync('runuser', ['-u', name, '--', process.execPath, cli, '--version'], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${name} cannot run archlab (the checkout must be readable by every user):\n${run.stderr}`);
  }

  const [port, hubPort, proxyApiPort] = [await freePort(), await freePort(), await freePort()];
  hubUrl = `http://127.0.0.1:${port}`;
  const args = [
    cli, 'hub', '--dir', join(base, 'state'),
    '--ip=127.0.0.1', `--port=${port}`, `--JupyterHub.hub_port=${hubPort}`,
    `--ConfigurableHTTPProxy.api_url=http://127.0.0.1:${proxyApiPort}`,
    '--JupyterHub.authenticator_class=jupyterhub.auth.DummyAuthenticator', `--DummyAuthenticator.password=${password}`,
  ];
  hub = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  hub.stdout!.on('data', (chunk) => (hubLog += chunk));
  hub.stderr!.on('data', (chunk) => (hubLog += chunk));
  const deadline = Date.now() + slow;
  while (Date.now() < deadline) {
    assert.equal(hub.exitCode, null, `archlab hub exited:\n${hubLog}`);
    const reply = await fetch(`${hubUrl}/hub/api`).catch(() => undefined);
    if (reply?.ok) return;
    await sleep(500);
  }
  assert.fail(`the hub did not answer within ${slow} ms:\n${hubLog}`);
});

after(async () => {
  if (hub && hub.exitCode === null) {
    const exited = new Promise((done) => hub!.once('exit', done));
    hub.kill('SIGTERM'); // archlab hub passes it on; JupyterHub stops the servers and the proxy
    const killed = setTimeout(() => {
      process.kill(-hub!.pid!, 'SIGKILL');
      const proxyPid = join(base, 'state', 'jupyterhub-proxy.pid');
      if (existsSync(proxyPid)) spawnSync('kill', ['-KILL', readFileSync(proxyPid, 'utf8').trim()]);
    }, 60_000);
    await exited;
    clearTimeout(killed);
  }
  for (const name of students) removeUser(name);
  if (base) rmSync(base, { recursive: true, force: true });
  for (const [dir, mode] of opened) chmodSync(dir, mode);
});

/** PyTorch's single-layer LSTM (torch.nn.LSTM's documented equations, gates in order i, f, g, o), batch 1. */
function torchLstm(weights: typeof lstmWeights, xs: number[][]): number[][] {
  const { weight_ih_l0: wIh, weight_hh_l0: wHh, bias_ih_l0: bIh, bias_hh_l0: bHh } = weights;
  const size = wHh[0].length;
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  let h = new Array<number>(size).fill(0);
  let c = new Array<number>(size).fill(0);
  return xs.map((x) => {
    const gate = (k: number) => wIh[k].reduce((s, w, j) => s + w * x[j], bIh[k]) + wHh[k].reduce((s, w, j) => s + w * h[j], bHh[k]);
    const at = (block: number, u: number) => gate(block * size + u);
    const units = [...Array(size).keys()];
    const [i, f, g, o] = [units.map((u) => sigmoid(at(0, u))), units.map((u) => sigmoid(at(1, u))), units.map((u) => Math.tanh(at(2, u))), units.map((u) => sigmoid(at(3, u)))];
    c = units.map((u) => f[u] * c[u] + i[u] * g[u]);
    h = units.map((u) => o[u] * Math.tanh(c[u]));
    return h;
  });
}

const lstmWeights = {
  weight_ih_l0: [[0.5], [-0.3], [0.8], [0.1], [0.2], [0.4], [-0.6], [0.7]],
  weight_hh_l0: [[0.1, 0.2], [-0.1, 0.3], [0.05, -0.2], [0.3, 0.1], [0.2, -0.4], [0.1, 0.1], [-0.3, 0.2], [0.25, 0.15]],
  bias_ih_l0: [0.1, 0, -0.1, 0.2, 0, 0.1, 0.05, -0.05],
  bias_hh_l0: [0, 0.1, 0, -0.1, 0.05, 0, 0, 0.1],
};

/** Each student's input sequence differs, so a kernel answering the wrong student would show. */
const inputs = (k: number) => [[1 + k], [0.5], [-1 / (k + 1)]];

/** The notebook student k runs: who the kernel runs as, an LSTM, a diagram, and a try at student `other`'s copy of 01. */
function checkNotebook(k: number, other: string): string {
  const code = (source: string) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source });
  const notebook = {
    cells: [
      code('require("os").userInfo().username'),
      code(
        [
          `const model = fromTorch({ mode: "LSTM", inputSize: 1, hiddenSize: 2, numLayers: 1 }, ${JSON.stringify(lstmWeights)});`,
          `const { output } = await model.forward(${JSON.stringify(inputs(k).map((x) => [x]))});`,
          'console.log(JSON.stringify(output));',
        ].join('\n'),
      ),
      code('diagram(LSTM)'),
      code(
        [
          `try { require("fs").readFileSync(${JSON.stringify(join(home(other), 'notebooks', '01-first-rnn.ipynb'))}); console.log("read it"); }`,
          'catch (error) { console.log((error as NodeJS.ErrnoException).code); }',
        ].join('\n'),
      ),
    ],
    metadata: { kernelspec: { name: 'archlab', display_name: 'TypeScript (archlab)', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 4,
  };
  return JSON.stringify(notebook);
}

interface Output {
  output_type: string;
  text?: string;
  data?: Record<string, string>;
}
interface Report {
  token: string;
  lab: string;
  files: string[];
  notebook: { cells: { execution_count: number | null; outputs: Output[] }[] };
}

const reports = new Map<string, Report>();

/** Runs test/hub/student.py's `action` as student `name`; resolves to its JSON report. */
async function student(action: 'run' | 'peek', name: string, argument: string) {
  const args = [join(__dirname, 'hub', 'student.py'), action, hubUrl, name, password, argument];
  const run = promisify(execFile)(python, args, { maxBuffer: 64 * 2 ** 20, timeout: 2 * slow });
  const { stdout } = await run.catch((error) => assert.fail(`${name} (${action}): ${error.message}\n${error.stderr}\nhub log:\n${hubLog}`));
  return JSON.parse(stdout);
}
const api = (token: string, path: string, init: RequestInit = {}) =>
  fetch(`${hubUrl}${path}`, { ...init, redirect: 'manual', headers: { Authorization: `token ${token}`, ...init.headers } });

/** Polls the hub until `name`'s server is ready (or, with `ready` false, stopped). */
async function waitForServer(token: string, name: string, ready: boolean): Promise<void> {
  const deadline = Date.now() + slow;
  while (Date.now() < deadline) {
    const { servers } = (await (await api(token, `/hub/api/users/${name}`)).json()) as { servers: Record<string, { ready: boolean }> };
    if (ready ? servers['']?.ready : !servers['']) return;
    await sleep(1000);
  }
  assert.fail(`${name}'s server did not ${ready ? 'start' : 'stop'} within ${slow} ms:\n${hubLog}`);
}

test('three students log in at once and each runs a notebook on the archlab kernel in their own JupyterLab server', { timeout: 3 * slow }, async () => {
  const files = readdirSync(notebooks).filter((name) => !name.startsWith('.')).sort();
  await Promise.all(
    students.map(async (name, k) => {
      const other = students[(k + 1) % students.length];
      const notebookFile = join(base, `${name}.json`);
      writeFileSync(notebookFile, checkNotebook(k, other));
      reports.set(name, await student('run', name, notebookFile));
    }),
  );

  for (const [k, name] of students.entries()) {
    const { lab, files: copied, notebook } = reports.get(name)!;
    // JupyterLab 4.6.3 (archlab's build) at /user/NAME/lab, configured for this user's server.
    const config = JSON.parse(/<script id="jupyter-config-data" type="application\/json">(.*?)<\/script>/s.exec(lab)![1]);
    assert.equal(config.appName, 'JupyterLab');
    assert.equal(config.appVersion, '4.6.3');
    assert.equal(config.baseUrl, `/user/${name}/`);
    // Their own copy of every class notebook, byte for byte, in a home only they can read.
    assert.deepEqual(copied, files); // listed before hub-check.ipynb was uploaded
    for (const file of files.filter((f) => f.endsWith('.ipynb'))) assert.ok(readFileSync(join(home(name), 'notebooks', file)).equals(readFileSync(join(notebooks, file))), `${name}'s ${file}`);

    const [who, lstm, diagram, snoop] = notebook.cells;
    assert.deepEqual(notebook.cells.map((cell) => cell.execution_count), [1, 2, 3, 4], `${name}: ${JSON.stringify(notebook.cells)}`);
    assert.equal(who.outputs[0].data!['text/plain'], `'${name}'`, 'the kernel runs as the student');
    const output = (JSON.parse(lstm.outputs[0].text!) as number[][][]).map((step) => step[0]);
    const expected = torchLstm(lstmWeights, inputs(k));
    output.forEach((h, t) => h.forEach((v, u) => assert.ok(Math.abs(v - expected[t][u]) < 1e-12, `${name}: h[${t}][${u}] = ${v}, PyTorch's equations give ${expected[t][u]}`)));
    const picture = diagram.outputs.find((o) => o.data?.['text/html']);
    assert.match(picture!.data!['text/html'], /<img[^>]+src="data:image\/svg\+xml;base64,/);
    assert.equal(snoop.outputs[0].text, 'EACCES\n', `${name}'s kernel must not read another student's notebook`);
  }
});

test("one student cannot reach another's server or files", { timeout: slow }, async () => {
  const [a, b] = students;
  const tokenA = reports.get(a)!.token;
  for (const path of [`/user/${b}/api/contents/notebooks`, `/user/${b}/api/kernels`, `/user/${b}/api/sessions`]) {
    assert.equal((await api(tokenA, path)).status, 403, `${a}'s token on ${path}`);
  }
  const start = await api(tokenA, `/user/${b}/api/sessions`, { method: 'POST', body: JSON.stringify({ path: 'x.ipynb', type: 'notebook', kernel: { name: 'archlab' } }) });
  assert.equal(start.status, 403, `${a} starting a kernel on ${b}'s server`);
  assert.ok([403, 404].includes((await api(tokenA, `/hub/api/users/${b}`)).status), `${a} reading ${b}'s hub record`);
  // The hub answers 404 for users one may not see (it does not say whether they exist).
  for (const method of ['POST', 'DELETE']) {
    assert.ok([403, 404].includes((await api(tokenA, `/hub/api/users/${b}/server`, { method })).status), `${a}: ${method} ${b}'s server`);
  }
  const { servers } = (await (await api(reports.get(b)!.token, `/hub/api/users/${b}`)).json()) as { servers: Record<string, { ready: boolean; pending: string | null }> };
  assert.deepEqual([servers['']?.ready, servers['']?.pending], [true, null], `${b}'s server is still running`);
  // A's browser (the hub's cookie) on B's Lab: the hub refuses the OAuth round trip.
  const peeked = (await student('peek', a, b)) as { status: number; url: string; lab: boolean };
  assert.equal(peeked.status, 403, `${a}'s browser on ${b}'s /lab: ${JSON.stringify(peeked)}`);
  assert.equal(peeked.lab, false);
  // A's own server refuses paths outside A's home ('..%2F': an encoded slash, so no client folds the '..' away).
  const escape = await api(tokenA, `/user/${a}/api/contents/..%2F${b}%2Fnotebooks%2F01-first-rnn.ipynb`);
  assert.ok([400, 404].includes(escape.status), `${a}'s contents API reading ../${b}: ${escape.status} ${await escape.text()}`);
  // Without credentials: the API refuses, the page sends to the hub's login.
  assert.equal((await fetch(`${hubUrl}/user/${a}/api/contents`, { redirect: 'manual' })).status, 403);
  const page = await fetch(`${hubUrl}/user/${a}/lab`, { redirect: 'manual' });
  assert.equal(page.status, 302);
  assert.match(page.headers.get('location')!, /\/hub\//);
});

test("a student's edits survive a restart of their server; a notebook they deleted comes back fresh", { timeout: 2 * slow }, async () => {
  const name = students[2];
  const { token } = reports.get(name)!;
  const contents = (file: string, init?: RequestInit) => api(token, `/user/${name}/api/contents/notebooks/${file}`, init);
  const first = (await (await contents('01-first-rnn.ipynb')).json()) as { content: { cells: object[] } };
  first.content.cells.push({ cell_type: 'markdown', metadata: {}, source: 'my own notes' });
  const saved = await contents('01-first-rnn.ipynb', { method: 'PUT', body: JSON.stringify({ type: 'notebook', format: 'json', content: first.content }) });
  assert.equal(saved.status, 200);
  assert.equal((await contents('02-lstm-internals.ipynb', { method: 'DELETE' })).status, 204);

  assert.ok([202, 204].includes((await api(token, `/hub/api/users/${name}/server`, { method: 'DELETE' })).status));
  await waitForServer(token, name, false);
  assert.ok([201, 202].includes((await api(token, `/hub/api/users/${name}/server`, { method: 'POST' })).status));
  await waitForServer(token, name, true);

  assert.match(readFileSync(join(home(name), 'notebooks', '01-first-rnn.ipynb'), 'utf8'), /my own notes/);
  assert.ok(readFileSync(join(home(name), 'notebooks', '02-lstm-internals.ipynb')).equals(readFileSync(join(notebooks, '02-lstm-internals.ipynb'))));
  assert.equal((await contents('hub-check.ipynb')).status, 200);
});

test("a student's browser logs in and gets JupyterLab, with their copy of a class notebook on the archlab kernel", { timeout: 2 * slow }, async () => {
  const name = students[0];
  const browser = await launchChromium(chromiumPath);
  try {
    const page = await browser.newPage();
    await page.goto(`${hubUrl}/hub/login`);
    await page.fill('#username_input', name);
    await page.fill('#password_input', password);
    await page.click('#login_submit');
    await page.waitForURL(new RegExp(`/user/${name}/lab`), { timeout: slow });
    await page.goto(`${hubUrl}/user/${name}/lab/tree/notebooks/01-first-rnn.ipynb`);
    await page.locator('.jp-Notebook .jp-Cell').first().waitFor({ timeout: slow });
    // The status bar says Idle once the kernel answered over the websocket, through the hub's proxy.
    await page.getByText('TypeScript (archlab) | Idle').waitFor({ timeout: slow });
  } finally {
    await browser.close();
  }
});

#!/usr/bin/env node
/**
 * The `archlab` command.
 *
 *     archlab install [--user | --sys-prefix | --prefix DIR]   register the kernel with Jupyter
 *     archlab uninstall [--user | --sys-prefix | --prefix DIR] remove it
 *     archlab kernel --connection-file FILE                    run the kernel (Jupyter does this)
 *         [--allow-no-key] [--max-message-mb MB] [--interrupt-timeout S]
 *     archlab run NOTEBOOK… [--html F] [--inplace | --output F] execute notebooks (no Python needed)
 *     archlab start [--classic | --headless] [--dir DIR]       the teaching notebooks in JupyterLab (or the classic
 *         [--port N] [--no-browser]                            Notebook, or run to HTML)
 *     archlab install-lab                                      install and build archlab's own JupyterLab now
 *     archlab hub [--dir D] [--notebooks D] [jupyterhub options]  JupyterHub for a class
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { cliText, startText } from "./messages";
import { installSpec, uninstallSpec, type Location } from "./spec";
import { versions } from "./versions";

const program = new Command("archlab")
  .description("A TypeScript Jupyter kernel and library for exploring neural-network architectures.")
  .version(versions.archlab);

const locationOptions = (command: Command) =>
  command
    .addOption(new Option("--user", "the current user's Jupyter data dir ($JUPYTER_DATA_DIR or ~/.local/share/jupyter)").conflicts(["sysPrefix", "prefix"]))
    .addOption(new Option("--sys-prefix", "the active Python environment (venv, conda, or the one `jupyter` runs from)").conflicts(["prefix"]))
    .addOption(new Option("--prefix <dir>", "DIR/share/jupyter/kernels"));

locationOptions(program.command("install").description("Register the archlab kernel with Jupyter (default: /usr/local/share/jupyter/kernels)."))
  .action((location: Location) => run(() => console.log(cliText.installed(installSpec(location)))));

locationOptions(program.command("uninstall").description("Remove the archlab kernel spec (default: from every standard location)."))
  .action((location: Location) => run(() => uninstallSpec(location).forEach((dir) => console.log(cliText.uninstalled(dir)))));

program
  .command("kernel")
  .description("Run the kernel. Jupyter starts this with the connection file it wrote.")
  .requiredOption("--connection-file <file>", "the connection file from Jupyter")
  .option("--allow-no-key", "run even if the connection file has no key: messages are then NOT authenticated and anyone reaching the ports can run code")
  .option("--max-message-mb <MB>", "drop a connection that sends a message frame larger than this, before it is buffered", positive, 64)
  .option("--interrupt-timeout <seconds>", "end the kernel (so Jupyter restarts it) when an interrupt is not answered within this time", positive, 10)
  .action(async (options: { connectionFile: string; allowNoKey?: boolean; maxMessageMb: number; interruptTimeout: number }) => {
    // Loaded here, not at the top: install/uninstall stay fast and need no TypeScript or ZeroMQ.
    const { startKernel } = require("./kernel") as typeof import("./kernel");
    const kernelOptions = {
      allowNoKey: options.allowNoKey === true,
      maxMessageSize: Math.round(options.maxMessageMb * 2 ** 20),
      interruptTimeoutMs: options.interruptTimeout * 1000,
    };
    await startKernel(options.connectionFile, kernelOptions).catch((error: unknown) => {
      process.exitCode = 1;
      throw new Error(cliText.kernelFailed(error));
    });
  });

program
  .command("run")
  .description("Execute notebooks on the archlab kernel (no Python needed), with progress and a per-cell error report.")
  .argument("<notebooks...>", "the .ipynb files")
  .option("--html <file>", "also write a self-contained HTML page (one notebook only)")
  .addOption(new Option("--inplace", "write the executed notebook back to its file").conflicts(["output"]))
  .option("--output <file>", "write the executed notebook here (one notebook only)")
  .option("--stop-on-error", "stop at the first failing cell (default: run every cell)")
  .option("--timeout <seconds>", "seconds a single cell may take", positive, 600)
  .action(async (paths: string[], options: { html?: string; inplace?: boolean; output?: string; stopOnError?: boolean; timeout: number }) => {
    const { runNotebook, describeFailures } = require("./notebook/run") as typeof import("./notebook/run");
    if (paths.length > 1 && (options.html || options.output)) throw new Error(cliText.onePerFile);
    let failed = 0;
    for (const path of paths) {
      const report = await runNotebook(path, { ...options, progress: process.stderr.isTTY });
      failed += report.failures.length;
      console.log(cliText.ran(path, report.executed, report.seconds, report.failures.length));
      if (report.failures.length) console.error(describeFailures(report));
    }
    if (failed) process.exitCode = 1;
  });

program
  .command("start")
  .description(
    "Register the kernel and open the teaching notebooks in JupyterLab: `jupyter lab` when installed, else archlab's own JupyterLab " +
      "(installed and built on the first start) on the system's Jupyter server; without a Jupyter server, run them to HTML.",
  )
  .addOption(new Option("--classic", "the classic Jupyter Notebook instead of JupyterLab").conflicts("headless"))
  .option("--headless", "run the notebooks to HTML even when Jupyter is installed")
  .option("--dir <folder>", "a folder of notebooks (default: archlab's own notebooks/)")
  .option("--port <number>", "serve on this port of 127.0.0.1 (default: the first free one from 8888)", port)
  .option("--no-browser", "do not open a browser (the URL to open is printed either way)")
  .action(async (options: { classic?: boolean; headless?: boolean; dir?: string; port?: number; browser: boolean }) => {
    const { start } = require("./notebook/start") as typeof import("./notebook/start");
    await start(options);
  });

program
  .command("install-lab")
  .description("Install and build archlab's own JupyterLab into the cache now, as the first `archlab start` without `jupyter lab` does; print its folder.")
  .action(async () => {
    const { ensureLab } = require("./notebook/lab") as typeof import("./notebook/lab");
    const { dir } = await ensureLab({ log: (line) => console.error(line) });
    console.log(dir);
  });

program
  .command("hub")
  .description(
    "JupyterHub for a class: every user logs in (Unix accounts by default) and gets JupyterLab with the archlab kernel and their own copy of the notebooks in ~/notebooks. Run as root. Other options go to jupyterhub (e.g. --port=8000).",
  )
  .option("--dir <folder>", "the hub's folder: its database, cookie secret and the kernel spec every server reads", "/srv/archlab-hub")
  .option("--notebooks <folder>", "the notebooks each user gets a copy of (default: archlab's own notebooks/)")
  .argument("[jupyterhub-options...]", "passed to jupyterhub, e.g. --ip=127.0.0.1 --port=8000 --Authenticator.admin_users=teacher")
  .allowUnknownOption()
  .action(async (jupyterhubArgs: string[], options: { dir: string; notebooks?: string }) => {
    const { runHub } = require("./hub/hub") as typeof import("./hub/hub");
    const { NOTEBOOKS } = require("./notebook/start") as typeof import("./notebook/start");
    process.exitCode = await runHub({ dir: options.dir, notebooks: options.notebooks ?? NOTEBOOKS }, jupyterhubArgs);
  });

/** A port number option. */
function port(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new InvalidArgumentError(startText.notPort(text));
  return value;
}

/** A positive number option (commander parses, this checks). */
function positive(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(cliText.notPositive(text));
  return value;
}

function run(action: () => void): void {
  try {
    action();
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}

program.parseAsync().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});

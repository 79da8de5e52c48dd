#!/usr/bin/env node
/**
 * The `archlab` command.
 *
 *     archlab install [--user | --sys-prefix | --prefix DIR]   register the kernel with Jupyter
 *     archlab uninstall [--user | --sys-prefix | --prefix DIR] remove it
 *     archlab kernel --connection-file FILE                    run the kernel (Jupyter does this)
 */
import { Command, Option } from "commander";
import { cliText } from "./messages";
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
  .action(async ({ connectionFile }: { connectionFile: string }) => {
    // Loaded here, not at the top: install/uninstall stay fast and need no TypeScript or ZeroMQ.
    const { startKernel } = require("./kernel") as typeof import("./kernel");
    await startKernel(connectionFile).catch((error: unknown) => {
      process.exitCode = 1;
      throw new Error(cliText.kernelFailed(error));
    });
  });

for (const command of ["start", "run"]) {
  // TODO(notebooks launcher): `start` opens notebooks/ in JupyterLab, `run` executes notebooks to HTML.
  program.command(command, { hidden: true }).allowUnknownOption().allowExcessArguments().action(() => run(() => {
    throw new Error(cliText.notYet(command));
  }));
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

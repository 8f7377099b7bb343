import { doctorReport } from '../ipc/handlers/doctor.js';
import { dataDir } from '../paths.js';
import { printJson, type Command } from './command.js';

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

export const doctorCommand: Command = {
  path: ['doctor'],
  summary: 'Show versions, execution providers, the data directory and free disk',
  usage: `Usage: sprout doctor [--json]

Prints what Sprout runs on: its version, Node, onnxruntime and Electron (if installed), the execution
providers onnxruntime offers here, which one is used and why (each GPU provider passed over, with its
reason), the width \`--weights auto\` gives the frozen weights on it, the data directory and its free disk.

Options:
  --json   Print one JSON object instead of text
`,
  options: { json: { type: 'boolean' } },
  async run({ values }) {
    const report = await doctorReport(dataDir());
    if (values.json) return printJson(report);
    const { versions } = report;
    const providers = report.providers
      .map(
        (p) =>
          `  ${p.name.padEnd(10)} ${p.bundled ? 'bundled' : 'not bundled (needs its libraries, see README)'}` +
          `${p.name === report.defaultProvider ? '  <- used by default' : ''}`,
      )
      .join('\n');
    process.stdout.write(
      `Sprout ${versions.sprout}
  node         ${versions.node}
  onnxruntime  ${versions.onnxruntime}
  electron     ${versions.electron ?? 'not installed (use `npm run serve`)'}
  platform     ${report.platform} ${report.arch}, ${report.cpus} CPUs

Execution providers:
${providers}

In use:         ${report.chosenProvider.label}${report.chosenProvider.skipped.map((s) => `\n  skipped ${s.provider}: ${s.reason}`).join('')}
Weights:        ${report.autoWeights} (what --weights auto uses on this device)

Data directory: ${report.dataDir}
Free disk:      ${gib(report.freeDiskBytes)}
`,
    );
  },
};

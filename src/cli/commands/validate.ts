/** `modality validate <file...>`: check protocol files against the schema and both limit layers. */
import type { Command } from 'commander';
import { formatIssue, resolveProtocol } from '../../protocol/index.js';
import { addProfileOption, profileFrom, FORMAT_HELP } from '../common.js';
import { formatMs } from '../../util/time.js';
import { CliExit, EXIT, io } from '../io.js';

export function register(program: Command): void {
  const cmd = program
    .command('validate')
    .description('validate protocol files (YAML or JSON) or built-in ids; exit 0 if all are valid, 2 otherwise')
    .argument('<file...>', 'protocol files (.yaml, .yml, .json) or built-in ids');
  addProfileOption(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ modality validate examples/short-tens.yaml
  $ modality validate protocols/*.yaml --profile profiles/default.json
  $ modality validate my-protocol.json

Every problem is listed, one per line, as
  file[:line:col]: field.path = value: what is wrong (which limit layer set it)
e.g.
  mine.yaml:10:7: steps[0].tens.amplitudeMa = 95: exceeds 80 mA (absolute limit, IEC 60601-2-10)
  mine.yaml:10:7: steps[0].tens.amplitudeMa = 70: exceeds 60 mA (device profile default)
Warnings (e.g. treatment area above 2 × ERA) are printed but do not fail.
${FORMAT_HELP}`,
  );
  cmd.action((files: string[], _opts: unknown, command: Command) => {
    const profile = profileFrom(command);
    let bad = 0;
    for (const f of files) {
      const r = resolveProtocol(f, profile);
      if (r.ok) {
        io().out(`ok ${f} (${r.plan.protocol.id}, planned ${formatMs(r.plan.totalMs)})`);
        for (const w of r.plan.warnings) io().err(formatIssue(w));
      } else {
        bad++;
        for (const e of r.errors) io().err(formatIssue(e));
      }
    }
    if (bad) {
      io().err(`modality: ${bad} of ${files.length} file${files.length === 1 ? '' : 's'} invalid`);
      throw new CliExit(EXIT.badInput);
    }
  });
}

/** `modality protocols`: list the built-in protocols. */
import type { Command } from 'commander';
import { listBuiltins, resolveProtocol, formatIssue } from '../../protocol/index.js';
import { addProfileOption, modalitiesOf, profileFrom } from '../common.js';
import { formatMs } from '../../util/time.js';
import { io } from '../io.js';

export function register(program: Command): void {
  const cmd = program
    .command('protocols')
    .description('list the built-in protocols (id, name, modalities, planned length)')
    .option('--json', 'print a JSON array instead of a table');
  addProfileOption(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ modality protocols
  $ modality protocols --json
  $ modality protocols --profile profiles/default.json

Built-in protocols live in protocols/<id>.yaml; run one by its id, or pass a
file path to show/validate. Planned length counts thermal phases at target
plus the estimated pad transitions (heating/cooling to each target), and TENS ramps.`,
  );
  cmd.action((opts: { json?: boolean }, command: Command) => {
    const profile = profileFrom(command);
    const rows = listBuiltins().map((b) => {
      const r = resolveProtocol(b.id, profile);
      if (r.ok) {
        const p = r.plan;
        return {
          id: p.protocol.id,
          name: p.protocol.name,
          modalities: modalitiesOf(p),
          plannedMs: p.totalMs,
          source: p.source,
          reference: p.protocol.source ?? null,
          indication: p.protocol.indication,
          file: b.file,
          valid: true as const,
        };
      }
      return {
        id: b.id,
        name: null,
        modalities: [],
        plannedMs: null,
        source: `builtin:${b.id}`,
        reference: null,
        indication: null,
        file: b.file,
        valid: false as const,
        errors: r.errors.map(formatIssue),
      };
    });
    if (opts.json) {
      io().out(JSON.stringify(rows, null, 2));
      return;
    }
    const table = rows.map((r) => [r.id, r.name ?? '(invalid for this profile)', r.modalities.join('+'), r.plannedMs === null ? '-' : formatMs(r.plannedMs)]);
    const head = ['ID', 'NAME', 'MODALITIES', 'PLANNED'];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
    io().out([line(head), ...table.map(line)].join('\n'));
    for (const r of rows) if (!r.valid) for (const e of r.errors ?? []) io().err(e);
  });
}

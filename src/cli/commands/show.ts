/** `modality show <id|file>`: the resolved plan with computed dose, current density and the phase timeline. */
import type { Command } from 'commander';
import { formatIssue, planTimeline, resolveProtocol, THERMAL_PLAN_NOTE } from '../../protocol/index.js';
import { addProfileOption, describeProgram, FORMAT_HELP, profileFrom } from '../common.js';
import { MODALITIES, type ModalityDescriptor } from '../../modalities/index.js';
import { formatMs } from '../../util/time.js';
import { CliExit, EXIT, io } from '../io.js';

export function register(program: Command): void {
  const cmd = program
    .command('show')
    .description('show the resolved plan of a built-in protocol or file: times, ultrasound dose/energy, TENS current density, phase timeline')
    .argument('<protocol>', 'built-in id (see `modality protocols`) or a .yaml/.yml/.json file')
    .option('--json', 'print the plan and timeline as JSON');
  addProfileOption(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ modality show upper-back-heat-us-tens
  $ modality show examples/short-tens.yaml --json
  $ modality show us-1mhz-thermal --profile profiles/default.json

Ultrasound dose D [J/cm²] = intensity [W/cm²] × duty × time [s] × ERA [cm²] / area [cm²];
given a dose, time = D × area / (intensity × duty × ERA). TENS RMS current =
peak × √(phase × rate), phase doubled for symmetric biphasic; density = RMS / electrode area.
${FORMAT_HELP}`,
  );
  cmd.action((id: string, opts: { json?: boolean }, command: Command) => {
    const profile = profileFrom(command);
    const r = resolveProtocol(id, profile);
    if (!r.ok) {
      for (const e of r.errors) io().err(formatIssue(e));
      throw new CliExit(EXIT.badInput);
    }
    const plan = r.plan;
    const timeline = planTimeline(plan);
    if (opts.json) {
      io().out(JSON.stringify({ ...plan, timeline, notes: [THERMAL_PLAN_NOTE] }, null, 2));
      return;
    }
    const p = plan.protocol;
    const lines: string[] = [];
    lines.push(`${p.id}: ${p.name}`);
    lines.push(`  indication: ${p.indication}`);
    if (p.source) lines.push(`  source:     ${p.source}`);
    lines.push(`  from:       ${plan.source}  (sha256 ${plan.hash.slice(0, 16)}…)`);
    lines.push(`  planned:    ${formatMs(plan.totalMs)} (${plan.totalMs} ms)`);
    // each modality's lines about its programs together (the thermal programs' time at target and transitions)
    const programs = plan.steps.flatMap((s) => s.programs);
    for (const m of Object.values(MODALITIES) as ModalityDescriptor[]) {
      const own = programs.filter((x) => x.modality === m.name);
      if (own.length && m.showLines) for (const l of m.showLines(own)) lines.push(`  ${l}`);
    }
    lines.push('', 'Steps:');
    for (const s of plan.steps) {
      lines.push(`  ${s.index + 1}. [${formatMs(s.startMs)}] ${s.kind}, ${formatMs(s.plannedMs)}`);
      if (s.prompt) lines.push(`       prompt: "${s.prompt.text}"`);
      for (const prog of s.programs) lines.push(`       #${prog.programIndex} ${describeProgram(prog)}`);
    }
    lines.push('', 'Timeline (offsets from session start; ~ marks an estimated thermal transition):');
    for (const t of timeline) {
      const mark = t.estimated ? '~' : ' ';
      lines.push(
        ` ${mark}${formatMs(t.startMs).padStart(8)} – ${formatMs(t.endMs).padStart(8)}  step ${t.stepIndex + 1}  ${t.modality.padEnd(10)} ${t.phase.padEnd(9)} ${t.label}`,
      );
    }
    io().out(lines.join('\n'));
    for (const w of plan.warnings) io().err(formatIssue(w));
  });
}

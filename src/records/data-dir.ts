/** Where the treatment records live: --data <dir>, else $MODALITY_DATA, else $XDG_DATA_HOME/modality, else ~/.local/share/modality. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DATA_HELP = 'directory of the treatment records database (default: $MODALITY_DATA, else $XDG_DATA_HOME/modality, else ~/.local/share/modality)';

export function dataDir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return resolve(option);
  if (env['MODALITY_DATA']) return resolve(env['MODALITY_DATA']);
  if (env['XDG_DATA_HOME']) return join(resolve(env['XDG_DATA_HOME']), 'modality');
  return join(homedir(), '.local', 'share', 'modality');
}

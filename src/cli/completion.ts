// `ka-top completion bash|zsh`: prints the shell completion that `make build` generated from the --help texts.
import { readFileSync } from 'node:fs';
import { packagePath } from '../sources/exec.js';
import { parse } from './args.js';
import { UsageError } from './errors.js';

const SCRIPTS: Record<string, string> = { bash: 'dist/completion/ka-top.bash', zsh: 'dist/completion/_ka-top' };

const HELP = [
  'Usage: ka-top completion bash   print the bash completion script',
  '       ka-top completion zsh    print the zsh completion script',
  '',
  'bash: `ka-top completion bash | sudo tee /etc/bash_completion.d/ka-top` (or `source <(ka-top completion bash)` in',
  '~/.bashrc). zsh: `ka-top completion zsh > ~/.zfunc/_ka-top` with ~/.zfunc on $fpath before compinit.',
].join('\n');

export async function completionCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const script = positionals.length === 1 ? SCRIPTS[positionals[0]!] : undefined;
  if (!script) throw new UsageError('expected one shell, bash or zsh (see ka-top completion --help)');
  process.stdout.write(readFileSync(packagePath(script), 'utf8'));
  return 0;
}

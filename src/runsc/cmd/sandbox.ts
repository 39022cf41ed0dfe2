// `runsc sandbox --spec-fd N`: internal, the sandbox process `runsc do`
// starts in its own namespaces (see boot/sandbox.ts).

import { bootSandbox } from '../boot/sandbox.js';
import { parse } from './common.js';
import type { CmdCtx } from './common.js';

export function sandboxCmd(_ctx: CmdCtx, args: string[]): Promise<number> {
  const { values } = parse([{ name: 'spec-fd', kind: 'int', help: 'fd of the boot spec (JSON)', default: 3 }], args);
  return bootSandbox(values['spec-fd'] as number);
}

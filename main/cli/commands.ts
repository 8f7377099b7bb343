import type { Command } from './command.js';
import { doctorCommand } from './doctor.js';
import { serveCommand } from './serve.js';

/** Every `sprout` sub-command; each lives in its own module under main/cli/. */
export const commands: Command[] = [doctorCommand, serveCommand];

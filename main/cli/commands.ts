import type { Command } from './command.js';
import { dataImportCommand } from './data-import.js';
import { dataListCommand } from './data-list.js';
import { dataPreviewCommand } from './data-preview.js';
import { dataShowCommand } from './data-show.js';
import { modelDownloadCommand } from './model-download.js';
import { modelImportCommand } from './model-import.js';
import { modelListCommand } from './model-list.js';
import { modelRemoveCommand } from './model-remove.js';
import { modelVerifyCommand } from './model-verify.js';
import { doctorCommand } from './doctor.js';
import { forwardCommand } from './forward.js';
import { labelCommand } from './label.js';
import { serveCommand } from './serve.js';
import { trainCommand } from './train.js';

/** Every `sprout` sub-command; each lives in its own module under main/cli/. */
export const commands: Command[] = [doctorCommand, serveCommand, modelDownloadCommand, modelImportCommand, modelListCommand, modelVerifyCommand, modelRemoveCommand, forwardCommand, labelCommand, dataPreviewCommand, dataImportCommand, dataListCommand, dataShowCommand, trainCommand];

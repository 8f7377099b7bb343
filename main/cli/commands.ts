import type { Command } from './command.js';
import { libraryListCommand } from './library-list.js';
import { libraryShowCommand } from './library-show.js';
import { libraryRenameCommand } from './library-rename.js';
import { libraryTagCommand } from './library-tag.js';
import { libraryNoteCommand } from './library-note.js';
import { libraryThresholdCommand } from './library-threshold.js';
import { libraryRemoveCommand } from './library-rm.js';
import { libraryDuplicateCommand } from './library-duplicate.js';
import { libraryExportCommand } from './library-export.js';
import { libraryImportCommand } from './library-import.js';
import { libraryBackupCommand } from './library-backup.js';
import { libraryExportAllCommand } from './library-export-all.js';
import { libraryImportAllCommand } from './library-import-all.js';
import { transferRankCommand } from './transfer-rank.js';
import { dataImportCommand } from './data-import.js';
import { dataListCommand } from './data-list.js';
import { dataPreviewCommand } from './data-preview.js';
import { dataShowCommand } from './data-show.js';
import { modelDownloadCommand } from './model-download.js';
import { modelGenerateCommand } from './model-generate.js';
import { modelImportCommand } from './model-import.js';
import { modelListCommand } from './model-list.js';
import { modelRemoveCommand } from './model-remove.js';
import { modelVerifyCommand } from './model-verify.js';
import { doctorCommand } from './doctor.js';
import { evaluateCommand } from './evaluate.js';
import { forwardCommand } from './forward.js';
import { labelCommand } from './label.js';
import { labelCorrectCommand } from './label-correct.js';
import { labelExportCommand } from './label-export.js';
import { labelReviewCommand } from './label-review.js';
import { serveCommand } from './serve.js';
import { trainCommand } from './train.js';

/** Every `sprout` sub-command; each lives in its own module under main/cli/. */
// One command a line, so that adding one touches one line.
export const commands: Command[] = [
  doctorCommand,
  serveCommand,
  modelDownloadCommand,
  modelImportCommand,
  modelListCommand,
  modelVerifyCommand,
  modelRemoveCommand,
  modelGenerateCommand,
  forwardCommand,
  labelCommand,
  labelCorrectCommand,
  labelExportCommand,
  labelReviewCommand,
  dataPreviewCommand,
  dataImportCommand,
  dataListCommand,
  dataShowCommand,
  trainCommand,
  evaluateCommand,
  libraryListCommand,
  libraryShowCommand,
  libraryRenameCommand,
  libraryTagCommand,
  libraryNoteCommand,
  libraryThresholdCommand,
  libraryRemoveCommand,
  libraryDuplicateCommand,
  libraryExportCommand,
  libraryImportCommand,
  libraryBackupCommand,
  libraryExportAllCommand,
  libraryImportAllCommand,
  transferRankCommand,
];

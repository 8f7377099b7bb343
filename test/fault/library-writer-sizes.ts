/** Shared by library-writer.ts and the test that checks what it wrote. */
export const EDIT_PROMPTS = 12;
export const LABEL_JOB = 'label-fault';
export const CHUNK = 10;
/** Output bytes per labelled row in the label mode, so that output_bytes can be checked against rows_done. */
export const ROW_BYTES = 7;
export const MODEL_SLOTS = 7;

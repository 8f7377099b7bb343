/**
 * One job the engine worker runs: its input, a progress callback and the cancel signal. Job files declare their
 * own input/output/progress types with it; protocol.ts's JobTable gathers those types and jobs.ts checks that
 * every entry fits its row, so no job file needs the table.
 */
export type Job<Input, Output, Progress = never> = (input: Input, progress: (p: Progress) => void, signal: AbortSignal) => Promise<Output>;

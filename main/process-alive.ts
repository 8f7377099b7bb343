/** Whether a process with this pid runs (EPERM: it does, as another user's), so that what it left may be cleaned up. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import { onConnection, type ConnectionProblem } from '../api.js';

/** Whether this page reaches Sprout; the shell shows the problem above every screen while there is one. */
export class Connection {
  problem = $state<ConnectionProblem>(null);

  constructor() {
    onConnection((problem) => (this.problem = problem));
  }
}

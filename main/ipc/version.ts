// A named import lets the bundler inline the version string alone, not the whole package.json.
import { version } from '../../package.json';

export const sproutVersion: string = version;

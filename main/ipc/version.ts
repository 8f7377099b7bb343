import pkg from '../../package.json';

export const sproutVersion: string = pkg.version;

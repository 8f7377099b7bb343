import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

/**
 * The renderer's Content-Security-Policy, for both shells: only the app's own scripts, styles and connections;
 * no inline script, eval, plugins, frames, forms or base-URI tricks. `connect` adds the serve WebSocket origin.
 */
export function contentSecurityPolicy(connect: string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${connect.map((c) => ` ${c}`).join('')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/**
 * Reads a file of the built renderer for a URL path; undefined when there is none. Paths that would leave
 * the renderer folder (../, encoded or not) find nothing.
 */
export async function readRendererFile(rendererDir: string, urlPath: string): Promise<{ body: Buffer; contentType: string } | undefined> {
  let relative: string;
  try {
    relative = decodeURIComponent(urlPath === '/' || urlPath === '' ? '/index.html' : urlPath);
  } catch {
    return undefined;
  }
  if (relative.includes('\0')) return undefined;
  const root = resolve(rendererDir);
  const file = resolve(root, `.${relative}`);
  if (!file.startsWith(root + sep)) return undefined;
  try {
    return { body: await readFile(file), contentType: contentTypes[extname(file)] ?? 'application/octet-stream' };
  } catch {
    return undefined;
  }
}

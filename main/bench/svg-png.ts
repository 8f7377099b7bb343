/**
 * SVG → PNG through headless Chromium (playwright-core, the browser the end-to-end tests use): the browser
 * already rasterises text and lines well, so no image code of our own is needed.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

export async function svgToPng(svg: string, width: number, height: number, file: string): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing, so the PNG cannot be drawn: install it with \`apt-get install -y chromium\`.`);
  // A development dependency: loaded only when a figure is drawn.
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.locator('svg').screenshot({ path: file });
  } finally {
    await browser.close();
  }
}

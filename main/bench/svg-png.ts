/**
 * SVG → PNG through headless Chromium (playwright-core, the browser the end-to-end tests use): the browser
 * already rasterises text and lines well, so no image code of our own is needed.
 */
import { launchBrowser } from './browser.js';

export async function svgToPng(svg: string, width: number, height: number, file: string): Promise<void> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.locator('svg').screenshot({ path: file });
  } finally {
    await browser.close();
  }
}

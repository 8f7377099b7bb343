/**
 * The app in Debian Chromium against `sprout serve` with the real engine, for the browser journeys: the page, the
 * API beside it (to check what the engine stored), the library database, axe-core and screenshots.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import Database from 'better-sqlite3';
import type { Browser, Locator, Page } from 'playwright-core';
import { expect, onTestFailed } from 'vitest';
import type { OperationName, RequestOf, ResponseOf } from '../../preload/contract.js';
import { repoRoot, spawnServe, type RunningServe } from '../serve/spawn-serve.js';
import { callApi } from './api.js';
import { launchBrowser } from '../../main/bench/browser.js';

export const shots = join(repoRoot, 'test-results');

/** A two-step run of a two-token prompt on a 0/1 dataset: a finished run and a stored prompt to show, in seconds. */
export function tinyRun(name: string, modelId: string, datasetId: number, device: 'cpu' | 'auto'): RequestOf<'train.start'> {
  return {
    name,
    modelId,
    datasetId,
    verbalizer: { 0: 'no', 1: 'yes' },
    promptLength: 2,
    batchSize: 4,
    steps: 2,
    evalEvery: 2,
    evalLimit: 8,
    seed: 1,
    device,
  };
}

export class App {
  /** Console errors and uncaught exceptions of the page; a journey ends by expecting none. */
  readonly problems: string[] = [];

  private constructor(
    readonly serve: RunningServe,
    private readonly browser: Browser,
    readonly page: Page,
    private readonly shotPrefix: string,
  ) {
    page.on('console', (m) => m.type() === 'error' && this.problems.push(m.text()));
    page.on('pageerror', (e) => this.problems.push(e.message));
    // The console names only the status of a failed request; its operation, answer and the serve's log of it
    // (the stack of an internal error) say what broke.
    page.on('response', (r) => {
      if (r.status() < 500) return;
      const where = `${r.status()} from ${new URL(r.url()).pathname}`;
      const log = () => `; sprout serve's stderr ends: ${serve.stderr().slice(-1500)}`;
      r.text().then(
        (body) => this.problems.push(`${where}: ${body.slice(0, 500)}${log()}`),
        () => this.problems.push(`${where}${log()}`),
      );
    });
  }

  /** A fresh `sprout serve` (its own SPROUT_HOME) and a Chromium page on it. */
  static async start(shotPrefix: string): Promise<App> {
    mkdirSync(shots, { recursive: true });
    const serve = await spawnServe();
    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const app = new App(serve, browser, page, shotPrefix);
    await page.goto(serve.url);
    return app;
  }

  async stop(): Promise<void> {
    await this.browser.close();
    await this.serve.stop();
  }

  /** One operation over the serve API, as the page would call it. */
  call<K extends OperationName>(name: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
    return callApi(this.serve, name, request);
  }

  /** axe through the devtools protocol (the page's CSP does not govern it): no serious or critical violations. */
  async accessible(where: string): Promise<void> {
    await this.page.evaluate(axe.source);
    const violations = await this.page.evaluate(async () => {
      const result = await (window as unknown as { axe: typeof axe }).axe.run(document);
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
    });
    expect(
      violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
      where,
    ).toEqual([]);
  }

  /** Should the running test fail, the whole page as test-results/`file`: where the failing step left it. */
  shotOnFailure(file: string): void {
    onTestFailed(() => this.page.screenshot({ path: join(shots, file), fullPage: true }).then(() => undefined));
  }

  /** The app is a window whose screen scrolls inside it: show the top of the screen, or the part named. */
  async shot(name: string, from?: Locator): Promise<void> {
    const file = join(shots, `${this.shotPrefix}-${name}.png`);
    if (from) await from.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    else await this.page.locator('main').evaluate((el) => el.scrollTo(0, 0));
    await this.page.screenshot({ path: file });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    expect(await this.brokenFigures(), `${name}: figures broken over two lines`).toEqual([]);
  }

  /** Table figures ("60 / 60", "+1.3 pts") whose text runs over more than one line: taller than two font sizes. */
  private brokenFigures(): Promise<string[]> {
    return this.page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('td.num')]
        .filter((td) => {
          const range = document.createRange();
          range.selectNodeContents(td);
          const height = range.getBoundingClientRect().height;
          return height > 2 * parseFloat(getComputedStyle(td).fontSize);
        })
        .map((td) => td.innerText),
    );
  }

  /** Rows of the serve's library.sqlite, read-only. */
  library<T>(sql: string, ...params: unknown[]): T[] {
    const db = new Database(join(this.serve.home, 'library.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }
}

import type { RequestOf, Settings, Theme } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';

/** Puts the theme on <html>; 'system' leaves it to prefers-color-scheme (app.css). */
export function applyTheme(theme: Theme): void {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

export class SettingsState {
  settings = $state.raw<Settings | undefined>();
  saved = $state('');
  error = $state.raw<ApiError | undefined>();

  async load(): Promise<void> {
    try {
      this.settings = await api['settings.get']({});
      applyTheme(this.settings.theme);
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async save(change: RequestOf<'settings.set'>, what: string): Promise<void> {
    try {
      this.settings = await api['settings.set'](change);
      applyTheme(this.settings.theme);
      this.saved = what;
      this.error = undefined;
    } catch (error) {
      this.saved = '';
      this.error = asApiError(error);
    }
  }
}

import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The renderer is loaded from app://sprout/ in Electron and from http://127.0.0.1:PORT/ by `sprout serve`:
// relative asset URLs work under both.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [svelte()],
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    target: 'chrome120',
  },
});

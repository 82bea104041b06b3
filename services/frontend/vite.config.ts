import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

/** The console build: `vite build -c services/frontend/vite.config.ts` → services/frontend/dist/public. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [solid()],
  // Relative asset URLs: the same build serves at the ALB's root or under an OperationsConsole's path.
  base: './',
  build: {
    outDir: 'dist/public',
    emptyOutDir: true,
    target: 'es2022',
    // No inline <script>/data: URLs: the CSP allows only same-origin files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
